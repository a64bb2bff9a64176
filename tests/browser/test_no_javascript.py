"""With JavaScript switched off the bid journey still works: every action is a plain form post."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from grants.agreements.rules import AgreementTerms, prepare_agreement
from grants.assessment.rules import CRITERIA, AssessmentInput, award_for, decide_award, record_assessment
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Bid, User
from tests.browser.conftest import APPLICANT, OFFICER, fill_bid, sign_in, start_bid, unique
from tests.browser.test_grant_journey import submitted_bid

pytestmark = pytest.mark.browser


def test_bid_journey_without_javascript(nojs_page, shot) -> None:  # type: ignore[no-untyped-def]
    page = nojs_page
    title = unique("No-JavaScript bid")
    start = uk_today() + timedelta(days=3)

    sign_in(page, APPLICANT)
    # GOV.UK Frontend marks the body when its script runs: it must not have run.
    assert "js-enabled" not in (page.locator("body").get_attribute("class") or "")
    bid_id = start_bid(page)

    fill_bid(page, title=title, start=start, end=start + timedelta(days=30),
             lines=[("Fly-tipping signs", "350"), ("Camera rental", "1,000"), ("Installation", "£150.25")])
    assert page.locator("#budget_lines-3-item").count() == 0
    page.get_by_role("button", name="Add another budget line").click()

    # The server sent the form back with a fourth line and everything typed so far kept.
    expect(page.locator("#budget_lines-3-item")).to_have_count(1)
    assert page.url.endswith(f"/bids/{bid_id}/edit")
    assert page.input_value("#title") == title
    assert page.input_value("#budget_lines-2-amount") == "£150.25"
    assert page.input_value("#end_date-day") == str((start + timedelta(days=30)).day)
    assert page.get_by_role("radio", name="Bike theft").is_checked()
    assert page.locator("#declaration").is_checked()
    shot(page, "nojs-bid-edit-four-lines")
    page.fill("#budget_lines-3-item", "Leaflets")
    page.fill("#budget_lines-3-amount", "99.75")

    page.get_by_role("button", name="Submit bid").click()
    page.wait_for_url(re.compile(rf"/bids/{bid_id}$"))
    assert page.locator("main .govuk-tag").first.inner_text() == "Submitted"
    assert page.locator("[data-testid=requested-total]").inner_text() == "£1,600.00"
    items = page.locator(".govuk-table").first.locator("tbody td:first-child").all_inner_texts()
    assert items[:4] == ["Fly-tipping signs", "Camera rental", "Installation", "Leaflets"]
    shot(page, "nojs-bid-view")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/sign-in$"))
    assert "You have signed out" in page.locator(".govuk-notification-banner").inner_text()


def draft_agreement(live_server, title: str) -> int:  # type: ignore[no-untyped-def]
    """A draft agreement for a freshly awarded bid, made through the rules the pages use."""
    with live_server.app.app_context():
        bid = db.session.get(Bid, submitted_bid(live_server, title, 1_200_00))
        officer = db.session.scalar(db.select(User).where(User.email == OFFICER))
        record_assessment(bid, officer, AssessmentInput(
            scores={key: 3 for key in CRITERIA}, comments="", recommended_pence=1_200_00, conflict_of_interest=False,
            conflict_details="", organisation_checked=True, due_diligence_notes="Checked", fraud_risk="low",
            fraud_risk_reasons="Known partner"), uk_today())
        decide_award(bid, officer, 1_200_00, "Signs and cameras deter fly tipping", uk_today(),
                     public_summary="Signs and cameras against fly tipping")
        agreement, _ = prepare_agreement(award_for(bid), officer, AgreementTerms(uk_today(), uk_today() + timedelta(days=90), ""))
        db.session.commit()
        agreement_id = agreement.id
        db.session.remove()
    return agreement_id


def test_issuing_and_accepting_an_agreement_without_javascript(nojs_page, live_server) -> None:  # type: ignore[no-untyped-def]
    page = nojs_page
    agreement_id = draft_agreement(live_server, unique("No-JavaScript agreement"))
    sign_in(page, OFFICER)
    page.goto(f"/agreements/{agreement_id}")
    page.get_by_role("button", name="Issue to Fenland CSP").click()
    expect(page.locator("main .govuk-tag").first).to_have_text("Issued for acceptance")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, APPLICANT)
    page.goto(f"/agreements/{agreement_id}/accept")
    page.get_by_role("button", name="Accept agreement").click()
    # Without GOV.UK Frontend's script the error summary is still there, linking to each field.
    assert page.locator(".govuk-error-summary__list a").first.get_attribute("href") == "#accepted_role"
    page.fill("#accepted_role", "Community Safety Manager")
    page.locator("#confirm").check()
    page.get_by_role("button", name="Accept agreement").click()
    expect(page.locator("[data-testid=acceptance]")).to_contain_text("Community Safety Manager")
