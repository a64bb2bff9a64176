"""The finance exports: the queries behind them, and the workbooks the builders write.

Records are made directly with the models (awards, agreements, payments, returns) so each test controls the
exact dates and amounts at the edges of a period.
"""

from __future__ import annotations

import gc
import io
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from exports.government_return import build_government_return
from exports.grants_register import build_grants_register
from exports.payments import build_payments
from exports.threesixty_giving import Publisher, build_360giving
from exports.workbook import MONEY_FORMAT, cell_text, needs_quote_prefix
from grants.core.dates import financial_year_bounds, period_named, whole_year
from grants.core.extensions import db
from grants.core.models import (
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
    ReturnSpend,
)
from grants.finance import reports
from grants.finance.government import government_return
from grants.public.queries import GrantFilters, iter_published
from tests.conftest import World

YEAR = 2025  # a fixed past financial year, 2025-26, so the period edges below never move
PREFIX = "360G-opcccambs"
MADE_AT = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)  # 10:30 in London (BST)
HOSTILE_NAMES = ['=HYPERLINK("http://evil.example","Click")', "+SUM(1,2)", "-2+3", "@SUM(A1)"]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@dataclass
class Grants:
    """The records the tests look at, by name."""

    world: World
    funds: dict[str, Fund] = field(default_factory=dict)
    years: dict[str, FundYear] = field(default_factory=dict)
    orgs: dict[str, Organisation] = field(default_factory=dict)
    awards: dict[str, Award] = field(default_factory=dict)
    agreements: dict[str, GrantAgreement] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)

    def fund_year(self, key: str, fund: Fund, year: int = YEAR) -> FundYear:
        opens, closes = financial_year_bounds(year)
        fy = FundYear(fund_id=fund.id, year_start=year, budget_pence=1_000_000_00, per_bid_cap_pence=500_000_00,
                      delegation_limit_pence=2_500_00, opens_on=opens, closes_on=closes)
        db.session.add(fy)
        db.session.flush()
        self.years[key] = fy
        return fy

    def award(self, key: str, org: Organisation, fund_year: FundYear, *, amount: int, approved_at: datetime,
              title: str = "", requested: tuple[int, ...] | None = None, activities: str = "Marking events") -> Award:
        bid = Bid(organisation_id=org.id, fund_year_id=fund_year.id, created_by_id=self.world.user("applicant").id,
                  status="approved", title=title or f"Project {key}", activities=activities, theme="bike_theft",
                  location="Wisbech", start_date=date(YEAR, 5, 1), end_date=date(YEAR + 1, 3, 31), declaration=True,
                  submitted_at=approved_at, decided_at=approved_at)
        db.session.add(bid)
        db.session.flush()
        for position, pence in enumerate(requested or (amount,)):
            db.session.add(BudgetLine(bid_id=bid.id, position=position, item=f"Item {position}", amount_pence=pence))
        award = Award(bid_id=bid.id, fund_year_id=fund_year.id, organisation_id=org.id, amount_pence=amount,
                      reasons="Fewer thefts", public_summary=bid.title, approved_by_id=self.world.user("approver").id, approved_at=approved_at)
        db.session.add(award)
        db.session.flush()
        self.awards[key] = award
        return award

    def agreement(self, key: str, award: Award, *, status: str, start: date, end: date,
                  repayment_pence: int | None = None) -> GrantAgreement:
        agreement = GrantAgreement(
            award_id=award.id, bid=award.bid, organisation_id=award.organisation_id, status=status,
            amount_pence=award.amount_pence, start_date=start, end_date=end, standard_conditions="Standard",
            prepared_by_id=self.world.user("officer").id)
        db.session.add(agreement)
        db.session.flush()
        if repayment_pence:
            db.session.add(Repayment(agreement_id=agreement.id, amount_pence=repayment_pence, reason="Unspent grant",
                                     due_on=end, created_by_id=self.world.user("officer").id))
        self.agreements[key] = agreement
        return agreement

    def payment(self, key: str, agreement: GrantAgreement, amount: int, due_on: date, *, status: str = "scheduled",
                paid_on: date | None = None, finance_reference: str = "", note: str = "") -> Payment:
        payment = Payment(agreement_id=agreement.id, amount_pence=amount, due_on=due_on, status=status,
                          paid_on=paid_on, finance_reference=finance_reference, note=note,
                          created_by_id=self.world.user("finance").id)
        db.session.add(payment)
        if status != "cancelled":
            agreement.scheduled_pence += amount  # as grants.payments keeps it: scheduled plus paid
        db.session.flush()
        self.payments[key] = payment
        return payment

    def monitoring_return(self, agreement: GrantAgreement, period_name: str, *, status: str, due_on: date,
                          **answers: Any) -> MonitoringReturn:
        period = period_named(YEAR, period_name)
        assert period is not None
        ret = MonitoringReturn(agreement_id=agreement.id, period_name=period_name, period_start=period.start,
                               period_end=period.end, due_on=due_on, status=status, **answers)
        db.session.add(ret)
        db.session.flush()
        return ret


