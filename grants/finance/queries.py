"""What the finance page shows coming up, bounded: the soonest payments due and the funds with the most overdue
returns, each with totals over all of them. Two statements each, however many payments or returns there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select

from grants.agreements.queries import with_grantee_and_fund
from grants.core.extensions import db
from grants.core.models import (
    FUNDING_SOURCES,
    Award,
    Fund,
    FundYear,
    GrantAgreement,
    MonitoringReturn,
    Organisation,
    Payment,
    agreement_reference,
    payment_reference,
    summed,
)
from grants.monitoring.rules import overdue_condition

# Rows each list shows; the rest are counted ("and N more").
SHOWN = 50


@dataclass(frozen=True)
class PaymentDue:
    payment_id: int
    agreement_id: int
    organisation: str
    fund: str
    due_on: date
    amount_pence: int

    @property
    def payment_reference(self) -> str:
        return payment_reference(self.payment_id)

    @property
    def agreement_reference(self) -> str:
        return agreement_reference(self.agreement_id) or ""


@dataclass(frozen=True)
class PaymentsDue:
    shown: list[PaymentDue]
    count: int  # all of them, shown or not
    total_pence: int

    @property
    def more(self) -> int:
        return self.count - len(self.shown)


def payments_due(today: date, days: int, shown: int = SHOWN) -> PaymentsDue:
    """Scheduled (unpaid) payments due within `days` of `today`, and any already past their due date: the `shown`
    soonest due, with the number and total of all of them."""
    due = and_(Payment.status == "scheduled", Payment.due_on <= today + timedelta(days=days))
    count, total = db.session.execute(
        select(func.count(Payment.id), summed(Payment.amount_pence)).where(due)).one()
    rows = db.session.execute(
        with_grantee_and_fund(select(Payment.id, Payment.agreement_id, Payment.due_on, Payment.amount_pence,
                                     Organisation.name.label("organisation"), Fund.name.label("fund")),
                              Payment.agreement_id)
        .where(due)
        .order_by(Payment.due_on, Payment.id)
        .limit(shown)
    )
    return PaymentsDue([PaymentDue(r.id, r.agreement_id, r.organisation, r.fund, r.due_on, r.amount_pence)
                        for r in rows], count, int(total))


@dataclass(frozen=True)
class FundOverdue:
    fund: str
    funding_source: str
    overdue: int


@dataclass(frozen=True)
class OverdueByFund:
    shown: list[FundOverdue]
    funds: int  # every fund with an overdue return, shown or not
    returns: int  # every overdue return

    @property
    def more(self) -> int:
        return self.funds - len(self.shown)


def _overdue(*columns: Any) -> Select[Any]:
    """`columns` of the overdue returns (the caller adds the condition), joined to their fund-years."""
    return (select(*columns).select_from(MonitoringReturn)
            .join(GrantAgreement, MonitoringReturn.agreement_id == GrantAgreement.id)
            .join(Award, GrantAgreement.award_id == Award.id)
            .join(FundYear, Award.fund_year_id == FundYear.id))


def overdue_returns(today: date, shown: int = SHOWN) -> OverdueByFund:
    """Monitoring returns past their due date and not submitted, counted per fund: the first `shown` funds with any,
    by name, with how many funds and returns there are in all. One pass over the overdue returns, grouped by fund;
    funds are few (set up by an administrator), so every fund's count comes back and the totals are their sums."""
    per_fund = (_overdue(FundYear.fund_id, func.count(MonitoringReturn.id).label("overdue"))
                .where(overdue_condition(today)).group_by(FundYear.fund_id).subquery())
    rows = db.session.execute(
        select(Fund.name, Fund.funding_source, per_fund.c.overdue).join(per_fund, per_fund.c.fund_id == Fund.id)
        .order_by(Fund.name, Fund.id)).all()
    return OverdueByFund([FundOverdue(r.name, FUNDING_SOURCES.get(r.funding_source, r.funding_source), r.overdue)
                          for r in rows[:shown]], len(rows), sum(r.overdue for r in rows))
