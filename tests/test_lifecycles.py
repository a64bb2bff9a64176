"""Each record's lifecycle is declared once (grants/*/lifecycle.py); everything else must agree with it.

A state or a move that exists in one place and not in another fails here:

1. the models' CHECK constraints, the newest migration that sets each, and a database built by the migrations
   accept exactly the declared stored states (and the decision kinds);
2. every action's states are declared, its page exists and takes the record, and that page refuses when the
   lifecycle refuses (exercised: the lifecycle is made to refuse, a valid form is posted, nothing changes);
3. `Lifecycle.refusal` allows an action only from its states, for its roles, when its guards pass;
4. a grant that has ended stops what follows from it (its returns, its payments);
5. every audit event the application writes for a lifecycle record has a label.

Guards that ask the database are given stand-in answers (see `stand_in_queries`); the pages are exercised
on one database per module, built by `flask db upgrade`.
"""

from __future__ import annotations

import ast
import importlib
import io
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, url_for
from sqlalchemy import CheckConstraint, func, select, text
from sqlalchemy.exc import IntegrityError

from grants import create_app
from grants.agreements.lifecycle import AGREEMENT, ENDED, PAYABLE
from grants.assessment.lifecycle import DECISION_KINDS
from grants.assessment.rules import CRITERIA
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.lifecycle import REGISTRY, Action, Lifecycle, event_label
from grants.core.models import ROLES, AuditEvent
from grants.monitoring.lifecycle import RETURN
from grants.payments.lifecycle import PAYMENT
from grants.variations.lifecycle import VARIABLE
from tests.records import (
    Records,
    add_payment,
    add_repayment,
    build_records,
    new_agreement,
    new_bid,
    new_variation,
    paid_agreement,
    returns_of,
    sign_in_as,
)

PROJECT = Path(__file__).resolve().parents[1]
GRANTS = PROJECT / "grants"
MIGRATIONS = PROJECT / "migrations" / "versions"

# Every feature's lifecycle module, so the registry is complete whatever else has been imported.
for _path in sorted(GRANTS.glob("*/lifecycle.py")):
    importlib.import_module(f"grants.{_path.parent.name}.lifecycle")
LIFECYCLES = sorted(REGISTRY.values(), key=lambda lc: lc.record)

# (table, column, the keys the column may hold): each lifecycle's status, and the decision kinds.
CHECKED_COLUMNS = [(lc.record, "status", lc.stored_keys) for lc in LIFECYCLES] + [
    ("decision", "kind", tuple(key for key, state in DECISION_KINDS.items() if state.stored)),
]
MADE_UP = "made_up_state"


def test_every_lifecycle_is_registered() -> None:
    """The parametrisations below run over the registry: it holds each record type's lifecycle."""
    assert {lc.record for lc in LIFECYCLES} >= {"bid", "grant_agreement", "payment", "monitoring_return"}
    assert all(lc is REGISTRY[lc.record] for lc in (AGREEMENT, PAYMENT, RETURN))


# --- 1. The schema: models, migrations and the database built from them -------------------------------------


IN_LIST = re.compile(r"^\s*(\w+)\s+in\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def keys_in(sql: str, column: str) -> list[str]:
    """The quoted keys of a "<column> in ('a','b')" constraint."""
    found = IN_LIST.match(sql)
    assert found is not None and found.group(1) == column, f"not a '{column} in (...)' constraint: {sql!r}"
    return re.findall(r"'([^']*)'", found.group(2))


def model_for(table: str) -> Any:
    models = [m.class_ for m in db.Model.registry.mappers if getattr(m.class_, "__tablename__", None) == table]
    assert len(models) == 1, f"expected one model for table {table!r}, found {models}"
    return models[0]


def model_check(table: str, column: str) -> str:
    constraints = [c for c in model_for(table).__table__.constraints
                   if isinstance(c, CheckConstraint) and str(c.name) in (column, f"ck_{table}_{column}")]
    assert len(constraints) == 1, f"{table}: expected one CHECK constraint named {column!r}"
    return str(constraints[0].sqltext)


@pytest.mark.parametrize(("table", "column", "keys"), CHECKED_COLUMNS, ids=[f"{t}.{c}" for t, c, _ in CHECKED_COLUMNS])
def test_model_constraint_lists_exactly_the_declared_keys(table: str, column: str, keys: tuple[str, ...]) -> None:
    listed = keys_in(model_check(table, column), column)
    assert len(listed) == len(set(listed)), f"{table}.{column}: a key listed twice: {listed}"
    assert set(listed) == set(keys), (
        f"grants/core/models.py {table}.{column} CHECK lists {sorted(listed)}; "
        f"the lifecycle declares {sorted(keys)}"
    )


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.record)
def test_model_status_default_is_the_initial_state(lifecycle: Lifecycle) -> None:
    default = model_for(lifecycle.record).__table__.c.status.default
    assert default is not None and default.arg == lifecycle.initial


