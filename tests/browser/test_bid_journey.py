"""An applicant drafts, fails, fixes and submits a bid; an officer finds and opens it. Every page is checked
with axe-core (normal and error states) and photographed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from grants.core.dates import today as uk_today
from tests.browser.conftest import (
    APPLICANT,
    OFFICER,
    assert_accessible,
    error_summary,
    fill_bid,
    fill_date,
    sign_in,
    sign_out,
    start_bid,
    unique,
)

pytestmark = pytest.mark.browser

CAP_MESSAGE = "£5,000.00 is the most you can ask for from the Safer Communities Fund"
END_MESSAGE = "The end date must be the same as or after the start date"


def text(locator) -> str:  # type: ignore[no-untyped-def]
    """The element's text with whitespace collapsed (visually hidden prefixes included)."""
    return " ".join((locator.text_content() or "").split())


def test_applicant_submits_a_bid_and_an_officer_finds_it(page, shot, live_server) -> None:  # type: ignore[no-untyped-def]
    title = unique("Cycle marking at Wisbech station")
    start = uk_today() + timedelta(days=14)

    # Sign-in page, then its error state.
    page.goto("/sign-in")
    assert page.title().startswith("Sign in")
    assert_accessible(page, "the sign-in page")
    shot(page, "01-sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert page.title().startswith("Error: Sign in")
    assert error_summary(page) == ["Enter your email address", "Enter your password"]
    assert_accessible(page, "the sign-in page with errors")
    shot(page, "02-sign-in-errors")

    # The applicant lands on their dashboard, and opens their list of bids from the menu.
    sign_in(page, APPLICANT)
    assert re.search(r"/dashboard/$", page.url)
    page.get_by_role("link", name="Your bids", exact=True).click()
    page.wait_for_url(re.compile(r"/bids/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Bids from Fenland CSP"
    assert_accessible(page, "the applicant's list of bids")
    shot(page, "03-applicant-bids")

    # Start a bid: the choice of fund, with and without an answer.
    page.get_by_role("button", name="Start a new bid").click()
    page.wait_for_url(re.compile(r"/bids/start$"))
    assert_accessible(page, "the start-a-bid page")
    shot(page, "04-start-bid")
    page.get_by_role("button", name="Start bid").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert error_summary(page) == ["Select a fund"]
    assert_accessible(page, "the start-a-bid page with an error")
    bid_id = start_bid(page)

    # The empty form.
    assert page.get_by_role("heading", level=1).inner_text() == "New bid"
    assert_accessible(page, "the new bid form")
    shot(page, "05-bid-edit-new")

    # Save a draft with only a title.
    page.fill("#title", title)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your bid has been saved as a draft.")
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.input_value("#title") == title
    assert_accessible(page, "the bid form after saving a draft")

    # Submit with two problems: over the £5,000 cap, and the end date before the start date.
    fill_bid(page, title=title, start=start, end=start - timedelta(days=1),
             lines=[("Cycle-marking kits", "4,500"), ("Event staff", "£600.50")])
    page.get_by_role("button", name="Submit bid").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    assert page.title().startswith("Error: ")
    assert summary.get_by_role("heading").inner_text() == "There is a problem"
    assert set(error_summary(page)) == {CAP_MESSAGE, END_MESSAGE}
    assert text(page.locator("#budget-total-error")) == f"Error: {CAP_MESSAGE}"
    assert text(page.locator("#end_date-error")) == f"Error: {END_MESSAGE}"
    assert page.locator("#budget-total").get_attribute("class").split().count("govuk-form-group--error") == 1
    # GOV.UK Frontend moves focus to the summary; its links move focus to the field in error.
    expect(summary).to_be_focused()
    assert_accessible(page, "the bid form with errors")
    shot(page, "06-bid-edit-errors")
    summary.get_by_role("link", name=END_MESSAGE).click()
    expect(page.locator("#end_date-day")).to_be_focused()
    # What was typed is kept, and the draft was saved.
    assert page.input_value("#budget_lines-1-amount") == "£600.50"
    assert page.locator("[data-testid=budget-total]").inner_text() == "£5,100.50"

    # Fix both and submit.
    fill_date(page, "end_date", start + timedelta(days=60))
    page.fill("#budget_lines-1-amount", "500")
    assert page.locator("#declaration").is_checked()
    page.get_by_role("button", name="Submit bid").click()
    page.wait_for_url(re.compile(rf"/bids/{bid_id}$"))
    banner = page.locator(".govuk-notification-banner")
    assert re.search(r"Bid \S+ submitted\. We will email you when a decision is made\.", banner.inner_text())
    assert page.locator("main .govuk-tag").first.inner_text() == "Submitted"
    assert page.locator("[data-testid=requested-total]").inner_text() == "£5,000.00"
    assert_accessible(page, "the submitted bid")
    shot(page, "07-bid-view")

    # Back on the list it shows as submitted.
    page.get_by_role("link", name="Back to your bids").click()
    row = page.locator("tr", has=page.get_by_role("link", name=title))
    assert row.locator(".govuk-tag").inner_text() == "Submitted"

    sign_out(page)
    assert "You have signed out" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("[data-testid=signed-in-as]").count() == 0
    assert_accessible(page, "the sign-in page after signing out")

    # The officer finds the bid by searching for the organisation, and opens it.
    sign_in(page, OFFICER)
    assert re.search(r"/dashboard/$", page.url)
    page.get_by_role("link", name="Bids", exact=True).click()
    page.wait_for_url(re.compile(r"/assess/$"))
    assert_accessible(page, "the officer's list of bids")
    shot(page, "08-officer-bids")
    page.get_by_label("Search by reference, title or organisation").fill("fenland")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"q=fenland"))
    assert page.get_by_label("Search by reference, title or organisation").input_value() == "fenland"
    rows = page.locator("[data-testid=bid-list] tbody tr")
    organisations = {text.strip() for text in rows.locator("td:nth-child(2)").all_inner_texts()}
    assert organisations == {"Fenland CSP"}
    assert_accessible(page, "the officer's list searched by organisation")
    shot(page, "09-officer-bids-filtered")
    page.get_by_role("link", name=title).click()
    page.wait_for_url(re.compile(rf"/assess/bids/{bid_id}$"))
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert "Fenland CSP" in page.locator(".govuk-caption-l").inner_text()
    assert page.locator("[data-testid=requested-total]").inner_text() == "£5,000.00"
    assert_accessible(page, "the officer's view of a bid")
    shot(page, "10-officer-bid")
    sign_out(page)
