"""Finding bids for the officers' list: filters, search, paging and the download, kept out of the views."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from grants.admin.queries import organisation_name
from grants.bids.lifecycle import BID, VISIBLE_TO_STAFF
from grants.core.dates import financial_year_label
from grants.core.extensions import db
from grants.core.lifecycle import State
from grants.core.models import Bid, BudgetLine, Fund, FundYear, Organisation, bid_reference, summed
from grants.core.paging import ID_RANGE, STREAM_BATCH, Page, query_number
from grants.core.search import contains, search_text

PAGE_SIZE = 50
_REFERENCE = re.compile(r"(?:BID-?)?0*(\d{1,9})", re.IGNORECASE)


@dataclass
class BidFilters:
    fund_id: int | None = None
    fund_year_id: int | None = None
    status: str | None = None
    organisation_id: int | None = None
    search: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> BidFilters:
        status = args.get("status") or None
        return cls(
            fund_id=query_number(args, "fund", ID_RANGE),
            fund_year_id=query_number(args, "year", ID_RANGE),
            status=status if status in VISIBLE_TO_STAFF else None,
            organisation_id=query_number(args, "organisation", ID_RANGE),
            search=search_text(args),
        )

    def args(self) -> dict[str, Any]:
        """The filters as query values, so every page of the list, and its download, keep them."""
        values = (("q", self.search), ("fund", self.fund_id), ("year", self.fund_year_id), ("status", self.status),
                  ("organisation", self.organisation_id))
        return {name: value for name, value in values if value}


@dataclass(frozen=True)
class ListedBid:
    """One row of the officers' list and of its download."""

    id: int
    title: str
    status: str
    submitted_at: datetime | None
    organisation: str
    fund: str
    year: str
    requested_pence: int

    @property
    def reference(self) -> str:
        return bid_reference(self.id)

    @property
    def state(self) -> State:
        return BID.state(self.status)


def _filtered(query: Select[Any], filters: BidFilters) -> Select[Any]:
    # Only bids that were submitted: drafts are the applicant's own (a bid is a draft only until it is first
    # submitted: tests/test_bid_list.py checks nothing returns a bid to draft), and one withdrawn before it was ever
    # submitted never reached the OPCC. Said this way the newest-first index alone finds a page's bids.
    query = query.where(Bid.submitted_at.is_not(None))
    if filters.fund_year_id:
        query = query.where(Bid.fund_year_id == filters.fund_year_id)
    if filters.fund_id:
        query = query.where(Bid.fund_year_id.in_(select(FundYear.id).where(FundYear.fund_id == filters.fund_id)))
    if filters.status:
        query = query.where(Bid.status == filters.status)
    if filters.organisation_id:
        query = query.where(Bid.organisation_id == filters.organisation_id)
    if filters.search:
        query = query.where(_matches(filters.search))
    return query


def _matches(search: str) -> Any:
    """A bid whose reference is the search, or whose title or organisation's name contains it (any case)."""
    found = [contains(Bid.title, search),
             Bid.organisation_id.in_(select(Organisation.id).where(contains(Organisation.name, search)))]
    if (reference := _REFERENCE.fullmatch(search)) and int(reference.group(1)) in ID_RANGE:
        found.append(Bid.id == int(reference.group(1)))
    return or_(*found)


NEWEST_FIRST = (Bid.submitted_at.desc(), Bid.id.desc())


def _listed(chosen: Any) -> Select[Any]:
    """The list's columns for the bids `chosen` (a subquery of their ids)."""
    requested = select(summed(BudgetLine.amount_pence)).where(BudgetLine.bid_id == Bid.id).scalar_subquery()
    return (
        select(Bid.id, Bid.title, Bid.status, Bid.submitted_at, Organisation.name.label("organisation"),
               Fund.name.label("fund"), FundYear.year_start, requested.label("requested"))
        .join(chosen, chosen.c.id == Bid.id)
        .join(Organisation, Bid.organisation_id == Organisation.id)
        .join(FundYear, Bid.fund_year_id == FundYear.id)
        .join(Fund, FundYear.fund_id == Fund.id)
        .order_by(*NEWEST_FIRST)
    )


def _row(r: Any) -> ListedBid:
    return ListedBid(id=r.id, title=r.title or "", status=r.status, submitted_at=r.submitted_at,
                     organisation=r.organisation, fund=r.fund, year=financial_year_label(r.year_start),
                     requested_pence=int(r.requested or 0))


def staff_bid_list(filters: BidFilters, number: int) -> Page[ListedBid]:
    """One page of bids matching the filters, newest submission first, and how many match: two statements.

    The page's bids are found by id first, from the index alone, and only those fifty are joined to their
    organisation, fund and budget: a late page then skips ids, not whole rows with their sums."""
    total = db.session.scalar(_filtered(select(func.count()).select_from(Bid), filters)) or 0
    chosen = (_filtered(select(Bid.id), filters).order_by(*NEWEST_FIRST)
              .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE).subquery())
    rows = db.session.execute(_listed(chosen)).all()
    return Page([_row(r) for r in rows], number, PAGE_SIZE, total)


def iter_staff_bids(filters: BidFilters) -> Iterator[ListedBid]:
    """Every bid matching the filters, newest submission first, read from the database in batches."""
    query = _listed(_filtered(select(Bid.id), filters).subquery()).execution_options(yield_per=STREAM_BATCH)
    for r in db.session.execute(query):
        yield _row(r)


def filter_choices() -> dict[str, list[tuple[int, str]]]:
    """The list's fund and fund-year choices: ids and names only (a few dozen whatever the number of bids)."""
    funds = db.session.execute(select(Fund.id, Fund.name).order_by(Fund.name)).all()
    years = db.session.execute(select(FundYear.id, FundYear.year_start, Fund.name).join(Fund)
                               .order_by(FundYear.year_start.desc(), Fund.name)).all()
    return {
        "funds": [(r.id, r.name) for r in funds],
        "years": [(r.id, f"{r.name} {financial_year_label(r.year_start)}") for r in years],
    }


def described_filters(filters: BidFilters) -> list[tuple[str, str]]:
    """The filters in words, as a download's About sheet records them (an id matching nothing said as such)."""
    choices = filter_choices()
    named = [
        ("Search", filters.search or None),
        ("Fund", dict(choices["funds"]).get(filters.fund_id, "no such fund") if filters.fund_id else None),
        ("Fund and year", dict(choices["years"]).get(filters.fund_year_id, "no such fund-year")
         if filters.fund_year_id else None),
        ("Status", BID.name(filters.status) if filters.status else None),
        ("Organisation", (organisation_name(filters.organisation_id) or "no such organisation")
         if filters.organisation_id else None),
    ]
    return [(label, value) for label, value in named if value]
