"""Sign-in throttling (grants/auth/throttle.py): failures counted in the database per client address, per
account from one address and per account from anywhere; waits that double; a refusal is a 429 that checks
no password; someone else's failures never lock an account's owner out for long; and 24 wrong passwords
sent at once to a four-worker gunicorn check no more passwords than the limit, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from grants.auth import rules as accounts
from grants.auth.rules import set_password
from grants.core.config import PROJECT_ROOT
from grants.core.extensions import db
from grants.core.models import AuditEvent, ResetRequest, ThrottleCounter, User, utcnow
from tests.conftest import PASSWORD, World, field_error, fresh_code, page
from tests.test_several_servers import BIN, Browser, csrf_token, free_port, wait_until_up

HOME, ELSEWHERE = "198.51.100.7", "203.0.113.9"
WAIT_MESSAGE = "Too many attempts. Wait {}, then try again."


def attempt(client: FlaskClient, email: str, password: str, address: str = HOME) -> Any:
    return client.post("/sign-in", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def count(action: str, user: User) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_type == "user", AuditEvent.object_id == user.id)) or 0


def blocked_until(key: str) -> Any:
    db.session.rollback()
    return db.session.scalar(select(ThrottleCounter.blocked_until).where(ThrottleCounter.key == key))


def end_blocks() -> None:
    """As if every wait had passed."""
    db.session.execute(update(ThrottleCounter).values(blocked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


@pytest.fixture()
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The password hashes verified, in order: a refused attempt verifies none."""
    calls: list[str] = []
    real = accounts.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    return calls


def test_after_the_free_failures_even_the_right_password_waits_and_nothing_is_checked(
        app: Flask, client: FlaskClient, world: World, checked: list[str]) -> None:
    user = world.user("applicant")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for n in range(limit):
        response = attempt(client, user.email, f"wrong-password-{n}")
        assert response.status_code == 200 and field_error(response, "email") == accounts.SIGN_IN_FAILED
    assert len(checked) == limit and count("user.sign_in_failed", user) == limit
    checked.clear()
    response = attempt(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert response.headers["Retry-After"] in {"59", "60"}
    assert field_error(response, "email") == WAIT_MESSAGE.format("1 minute")
    assert page(response).select_one("input[name=email]")["value"] == user.email  # what was typed is kept
    assert checked == [] and count("user.sign_in_throttled", user) == 1
    assert client.get("/bids/").status_code == 302  # not signed in
    # The wait over, one attempt is allowed; another failure doubles the wait.
    end_blocks()
    attempt(client, user.email, "wrong-again")
    assert attempt(client, user.email, PASSWORD).headers["Retry-After"] in {"119", "120"}
    # The waits double up to LOGIN_LOCKOUT_MINUTES, never longer.
    for _ in range(8):
        end_blocks()
        attempt(client, user.email, "wrong-again")
    most = app.config["LOGIN_LOCKOUT_MINUTES"] * 60
    assert int(attempt(client, user.email, PASSWORD).headers["Retry-After"]) in {most - 1, most}
    # Then the right password works, and clears the account's counts.
    end_blocks()
    assert attempt(client, user.email, PASSWORD).status_code == 302
    assert blocked_until(f"sign-in account {user.email} from {HOME}") is None


def test_failures_from_elsewhere_never_lock_the_owner_out_for_long(app: Flask, client: FlaskClient,
                                                                    world: World) -> None:
    user = world.user("applicant")
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(client, user.email, f"guess-{n}", address=ELSEWHERE)
    assert attempt(client, user.email, "guess", address=ELSEWHERE).status_code == 429
    # The owner, at their own address, signs in as usual.
    assert attempt(client, user.email, PASSWORD, address=HOME).status_code == 302
    client.post("/sign-out")
    # Guessing spread over many addresses slows the account down by a minute at most.
    most = app.config["LOGIN_ACCOUNT_MAX_FAILURES"]
    for n in range(most):
        assert attempt(client, user.email, f"guess-{n}", address=f"192.0.2.{n + 1}").status_code == 200
    response = attempt(client, user.email, PASSWORD, address=HOME)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) <= app.config["LOGIN_ACCOUNT_MAX_WAIT_SECONDS"]


def test_one_address_trying_many_accounts_is_slowed_down(app: Flask, client: FlaskClient, world: World) -> None:
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    for n in range(limit):
        assert attempt(client, f"person{n}@example.org", "Spring2024!!").status_code == 200
    # Any account from that address now waits, a known one or not...
    assert attempt(client, "someone-else@example.org", "Spring2024!!").status_code == 429
    response = attempt(client, world.user("applicant").email, PASSWORD)
    assert response.status_code == 429
    assert field_error(response, "email") == WAIT_MESSAGE.format("1 minute")
    # ...while other addresses are not held up.
    assert attempt(client, world.user("applicant").email, PASSWORD, address=ELSEWHERE).status_code == 302


def test_a_success_gives_the_address_its_attempt_back(app: Flask, client: FlaskClient, world: World) -> None:
    """An office behind one address signs in all day without being slowed down."""
    for _ in range(app.config["LOGIN_ADDRESS_MAX_FAILURES"] + 5):
        assert attempt(client, world.user("applicant").email, PASSWORD).status_code == 302
        client.post("/sign-out")


