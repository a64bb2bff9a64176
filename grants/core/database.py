"""Connection settings the database engines need before any query runs."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

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