def _name(node: ast.AST | None) -> str | None:
    """A constraint name as a migration writes it: 'ck_x' or op.f('ck_x')."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args:
        return _name(node.args[0])
    return None


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _keyword(call: ast.Call, *names: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg in names), None)


@dataclass(frozen=True)
class Migration:
    revision: str
    down: tuple[str, ...]
    file: str
    upgrade: ast.FunctionDef


def migrations_oldest_first() -> list[Migration]:
    found: dict[str, Migration] = {}
    for path in MIGRATIONS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        values: dict[str, Any] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                try:
                    values[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
        upgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
        down = values.get("down_revision")
        downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        found[values["revision"]] = Migration(values["revision"], downs, path.name, upgrade)
    ordered: list[Migration] = []
    while len(ordered) < len(found):
        done = {m.revision for m in ordered}
        ready = sorted((m for m in found.values() if m.revision not in done and set(m.down) <= done),
                       key=lambda m: m.file)
        assert ready, f"migrations with a down_revision that is not a migration: {sorted(set(found) - done)}"
        ordered.extend(ready)
    return ordered


def constraint_operations(upgrade: ast.FunctionDef) -> list[tuple[str, str, str | None]]:
    """("set", name, sql) and ("drop", name, None) in the order an upgrade() runs them."""
    calls = sorted((n for n in ast.walk(upgrade) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    found: list[tuple[str, str, str | None]] = []
    for call in calls:
        called = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        if called == "CheckConstraint":
            name = _name(_keyword(call, "name"))
            sql = _string(call.args[0] if call.args else _keyword(call, "sqltext"))
            if name and sql:
                found.append(("set", name, sql))
        elif called == "create_check_constraint":
            name = _name(call.args[0] if call.args else _keyword(call, "constraint_name"))
            sql = _string(call.args[-1] if len(call.args) > 1 else _keyword(call, "condition", "sqltext"))
            if name and sql:
                found.append(("set", name, sql))
        elif called == "drop_constraint":
            name = _name(call.args[0] if call.args else _keyword(call, "constraint_name"))
            if name:
                found.append(("drop", name, None))
        elif called == "drop_table":
            table = _string(call.args[0] if call.args else _keyword(call, "table_name"))
            if table:
                found.append(("drop_table", table, None))
    return found


def migrated_constraints() -> dict[str, tuple[str, str]]:
    """Each CHECK constraint's SQL after the last migration, with the file that last set it."""
    current: dict[str, tuple[str, str]] = {}
    for migration in migrations_oldest_first():
        for kind, name, sql in constraint_operations(migration.upgrade):
            if kind == "set" and sql is not None:
                current[name] = (sql, migration.file)
            elif kind == "drop":
                current.pop(name, None)
            else:
                for gone in [n for n in current if n.startswith(f"ck_{name}_")]:
                    current.pop(gone)
    return current


def test_migration_reader_follows_creates_drops_and_the_chain() -> None:
    """The reader sees the ways a migration sets a constraint, in order, and walks the revisions in order."""
    upgrade = ast.parse(
        "def upgrade():\n"
        "    op.create_table('t', sa.CheckConstraint(\"status in ('a')\", name=op.f('ck_t_status')))\n"
        "    with op.batch_alter_table('t') as batch_op:\n"
        "        batch_op.drop_constraint(op.f('ck_t_status'), type_='check')\n"
        "        batch_op.create_check_constraint(op.f('ck_t_status'), \"status in ('a','b')\")\n"
        "    op.drop_constraint('ck_u_kind', 'u', type_='check')\n"
    ).body[0]
    assert isinstance(upgrade, ast.FunctionDef)
    assert constraint_operations(upgrade) == [
        ("set", "ck_t_status", "status in ('a')"), ("drop", "ck_t_status", None),
        ("set", "ck_t_status", "status in ('a','b')"), ("drop", "ck_u_kind", None),
    ]
    chain = migrations_oldest_first()
    assert len(chain) == len(list(MIGRATIONS.glob("*.py")))
    for n, migration in enumerate(chain):
        assert set(migration.down) <= {m.revision for m in chain[:n]}


