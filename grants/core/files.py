"""Files people send (monitoring evidence, a bid's supporting documents): their type is read from their content,
never trusted from the name, and they are stored under random names in one directory outside the web root
(`EVIDENCE_DIR`), then sent back only as downloads. What a file belongs to, and who may see it, is the feature's."""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import abort, send_file
from werkzeug.wrappers import Response

# What the OPCC accepts, by what the file's content says it is.
KINDS = {
    "pdf": ("PDF document", "application/pdf"),
    "png": ("PNG image", "image/png"),
    "jpeg": ("JPEG image", "image/jpeg"),
    "docx": ("Word document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("Excel workbook", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("PowerPoint presentation", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "odt": ("OpenDocument text", "application/vnd.oasis.opendocument.text"),
    "ods": ("OpenDocument spreadsheet", "application/vnd.oasis.opendocument.spreadsheet"),
}
ACCEPTED = "PDF, PNG, JPEG, Word, Excel, PowerPoint or OpenDocument"
_OOXML = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
_ODF = {b"application/vnd.oasis.opendocument.text": "odt", b"application/vnd.oasis.opendocument.spreadsheet": "ods"}
_NAMES = {content_type: name for name, content_type in KINDS.values()}


def detect_kind(data: bytes) -> str | None:
    """The file's kind from its first bytes (and, for office documents, from inside the zip), or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
                if "mimetype" in names:
                    return _ODF.get(archive.read("mimetype").strip())
                if "[Content_Types].xml" in names:
                    return next((kind for prefix, kind in _OOXML.items() if any(n.startswith(prefix) for n in names)),
                                None)
        except (zipfile.BadZipFile, KeyError, RuntimeError, ValueError, NotImplementedError, OSError, EOFError):
            return None
    return None


def kind_name(content_type: str) -> str:
    """How a page names a stored file's type ("PDF document")."""
    return _NAMES.get(content_type, "File")


def format_size(size_bytes: int) -> str:
    """A file's size as people read it: "850 bytes", "12 KB", "2.4 MB"."""
    if size_bytes < 1024:
        return f"{size_bytes:,} bytes"
    if size_bytes < 1024 * 1024:
        return f"{round(size_bytes / 1024):,} KB"
    return f"{size_bytes / (1024 * 1024):,.1f} MB"


def clean_filename(name: str, default: str = "file") -> str:
    """The name as the person gave it, for display only: no path, no control characters, not too long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return (base or default)[:200]


def file_problem(filename: str, data: bytes, max_bytes: int, default: str = "file") -> str | None:
    """Why this file cannot be kept (empty, too large, not a type the OPCC accepts), or None."""
    name = clean_filename(filename, default)
    if not data:
        return f"{name} is empty"
    if len(data) > max_bytes:
        return f"{name} is larger than {max_bytes // (1024 * 1024)} MB"
    if detect_kind(data) is None:
        return f"{name} must be a {ACCEPTED} file"
    return None


@dataclass(frozen=True)
class StoredFile:
    """A file written to the store: its random name there and what its content is."""

    stored_name: str
    kind: str
    content_type: str
    size_bytes: int
    sha256: str

    @property
    def described(self) -> str:
        """For an audit note: "PDF document, 12,345 bytes"."""
        return f"{KINDS[self.kind][0]}, {self.size_bytes:,} bytes"


def store_file(directory: str, data: bytes) -> StoredFile:
    """Write a checked file (see `file_problem`) under a new random name in the store."""
    kind = detect_kind(data)
    if kind is None:
        raise ValueError("store_file was given a file file_problem refuses")
    stored_name = f"{secrets.token_hex(16)}.{kind}"
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored_name).write_bytes(data)
    return StoredFile(stored_name, kind, KINDS[kind][1], len(data), hashlib.sha256(data).hexdigest())


def stored_path(directory: str, stored_name: str) -> Path:
    """Where a stored file is: only ever a name the store made, never a path someone sent."""
    if Path(stored_name).name != stored_name or stored_name.startswith("."):
        raise ValueError(f"not a stored file name: {stored_name!r}")
    return Path(directory) / stored_name


def delete_stored(directory: str, stored_name: str) -> None:
    """Remove a stored file whose record has gone (call after the commit: a failed change keeps the file)."""
    stored_path(directory, stored_name).unlink(missing_ok=True)


def send_stored(directory: str, stored_name: str, content_type: str, filename: str) -> Response:
    """A stored file as a download, never shown inline: the type read from its content when it was kept, and the
    cleaned name. 404 when the file is not in the store."""
    path = stored_path(directory, stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, as_attachment=True, download_name=clean_filename(filename),
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
