"""Signing in and out, lockout, session limits, password rules, password reset, disabled users, hashing."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.auth import rules as accounts
from grants.core.extensions import db
from grants.core.models import AuditEvent, OutboxEmail, PasswordResetToken, User, utcnow
from tests.conftest import PASSWORD, World, error_messages, field_error, page, sign_in

START = {"applicant": "/bids/", "officer": "/assess/", "approver": "/assess/", "finance": "/assess/",
         "admin": "/admin/"}
SIGN_IN_FAILED = "Enter a correct email address and password"
NEW_PASSWORD = "violet-kettle-harbour-lantern"
TOO_SHORT = "Password must be at least 12 characters"
TOO_COMMON = "Password is too common or easy to guess; choose another"
LINK_DOES_NOT_WORK = "This link does not work"


def attempt(client: FlaskClient, email: str, password: str) -> Any:
    return client.post("/sign-in", data={"email": email, "password": password})


def banner(response: Any) -> str:
    return " ".join(node.get_text(" ", strip=True) for node in page(response).select(".govuk-notification-banner"))


def signed_in(client: FlaskClient, role: str) -> bool:
    response = client.get(START[role])
    assert response.status_code in (200, 302)
    return response.status_code == 200


def events(action: str, user: User) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_type == "user", AuditEvent.object_id == user.id,
    ).order_by(AuditEvent.id)))


def fresh(user: User) -> User:
    db.session.rollback()
    db.session.refresh(user)
    return user


# Signing in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["applicant", "officer", "approver", "finance", "admin"])
def test_each_role_lands_on_its_own_start_page(client: FlaskClient, world: World, role: str) -> None:
    user = world.user(role)
    response = attempt(client, "  " + user.email.upper() + " ", PASSWORD)  # case and spaces do not matter
    assert response.status_code == 302
    assert response.headers["Location"] == START[role]
    home = client.get(START[role])
    assert home.status_code == 200
    assert page(home).select_one("[data-testid=signed-in-as]").get_text(strip=True).startswith(user.name)
    # Signed-in users who open the sign-in page again go to their start page.
    assert client.get("/sign-in").headers["Location"] == START[role]
    assert client.get("/").headers["Location"] == START[role]
    user = fresh(user)
    assert user.session_token and user.last_login_at is not None
    assert [e.action for e in events("user.signed_in", user)] == ["user.signed_in"]


def _normalised(response: Any, email: str) -> str:
    body = response.get_data(as_text=True).replace(email, "EMAIL")
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"|value="[^"]+" name="csrf_token"|'
                  r'id="csrf_token" name="csrf_token" type="hidden" value="[^"]+"', "CSRF", body)


def test_wrong_password_and_unknown_email_get_the_same_answer(app: Flask, client: FlaskClient, world: World) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        answers = []
        for email, password in (("officer@opcc.example", "not-the-password-at-all"),
                                ("nobody@opcc.example", "not-the-password-at-all"),
                                ("nobody@opcc.example", PASSWORD)):
            other = app.test_client()
            token = page(other.get("/sign-in")).select_one("input[name=csrf_token]")["value"]
            response = other.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})
            assert response.status_code == 200
            assert field_error(response, "email") == SIGN_IN_FAILED
            assert error_messages(response) == [SIGN_IN_FAILED]
            body = _normalised(response, email)
            assert token not in body and "CSRF" in body
            answers.append(body)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert answers[0] == answers[1] == answers[2]
    # The typed password is never sent back.
    assert "not-the-password-at-all" not in answers[0]


def test_empty_fields_each_have_a_message(client: FlaskClient, world: World) -> None:
    response = attempt(client, "", "")
    assert field_error(response, "email") == "Enter your email address"
    assert field_error(response, "password") == "Enter your password"
    assert error_messages(response) == ["Enter your email address", "Enter your password"]


def test_every_path_does_the_same_password_work(monkeypatch: Any, client: FlaskClient, world: World) -> None:
    """Unknown, wrong, locked and disabled accounts all verify one argon2 hash, so timing gives nothing away."""
    calls: list[str] = []
    real = accounts.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash[:9])
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    officer, finance = world.user("officer"), world.user("finance")
    finance.active = False
    officer.locked_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    for email, password in (("nobody@opcc.example", PASSWORD), ("approver@opcc.example", "wrong-password-here"),
                            (officer.email, PASSWORD), (finance.email, PASSWORD), ("admin@opcc.example", PASSWORD)):
        calls.clear()
        attempt(client, email, password)
        assert calls == ["$argon2id"], email


# Lockout -------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_failures", [None, 3])
def test_lockout_after_repeated_failures_even_with_the_right_password(app: Flask, client: FlaskClient, world: World,
                                                                      max_failures: int | None) -> None:
    if max_failures is not None:
        app.config["LOGIN_MAX_FAILURES"] = max_failures
    limit = app.config["LOGIN_MAX_FAILURES"]
    minutes = app.config["LOGIN_LOCKOUT_MINUTES"]
    user = world.user("officer")
    for n in range(1, limit):
        assert field_error(attempt(client, user.email, f"wrong-password-{n}"), "email") == SIGN_IN_FAILED
        assert fresh(user).locked_until is None and user.failed_logins == n
    before = utcnow()
    response = attempt(client, user.email, "wrong-password-last")
    assert field_error(response, "email") == SIGN_IN_FAILED
    user = fresh(user)
    assert user.locked_until is not None
    assert before + timedelta(minutes=minutes) <= user.locked_until <= utcnow() + timedelta(minutes=minutes)
    # The right password is refused while locked, with a message; nobody is signed in.
    response = attempt(client, user.email, PASSWORD)
    assert response.status_code == 200
    assert field_error(response, "email") == SIGN_IN_FAILED
    assert not signed_in(client, "officer")
    assert fresh(user).session_token is None
    # Every failure and the lock are on the record; the password never is.
    failed = events("user.sign_in_failed", user)
    assert [e.note for e in failed] == [f"failed attempt {n}" for n in range(1, limit)] + [
        f"failed attempt {limit}; locked for {minutes} minutes"]
    refused = events("user.sign_in_refused", user)
    assert [e.note for e in refused] == ["account locked"]
    assert events("user.signed_in", user) == []
    notes = " ".join(e.note for e in failed + refused)
    assert PASSWORD not in notes and "wrong-password" not in notes
    # Other accounts are not affected.
    sign_in(client, world.user("approver"))


def test_lockout_ends_after_the_configured_minutes(app: Flask, client: FlaskClient, world: World) -> None:
    user = world.user("admin")
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(client, user.email, f"wrong-password-{n}")
    user = fresh(user)
    locked_until = user.locked_until
    assert locked_until is not None
    minutes = app.config["LOGIN_LOCKOUT_MINUTES"]
    # A minute before the end it is still locked.
    user.locked_until = locked_until - timedelta(minutes=minutes - 1)
    db.session.commit()
    assert attempt(client, user.email, PASSWORD).status_code == 200
    assert not signed_in(client, "admin")
    # Move the lock back by the whole lockout time: it has ended, the right password works.
    user = fresh(user)
    user.locked_until = locked_until - timedelta(minutes=minutes, seconds=1)
    db.session.commit()
    response = attempt(client, user.email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert signed_in(client, "admin")
    user = fresh(user)
    assert user.failed_logins == 0 and user.locked_until is None


def test_a_successful_sign_in_resets_the_failure_count(app: Flask, client: FlaskClient, world: World) -> None:
    user = world.user("finance")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for n in range(limit - 1):
        attempt(client, user.email, f"wrong-password-{n}")
    sign_in(client, user)
    client.post("/sign-out")
    for n in range(limit - 1):
        attempt(client, user.email, f"wrong-password-{n}")
    assert fresh(user).locked_until is None
    sign_in(client, user)


# Session limits ------------------------------------------------------------------------------


def test_idle_session_is_signed_out_with_a_message(app: Flask, client: FlaskClient, world: World) -> None:
    sign_in(client, world.user("officer"))
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    # Just inside the limit: still signed in, and the request counts as activity.
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - idle + 60
    assert client.get("/assess/").status_code == 200
    with client.session_transaction() as session:
        assert session["last_seen"] > time.time() - 10
        session["last_seen"] = time.time() - idle - 5
    saved = client.get_cookie("session")
    assert saved is not None
    response = client.get("/assess/")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    message = banner(client.get("/sign-in"))
    assert "You were signed out because you had not used the service for a while. Sign in again." in message
    assert not signed_in(client, "officer")
    assert fresh(world.user("officer")).session_token is None
    # The old cookie does not bring the session back.
    client.set_cookie("session", saved.value)
    assert not signed_in(client, "officer")


def test_absolute_session_limit_signs_out_even_an_active_user(app: Flask, client: FlaskClient, world: World) -> None:
    sign_in(client, world.user("applicant"))
    absolute = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - absolute + 60
    assert client.get("/bids/").status_code == 200
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - absolute - 5
        session["last_seen"] = time.time()
    response = client.get("/bids/")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    assert (f"You were signed out because you signed in more than {hours} hours ago. Sign in again."
            in banner(client.get("/sign-in")))
    assert not signed_in(client, "applicant")
    assert fresh(world.user("applicant")).session_token is None


# Password rules ------------------------------------------------------------------------------


def reset_link(client: FlaskClient, email: str) -> str:
    before = db.session.scalar(select(func.count(OutboxEmail.id)))
    client.post("/forgot-password", data={"email": email})
    db.session.rollback()
    messages = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert len(messages) == before + 1
    match = re.search(r"https?://[^/\s]+(/reset-password/[A-Za-z0-9_\-]+)", messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)


@pytest.mark.parametrize(("password", "message"), [
    ("short-pw", TOO_SHORT),
    ("elevenchars", TOO_SHORT),
    ("password1234", TOO_COMMON),
    ("Password1234", TOO_COMMON),
    ("aaaaaaaaaaaaaaa", TOO_COMMON),
    ("finance@opcc.example", "Password must not be your email address"),
])
def test_reset_page_refuses_weak_passwords_beside_the_field(client: FlaskClient, world: World, password: str,
                                                             message: str) -> None:
    link = reset_link(client, "finance@opcc.example")
    old_hash = world.user("finance").password_hash
    response = client.post(link, data={"password": password, "confirm": password})
    assert response.status_code == 200
    assert field_error(response, "password") == message
    assert error_messages(response) == [message]
    assert fresh(world.user("finance")).password_hash == old_hash
    # The link was not used up by the refused attempt.
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302


def test_reset_page_needs_matching_passwords(client: FlaskClient, world: World) -> None:
    link = reset_link(client, "finance@opcc.example")
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert field_error(response, "confirm") == "Passwords do not match"


@pytest.mark.parametrize(("password", "message"), [("short-pw", TOO_SHORT), ("qwerty123456", TOO_COMMON)])
def test_admin_forms_refuse_weak_passwords_beside_the_field(as_role, world: World, password: str,
                                                            message: str) -> None:
    client = as_role("admin")
    response = client.post("/admin/users/new", data={
        "email": "new.person@fenland.example", "name": "New Person", "role": "applicant",
        "organisation_id": str(world.csp.id), "password": password})
    assert response.status_code == 200
    assert field_error(response, "password") == message
    assert message in error_messages(response)
    assert db.session.scalar(select(User).where(User.email == "new.person@fenland.example")) is None

    officer = world.user("officer")
    old_hash = officer.password_hash
    response = client.post(f"/admin/users/{officer.id}/password", data={"password": password, "confirm": password})
    assert response.status_code == 200
    assert field_error(response, "password") == message
    assert fresh(officer).password_hash == old_hash


# Password reset ------------------------------------------------------------------------------


def test_forgot_password_answers_the_same_and_mails_known_addresses_only(app: Flask, client: FlaskClient,
                                                                         world: World) -> None:
    known = client.post("/forgot-password", data={"email": "Officer@OPCC.example"})
    unknown = client.post("/forgot-password", data={"email": "nobody@opcc.example"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert page(known).h1.get_text(strip=True) == "Check your email"
    db.session.rollback()
    messages = db.session.scalars(select(OutboxEmail)).all()
    assert [(m.to_address, m.subject) for m in messages] == [("officer@opcc.example", "Reset your password")]
    assert "/reset-password/" in messages[0].body
    # Only the token's hash is stored.
    token = messages[0].body.split("/reset-password/")[1].split()[0]
    rows = db.session.scalars(select(PasswordResetToken)).all()
    assert len(rows) == 1 and rows[0].user_id == world.user("officer").id
    assert token not in rows[0].token_hash
    assert rows[0].expires_at <= utcnow() + timedelta(hours=app.config["PASSWORD_RESET_HOURS"])
    assert [e.action for e in events("user.password_reset_requested", world.user("officer"))] == [
        "user.password_reset_requested"]


def test_reset_link_works_once_and_ends_every_session(app: Flask, client: FlaskClient, world: World) -> None:
    user = world.user("officer")
    elsewhere = app.test_client()
    sign_in(elsewhere, user)
    assert signed_in(elsewhere, "officer")

    link = reset_link(client, user.email)
    assert page(client.get(link)).h1.get_text(strip=True) == "Choose a new password"
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert "Your password has been changed. Sign in with your new password." in banner(client.get("/sign-in"))

    # The session that was open elsewhere has ended.
    assert not signed_in(elsewhere, "officer")
    # A second use of the link is refused, by GET or POST, and changes nothing.
    hash_after_reset = fresh(user).password_hash
    for response in (client.get(link),
                     client.post(link, data={"password": "another-long-passphrase", "confirm": "another-long-passphrase"})):
        assert response.status_code == 404
        assert page(response).h1.get_text(strip=True) == LINK_DOES_NOT_WORK
    assert fresh(user).password_hash == hash_after_reset
    # The old password fails; the new one works.
    assert field_error(attempt(client, user.email, PASSWORD), "email") == SIGN_IN_FAILED
    response = attempt(client, user.email, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/assess/"
    assert [e.action for e in events("user.password_reset", user)] == ["user.password_reset"]


def test_expired_and_tampered_links_are_refused(client: FlaskClient, world: World) -> None:
    user = world.user("approver")
    link = reset_link(client, user.email)
    token = link.rsplit("/", 1)[1]
    tampered = [link[:-1] + ("A" if link[-1] != "A" else "B"), link + "x", link[:-4], "/reset-password/" + token[::-1]]
    for bad in tampered:
        for response in (client.get(bad), client.post(bad, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})):
            assert response.status_code == 404, bad
            assert page(response).h1.get_text(strip=True) == LINK_DOES_NOT_WORK
    # Still good until it expires...
    assert client.get(link).status_code == 200
    row = db.session.scalars(select(PasswordResetToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for response in (client.get(link), client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})):
        assert response.status_code == 404
        assert page(response).h1.get_text(strip=True) == LINK_DOES_NOT_WORK
    # Nothing changed: the old password still works, the new one does not.
    assert field_error(attempt(client, user.email, NEW_PASSWORD), "email") == SIGN_IN_FAILED
    sign_in(client, user)


def test_a_password_change_voids_every_other_reset_link(as_role, world: World) -> None:
    client = as_role("admin")
    officer = world.user("officer")
    first = reset_link(client, officer.email)
    second = reset_link(client, officer.email)
    third = reset_link(client, officer.email)
    assert client.get(second).status_code == 200
    # Using one link voids the others...
    assert client.post(first, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    response = client.post(second, data={"password": "another-long-passphrase", "confirm": "another-long-passphrase"})
    assert response.status_code == 404
    assert page(response).h1.get_text(strip=True) == LINK_DOES_NOT_WORK
    # ...and so does an administrator setting the password.
    fourth = reset_link(client, officer.email)
    response = client.post(f"/admin/users/{officer.id}/password",
                           data={"password": "quiet-harbour-violet-engine", "confirm": "quiet-harbour-violet-engine"})
    assert response.status_code == 302
    for link in (third, fourth):
        assert client.get(link).status_code == 404
    assert field_error(attempt(app_client := client.application.test_client(), officer.email, NEW_PASSWORD),
                       "email") == SIGN_IN_FAILED
    assert attempt(app_client, officer.email, "quiet-harbour-violet-engine").status_code == 302


def test_reset_unlocks_a_locked_account(app: Flask, client: FlaskClient, world: World) -> None:
    user = world.user("finance")
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(client, user.email, f"wrong-password-{n}")
    assert fresh(user).locked_until is not None
    link = reset_link(client, user.email)
    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert attempt(client, user.email, NEW_PASSWORD).status_code == 302


# Disabled users ------------------------------------------------------------------------------


def test_a_disabled_user_cannot_sign_in_or_reset(client: FlaskClient, world: World) -> None:
    user = world.user("approver")
    user.active = False
    db.session.commit()
    response = attempt(client, user.email, PASSWORD)
    assert response.status_code == 200
    assert field_error(response, "email") == SIGN_IN_FAILED
    assert not signed_in(client, "approver")
    assert fresh(user).session_token is None
    # No reset email for a disabled account, and the same answer as for anyone else.
    response = client.post("/forgot-password", data={"email": user.email})
    assert page(response).h1.get_text(strip=True) == "Check your email"
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0


def test_deactivating_a_user_ends_their_open_session(app: Flask, client: FlaskClient, as_role, world: World) -> None:
    victim = app.test_client()
    sign_in(victim, world.user("officer"))
    assert signed_in(victim, "officer")
    admin = as_role("admin")
    officer = world.user("officer")
    response = admin.post(f"/admin/users/{officer.id}/edit", data={
        "name": officer.name, "role": "officer", "organisation_id": str(world.opcc.id)})  # "active" unticked
    assert response.status_code == 302
    assert not fresh(officer).active
    response = victim.get("/assess/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert field_error(attempt(victim, officer.email, PASSWORD), "email") == SIGN_IN_FAILED


def test_a_user_disabled_directly_in_the_database_is_signed_out(client: FlaskClient, world: World) -> None:
    sign_in(client, world.user("applicant"))
    assert signed_in(client, "applicant")
    user = world.user("applicant")
    user.active = False  # session_token left in place: the loader must still refuse them
    db.session.commit()
    assert not signed_in(client, "applicant")


# Password storage ----------------------------------------------------------------------------


def _everything_stored() -> str:
    db.session.rollback()
    dump = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            dump.append(repr(tuple(row)))
    return "\n".join(dump)


def test_passwords_are_stored_as_argon2id_hashes_never_in_plain_text(app: Flask, as_role, world: World) -> None:
    admin = as_role("admin")
    created_password = "copper-meadow-lantern-orbit"
    set_password = "quiet-harbour-violet-engine"
    response = admin.post("/admin/users/new", data={
        "email": "new.person@fenland.example", "name": "New Person", "role": "applicant",
        "organisation_id": str(world.csp.id), "password": created_password})
    assert response.status_code == 302
    officer = world.user("officer")
    response = admin.post(f"/admin/users/{officer.id}/password", data={"password": set_password,
                                                                       "confirm": set_password})
    assert response.status_code == 302
    other = app.test_client()
    link = reset_link(other, "finance@opcc.example")
    assert other.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302

    db.session.rollback()
    users = db.session.scalars(select(User)).all()
    assert users
    for user in users:
        assert user.password_hash.startswith("$argon2id$v=19$"), user.email
    hashes = {u.email: u.password_hash for u in users}
    assert len({hashes["new.person@fenland.example"], hashes["officer@opcc.example"],
                hashes["finance@opcc.example"]}) == 3
    stored = _everything_stored()
    for password in (created_password, set_password, NEW_PASSWORD, PASSWORD):
        assert password not in stored
    # Each stored hash is of the password that was set.
    for email, password in (("new.person@fenland.example", created_password),
                            ("officer@opcc.example", set_password), ("finance@opcc.example", NEW_PASSWORD)):
        fresh_client = app.test_client()
        response = attempt(fresh_client, email, password)
        assert response.status_code == 302, email
