"""From submitted bids to money paid: an officer assesses and awards one bid and recommends another, which an
approver decides; the officer issues the agreement; the grantee accepts it and sends a monitoring return; finance
schedules and records a payment and downloads a spreadsheet, which the test opens. Every page, in its normal
and its error state, is checked with axe-core and photographed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from grants.agreements.rules import AgreementTerms, accept, activate, issue, prepare_agreement
from grants.assessment.rules import CRITERIA, AssessmentInput, award_for, decide_award, record_assessment
from grants.core.dates import financial_year_start
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Fund, FundYear, MonitoringReturn, User
from tests.browser.conftest import (
    APPLICANT,
    APPROVER,
    OFFICER,
    assert_accessible,
    error_summary,
    fill_date,
    sign_in,
    sign_out,
    unique,
)
from tests.conftest import make_submitted_bid

pytestmark = pytest.mark.browser

FINANCE = "finance@opcc.example"


def submitted_bid(live_server: Any, title: str, amount_pence: int) -> int:
    """A bid from Fenland CSP, submitted through the same rules the applicant's pages use (the pages
    themselves are walked through in test_bid_journey)."""
    with live_server.app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == APPLICANT))
        fund_year = db.session.scalar(db.select(FundYear).where(FundYear.year_start == financial_year_start(uk_today()))
                                      .join(FundYear.fund).where(db.text("fund.name = 'Safer Communities Fund'")))
        bid_id = make_submitted_bid(user, fund_year, amount_pence, title=title).id
        db.session.remove()
    return bid_id


def banner(pg: Any) -> str:
    return pg.locator(".govuk-notification-banner").first.inner_text()


def assess(pg: Any, bid_id: int, shot: Any, *, first: bool) -> None:
    pg.goto(f"/assess/bids/{bid_id}")
    pg.get_by_role("link", name="Assess", exact=True).click()
    pg.wait_for_url(re.compile(rf"/assess/bids/{bid_id}/assess$"))
    if first:
        assert_accessible(pg, "the assessment form")
        shot(pg, "12-assess")
        pg.get_by_role("button", name="Save assessment").click()
        expect(pg.locator(".govuk-error-summary")).to_be_visible()
        assert "Confirm that you have checked the organisation" in error_summary(pg)
        assert_accessible(pg, "the assessment form with errors")
        shot(pg, "13-assess-errors")
    pg.get_by_role("group", name=re.compile("conflict of interest")).get_by_label("No", exact=True).check()
    for label in CRITERIA.values():
        pg.get_by_role("group", name=label).get_by_label("4", exact=True).check()
    pg.locator("#organisation_checked").check()
    pg.fill("#due_diligence_notes", "Checked the partnership's records and bank details")
    pg.get_by_role("group", name="Fraud risk").get_by_label("Low", exact=True).check()
    pg.fill("#fraud_risk_reasons", "Statutory partnership with a good record")
    pg.get_by_role("button", name="Save assessment").click()
    pg.wait_for_url(re.compile(rf"/assess/bids/{bid_id}$"))
    assert "Assessment of" in banner(pg)


def decide(pg: Any, bid_id: int, reasons: str) -> None:
    pg.get_by_role("link", name="Decide award").click()
    pg.wait_for_url(re.compile(rf"/assess/bids/{bid_id}/award$"))
    pg.fill("#reasons", reasons)
    pg.get_by_role("button", name="Decide award").click()
    pg.wait_for_url(re.compile(rf"/assess/bids/{bid_id}$"))


def test_award_agreement_monitoring_and_payment(page, shot, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    small = unique("Cycle marking at March station")
    large = unique("CCTV at Wisbech bus station")
    small_id = submitted_bid(live_server, small, 2_000_00)
    large_id = submitted_bid(live_server, large, 4_000_00)

    # The officer assesses and awards the bid within the delegation limit.
    sign_in(page, OFFICER)
    assess(page, small_id, shot, first=True)
    page.get_by_role("link", name="Decide award").click()
    assert page.locator("[data-testid=budget-figures]").is_visible()
    assert_accessible(page, "the award decision page")
    shot(page, "14-award")
    page.fill("#amount_pence", "")
    page.get_by_role("button", name="Decide award").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert error_summary(page) == [
        "Enter the amount to award",
        "Give the reasons why the grant will secure or contribute to crime and disorder reduction"]
    assert_accessible(page, "the award decision page with errors")
    shot(page, "15-award-errors")
    page.fill("#amount_pence", "1,800")
    page.fill("#reasons", "Marked bikes are stolen less and returned more often")
    page.get_by_role("button", name="Decide award").click()
    page.wait_for_url(re.compile(rf"/assess/bids/{small_id}$"))
    assert "£1,800.00 awarded to Fenland CSP." in banner(page)
    assert page.locator("[data-testid=award]").is_visible()

    # Above the delegation limit the officer can only recommend.
    assess(page, large_id, shot, first=False)
    decide(page, large_id, "Cameras deter and detect violence at the bus station")
    assert "recommended to an approver" in banner(page)
    sign_out(page)

    # An approver decides the recommended award.
    sign_in(page, APPROVER)
    page.goto(f"/assess/bids/{large_id}")
    assert_accessible(page, "the approver's view of a recommended bid")
    shot(page, "16-approver-bid")
    decide(page, large_id, "Cameras deter and detect violence at the bus station")
    assert "£4,000.00 awarded to Fenland CSP." in banner(page)
    sign_out(page)

    # The officer prepares the agreement for the first award and issues it.
    sign_in(page, OFFICER)
    page.goto(f"/assess/bids/{small_id}")
    page.get_by_role("link", name="Prepare grant agreement").click()
    assert_accessible(page, "the prepare-agreement page")
    shot(page, "17-agreement-prepare")
    today = uk_today()
    fill_date(page, "start_date", today)
    fill_date(page, "end_date", today - timedelta(days=1))
    page.get_by_role("button", name="Save draft agreement").click()
    assert error_summary(page) == ["The end date must be the same as or after the start date"]
    assert_accessible(page, "the prepare-agreement page with an error")
    fill_date(page, "end_date", today + timedelta(days=120))
    page.fill("#special_conditions", "Mark at least 150 bikes; report numbers each month")
    page.get_by_role("button", name="Save draft agreement").click()
    page.wait_for_url(re.compile(r"/agreements/\d+$"))
    agreement_url = page.url
    assert page.locator("main .govuk-tag").first.inner_text() == "Draft"
    page.get_by_role("button", name="Issue to Fenland CSP").click()
    expect(page.locator("main .govuk-tag").first).to_have_text("Issued for acceptance")
    assert_accessible(page, "an issued agreement")
    shot(page, "18-agreement-issued")
    sign_out(page)

    # The grantee reads and accepts it.
    sign_in(page, APPLICANT)
    page.get_by_role("link", name="Agreements", exact=True).click()
    page.get_by_role("link", name=small).click()
    page.get_by_role("link", name="Read and accept the agreement").click()
    assert_accessible(page, "the accept-agreement page")
    shot(page, "19-agreement-accept")
    page.fill("#accepted_name", "")
    page.get_by_role("button", name="Accept agreement").click()
    assert error_summary(page) == [
        "Enter your full name", "Enter your role in the organisation",
        "Confirm that you accept the conditions on behalf of your organisation"]
    assert_accessible(page, "the accept-agreement page with errors")
    shot(page, "20-agreement-accept-errors")
    page.fill("#accepted_name", "Tom Hughes")
    page.fill("#accepted_role", "Community Safety Manager")
    page.locator("#confirm").check()
    page.get_by_role("button", name="Accept agreement").click()
    expect(page.locator("[data-testid=acceptance]")).to_contain_text("Tom Hughes, Community Safety Manager")
    sign_out(page)

    # The officer starts the grant: its monitoring returns are scheduled.
    sign_in(page, OFFICER)
    page.goto(agreement_url)
    page.get_by_role("button", name="Start the grant and schedule monitoring").click()
    expect(page.locator("main .govuk-tag").first).to_have_text("Active")
    assert page.locator("[data-testid=returns] tbody tr").count() >= 1
    assert_accessible(page, "an active agreement")
    shot(page, "21-agreement-active")
    sign_out(page)

    # The grantee sends the return for the period running now.
    sign_in(page, APPLICANT)
    page.goto(agreement_url)
    page.locator("[data-testid=returns] a").first.click()
    page.get_by_role("link", name="Complete the return").click()
    assert_accessible(page, "the monitoring return form")
    shot(page, "22-return-edit")
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert error_summary(page)[0] == "Describe the progress made in this period"
    assert_accessible(page, "the monitoring return form with errors")
    shot(page, "23-return-errors")
    page.fill("#progress", "Two marking events held: 96 bikes marked")
    page.get_by_role("group", name="How is the work going overall?").get_by_label("Green").check()
    page.locator("input[id^=spend-]").first.fill("£640")
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator("[data-testid=return-status]")).to_have_text("Submitted")
    assert_accessible(page, "a submitted monitoring return")
    shot(page, "24-return-submitted")
    sign_out(page)

    # Finance schedules and pays the first instalment.
    sign_in(page, FINANCE)
    page.goto(agreement_url)
    page.get_by_role("link", name="Schedule a payment").click()
    page.fill("#amount_pence", "2,000")
    fill_date(page, "due_on", today)
    page.get_by_role("button", name="Schedule payment").click()
    assert error_summary(page) == ["£2,000.00 is more than the £1,800.00 of the grant not yet scheduled or paid"]
    assert_accessible(page, "the schedule-payment page with an error")
    shot(page, "25-payment-errors")
    page.fill("#amount_pence", "900")
    page.get_by_role("button", name="Schedule payment").click()
    page.wait_for_url(agreement_url)
    page.get_by_role("link", name=re.compile("^Record as paid")).click()
    fill_date(page, "paid_on", today)
    page.fill("#finance_reference", "AP-2026-0107")
    assert_accessible(page, "the record-payment page")
    page.get_by_role("button", name="Record payment").click()
    page.wait_for_url(agreement_url)
    expect(page.locator("[data-testid=payments]")).to_contain_text("AP-2026-0107")
    assert_accessible(page, "an agreement with a payment")
    shot(page, "26-agreement-paid")

    # ... and downloads the grants register, which opens as a real workbook holding the grant.
    page.goto("/finance/")
    assert_accessible(page, "the finance page")
    shot(page, "27-finance")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download Grants register (.xlsx)").click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.suffix == ".xlsx"
    workbook = load_workbook(path)
    cells = [str(c) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert small in cells and large in cells


def active_home_office_grant(live_server: Any, title: str) -> int:
    """A Safer Streets Fund grant (Home Office money, quarterly returns, the demo's outcome measures) to Fenland
    CSP, taken through award, agreement, acceptance and start by the rules the pages use; it began 20 days ago."""
    with live_server.app.app_context():
        fenland = db.session.scalar(db.select(User).where(User.email == APPLICANT))
        officer = db.session.scalar(db.select(User).where(User.email == OFFICER))
        today = uk_today()
        fund_year = db.session.scalar(db.select(FundYear).join(FundYear.fund).where(
            FundYear.year_start == financial_year_start(today), Fund.name == "Safer Streets Fund"))
        bid = make_submitted_bid(fenland, fund_year, 12_000_00, title=title)
        bid.budget_lines[0].kind = "capital"
        assert record_assessment(bid, officer, AssessmentInput(
            scores=dict.fromkeys(CRITERIA, 4), comments="", recommended_pence=12_000_00, conflict_of_interest=False,
            conflict_details="", organisation_checked=True, due_diligence_notes="Checked", fraud_risk="low",
            fraud_risk_reasons="Statutory partnership"), today) == {}
        outcome, problems = decide_award(bid, officer, 12_000_00, "Lighting and gates cut burglary", today,
                                         public_summary="Lighting and alley gates in Wisbech")
        assert outcome is not None, problems
        agreement, _ = prepare_agreement(award_for(bid), officer, AgreementTerms(
            today - timedelta(days=20), today + timedelta(days=100), ""))
        assert agreement is not None
        issue(agreement, officer, today)
        accept(agreement, fenland, "Tom Hughes", "Community Safety Manager", True, today)
        activate(agreement, officer, today)
        db.session.commit()
        agreement_id = agreement.id
        db.session.remove()
    return agreement_id


def test_quarterly_home_office_return_with_evidence(page, shot, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    title = unique("Alley gates in Wisbech")
    agreement_id = active_home_office_grant(live_server, title)
    evidence = tmp_path / "gate-photos.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    not_a_pdf = tmp_path / "report.pdf"
    not_a_pdf.write_bytes(b"MZ\x90\x00 this is a program, not a PDF")

    # The grantee opens the quarter's return: the Home Office measures, spend per budget line, evidence.
    sign_in(page, APPLICANT)
    page.goto(f"/agreements/{agreement_id}")
    quarter = page.locator("[data-testid=returns] a").first
    assert re.search(r"Q[1-4]$", quarter.inner_text())
    quarter.click()
    page.get_by_role("link", name="Complete the return").click()
    expect(page.get_by_label("People reached by interventions")).to_be_visible()
    assert_accessible(page, "a quarterly return with outcome measures")
    shot(page, "30-quarterly-return")
    page.fill("#progress", "Six alley gates fitted; lighting surveyed")
    page.get_by_label("People reached by interventions").fill("a lot")
    page.set_input_files("#evidence", str(not_a_pdf))
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    problems = error_summary(page)
    assert "People reached by interventions must be a whole number, like 12" in problems
    assert "report.pdf must be a PDF, PNG, JPEG, Word, Excel, PowerPoint or OpenDocument file. Choose the files again." in problems
    assert_accessible(page, "a quarterly return with errors")
    shot(page, "31-quarterly-return-errors")
    # The error summary's links take the keyboard to each field.
    page.locator(".govuk-error-summary__list a", has_text="People reached").click()
    expect(page.get_by_label("People reached by interventions")).to_be_focused()

    page.get_by_label("People reached by interventions").fill("140")
    page.get_by_label("Homes or places made safer").fill("30")
    page.get_by_label("Sessions delivered").fill("12")
    page.get_by_label("Participants reporting feeling safer (optional)").fill("70")
    page.get_by_role("group", name="Delivered to plan").get_by_label("Yes").check()
    page.get_by_role("group", name="How is the work going overall?").get_by_label("Amber").check()
    page.locator("input[id^=spend-]").first.fill("£2,500")
    page.set_input_files("#evidence", str(evidence))
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator("[data-testid=return-status]")).to_have_text("Submitted")
    expect(page.locator("[data-testid=evidence]")).to_contain_text("gate-photos.pdf")
    expect(page.locator("[data-testid=measures]")).to_contain_text("140")
    assert_accessible(page, "a submitted quarterly return")
    shot(page, "32-quarterly-return-submitted")
    with page.expect_download() as info:
        page.get_by_role("link", name="gate-photos.pdf").click()
    assert info.value.suggested_filename == "gate-photos.pdf"
    sign_out(page)

    # The officer reviews it with their own rating, warned that more is reported spent than paid.
    sign_in(page, OFFICER)
    page.goto(f"/agreements/{agreement_id}")
    page.locator("[data-testid=returns] a").first.click()
    page.get_by_role("link", name="Review the return").click()
    expect(page.locator("[data-testid=overspend]")).to_contain_text("£2,500.00 more than paid")
    assert_accessible(page, "the review of a quarterly return")
    shot(page, "33-quarterly-review")
    page.get_by_role("group", name="Your decision").get_by_label("Accept the return").check()
    page.get_by_role("group", name="Your rating of the work").get_by_label("Green").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator("[data-testid=return-status]")).to_have_text("Accepted")
    sign_out(page)

    # Finance downloads the Home Office return for the quarter: the grant's measures and capital spend are in it.
    sign_in(page, FINANCE)
    page.goto("/finance/")
    form = page.locator("form", has=page.get_by_role("button", name=re.compile("Download Government grant return")))
    year, period = quarter_of(live_server, agreement_id)
    form.get_by_label("Government department").select_option("home_office")
    form.get_by_label("Financial year").select_option(str(year))
    form.get_by_label("Period").select_option(period)
    with page.expect_download() as info:
        form.get_by_role("button", name=re.compile("Download Government grant return")).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    rows = list(load_workbook(path)["Grants"].iter_rows(values_only=True))
    header, grant = rows[0], next(r for r in rows if r[4] == title)
    figures = dict(zip(header, grant, strict=True))
    assert figures["People reached by interventions"] == 140
    assert figures["Capital spend in period"] == 2500 and figures["Officer's rating (RAG)"] == "Green"


def quarter_of(live_server: Any, agreement_id: int) -> tuple[int, str]:
    """The financial year and quarter of the grant's first return."""
    with live_server.app.app_context():
        ret = db.session.scalars(db.select(MonitoringReturn).where(MonitoringReturn.agreement_id == agreement_id)
                                 .order_by(MonitoringReturn.period_start)).first()
        assert ret is not None
        year, name = financial_year_start(ret.period_start), ret.period_name
        db.session.remove()
    return year, name