@pytest.mark.parametrize(("table", "column", "keys"), CHECKED_COLUMNS, ids=[f"{t}.{c}" for t, c, _ in CHECKED_COLUMNS])
def test_newest_migration_lists_exactly_the_declared_keys(table: str, column: str, keys: tuple[str, ...]) -> None:
    name = f"ck_{table}_{column}"
    constraints = migrated_constraints()
    assert name in constraints, f"no migration leaves a {name} constraint in place"
    sql, file = constraints[name]
    listed = keys_in(sql, column)
    assert set(listed) == set(keys) and len(listed) == len(set(listed)), (
        f"migrations/versions/{file} sets {name} to {sorted(listed)}; the lifecycle declares {sorted(keys)}: "
        "add a migration that changes the constraint"
    )


@contextmanager
def logging_kept() -> Iterator[None]:
    """Alembic's env.py calls logging.config.fileConfig, which replaces the root handlers; put them back."""
    names = ["", "alembic", "flask_migrate", "sqlalchemy", "sqlalchemy.engine"]
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
    try:
        yield
    finally:
        for name, (level, handlers, propagate, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate
            logger.disabled = disabled


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Records]]:
    """An app on a SQLite file built by `flask db upgrade`, holding the known records of tests/records.py."""
    folder = tmp_path_factory.mktemp("lifecycles")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'grants.db'}",
                     EVIDENCE_DIR=str(folder / "evidence"))
    with logging_kept():
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()
    records = build_records(app)
    yield app, records
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# What a row needs before any of its column's keys can be stored: a paid payment has a date paid.
ROW_NEEDS = {"payment": "paid_on = due_on"}


@pytest.mark.parametrize(("table", "column", "keys"), CHECKED_COLUMNS, ids=[f"{t}.{c}" for t, c, _ in CHECKED_COLUMNS])
def test_migrated_database_stores_exactly_the_declared_keys(built: tuple[Flask, Records], table: str, column: str,
                                                           keys: tuple[str, ...]) -> None:
    app, _ = built

    def store(row_id: int, key: str) -> str | None:
        """None when the database takes the key; else its refusal. Nothing is kept."""
        with db.engine.connect() as conn:
            try:
                if table in ROW_NEEDS:
                    conn.execute(text(f"UPDATE {table} SET {ROW_NEEDS[table]} WHERE id = :id"), {"id": row_id})
                conn.execute(text(f"UPDATE {table} SET {column} = :key WHERE id = :id"), {"key": key, "id": row_id})
                return None
            except IntegrityError as exc:
                return str(exc.orig)
            finally:
                conn.rollback()

    with app.app_context():
        row_id = db.session.scalar(text(f"SELECT min(id) FROM {table}"))
        db.session.remove()
        assert row_id is not None, f"tests/records.py builds no {table} row"
        refused = {key: reason for key in keys if (reason := store(row_id, key))}
        assert refused == {}, f"the migrated database refuses declared {table}.{column} keys"
        reason = store(row_id, MADE_UP)
        assert reason is not None and f"ck_{table}_{column}" in reason, \
            f"the migrated database stores {table}.{column} = {MADE_UP!r} ({reason})"


# --- 2. Declarations, pages, and pages that refuse when the lifecycle does -----------------------------------


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.record)
def test_states_and_moves_are_declared(lifecycle: Lifecycle) -> None:
    stored = set(lifecycle.stored_keys)
    for action in lifecycle.actions:
        assert set(action.sources) <= stored, f"{lifecycle.record}.{action.key}: undeclared source"
        assert action.target is None or action.target in stored, f"{lifecycle.record}.{action.key}: undeclared target"
        assert set(action.roles) <= set(ROLES), f"{lifecycle.record}.{action.key}: unknown role"
    assert lifecycle.initial in stored
    reached = {lifecycle.initial} | {a.target for a in lifecycle.actions if a.target}
    assert reached == stored, f"{lifecycle.record}: stored states no action leads to: {sorted(stored - reached)}"
    # A state never stored is one the calendar works out.
    if stored != {s.key for s in lifecycle.states}:
        assert lifecycle.calendar is not None


ENDPOINT_ACTIONS = [(lc, a) for lc in LIFECYCLES for a in lc.actions if a.endpoint]
ENDPOINT_IDS = [f"{lc.record}.{a.key}" for lc, a in ENDPOINT_ACTIONS]


@pytest.mark.parametrize(("lifecycle", "action"), ENDPOINT_ACTIONS, ids=ENDPOINT_IDS)
def test_action_page_exists_and_takes_the_record(built: tuple[Flask, Records], lifecycle: Lifecycle,
                                                 action: Action) -> None:
    app, _ = built
    assert action.endpoint in app.view_functions, f"{lifecycle.record}.{action.key}: no page {action.endpoint}"
    for rule in app.url_map.iter_rules(action.endpoint):
        assert lifecycle.id_arg in rule.arguments, f"{rule.rule} does not take {lifecycle.id_arg}"
        assert action.method.upper() in (rule.methods or set()), f"{rule.rule} does not answer {action.method}"


