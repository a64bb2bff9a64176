"""Two-step verification in the browser: a new member of staff sets up an authenticator at their first sign-in
(QR code and typed key), saves their recovery codes and signs in again with a code; each page is checked
with axe, at desktop width and on a 320 px phone."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from grants.core.extensions import db
from grants.core.models import Organisation, User
from grants.core.passwords import hash_password
from grants.demo import DEMO_PASSWORD
from tests.browser.conftest import (
    LIVE_APPS,
    assert_accessible,
    authenticator_code,
    error_summary,
    fits,
    sign_out,
    unique,
)

pytestmark = pytest.mark.browser


def new_officer() -> str:
    """A member of staff who has never signed in: no authenticator yet."""
    email = unique("new.officer").replace(" ", "-") + "@opcc.example"
    with LIVE_APPS[-1].app_context():
        opcc = db.session.scalar(db.select(Organisation).where(Organisation.org_type == "opcc"))
        db.session.add(User(email=email, name="New Officer", role="officer", password_hash=hash_password(DEMO_PASSWORD),
                            organisation_id=opcc.id if opcc else None))
        db.session.commit()
        db.session.remove()
    return email


def password_step(pg: Any, email: str) -> None:
    pg.goto("/sign-in")
    pg.fill("#email", email)
    pg.fill("#password", DEMO_PASSWORD)
    pg.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width", [1280, 320])
def test_set_up_at_first_sign_in_then_sign_in_with_a_code(page: Any, shot: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    email = new_officer()
    password_step(page, email)
    expect(page.get_by_role("heading", name="Set up two-step verification")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to add OPCC Grants to your authenticator app")).to_be_visible()
    assert fits(page)
    assert_accessible(page, "two-step set-up")
    shot(page, f"two-step-set-up-{width}")
    # A wrong code is said beside the field, and in the summary.
    page.fill("#code", "000000")
    page.get_by_role("button", name="Continue").click()
    assert error_summary(page) == ["Enter the code your authenticator app shows now: that code is wrong"]
    assert_accessible(page, "two-step set-up with an error")
    secret = page.get_by_test_id("secret").inner_text().replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    assert_accessible(page, "recovery codes")
    shot(page, f"recovery-codes-{width}")
    page.get_by_role("link", name="I have saved my recovery codes").click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("New Officer")
    sign_out(page)
    # Next time: the password, then a code.
    password_step(page, email)
    expect(page.get_by_role("heading", name="Enter your security code")).to_be_visible()
    assert_accessible(page, "security code")
    page.fill("#code", authenticator_code(email, secret))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("New Officer")
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_test_id("two-step")).to_contain_text("10 recovery codes left")
    assert_accessible(page, "your account")
