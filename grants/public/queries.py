"""What the commissioner publishes about each grant (Specified Information Order 2011, Schedule 1 para 3(f)):
the recipient, the purpose in the OPCC's words, the conditions, the reasons, the amount and where the grant
stands. The same rows feed the public pages and the 360Giving files.

Grants are published by the date of the award: a financial year's file holds the grants awarded in it. Every
function runs a fixed number of statements whatever the number of grants.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select

from grants.agreements.lifecycle import AGREEMENT
from grants.core.dates import financial_year_start, london_date, period_bounds, utc_bounds
from grants.core.extensions import db
from grants.core.models import (
    Award,
    Bid,
    Fund,
    FundYear,
    GrantAgreement,
    Organisation,
    Payment,
    Repayment,
    bid_reference,
    summed,
)
from grants.core.paging import STREAM_BATCH, Page, page_of
from grants.repayments.queries import expected_pence

PAGE_SIZE = 25
# A grant with no agreement yet has been awarded, and that is all there is to say.
AWARDED = "Awarded: agreement being prepared"


@dataclass(frozen=True)
class PublishedGrant:
    bid_id: int
    recipient: str
    recipient_org_id: str | None  # as registered (org-id.guide); None when the organisation has none
    charity_number: str | None
    company_number: str | None
    postcode: str | None
    district_code: str | None
    district_name: str | None
    recipient_id: int
    fund_id: int
    fund: str
    fund_description: str
    summary: str
    reasons: str
    amount_pence: int
    awarded_at: datetime
    start_date: date | None
    end_date: date | None
    agreement_status: str | None
    paid_pence: int
    # For a grant ended early: what the grantee is to repay (asked for, less anything written off), and has.
    repayment_pence: int | None
    repaid_pence: int | None
    ended_on: date | None
    last_modified: datetime

    @property
    def reference(self) -> str:
        return bid_reference(self.bid_id)

    @property
    def award_date(self) -> date:
        return london_date(self.awarded_at)

    @property
    def status(self) -> str:
        return AWARDED if self.agreement_status is None else AGREEMENT.public_name(self.agreement_status)

    @property
    def ended_early(self) -> bool:
        return self.agreement_status == "terminated"


@dataclass(frozen=True)
class PublishedConditions:
    standard: str
    special: str


@dataclass(frozen=True)
class GrantFilters:
    year: int | None = None  # financial year starting in this calendar year
    month: int | None = None  # calendar month within that financial year
    fund_id: int | None = None

    def bounds(self) -> tuple[datetime, datetime] | None:
        if self.year is None:
            return None
        return utc_bounds(*period_bounds(self.year, self.month))


def _paid() -> Any:
    # Worked out for the rows shown only (by the payment's agreement index), not for every grant first.
    return (select(summed(Payment.amount_pence))
            .where(Payment.agreement_id == GrantAgreement.id, Payment.status == "paid")
            .scalar_subquery())


def _repayments(value: Any) -> Any:
    return (select(summed(value)).where(Repayment.agreement_id == GrantAgreement.id).scalar_subquery())


def _published(filters: GrantFilters) -> Select[*tuple[Any, ...]]:
    query = (
        select(
            Award.bid_id, Award.amount_pence, Award.approved_at, Award.reasons, Award.public_summary,
            Organisation.id.label("recipient_id"), Organisation.name.label("recipient"), Organisation.org_identifier,
            Organisation.charity_number, Organisation.company_number, Organisation.postcode,
            Organisation.district_code, Organisation.district_name,
            Fund.id.label("fund_id"), Fund.name.label("fund"), Fund.description.label("fund_description"),
            Bid.start_date.label("bid_start"), Bid.end_date.label("bid_end"), Bid.updated_at.label("bid_updated"),
            GrantAgreement.status.label("agreement_status"), GrantAgreement.start_date, GrantAgreement.end_date,
            GrantAgreement.ended_at, GrantAgreement.updated_at.label("agreement_updated"), _paid().label("paid"),
            _repayments(expected_pence()).label("repayment"), _repayments(Repayment.received_pence).label("repaid"),
        )
        .join(Bid, Award.bid_id == Bid.id)
        .join(Organisation, Award.organisation_id == Organisation.id)
        .join(FundYear, Award.fund_year_id == FundYear.id)
        .join(Fund, FundYear.fund_id == Fund.id)
        .outerjoin(GrantAgreement, GrantAgreement.award_id == Award.id)
    )
    return _filtered(query, filters)


def _filtered(query: Select[*tuple[Any, ...]], filters: GrantFilters) -> Select[*tuple[Any, ...]]:
    bounds = filters.bounds()
    if bounds:
        query = query.where(Award.approved_at >= bounds[0], Award.approved_at < bounds[1])
    if filters.fund_id:
        query = query.where(FundYear.fund_id == filters.fund_id)
    return query


def _grant(r: Any) -> PublishedGrant:
    modified = [t for t in (r.approved_at, r.bid_updated, r.agreement_updated) if t is not None]
    ended_early = r.agreement_status == "terminated"
    return PublishedGrant(
        bid_id=r.bid_id, recipient=r.recipient, recipient_org_id=r.org_identifier or None,
        charity_number=r.charity_number, company_number=r.company_number, postcode=r.postcode,
        district_code=r.district_code, district_name=r.district_name, recipient_id=r.recipient_id,
        fund_id=r.fund_id, fund=r.fund, fund_description=r.fund_description,
        summary=r.public_summary, reasons=r.reasons, amount_pence=r.amount_pence, awarded_at=r.approved_at,
        start_date=r.start_date or r.bid_start, end_date=r.end_date or r.bid_end,
        agreement_status=r.agreement_status, paid_pence=int(r.paid or 0),
        repayment_pence=int(r.repayment or 0) if ended_early else None,
        repaid_pence=int(r.repaid or 0) if ended_early else None,
        ended_on=london_date(r.ended_at) if r.ended_at else None, last_modified=max(modified),
    )


def published_page(filters: GrantFilters, number: int) -> Page[PublishedGrant]:
    """One page of published grants, newest award first: two statements."""
    query = _published(filters).order_by(Award.approved_at.desc(), Award.id.desc())
    page = page_of(query, number, PAGE_SIZE, scalars=False, count=_counted(filters))
    return Page([_grant(r) for r in page.items], page.number, page.size, page.total)


def _counted(filters: GrantFilters) -> Select[int]:
    # Every award has its bid, organisation and fund-year (required keys), so only the fund filter needs a join.
    query = select(func.count(Award.id))
    if filters.fund_id:
        query = query.join(FundYear, Award.fund_year_id == FundYear.id)
    return _filtered(query, filters)


def count_published(filters: GrantFilters) -> int:
    return db.session.scalar(_counted(filters)) or 0



def iter_published(filters: GrantFilters) -> Iterator[PublishedGrant]:
    """Every published grant for the filters, oldest award first, fetched from the database in batches."""
    query = _published(filters).order_by(Award.approved_at, Award.id).execution_options(yield_per=STREAM_BATCH)
    for r in db.session.execute(query):
        yield _grant(r)


def published_grant(bid_id: int) -> tuple[PublishedGrant, PublishedConditions] | None:
    """One published grant with its conditions, or None if there is no award for that bid."""
    row = db.session.execute(
        _published(GrantFilters()).add_columns(GrantAgreement.standard_conditions, GrantAgreement.special_conditions)
        .where(Award.bid_id == bid_id)
    ).first()
    if row is None:
        return None
    if row.agreement_status in (None, "draft"):  # a draft's conditions are the OPCC's own until issued
        return _grant(row), PublishedConditions("", "")
    return _grant(row), PublishedConditions(row.standard_conditions, row.special_conditions)


@dataclass(frozen=True)
class Span:
    """A stretch of time a file covers (fits exports.workbook.PeriodLike)."""

    label: str
    start: date
    end: date


def award_span() -> Span | None:
    """From the first award to the last, or None before any."""
    first, last = db.session.execute(select(func.min(Award.approved_at), func.max(Award.approved_at))).one()
    if first is None or last is None:
        return None
    return Span("All years", london_date(first), london_date(last))


def award_years() -> list[int]:
    """The financial years in which grants were awarded, newest first."""
    span = award_span()
    if span is None:
        return []
    first, last = span.start, span.end
    return list(range(financial_year_start(last), financial_year_start(first) - 1, -1))
