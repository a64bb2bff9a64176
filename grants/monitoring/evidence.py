"""Evidence files sent with a monitoring return, kept in the one file store (grants/core/files.py): their type is
read from their content, never trusted from the name, and they are stored under random names outside the web root."""

from __future__ import annotations

from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.files import clean_filename, file_problem, store_file
from grants.core.models import MonitoringReturn, ReturnEvidence, User


def evidence_problem(filename: str, data: bytes, max_bytes: int) -> str | None:
    return file_problem(filename, data, max_bytes, default="evidence")


def add_evidence(ret: MonitoringReturn, user: User, filename: str, data: bytes, directory: str) -> ReturnEvidence:
    """Store a checked file and record it; the caller checked it with `evidence_problem` and the return's state."""
    stored = store_file(directory, data)
    evidence = ReturnEvidence(return_id=ret.id, filename=clean_filename(filename, "evidence"),
                              stored_name=stored.stored_name, content_type=stored.content_type,
                              size_bytes=stored.size_bytes, sha256=stored.sha256, uploaded_by_id=user.id)
    db.session.add(evidence)
    record_event(user, "monitoring_return.evidence_added", ret, from_state=ret.status, to_state=ret.status,
                 note=f"{evidence.filename} ({stored.described})")
    return evidence
