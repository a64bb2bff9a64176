"""Finding monitoring returns a user may see: those of the agreements they may see."""

from __future__ import annotations

from grants.agreements.queries import can_see_agreement
from grants.core.access import visible_or_404
from grants.core.models import MonitoringReturn, User


def return_or_404(return_id: int, user: User) -> MonitoringReturn:
    return visible_or_404(MonitoringReturn, return_id, user, lambda u, ret: can_see_agreement(u, ret.agreement))
