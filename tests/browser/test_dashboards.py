"""Each demo role signs in and lands on its dashboard, which passes axe and fits a phone's width (320 and 375 pixels)
without sideways scrolling. With UPDATE_SCREENSHOTS=1 the README's pictures (docs/screenshots/dashboard-<role>.png,
1280 wide) are written again from the demo data."""

from __future__ import annotations

import os
import re

import pytest

from grants.core.config import PROJECT_ROOT
from tests.browser.conftest import ADMIN, APPLICANT, APPROVER, FINANCE, OFFICER, assert_accessible, fits, sign_in

pytestmark = pytest.mark.browser
ROLES = {"applicant": APPLICANT, "officer": OFFICER, "approver": APPROVER, "finance": FINANCE, "admin": ADMIN}
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_lands_on_an_accessible_dashboard_that_fits_a_phone(page, role: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, ROLES[role])
    assert re.search(r"/dashboard/$", page.url), page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Home"
    assert page.locator("main [data-testid$=-count], main svg[role=img]").count() > 0
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{role}.png"), full_page=True)
    for width in (320, 375):
        page.set_viewport_size({"width": width, "height": 800})
        page.reload()
        assert fits(page), f"the {role} dashboard scrolls sideways at {width} pixels wide"
        assert_accessible(page, f"the {role} dashboard at {width} pixels wide")
