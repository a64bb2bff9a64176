"""Audit events: who changed what, when, from which state to which."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from grants.core.extensions import db
from grants.core.models import AuditEvent, User

# A record's page shows this many of its newest events, and says how many older ones there are.
HISTORY_SHOWN = 50


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


@dataclass(frozen=True)
class History:
    """The newest events about a record, oldest of them first, and how many older events are not among them."""

    events: list[AuditEvent]
    older: int


def history(object_type: str, object_id: int, *, also: Mapping[str, Select[int]] | None = None,
            actions: Collection[str] | None = None, shown: int = HISTORY_SHOWN) -> History:
    """The newest `shown` events about one record (and, with `also`, about records that belong to it, each kind
    given by a query of their ids), oldest first, with who made them; only `actions` when given. Two statements
    however long the history is."""
    wanted = and_(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
    for other_type, ids in (also or {}).items():
        wanted = or_(wanted, and_(AuditEvent.object_type == other_type, AuditEvent.object_id.in_(ids)))
    if actions is not None:
        wanted = and_(wanted, AuditEvent.action.in_(sorted(actions)))
    total = db.session.scalar(select(func.count(AuditEvent.id)).where(wanted)) or 0
    newest = db.session.scalars(
        select(AuditEvent).where(wanted).options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(shown)
    ).all()
    return History(events=list(reversed(newest)), older=max(0, total - len(newest)))
