"""Shared fixtures: an app with a fresh database per test, users of every role, a signed-in client."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyotp
import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer, make_server

from grants import create_app
from grants.bids.rules import BudgetLineInput, save_bid, start_bid, submit_bid
from grants.core.access import STAFF_ROLES
from grants.core.config import database_url
from grants.core.dates import financial_year_bounds, financial_year_start
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Bid, Fund, FundYear, Organisation, User, utcnow
from grants.core.passwords import hash_password

# Loaded by the controlling process, so the screenshot folder is named once for all xdist workers.
pytest_plugins = ["tests.browser.artifacts"]

PASSWORD = "correct-horse-battery-staple"
_PASSWORD_HASH = hash_password(PASSWORD)
# Staff made by `make_user` have their second factor set up with this authenticator key.
TOTP_SECRET = "JBSWY3DPEHPK3PXPTESTSTAFFKEY2345"


def _postgres_url_for_worker(base: str, worker: str) -> str:
    """One database per xdist worker, so parallel tests never share tables."""
    url = make_url(database_url(base))
    name = f"{url.database}_{worker}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_uri_base(worker_id: str) -> str | None:
    base = os.environ.get("TEST_DATABASE_URL")
    if base and base.startswith("postgres"):
        return _postgres_url_for_worker(base, re.sub(r"\W", "", worker_id))
    return None


@pytest.fixture()
def app(tmp_path: Any, database_uri_base: str | None) -> Iterator[Flask]:
    uri = database_uri_base or f"sqlite:///{tmp_path / 'test.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri)
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as on a real server.

    The `app` fixture keeps a context open for the test's own database work; without this,
    requests would share its `g` (and so Flask-Login's cached user) with each other.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


@dataclass
class World:
    """A small, known set of records most tests start from."""

    csp: Organisation
    other_csp: Organisation
    opcc: Organisation
    scf: Fund
    scf_year: FundYear
    closed_year: FundYear
    users: dict[str, User] = field(default_factory=dict)

    def user(self, role: str) -> User:
        return self.users[role]


def make_user(email: str, role: str, org: Organisation | None, name: str | None = None) -> User:
    user = User(email=email, name=name or email.split("@")[0].title(), role=role,
                organisation_id=org.id if org else None, password_hash=_PASSWORD_HASH)
    if role in STAFF_ROLES:
        user.totp_secret, user.totp_confirmed_at = TOTP_SECRET, utcnow()
    db.session.add(user)
    db.session.flush()
    return user


def make_submitted_bid(user: User, fund_year: FundYear, amount_pence: int, *, title: str = "Street lighting") -> Bid:
    """A bid for `fund_year`, submitted by `user` through the same rules the applicant's pages use; committed."""
    today = uk_today()
    bid = start_bid(user, fund_year, today)
    save_bid(bid, user, {
        "title": title, "local_issue": "Burglaries after dark", "activities": "New lights on two paths",
        "location": "Wisbech", "theme": "asb", "start_date": today + timedelta(days=10),
        "end_date": today + timedelta(days=100), "outputs": "Twelve lights", "outcomes": "Fewer burglaries",
        "declaration": True,
    }, [BudgetLineInput("Lights", amount_pence)])
    assert submit_bid(bid, user, today) == {}
    db.session.commit()
    return bid


@pytest.fixture()
def world(app: Flask) -> World:
    csp = Organisation(name="Fenland CSP", org_type="csp")
    other = Organisation(name="Huntingdonshire CSP", org_type="csp")
    opcc = Organisation(name="OPCC", org_type="opcc")
    db.session.add_all([csp, other, opcc])
    scf = Fund(name="Safer Communities Fund", funding_source="opcc")
    db.session.add(scf)
    db.session.flush()
    this_year = financial_year_start(uk_today())
    opens, closes = financial_year_bounds(this_year)
    scf_year = FundYear(fund_id=scf.id, year_start=this_year, budget_pence=20_000_00, per_bid_cap_pence=5_000_00,
                        delegation_limit_pence=2_500_00, opens_on=opens, closes_on=closes)
    p_opens, p_closes = financial_year_bounds(this_year - 1)
    closed = FundYear(fund_id=scf.id, year_start=this_year - 1, budget_pence=20_000_00, per_bid_cap_pence=5_000_00,
                      delegation_limit_pence=2_500_00, opens_on=p_opens, closes_on=p_closes)
    db.session.add_all([scf_year, closed])
    db.session.flush()
    w = World(csp=csp, other_csp=other, opcc=opcc, scf=scf, scf_year=scf_year, closed_year=closed)
    w.users["applicant"] = make_user("applicant@fenland.example", "applicant", csp, "Tom Hughes")
    w.users["other_applicant"] = make_user("applicant@hunts.example", "applicant", other, "Hana Hunts")
    for role in ("officer", "approver", "finance", "admin"):
        w.users[role] = make_user(f"{role}@opcc.example", role, opcc, f"{role.title()} Person")
    w.users["officer2"] = make_user("officer2@opcc.example", "officer", opcc, "Second Officer")
    db.session.commit()
    return w


def sign_in(client: FlaskClient, user: User | str, password: str = PASSWORD) -> None:
    """Sign in through the pages: the password, then (for staff) a code from the authenticator."""
    email = user if isinstance(user, str) else user.email
    response = client.post("/sign-in", data={"email": email, "password": password})
    assert response.status_code == 302, f"sign-in failed for {email}"
    if response.headers["Location"] == "/sign-in/code":
        response = client.post("/sign-in/code", data={"code": fresh_code(email)})
        assert response.status_code == 302, f"second factor refused for {email}"


def fresh_code(email: str) -> str:
    """The code the user's authenticator shows now. Each code is accepted once, so the record of the last
    one used is cleared first: as if the next code had come round."""
    db.session.rollback()  # read what the requests committed, not what this session remembers
    account = db.session.scalar(select(User).where(User.email == email))
    assert account is not None and account.totp_secret, f"{email} has no authenticator"
    db.session.execute(update(User).where(User.id == account.id).values(totp_last_step=None))
    db.session.commit()
    return pyotp.TOTP(account.totp_secret).now()


@pytest.fixture()
def as_role(client: FlaskClient, world: World):  # type: ignore[no-untyped-def]
    """as_role("officer") signs the test client in as that world user and returns the client."""

    def _as(role: str) -> FlaskClient:
        client.post("/sign-out")
        sign_in(client, world.user(role))
        return client

    return _as


@pytest.fixture()
def server(app: Flask) -> Iterator[BaseWSGIServer]:
    """The app on a loopback port, a thread for each request, as a production server would run it."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    thread.join(60)


def page(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def error_messages(response: Any) -> list[str]:
    """Texts of the error summary's links."""
    soup = page(response)
    return [a.get_text(strip=True) for a in soup.select(".govuk-error-summary__list a")]


def field_error(response: Any, field_id: str) -> str:
    """The inline error message shown for one field (by the id of its form group's error element)."""
    soup = page(response)
    node = soup.find(id=f"{field_id}-error")
    return node.get_text(" ", strip=True).replace("Error:", "").strip() if node else ""


def future(days: int) -> date:
    return uk_today() + timedelta(days=days)
