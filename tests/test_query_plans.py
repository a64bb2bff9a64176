"""Every list page's statements, read as the database plans them: none reads a whole large table where an
index could find its rows. On SQLite, EXPLAIN QUERY PLAN must show no bare "SCAN <table>" of a large table
(nor, with one, a sort of everything it read); on PostgreSQL, with sequential scans priced out (enable_seqscan off, so the plan uses
an index wherever one can serve), no "Seq Scan" on a large table remains."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from grants.core.dates import financial_year_start
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Bid, User
from grants.demo import DEMO_PASSWORD, seed_demo
from tests.conftest import sign_in

# Tables that grow with the work done; the rest (funds, fund-years, measures) stay small whatever the scale.
LARGE = {"bid", "award", "grant_agreement", "payment", "monitoring_return", "audit_event", "outbox_email",
         "budget_line", "decision", "assessment", "bid_snapshot", "measure_value", "return_spend",
         "return_evidence", "user", "organisation"}


def list_pages(year: int, bid_id: int) -> list[tuple[str | None, str]]:
    return [
        ("officer", "/assess/"), ("officer", "/assess/?status=submitted"), ("officer", "/agreements/"),
        ("officer", "/monitoring/"), ("officer", "/monitoring/?status=overdue"), ("finance", "/finance/"),
        ("officer", f"/assess/bids/{bid_id}"),
        ("applicant", "/bids/"), ("applicant", "/monitoring/"), ("applicant", "/agreements/"),
        ("admin", "/admin/users"), ("admin", "/admin/organisations"), ("admin", "/admin/funds"),
        ("admin", "/admin/outbox"), ("officer", "/notifications/"), ("applicant", "/notifications/"),
        (None, "/grants-awarded"), (None, f"/grants-awarded?year={year}&month=4"), (None, "/spending-over-500"),
        (None, f"/spending-over-500?year={year}&month=5"),
    ]


def statements(client: FlaskClient, path: str) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, path
    return seen


def problems_sqlite(statement: str, parameters: Any) -> list[str]:
    with db.engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters or ())]
    scans = [step for step in plan if (m := re.fullmatch(r"SCAN (\w+)(?: AS \w+)?", step)) and m.group(1) in LARGE]
    # A page that reads a whole large table and then sorts it for one page's rows: the sort is the cost too.
    sorts = [step for step in plan if "TEMP B-TREE FOR ORDER BY" in step] if scans else []
    return scans + sorts


def problems_postgres(statement: str, parameters: Any) -> list[str]:
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = [row[0] for row in (conn.exec_driver_sql(f"EXPLAIN {statement}", parameters) if parameters
                                    else conn.exec_driver_sql(f"EXPLAIN {statement}"))]
        conn.exec_driver_sql("RESET enable_seqscan")
    return [step.strip() for step in plan
            if (m := re.search(r"Seq Scan on (\w+)", step)) and m.group(1) in LARGE]


@pytest.fixture()
def demo(app: Flask) -> None:
    seed_demo(uk_today())


def test_no_list_page_reads_a_whole_large_table(app: Flask, client: FlaskClient, demo: None) -> None:
    dialect = db.engine.dialect.name
    check = problems_postgres if dialect == "postgresql" else problems_sqlite
    bid_id = db.session.scalar(db.select(Bid.id).where(Bid.status == "approved").limit(1))
    found: dict[str, list[str]] = {}
    for role, path in list_pages(financial_year_start(uk_today()), bid_id):
        client.post("/sign-out")
        if role:
            email = db.session.scalar(db.select(User.email).where(User.role == role).order_by(User.id))
            sign_in(client, email, DEMO_PASSWORD)
        for statement, parameters in statements(client, path):
            if re.match(r"SELECT count\(\*\) AS \w+\s+FROM \(SELECT", statement) and " WHERE " not in statement:
                continue  # counting every row of an unfiltered list reads them all, whatever the indexes
            if re.search(r"\bFROM (user|\"user\")\b", statement) and "WHERE" in statement and \
                    re.search(r"user\.(id|session_token) =", statement):
                continue  # the signed-in user, by key
            for problem in check(statement, parameters):
                found.setdefault(path, []).append(f"{problem}\n      in: {' '.join(statement.split())[:300]}")
    assert not found, "\n".join(f"{path}:\n    " + "\n    ".join(items) for path, items in found.items())


def test_the_check_notices_a_full_scan(app: Flask, demo: None) -> None:
    check = problems_postgres if db.engine.dialect.name == "postgresql" else problems_sqlite
    assert check("SELECT * FROM bid WHERE title = 'x'", None)
    assert not check("SELECT * FROM bid WHERE id = 1", None)
