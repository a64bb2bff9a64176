"""The published grants, as a member of the public reads them on a desktop and on a 320 px phone: each page is
checked with axe-core, fits the screen without sideways scrolling, and is photographed; the open data
downloads from its links."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from grants.core.dates import financial_year_start
from grants.core.dates import today as uk_today
from tests.browser.conftest import assert_accessible, fits, new_context, watch_errors

pytestmark = pytest.mark.browser

WIDTHS = (1280, 320)


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def public_page(request: pytest.FixtureRequest, browser: Any, live_server: Any) -> Iterator[tuple[Any, int]]:
    width = request.param
    context = new_context(browser, live_server, viewport={"width": width, "height": 800})
    errors: list[str] = []
    page = watch_errors(context.new_page(), errors)
    yield page, width
    context.close()
    assert not errors, errors


def check(pg: Any, shot: Any, name: str, width: int) -> None:
    assert_accessible(pg, f"{name} at {width} px")
    assert fits(pg), f"{name} scrolls sideways at {width} px"
    shot(pg, f"public-{name}-{width}")


def test_the_public_reads_the_grants_and_downloads_the_data(public_page, shot) -> None:  # type: ignore[no-untyped-def]
    page, width = public_page
    page.goto("/grants-awarded")
    expect(page.locator("h1")).to_have_text("Grants awarded")
    check(page, shot, "grants", width)

    year = financial_year_start(uk_today())
    page.select_option("#filter-year", str(year))
    page.select_option("#filter-month", "4")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#filter-month option[selected]")).to_have_attribute("value", "4")
    check(page, shot, "grants-filtered", width)

    page.goto("/grants-awarded")
    page.locator("[data-testid=grants] a").first.click()
    expect(page.locator("[data-testid=grant-status]")).to_be_visible()
    check(page, shot, "grant", width)
    page.get_by_text("Standard conditions, as in the signed agreement").click()
    expect(page.locator("[data-testid=standard-conditions]")).to_be_visible()

    page.goto("/grants-awarded")
    link = page.locator("[data-testid=open-data] a[href$='/all-years.json']")
    expect(link).to_contain_text("JSON")
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and json.loads(response.text())["grants"]

    page.goto("/spending-over-500")
    check(page, shot, "spending", width)
