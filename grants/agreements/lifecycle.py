"""A grant agreement's life, declared once: draft -> issued -> accepted by the grantee -> active ->
closed | terminated."""

from __future__ import annotations

from datetime import date
from typing import Any

from grants.core.lifecycle import Action, Lifecycle, State


def _own_organisation(user: Any, agreement: Any, today: date) -> str | None:
    if user is None or user.organisation_id != agreement.organisation_id:
        return "Only someone from the grantee organisation can accept its agreement."
    return None


# States in which money may be scheduled and paid: the grantee has accepted the conditions.
PAYABLE = ("accepted", "active")
ENDED = ("closed", "terminated")
# States in which the grantee may be asked to repay: it has accepted the conditions, running or ended.
REPAYABLE = (*PAYABLE, *ENDED)
NOT_PAYABLE = "payments are only made once the grantee has accepted it and while the grant runs."

AGREEMENT = Lifecycle(
    record="grant_agreement",
    noun="agreement",
    event_prefix="agreement",
    id_arg="agreement_id",
    states=(
        # The public register says what a grant's state means for the money, not the OPCC's own steps.
        State("draft", "Draft", "grey", public="Awarded: agreement being prepared"),
        State("issued", "Issued for acceptance", "blue", public="Awarded: agreement being prepared"),
        State("accepted", "Accepted", "light-blue", public="Agreement signed"),
        State("active", "Active", "green", public="Under way"),
        State("closed", "Closed", "grey", public="Completed"),
        State("terminated", "Terminated", "red", public="Ended early"),
    ),
    actions=(
        Action("issue", "Issue to {record.organisation.name}", ("draft",), "issued", ("officer",),
               event_label="Issued to the grantee", endpoint="agreements.issue", method="post"),
        Action("edit", "Change draft", ("draft",), None, ("officer",), event="agreement.updated",
               event_label="Draft agreement changed", endpoint="agreements.edit", style="secondary"),
        Action("accept", "Read and accept the agreement", ("issued",), "accepted", ("applicant",),
               event_label="Accepted by the grantee", endpoint="agreements.accept", guards=(_own_organisation,)),
        Action("activate", "Start the grant and schedule monitoring", ("accepted",), "active", ("officer",),
               event_label="Grant started", endpoint="agreements.activate", method="post"),
        Action("vary", "Propose a variation", ("issued", "accepted", "active"), None, ("officer",),
               endpoint="variations.propose", style="secondary",
               not_now="only an issued, accepted or running agreement can be varied."),
        Action("schedule_payment", "Schedule a payment", PAYABLE, None, ("finance",), endpoint="payments.new",
               not_now=NOT_PAYABLE),
        Action("end", "Close or terminate the grant", PAYABLE, None, ("officer",), endpoint="agreements.end",
               style="warning"),
        Action("ask_repayment", "Ask for a repayment", REPAYABLE, None, ("officer",), endpoint="repayments.new",
               style="secondary", not_now="a repayment can be asked for once the grantee has accepted it."),
        Action("close", "Close the grant", ("active",), "closed", ("officer",)),
        Action("terminate", "Terminate the grant", PAYABLE, "terminated", ("officer",)),
    ),
    events={
        "agreement.prepared": "Draft agreement prepared",
        "agreement.repayment_due": "Repayment due",  # before repayments were records of their own
        "agreement.closed_out": "Close-out figures recorded",
        "agreement.variation_proposed": "Variation proposed",
        "agreement.varied": "Varied",
    },
)
# States the grantee can see; a draft is the OPCC's own until it is issued.
VISIBLE_TO_GRANTEE = tuple(key for key in AGREEMENT.stored_keys if key != "draft")
