"""A variation's life, declared once: an officer proposes a change to an issued, accepted or active agreement;
an increase above the delegation limit waits for an approver; the grantee accepts or declines what is
offered; the officer may withdraw it until it is accepted."""

from __future__ import annotations

from datetime import date
from typing import Any

from grants.core.lifecycle import Action, Lifecycle, State

# Agreements that may be varied: issued (not yet accepted), accepted, or running.
VARIABLE = ("issued", "accepted", "active")
OPEN = ("awaiting_approval", "offered")


def _own_organisation(user: Any, variation: Any, today: date) -> str | None:
    if user is None or user.organisation_id != variation.agreement.organisation_id:
        return "Only someone from the grantee organisation can accept or decline its variation."
    return None


def _agreement_variable(user: Any, variation: Any, today: date) -> str | None:
    from grants.agreements.lifecycle import AGREEMENT

    status = variation.agreement.status
    if status not in VARIABLE:
        return f"The agreement is {AGREEMENT.name(status).lower()}, so it can no longer be varied."
    return None


def _not_the_proposer(user: Any, variation: Any, today: date) -> str | None:
    if user is not None and user.id == variation.proposed_by_id:
        return "Someone other than the officer who proposed the variation must approve it."
    return None


VARIATION = Lifecycle(
    record="agreement_variation",
    noun="variation",
    id_arg="variation_id",
    states=(
        State("awaiting_approval", "Awaiting approval", "yellow"),
        State("offered", "Offered to the grantee", "blue"),
        State("accepted", "Accepted", "green"),
        State("declined", "Declined by the grantee", "red"),
        State("withdrawn", "Withdrawn", "grey"),
        State("refused", "Refused", "red"),
    ),
    actions=(
        Action("approve", "Approve the variation", ("awaiting_approval",), "offered", ("approver",),
               event_label="Approved and offered to the grantee", endpoint="variations.approve",
               guards=(_agreement_variable, _not_the_proposer)),
        Action("refuse", "Refuse the variation", ("awaiting_approval",), "refused", ("approver",),
               event_label="Refused by the approver", endpoint="variations.refuse", style="warning"),
        Action("accept", "Read and accept the variation", ("offered",), "accepted", ("applicant",),
               event_label="Accepted by the grantee", endpoint="variations.accept",
               guards=(_own_organisation, _agreement_variable)),
        Action("decline", "Decline the variation", ("offered",), "declined", ("applicant",),
               event_label="Declined by the grantee", endpoint="variations.decline", style="warning",
               guards=(_own_organisation,)),
        Action("withdraw", "Withdraw the variation", OPEN, "withdrawn", ("officer",),
               event_label="Withdrawn", endpoint="variations.withdraw", style="secondary"),
    ),
    events={"agreement_variation.proposed": "Variation proposed"},
    initial="awaiting_approval",
)
# What the grantee sees: what has been offered to them, and what became of it.
VISIBLE_TO_GRANTEE = ("offered", "accepted", "declined")
