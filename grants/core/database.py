"""Connection settings the database engines need before any query runs."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session

SQLITE_BUSY_TIMEOUT_MS = 30_000


@event.listens_for(Engine, "connect")
def _sqlite_settings(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite leaves foreign keys unchecked and fails a waiting writer at once unless told otherwise.

    The busy timeout makes concurrent decisions queue for the write lock instead of failing;
    write-ahead logging lets readers go on while one decision is being written."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not an in-memory database
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


# --- Read-only requests end with COMMIT, not ROLLBACK -------------------------------------------------------------
# psycopg prepares a statement the fifth time a connection runs it, so PostgreSQL can skip planning it (1-4 ms for
# a list page's joins), but it forgets every prepared statement on ROLLBACK. Flask-SQLAlchemy ends each request by
# rolling back whatever is open, which for a page that only read is the same as committing, so those pages commit
# instead and their connection keeps its prepared statements. Anything that may have written is still rolled back.

_WROTE = "grants_may_have_written"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _nothing_written_yet(session: Session) -> None:
    # Reset when a transaction ends, not when one begins: a statement's event comes before its transaction begins.
    session.info[_WROTE] = False


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, flush_context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not state.is_select:  # an UPDATE, DELETE or INSERT statement, or text() that could be anything
        state.session.info[_WROTE] = True


def commit_read_only_requests(app: Flask, db: SQLAlchemy) -> None:
    """Register the request-end commit. Call after db.init_app: teardowns run newest first, so this one runs
    before Flask-SQLAlchemy's, which closes the session."""

    @app.teardown_appcontext
    def end_request_transaction(error: BaseException | None) -> None:
        if error is None and db.session.registry.has():  # a request that made no session (static files) has none
            try:
                end_read_only_transaction(db.session())
            except SQLAlchemyError:  # a broken connection: the session's own teardown rolls back and discards it
                app.logger.warning("A read-only request's COMMIT failed", exc_info=True)


def end_read_only_transaction(session: Session) -> None:
    """Commit `session`'s transaction if nothing in it can have written (see above); otherwise leave it to be
    rolled back."""
    if (session.in_transaction() and not session.info.get(_WROTE, False)
            and not (session.new or session.dirty or session.deleted)):
        session.commit()
