"""Finding bids a user may see."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from grants.core.access import STAFF_ROLES, visible_or_404
from grants.core.models import Bid, FundYear, User
from grants.core.paging import Page, page_of

PAGE_SIZE = 50


def can_see_bid(user: User, bid: Bid) -> bool:
    if user.role == "applicant":
        return user.organisation_id is not None and bid.organisation_id == user.organisation_id
    return user.role in STAFF_ROLES


def bid_or_404(bid_id: int, user: User) -> Bid:
    return visible_or_404(Bid, bid_id, user, can_see_bid)


def organisation_bids(user: User, number: int) -> Page[Bid]:
    """One page of the bids of `user`'s organisation, most recently changed first, each with its fund and budget
    lines (for the amount asked for): three statements."""
    query = (
        select(Bid).where(Bid.organisation_id == user.organisation_id)
        .options(joinedload(Bid.fund_year).joinedload(FundYear.fund), selectinload(Bid.budget_lines))
        .order_by(Bid.updated_at.desc(), Bid.id.desc())
    )
    return page_of(query, number, PAGE_SIZE)
