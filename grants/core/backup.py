"""`flask backup`: a consistent copy of the live SQLite database.

A plain file copy of a live SQLite database can catch a write half done and misses whatever is
still in the write-ahead log, so the copy is made with SQLite's online backup API instead.
PostgreSQL is backed up with pg_dump, which this command only explains.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import click
from flask import Flask, current_app
from sqlalchemy.engine import URL

from grants.core.database import SQLITE_BUSY_TIMEOUT_MS
from grants.core.extensions import db

POSTGRES_ADVICE = """\
flask backup copies SQLite databases only; this database is PostgreSQL. Back it up with pg_dump's custom format:

    pg_dump -Fc "$DATABASE_URL" -f grants-$(date +%Y%m%d-%H%M%S).dump

and restore a dump with:

    pg_restore --clean --if-exists --no-owner -d "$DATABASE_URL" grants-YYYYMMDD-HHMMSS.dump

pg_dump and pg_restore need the URL as postgresql://... : remove "+psycopg" from DATABASE_URL if it has it."""


def default_backup_path(instance_path: str | Path, now: datetime | None = None) -> Path:
    """instance/backups/grants-YYYYMMDD-HHMMSS.db, in UTC so names sort and never repeat at a clock change."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(instance_path) / "backups" / f"grants-{stamp}.db"


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        return None
    return Path(url.database)


def backup_sqlite(database: Path, output: Path) -> Path:
    """Copy a SQLite database, even while others read and write it, into a new file at `output`.

    The copy is one step of the backup API, so it is a single consistent snapshot; it is written
    under a temporary name and renamed, so `output` never holds half a backup.
    """
    if output.exists():
        raise FileExistsError(f"{output} already exists")
    if not database.is_file():
        raise FileNotFoundError(f"{database} does not exist")
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp makes the file readable by its owner only: the copy holds password hashes.
    fd, partial_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".partial", dir=output.parent)
    os.close(fd)
    partial = Path(partial_name)
    try:
        # mode=rw: never create an empty database where the live one was expected.
        source = sqlite3.connect(f"file:{quote(str(database.resolve()))}?mode=rw", uri=True,
                                 timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
                # A rollback-journal file stands alone; a WAL-mode copy would want -wal and -shm files beside it.
                target.execute("PRAGMA journal_mode = DELETE")
                problems = [row[0] for row in target.execute("PRAGMA integrity_check")]
                if problems != ["ok"]:
                    raise RuntimeError("the backup failed its integrity check: " + "; ".join(problems))
            finally:
                target.close()
        finally:
            source.close()
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return output


def register_backup_command(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="Where to write the copy (default instance/backups/grants-YYYYMMDD-HHMMSS.db, UTC).")
    def backup_command(output: Path | None) -> None:
        """Write a consistent copy of the live SQLite database and print its path."""
        url = db.engine.url
        backend = url.get_backend_name()
        if backend == "postgresql":
            raise click.ClickException(POSTGRES_ADVICE)
        if backend != "sqlite":
            raise click.ClickException(f"flask backup copies SQLite databases only, not {backend}")
        database = sqlite_file(url)
        if database is None:
            raise click.ClickException("The database is in memory: there is nothing on disk to back up")
        path = output or default_backup_path(current_app.instance_path)
        try:
            backup_sqlite(database, path)
        except (FileExistsError, FileNotFoundError, RuntimeError, sqlite3.Error) as exc:
            raise click.ClickException(f"Backup failed: {exc}") from exc
        click.echo(str(path))