@pytest.fixture()
def grants(world: World) -> Grants:
    return make_grants(world)


def make_grants(world: World) -> Grants:
    """Awards from three funds (OPCC, Ministry of Justice, Home Office) in 2025-26, at the edges of its periods."""
    g = Grants(world)
    world.csp.org_identifier = "GB-LAE-FEN"
    g.orgs = {"fenland": world.csp, "hunts": world.other_csp}
    for index, name in enumerate(HOSTILE_NAMES):
        g.orgs[f"hostile{index}"] = Organisation(name=name, org_type="other")
        db.session.add(g.orgs[f"hostile{index}"])
    moj = Fund(name="Victims' Services Fund", funding_source="moj")
    home_office = Fund(name="Safer Streets Fund", funding_source="home_office")
    db.session.add_all([moj, home_office])
    db.session.flush()
    g.funds = {"scf": world.scf, "moj": moj, "ho": home_office}
    # The world's Safer Communities Fund years depend on today's date; use its YEAR one if it has one.
    existing = {fy.year_start: fy for fy in (world.scf_year, world.closed_year)}
    scf = existing.get(YEAR) or g.fund_year("scf", world.scf)
    other_year = next(fy for year, fy in existing.items() if year != YEAR)
    moj_year = g.fund_year("moj", moj)
    ho_year = g.fund_year("ho", home_office)

    # OPCC: an active grant with payments either side of a quarter end, a repayment, and returns.
    bikes = g.award("bikes", world.csp, scf, amount=4_000_00, approved_at=utc(2025, 5, 20, 10), title="Cycle marking",
                    requested=(3_000_00, 1_500_50))
    ga = g.agreement("bikes", bikes, status="active", start=date(2025, 6, 1), end=date(2026, 3, 31),
                     repayment_pence=250_00)
    g.payment("bikes_paid", ga, 1_000_00, date(2025, 6, 15), status="paid", paid_on=date(2025, 7, 1),
              finance_reference="=cmd|' /C calc'!A0")
    g.payment("bikes_due", ga, 2_000_00, date(2025, 9, 30))
    g.payment("bikes_cancelled", ga, 500_00, date(2025, 12, 31), status="cancelled")
    g.monitoring_return(ga, "H1", status="accepted", due_on=date(2025, 10, 31), progress="200 bikes marked")
    g.monitoring_return(ga, "H2", status="returned", due_on=date(2026, 5, 1))
    # Hostile organisation names and titles, no org identifier, no agreement yet.
    for index, name in enumerate(HOSTILE_NAMES):
        g.award(f"hostile{index}", g.orgs[f"hostile{index}"], scf, amount=100_00 + index,
                approved_at=utc(2025, 6, 1, 12, index), title=name, activities="\x01\x1f" + name + "\x0b")
    # A different year's award never appears in the 2025-26 register.
    g.award("other_year", world.other_csp, other_year, amount=99_00, approved_at=utc(2024, 5, 1, 9))

    # Ministry of Justice: an H1 outcome return, and a grant whose agreement ends before H2.
    victims = g.award("victims", world.other_csp, moj_year, amount=12_000_00, approved_at=utc(2025, 4, 10, 9),
                      title="Victim support worker")
    ga = g.agreement("victims", victims, status="active", start=date(2025, 4, 15), end=date(2026, 3, 31))
    g.payment("victims_h1", ga, 6_000_00, date(2025, 4, 30), status="paid", paid_on=date(2025, 4, 30))
    g.payment("victims_h2", ga, 6_000_00, date(2025, 10, 1), status="paid", paid_on=date(2025, 10, 1))
    supported = OutcomeMeasure(fund_id=moj.id, name="=Victims supported", unit="count", category="Support")
    coping = OutcomeMeasure(fund_id=moj.id, name="Better able to cope", unit="percentage", category="Outcomes")
    db.session.add_all([supported, coping])
    db.session.flush()
    ret = g.monitoring_return(ga, "H1", status="submitted", due_on=date(2025, 10, 31), rag="amber",
                              submitted_at=utc(2025, 10, 20, 14))
    line = victims.bid.budget_lines[0]
    line.kind = "revenue"
    db.session.add_all([MeasureValue(return_id=ret.id, measure_id=supported.id, value=120),
                        MeasureValue(return_id=ret.id, measure_id=coping.id, value=64),
                        ReturnSpend(return_id=ret.id, budget_line_id=line.id, spent_pence=5_500_00)])
    short = g.award("short", world.csp, moj_year, amount=1_000_00, approved_at=utc(2025, 4, 2, 9), title="Short")
    g.agreement("short", short, status="closed", start=date(2025, 4, 5), end=date(2025, 9, 30))

    # Home Office, around Q2 (1 July to 30 September 2025).
    edge = g.award("edge", world.csp, ho_year, amount=20_000_00, approved_at=utc(2025, 5, 1, 9), title="Street lights")
    ga = g.agreement("edge", edge, status="active", start=date(2025, 5, 1), end=date(2025, 7, 1))
    g.payment("q1_last_day", ga, 3_000_00, date(2025, 6, 30), status="paid", paid_on=date(2025, 6, 30))
    g.payment("q2_first_day", ga, 4_000_00, date(2025, 7, 1), status="paid", paid_on=date(2025, 7, 1))
    g.payment("q2_last_day", ga, 5_000_00, date(2025, 9, 30), status="paid", paid_on=date(2025, 9, 30))
    g.payment("q3_first_day", ga, 6_000_00, date(2025, 10, 1), status="paid", paid_on=date(2025, 10, 1))
    later = g.award("later", world.other_csp, ho_year, amount=7_000_00, approved_at=utc(2025, 5, 2, 9),
                    title="Later project")
    g.agreement("later", later, status="active", start=date(2025, 10, 1), end=date(2026, 3, 31))
    not_accepted = g.award("not_accepted", world.other_csp, ho_year, amount=3_000_00, approved_at=utc(2025, 5, 3, 9),
                           title="Agreement never accepted")
    g.agreement("not_accepted", not_accepted, status="issued", start=date(2025, 7, 1), end=date(2025, 12, 31))
    # 23:30 UTC on 30 June is 00:30 on 1 July in London: awarded in Q2. The same on 30 September is in Q3.
    g.award("midnight_in", world.csp, ho_year, amount=800_00, approved_at=utc(2025, 6, 30, 23, 30), title="Q2 award")
    g.award("midnight_out", world.csp, ho_year, amount=900_00, approved_at=utc(2025, 9, 30, 23, 30), title="Q3 award")
    db.session.commit()
    return g


