"""The figures behind the government returns: Ministry of Justice (half-years and the year) and Home Office
(quarters and the year), from records made through the rules.

A grant is in a department's return for a period when its fund is paid for by that department and its
accepted agreement runs during the period and had not ended before the period began, or when it was awarded
in the period and its agreement is not accepted yet. Its figures for the
period come from its monitoring returns whose reporting period lies inside the period and that have been
submitted (submitted, resubmitted or accepted): each measure combined as its unit says (counts and money add
up; a percentage or yes/no is the latest period's), spend by capital and revenue. Payments are counted by
their payment date and the profile by due date, both up to the period's end; repayments by when they were asked
for, received (by date received) and written off; so a past period's figures stay the same when the return is
made again unless that period's own records change.

The rows are read in batches as a workbook writes them, so memory stays flat whatever the number of grants.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, or_, select
from sqlalchemy.sql import Subquery

from grants.agreements.lifecycle import AGREEMENT
from grants.core import dates
from grants.core.dates import Period, financial_year_bounds, london_date, utc_bounds
from grants.core.extensions import db
from grants.core.models import (
    MEASURE_UNITS,
    RAG_RATINGS,
    AuditEvent,
    Award,
    Bid,
    BudgetLine,
    Fund,
    FundYear,
    GrantAgreement,
    MeasureValue,
    MonitoringReturn,
    Organisation,
    OutcomeMeasure,
    Payment,
    Repayment,
    RepaymentReceipt,
    ReturnSpend,
    agreement_reference,
    bid_reference,
    return_period,
    summed,
)
from grants.finance.reports import sum_if
from grants.monitoring.lifecycle import RETURN
from grants.monitoring.measures import combine
from grants.monitoring.rules import COUNTED
from grants.repayments.lifecycle import REPAYMENT

# Which periods each government department asks for: MoJ six-monthly, Home Office quarterly; both the year.
GOVERNMENT_SOURCES = {"moj": ("H1", "H2", "FY"), "home_office": ("Q1", "Q2", "Q3", "Q4", "FY")}
IN_FORCE = ("accepted", "active", "closed", "terminated")


@dataclass(frozen=True)
class MeasureColumn:
    measure_id: int
    title: str
    unit: str
    category: str


@dataclass
class GovernmentReturnRow:
    bid_reference: str
    agreement_reference: str | None
    recipient: str
    fund: str
    purpose: str
    award_date: date
    agreement_start: date | None
    agreement_end: date | None
    agreement_status: str
    awarded_pence: int
    returns: str  # each of the grant's returns for the period, with its status as the pages show it
    grantee_rag: str
    officer_rag: str
    measures: dict[int, int | None]
    spend_pence: int
    capital_spend_pence: int
    revenue_spend_pence: int
    spend_to_period_end_pence: int
    paid_in_period_pence: int
    paid_to_period_end_pence: int
    profile_pence: int  # payments scheduled or made with a due date in the period
    profile_to_period_end_pence: int
    year_profile_pence: int  # payments due in the financial year
    forecast_to_year_end_pence: int  # spend so far plus the profile for the rest of the financial year
    repayment_outstanding_pence: int  # asked for by the period's end and still owed then
    repaid_to_period_end_pence: int

    @property
    def variance_pence(self) -> int:
        """Profile less spend in the period: above zero, less was spent than planned."""
        return self.profile_pence - self.spend_pence

    @property
    def underspend(self) -> bool:
        """Spend to date behind its profile, or the year's forecast short of the year's profile: Home Office
        money does not carry over past 31 March."""
        return (self.spend_to_period_end_pence < self.profile_to_period_end_pence
                or self.forecast_to_year_end_pence < self.year_profile_pence)


@dataclass
class CategoryTotal:
    category: str
    measure: str
    unit: str
    total: int | None
    grants_answering: int


@dataclass
class GovernmentReturn:
    source: str
    period: Period
    measures: list[MeasureColumn]
    rows: list[GovernmentReturnRow]
    category_totals: list[CategoryTotal] = field(default_factory=list)


@dataclass
class StreamedReturn:
    """A return whose rows are read from the database in batches as they are written out; its category totals
    are added up on the way, so they can be read once every row has been (the workbook's second sheet)."""

    source: str
    period: Period
    measures: list[MeasureColumn]
    rows: Iterator[GovernmentReturnRow]
    category_totals: Iterable[CategoryTotal]


def government_return(funding_source: str, period: Period, *, today: date | None = None) -> GovernmentReturn:
    """The whole return in memory: for pages and checks. The workbook streams it (streamed_return)."""
    streamed = streamed_return(funding_source, period, today=today)
    rows = list(streamed.rows)
    return GovernmentReturn(funding_source, period, streamed.measures, rows, list(streamed.category_totals))


BATCH = 500  # grants whose returns, answers and spend are read together


def streamed_return(funding_source: str, period: Period, *, today: date | None = None) -> StreamedReturn:
    """The return for `funding_source` and `period`, its rows read as they are used: memory stays flat however
    many grants there are. Four statements for every BATCH grants, and three more."""
    today = today or dates.today()
    first, after = utc_bounds(period.start, period.end)
    year_start, year_end = financial_year_bounds(period.year_start)
    live = and_(
        Fund.funding_source == funding_source,
        GrantAgreement.status.in_(IN_FORCE),
        GrantAgreement.start_date <= period.end,
        GrantAgreement.end_date >= period.start,
        or_(GrantAgreement.ended_at.is_(None), GrantAgreement.ended_at >= first),
    )
    awarded_not_accepted = and_(
        Fund.funding_source == funding_source,
        or_(GrantAgreement.id.is_(None), GrantAgreement.status.not_in(IN_FORCE)),
        Award.approved_at >= first, Award.approved_at < after,
    )
    money = (
        select(
            Payment.agreement_id,
            sum_if(and_(Payment.status == "paid", Payment.paid_on >= period.start, Payment.paid_on <= period.end),
                    Payment.amount_pence).label("paid_in"),
            sum_if(and_(Payment.status == "paid", Payment.paid_on <= period.end), Payment.amount_pence).label("paid_to"),
            sum_if(and_(Payment.status != "cancelled", Payment.due_on >= period.start, Payment.due_on <= period.end),
                    Payment.amount_pence).label("profile"),
            sum_if(and_(Payment.status != "cancelled", Payment.due_on <= period.end),
                    Payment.amount_pence).label("profile_to"),
            sum_if(and_(Payment.status != "cancelled", Payment.due_on >= year_start, Payment.due_on <= year_end),
                    Payment.amount_pence).label("year_profile"),
            sum_if(and_(Payment.status != "cancelled", Payment.due_on > period.end, Payment.due_on <= year_end),
                    Payment.amount_pence).label("profile_after"),
        )
        .group_by(Payment.agreement_id)
    )
    repayments = _repayments_at(period, after)
    grants = (
        select(
            GrantAgreement.id, Award.bid_id, GrantAgreement.status, GrantAgreement.start_date,
            GrantAgreement.end_date, Award.amount_pence, repayments.c.outstanding, repayments.c.repaid,
            Award.approved_at, Bid.title, Organisation.name.label("org_name"), Fund.name.label("fund_name"),
            case((live, 1), else_=0).label("live"),
        )
        .select_from(Award)
        .join(Bid, Award.bid_id == Bid.id)
        .join(Organisation, Award.organisation_id == Organisation.id)
        .join(FundYear, Award.fund_year_id == FundYear.id)
        .join(Fund, FundYear.fund_id == Fund.id)
        .outerjoin(GrantAgreement, GrantAgreement.award_id == Award.id)
        .outerjoin(repayments, repayments.c.agreement_id == GrantAgreement.id)
        .where(or_(live, awarded_not_accepted))
        .order_by(Organisation.name, Award.approved_at, Award.id)
    )
    of_live_grant = MonitoringReturn.agreement_id.in_(
        select(GrantAgreement.id).join(Award, GrantAgreement.award_id == Award.id)
        .join(FundYear, Award.fund_year_id == FundYear.id).join(Fund, FundYear.fund_id == Fund.id).where(live))
    in_period = (MonitoringReturn.period_start >= period.start, MonitoringReturn.period_start <= period.end)
    counted = MonitoringReturn.status.in_(COUNTED)
    # The columns come first, so the measures answered by any grant are found before its rows are read.
    answered = set(db.session.scalars(
        select(MeasureValue.measure_id).join(MonitoringReturn, MeasureValue.return_id == MonitoringReturn.id)
        .where(of_live_grant, *in_period, counted).distinct()))
    measures = _measure_columns(funding_source, answered)
    totals = _Totals(measures)

    # Each spend line's kind by its budget line's key, not by a join, for which PostgreSQL read every budget line.
    line_kind = select(BudgetLine.kind).where(BudgetLine.id == ReturnSpend.budget_line_id).scalar_subquery()

    def rows() -> Iterator[GovernmentReturnRow]:
        result = db.session.execute(grants.execution_options(yield_per=BATCH))
        for batch in result.partitions():
            # A live grant's returns up to the period's end, by the grants' ids; then the answers and spend of those
            # that count, by the returns' ids. Each is an index lookup; a status condition in SQL let SQLite pick
            # the status index and read every submitted return instead.
            returns: dict[int, list[_ReturnSeen]] = defaultdict(list)
            counted_to_end: dict[int, _ReturnSeen] = {}  # by return id, earliest period first
            for ret in _rows_of(
                select(MonitoringReturn.id, MonitoringReturn.agreement_id, MonitoringReturn.period_start,
                       MonitoringReturn.period_name, MonitoringReturn.status, MonitoringReturn.due_on,
                       MonitoringReturn.rag, MonitoringReturn.officer_rag)
                .where(MonitoringReturn.period_start <= period.end)
                .order_by(MonitoringReturn.period_start, MonitoringReturn.id),
                MonitoringReturn.agreement_id, [g.id for g in batch if g.live],
            ):
                seen = _ReturnSeen(*ret[1:])
                if seen.period_start >= period.start:
                    returns[seen.agreement_id].append(seen)
                if seen.status in COUNTED:
                    counted_to_end[ret.id] = seen
            in_period_ids = [i for i, seen in counted_to_end.items() if seen.period_start >= period.start]
            answers: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for return_id, measure_id, value in _rows_of(
                    select(MeasureValue.return_id, MeasureValue.measure_id, MeasureValue.value),
                    MeasureValue.return_id, in_period_ids):
                answers[return_id].append((measure_id, value))
            values: dict[tuple[int, int], list[int]] = defaultdict(list)  # in period order, for combine()
            for return_id in in_period_ids:
                for measure_id, value in answers.get(return_id, []):
                    values[(counted_to_end[return_id].agreement_id, measure_id)].append(value)
            spend: dict[int, dict[str, int]] = defaultdict(lambda: {"capital": 0, "revenue": 0, "to_end": 0})
            for return_id, kind, spent in _rows_of(
                    select(ReturnSpend.return_id, line_kind, ReturnSpend.spent_pence),
                    ReturnSpend.return_id, list(counted_to_end)):
                seen = counted_to_end[return_id]
                spend[seen.agreement_id]["to_end"] += spent
                if seen.period_start >= period.start:
                    spend[seen.agreement_id][kind] += spent
            # Payments summed for the batch's grants only: summing every payment in one subquery first cost more
            # than all the rest on SQLite.
            paid = {m.agreement_id: m for m in _rows_of(money, Payment.agreement_id,
                                                         [g.id for g in batch if g.id is not None])}
            for g in batch:
                row = _row(g, paid.get(g.id), returns.get(g.id, []), values, spend.get(g.id), measures, today)
                totals.add(row)
                yield row

    return StreamedReturn(funding_source, period, measures, rows(), totals)


def _rows_of(query: Select[*tuple[Any, ...]], column: Any, ids: list[int]) -> Iterable[Any]:
    """`query`'s rows whose `column` is one of `ids`, which are written into the statement as numbers: as one
    parameter each, a batch's 500 cost the driver more to parse than the database to answer."""
    if not ids:
        return []
    return db.session.execute(query.where(column.in_(bindparam("ids", ids, expanding=True, literal_execute=True))))


def _pence(money: Any, name: str) -> int:
    """A sum from a grant's payment figures, 0 when it has no payments."""
    return int(getattr(money, name) or 0) if money is not None else 0


@dataclass(frozen=True)
class _ReturnSeen:
    """What a row says of one of its grant's returns."""

    agreement_id: int
    period_start: date
    period_name: str
    status: str
    due_on: date
    rag: str | None
    officer_rag: str | None

    @property
    def period_label(self) -> str:
        return return_period(self.period_start, self.period_name).label


def _row(g: Any, money: Any, own: list[_ReturnSeen], values: dict[tuple[int, int], list[int]],
         spent: dict[str, int] | None, measures: list[MeasureColumn], today: date) -> GovernmentReturnRow:
    sent = [r for r in own if r.status in COUNTED]
    latest = sent[-1] if sent else None
    spent = spent or {"capital": 0, "revenue": 0, "to_end": 0}
    return GovernmentReturnRow(
        bid_reference=bid_reference(g.bid_id), agreement_reference=agreement_reference(g.id),
        recipient=g.org_name,
        fund=g.fund_name, purpose=g.title, award_date=london_date(g.approved_at), agreement_start=g.start_date,
        agreement_end=g.end_date, agreement_status=AGREEMENT.name(g.status) or "No agreement yet",
        awarded_pence=g.amount_pence,
        returns="; ".join(f"{r.period_label}: {RETURN.shown(r, today).name}" for r in own),
        grantee_rag=RAG_RATINGS.get(latest.rag or "", "") if latest else "",
        officer_rag=RAG_RATINGS.get(latest.officer_rag or "", "") if latest else "",
        measures={m.measure_id: combine(m.unit, values.get((g.id, m.measure_id), [])) for m in measures},
        spend_pence=spent["capital"] + spent["revenue"], capital_spend_pence=spent["capital"],
        revenue_spend_pence=spent["revenue"], spend_to_period_end_pence=spent["to_end"],
        paid_in_period_pence=_pence(money, "paid_in"), paid_to_period_end_pence=_pence(money, "paid_to"),
        profile_pence=_pence(money, "profile"), profile_to_period_end_pence=_pence(money, "profile_to"),
        year_profile_pence=_pence(money, "year_profile"),
        forecast_to_year_end_pence=spent["to_end"] + _pence(money, "profile_after"),
        repayment_outstanding_pence=int(g.outstanding or 0), repaid_to_period_end_pence=int(g.repaid or 0),
    )


def _repayments_at(period: Period, after: datetime) -> Subquery:
    """Each agreement's repayments as they stood at the period's end (`after` is the instant just after it):
    received by then, and what was still owed then on those asked for by then and not yet written off."""
    received = (
        select(RepaymentReceipt.repayment_id, summed(RepaymentReceipt.amount_pence).label("received"))
        .where(RepaymentReceipt.received_on <= period.end)
        .group_by(RepaymentReceipt.repayment_id)
        .subquery("received")
    )
    written_off = (
        select(AuditEvent.object_id.label("repayment_id"), func.min(AuditEvent.occurred_at).label("at"))
        .where(AuditEvent.object_type == REPAYMENT.record,
               AuditEvent.action == REPAYMENT.event_name(REPAYMENT.action("write_off")))
        .group_by(AuditEvent.object_id)
        .subquery("written_off")
    )
    received_by_end = func.coalesce(received.c.received, 0)
    owed_then = and_(Repayment.created_at < after, or_(written_off.c.at.is_(None), written_off.c.at >= after))
    return (
        select(Repayment.agreement_id, summed(received_by_end).label("repaid"),
               sum_if(owed_then, Repayment.amount_pence - received_by_end).label("outstanding"))
        .outerjoin(received, received.c.repayment_id == Repayment.id)
        .outerjoin(written_off, written_off.c.repayment_id == Repayment.id)
        .group_by(Repayment.agreement_id)
        .subquery("repayments")
    )


def _measure_columns(funding_source: str, answered: set[int]) -> list[MeasureColumn]:
    """The department's funds' current measures, and retired ones answered in the period."""
    found = db.session.execute(
        select(OutcomeMeasure, Fund.name)
        .join(Fund, OutcomeMeasure.fund_id == Fund.id)
        .where(Fund.funding_source == funding_source,
               or_(OutcomeMeasure.retired_at.is_(None), OutcomeMeasure.id.in_(answered or {0})))
        .order_by(Fund.name, OutcomeMeasure.position, OutcomeMeasure.id)
    ).all()
    names = [m.name for m, _fund in found]
    return [MeasureColumn(m.id, m.name if names.count(m.name) == 1 else f"{m.name} ({fund})", m.unit, m.category)
            for m, fund in found]


class _Totals:
    """Each measure across every grant, added up row by row: counts and money summed, a percentage averaged over
    the grants that answered it, a yes/no counted as the grants answering yes. Read once every row is."""

    def __init__(self, measures: list[MeasureColumn]) -> None:
        self.measures = sorted(measures, key=lambda m: (m.category or "~", m.title))
        self.sums = {m.measure_id: 0 for m in measures}
        self.answering = {m.measure_id: 0 for m in measures}

    def add(self, row: GovernmentReturnRow) -> None:
        for measure_id, answer in row.measures.items():
            if answer is not None and measure_id in self.sums:
                self.sums[measure_id] += answer
                self.answering[measure_id] += 1

    def __iter__(self) -> Iterator[CategoryTotal]:
        for m in self.measures:
            count, added = self.answering[m.measure_id], self.sums[m.measure_id]
            total = None if not count else added if m.unit in ("count", "money", "yes_no") else round(added / count)
            yield CategoryTotal(m.category or "Other", m.title, MEASURE_UNITS[m.unit], total, count)
