"""Signing in and out, session limits, password rules, password reset, disabled users, hashing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.auth import rules as accounts
from grants.auth.resets import LINK_REMOVED
from grants.core.extensions import db
from grants.core.models import AuditEvent, OutboxEmail, PasswordResetToken, ResetRequest, User, utcnow
from grants.core.passwords import TRY_INSTEAD
from tests.conftest import PASSWORD, World, error_messages, field_error, fresh_code, page, sign_in
from tests.mailserver import PUBLIC_BASE_URL, MailServer, app_sending_to

# Every role lands on its own dashboard.
START = dict.fromkeys(("applicant", "officer", "approver", "finance", "admin"), "/dashboard/")
SIGN_IN_FAILED = "Enter a correct email address and password"
NEW_PASSWORD = "violet-kettle-harbour-lantern"
TOO_SHORT = "Password must be at least 12 characters"
VERY_COMMON = f"Password is too easy to guess: this is a very common password. {TRY_INSTEAD}"
LIKE_COMMON = f"Password is too easy to guess: this is similar to a commonly used password. {TRY_INSTEAD}"
REPEATS = f'Password is too easy to guess: repeats like "aaa" are easy to guess. {TRY_INSTEAD}'
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
    if role != "applicant":  # staff give a code from their authenticator too
        assert response.headers["Location"] == "/sign-in/code"
        assert client.get(START[role]).status_code == 302  # not signed in yet
        response = client.post("/sign-in/code", data={"code": fresh_code(user.email)})
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
    """Unknown, wrong and disabled accounts all verify one argon2 hash, so timing gives nothing away."""
    calls: list[str] = []
    real = accounts.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash[:9])
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    finance = world.user("finance")
    finance.active = False
    db.session.commit()
    for email, password in (("nobody@opcc.example", PASSWORD), ("approver@opcc.example", "wrong-password-here"),
                            (finance.email, PASSWORD), ("admin@opcc.example", PASSWORD)):
        calls.clear()
        attempt(client, email, password)
        assert calls == ["$argon2id"], email


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


@pytest.fixture()
def mail(app: Flask) -> Iterator[MailServer]:
    """Reset emails go out through a mail server on loopback; their links are read from what it receives."""
    with app_sending_to(app) as server:
        yield server


def reset_link(client: FlaskClient, email: str, mail: MailServer) -> str:
    """Ask for a reset link, run the mail sender as cron would, and read the link from the email sent."""
    before = len(mail.received)
    client.post("/forgot-password", data={"email": email})
    result = client.application.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and result.output.strip() == "Sent 1 message(s)", result.output
    assert len(mail.received) == before + 1
    body = mail.received[-1].get_content()
    match = re.search(re.escape(PUBLIC_BASE_URL) + r"(/reset-password/[A-Za-z0-9_\-]+)\s", body)
    assert match, body
    return match.group(1)


@pytest.mark.parametrize(("password", "message"), [
    ("short-pw", TOO_SHORT),
    ("elevenchars", TOO_SHORT),
    ("password1234", VERY_COMMON),
    ("Password1234", LIKE_COMMON),
    ("aaaaaaaaaaaaaaa", REPEATS),
    ("Summer2025!!", f"Password is too easy to guess. {TRY_INSTEAD}"),
    ("finance@opcc.example", "Password must not be your email address"),
])
def test_reset_page_refuses_weak_passwords_beside_the_field(client: FlaskClient, world: World, mail: MailServer,
                                                             password: str, message: str) -> None:
    link = reset_link(client, "finance@opcc.example", mail)
    old_hash = world.user("finance").password_hash
    response = client.post(link, data={"password": password, "confirm": password})
    assert response.status_code == 200
    assert field_error(response, "password") == message
    assert error_messages(response) == [message]
    assert fresh(world.user("finance")).password_hash == old_hash
    # The link was not used up by the refused attempt.
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302


def test_reset_page_needs_matching_passwords(client: FlaskClient, world: World, mail: MailServer) -> None:
    link = reset_link(client, "finance@opcc.example", mail)
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert field_error(response, "confirm") == "Passwords do not match"


@pytest.mark.parametrize(("password", "message"), [("short-pw", TOO_SHORT), ("qwerty123456", VERY_COMMON),
                                                  ("NewPerson2025!", f"Password is too easy to guess: it contains your "
                                                   f"name, your email address or a word from this service's name. "
                                                   f"{TRY_INSTEAD}")])
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
                                                                         world: World, mail: MailServer) -> None:
    known = client.post("/forgot-password", data={"email": "Officer@OPCC.example"})
    unknown = client.post("/forgot-password", data={"email": "nobody@opcc.example"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert page(known).h1.get_text(strip=True) == "Check your email"
    # The page only records the address; nothing is made or sent until the mail sender runs.
    db.session.rollback()
    assert [(r.email, r.handled_at) for r in db.session.scalars(select(ResetRequest).order_by(ResetRequest.id))] == [
        ("officer@opcc.example", None), ("nobody@opcc.example", None)]
    assert db.session.scalars(select(PasswordResetToken)).all() == db.session.scalars(select(OutboxEmail)).all() == []

    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.output.strip() == "Sent 1 message(s)"
    [message] = mail.received
    assert (message["To"], message["Subject"]) == ("officer@opcc.example", "Reset your password")
    match = re.search(re.escape(PUBLIC_BASE_URL) + r"/reset-password/([A-Za-z0-9_\-]+)\s", message.get_content())
    assert match, message.get_content()
    token = match.group(1)
    # Only the token's hash is stored, and the outbox keeps the email without its link.
    db.session.rollback()
    rows = db.session.scalars(select(PasswordResetToken)).all()
    assert len(rows) == 1 and rows[0].user_id == world.user("officer").id
    assert token not in rows[0].token_hash
    assert rows[0].expires_at <= utcnow() + timedelta(hours=app.config["PASSWORD_RESET_HOURS"])
    [copy] = db.session.scalars(select(OutboxEmail)).all()
    assert (copy.to_address, copy.subject) == ("officer@opcc.example", "Reset your password")
    assert copy.sent_at is not None and LINK_REMOVED in copy.body
    assert token not in copy.body and "/reset-password/" not in copy.body
    assert all(r.handled_at is not None for r in db.session.scalars(select(ResetRequest)))
    assert [e.action for e in events("user.password_reset_requested", world.user("officer"))] == [
        "user.password_reset_requested"]


def test_reset_link_works_once_and_ends_every_session(app: Flask, client: FlaskClient, world: World,
                                                      mail: MailServer) -> None:
    user = world.user("officer")
    elsewhere = app.test_client()
    sign_in(elsewhere, user)
    assert signed_in(elsewhere, "officer")

    link = reset_link(client, user.email, mail)
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
    sign_in(client, user, NEW_PASSWORD)  # staff then give a code from their authenticator
    assert signed_in(client, "officer")
    assert [e.action for e in events("user.password_reset", user)] == ["user.password_reset"]


def test_expired_and_tampered_links_are_refused(client: FlaskClient, world: World, mail: MailServer) -> None:
    user = world.user("approver")
    link = reset_link(client, user.email, mail)
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


def test_a_password_change_voids_every_other_reset_link(as_role, world: World, mail: MailServer) -> None:
    client = as_role("admin")
    officer = world.user("officer")
    first = reset_link(client, officer.email, mail)
    second = reset_link(client, officer.email, mail)
    third = reset_link(client, officer.email, mail)
    assert client.get(second).status_code == 200
    # Using one link voids the others...
    assert client.post(first, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    response = client.post(second, data={"password": "another-long-passphrase", "confirm": "another-long-passphrase"})
    assert response.status_code == 404
    assert page(response).h1.get_text(strip=True) == LINK_DOES_NOT_WORK
    # ...and so does an administrator setting the password.
    fourth = reset_link(client, officer.email, mail)
    response = client.post(f"/admin/users/{officer.id}/password",
                           data={"password": "quiet-harbour-violet-engine", "confirm": "quiet-harbour-violet-engine"})
    assert response.status_code == 302
    for link in (third, fourth):
        assert client.get(link).status_code == 404
    assert field_error(attempt(app_client := client.application.test_client(), officer.email, NEW_PASSWORD),
                       "email") == SIGN_IN_FAILED
    assert attempt(app_client, officer.email, "quiet-harbour-violet-engine").status_code == 302


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


def test_passwords_are_stored_as_argon2id_hashes_never_in_plain_text(app: Flask, as_role, world: World,
                                                                       mail: MailServer) -> None:
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
    link = reset_link(other, "finance@opcc.example", mail)
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
