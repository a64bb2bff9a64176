"""Plain queries behind the finance exports: each gives dataclass rows, no web request needed. The exports' rows
are read from the database in batches as the workbook is written (a server-side cursor on PostgreSQL), so a
year of any size is never all in memory.

Every function runs a fixed number of queries whatever the number of grants: payment and monitoring figures
come from grouped subqueries joined in, never from a query per grant. Money stays in integer pence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement, Subquery

from grants.agreements.closeout import CloseOut
from grants.agreements.lifecycle import AGREEMENT
from grants.agreements.queries import with_grantee_and_fund
from grants.bids.rules import THEMES
from grants.core import dates
from grants.core.dates import Period, financial_year_start, london_date
from grants.core.extensions import db
from grants.core.models import (
    FUNDING_SOURCES,
    Award,
    Bid,
    BudgetLine,
    Fund,
    FundYear,
    GrantAgreement,
    MonitoringReturn,
    Organisation,
    Payment,
    Repayment,
    RepaymentReceipt,
    agreement_reference,
    bid_reference,
    payment_reference,
    repayment_reference,
    summed,
)
from grants.core.paging import STREAM_BATCH
from grants.monitoring.lifecycle import REVIEWABLE, WAITING
from grants.monitoring.rules import overdue_condition
from grants.payments.lifecycle import PAYMENT
from grants.repayments.lifecycle import REPAYMENT
from grants.repayments.queries import sums_by_agreement


def sum_if(condition: ColumnElement[bool], value: ColumnElement[int] | InstrumentedAttribute[int] | int) -> ColumnElement[int]:
    """SUM(CASE WHEN condition THEN value ELSE 0 END), never NULL: portable conditional aggregation."""
    return summed(case((condition, value), else_=0))


def _requested_subquery() -> Subquery:
    return (
        select(BudgetLine.bid_id, summed(BudgetLine.amount_pence).label("requested"))
        .group_by(BudgetLine.bid_id)
        .subquery("requested")
    )


# --- Grants register -------------------------------------------------------------------------------------


@dataclass
class GrantsRegisterRow:
    grant_id: str
    bid_reference: str
    organisation_id: int
    organisation: str
    org_identifier: str | None
    fund: str
    funding_source: str
    title: str
    description: str
    theme: str
    location: str
    award_date: date
    requested_pence: int
    awarded_pence: int
    agreement_reference: str | None
    agreement_status: str | None
    agreement_start: date | None
    agreement_end: date | None
    paid_pence: int
    scheduled_pence: int
    # Repayments: None when none has been asked for.
    repayment_asked_pence: int | None
    repaid_pence: int | None
    repayment_written_off_pence: int | None
    repayment_outstanding_pence: int | None
    close_out: CloseOut | None  # the final figures, once the grant has ended
    returns_due: int
    returns_submitted: int
    returns_accepted: int
    returns_overdue: int
    last_modified: datetime


def grants_register(year_start: int, grant_id_prefix: str, *, today: date | None = None) -> Iterator[GrantsRegisterRow]:
    """Every award from a fund-year of the financial year starting in `year_start`, oldest award first.

    `grant_id_prefix` is the 360Giving publisher prefix (config GRANT_ID_PREFIX), passed in so this needs no app.
    Returns due counts those waiting for the grantee (due or returned for changes); overdue is the part of those
    past their due date on `today` (default: today in the UK)."""
    today = today or dates.today()
    requested = _requested_subquery()
    paid = (
        select(
            Payment.agreement_id,
            sum_if(Payment.status == "paid", Payment.amount_pence).label("paid"),
            sum_if(Payment.status == "scheduled", Payment.amount_pence).label("scheduled"),
        )
        .group_by(Payment.agreement_id)
        .subquery("paid")
    )
    repayments = sums_by_agreement()
    waiting = MonitoringReturn.status.in_(WAITING)
    returns = (
        select(
            MonitoringReturn.agreement_id,
            sum_if(waiting, 1).label("due"),
            sum_if(MonitoringReturn.status.in_(REVIEWABLE), 1).label("submitted"),
            sum_if(MonitoringReturn.status == "accepted", 1).label("accepted"),
            sum_if(overdue_condition(today), 1).label("overdue"),
        )
        .group_by(MonitoringReturn.agreement_id)
        .subquery("returns")
    )
    stmt = (
        select(
            Award.id, Award.amount_pence, Award.approved_at,
            Bid.id.label("bid_id"), Bid.title, Bid.activities, Bid.theme, Bid.location, Bid.updated_at,
            Organisation.id.label("org_id"), Organisation.name.label("org_name"), Organisation.org_identifier,
            Fund.name.label("fund_name"), Fund.funding_source,
            GrantAgreement.id.label("agreement_id"), GrantAgreement.status.label("agreement_status"),
            GrantAgreement.start_date, GrantAgreement.end_date,
            GrantAgreement.amount_pence.label("agreement_pence"), GrantAgreement.final_spent_pence,
            GrantAgreement.released_pence, GrantAgreement.updated_at.label("agreement_updated_at"),
            requested.c.requested, paid.c.paid, paid.c.scheduled,
            repayments.c.asked, repayments.c.received, repayments.c.written_off, repayments.c.outstanding,
            returns.c.due, returns.c.submitted, returns.c.accepted, returns.c.overdue,
        )
        .join(Bid, Award.bid_id == Bid.id)
        .join(Organisation, Award.organisation_id == Organisation.id)
        .join(FundYear, Award.fund_year_id == FundYear.id)
        .join(Fund, FundYear.fund_id == Fund.id)
        .outerjoin(GrantAgreement, GrantAgreement.award_id == Award.id)
        .outerjoin(requested, requested.c.bid_id == Bid.id)
        .outerjoin(paid, paid.c.agreement_id == GrantAgreement.id)
        .outerjoin(repayments, repayments.c.agreement_id == GrantAgreement.id)
        .outerjoin(returns, returns.c.agreement_id == GrantAgreement.id)
        .where(FundYear.year_start == year_start)
        .order_by(Award.approved_at, Award.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    for r in db.session.execute(stmt):
        modified = [t for t in (r.approved_at, r.updated_at, r.agreement_updated_at) if t is not None]
        asked = int(r.asked or 0)
        repaid = int(r.received or 0) if asked else None
        written_off = int(r.written_off or 0) if asked else None
        close_out = None
        if r.released_pence is not None and r.final_spent_pence is not None:
            close_out = CloseOut(r.agreement_pence, int(r.paid or 0), r.final_spent_pence,
                                 asked - (written_off or 0), r.released_pence)
        yield GrantsRegisterRow(
            grant_id=f"{grant_id_prefix}-{bid_reference(r.bid_id)}",
            bid_reference=bid_reference(r.bid_id),
            organisation_id=r.org_id,
            organisation=r.org_name,
            org_identifier=r.org_identifier or None,
            fund=r.fund_name,
            funding_source=FUNDING_SOURCES.get(r.funding_source, r.funding_source),
            title=r.title,
            description=r.activities,
            theme=THEMES.get(r.theme, r.theme),
            location=r.location,
            award_date=london_date(r.approved_at),
            requested_pence=int(r.requested or 0),
            awarded_pence=r.amount_pence,
            agreement_reference=agreement_reference(r.agreement_id),
            agreement_status=AGREEMENT.name(r.agreement_status) or None,
            agreement_start=r.start_date,
            agreement_end=r.end_date,
            paid_pence=int(r.paid or 0),
            scheduled_pence=int(r.scheduled or 0),
            repayment_asked_pence=asked or None,
            repaid_pence=repaid,
            repayment_written_off_pence=written_off,
            repayment_outstanding_pence=int(r.outstanding or 0) if asked else None,
            close_out=close_out,
            returns_due=int(r.due or 0),
            returns_submitted=int(r.submitted or 0),
            returns_accepted=int(r.accepted or 0),
            returns_overdue=int(r.overdue or 0),
            last_modified=max(modified),
        )


# --- Payments -------------------------------------------------------------------------------------------


@dataclass
class PaymentRow:
    payment_reference: str
    agreement_reference: str
    bid_reference: str
    organisation: str
    fund: str
    funding_source: str
    amount_pence: int
    due_on: date
    status: str
    paid_on: date | None
    finance_reference: str
    note: str


def _payment_rows(condition: ColumnElement[bool],
                  order: list[ColumnElement[Any] | InstrumentedAttribute[Any]]) -> Iterator[PaymentRow]:
    stmt = (
        with_grantee_and_fund(select(
            Payment.id, Payment.amount_pence, Payment.due_on, Payment.status, Payment.paid_on,
            Payment.finance_reference, Payment.note, GrantAgreement.id.label("agreement_id"),
            GrantAgreement.bid_id, Organisation.name.label("org_name"), Fund.name.label("fund_name"),
            Fund.funding_source,
        ), Payment.agreement_id)
        .where(condition)
        .order_by(*order)
        .execution_options(yield_per=STREAM_BATCH)
    )
    return (
        PaymentRow(
            payment_reference=payment_reference(r.id),
            agreement_reference=agreement_reference(r.agreement_id) or "",
            bid_reference=bid_reference(r.bid_id),
            organisation=r.org_name,
            fund=r.fund_name,
            funding_source=FUNDING_SOURCES.get(r.funding_source, r.funding_source),
            amount_pence=r.amount_pence,
            due_on=r.due_on,
            status=PAYMENT.name(r.status),
            paid_on=r.paid_on,
            finance_reference=r.finance_reference or "",
            note=r.note or "",
        )
        for r in db.session.execute(stmt)
    )


def payments(period: Period) -> Iterator[PaymentRow]:
    """Every payment, whatever its status, due or paid within the period; in date order (paid date if paid)."""
    condition = or_(
        and_(Payment.due_on >= period.start, Payment.due_on <= period.end),
        and_(Payment.paid_on >= period.start, Payment.paid_on <= period.end),
    )
    return _payment_rows(condition, [func.coalesce(Payment.paid_on, Payment.due_on), Payment.id])


@dataclass
class ReceiptRow:
    """Money a grantee paid back: money in, never added to the payments out."""

    repayment_reference: str
    agreement_reference: str
    bid_reference: str
    organisation: str
    fund: str
    funding_source: str
    amount_pence: int
    received_on: date
    finance_reference: str
    repayment_status: str


def repayment_receipts(period: Period) -> Iterator[ReceiptRow]:
    """Every sum received against a repayment within the period, in date order."""
    stmt = (
        with_grantee_and_fund(select(
            RepaymentReceipt.amount_pence, RepaymentReceipt.received_on, RepaymentReceipt.reference,
            Repayment.id.label("repayment_id"), Repayment.status, GrantAgreement.id.label("agreement_id"),
            GrantAgreement.bid_id, Organisation.name.label("org_name"), Fund.name.label("fund_name"),
            Fund.funding_source,
        ).join(Repayment, RepaymentReceipt.repayment_id == Repayment.id), Repayment.agreement_id)
        .where(RepaymentReceipt.received_on >= period.start, RepaymentReceipt.received_on <= period.end)
        .order_by(RepaymentReceipt.received_on, RepaymentReceipt.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    return (
        ReceiptRow(
            repayment_reference=repayment_reference(r.repayment_id),
            agreement_reference=agreement_reference(r.agreement_id) or "",
            bid_reference=bid_reference(r.bid_id),
            organisation=r.org_name,
            fund=r.fund_name,
            funding_source=FUNDING_SOURCES.get(r.funding_source, r.funding_source),
            amount_pence=r.amount_pence,
            received_on=r.received_on,
            finance_reference=r.reference or "",
            repayment_status=REPAYMENT.name(r.status),
        )
        for r in db.session.execute(stmt)
    )


def export_years(today: date) -> list[int]:
    """Financial years worth offering: every fund-year's, and the current one, newest first."""
    years = set(db.session.scalars(select(FundYear.year_start).distinct()))
    years.add(financial_year_start(today))
    return sorted(years, reverse=True)
