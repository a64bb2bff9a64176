"""Sending a workbook someone asked for: built into a temporary file (never held whole in memory), a staff
download recorded in the audit trail, then streamed from the file, which goes when the response closes."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import send_file
from flask_login import current_user
from werkzeug.wrappers import Response

from exports.workbook import SPREADSHEET_MIME
from grants.core.audit import record_event
from grants.core.extensions import db

T = TypeVar("T")


def made_by() -> str:
    """Who made a file, as its About sheet says."""
    return f"{current_user.name} ({current_user.email})"


def built_file(build: Callable[[IO[bytes]], T]) -> tuple[IO[bytes], T]:
    """A temporary file written by `build` and wound back to its start, with what `build` returned; the file is
    closed (and so gone) if building fails."""
    out = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        made = build(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, made


def send_workbook(build: Callable[[IO[bytes]], int], filename: str, *, note: str,
                  details: dict[str, Any] | None = None) -> Response:
    """Build a workbook with `build` (which returns its number of rows), audit the download, and send it."""
    out, rows = built_file(build)
    try:
        record_event(current_user, "export.downloaded", object_type="export", note=note,
                     details={**(details or {}), "rows": rows})
        db.session.commit()
    except BaseException:
        out.close()
        db.session.rollback()
        raise
    response = send_file(out, mimetype=SPREADSHEET_MIME, as_attachment=True, download_name=filename, max_age=0)
    response.headers["Cache-Control"] = "no-store"  # grant and payment details: no copies in shared caches
    return response
