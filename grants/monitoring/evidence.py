"""Evidence files sent with a monitoring return: their type is read from their content, never trusted from
the name, and they are stored under random names in a directory outside the web root."""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from pathlib import Path

from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.models import MonitoringReturn, ReturnEvidence, User

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
        except (zipfile.BadZipFile, KeyError, RuntimeError, ValueError):
            return None
    return None


def clean_filename(name: str) -> str:
    """The name as the grantee gave it, for display only: no path, no control characters, not too long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return (base or "evidence")[:200]


def evidence_problem(filename: str, data: bytes, max_bytes: int) -> str | None:
    if not data:
        return f"{clean_filename(filename)} is empty"
    if len(data) > max_bytes:
        return f"{clean_filename(filename)} is larger than {max_bytes // (1024 * 1024)} MB"
    if detect_kind(data) is None:
        return f"{clean_filename(filename)} must be a {ACCEPTED} file"
    return None


def add_evidence(ret: MonitoringReturn, user: User, filename: str, data: bytes, directory: str) -> ReturnEvidence:
    """Store a checked file and record it; the caller checked it with `evidence_problem` and the return's state."""
    kind = detect_kind(data)
    assert kind is not None
    stored_name = f"{secrets.token_hex(16)}.{kind}"
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored_name).write_bytes(data)
    evidence = ReturnEvidence(return_id=ret.id, filename=clean_filename(filename), stored_name=stored_name,
                              content_type=KINDS[kind][1], size_bytes=len(data),
                              sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=user.id)
    db.session.add(evidence)
    record_event(user, "monitoring_return.evidence_added", ret, from_state=ret.status, to_state=ret.status,
                 note=f"{evidence.filename} ({KINDS[kind][0]}, {len(data):,} bytes)")
    return evidence


def evidence_path(directory: str, evidence: ReturnEvidence) -> Path:
    return Path(directory) / evidence.stored_name
