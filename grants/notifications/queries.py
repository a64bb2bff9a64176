"""Finding a user's notifications: the emails written to them (outbox rows whose recipient they are).

Each function runs a fixed number of statements, however many notifications there are."""

from __future__ import annotations

from sqlalchemy import func, select

from grants.core.access import visible_or_404
from grants.core.extensions import db
from grants.core.models import OutboxEmail, User
from grants.core.paging import Page, page_of

PAGE_SIZE = 25


def notifications_page(user: User, number: int) -> Page[OutboxEmail]:
    """One page of the user's notifications, newest first: two statements (ix_outbox_email_recipient_created)."""
    query = (select(OutboxEmail).where(OutboxEmail.recipient_id == user.id)
             .order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc()))
    return page_of(query, number, PAGE_SIZE)


def unread_count(user: User) -> int:
    """How many of the user's notifications they have not opened: one statement."""
    return int(db.session.scalar(select(func.count(OutboxEmail.id)).where(
        OutboxEmail.recipient_id == user.id, OutboxEmail.read_at.is_(None))) or 0)


def notification_or_404(message_id: int, user: User) -> OutboxEmail:
    """One of the user's own notifications; anyone else's is not found, not forbidden, so its existence is not
    confirmed (administrators read every email on the Outbox page instead)."""
    return visible_or_404(OutboxEmail, message_id, user, lambda u, message: message.recipient_id == u.id)
