"""The Ministry of Justice and Home Office returns, built from records made through the rules (the demo's
grants: awarded, agreed, paid and monitored with the same rules the pages use), checked figure by figure
against the database, and as workbooks cell by cell."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from exports.government_return import build_government_return, columns_for
from exports.workbook import pounds
from grants.agreements.lifecycle import AGREEMENT
from grants.core.dates import Period, london_date, period_named
from grants.core.extensions import db
from grants.core.models import (
    FUNDING_SOURCES,
    AuditEvent,
    Award,
    Fund,
    FundYear,
    GrantAgreement,
    MonitoringReturn,
    Repayment,
    User,
)
from grants.demo import seed_demo
from grants.finance import government
from grants.finance.government import GOVERNMENT_SOURCES, GovernmentReturnRow, government_return
from grants.monitoring.lifecycle import RETURN
from grants.monitoring.measures import combine
from grants.monitoring.rules import COUNTED
from grants.repayments.rules import Receipt, RepaymentRequest, ask_repayment, record_receipt

TODAY = date(2026, 12, 2)
YEAR = 2026


@pytest.fixture()
def demo(app: Flask) -> None:
    seed_demo(TODAY)
    # Part of a Ministry of Justice grant asked back and part of that received, so the returns have repayments.
    agreement = _grants_of("moj")[0]
    officer = db.session.scalar(select(User).where(User.role == "officer"))
    finance = db.session.scalar(select(User).where(User.role == "finance"))
    repayment, problems = ask_repayment(agreement, officer, RepaymentRequest(1_000_00, "Unspent", None), TODAY)
    assert repayment is not None, problems
    assert record_receipt(repayment, finance, Receipt(400_00, TODAY, "AR-1"), TODAY) == {}
    db.session.commit()


def _grants_of(source: str) -> list[GrantAgreement]:
    return list(db.session.scalars(
        select(GrantAgreement).join(Award, GrantAgreement.award_id == Award.id)
        .join(FundYear, Award.fund_year_id == FundYear.id).join(Fund, FundYear.fund_id == Fund.id)
        .where(Fund.funding_source == source)))


def _expected(agreement: GrantAgreement, period: Period) -> dict[str, object]:
    """Every figure of the grant's row, worked out here from the records one by one."""
    payments = [p for p in agreement.payments if p.status != "cancelled"]
    paid = [p for p in payments if p.status == "paid"]
    year_end = period_named(period.year_start, "FY").end  # type: ignore[union-attr]
    in_period = [r for r in agreement.returns if period.start <= r.period_start <= period.end]
    counted = [r for r in in_period if r.status in COUNTED]
    to_end = [r for r in agreement.returns if r.period_start <= period.end and r.status in COUNTED]
    spend = {kind: sum(s.spent_pence for r in counted for s in r.spend if s.budget_line.kind == kind)
             for kind in ("capital", "revenue")}
    spent_to_end = sum(s.spent_pence for r in to_end for s in r.spend)
    measures = {}
    for measure in agreement.bid.fund_year.fund.measures:
        answers = [v.value for r in sorted(counted, key=lambda r: r.period_start) for v in r.values
                   if v.measure_id == measure.id]
        measures[measure.id] = combine(measure.unit, answers)
    repayments = db.session.scalars(select(Repayment).where(Repayment.agreement_id == agreement.id)).all()
    received = {r.id: sum(x.amount_pence for x in r.receipts if x.received_on <= period.end) for r in repayments}
    written_off = {e.object_id for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "repayment", AuditEvent.action == "repayment.cancelled"))
        if london_date(e.occurred_at) <= period.end}
    return {
        "repaid_to_period_end_pence": sum(received.values()),
        "repayment_outstanding_pence": sum(r.amount_pence - received[r.id] for r in repayments
                                           if london_date(r.created_at) <= period.end and r.id not in written_off),
        "awarded_pence": agreement.amount_pence,
        "paid_in_period_pence": sum(p.amount_pence for p in paid if period.start <= p.paid_on <= period.end),
        "paid_to_period_end_pence": sum(p.amount_pence for p in paid if p.paid_on <= period.end),
        "profile_pence": sum(p.amount_pence for p in payments if period.start <= p.due_on <= period.end),
        "profile_to_period_end_pence": sum(p.amount_pence for p in payments if p.due_on <= period.end),
        "year_profile_pence": sum(p.amount_pence for p in payments
                                  if date(period.year_start, 4, 1) <= p.due_on <= year_end),
        "forecast_to_year_end_pence": spent_to_end + sum(p.amount_pence for p in payments
                                                         if period.end < p.due_on <= year_end),
        "capital_spend_pence": spend["capital"],
        "revenue_spend_pence": spend["revenue"],
        "spend_pence": spend["capital"] + spend["revenue"],
        "spend_to_period_end_pence": spent_to_end,
        "measures": measures,
        "returns": "; ".join(f"{r.period_label}: {RETURN.shown(r, TODAY).name}" for r in in_period),
        "agreement_status": AGREEMENT.name(agreement.status),
    }


