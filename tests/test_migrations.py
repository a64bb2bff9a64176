"""The Alembic migrations build exactly the schema the models describe, on SQLite and on PostgreSQL.

The newest revision is read from the migration scripts (head), so migrations added later are covered
without being named here. SQLite runs on a file database of the test's own; PostgreSQL runs, when
TEST_DATABASE_URL is set, in a database of its own that is dropped afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import CheckConstraint, MetaData, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from grants import create_app
from grants.core.extensions import db

VERSION_TABLE = "alembic_version"
NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """Alembic's env.py calls logging.config.fileConfig, which replaces the root handlers; put them back."""
    names = ["", "alembic", "flask_migrate", "sqlalchemy", "sqlalchemy.engine"]
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
    yield
    for name, (level, handlers, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.disabled = disabled


def _fresh_postgres_database(admin_url: Any, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # FORCE ends any connection a crashed earlier run left behind (PostgreSQL 13+).
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _drop_postgres_database(admin_url: Any, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """The URI of an empty database nobody else uses."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    base = request.getfixturevalue("database_uri_base")
    if base is None:
        pytest.skip("PostgreSQL migrations need TEST_DATABASE_URL (make test-postgres sets it)")
    # The worker's own database name with a suffix: the app fixture's tables are never touched.
    url = make_url(base)
    name = f"{url.database}_migrations"
    admin_url = url.set(database="postgres")
    _fresh_postgres_database(admin_url, name)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_postgres_database(admin_url, name)


@pytest.fixture()
def app(empty_database: str) -> Iterator[Flask]:
    """An app on the empty database; deliberately not the shared fixture, which builds tables with create_all."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def head_revisions(app: Flask) -> set[str]:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    return set(ScriptDirectory.from_config(config).get_heads())


def stored_revisions(uri: str) -> set[str]:
    """The revisions recorded in the database, read through a new engine so only committed rows count."""
    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def table_names(app: Flask) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def pending_changes(app: Flask) -> list[Any]:
    """What `flask db migrate` would write: the differences between the database and db.metadata."""
    with app.app_context():
        # The same comparison options Flask-Migrate gives Alembic (compare_type and so on).
        opts = dict(app.extensions["migrate"].configure_args)
        with db.engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata))


def check_constraint_differences(app: Flask) -> dict[str, set[str]]:
    """Named CHECK constraints missing from the database or not in the models.

    Alembic's autogenerate does not compare CHECK constraints, and the budget and amount
    rules rely on them, so they are compared here by name."""
    with app.app_context():
        inspector = inspect(db.engine)
        in_database = {
            (table, ck["name"])
            for table in inspector.get_table_names()
            if table != VERSION_TABLE
            for ck in inspector.get_check_constraints(table)
            if ck.get("name")
        }
    in_models = {
        (table.name, str(constraint.name))
        for table in db.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint) and constraint.name
    }
    return {
        "missing from the database": {f"{t}.{n}" for t, n in in_models - in_database},
        "not in the models": {f"{t}.{n}" for t, n in in_database - in_models},
    }


def assert_schema_matches_models(app: Flask, uri: str) -> None:
    assert pending_changes(app) == []
    assert check_constraint_differences(app) == {"missing from the database": set(), "not in the models": set()}
    assert table_names(app) == set(db.metadata.tables) | {VERSION_TABLE}
    assert stored_revisions(uri) == head_revisions(app)


def upgrade(app: Flask, revision: str = "head") -> None:
    with app.app_context():
        flask_migrate.upgrade(revision=revision)
        # Start the next step on new connections, so nothing a migration set on a pooled one carries over.
        db.engine.dispose()


def downgrade(app: Flask, revision: str) -> None:
    with app.app_context():
        flask_migrate.downgrade(revision=revision)
        db.engine.dispose()


