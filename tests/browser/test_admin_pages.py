"""The administration pages that need no record to open: each is accessible, and photographed; the forms
for adding things are checked in their error state too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from grants import create_app
from tests.browser.conftest import ADMIN, assert_accessible, new_context, sign_in, watch_errors

pytestmark = pytest.mark.browser


def _admin_pages() -> list[tuple[str, str]]:
    """(endpoint, path) of every admin page that opens with a GET and needs no URL arguments."""
    app = create_app("testing")
    pages = [(rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("admin.") and "GET" in (rule.methods or ()) and not rule.arguments]
    return sorted(pages)


@pytest.fixture(scope="module")
def admin_session(browser: Any, live_server: Any) -> Iterator[tuple[Any, list[str]]]:
    """One signed-in admin for the whole module (signing in once keeps these checks quick), and the errors
    the browser reports."""
    context = new_context(browser, live_server)
    errors: list[str] = []
    page = watch_errors(context.new_page(), errors)
    sign_in(page, ADMIN)
    yield page, errors
    context.close()


@pytest.mark.parametrize(("endpoint", "path"), _admin_pages(), ids=lambda value: value)
def test_admin_page(admin_session, shot, endpoint: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page, errors = admin_session
    errors.clear()
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    assert page.locator("html.govuk-template").count() == 1, f"{path} is not drawn in the page layout"
    assert page.get_by_role("heading", level=1).count() == 1, f"{path} should have one main heading"
    assert_accessible(page, f"the admin page {path}")
    name = f"admin-{endpoint.removeprefix('admin.').replace('_', '-')}"
    shot(page, name)

    form = page.locator("main form[method=post]")
    if endpoint.startswith("admin.new_") and form.count() == 1:
        # Sent empty, a form for adding something must explain what is missing, accessibly.
        form.locator("button[type=submit], input[type=submit]").last.click()
        expect(page.locator(".govuk-error-summary"), f"{path} sent empty showed no error summary").to_be_visible()
        assert page.title().startswith("Error: ")
        assert_accessible(page, f"the admin page {path} with errors")
        shot(page, f"{name}-errors")
    assert not errors, "The browser reported errors:\n" + "\n".join(errors)
