"""Finding payments a user may see: staff only; grantees see their payments on the agreement."""

from __future__ import annotations

from grants.core.access import STAFF_ROLES, visible_or_404
from grants.core.models import Payment, User


def payment_or_404(payment_id: int, user: User) -> Payment:
    return visible_or_404(Payment, payment_id, user, lambda u, _payment: u.role in STAFF_ROLES)
