"""Bid life cycle: which moves are allowed, and the audit event each writes."""

from __future__ import annotations

from grants.audit import record_event
from grants.models import Bid, User, utcnow
from grants.refusals import Refused

STATUS_NAMES = {
    "draft": "Draft",
    "submitted": "Submitted",
    "in_review": "In review",
    "info_requested": "More information requested",
    "recommended": "Recommended for approval",
    "approved": "Approved",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
}
# GOV.UK tag colours by status.
STATUS_COLOURS = {
    "draft": "grey",
    "submitted": "blue",
    "in_review": "light-blue",
    "info_requested": "yellow",
    "recommended": "purple",
    "approved": "green",
    "rejected": "red",
    "withdrawn": "grey",
}

TRANSITIONS: dict[str, set[str]] = {
    "draft": {"submitted", "withdrawn"},
    "submitted": {"in_review", "info_requested", "rejected", "approved", "recommended", "withdrawn"},
    "in_review": {"info_requested", "rejected", "approved", "recommended", "withdrawn"},
    "info_requested": {"submitted", "withdrawn"},
    "recommended": {"approved", "rejected", "in_review"},
    "approved": set(),
    "rejected": set(),
    "withdrawn": set(),
}
EDITABLE_BY_APPLICANT = {"draft", "info_requested"}
WITHDRAWABLE = {"draft", "submitted", "in_review", "info_requested"}
DECIDED = {"approved", "rejected"}


class TransitionError(Refused):
    pass


def can_move(bid: Bid, to: str) -> bool:
    return to in TRANSITIONS[bid.status]


def move(bid: Bid, to: str, actor: User, *, action: str | None = None, note: str = "") -> None:
    """Change a bid's status and write the audit event in the same transaction."""
    if not can_move(bid, to):
        raise TransitionError(f"A bid that is {STATUS_NAMES[bid.status].lower()} cannot become {STATUS_NAMES[to].lower()}")
    from_state = bid.status
    bid.status = to
    if to == "submitted":
        bid.submitted_at = utcnow()
    if to in DECIDED:
        bid.decided_at = utcnow()
    record_event(actor, action or f"bid.{to}", bid, from_state=from_state, to_state=to, note=note)
