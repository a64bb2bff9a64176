"""Grant payments over £500, item by item, as the commissioner publishes them.

Elected Local Policing Bodies (Specified Information) Order 2011, Schedule 1 para 3(g): each item of spending
over £500. Here that is each grant payment recorded as paid for more than £500: when it was paid, the payee
organisation, the fund, the purpose as the OPCC published it (the award's public summary, never the bid's own
text) and the amount. Nothing about a person: no user is read at all.

Every query selects plain columns through joins, so a page costs the same few statements however many rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select

from grants.core.dates import financial_year_start, period_bounds
from grants.core.extensions import db
from grants.core.models import Award, Fund, FundYear, GrantAgreement, Organisation, Payment, summed
from grants.core.paging import STREAM_BATCH, Page

# Payments of strictly more than this are published (£500.00 itself is not).
THRESHOLD_PENCE = 500_00
PAGE_SIZE = 50
# The financial years anyone may ask for; others are no year at all.
YEAR_RANGE = range(2000, 2100)


@dataclass(frozen=True)
class SpendingItem:
    bid_id: int  # the grant's public page is /grants-awarded/<bid_id>
    paid_on: date
    payee: str
    fund: str
    purpose: str
    amount_pence: int


def _published() -> ColumnElement[bool]:
    """Paid, and for strictly more than £500."""
    return and_(Payment.status == "paid", Payment.amount_pence > THRESHOLD_PENCE)


def _paid_in(year_start: int, month: int | None) -> ColumnElement[bool]:
    start, end = period_bounds(year_start, month)
    return and_(_published(), Payment.paid_on >= start, Payment.paid_on <= end)


def _spending(year_start: int, month: int | None = None) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Payment.paid_on, Organisation.name.label("payee"), Fund.name.label("fund"),
            Award.public_summary.label("purpose"), Payment.amount_pence, Award.bid_id, Payment.id,
        )
        .select_from(Payment)
        .join(GrantAgreement, Payment.agreement_id == GrantAgreement.id)
        .join(Award, GrantAgreement.award_id == Award.id)
        .join(Organisation, Award.organisation_id == Organisation.id)
        .join(FundYear, Award.fund_year_id == FundYear.id)
        .join(Fund, FundYear.fund_id == Fund.id)
        .where(_paid_in(year_start, month))
        .order_by(Payment.paid_on, Payment.id)
    )


def _item(row: Any) -> SpendingItem:
    return SpendingItem(bid_id=row.bid_id, paid_on=row.paid_on, payee=row.payee, fund=row.fund,
                        purpose=row.purpose or "", amount_pence=row.amount_pence)


@dataclass(frozen=True)
class SpendingPage:
    page: Page[SpendingItem]
    total_pence: int  # of every payment in the year (or month), not just this page's


def spending_page(year_start: int, month: int | None, number: int, size: int = PAGE_SIZE) -> SpendingPage:
    """One page of the payments over £500 paid in the year (or month), in date order, with how many there are
    and their sum: two statements. The count and sum read the payments alone: every paid payment has its
    agreement, award, organisation and fund (required keys), so the joins the rows need cannot change them."""
    count, total = db.session.execute(
        select(func.count(Payment.id), summed(Payment.amount_pence)).where(_paid_in(year_start, month))).one()
    rows = db.session.execute(_spending(year_start, month).limit(size).offset((number - 1) * size)).all()
    return SpendingPage(Page([_item(row) for row in rows], number, size, int(count)), int(total))


def spending_items(year_start: int) -> Iterator[SpendingItem]:
    """Every payment over £500 paid in the financial year, in date order, fetched in batches as it is read."""
    result = db.session.execute(_spending(year_start).execution_options(yield_per=STREAM_BATCH))
    for row in result:
        yield _item(row)


def spending_years(today: date) -> list[int]:
    """The financial years a visitor may choose, newest first: from the year of the first payment over £500 (or
    the current year, if earlier) to the current year (or the year of the last, if later): one statement."""
    first, last = db.session.execute(
        select(func.min(Payment.paid_on), func.max(Payment.paid_on))
        .where(_published())
    ).one()
    current = financial_year_start(today)
    earliest = min(current, financial_year_start(first)) if first else current
    latest = max(current, financial_year_start(last)) if last else current
    return [year for year in range(latest, earliest - 1, -1) if year in YEAR_RANGE]
