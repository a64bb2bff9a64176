"""A bid's supporting documents (quotes, letters of support): added and removed by the applicant while they may
change the bid (the bid lifecycle's "attach" and "remove_document"), kept in the one file store
(grants/core/files.py) like monitoring evidence, and read by the OPCC with the bid."""

from __future__ import annotations

from datetime import date

from grants.bids.lifecycle import BID
from grants.core.dates import format_datetime
from grants.core.extensions import db
from grants.core.files import clean_filename, file_problem, store_file
from grants.core.lifecycle import NO_CHANGE
from grants.core.models import Bid, BidDocument, User
from grants.core.refusals import Refused

MAX_DOCUMENTS = 10  # a bid's supporting documents at most
MAX_DESCRIPTION = 200  # characters, as the column holds
DOCUMENT = "document"  # the file field, where problems with the file are shown
DEFAULT_NAME = "document"  # the name shown for a file sent without a usable one


def sent_with_a_submission(bid: Bid, document: BidDocument) -> bool:
    """Whether the OPCC has had this document with a submission of the bid (it was there when last submitted)."""
    return bid.submitted_at is not None and document.uploaded_at <= bid.submitted_at


def removal_refusal(user: User, bid: Bid, document: BidDocument, today: date) -> str | None:
    """Why this person cannot remove this document now, or None. What went with a submission stays with the bid:
    the OPCC assessed it."""
    reason = BID.refusal("remove_document", user, bid, today)
    if reason:
        return reason
    if sent_with_a_submission(bid, document):
        return (f"{document.filename} was sent to the OPCC with the bid, so it stays with the bid. "
                f"Add a new document to replace it.")
    return None


def removable(user: User, bid: Bid, today: date) -> set[int]:
    """The ids of the documents this person may remove now, for the page's Remove links."""
    return {d.id for d in bid.documents if removal_refusal(user, bid, d, today) is None}


def document_problems(bid: Bid, filename: str, data: bytes, description: str, max_bytes: int) -> dict[str, str]:
    """Every reason the file cannot be added to the bid, keyed by the field it belongs to."""
    problems: dict[str, str] = {}
    if not filename and not data:
        problems[DOCUMENT] = "Choose a file to add"
    elif (problem := file_problem(filename, data, max_bytes, DEFAULT_NAME)) is not None:
        problems[DOCUMENT] = problem
    elif len(bid.documents) >= MAX_DOCUMENTS:
        problems[DOCUMENT] = (f"A bid can have at most {MAX_DOCUMENTS} supporting documents. "
                              "Remove one to add another")
    if len(description) > MAX_DESCRIPTION:
        problems["description"] = f"The description must be {MAX_DESCRIPTION} characters or fewer"
    return problems


def add_document(bid: Bid, user: User, filename: str, data: bytes, description: str, *, directory: str,
                 max_bytes: int, today: date) -> tuple[BidDocument | None, dict[str, str]]:
    """Keep a file with the bid (checked by its content), or return the problems and keep nothing. The file is
    written to the store under a random name; the audit event names it and its checksum."""
    BID.check("attach", user, bid, today)
    description = " ".join(description.split())
    problems = document_problems(bid, filename, data, description, max_bytes)
    if problems:
        return None, problems
    stored = store_file(directory, data)
    document = BidDocument(filename=clean_filename(filename, DEFAULT_NAME), stored_name=stored.stored_name,
                           content_type=stored.content_type, size_bytes=stored.size_bytes, sha256=stored.sha256,
                           description=description, uploaded_by_id=user.id)
    bid.documents.append(document)
    db.session.flush()
    BID.apply("attach", user, bid, today, note=f"{document.filename} ({stored.described})",
              details={"document_id": document.id, "sha256": stored.sha256})
    return document, {}


def remove_document(bid: Bid, user: User, document: BidDocument, today: date) -> str:
    """Take a document off the bid; returns its stored name, for the caller to delete the file once committed.
    The audit event keeps its name, when it was added and its checksum."""
    reason = removal_refusal(user, bid, document, today)
    if reason:
        raise Refused(f"{reason} {NO_CHANGE}")
    BID.apply("remove_document", user, bid, today, note=document.filename,
              details={"document_id": document.id, "sha256": document.sha256,
                       "uploaded_at": format_datetime(document.uploaded_at)})
    bid.documents.remove(document)
    db.session.delete(document)
    return document.stored_name
