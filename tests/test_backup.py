"""`flask backup`: a consistent copy of a live SQLite database, and a clear refusal for PostgreSQL.

The SQLite tests always use a file database of their own, so they run in the PostgreSQL suite too;
the pg_dump round trip runs when TEST_DATABASE_URL names a PostgreSQL server.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Table, create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from grants import create_app
from grants.core.audit import record_event
from grants.core.backup import POSTGRES_ADVICE, default_backup_path
from grants.core.config import database_url
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import AuditEvent, Bid, BidSnapshot, BudgetLine, Fund, FundYear, Organisation, OutboxEmail
from tests.conftest import World


@pytest.fixture()
def database_uri_base() -> None:
    """Overrides conftest's: the shared `app` fixture then uses a SQLite file, whatever TEST_DATABASE_URL says."""
    return None


def add_records(world: World) -> None:
    """Bids with budget lines and snapshots, audit events and an email, on top of the world's records."""
    applicant = world.user("applicant")
    for number, (status, title) in enumerate([("draft", "Street lighting"), ("submitted", "Youth club — Wisbech"),
                                              ("submitted", "Bike marking")], start=1):
        bid = Bid(organisation_id=world.csp.id, fund_year_id=world.scf_year.id, created_by_id=applicant.id,
                  status=status, title=title, local_issue="Burglaries after dark\nand thefts",
                  location="Wisbech", theme="asb", start_date=uk_today() + timedelta(days=10),
                  end_date=uk_today() + timedelta(days=100), other_funding_pence=number * 100,
                  submitted_at=datetime.now(UTC) if status == "submitted" else None)
        bid.budget_lines = [BudgetLine(position=0, item="Lights", amount_pence=number * 1_000_00),
                            BudgetLine(position=1, item="Fitting", amount_pence=250_00)]
        db.session.add(bid)
        record_event(applicant, "bid.created", bid, to_state="draft")
        if status == "submitted":
            db.session.add(BidSnapshot(bid_id=bid.id, submission_number=1, facts={"title": title, "amount": number}))
            record_event(applicant, "bid.submitted", bid, from_state="draft", to_state="submitted",
                         details={"requested_pence": number * 1_000_00 + 250_00, "note": "première"})
    db.session.add(OutboxEmail(to_address="applicant@fenland.example", subject="Bid received", body="Thank you"))
    db.session.commit()


