"""Notifications in a browser: the menu entry says how many are unread to everyone (screen readers too), the pages
are accessible and fit a phone, and opening one brings the count down."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OFFICER, assert_accessible, fits, new_context, sign_in, too_wide, watch_errors

pytestmark = pytest.mark.browser


def unread_in_menu(pg: Any) -> int:
    """The number the menu entry's accessible name gives ("Notifications, 3 unread"); 0 when it names none."""
    name = pg.get_by_role("navigation", name="Menu").get_by_role("link", name=re.compile(r"^Notifications")).inner_text()
    match = re.search(r"(\d+)", name)
    return int(match.group(1)) if match else 0


def test_notifications_are_read_in_the_app(browser: Any, live_server: Any, shot: Any) -> None:
    context = new_context(browser, live_server)
    errors: list[str] = []
    pg = watch_errors(context.new_page(), errors)
    try:
        sign_in(pg, OFFICER)
        pg.goto("/notifications/")
        # The demo's submitted bids told the officer about each.
        unread = unread_in_menu(pg)
        assert unread > 1
        # Chromium puts a space before the visually hidden comma; a screen reader reads it as a pause all the same.
        expect(pg.get_by_role("link", name=re.compile(rf"^Notifications ?, {unread} unread$"))).to_be_visible()
        assert_accessible(pg, "the notifications list")
        shot(pg, "notifications")

        pg.locator("[data-testid=notifications] tr[data-unread] a").first.click()
        expect(pg.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(pg, "a notification")
        assert unread_in_menu(pg) == unread - 1
        shot(pg, "notification")

        pg.set_viewport_size({"width": 375, "height": 800})
        assert fits(pg), too_wide(pg)
        pg.get_by_role("link", name="Back to notifications").click()
        expect(pg.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
        assert fits(pg), too_wide(pg)
        shot(pg, "notifications-phone")

        pg.get_by_role("button", name="Mark all as read").click()
        expect(pg.locator(".govuk-notification-banner")).to_contain_text(f"{unread - 1} notifications marked as read")
        assert unread_in_menu(pg) == 0
        assert pg.locator("[data-testid=notifications] tr[data-unread]").count() == 0
        assert not errors, "The browser reported errors:\n" + "\n".join(errors)
    finally:
        context.close()