# --- helpers to read what was written -------------------------------------------------------------------


def open_book(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


def table(ws: Worksheet) -> list[dict[str, Any]]:
    """Rows of a data sheet as dicts keyed by the header."""
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def data_rows(ws: Worksheet) -> list[dict[str, Any]]:
    """The data rows of a sheet, without its totals row."""
    return [row for row in table(ws) if next(iter(row.values())) != "Total"]


def column_cells(ws: Worksheet, title: str) -> list[Any]:
    header = [c.value for c in ws[1]]
    index = header.index(title) + 1
    return [ws.cell(row=r, column=index) for r in range(2, ws.max_row + 1)]


def about(book: Any) -> dict[str, Any]:
    return {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}


def sheet_xml(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name).decode() for name in z.namelist() if name.startswith("xl/worksheets/")}


def register_bytes(today: date = date(2026, 6, 1)) -> bytes:
    out = io.BytesIO()
    rows = reports.grants_register(YEAR, PREFIX, today=today)
    build_grants_register(rows, out, period=whole_year(YEAR), made_by="Finance Person (finance@opcc.example)",
                          made_at=MADE_AT)
    return out.getvalue()


def assert_well_formed(data: bytes, sheet: str, money_columns: list[str], date_columns: list[str]) -> Any:
    """The checks every workbook must pass: typed cells, bold frozen header, autofilter, no formulas."""
    book = open_book(data)
    ws = book[sheet]
    assert book.sheetnames[0] == sheet and "About" in book.sheetnames
    assert ws.freeze_panes == "A2"
    assert all(c.font.b for c in ws[1]), "header row is bold"
    # The filter covers the header and the data rows; a totals row stays out of it.
    last = ws.max_row - (1 if ws.cell(row=ws.max_row, column=1).value == "Total" else 0)
    assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=ws.max_column).column_letter}{last}"
    for title in money_columns:
        for c in column_cells(ws, title):
            if c.value is not None:
                assert isinstance(c.value, int | float) and c.number_format == MONEY_FORMAT, (title, c.value)
    for title in date_columns:
        for c in column_cells(ws, title):
            if c.value is not None:
                assert c.is_date and isinstance(c.value, datetime), (title, c.value)
                assert c.number_format == "dd/mm/yyyy"
    assert all(ws.column_dimensions[c.column_letter].width >= 10 for c in ws[1])
    for name, xml in sheet_xml(data).items():
        assert "<f>" not in xml and "<f " not in xml, f"formula in {name}"
    return book