@dataclass(frozen=True)
class PageCase:
    """How to take an action through its page: a record in one of its states, who, and a form that works."""

    make: Callable[[Flask, Records], int]  # the id of a new record the action may be taken on
    role: str
    form: Callable[[int], dict[str, Any]]  # the form posted, given the record's version


def _day(value: date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


def _versioned(**fields: Any) -> Callable[[int], dict[str, Any]]:
    return lambda version: {"version": str(version), **fields}


def _bid(status: str) -> Callable[[Flask, Records], int]:
    return lambda app, records: new_bid(app, records, status=status)


def _agreement(status: str) -> Callable[[Flask, Records], int]:
    return lambda app, records: new_agreement(app, records, status=status)


def _variation(status: str) -> Callable[[Flask, Records], int]:
    return lambda app, records: new_variation(app, records, status=status)


def _payment(app: Flask, records: Records) -> int:
    return add_payment(app, records, new_agreement(app, records))


def _repayment(app: Flask, records: Records) -> int:
    return add_repayment(app, records, paid_agreement(app, records))


def _return(*, submitted: bool) -> Callable[[Flask, Records], int]:
    return lambda app, records: returns_of(app, records, new_agreement(app, records), submit_first=submitted)[0]


TODAY = uk_today()
ASSESSMENT = _versioned(comments="Clear plan", recommended_pence="1000", conflict_of_interest="no",
                        organisation_checked="y", due_diligence_notes="Checked", fraud_risk="low",
                        fraud_risk_reasons="Statutory partnership", **{f"score_{key}": "4" for key in CRITERIA})
TERMS = {"start_date": _day(TODAY), "end_date": _day(TODAY + timedelta(days=200)), "special_conditions": "Report"}
PAGE_CASES: dict[tuple[str, str], PageCase] = {
    ("bid", "edit"): PageCase(_bid("draft"), "applicant", _versioned(title="Safer paths", save="Save as draft")),
    ("bid", "revise"): PageCase(_bid("info_requested"), "applicant", _versioned(title="Safer paths", save="Save")),
    ("bid", "withdraw"): PageCase(_bid("submitted"), "applicant", lambda version: {"reason": "Funded elsewhere"}),
    ("bid", "assess"): PageCase(_bid("submitted"), "officer", ASSESSMENT),
    ("bid", "reassess"): PageCase(_bid("in_review"), "officer", ASSESSMENT),
    ("bid", "decide"): PageCase(_bid("in_review"), "officer", _versioned(amount_pence="1000", reasons="Fewer thefts",
                                                                                      public_summary="Bike marking")),
    ("bid", "decide_recommendation"): PageCase(_bid("recommended"), "approver",
                                               _versioned(amount_pence="3000", reasons="Fewer thefts",
                                                                  public_summary="Bike marking")),
    ("bid", "request_information"): PageCase(_bid("submitted"), "officer", _versioned(message="Which wards?")),
    ("bid", "reject"): PageCase(_bid("submitted"), "officer", _versioned(reasons="Out of scope")),
    ("bid", "reject_recommendation"): PageCase(_bid("recommended"), "approver", _versioned(reasons="Out of scope")),
    ("bid", "prepare_agreement"): PageCase(_bid("approved"), "officer", lambda version: TERMS),
    ("bid", "declare_conflict"): PageCase(_bid("submitted"), "officer", lambda version: {"details": "My sister"}),
    ("bid", "attach"): PageCase(_bid("draft"), "applicant", lambda version: {
        "document": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "quote.pdf"), "description": "Quote"}),
    ("grant_agreement", "issue"): PageCase(_agreement("draft"), "officer", _versioned()),
    ("grant_agreement", "edit"): PageCase(_agreement("draft"), "officer", _versioned(**TERMS)),
    ("grant_agreement", "accept"): PageCase(_agreement("issued"), "applicant", _versioned(
        accepted_name="Tom Hughes", accepted_role="Community Safety Manager", confirm="y")),
    ("grant_agreement", "activate"): PageCase(_agreement("accepted"), "officer", _versioned()),
    ("grant_agreement", "schedule_payment"): PageCase(_agreement("active"), "finance", lambda version: {
        "amount_pence": "100", "due_on": _day(TODAY + timedelta(days=30))}),
    ("grant_agreement", "end"): PageCase(_agreement("active"), "officer",
                                         _versioned(outcome="terminated", reason="Project stopped")),
    ("grant_agreement", "vary"): PageCase(_agreement("active"), "officer", _versioned(
        amount_pence="900", end_date=_day(TODAY + timedelta(days=300)), special_conditions="Report any thefts",
        reasons="Fewer sessions")),
    ("agreement_variation", "approve"): PageCase(_variation("awaiting_approval"), "approver", _versioned(note="Yes")),
    ("agreement_variation", "refuse"): PageCase(_variation("awaiting_approval"), "approver", _versioned(note="No")),
    ("agreement_variation", "withdraw"): PageCase(_variation("offered"), "officer", _versioned(note="In error")),
    ("agreement_variation", "decline"): PageCase(_variation("offered"), "applicant", _versioned(note="Not now")),
    ("agreement_variation", "accept"): PageCase(_variation("offered"), "applicant", _versioned(
        accepted_name="Tom Hughes", accepted_role="Manager", confirm="y")),
    ("payment", "pay"): PageCase(_payment, "finance", _versioned(paid_on=_day(TODAY), finance_reference="AP-1")),
    ("payment", "cancel"): PageCase(_payment, "finance", _versioned(reason="Wrong amount")),
    ("grant_agreement", "ask_repayment"): PageCase(paid_agreement, "officer",
                                                   _versioned(amount_pence="10", reason="Unspent grant")),
    ("repayment", "receive"): PageCase(_repayment, "finance", lambda version: {
        "amount_pence": "10", "received_on": _day(TODAY), "reference": "AR-1"}),
    ("repayment", "write_off"): PageCase(_repayment, "finance", _versioned(reason="Cannot be recovered")),
    ("monitoring_return", "complete"): PageCase(_return(submitted=False), "applicant",
                                                _versioned(progress="Two events held", save="Save")),
    ("monitoring_return", "review"): PageCase(_return(submitted=True), "officer",
                                              _versioned(outcome="accepted", officer_rag="green", note="")),
}
REFUSED_BY_TEST = "The lifecycle refuses this (a test)."


