"""Finding bids a user may see."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from grants.bids.lifecycle import VISIBLE_TO_STAFF
from grants.core.access import STAFF_ROLES, visible_or_404
from grants.core.models import Bid, BidDocument, FundYear, User
from grants.core.paging import Page, page_of

PAGE_SIZE = 50


def can_see_bid(user: User, bid: Bid) -> bool:
    if user.role == "applicant":
        return user.organisation_id is not None and bid.organisation_id == user.organisation_id
    return user.role in STAFF_ROLES


def bid_or_404(bid_id: int, user: User) -> Bid:
    return visible_or_404(Bid, bid_id, user, can_see_bid)


def can_see_documents(user: User, bid: Bid) -> bool:
    """A bid's supporting documents: its own organisation always; the OPCC once the bid is submitted (a draft's
    documents are the applicant's alone, like the draft)."""
    if user.role == "applicant":
        return can_see_bid(user, bid)
    return user.role in STAFF_ROLES and bid.status in VISIBLE_TO_STAFF


def document_or_404(document_id: int, user: User) -> BidDocument:
    return visible_or_404(BidDocument, document_id, user, lambda who, document: can_see_documents(who, document.bid))


def document_of_bid(bid: Bid, document_id: int) -> BidDocument:
    """One of this bid's documents (the bid already checked as the user's to see), else 404."""
    document = next((d for d in bid.documents if d.id == document_id), None)
    if document is None:
        abort(404)
    return document


def organisation_bids(user: User, number: int) -> Page[Bid]:
    """One page of the bids of `user`'s organisation, most recently changed first, each with its fund and budget
    lines (for the amount asked for): three statements."""
    query = (
        select(Bid).where(Bid.organisation_id == user.organisation_id)
        .options(joinedload(Bid.fund_year).joinedload(FundYear.fund), selectinload(Bid.budget_lines))
        .order_by(Bid.updated_at.desc(), Bid.id.desc())
    )
    return page_of(query, number, PAGE_SIZE)