def test_a_new_password_clears_the_accounts_counts(app: Flask, client: FlaskClient, world: World) -> None:
    user = world.user("applicant")
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(client, user.email, f"wrong-{n}")
    assert attempt(client, user.email, PASSWORD).status_code == 429
    set_password(user, "quiet-harbour-violet-engine", world.user("admin"), action="user.password_set_by_admin")
    db.session.commit()
    assert attempt(client, user.email, "quiet-harbour-violet-engine").status_code == 302


def test_counts_are_forgotten_after_an_hour_without_failures(app: Flask, client: FlaskClient,
                                                             world: World) -> None:
    user = world.user("applicant")
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(client, user.email, f"wrong-{n}")
    db.session.execute(update(ThrottleCounter).values(updated_at=utcnow() - timedelta(hours=1, seconds=1)))
    db.session.commit()
    assert attempt(client, user.email, PASSWORD).status_code == 302


def test_security_codes_are_throttled_too(app: Flask, client: FlaskClient, world: World) -> None:
    officer = world.user("officer")
    assert attempt(client, officer.email, PASSWORD).headers["Location"] == "/sign-in/code"
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        response = client.post("/sign-in/code", data={"code": "000000"})
        assert response.status_code == 200
    response = client.post("/sign-in/code", data={"code": fresh_code(officer.email)})
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert field_error(response, "code") == WAIT_MESSAGE.format("1 minute")
    assert count("user.code_refused", officer) == app.config["LOGIN_MAX_FAILURES"]
    # Recovery codes share the same count.
    assert client.post("/sign-in/recovery-code", data={"code": "abcde-fghjk"}).status_code == 429


def test_the_counters_hold_no_password(app: Flask, client: FlaskClient, world: World) -> None:
    attempt(client, world.user("applicant").email, "a-secret-wrong-password")
    keys = " ".join(db.session.scalars(select(ThrottleCounter.key)))
    assert "a-secret-wrong-password" not in keys and world.user("applicant").email in keys


# --- 24 wrong passwords at once, against gunicorn with four workers ---------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def four_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """gunicorn, four workers, on a new database of the given kind with the demo data; yields (address, url)."""
    engine = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/throttle.db"
    else:
        base = os.environ.get("TEST_DATABASE_URL")
        if not base:
            pytest.skip("needs TEST_DATABASE_URL (make test-postgres sets it)")
        name = f"throttle_{uuid.uuid4().hex[:8]}"
        engine = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development", "SECRET_KEY": "throttle-" + "x" * 40,
           "WEB_CONCURRENCY": "4", "FLASK_APP": "wsgi.py", "EVIDENCE_DIR": str(tmp_path / "evidence")}
    env.pop("TEST_DATABASE_URL", None)
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(BIN / "flask"), *command], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=PROJECT_ROOT,
                               env={**env, "BIND": f"127.0.0.1:{port}"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}", url
    finally:
        process.terminate()
        process.wait(timeout=30)
        if engine is not None:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()


def test_simultaneous_wrong_passwords_check_no_more_than_the_limit(four_workers: tuple[str, str]) -> None:
    address, url = four_workers
    email = "finance@opcc.example"
    browsers = [Browser() for _ in range(24)]
    forms = [csrf_token(browser.get(f"{address}/sign-in")[1]) for browser in browsers]

    def wrong(n: int) -> int:
        return browsers[n].post(f"{address}/sign-in",
                                {"csrf_token": forms[n], "email": email, "password": f"wrong-{n}"})[0]

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(wrong, range(24)))
    assert set(answers) <= {200, 429} and 429 in answers
    engine = create_engine(url)
    with engine.connect() as conn:
        checked = conn.execute(text(
            "SELECT count(*) FROM audit_event e JOIN \"user\" u ON u.id = e.object_id "
            "WHERE e.action = 'user.sign_in_failed' AND e.object_type = 'user' AND u.email = :email"),
            {"email": email}).scalar_one()
    engine.dispose()
    assert 1 <= checked <= 5  # LOGIN_MAX_FAILURES
    assert answers.count(200) == checked


def test_asking_for_reset_emails_is_limited_per_address(app: Flask, client: FlaskClient, world: World) -> None:
    limit = app.config["RESET_MAX_REQUESTS"]
    for n in range(limit):
        response = client.post("/forgot-password", data={"email": f"someone{n}@example.org"},
                               environ_base={"REMOTE_ADDR": HOME})
        assert response.status_code == 200
    response = client.post("/forgot-password", data={"email": world.user("applicant").email},
                           environ_base={"REMOTE_ADDR": HOME})
    assert response.status_code == 429 and field_error(response, "email") == WAIT_MESSAGE.format("5 minutes")
    assert db.session.scalar(select(func.count()).select_from(ResetRequest)) == limit
    other = client.post("/forgot-password", data={"email": world.user("applicant").email},
                        environ_base={"REMOTE_ADDR": ELSEWHERE})
    assert other.status_code == 200