@pytest.mark.parametrize(("source", "name"), [(s, n) for s, names in GOVERNMENT_SOURCES.items() for n in names])
def test_every_figure_matches_the_records(demo: None, source: str, name: str) -> None:
    period = period_named(YEAR, name)
    assert period is not None
    data = government_return(source, period, today=TODAY)
    grants = _grants_of(source)
    assert grants, "the demo has grants from this department"
    assert sorted(r.agreement_reference or "" for r in data.rows) == sorted(g.reference for g in grants)
    for agreement in grants:
        row = next(r for r in data.rows if r.agreement_reference == agreement.reference)
        expected = _expected(agreement, period)
        got = {key: getattr(row, key) for key in expected}
        assert got == expected, agreement.reference
        assert row.variance_pence == row.profile_pence - row.spend_pence
    # The department's current measures are the columns; each category total adds the grants' figures up.
    funds = db.session.scalars(select(Fund).where(Fund.funding_source == source)).all()
    assert [m.measure_id for m in data.measures] == [m.id for f in sorted(funds, key=lambda f: f.name)
                                                      for m in f.measures]
    for total in data.category_totals:
        column = next(m for m in data.measures if m.title == total.measure)
        answers = [r.measures[column.measure_id] for r in data.rows if r.measures[column.measure_id] is not None]
        if column.unit == "count":
            assert total.total == (sum(answers) if answers else None)


def test_the_demo_has_full_returns_and_one_due_and_one_overdue(demo: None) -> None:
    shown = [RETURN.shown(r, TODAY).key for r in db.session.scalars(select(MonitoringReturn))]
    assert shown.count("accepted") >= 4 and "overdue" in shown and "due" in shown
    quarter = government_return("home_office", period_named(YEAR, "Q1"), today=TODAY)  # type: ignore[arg-type]
    assert all(r.spend_pence > 0 and r.capital_spend_pence > 0 and r.revenue_spend_pence > 0 for r in quarter.rows)
    assert all(value is not None for r in quarter.rows for value in r.measures.values())
    year = government_return("moj", period_named(YEAR, "FY"), today=TODAY)  # type: ignore[arg-type]
    assert any(t.category == "Support by need" and t.total for t in year.category_totals)
    assert [(r.repayment_outstanding_pence, r.repaid_to_period_end_pence) for r in year.rows
            if r.repayment_outstanding_pence or r.repaid_to_period_end_pence] == [(600_00, 400_00)]


def test_a_past_period_gives_the_same_figures_when_made_again_later(demo: None) -> None:
    q1 = period_named(YEAR, "Q1")
    assert q1 is not None
    first = government_return("home_office", q1, today=TODAY)
    later = government_return("home_office", q1, today=date(2027, 6, 1))
    money = [name for name in GovernmentReturnRow.__dataclass_fields__ if name.endswith("_pence")]
    for a, b in zip(first.rows, later.rows, strict=True):
        assert [getattr(a, n) for n in money] == [getattr(b, n) for n in money]
        assert a.measures == b.measures


@pytest.mark.parametrize(("source", "name"), [("moj", "H1"), ("moj", "FY"), ("home_office", "Q2"),
                                              ("home_office", "FY")])
def test_the_workbook_shows_every_figure_of_the_rows(demo: None, source: str, name: str) -> None:
    period = period_named(YEAR, name)
    assert period is not None
    data = government_return(source, period, today=TODAY)
    out = io.BytesIO()
    count = build_government_return(data, out, source_name=FUNDING_SOURCES[source], period=period,
                                    made_by="Finance Person")
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["Grants", "Measure totals", "About"]
    sheet = list(book["Grants"].iter_rows(values_only=True))
    columns = columns_for(data)
    assert list(sheet[0]) == [c.title for c in columns]
    assert count == len(data.rows) == len(sheet) - 2
    for row, cells in zip(data.rows, sheet[1:-1], strict=True):
        for column, value in zip(columns, cells, strict=True):
            expected = column.get(row)
            if column.kind == "money":
                assert value == pounds(expected), column.title
            elif column.kind == "date":
                assert value.date() == expected, column.title
            elif expected in (None, ""):
                assert value is None, column.title
            else:
                assert value == expected, column.title
    totals = sheet[-1]
    assert totals[0] == "Total"
    for index, column in enumerate(columns):
        if column.total:
            assert totals[index] == pounds(sum(column.get(r) or 0 for r in data.rows)) if column.kind == "money" \
                else totals[index] == sum(column.get(r) or 0 for r in data.rows), column.title


def test_the_streamed_return_is_the_same_read_a_grant_at_a_time(demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The workbook reads the rows in batches; with batches of one grant every figure and total must still agree.
    returns = [(source, period_named(YEAR, name)) for source, names in GOVERNMENT_SOURCES.items() for name in names]
    whole = {(source, period): government_return(source, period, today=TODAY) for source, period in returns if period}
    assert max(len(r.rows) for r in whole.values()) >= 2, "some return has more than one grant, so several batches"
    monkeypatch.setattr(government, "BATCH", 1)
    for (source, period), expected in whole.items():
        streamed = government.streamed_return(source, period, today=TODAY)
        assert list(streamed.rows) == expected.rows, (source, period.name)
        assert list(streamed.category_totals) == expected.category_totals, (source, period.name)
