"""Keyboard only: sign in, choose a fund and complete and submit the bid form with Tab, typing, arrows, Space
and Enter; no mouse clicks and no filling by selector."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from grants.core.dates import today as uk_today
from grants.demo import DEMO_PASSWORD
from tests.browser.conftest import APPLICANT, unique

pytestmark = pytest.mark.browser

# Every control of the bid form, in the order Tab must reach them (one stop per radio group).
BID_FORM_ORDER = [
    "title", "local_issue", "activities", "location", "theme",
    "start_date-day", "start_date-month", "start_date-year",
    "end_date-day", "end_date-month", "end_date-year",
    "outputs", "outcomes",
    "budget_lines-0-item", "budget_lines-0-amount", "budget_lines-0-kind",
    "budget_lines-1-item", "budget_lines-1-amount", "budget_lines-1-kind",
    "budget_lines-2-item", "budget_lines-2-amount", "budget_lines-2-kind",
    "add_line", "other_funding", "other_funding_pence", "declaration", "submit", "save", "documents",
]


def active_id(pg) -> str:  # type: ignore[no-untyped-def]
    return pg.evaluate("() => document.activeElement ? document.activeElement.id : ''")


def active_description(pg) -> str:  # type: ignore[no-untyped-def]
    return pg.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? `${e.tagName.toLowerCase()}#${e.id} ${(e.innerText || e.name || '').trim().slice(0, 40)}` : ''; }"
    )


def tab_to(pg, element_id: str, limit: int = 15) -> list[str]:  # type: ignore[no-untyped-def]
    """Press Tab until the element has focus; returns what had focus on the way."""
    seen = []
    for _ in range(limit):
        pg.keyboard.press("Tab")
        if active_id(pg) == element_id:
            return seen
        seen.append(active_description(pg))
    raise AssertionError(f"#{element_id} not reached after {limit} presses of Tab; focus went: {seen}")


def test_sign_in_and_submit_a_bid_with_the_keyboard_only(page, live_server) -> None:  # type: ignore[no-untyped-def]
    title = unique("Keyboard-only bid")
    start = uk_today() + timedelta(days=7)
    end = start + timedelta(days=90)

    # Sign in: the skip link comes first, then the form.
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    assert active_description(page).startswith("a# Skip to main content")
    tab_to(page, "email")
    page.keyboard.type(APPLICANT)
    page.keyboard.press("Tab")
    assert active_id(page) == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dashboard/$"))  # everyone lands on their dashboard
    page.goto("/bids/")

    # The skip link moves focus past the header and navigation to the main content.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert active_id(page) == "main-content"
    page.keyboard.press("Tab")
    assert active_description(page) == "a# Start a new bid"
    page.keyboard.press("Enter")  # a link styled as a button
    page.wait_for_url(re.compile(r"/bids/start$"))

    # Choose the Safer Communities Fund (the first radio) with Space, then press the button with Enter.
    tab_to(page, "fund_year_id")
    page.keyboard.press("Space")
    assert page.locator("#fund_year_id").is_checked()
    page.keyboard.press("Tab")
    assert active_id(page) == "submit"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/bids/\d+/edit$"))
    bid_url = page.url.removesuffix("/edit")

    # The header, navigation and back link come before the form, in reading order.
    before = tab_to(page, "title")
    shown = [" ".join(re.sub(r"^\w+#\S* ", "", item).split()) for item in before]
    assert shown[:-2] == [
        "Skip to main content", live_server.app.config["SERVICE_NAME"], "Your account", "Sign out", "Home", "Your bids",
        "Start a bid", "Agreements", "Monitoring"]
    assert re.fullmatch(r"Notifications(?: , \d+ unread)?", shown[-2]), shown[-2]  # the receipts emailed so far
    assert shown[-1] == "Back to bid"

    # Every control the form has is in the Tab order, in the order it appears on the page.
    controls = page.evaluate(
        """() => [...document.querySelectorAll('main form input, main form textarea, main form select, main form button')]
              .filter(e => e.type !== 'hidden' && !e.disabled)
              .filter(e => e.type !== 'radio' || e === e.form.querySelector(`input[type=radio][name="${e.name}"]`))
              .map(e => e.id)"""
    )
    assert controls == BID_FORM_ORDER

    answers = {
        "title": title,
        "local_issue": "Bike theft at the station has doubled since the spring.",
        "activities": "Cycle-marking events with the police.",
        "location": "Wisbech North",
        "start_date-day": str(start.day), "start_date-month": str(start.month), "start_date-year": str(start.year),
        "end_date-day": str(end.day), "end_date-month": str(end.month), "end_date-year": str(end.year),
        "outputs": "150 bikes marked",
        "outcomes": "Fewer reported bike thefts",
        "budget_lines-0-item": "Marking kits", "budget_lines-0-amount": "1,200",
        "budget_lines-1-item": "Volunteer expenses", "budget_lines-1-amount": "300.50",
        "other_funding": "None",
    }
    reached = []
    for element_id in BID_FORM_ORDER[:BID_FORM_ORDER.index("submit") + 1]:
        assert active_id(page) == element_id, f"expected #{element_id} to have focus after {reached}"
        reached.append(element_id)
        if element_id == "theme":
            page.keyboard.press("ArrowDown")  # radios: arrows move and select; Bike theft is the third
            page.keyboard.press("ArrowDown")
            assert page.get_by_role("radio", name="Bike theft").is_checked()
        elif element_id == "declaration":
            page.keyboard.press("Space")
            assert page.locator("#declaration").is_checked()
        elif element_id == "submit":
            break
        elif element_id in answers:
            page.keyboard.type(answers[element_id])
        page.keyboard.press("Tab")
    assert reached[-1] == "submit"
    page.keyboard.press("Enter")

    page.wait_for_url(bid_url)
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.locator("main .govuk-tag").first.inner_text() == "Submitted"
    assert page.locator("[data-testid=requested-total]").inner_text() == "£1,500.50"
    assert "Confirmed by Tom Hughes" in page.locator(".govuk-summary-list").inner_text()