def test_migrations_have_one_head() -> None:
    """Two migrations written in parallel against the same parent must be merged before they ship."""
    assert len(head_revisions(create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://"))) == 1


def test_upgrade_to_head_leaves_nothing_to_migrate(app: Flask, empty_database: str) -> None:
    assert table_names(app) == set()
    upgrade(app)
    assert_schema_matches_models(app, empty_database)


def test_downgrade_to_base_then_upgrade_again(app: Flask, empty_database: str) -> None:
    upgrade(app)
    downgrade(app, "base")
    assert table_names(app) <= {VERSION_TABLE}
    assert stored_revisions(empty_database) == set()
    with app.app_context():
        inspector = inspect(db.engine)
        if db.engine.dialect.name == "postgresql":
            # Leftover enum types or sequences would make the next upgrade fail or differ.
            assert inspector.get_sequence_names() == []
            assert inspector.get_enums() == []
        assert inspector.get_view_names() == []
    upgrade(app)
    assert_schema_matches_models(app, empty_database)


def test_flask_db_upgrade_command_builds_the_schema(app: Flask, empty_database: str) -> None:
    assert table_names(app) == set()
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()
    assert_schema_matches_models(app, empty_database)


def test_comparison_notices_a_difference(app: Flask, empty_database: str) -> None:
    """The checks above can fail: a dropped column and a dropped CHECK constraint are both reported."""
    upgrade(app)
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys = OFF")  # batch mode rebuilds the tables
            ops = Operations(MigrationContext.configure(conn))
            with ops.batch_alter_table("fund") as batch:
                batch.drop_column("description")
            with ops.batch_alter_table("fund_year") as batch:
                batch.drop_constraint("ck_fund_year_committed", type_="check")
        db.engine.dispose()
    changes = pending_changes(app)
    assert [(c[0], c[2], c[3].name) for c in changes if c[0] == "add_column"] == [("add_column", "fund", "description")]
    assert check_constraint_differences(app) == {
        "missing from the database": {"fund_year.ck_fund_year_committed"},
        "not in the models": set(),
    }


def rows_at_0002() -> dict[str, Any]:
    """An organisation, an officer, two funds, an award with its agreement and two monitoring returns, as the
    tables stood at revision 0002."""
    return {
        "organisation": {"id": 1, "name": "Fenland CSP", "org_type": "csp", "active": True, "created_at": NOW},
        "user": {"id": 1, "email": "o@opcc.example", "name": "Officer", "password_hash": "x", "role": "officer",
                 "active": True, "failed_logins": 0, "created_at": NOW},
        "fund": [{"id": 1, "name": "Safer Streets", "description": "", "funding_source": "home_office",
                  "monitoring_due_days": 31, "created_at": NOW},
                 {"id": 2, "name": "Victims", "description": "", "funding_source": "moj",
                  "monitoring_due_days": 31, "created_at": NOW}],
        "fund_year": {"id": 1, "fund_id": 1, "year_start": 2025, "budget_pence": 10_000_00, "per_bid_cap_pence": 5_000_00,
                      "delegation_limit_pence": 5_000_00, "committed_pence": 1_000_00, "opens_on": date(2025, 4, 1),
                      "closes_on": date(2026, 3, 31)},
        "bid": {"id": 1, "organisation_id": 1, "fund_year_id": 1, "created_by_id": 1, "status": "approved", "title": "T",
                "local_issue": "", "activities": "", "location": "", "theme": "asb", "outputs": "", "outcomes": "",
                "other_funding": "", "other_funding_pence": 0, "declaration": True, "declared_by": "", "version": 1,
                "created_at": NOW, "updated_at": NOW},
        "budget_line": {"id": 1, "bid_id": 1, "position": 0, "item": "Gates", "amount_pence": 1_000_00},
        "award": {"id": 1, "bid_id": 1, "fund_year_id": 1, "organisation_id": 1, "amount_pence": 1_000_00,
                  "reasons": "r", "approved_by_id": 1, "approved_at": NOW},
        "grant_agreement": {"id": 1, "award_id": 1, "bid_id": 1, "organisation_id": 1, "status": "active",
                            "amount_pence": 1_000_00, "scheduled_pence": 0, "start_date": date(2025, 4, 1),
                            "end_date": date(2026, 3, 31), "standard_conditions": "s", "special_conditions": "",
                            "prepared_by_id": 1, "accepted_name": "", "accepted_role": "", "end_reason": "",
                            "created_at": NOW, "updated_at": NOW, "version": 1},
        "monitoring_return": [
            {"id": 1, "agreement_id": 1, "period_start": date(2025, 4, 1), "period_end": date(2025, 9, 30),
             "due_on": date(2025, 10, 31), "status": "accepted", "progress": "Gates fitted",
             "outputs_achieved": "6 gates", "outcomes_achieved": "Fewer burglaries", "people_reached": 40,
             "spent_pence": 1_240_50, "challenges": "", "review_note": "", "version": 2},
            {"id": 2, "agreement_id": 1, "period_start": date(2025, 10, 1), "period_end": date(2026, 3, 31),
             "due_on": date(2026, 5, 1), "status": "due", "progress": "", "outputs_achieved": "",
             "outcomes_achieved": "", "people_reached": None, "spent_pence": None, "challenges": "",
             "review_note": "", "version": 1}],
    }


def insert_rows(uri: str, rows: dict[str, Any]) -> None:
    engine = create_engine(uri)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as conn:
        for table, values in rows.items():
            conn.execute(metadata.tables[table].insert(), values if isinstance(values, list) else [values])
    engine.dispose()


def test_monitoring_answers_are_kept_when_returns_gain_measures(app: Flask, empty_database: str) -> None:
    """0003 replaced a return's free-text outputs and outcomes and its two figures with outcome measures and
    spend lines: what grantees had written is kept in the progress text, and each return gets its period. 0004
    gave awards a published summary."""
    upgrade(app, "0002")
    insert_rows(empty_database, rows_at_0002())

    upgrade(app)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        returns = conn.execute(text("SELECT id, period_name, progress, submission_count, status FROM monitoring_return "
                                    "ORDER BY id")).all()
        frequencies = dict(conn.execute(text("SELECT name, reporting_frequency FROM fund")).all())
        kinds = conn.execute(text("SELECT kind FROM budget_line")).scalars().all()
        summaries = conn.execute(text("SELECT public_summary FROM award")).scalars().all()
    engine.dispose()
    assert [(r.id, r.period_name, r.submission_count, r.status) for r in returns] == [
        (1, "H1", 1, "accepted"), (2, "H2", 0, "due")]
    assert returns[0].progress == ("Gates fitted\n\nOutputs delivered: 6 gates\n\nOutcomes achieved: Fewer burglaries"
                                   "\n\nPeople reached: 40\n\nGrant spent in the period: £1,240.50")
    assert returns[1].progress == ""
    assert frequencies == {"Safer Streets": "quarterly", "Victims": "half_yearly"}
    assert kinds == ["revenue"]
    assert summaries == ["T"]  # 0004: an award made before summaries is published under its bid's title
    assert_schema_matches_models(app, empty_database)


def test_money_grows_to_64_bits_keeping_every_amount(app: Flask, empty_database: str) -> None:
    """0005: a fund-year's budget above £21,474,836.47 (the most 32 bits hold) can be stored, and what was
    stored before is kept."""
    upgrade(app, "0004")
    engine = create_engine(empty_database)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as conn:
        conn.execute(metadata.tables["fund"].insert(), [{
            "id": 1, "name": "Victims", "description": "", "funding_source": "moj", "monitoring_due_days": 31,
            "reporting_frequency": "half_yearly", "reminder_days": 14, "created_at": NOW}])
        conn.execute(metadata.tables["fund_year"].insert(), [{
            "id": 1, "fund_id": 1, "year_start": 2025, "budget_pence": 2_000_000_000, "per_bid_cap_pence": 5_000_00,
            "delegation_limit_pence": 5_000_00, "committed_pence": 1_234_56, "opens_on": date(2025, 4, 1),
            "closes_on": date(2026, 3, 31)}])
    engine.dispose()

    upgrade(app)
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT budget_pence, committed_pence FROM fund_year")).one() == (2_000_000_000, 1_234_56)
        conn.execute(text("UPDATE fund_year SET budget_pence = 5000000000, committed_pence = 4000000000"))
        assert conn.execute(text("SELECT SUM(budget_pence) + SUM(committed_pence) FROM fund_year")).scalar() == \
            9_000_000_000
    engine.dispose()
    assert_schema_matches_models(app, empty_database)


def test_a_repayment_due_becomes_a_repayment_and_comes_back_on_downgrade(app: Flask, empty_database: str) -> None:
    """0007 copied an ended agreement's repayment due into a repayment; 0008 drops the column. Going back to 0007
    fills it again with what the grantee is to repay: each repayment, a written-off one at what was received."""
    upgrade(app, "0002")
    rows = rows_at_0002()
    rows["grant_agreement"].update(status="terminated", ended_at=NOW, end_reason="Stopped", repayment_due_pence=300_00)
    insert_rows(empty_database, rows)
    upgrade(app, "0007")
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        copied = conn.execute(text("SELECT agreement_id, amount_pence, received_pence, status, reason "
                                   "FROM repayment")).all()
        assert [tuple(r) for r in copied] == [(1, 300_00, 0, "due", "Stopped")]
        conn.execute(text("UPDATE repayment SET received_pence = 10000, status = 'part_received'"))
        conn.execute(text("INSERT INTO repayment (agreement_id, amount_pence, received_pence, status, reason, due_on, "
                          "created_by_id, created_at, version) VALUES (1, 20000, 5000, 'cancelled', 'Misused', "
                          ":due, 1, :now, 1)"), {"due": date(2026, 1, 1), "now": NOW})
    engine.dispose()

    upgrade(app)
    assert_schema_matches_models(app, empty_database)
    downgrade(app, "0007")
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT repayment_due_pence FROM grant_agreement")).scalar() == 300_00 + 50_00
        with pytest.raises(IntegrityError):
            with conn.begin_nested():
                conn.execute(text("UPDATE grant_agreement SET repayment_due_pence = -1"))
    engine.dispose()
    upgrade(app)
    assert_schema_matches_models(app, empty_database)


def test_outbox_emails_gain_their_recipients(app: Flask, empty_database: str) -> None:
    """0009: each email already queued names the user whose address it went to, matched without regard to case;
    mail to an address that is no user's names nobody. All start unread."""
    upgrade(app, "0008")
    user = {"email": "", "name": "", "password_hash": "x", "role": "officer", "active": True, "created_at": NOW}
    mail = {"subject": "Hello", "body": "Body", "created_at": NOW, "error": ""}
    insert_rows(empty_database, {
        "user": [{**user, "id": 1, "email": "officer@opcc.example"}, {**user, "id": 2, "email": "approver@opcc.example"}],
        "outbox_email": [{**mail, "id": 1, "to_address": "officer@opcc.example"},
                         {**mail, "id": 2, "to_address": "Approver@OPCC.example"},
                         {**mail, "id": 3, "to_address": "someone@example.org"}],
    })

    upgrade(app)
    assert_schema_matches_models(app, empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, recipient_id, read_at FROM outbox_email ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(1, 1, None), (2, 2, None), (3, None, None)]
    downgrade(app, "0008")
    with app.app_context():
        assert "recipient_id" not in {c["name"] for c in inspect(db.engine).get_columns("outbox_email")}
        db.engine.dispose()
    upgrade(app)
    assert_schema_matches_models(app, empty_database)
