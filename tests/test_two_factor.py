"""The second sign-in factor: staff must set up an authenticator at their first sign-in and give a code each
time; applicants may choose to. Codes are accepted once; recovery codes are kept hashed and work once; an
administrator's reset is audited; changing one's own password ends every other session."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.auth import two_factor
from grants.core.extensions import db
from grants.core.models import AuditEvent, RecoveryCode, User
from grants.core.passwords import verify_password
from tests.conftest import PASSWORD, World, field_error, fresh_code, page, sign_in

NEW_PASSWORD = "violet-kettle-harbour-lantern"


def refreshed(user: User) -> User:
    db.session.rollback()
    db.session.refresh(user)
    return user


def actions(user: User) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "user", AuditEvent.object_id == user.id).order_by(AuditEvent.id)))


def without_second_factor(user: User) -> User:
    user.totp_secret = user.totp_confirmed_at = user.totp_last_step = None
    db.session.commit()
    return user


def set_up_page_secret(response: Any) -> str:
    soup = page(response)
    assert soup.select_one("[data-testid=qr-code]")["src"].startswith("data:image/svg+xml")
    return soup.select_one("[data-testid=secret]").get_text(strip=True).replace(" ", "")


def shown_codes(response: Any) -> list[str]:
    return [li.get_text(strip=True) for li in page(response).select("[data-testid=recovery-codes] li")]


def signed_in(client: FlaskClient) -> bool:
    return page(client.get("/account")).select_one("[data-testid=signed-in-as]") is not None


def test_staff_set_up_an_authenticator_at_their_first_sign_in(client: FlaskClient, world: World) -> None:
    officer = without_second_factor(world.user("officer"))
    response = client.post("/sign-in", data={"email": officer.email, "password": PASSWORD})
    assert response.headers["Location"] == "/sign-in/set-up"
    assert client.get("/assess/").status_code == 302  # nothing opens before the second factor is set up
    secret = set_up_page_secret(client.get("/sign-in/set-up"))
    assert set_up_page_secret(client.get("/sign-in/set-up")) == secret  # a reload shows the same key
    assert len(secret) == 32
    response = client.post("/sign-in/set-up", data={"code": "123456" if pyotp.TOTP(secret).now() != "123456"
                                                     else "654321"})
    assert field_error(response, "code") == "Enter the code your authenticator app shows now: that code is wrong"
    assert refreshed(officer).totp_confirmed_at is None
    response = client.post("/sign-in/set-up", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = shown_codes(response)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
    assert page(response).select_one("a.govuk-button")["href"] == "/dashboard/"
    assert signed_in(client)
    officer = refreshed(officer)
    assert two_factor.is_set_up(officer) and officer.totp_secret == secret
    # Only hashes are kept.
    hashes = list(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == officer.id)))
    assert len(hashes) == 10 and not any(code.replace("-", "") in h for code in codes for h in hashes)
    assert all(any(verify_password(h, code.replace("-", "")) for h in hashes) for code in codes)
    assert actions(officer)[-2:] == ["user.two_factor_set_up", "user.signed_in"]


def test_staff_give_a_code_each_time_and_a_code_works_once(client: FlaskClient, world: World) -> None:
    approver = world.user("approver")
    response = client.post("/sign-in", data={"email": approver.email, "password": PASSWORD})
    assert response.headers["Location"] == "/sign-in/code"
    assert client.get("/assess/").status_code == 302
    code = fresh_code(approver.email)
    assert client.post("/sign-in/code", data={"code": code}).headers["Location"] == "/dashboard/"
    client.post("/sign-out")
    # The same code again, within its 30 seconds, is refused: someone who saw it cannot use it.
    client.post("/sign-in", data={"email": approver.email, "password": PASSWORD})
    response = client.post("/sign-in/code", data={"code": code})
    assert response.status_code == 200
    assert field_error(response, "code") == ("Enter the code your authenticator app shows now: that code is wrong "
                                             "or was used already")
    assert not signed_in(client)
    assert "user.code_refused" in actions(approver)


def test_codes_from_the_step_before_and_after_are_accepted_but_not_further(app: Flask, world: World) -> None:
    officer = world.user("officer")
    totp = pyotp.TOTP(officer.totp_secret or "")
    now = time.time()
    with app.test_request_context():
        assert not two_factor.accept_code(officer, totp.at(now - 60), now)
        assert not two_factor.accept_code(officer, totp.at(now + 60), now)
        assert two_factor.accept_code(officer, totp.at(now - 30), now)
        assert two_factor.accept_code(officer, totp.at(now + 30), now)
        assert not two_factor.accept_code(officer, totp.at(now), now)  # older than one already used
        assert not two_factor.accept_code(officer, "12345", now)
        assert not two_factor.accept_code(officer, "abcdef", now)


def test_the_password_step_expires(client: FlaskClient, world: World) -> None:
    finance = world.user("finance")
    client.post("/sign-in", data={"email": finance.email, "password": PASSWORD})
    with client.session_transaction() as session:
        session["pending_at"] -= 301
    response = client.post("/sign-in/code", data={"code": fresh_code(finance.email)})
    assert response.headers["Location"] == "/sign-in"
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(client: FlaskClient, world: World) -> None:
    admin = without_second_factor(world.user("admin"))
    client.post("/sign-in", data={"email": admin.email, "password": PASSWORD})
    secret = set_up_page_secret(client.get("/sign-in/set-up"))
    codes = shown_codes(client.post("/sign-in/set-up", data={"code": pyotp.TOTP(secret).now()}))
    client.post("/sign-out")
    for typed in (codes[3].upper().replace("-", " "), codes[3]):
        client.post("/sign-in", data={"email": admin.email, "password": PASSWORD})
        response = client.post("/sign-in/recovery-code", data={"code": typed})
        if typed != codes[3]:  # first use: spaces and capitals do not matter
            assert response.headers["Location"] == "/dashboard/"
            client.post("/sign-out")
        else:
            assert field_error(response, "code") == "Enter a recovery code you have not used before"
    assert actions(admin).count("user.recovery_code_used") == 1
    assert two_factor.remaining_recovery_codes(admin) == 9


def test_applicants_choose_and_may_turn_it_off(client: FlaskClient, world: World) -> None:
    applicant = world.user("applicant")
    sign_in(client, applicant)  # password only
    assert page(client.get("/account")).select_one("[data-testid=two-step]").get_text(strip=True) == "Off"
    secret = set_up_page_secret(client.get("/account/two-step"))
    response = client.post("/account/two-step", data={"code": pyotp.TOTP(secret).now()})
    assert len(shown_codes(response)) == 10
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": applicant.email, "password": PASSWORD}).headers["Location"] \
        == "/sign-in/code"
    assert client.post("/sign-in/code", data={"code": fresh_code(applicant.email)}).headers["Location"] == "/dashboard/"
    assert client.post("/account/two-step/turn-off").headers["Location"] == "/account"
    assert signed_in(client)  # this session carries on
    assert refreshed(applicant).totp_secret is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == applicant.id)) == 0
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": applicant.email, "password": PASSWORD}).headers["Location"] \
        == "/dashboard/"
    assert "user.two_factor_turned_off" in actions(applicant)


def test_staff_cannot_turn_it_off(client: FlaskClient, world: World) -> None:
    officer = world.user("officer")
    sign_in(client, officer)
    assert "Turn off" not in client.get("/account").get_data(as_text=True)
    client.post("/account/two-step/turn-off")
    assert two_factor.is_set_up(refreshed(officer))


def test_new_recovery_codes_need_a_code_and_replace_the_old(client: FlaskClient, world: World) -> None:
    finance = world.user("finance")
    sign_in(client, finance)
    old = two_factor.replace_recovery_codes(finance)
    db.session.commit()
    assert field_error(client.post("/account/recovery-codes", data={"code": "000000"}), "code")
    new = shown_codes(client.post("/account/recovery-codes", data={"code": fresh_code(finance.email)}))
    assert len(new) == 10 and not set(new) & set(old)
    assert not two_factor.use_recovery_code(finance, old[0])
    assert two_factor.use_recovery_code(finance, new[0])


def test_an_administrator_resets_a_lost_second_factor(app: Flask, client: FlaskClient, world: World) -> None:
    officer = world.user("officer")
    officer_client = app.test_client()
    sign_in(officer_client, officer)
    sign_in(client, world.user("admin"))
    form = page(client.get(f"/admin/users/{officer.id}/two-step"))
    assert "Reset two-step verification for" in form.h1.get_text()
    response = client.post(f"/admin/users/{officer.id}/two-step")
    assert response.headers["Location"] == "/admin/users"
    officer = refreshed(officer)
    assert officer.totp_secret is None and officer.session_token is None
    assert officer_client.get("/assess/").status_code == 302  # signed out everywhere
    reset = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.two_factor_reset",
                                                       AuditEvent.object_id == officer.id))
    assert reset is not None and reset.actor_id == world.user("admin").id
    # At the next sign-in the officer sets up a new authenticator.
    assert officer_client.post("/sign-in", data={"email": officer.email, "password": PASSWORD}) \
        .headers["Location"] == "/sign-in/set-up"
    # Nothing to reset: said beside the button, nothing changes.
    response = client.post(f"/admin/users/{world.user('applicant').id}/two-step")
    assert response.status_code == 200 and "has no two-step verification to reset" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["applicant", "officer"])
def test_changing_your_own_password_ends_your_other_sessions(app: Flask, client: FlaskClient, world: World,
                                                             role: str) -> None:
    user = world.user(role)
    elsewhere = app.test_client()
    sign_in(elsewhere, user)
    sign_in(client, user)
    response = client.post("/account/password", data={"current": "not-my-password", "password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert field_error(response, "current") == "Enter your current password correctly"
    response = client.post("/account/password", data={"current": PASSWORD, "password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD + "x"})
    assert field_error(response, "confirm") == "Passwords do not match"
    response = client.post("/account/password", data={"current": PASSWORD, "password": "short",
                                                      "confirm": "short"})
    assert field_error(response, "password") == "Password must be at least 12 characters"
    assert verify_password(refreshed(user).password_hash, PASSWORD)
    response = client.post("/account/password", data={"current": PASSWORD, "password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/account"
    assert signed_in(client)
    assert not signed_in(elsewhere)
    assert verify_password(refreshed(user).password_hash, NEW_PASSWORD)
    assert {"user.password_change_refused", "user.password_changed"} <= set(actions(user))
    client.post("/sign-out")
    sign_in(client, user, NEW_PASSWORD)
