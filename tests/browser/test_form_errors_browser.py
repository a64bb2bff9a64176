"""A cost typed in words, saved as a draft in a real browser: the summary says so in words, its link takes the
keyboard to that box, and the rest of the bid is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from grants.core.dates import today as uk_today
from tests.browser.conftest import APPLICANT, assert_accessible, error_summary, fill_bid, sign_in, start_bid, unique

pytestmark = pytest.mark.browser

IN_WORDS = "Enter an amount in pounds, like 5000 or £5,000.50"


def test_a_cost_in_words_is_shown_in_words_and_the_rest_is_saved(page, shot) -> None:  # type: ignore[no-untyped-def]
    title = unique("Fly-tipping signs at Whittlesey")
    start = uk_today() + timedelta(days=14)
    sign_in(page, APPLICANT)
    bid_id = start_bid(page)
    fill_bid(page, title=title, start=start, end=start + timedelta(days=60),
             lines=[("Signs", "two thousand"), ("Cameras", "1250.5")])
    page.get_by_role("button", name="Save as draft").click()

    assert error_summary(page) == [IN_WORDS]
    assert page.title().startswith("Error: ")
    assert_accessible(page, "the bid form with a cost in words")
    shot(page, "form-errors-cost-in-words")
    page.locator(".govuk-error-summary__list a", has_text=IN_WORDS).click()
    expect(page.locator("#budget_lines-0-amount")).to_be_focused()
    expect(page.locator("#budget_lines-0-amount")).to_have_value("two thousand")
    expect(page.locator("[data-testid=saved-except-problems]")).to_be_visible()

    # Everything valid was saved: coming back shows it, the valid cost grouped as money is written.
    page.goto(f"/bids/{bid_id}/edit")
    expect(page.locator("#title")).to_have_value(title)
    expect(page.locator("#budget_lines-0-item")).to_have_value("Cameras")
    expect(page.locator("#budget_lines-0-amount")).to_have_value("1,250.50")