def rows(table: Table) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in db.session.execute(select(table).order_by(*table.primary_key.columns))]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the models define, in primary key order."""
    return {table.name: rows(table) for table in db.metadata.sorted_tables}


def test_backup_of_a_live_database_holds_every_record(app: Flask, world: World, tmp_path: Path) -> None:
    add_records(world)
    live_file = Path(db.engine.url.database or "")
    expected = snapshot()
    for table in ("organisation", "user", "fund", "fund_year", "bid", "budget_line", "bid_snapshot",
                  "audit_event", "outbox_email"):
        assert expected[table], f"no {table} rows: the comparison would prove nothing"
    assert db.session.execute(select(AuditEvent.details).where(AuditEvent.details.is_not(None))).first()

    # Another connection holds the database open in the middle of a write while the backup is taken.
    other = sqlite3.connect(live_file, timeout=30)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO organisation (name, org_type, active, created_at) "
                      "VALUES ('Not yet committed', 'csp', 1, '2025-01-01 00:00:00')")
        # The committed records are still in the write-ahead log: a copy of the main file alone would miss them.
        assert Path(f"{live_file}-wal").stat().st_size > 0
        output = tmp_path / "copies" / "grants-copy.db"
        result = app.test_cli_runner().invoke(args=["backup", "--output", str(output)])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == str(output)
    finally:
        other.rollback()
        other.close()

    assert stat.S_IMODE(output.stat().st_mode) == 0o600  # it holds password hashes
    assert [p.name for p in output.parent.iterdir()] == ["grants-copy.db"]  # no partial or journal files left
    with sqlite3.connect(output) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    check.close()

    restored = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{output}")
    with restored.app_context():
        try:
            assert set(inspect(db.engine).get_table_names()) == set(db.metadata.tables)
            assert snapshot() == expected
            assert db.session.scalar(select(Organisation).where(Organisation.name == "Not yet committed")) is None
        finally:
            db.session.remove()
            db.engine.dispose()


def test_backup_goes_to_instance_backups_by_default(app: Flask, world: World, tmp_path: Path) -> None:
    app.instance_path = str(tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path.parent == tmp_path / "instance" / "backups"
    assert re.fullmatch(r"grants-\d{8}-\d{6}\.db", path.name)
    with sqlite3.connect(path) as copy:
        assert copy.execute("SELECT count(*) FROM user").fetchone()[0] == len(world.users)
    copy.close()


def test_default_name_is_the_utc_time() -> None:
    when = datetime(2026, 3, 29, 1, 30, 5, tzinfo=UTC)
    assert default_backup_path("/srv/instance", when) == Path("/srv/instance/backups/grants-20260329-013005.db")


def test_backup_never_overwrites_a_file(app: Flask, world: World, tmp_path: Path) -> None:
    output = tmp_path / "existing.db"
    output.write_bytes(b"an older backup")
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(output)])
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert output.read_bytes() == b"an older backup"


def test_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'absent.db'}")
    output = tmp_path / "copy.db"
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(output)])
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert not output.exists() and not (tmp_path / "absent.db").exists()


def test_backup_refuses_an_in_memory_database(tmp_path: Path) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(tmp_path / "copy.db")])
    assert result.exit_code != 0
    assert "in memory" in result.output
    assert os.listdir(tmp_path) == []


def test_backup_refuses_postgresql_and_explains_pg_dump(tmp_path: Path) -> None:
    # Port 9 (discard) is never a PostgreSQL server: the command must answer without connecting.
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://grants@127.0.0.1:9/grants")
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(tmp_path / "copy.db")])
    assert result.exit_code != 0
    assert 'pg_dump -Fc "$DATABASE_URL"' in result.output
    assert 'pg_restore --clean --if-exists --no-owner -d "$DATABASE_URL"' in result.output
    assert POSTGRES_ADVICE.splitlines()[0] in result.output
    assert os.listdir(tmp_path) == []


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_dump")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), key=lambda p: int(p.parts[-3]))
    return candidates[-1].parent if candidates else None


@pytest.fixture()
def postgres_pair(worker_id: str) -> Iterator[tuple[str, str]]:
    """Two empty PostgreSQL databases of this test's own (source, restore target), dropped afterwards."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not (base and base.startswith("postgres")):
        pytest.skip("the pg_dump round trip needs TEST_DATABASE_URL (make test-postgres sets it)")
    url = make_url(database_url(base))
    worker = re.sub(r"\W", "", worker_id)
    names = [f"{url.database}_{worker}_{suffix}" for suffix in ("dump_source", "dump_target")]
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield tuple(url.set(database=n).render_as_string(hide_password=False) for n in names)  # type: ignore[misc]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_pg_dump_and_pg_restore_as_advised(postgres_pair: tuple[str, str], tmp_path: Path) -> None:
    """The commands the refusal prints, run as printed, copy every record of a PostgreSQL database."""
    bindir = _postgres_bin()
    assert bindir is not None, "pg_dump not found: install the Debian package postgresql-client"
    source, target = postgres_pair
    source_app = create_app("testing", SQLALCHEMY_DATABASE_URI=source)
    with source_app.app_context():
        db.create_all()
        org = Organisation(name="Fenland CSP", org_type="csp")
        fund = Fund(name="Safer Communities Fund", funding_source="opcc")
        db.session.add_all([org, fund])
        db.session.flush()
        db.session.add(FundYear(fund_id=fund.id, year_start=2025, budget_pence=20_000_00, per_bid_cap_pence=5_000_00,
                                delegation_limit_pence=2_500_00, opens_on=date(2025, 4, 1), closes_on=date(2026, 3, 31)))
        record_event(None, "organisation.created", org, details={"note": "première"})
        db.session.commit()
        expected = snapshot()
        db.session.remove()
        db.engine.dispose()
    assert expected["organisation"] and expected["fund_year"] and expected["audit_event"]

    # The indented lines of the advice are the commands.
    dump_line, restore_line = (line.strip() for line in POSTGRES_ADVICE.splitlines() if line.startswith("    "))
    assert dump_line.startswith("pg_dump -Fc ") and restore_line.startswith("pg_restore ")
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    # The libpq URL form the advice asks for: no "+psycopg".
    dumped = subprocess.run(["bash", "-c", dump_line], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env=dict(env, DATABASE_URL=source.replace("+psycopg", "")))
    assert dumped.returncode == 0, dumped.stderr
    (dump_file,) = tmp_path.glob("grants-*.dump")
    restore_line = restore_line.replace("grants-YYYYMMDD-HHMMSS.dump", dump_file.name)
    restored = subprocess.run(["bash", "-c", restore_line], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, env=dict(env, DATABASE_URL=target.replace("+psycopg", "")))
    assert restored.returncode == 0, restored.stderr

    target_app = create_app("testing", SQLALCHEMY_DATABASE_URI=target)
    with target_app.app_context():
        try:
            assert snapshot() == expected
        finally:
            db.session.remove()
            db.engine.dispose()