@pytest.mark.parametrize(("lifecycle", "action"), ENDPOINT_ACTIONS, ids=ENDPOINT_IDS)
def test_action_page_refuses_when_the_lifecycle_refuses(built: tuple[Flask, Records], monkeypatch: pytest.MonkeyPatch,
                                                        lifecycle: Lifecycle, action: Action) -> None:
    """Post a form that works to the action's page while the lifecycle refuses that action: nothing changes.
    Then post it again with the lifecycle as declared: the change is made (so the form really works)."""
    app, records = built
    case = PAGE_CASES.get((lifecycle.record, action.key))
    assert case is not None, f"add a PageCase for {lifecycle.record}.{action.key} ({action.endpoint})"
    assert case.role in action.roles
    model = model_for(lifecycle.record)
    record_id = case.make(app, records)

    def seen() -> tuple[str, int, int]:
        with app.app_context():
            record = db.session.get(model, record_id)
            found = (record.status, record.version, db.session.scalar(select(func.count()).select_from(AuditEvent)))
            db.session.remove()
            return found

    before = seen()
    assert before[0] in action.sources
    with app.test_request_context():
        url = url_for(action.endpoint, **{lifecycle.id_arg: record_id})
    client = app.test_client()
    sign_in_as(client, records, case.role)
    original = Lifecycle.refusal

    def refusing(self: Lifecycle, key: str, user: Any, record: Any, today: date) -> str | None:
        if self is lifecycle and key == action.key:
            return REFUSED_BY_TEST
        return original(self, key, user, record, today)

    monkeypatch.setattr(Lifecycle, "refusal", refusing)
    client.post(url, data=case.form(before[1]))
    assert seen() == before, (
        f"POST {action.endpoint} as {case.role} changed the {lifecycle.noun} although the lifecycle refused "
        f"{action.key!r}: the page (or the rule it calls) does not ask {lifecycle.record}'s lifecycle"
    )
    monkeypatch.undo()
    response = client.post(url, data=case.form(before[1]))
    after = seen()
    assert response.status_code in (302, 303) and after[2] > before[2], \
        f"the form posted to {action.endpoint} does not work ({response.status_code}): fix the PageCase"


# --- 3. Who may take which action, from which state -----------------------------------------------------------

OUR_ORG, OTHER_ORG, OPCC_ORG = 1, 2, 3
PERIOD_STARTED = TODAY - timedelta(days=30)


def person(role: str, organisation_id: int | None = None) -> SimpleNamespace:
    org = organisation_id or (OUR_ORG if role == "applicant" else OPCC_ORG)
    return SimpleNamespace(role=role, organisation_id=org, id=100 + ROLES.index(role))


def grant(status: str = "active") -> SimpleNamespace:
    return SimpleNamespace(status=status, organisation_id=OUR_ORG, organisation=SimpleNamespace(name="Fenland CSP"))


