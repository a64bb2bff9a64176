"""Audit events: who changed what, when, from which state to which."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from grants.extensions import db
from grants.models import AuditEvent, User


def record_event(
    actor: User | None,
    action: str,
    obj: Any | None = None,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction; the caller commits."""
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        db.session.flush()  # a new object needs its id before it can be named
        object_id = obj.id
    event = AuditEvent(
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type or "system",
        object_id=object_id,
        from_state=from_state,
        to_state=to_state,
        note=note,
        details=details,
    )
    db.session.add(event)
    return event


def history(object_type: str, object_id: int, *, also: dict[str, list[int]] | None = None) -> list[AuditEvent]:
    """Every event about one record (and, with `also`, about records that belong to it), oldest first."""
    wanted = and_(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
    for other_type, ids in (also or {}).items():
        if ids:
            wanted = or_(wanted, and_(AuditEvent.object_type == other_type, AuditEvent.object_id.in_(ids)))
    return list(db.session.scalars(select(AuditEvent).where(wanted).order_by(AuditEvent.occurred_at, AuditEvent.id)))


EVENT_LABELS = {
    "bid.created": "Bid started",
    "bid.saved": "Draft saved",
    "bid.submitted": "Submitted",
    "bid.resubmitted": "Resubmitted with more information",
    "bid.withdrawn": "Withdrawn",
    "bid.in_review": "Review started",
    "bid.assessed": "Assessment recorded",
    "bid.info_requested": "More information requested",
    "bid.rejected": "Rejected",
    "bid.recommended": "Recommended for approval",
    "bid.approved": "Approved",
    "bid.approval_refused": "Approval refused",
    "bid.conflict_declared": "Conflict of interest declared",
    "fund_year.committed": "Money committed",
    "agreement.prepared": "Draft agreement prepared",
    "agreement.updated": "Draft agreement changed",
    "agreement.issued": "Issued to the grantee",
    "agreement.accepted": "Accepted by the grantee",
    "agreement.active": "Grant started",
    "agreement.closed": "Closed",
    "agreement.terminated": "Terminated",
    "agreement.repayment_due": "Repayment due",
    "payment.scheduled": "Payment scheduled",
    "payment.paid": "Payment made",
    "payment.cancelled": "Payment cancelled",
    "monitoring_return.scheduled": "Return scheduled",
    "monitoring_return.saved": "Draft saved",
    "monitoring_return.submitted": "Submitted",
    "monitoring_return.resubmitted": "Resubmitted",
    "monitoring_return.accepted": "Accepted",
    "monitoring_return.returned": "Returned for changes",
}


# The events on a bid its applicant sees; assessments, recommendations and declarations stay internal.
APPLICANT_EVENTS = frozenset({
    "bid.created", "bid.saved", "bid.submitted", "bid.resubmitted", "bid.withdrawn", "bid.in_review",
    "bid.info_requested", "bid.rejected", "bid.approved",
})


def event_label(event: AuditEvent) -> str:
    return EVENT_LABELS.get(event.action, event.action.replace("_", " ").replace(".", ": ").capitalize())