# --- safe text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "written", "quoted"), [
    ("=1+1", "=1+1", True), ("+44 1234", "+44 1234", True), ("-5 bikes", "-5 bikes", True),
    ("@SUM(A1)", "@SUM(A1)", True), ("\tTabbed", "\tTabbed", True), ("\rReturn", "\rReturn", True),
    ("Bell\x07 and\x00 nul", "Bell and nul", False), ("\x0b\x0c=x", "=x", True), ("Plain text", "Plain text", False),
    ("line\nbreak", "line\nbreak", False), ("#N/A", "#N/A", True), ("x\ufffe\uffff\ud800y", "xy", False),
])
def test_user_text_keeps_its_value_and_is_marked_as_text(raw: str, written: str, quoted: bool) -> None:
    """The value is exactly as typed, less what XML forbids; a would-be formula gets the quote-prefix style."""
    assert cell_text(raw) == written
    assert needs_quote_prefix(written) is quoted


def test_builders_do_not_import_flask() -> None:
    code = ("import sys, exports.grants_register, exports.government_return, exports.payments, "
            "exports.threesixty_giving; assert 'flask' not in sys.modules, 'flask imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)


# --- grants register ------------------------------------------------------------------------------------


def test_grants_register_rows(grants: Grants) -> None:
    rows = {r.bid_reference: r for r in reports.grants_register(YEAR, PREFIX, today=date(2026, 6, 1))}
    bikes = rows[grants.awards["bikes"].bid.reference]
    assert bikes.grant_id == f"{PREFIX}-{grants.awards['bikes'].bid.reference}"
    assert (bikes.organisation, bikes.org_identifier, bikes.fund, bikes.funding_source) == (
        "Fenland CSP", "GB-LAE-FEN", "Safer Communities Fund", "OPCC")
    assert (bikes.theme, bikes.location, bikes.award_date) == ("Bike theft", "Wisbech", date(2025, 5, 20))
    assert (bikes.requested_pence, bikes.awarded_pence) == (4_500_50, 4_000_00)
    agreement = grants.agreements["bikes"]
    assert (bikes.agreement_reference, bikes.agreement_status) == (agreement.reference, "Active")
    assert (bikes.agreement_start, bikes.agreement_end) == (date(2025, 6, 1), date(2026, 3, 31))
    assert (bikes.paid_pence, bikes.scheduled_pence) == (1_000_00, 2_000_00)
    assert (bikes.repayment_asked_pence, bikes.repaid_pence, bikes.repayment_written_off_pence,
            bikes.repayment_outstanding_pence, bikes.close_out) == (250_00, 0, 0, 250_00, None)
    # H1 accepted; H2 returned for changes and, on 1 June 2026, past its 1 May due date.
    assert (bikes.returns_due, bikes.returns_submitted, bikes.returns_accepted, bikes.returns_overdue) == (1, 0, 1, 1)
    victims = rows[grants.awards["victims"].bid.reference]
    assert (victims.returns_due, victims.returns_submitted, victims.returns_overdue) == (0, 1, 0)
    assert (victims.paid_pence, victims.scheduled_pence) == (12_000_00, 0)
    no_agreement = rows[grants.awards["midnight_in"].bid.reference]
    assert no_agreement.agreement_reference is None and no_agreement.paid_pence == 0
    assert no_agreement.award_date == date(2025, 7, 1)  # London date of 23:30 UTC on 30 June
    assert grants.awards["other_year"].bid.reference not in rows
    assert len(rows) == len(grants.awards) - 1


def test_overdue_depends_on_today(grants: Grants) -> None:
    before = {r.bid_reference: r for r in reports.grants_register(YEAR, PREFIX, today=date(2026, 5, 1))}
    assert before[grants.awards["bikes"].bid.reference].returns_overdue == 0  # due that day, not yet overdue


def test_grants_register_workbook(grants: Grants) -> None:
    data = register_bytes()
    book = assert_well_formed(
        data, "Grants",
        ["Amount requested", "Amount awarded", "Paid to date", "Scheduled, not yet paid", "Repayment asked for",
         "Repaid", "Repayment written off", "Repayment outstanding", "Close-out: reported spend",
         "Close-out: underspend", "Close-out: released to budget"],
        ["Award date", "Agreement start", "Agreement end"])
    rows = table(book["Grants"])
    assert len(rows) == len(grants.awards) - 1
    bikes = next(r for r in rows if r["Bid reference"] == grants.awards["bikes"].bid.reference)
    assert bikes["Amount requested"] == pytest.approx(4500.50)
    assert bikes["Amount awarded"] == 4000 and bikes["Repayment asked for"] == 250
    assert (bikes["Repaid"], bikes["Repayment outstanding"], bikes["Close-out: released to budget"]) == (0, 250, None)
    assert bikes["Award date"] == datetime(2025, 5, 20)
    assert bikes["Returns overdue"] == 1 and isinstance(bikes["Returns overdue"], int)
    # Hostile names and titles arrive as text, exactly as typed, never as formulas, quote-prefixed.
    for name in HOSTILE_NAMES:
        assert any(r["Organisation"] == name and r["Title"] == name for r in rows)
    for title in ("Organisation", "Title"):
        hostile = [c for c in column_cells(book["Grants"], title) if c.value in HOSTILE_NAMES]
        assert len(hostile) == len(HOSTILE_NAMES)
        assert all(c.data_type == "s" and c.quotePrefix for c in hostile)
    info = about(book)
    assert info["Grants register 2025-26"] is None
    assert info["Period"] == "2025-26"
    assert (info["Period starts"], info["Period ends"]) == (datetime(2025, 4, 1), datetime(2026, 3, 31))
    assert info["Made on (UK time)"] == datetime(2026, 7, 1, 10, 30)
    assert info["Made by"] == "Finance Person (finance@opcc.example)"
    assert info["Rows of data"] == len(rows)
    assert "Every grant awarded" in info["What this file is"]
    made = next(c for c in book["About"]["B"] if c.value == datetime(2026, 7, 1, 10, 30))
    assert made.is_date


def test_an_empty_year_still_makes_a_workbook(grants: Grants) -> None:
    out = io.BytesIO()
    count = build_grants_register(reports.grants_register(2010, PREFIX), out, period=whole_year(2010),
                                  made_by="=cmd", made_at=MADE_AT)
    assert count == 0
    book = open_book(out.getvalue())
    assert book["Grants"].auto_filter.ref == "A1:AC1"
    assert about(book)["Rows of data"] == 0 and about(book)["Made by"] == "=cmd"
    made_by = next(c for c in book["About"]["B"] if c.value == "=cmd")
    assert made_by.data_type == "s" and made_by.quotePrefix


def test_register_writes_to_a_path(grants: Grants, tmp_path: Path) -> None:
    target = tmp_path / "register.xlsx"
    count = build_grants_register(reports.grants_register(YEAR, PREFIX), target, period=whole_year(YEAR),
                                  made_by="Someone", made_at=MADE_AT)
    assert count == len(table(load_workbook(target)["Grants"]))


def test_register_query_count_does_not_grow_with_grants(grants: Grants, app: Any) -> None:
    """No query per grant: the register is one statement however many awards there are."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows = list(reports.grants_register(YEAR, PREFIX))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(rows) > 5 and len(statements) == 1


# --- government return ----------------------------------------------------------------------------------


def test_home_office_quarter_filters_grants_and_payments(grants: Grants) -> None:
    q2 = period_named(YEAR, "Q2")
    rows = {r.bid_reference: r for r in government_return("home_office", q2, today=date(2026, 1, 1)).rows}
    ref = {key: award.bid.reference for key, award in grants.awards.items()}
    # In: the agreement ending on Q2's first day, and the award made at 00:30 on 1 July, London time.
    # Out: an agreement starting after Q2, an issued (never accepted) agreement, an award on 1 October in London,
    # and every grant from other funding sources.
    assert set(rows) == {ref["edge"], ref["midnight_in"]}
    edge = rows[ref["edge"]]
    # Paid on 30 June and 1 October are outside Q2; 1 July and 30 September inside; to the period's end, not today.
    assert edge.paid_in_period_pence == 4_000_00 + 5_000_00
    assert edge.paid_to_period_end_pence == 12_000_00
    # The profile is the payment schedule by due date: 1 July and 30 September in Q2, 30 June before it.
    assert (edge.profile_pence, edge.profile_to_period_end_pence) == (9_000_00, 12_000_00)
    assert (edge.year_profile_pence, edge.forecast_to_year_end_pence) == (18_000_00, 6_000_00)
    assert edge.returns == "" and edge.spend_pence == 0 and edge.variance_pence == 9_000_00 and edge.underspend
    assert rows[ref["midnight_in"]].agreement_reference is None
    assert rows[ref["midnight_in"]].agreement_status == "No agreement yet"

    q1 = {r.bid_reference: r for r in government_return("home_office", period_named(YEAR, "Q1")).rows}
    assert q1[ref["edge"]].paid_in_period_pence == 3_000_00
    assert ref["not_accepted"] in q1  # awarded in Q1, agreement issued but not accepted
    assert q1[ref["not_accepted"]].agreement_status == "Issued for acceptance"
    q3 = {r.bid_reference: r for r in government_return("home_office", period_named(YEAR, "Q3")).rows}
    assert ref["later"] in q3 and ref["midnight_out"] in q3 and ref["edge"] not in q3


def test_moj_half_year_return_carries_the_outcome_return(grants: Grants) -> None:
    ref = {key: award.bid.reference for key, award in grants.awards.items()}
    h1 = government_return("moj", period_named(YEAR, "H1"), today=date(2025, 11, 1))
    rows = {r.bid_reference: r for r in h1.rows}
    assert set(rows) == {ref["victims"], ref["short"]}
    victims = rows[ref["victims"]]
    assert (victims.recipient, victims.purpose, victims.awarded_pence) == (
        "Huntingdonshire CSP", "Victim support worker", 12_000_00)
    assert (victims.paid_in_period_pence, victims.paid_to_period_end_pence) == (6_000_00, 6_000_00)
    assert victims.returns == "2025-26 H1: Submitted" and victims.grantee_rag == "Amber"
    by_title = {m.title: m.measure_id for m in h1.measures}
    assert set(by_title) == {"=Victims supported", "Better able to cope"}
    assert victims.measures == {by_title["=Victims supported"]: 120, by_title["Better able to cope"]: 64}
    assert (victims.spend_pence, victims.revenue_spend_pence, victims.capital_spend_pence) == (5_500_00, 5_500_00, 0)
    assert [(t.category, t.measure, t.total) for t in h1.category_totals] == [
        ("Outcomes", "Better able to cope", 64), ("Support", "=Victims supported", 120)]
    h2 = {r.bid_reference: r for r in government_return("moj", period_named(YEAR, "H2")).rows}
    assert set(h2) == {ref["victims"]}  # the closed agreement ended on 30 September
    assert h2[ref["victims"]].returns == "" and h2[ref["victims"]].measures[by_title["=Victims supported"]] is None
    assert h2[ref["victims"]].paid_in_period_pence == 6_000_00
    # The whole year adds the half-years' counts up.
    year = {r.bid_reference: r for r in government_return("moj", period_named(YEAR, "FY")).rows}
    assert year[ref["victims"]].measures[by_title["=Victims supported"]] == 120


def test_government_return_workbook(grants: Grants) -> None:
    out = io.BytesIO()
    period = period_named(YEAR, "H1")
    count = build_government_return(government_return("moj", period), out, source_name="Ministry of Justice",
                                    period=period, made_by="Finance Person", made_at=MADE_AT)
    data = out.getvalue()
    book = assert_well_formed(data, "Grants", ["Amount awarded", "Spend in period", "Paid in period",
                                               "Paid to period end"],
                              ["Award date", "Agreement start", "Agreement end"])
    rows = table(book["Grants"])
    assert count == 2 and len(rows) == 3  # two grants and the totals row
    victims = next(r for r in rows if r["Purpose"] == "Victim support worker")
    assert victims["=Victims supported"] == 120  # a measure's name is text, never a formula
    header = next(c for c in book["Grants"][1] if c.value == "=Victims supported")
    assert header.data_type == "s" and header.quotePrefix and header.font.b
    assert victims["Better able to cope (%)"] == 64 and victims["Spend in period"] == 5500
    totals = rows[-1]
    assert totals["Bid reference"] == "Total" and totals["Amount awarded"] == 13_000
    assert totals["Paid in period"] == 6_000 and totals["=Victims supported"] == 120
    measure_totals = table(book["Measure totals"])
    assert [(r["Category"], r["Total"], r["How added up"]) for r in measure_totals] == [
        ("Outcomes", 64, "Average of the grants that answered"), ("Support", 120, "Sum over the grants")]
    info = about(book)
    assert info["Period"] == "2025-26 H1"
    assert (info["Period starts"], info["Period ends"]) == (datetime(2025, 4, 1), datetime(2025, 9, 30))
    assert "Ministry of Justice" in info["What this file is"]


# --- payments -------------------------------------------------------------------------------------------


def test_payments_due_or_paid_in_the_period(grants: Grants) -> None:
    q1 = {r.payment_reference for r in reports.payments(period_named(YEAR, "Q1"))}
    p = {key: payment.reference for key, payment in grants.payments.items()}
    # Due 15 June, paid 1 July: in Q1 by its due date and in Q2 by its payment date.
    assert {p["bikes_paid"], p["q1_last_day"], p["victims_h1"]} == q1
    q2 = {r.payment_reference for r in reports.payments(period_named(YEAR, "Q2"))}
    assert {p["bikes_paid"], p["bikes_due"], p["q2_first_day"], p["q2_last_day"]} == q2
    q3 = {r.payment_reference for r in reports.payments(period_named(YEAR, "Q3"))}
    assert p["bikes_cancelled"] in q3  # every status is listed


def test_payments_workbook(grants: Grants) -> None:
    out = io.BytesIO()
    period = period_named(YEAR, "Q2")
    build_payments(reports.payments(period), out, period=period, made_by="Finance Person", made_at=MADE_AT)
    book = assert_well_formed(out.getvalue(), "Payments", ["Amount"], ["Due on", "Paid on"])
    rows = table(book["Payments"])
    paid = next(r for r in rows if r["Payment reference"] == grants.payments["bikes_paid"].reference)
    assert paid["Finance reference"] == "=cmd|' /C calc'!A0"  # as in the ledger, with no apostrophe added
    reference = next(c for c in column_cells(book["Payments"], "Finance reference") if c.value == "=cmd|' /C calc'!A0")
    assert reference.data_type == "s" and reference.quotePrefix
    assert paid["Status"] == "Paid" and paid["Paid on"] == datetime(2025, 7, 1) and paid["Amount"] == 1000
    assert isinstance(paid["Amount"], int | float) and not isinstance(paid["Amount"], str)


# --- 360Giving ------------------------------------------------------------------------------------------


THREESIXTY_TITLES = [
    "Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date", "Recipient Org:Identifier",
    "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name", "Last Modified",
    "Beneficiary Location:Name", "Beneficiary Location:Geographic Code", "Beneficiary Location:Geographic Code Type",
]


PUBLISHER = Publisher(prefix=PREFIX, org_id="GB-PFA-CAMBS", name="OPCC for Cambridgeshire and Peterborough",
                      website="https://opcc.example", grant_url=lambda bid_id: f"https://opcc.example/g/{bid_id}",
                      programme_url=lambda fund_id: f"https://opcc.example/f/{fund_id}")


def test_360giving_workbook(grants: Grants) -> None:
    out = io.BytesIO()
    rows = list(iter_published(GrantFilters(year=YEAR)))
    count = build_360giving(rows, out, period=whole_year(YEAR), publisher=PUBLISHER, made_at=MADE_AT)
    data = out.getvalue()
    book = assert_well_formed(data, "grants", ["Amount Awarded", "Amount Disbursed"],
                              ["Award Date", "Planned Dates:Start Date", "Planned Dates:End Date"])
    ws = book["grants"]
    header = [c.value for c in ws[1]]
    assert set(THREESIXTY_TITLES) <= set(header)
    grants_out = table(ws)
    assert count == len(grants_out) == len(rows)
    for grant in grants_out:
        assert grant["Identifier"].startswith(f"{PREFIX}-BID-")
        assert grant["Currency"] == "GBP" and grant["Title"] and grant["Description"]
        assert isinstance(grant["Amount Awarded"], int | float) and grant["Amount Awarded"] > 0
        assert isinstance(grant["Award Date"], datetime)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", grant["Last Modified"])
        assert (grant["Funding Org:Identifier"], grant["Funding Org:Name"]) == (
            "GB-PFA-CAMBS", "OPCC for Cambridgeshire and Peterborough")
        assert (grant["Beneficiary Location:Name"], grant["Beneficiary Location:Geographic Code"],
                grant["Beneficiary Location:Geographic Code Type"]) == ("Cambridgeshire", "E23000023", "PFA")
    by_org = {g["Recipient Org:Name"]: g["Recipient Org:Identifier"] for g in grants_out}
    assert by_org["Fenland CSP"] == "GB-LAE-FEN"
    assert by_org["Huntingdonshire CSP"] == f"{PREFIX}-ORG-{grants.orgs['hunts'].id}"
    assert by_org[HOSTILE_NAMES[0]] == f"{PREFIX}-ORG-{grants.orgs['hostile0'].id}"
    hostile = next(g for g in grants_out if g["Recipient Org:Name"] == HOSTILE_NAMES[0])
    assert hostile["Title"] == HOSTILE_NAMES[0]  # a would-be formula: exact text, quote-prefixed, never run
    title = next(c for c in column_cells(ws, "Title") if c.value == HOSTILE_NAMES[0])
    assert title.data_type == "s" and title.quotePrefix
    assert HOSTILE_NAMES[0] not in [g["Description"] for g in grants_out]
    bikes = next(g for g in grants_out if g["Title"] == "Cycle marking")
    assert bikes["Amount Awarded"] == 4000 and bikes["Data Source"] == f"https://opcc.example/g/{grants.awards['bikes'].bid_id}"
    assert bikes["Award Date"] == datetime(2025, 5, 20)


def test_money_is_exact_decimal_pounds() -> None:
    from exports.workbook import pounds

    assert pounds(500050) == Decimal("5000.50") and pounds(1) == Decimal("0.01") and pounds(0) == 0


def one_column_book(values: list[Any], kind: str = "text", *, target: io.BytesIO | None = None) -> bytes:
    """A workbook whose data sheet has one column holding `values`, as every export writes them."""
    from exports.workbook import Column, ExportInfo, write_table_workbook

    out = io.BytesIO() if target is None else target
    info = ExportInfo(title="Check", description="One column", period=None, made_by="Someone", made_at=MADE_AT)
    write_table_workbook(out, info, "Data", [Column("Value", lambda v: v, kind)], values)
    return out.getvalue()


def test_money_cells_hold_the_exact_pounds() -> None:
    """Pence go in as the decimal text of the pounds, so a spreadsheet reads the double nearest the exact amount."""
    from exports.workbook import pounds

    pence = [1, 10, 99, 500050, 4_500_50, -3, 0, 123_456_789_01, 999_999_999_999_99, 7_777_777_777]
    data = one_column_book(pence, "money")
    assert "<v>5000.50</v>" in sheet_xml(data)["xl/worksheets/sheet1.xml"]
    cells = [c for (c,) in open_book(data)["Data"].iter_rows(min_row=2)]
    assert [c.value for c in cells] == [float(pounds(p)) for p in pence]
    assert all(c.number_format == MONEY_FORMAT for c in cells)


def test_text_that_looks_like_markup_stays_text() -> None:
    """Text is escaped however it looks: no typed "<r>...</r>" can add cells or formulas to the file, and line
    breaks as browsers send them (CR LF) come back exactly to any reader, openpyxl-based ones included."""
    texts = ["<r><t>x</t></r>", '<r></r></is></c><c r="B9"><f>1+1</f></c><c><is><r>', "a\r\nb", "\rReturn",
             '"q" & <b>', " padded ", "tab\there"]
    data = one_column_book(texts)
    ws = open_book(data)["Data"]
    assert [c for (c,) in ws.iter_rows(min_row=2, values_only=True)] == texts
    assert ws.max_column == 1 and "<f>" not in sheet_xml(data)["xl/worksheets/sheet1.xml"]
    # A literal "_xHHHH_" is escaped as Excel escapes it, so Excel and LibreOffice show it as typed, not as "A".
    assert "x_x005F_x0041_y" in sheet_xml(one_column_book(["x_x0041_y"]))["xl/worksheets/sheet1.xml"]


def test_a_file_that_cannot_be_written_raises_the_os_error() -> None:
    """A full disk comes out as the OSError it is, which the export command reports as such."""

    class FullDisk(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left on device"):
        one_column_book(["x"], target=FullDisk())
    gc.collect()  # the zip writer left behind writes nothing more, so collecting it raises nothing here


def test_a_failure_half_way_leaves_no_temporary_files(grants: Grants, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows stream through temporary files; a failure part-way removes them at once, not at process exit."""
    import tempfile

    from exports import workbook

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where every temporary file is made
    made: list[str] = []
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, name = real_mkstemp(*args, **kwargs)
        made.append(name)
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)

    def rows() -> Any:
        yield from list(reports.grants_register(YEAR, PREFIX))[:2]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        build_grants_register(rows(), io.BytesIO(), period=whole_year(YEAR), made_by="Someone", made_at=MADE_AT)
    assert made, "rows were streamed through a temporary file"
    assert not any(Path(name).exists() for name in made)
    assert list(scratch.iterdir()) == []
    # Finishing normally leaves nothing behind either, whether the file was put together in memory (a small
    # workbook) or through temporary files (a large one), and the two make the same sheets.
    sheets = []
    for packed_in_memory in (workbook.PACKED_IN_MEMORY, 0):
        monkeypatch.setattr(workbook, "PACKED_IN_MEMORY", packed_in_memory)
        made.clear()
        out = io.BytesIO()
        build_grants_register(reports.grants_register(YEAR, PREFIX), out, period=whole_year(YEAR),
                              made_by="Someone", made_at=MADE_AT)
        assert list(scratch.iterdir()) == []
        sheets.append((sheet_xml(out.getvalue()), len(made)))
    (small, small_files), (large, large_files) = sheets
    assert small == large and small_files < large_files
