"""Finding bids a user may see."""

from __future__ import annotations

from grants.core.access import STAFF_ROLES, visible_or_404
from grants.core.models import Bid, User


def can_see_bid(user: User, bid: Bid) -> bool:
    if user.role == "applicant":
        return user.organisation_id is not None and bid.organisation_id == user.organisation_id
    return user.role in STAFF_ROLES


def bid_or_404(bid_id: int, user: User) -> Bid:
    return visible_or_404(Bid, bid_id, user, can_see_bid)
