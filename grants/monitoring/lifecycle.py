"""A monitoring return's life, declared once: due -> submitted -> accepted | returned for changes ->
resubmitted; not required once its grant has ended. Overdue is not kept: it is a due or returned return past
its due date."""

from __future__ import annotations

from datetime import date
from typing import Any

from grants.core.lifecycle import Action, Lifecycle, State


def _grantee_of_running_grant(user: Any, ret: Any, today: date) -> str | None:
    agreement = ret.agreement
    if user is not None and user.organisation_id != agreement.organisation_id:
        return "Only someone from the grantee organisation can complete its return."
    if agreement.status != "active":
        return "The grant is not running, so its returns cannot be completed."
    return None


def _period_started(user: Any, ret: Any, today: date) -> str | None:
    if today < ret.period_start:
        return f"This return's period starts on {ret.period_start:%-d %B %Y}; it can be submitted from then."
    return None


def _grant_running(user: Any, ret: Any, today: date) -> str | None:
    if ret.agreement.status != "active":
        return "The grant is not running, so its returns cannot be reviewed."
    return None


WAITING = ("due", "returned")  # waiting for the grantee
REVIEWABLE = ("submitted", "resubmitted")
OVERDUE = "overdue"


def is_overdue(ret: Any, today: date) -> bool:
    """Overdue: waiting for the grantee and past its due date."""
    return ret.status in WAITING and ret.due_on < today


RETURN = Lifecycle(
    record="monitoring_return",
    noun="return",
    id_arg="return_id",
    states=(
        State("due", "Not submitted", "grey"),
        State("submitted", "Submitted", "blue"),
        State("accepted", "Accepted", "green"),
        State("returned", "Returned for changes", "yellow"),
        State("resubmitted", "Resubmitted", "blue"),
        State("not_required", "Not required", "grey"),
        State(OVERDUE, "Overdue", "red", stored=False),
    ),
    actions=(
        Action("complete", "Complete the return", WAITING, None, ("applicant",), event="monitoring_return.saved",
               event_label="Draft saved", endpoint="monitoring.edit", guards=(_grantee_of_running_grant,)),
        Action("submit", "Submit", ("due",), "submitted", ("applicant",),
               guards=(_grantee_of_running_grant, _period_started)),
        Action("resubmit", "Resubmit", ("returned",), "resubmitted", ("applicant",),
               guards=(_grantee_of_running_grant, _period_started)),
        Action("review", "Review the return", REVIEWABLE, None, ("officer",), endpoint="monitoring.review",
               guards=(_grant_running,)),
        Action("accept", "Accept", REVIEWABLE, "accepted", ("officer",), guards=(_grant_running,)),
        Action("send_back", "Return for changes", REVIEWABLE, "returned", ("officer",), guards=(_grant_running,)),
        # Taken by the rules when the grant ends: what is still outstanding is no longer asked for.
        Action("not_required", "Mark not required", (*WAITING, *REVIEWABLE), "not_required", ()),
        # Taken by the rules when a variation extends a running grant back over a period it had dropped.
        Action("require_again", "Require again", ("not_required",), "due", (),
               event_label="Required again: the grant was extended"),
    ),
    events={"monitoring_return.scheduled": "Return scheduled", "monitoring_return.evidence_added": "Evidence added",
            "monitoring_return.rescheduled": "Period changed by a variation"},
    calendar=lambda ret, today: OVERDUE if is_overdue(ret, today) else None,
)

