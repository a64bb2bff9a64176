"""After the award, in the browser: an officer proposes a variation to a running grant, the grantee accepts it
online and downloads the agreement as a PDF, which the test reads; the officer asks for part of the money back
and finance records it received. Each page, in its normal and error states, is checked with axe-core and photographed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from grants.agreements.rules import AgreementTerms, accept, activate, issue, prepare_agreement
from grants.assessment.rules import award_for
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import User
from grants.payments.rules import record_paid, schedule_payment
from tests.browser.conftest import APPLICANT, OFFICER, assert_accessible, error_summary, fits, sign_in, sign_out, unique
from tests.browser.test_grant_journey import FINANCE, banner, submitted_bid
from tests.records import _assess  # the assessment the officer's page records, made through the rules

pytestmark = pytest.mark.browser


def running_grant(live_server: Any, title: str) -> int:
    """A £2,000 grant to Fenland CSP, awarded, agreed, accepted and started through the rules; its agreement id."""
    bid_id = submitted_bid(live_server, title, 2_000_00)
    with live_server.app.app_context():
        officer = db.session.scalar(db.select(User).where(User.email == OFFICER))
        grantee = db.session.scalar(db.select(User).where(User.email == APPLICANT))
        from grants.assessment.rules import decide_award
        from grants.core.models import Bid

        bid = db.session.get(Bid, bid_id)
        _assess(bid, officer)
        outcome, problems = decide_award(bid, officer, 2_000_00, "Fewer thefts", uk_today(), public_summary=title)
        assert outcome is not None, problems
        today = uk_today()
        agreement, problems = prepare_agreement(award_for(bid), officer, AgreementTerms(
            today - timedelta(days=20), today + timedelta(days=300), ""), today)
        assert agreement is not None, problems
        issue(agreement, officer, today)
        assert accept(agreement, grantee, "Tom Hughes", "Community Safety Manager", True, today) == {}
        activate(agreement, officer, today)
        finance = db.session.scalar(db.select(User).where(User.email == FINANCE))
        payment, problems = schedule_payment(agreement, finance, 1_000_00, today, today=today)
        assert payment is not None, problems
        assert record_paid(payment, finance, today, "AP-7001", today) == {}
        db.session.commit()
        agreement_id = agreement.id
        db.session.remove()
    return agreement_id


def checked(pg: Any, where: str) -> None:
    """Accessible, and no sideways scrolling on a 375 px phone."""
    assert_accessible(pg, where)
    assert fits(pg), f"{where} scrolls sideways at 375 px"


def test_a_variation_proposed_and_accepted_online(page: Any, shot: Any, live_server: Any, tmp_path: Any) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    title = unique("Street-light repairs")
    agreement_id = running_grant(live_server, title)
    sign_in(page, OFFICER)
    page.goto(f"/agreements/{agreement_id}")
    page.get_by_role("link", name="Propose a variation").click()
    page.wait_for_url(re.compile(rf"/agreements/{agreement_id}/variations/new$"))
    expect(page.locator("#amount_pence")).to_have_value("2,000")
    # Nothing changed and no reasons: both said beside their fields.
    page.get_by_role("button", name="Propose variation").click()
    assert error_summary(page) == ["Give the reasons for the variation"]
    checked(page, "variation form with an error")
    page.fill("#amount_pence", "1,750")
    page.fill("#reasons", "One ward no longer needs the lights")
    checked(page, "variation form")
    shot(page, "variation-propose")
    page.get_by_role("button", name="Propose variation").click()
    page.wait_for_url(re.compile(r"/variations/\d+$"))
    assert "offered to Fenland CSP" in banner(page)
    expect(page.get_by_test_id("variation-change")).to_contain_text("£1,750.00")
    checked(page, "variation page")
    sign_out(page)

    sign_in(page, APPLICANT)
    page.goto(f"/agreements/{agreement_id}")
    expect(page.get_by_test_id("variations")).to_contain_text("Offered to the grantee")
    page.get_by_test_id("variations").get_by_role("link", name="Variation 1").click()
    page.get_by_role("link", name="Read and accept the variation").click()
    page.get_by_role("button", name="Accept variation").click()
    assert "Confirm that you accept the conditions on behalf of your organisation" in error_summary(page)
    checked(page, "accepting a variation, with an error")
    page.fill("#accepted_role", "Community Safety Manager")
    page.get_by_label("I accept this variation on behalf of my organisation").check()
    shot(page, "variation-accept")
    page.get_by_role("button", name="Accept variation").click()
    page.wait_for_url(re.compile(rf"/agreements/{agreement_id}$"))
    assert "You have accepted variation" in banner(page)
    expect(page.get_by_test_id("agreement")).to_contain_text("£1,750.00")
    expect(page.get_by_test_id("variations")).to_contain_text("Accepted")
    checked(page, "agreement after a variation")

    # The grantee keeps a PDF of the agreement as it now stands.
    with page.expect_download() as download_info:
        page.get_by_test_id("agreement-pdf").click()
    download = download_info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = " ".join(p.extract_text() for p in PdfReader(path).pages)
    assert re.match(r"grant-agreement-GA-\d+\.pdf$", download.suggested_filename)
    assert "£1,750.00" in " ".join(text.split()) and "Tom Hughes" in text
    sign_out(page)

    # Part of the money paid is not needed: the officer asks for it back, finance records it received.
    sign_in(page, OFFICER)
    page.goto(f"/agreements/{agreement_id}")
    page.get_by_role("link", name="Ask for a repayment").click()
    page.fill("#amount_pence", "200")
    page.fill("#reason", "One ward's lights were not needed")
    checked(page, "asking for a repayment")
    page.get_by_role("button", name="Ask for the repayment").click()
    page.wait_for_url(re.compile(rf"/agreements/{agreement_id}$"))
    expect(page.get_by_test_id("repayments-outstanding")).to_have_text("£200.00")
    sign_out(page)
    sign_in(page, FINANCE)
    page.goto(f"/agreements/{agreement_id}")
    page.get_by_test_id("repayments").get_by_role("link", name=re.compile("Record money received")).click()
    page.get_by_role("button", name="Record money received").click()
    assert "Enter the amount received" in error_summary(page)
    checked(page, "recording a repayment received, with an error")
    page.fill("#amount_pence", "200")
    today = uk_today()
    page.fill("#received_on-day", str(today.day))
    page.fill("#received_on-month", str(today.month))
    page.fill("#received_on-year", str(today.year))
    page.fill("#reference", "AR-5521")
    shot(page, "repayment-received")
    page.get_by_role("button", name="Record money received").click()
    page.wait_for_url(re.compile(rf"/agreements/{agreement_id}#repayments$"))
    assert "£200.00 received against repayment" in banner(page)
    expect(page.get_by_test_id("repayments-received")).to_have_text("£200.00")
    expect(page.get_by_test_id("repayments")).to_contain_text("Received")
    checked(page, "agreement with a repayment received")
