"""Audit events: who changed what, when, from which state to which."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from grants.core.extensions import db
from grants.core.models import AuditEvent, User


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