def stand_in(lifecycle: Lifecycle, status: str, **changes: Any) -> SimpleNamespace:
    """A record every guard lets through: our organisation's, on a running grant, its period started."""
    fields: dict[str, dict[str, Any]] = {
        "bid": {"organisation_id": OUR_ORG, "recommended_by": None, "assessment": None, "agreement": None,
                "conflicted": ()},
        "grant_agreement": {"organisation_id": OUR_ORG, "organisation": SimpleNamespace(name="Fenland CSP")},
        "payment": {"agreement": grant()},
        "repayment": {"agreement": grant("closed"), "due_on": TODAY + timedelta(days=30)},
        "monitoring_return": {"agreement": grant(), "period_start": PERIOD_STARTED, "due_on": TODAY + timedelta(days=30)},
        "agreement_variation": {"agreement": grant(), "proposed_by_id": 99},
    }
    assert lifecycle.record in fields, f"add a stand-in {lifecycle.record} to tests/test_lifecycles.py"
    return SimpleNamespace(status=status, **{**fields[lifecycle.record], **changes})


@pytest.fixture()
def stand_in_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bid guards ask the database who recommended or assessed a bid, who declared a conflict of interest
    in it and whether it has an agreement: here they read the stand-in bid instead."""
    monkeypatch.setattr("grants.assessment.rules.recommender", lambda bid: bid.recommended_by)
    monkeypatch.setattr("grants.assessment.rules.conflict_declared", lambda bid, user: user.id in bid.conflicted)
    monkeypatch.setattr("grants.assessment.rules.latest_assessment", lambda bid: bid.assessment)
    monkeypatch.setattr("grants.agreements.queries.agreement_for_bid", lambda bid: bid.agreement)


MATRIX = [(lc, a, s) for lc in LIFECYCLES for a in lc.actions for s in lc.stored_keys]


@pytest.mark.usefixtures("stand_in_queries")
@pytest.mark.parametrize(("lifecycle", "action", "state"), MATRIX, ids=[f"{lc.record}.{a.key}-{s}" for lc, a, s in MATRIX])
def test_refusal_follows_states_and_roles(lifecycle: Lifecycle, action: Action, state: str) -> None:
    record = stand_in(lifecycle, state)
    for role in ROLES:
        user = person(role)
        reason = lifecycle.refusal(action.key, user, record, TODAY)
        if state in action.sources and role in action.roles:
            assert reason is None, f"{role} refused {action.key} on a {state} {lifecycle.noun}: {reason}"
        else:
            assert reason, f"{role} may {action.key} a {state} {lifecycle.noun}"
        if state not in action.sources:
            assert f"is {lifecycle.name(state).lower()}" in reason, f"the refusal does not name the state: {reason}"
        offered = action in lifecycle.allowed(user, record, TODAY)
        assert offered == (reason is None and action.endpoint is not None)


def _other_grantee(user: SimpleNamespace) -> tuple[dict[str, Any], SimpleNamespace]:
    return {}, person(user.role, OTHER_ORG)


def _grant_in(status: str) -> Callable[[SimpleNamespace], tuple[dict[str, Any], SimpleNamespace]]:
    return lambda user: ({"agreement": grant(status)}, user)


def _they_recommended(user: SimpleNamespace) -> tuple[dict[str, Any], SimpleNamespace]:
    return {"recommended_by": user}, user


def _they_assessed(user: SimpleNamespace) -> tuple[dict[str, Any], SimpleNamespace]:
    return {"assessment": SimpleNamespace(assessor_id=user.id)}, user


def _they_declared(user: SimpleNamespace) -> tuple[dict[str, Any], SimpleNamespace]:
    return {"conflicted": (user.id,)}, user


def _of_the_bidder(user: SimpleNamespace) -> tuple[dict[str, Any], SimpleNamespace]:
    """Staff who belong to the organisation that made the bid."""
    return {}, person(user.role, OUR_ORG)


def _has_agreement(user: SimpleNamespace) -> tuple[dict[str, Any], SimpleNamespace]:
    return {"agreement": SimpleNamespace(id=1)}, user


def _they_proposed(user: SimpleNamespace) -> tuple[dict[str, Any], SimpleNamespace]:
    return {"proposed_by_id": user.id}, user


def _period_not_started(user: SimpleNamespace) -> tuple[dict[str, Any], SimpleNamespace]:
    return {"period_start": TODAY + timedelta(days=1)}, user


NOT_RUNNING = [_grant_in(s) for s in AGREEMENT.stored_keys if s != "active"]
NOT_PAYABLE = [_grant_in(s) for s in AGREEMENT.stored_keys if s not in PAYABLE]
NOT_VARIABLE = [_grant_in(s) for s in AGREEMENT.stored_keys if s not in VARIABLE]
# For each action with guards, ways its guards must refuse (a changed record, or another person).
IMPARTIAL = [_they_declared, _of_the_bidder]
GUARD_FAILURES: dict[tuple[str, str], list[Callable[[SimpleNamespace], tuple[dict[str, Any], SimpleNamespace]]]] = {
    **{("bid", key): IMPARTIAL for key in ("assess", "reassess", "start_review", "decide", "approve", "recommend",
                                            "request_information", "reject", "reject_recommendation")},
    ("bid", "decide_recommendation"): [*IMPARTIAL, _they_recommended, _they_assessed],
    ("bid", "approve_recommendation"): [*IMPARTIAL, _they_recommended, _they_assessed],
    ("bid", "declare_conflict"): [_they_declared],
    ("bid", "prepare_agreement"): [_has_agreement],
    ("grant_agreement", "accept"): [_other_grantee],
    ("agreement_variation", "approve"): [_they_proposed, *NOT_VARIABLE],
    ("agreement_variation", "accept"): [_other_grantee, *NOT_VARIABLE],
    ("agreement_variation", "decline"): [_other_grantee],
    ("payment", "pay"): NOT_PAYABLE,
    ("monitoring_return", "complete"): [_other_grantee, *NOT_RUNNING],
    ("monitoring_return", "submit"): [_other_grantee, _period_not_started, *NOT_RUNNING],
    ("monitoring_return", "resubmit"): [_other_grantee, _period_not_started, *NOT_RUNNING],
    ("monitoring_return", "review"): NOT_RUNNING,
    ("monitoring_return", "accept"): NOT_RUNNING,
    ("monitoring_return", "send_back"): NOT_RUNNING,
}
GUARDED = [(lc, a) for lc in LIFECYCLES for a in lc.actions if a.guards]


def test_every_guard_has_a_failing_case() -> None:
    assert {(lc.record, a.key) for lc, a in GUARDED} == set(GUARD_FAILURES)


@pytest.mark.usefixtures("stand_in_queries")
@pytest.mark.parametrize(("lifecycle", "action"), GUARDED, ids=[f"{lc.record}.{a.key}" for lc, a in GUARDED])
def test_guards_refuse(lifecycle: Lifecycle, action: Action) -> None:
    for state in action.sources:
        for role in action.roles:
            for fail in GUARD_FAILURES[(lifecycle.record, action.key)]:
                changes, user = fail(person(role))
                record = stand_in(lifecycle, state, **changes)
                assert lifecycle.refusal(action.key, user, record, TODAY), \
                    f"{fail.__name__}: {role} may {action.key} a {state} {lifecycle.noun}"
                assert action not in lifecycle.allowed(user, record, TODAY)


# --- 4. Ending a grant ends what follows from it -------------------------------------------------------------

RETURN_WORK = ("submit", "resubmit", "complete", "review", "accept", "send_back")


@pytest.mark.parametrize("ended", ENDED)
@pytest.mark.parametrize("key", RETURN_WORK)
def test_an_ended_grant_stops_its_returns(key: str, ended: str) -> None:
    action = RETURN.action(key)
    assert action.sources and action.roles
    for state in action.sources:
        stopped = stand_in(RETURN, state, agreement=grant(ended))
        for role in ROLES:
            assert RETURN.refusal(key, person(role), stopped, TODAY), f"{role} may {key} a return of a {ended} grant"
        running = stand_in(RETURN, state)
        assert RETURN.refusal(key, person(action.roles[0]), running, TODAY) is None


@pytest.mark.parametrize("ended", ENDED)
def test_an_ended_grant_stops_its_payments(ended: str) -> None:
    for role in ROLES:
        assert AGREEMENT.refusal("schedule_payment", person(role), stand_in(AGREEMENT, ended), TODAY)
        assert PAYMENT.refusal("pay", person(role), stand_in(PAYMENT, "scheduled", agreement=grant(ended)), TODAY)
    assert PAYMENT.refusal("pay", person("finance"), stand_in(PAYMENT, "scheduled"), TODAY) is None


def test_ending_a_grant_releases_everything_outstanding() -> None:
    """What a person could still do to a return or a payment, the rules can stop when the grant ends."""
    open_returns = {s for a in RETURN.actions if a.roles for s in a.sources}
    assert open_returns <= set(RETURN.action("not_required").sources)
    open_payments = {s for a in PAYMENT.actions if a.roles for s in a.sources}
    assert open_payments <= set(PAYMENT.action("cancel").sources)
    assert set(ENDED) == {AGREEMENT.action("close").target, AGREEMENT.action("terminate").target}


# --- 5. Every audit event a lifecycle record gets has a label ------------------------------------------------


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.record)
def test_every_move_has_its_declared_label(lifecycle: Lifecycle) -> None:
    labels = lifecycle.event_labels()
    for action in lifecycle.actions:
        if action.target is None and action.event is None:
            continue  # no event of its own: another action makes the move
        name = lifecycle.event_name(action)
        assert name.startswith(f"{lifecycle.event_prefix}.")
        assert labels.get(name), f"{lifecycle.record}.{action.key}: {name} has no label"
        # A label declared on an action is the one history shows: two actions writing the same event
        # must not name it differently. Without one, a move is named by its target state.
        declared = action.event_label or (lifecycle.name(action.target) if action.target else None)
        if declared is not None:
            assert labels[name] == declared, \
                f"{lifecycle.record}.{action.key}: {name} is labelled {labels[name]!r}, declared {declared!r}"
        assert event_label(SimpleNamespace(action=name)) == labels[name]


def test_no_event_is_labelled_two_ways() -> None:
    seen: dict[str, tuple[str, str]] = {}
    for lifecycle in LIFECYCLES:
        for name, label in lifecycle.event_labels().items():
            if name in seen:
                assert seen[name][1] == label, f"{name}: {seen[name][0]} and {lifecycle.record} label it differently"
            seen[name] = (lifecycle.record, label)


@pytest.mark.parametrize(("name", "label"), [
    ("bid.resubmitted", "Resubmitted with more information"),
    ("bid.withdrawn", "Withdrawn"),
    ("agreement.active", "Grant started"),
    ("agreement.terminated", "Terminated"),
    ("payment.paid", "Payment made"),
    ("monitoring_return.not_required", "Not required"),
    ("monitoring_return.saved", "Draft saved"),
])
def test_event_label_gives_the_declared_label(name: str, label: str) -> None:
    assert event_label(SimpleNamespace(action=name)) == label


def _source_files() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(GRANTS.rglob("*.py")):
        parts = path.relative_to(PROJECT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((module, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def written_event_names() -> dict[str, str]:
    """Event names passed to record_event as written in the source, with the module writing each."""
    names: dict[str, str] = {}
    for module, tree in _source_files():
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, "id", getattr(call.func, "attr", "")) == "record_event":
                name = _string(call.args[1] if len(call.args) > 1 else _keyword(call, "action"))
                if name:
                    names.setdefault(name, module)
    return names


def test_every_event_written_for_a_lifecycle_record_has_a_label() -> None:
    names = written_event_names()
    assert "bid.created" in names and "payment.scheduled" in names  # the reader finds what the rules write
    by_prefix = {lc.event_prefix: lc for lc in LIFECYCLES} | {lc.record: lc for lc in LIFECYCLES}
    unlabelled = {name: module for name, module in names.items()
                  if name.split(".")[0] in by_prefix and name not in by_prefix[name.split(".")[0]].event_labels()}
    assert unlabelled == {}, "events written for a lifecycle record with no label in its lifecycle's events"


def applied_actions() -> list[tuple[Lifecycle, str, str]]:
    """(lifecycle, action key, module) for each `<LIFECYCLE>.apply(...)` whose key can be read from the source:
    a string, or an item of a module-level dict of strings."""
    found = []
    for module_name, tree in _source_files():
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "apply"]
        if not calls:
            continue
        module = importlib.import_module(module_name)
        for call in calls:
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "apply"
                    and isinstance(call.func.value, ast.Name) and call.args):
                continue
            lifecycle = getattr(module, call.func.value.id, None)
            if not isinstance(lifecycle, Lifecycle):
                continue
            key = call.args[0]
            table = getattr(module, key.value.id, None) if isinstance(key, ast.Subscript) and \
                isinstance(key.value, ast.Name) else None
            if isinstance(table, dict):
                keys = [k for k in table.values() if isinstance(k, str)]
            else:
                keys = [k for k in [_string(key)] if k]
            found.extend((lifecycle, k, module_name) for k in keys)
    return found


def test_every_applied_action_writes_a_labelled_event() -> None:
    applied = applied_actions()
    assert {(lc.record, key) for lc, key, _ in applied} >= {("grant_agreement", "issue"), ("monitoring_return", "accept")}
    for lifecycle, key, module in applied:
        action = lifecycle.action(key)
        assert action.target is not None or action.event is not None, \
            f"{module} applies {lifecycle.record}.{key}, which declares neither a target nor an event"
        assert lifecycle.event_name(action) in lifecycle.event_labels()
