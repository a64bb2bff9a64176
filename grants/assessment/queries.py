"""Finding bids for the officers' list: filters and paging, kept out of the views."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from grants.bids.lifecycle import BID, VISIBLE_TO_STAFF
from grants.core.extensions import db
from grants.core.models import Bid, Fund, FundYear, Organisation
from grants.core.paging import Page, page_of

PAGE_SIZE = 50
HIDDEN_FROM_STAFF = tuple(key for key in BID.stored_keys if key not in VISIBLE_TO_STAFF)


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


@dataclass
class BidFilters:
    fund_id: int | None = None
    status: str | None = None
    organisation_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> BidFilters:
        status = args.get("status") or None
        return cls(
            fund_id=_int_or_none(args.get("fund")),
            status=status if status in VISIBLE_TO_STAFF else None,
            organisation_id=_int_or_none(args.get("organisation")),
        )

    def args(self) -> dict[str, Any]:
        """The filters as query values, so every page of the list keeps them."""
        values = (("fund", self.fund_id), ("status", self.status), ("organisation", self.organisation_id))
        return {name: value for name, value in values if value}


def staff_bid_list(filters: BidFilters, number: int) -> Page[Bid]:
    """One page of bids matching the filters, newest submission first, each with its organisation, fund and budget
    lines (for the amount asked for), and the total count: three statements."""
    # Every state but the applicant's own drafts, said as "not a draft" so the newest-first index serves the page.
    query = select(Bid).where(Bid.status.not_in(HIDDEN_FROM_STAFF))
    if filters.fund_id:
        query = query.where(Bid.fund_year_id.in_(select(FundYear.id).where(FundYear.fund_id == filters.fund_id)))
    if filters.status:
        query = query.where(Bid.status == filters.status)
    if filters.organisation_id:
        query = query.where(Bid.organisation_id == filters.organisation_id)
    query = (
        query.options(joinedload(Bid.organisation).load_only(Organisation.id, Organisation.name),
                      joinedload(Bid.fund_year).joinedload(FundYear.fund), selectinload(Bid.budget_lines))
        .order_by(Bid.submitted_at.desc().nulls_last(), Bid.id.desc())
    )
    return page_of(query, number, PAGE_SIZE)


def filter_choices() -> dict[str, list[tuple[int, str]]]:
    """The list's fund and organisation choices: their ids and names only."""
    return {
        "funds": [(r.id, r.name) for r in db.session.execute(select(Fund.id, Fund.name).order_by(Fund.name))],
        "organisations": [(r.id, r.name) for r in
                          db.session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))],
    }
