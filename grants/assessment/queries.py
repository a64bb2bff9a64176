"""Finding bids for the officers' list: filters and paging, kept out of the views."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from grants.bids.lifecycle import VISIBLE_TO_STAFF
from grants.core.extensions import db
from grants.core.models import Bid, Fund, FundYear, Organisation

PAGE_SIZE = 50


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
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> BidFilters:
        status = args.get("status") or None
        return cls(
            fund_id=_int_or_none(args.get("fund")),
            status=status if status in VISIBLE_TO_STAFF else None,
            organisation_id=_int_or_none(args.get("organisation")),
            page=_int_or_none(args.get("page")) or 1,
        )


def staff_bid_list(filters: BidFilters) -> tuple[list[Bid], int]:
    """One page of bids matching the filters, newest submission first, and the total count."""
    query = select(Bid).join(Bid.fund_year).where(Bid.status.in_(VISIBLE_TO_STAFF))
    if filters.fund_id:
        query = query.where(FundYear.fund_id == filters.fund_id)
    if filters.status:
        query = query.where(Bid.status == filters.status)
    if filters.organisation_id:
        query = query.where(Bid.organisation_id == filters.organisation_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(joinedload(Bid.organisation), joinedload(Bid.fund_year).joinedload(FundYear.fund),
                      joinedload(Bid.budget_lines))
        .order_by(Bid.submitted_at.desc().nulls_last(), Bid.id.desc())
        .limit(PAGE_SIZE)
        .offset((filters.page - 1) * PAGE_SIZE)
    ).unique().all()
    return list(rows), total


def filter_choices() -> dict[str, list[tuple[int, str]]]:
    return {
        "funds": [(f.id, f.name) for f in db.session.scalars(select(Fund).order_by(Fund.name))],
        "organisations": [(o.id, o.name) for o in db.session.scalars(select(Organisation).order_by(Organisation.name))],
    }
