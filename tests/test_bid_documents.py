"""A bid's supporting documents: checked by content, limited in size and number, added and removed only while the
applicant may change the bid, stored outside the web root under random names (the store monitoring evidence uses),
seen by the bid's organisation and, once submitted, by the OPCC; every addition and removal audited."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.assessment.rules import request_information
from grants.bids.documents import MAX_DOCUMENTS, add_document, remove_document
from grants.bids.rules import BudgetLineInput, save_bid, start_bid, submit_bid
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.files import clean_filename, detect_kind, stored_path
from grants.core.lifecycle import Lifecycle
from grants.core.models import AuditEvent, Bid, BidDocument
from grants.core.refusals import Refused
from tests.conftest import World, error_messages, field_error, make_submitted_bid, page

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
REFUSED_TYPE = "must be a PDF, PNG, JPEG, Word, Excel, PowerPoint or OpenDocument file"


@pytest.fixture()
def store(app: Flask, tmp_path: Path) -> Path:
    """The file store for this test, with a 1 MB limit per file."""
    folder = tmp_path / "files"
    app.config.update(EVIDENCE_DIR=str(folder), EVIDENCE_MAX_MB=1)
    return folder


def draft(world: World, org: str = "applicant") -> Bid:
    bid = start_bid(world.user(org), world.scf_year, uk_today())
    bid.title = "Bike marking"
    db.session.commit()
    return bid


def submitted(world: World, org: str = "applicant") -> Bid:
    return make_submitted_bid(world.user(org), world.scf_year, 1_000_00, title="Bike marking")


def attach(client: FlaskClient, bid: Bid, data: bytes, name: str, description: str = "") -> Any:
    return client.post(f"/bids/{bid.id}/documents", data={"document": (io.BytesIO(data), name),
                                                           "description": description},
                       content_type="multipart/form-data")


def documents_of(bid: Bid) -> list[BidDocument]:
    db.session.expire_all()
    return list(db.session.scalars(select(BidDocument).where(BidDocument.bid_id == bid.id).order_by(BidDocument.id)))


def events(bid: Bid, prefix: str = "bid.document") -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "bid", AuditEvent.object_id == bid.id,
        AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)))


def add_directly(bid: Bid, world: World, store: Path, name: str = "quote.pdf") -> BidDocument:
    document, problems = add_document(bid, world.user("applicant"), name, PDF, "", directory=str(store),
                                      max_bytes=1024 * 1024, today=uk_today())
    assert document is not None, problems
    db.session.commit()
    return document


def test_the_type_is_read_from_the_content_and_the_file_kept_outside_the_web_root_under_a_random_name(
        as_role, world: World, app: Flask, store: Path) -> None:
    bid = draft(world)
    client = as_role("applicant")
    form = page(client.get(f"/bids/{bid.id}/documents"))
    upload = form.select_one("form[enctype='multipart/form-data'] input[type=file]#document")
    assert upload is not None and upload["name"] == "document"  # a plain form: works without JavaScript
    assert form.find(id="description") is not None

    # A PDF name over PNG content is kept as what it is: a PNG.
    response = attach(client, bid, PNG, "../../Quote from Cycle Co.pdf", "  Quote for the\nmarking kits ")
    assert response.status_code == 302 and response.headers["Location"] == f"/bids/{bid.id}/documents"
    [document] = documents_of(bid)
    assert (document.filename, document.content_type, document.size_bytes, document.description) == (
        "Quote from Cycle Co.pdf", "image/png", len(PNG), "Quote for the marking kits")
    assert document.sha256 == hashlib.sha256(PNG).hexdigest()
    assert document.uploaded_by_id == world.user("applicant").id
    # Stored under a random name in the configured folder, which is not the web root.
    assert re.fullmatch(r"[0-9a-f]{32}\.png", document.stored_name)
    kept = store / document.stored_name
    assert kept.read_bytes() == PNG and [p.name for p in store.iterdir()] == [document.stored_name]
    assert not kept.resolve().is_relative_to(Path(app.static_folder or "static").resolve())
    assert stored_path(str(store), document.stored_name) == kept
    with pytest.raises(ValueError):
        stored_path(str(store), "../secret.pdf")

    # A program renamed .pdf is refused, beside the field, and nothing is kept.
    response = attach(client, bid, EXE, "letter.pdf")
    assert response.status_code == 200
    assert field_error(response, "document") == f"letter.pdf {REFUSED_TYPE}"
    summary = page(response).select_one(".govuk-error-summary__list a[href='#document']")
    assert summary is not None and REFUSED_TYPE in summary.get_text()
    assert len(documents_of(bid)) == 1 and len(list(store.iterdir())) == 1
    assert (detect_kind(PNG), detect_kind(EXE), clean_filename("a\x00b\u202e.pdf")) == ("png", None, "ab.pdf")

    # The list shows what was added, and the history says so.
    shown = page(client.get(f"/bids/{bid.id}")).select_one("[data-testid=documents]").get_text(" ", strip=True)
    assert "Quote from Cycle Co.pdf" in shown and "PNG image" in shown and "Quote for the marking kits" in shown


def test_size_count_and_description_limits_are_said_beside_the_field(as_role, world: World, store: Path) -> None:
    bid = draft(world)
    client = as_role("applicant")
    response = attach(client, bid, b"%PDF-" + b"x" * (1024 * 1024), "big.pdf")
    assert field_error(response, "document") == "big.pdf is larger than 1 MB"
    response = client.post(f"/bids/{bid.id}/documents", data={"description": "No file"},
                           content_type="multipart/form-data")
    assert field_error(response, "document") == "Choose a file to add"
    response = attach(client, bid, b"", "empty.pdf")
    assert field_error(response, "document") == "empty.pdf is empty"
    response = attach(client, bid, EXE, "setup.exe", "x" * 201)
    assert error_messages(response) == [f"setup.exe {REFUSED_TYPE}",
                                        "The description must be 200 characters or fewer"]
    assert documents_of(bid) == [] and not store.exists()

    for n in range(MAX_DOCUMENTS):
        assert attach(client, bid, PDF, f"letter {n}.pdf").status_code == 302
    response = attach(client, bid, PDF, "one too many.pdf")
    assert field_error(response, "document") == (
        f"A bid can have at most {MAX_DOCUMENTS} supporting documents. Remove one to add another")
    assert len(documents_of(bid)) == MAX_DOCUMENTS
    full = page(client.get(f"/bids/{bid.id}/documents"))
    assert full.select_one("[data-testid=documents-full]") is not None and full.find(id="document") is None
    assert "up to 10 documents" in full.get_text()


def test_documents_change_only_while_the_applicant_may_change_the_bid(as_role, world: World, store: Path) -> None:
    client = as_role("applicant")
    bid = draft(world)
    view = page(client.get(f"/bids/{bid.id}"))
    assert view.find("a", string="Add supporting documents")["href"] == f"/bids/{bid.id}/documents"
    # From the bid form: the answers are saved, then the documents page opens.
    response = client.post(f"/bids/{bid.id}/edit", data={"version": str(bid.version), "title": "Lights",
                                                         "documents": "y"})
    assert response.headers["Location"] == f"/bids/{bid.id}/documents"
    db.session.expire_all()
    assert db.session.get(Bid, bid.id).title == "Lights"

    sent = submitted(world)
    assert client.get(f"/bids/{sent.id}/documents").headers["Location"] == f"/bids/{sent.id}"
    assert attach(client, sent, PDF, "late.pdf").status_code == 302
    assert documents_of(sent) == [] and events(sent) == []
    assert not page(client.get(f"/bids/{sent.id}")).find("a", string="Add supporting documents")
    with pytest.raises(Refused):
        add_document(sent, world.user("applicant"), "late.pdf", PDF, "", directory=str(store), max_bytes=10**6,
                     today=uk_today())
    db.session.rollback()

    # Asked for more information: documents may be added again, and those added since removed; what went with
    # the submission stays.
    asked = draft(world)
    original = add_directly(asked, world, store, "original quote.pdf")
    asked = make_submitted_again(asked, world)
    assert request_information(asked, world.user("officer"), "Send the second quote", uk_today()) == {}
    db.session.commit()
    assert attach(client, asked, PDF, "second quote.pdf").status_code == 302
    original_row, added = documents_of(asked)
    assert original_row.id == original.id
    added_id, added_file = added.id, store / added.stored_name
    managed = page(client.get(f"/bids/{asked.id}/documents"))
    assert managed.find("a", href=f"/bids/{asked.id}/documents/{added_id}/remove") is not None
    assert managed.find("a", href=f"/bids/{asked.id}/documents/{original.id}/remove") is None
    assert "Sent with the bid" in managed.select_one("[data-testid=documents]").get_text()
    assert client.get(f"/bids/{asked.id}/documents/{original.id}/remove").status_code == 302
    response = client.post(f"/bids/{asked.id}/documents/{original.id}/remove")
    assert response.status_code == 409 and "stays with the bid" in page(response).get_text()
    assert (store / original.stored_name).is_file()

    confirm = page(client.get(f"/bids/{asked.id}/documents/{added_id}/remove"))
    assert "Remove second quote.pdf?" in confirm.get_text()
    assert added_file.is_file()
    response = client.post(f"/bids/{asked.id}/documents/{added_id}/remove")
    assert response.status_code == 302 and response.headers["Location"] == f"/bids/{asked.id}/documents"
    assert [d.id for d in documents_of(asked)] == [original.id]
    assert not added_file.exists()  # the file goes with its record

    # Resubmitted: nothing more is added or removed.
    asked = db.session.get(Bid, asked.id)
    assert submit_bid(asked, world.user("applicant"), uk_today()) == {}
    db.session.commit()
    assert attach(client, asked, PDF, "third.pdf").status_code == 302 and len(documents_of(asked)) == 1
    asked = db.session.get(Bid, asked.id)
    with pytest.raises(Refused):
        remove_document(asked, world.user("applicant"), asked.documents[0], uk_today())


def make_submitted_again(bid: Bid, world: World) -> Bid:
    """Complete and submit a draft that already has documents, through the rules."""
    today = uk_today()
    applicant = world.user("applicant")
    save_bid(bid, applicant, {
        "title": "Bike marking", "local_issue": "Thefts", "activities": "Marking", "location": "Wisbech",
        "theme": "bike_theft", "start_date": today + timedelta(days=10), "end_date": today + timedelta(days=100),
        "outputs": "200 bikes", "outcomes": "Fewer thefts", "declaration": True,
    }, [BudgetLineInput("Lights", 1_000_00)], today)
    assert submit_bid(bid, applicant, today) == {}
    db.session.commit()
    return bid


def test_who_sees_and_downloads_them(as_role, world: World, store: Path) -> None:
    own_draft = draft(world)
    in_draft = add_directly(own_draft, world, store, "draft letter.pdf")
    bid = draft(world)
    document = add_directly(bid, world, store, "letter of support.pdf")
    bid = make_submitted_again(bid, world)
    other = draft(world, "other_applicant")
    theirs, _ = add_document(other, world.user("other_applicant"), "theirs.pdf", PDF, "", directory=str(store),
                             max_bytes=10**6, today=uk_today())
    assert theirs is not None
    db.session.commit()

    applicant = as_role("applicant")
    assert applicant.get(f"/bids/documents/{document.id}").status_code == 200
    assert applicant.get(f"/bids/documents/{in_draft.id}").status_code == 200  # their own draft's
    for url in (f"/bids/documents/{theirs.id}", f"/bids/{other.id}/documents",
                f"/bids/{other.id}/documents/{theirs.id}/remove", f"/bids/{own_draft.id}/documents/{theirs.id}/remove",
                "/bids/documents/999999"):
        assert applicant.get(url).status_code == 404, url
    assert applicant.post(f"/bids/{own_draft.id}/documents/{theirs.id}/remove").status_code == 404
    assert len(documents_of(other)) == 1

    for role in ("officer", "approver", "finance", "admin"):
        staff = as_role(role)
        listed = page(staff.get(f"/assess/bids/{bid.id}")).select_one("[data-testid=documents]")
        assert listed is not None and "letter of support.pdf" in listed.get_text(), role
        assert listed.find("a", href=f"/bids/documents/{document.id}") is not None
        assert "Remove" not in listed.get_text()
        assert staff.get(f"/bids/documents/{document.id}").status_code == 200, role
        # A draft's documents are the applicant's alone, like the draft.
        assert staff.get(f"/bids/documents/{in_draft.id}").status_code == 404, role
        assert staff.get(f"/bids/documents/{theirs.id}").status_code == 404, role
        assert staff.get(f"/bids/{bid.id}/documents").status_code == 403, role
    officer = as_role("officer")
    assessing = page(officer.get(f"/assess/bids/{bid.id}/assess")).select_one("[data-testid=documents]")
    assert assessing is not None and "letter of support.pdf" in assessing.get_text()


def test_a_download_is_an_attachment_with_the_cleaned_name_and_the_stored_type(as_role, world: World,
                                                                                store: Path) -> None:
    bid = draft(world)
    client = as_role("applicant")
    attach(client, bid, PNG, "reports/Quote for kits (final).pdf")
    [document] = documents_of(bid)
    assert document.filename == "Quote for kits (final).pdf"
    assert clean_filename("C:\\Users\\tom\\Quote\x07 final.pdf") == "Quote final.pdf"
    response = client.get(f"/bids/documents/{document.id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Type"] == "image/png"  # what the content is, never what the name says
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "Quote for kits (final).pdf" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    (store / document.stored_name).unlink()
    assert client.get(f"/bids/documents/{document.id}").status_code == 404


def test_every_addition_and_removal_is_audited(as_role, world: World, store: Path) -> None:
    bid = draft(world)
    client = as_role("applicant")
    attach(client, bid, PDF, "quote.pdf", "Quote")
    [document] = documents_of(bid)
    document_id, sha256 = document.id, document.sha256
    client.post(f"/bids/{bid.id}/documents/{document_id}/remove")
    added, removed = events(bid)
    assert (added.action, added.actor_id, added.from_state, added.to_state) == (
        "bid.document_added", world.user("applicant").id, "draft", "draft")
    assert added.note == f"quote.pdf (PDF document, {len(PDF)} bytes)"
    assert added.details == {"document_id": document_id, "sha256": hashlib.sha256(PDF).hexdigest()}
    assert (removed.action, removed.note, removed.details["sha256"]) == ("bid.document_removed", "quote.pdf", sha256)
    history = page(client.get(f"/bids/{bid.id}")).get_text()
    assert "Supporting document added" in history and "Supporting document removed" in history
    assert db.session.scalar(select(func.count(BidDocument.id))) == 0


def test_removing_asks_the_bid_lifecycle(as_role, world: World, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The remove page has no button of its own in the lifecycle (it names a document, not only the bid), so it is
    checked here as tests/test_lifecycles.py checks the pages that do: the lifecycle refuses, nothing changes."""
    bid = draft(world)
    document = add_directly(bid, world, store)
    document_id = document.id
    client = as_role("applicant")
    original = Lifecycle.refusal

    def refusing(self: Lifecycle, key: str, user: Any, record: Any, today: Any) -> str | None:
        return "Refused by the test." if key == "remove_document" else original(self, key, user, record, today)

    monkeypatch.setattr(Lifecycle, "refusal", refusing)
    assert client.get(f"/bids/{bid.id}/documents/{document_id}/remove").status_code == 302
    response = client.post(f"/bids/{bid.id}/documents/{document_id}/remove")
    assert response.status_code == 409 and "Refused by the test." in page(response).get_text()
    assert [d.id for d in documents_of(bid)] == [document_id] and events(bid, "bid.document_removed") == []
    assert page(client.get(f"/bids/{bid.id}/documents")).find(
        "a", href=f"/bids/{bid.id}/documents/{document_id}/remove") is None
    monkeypatch.undo()
    assert client.post(f"/bids/{bid.id}/documents/{document_id}/remove").status_code == 302
    assert documents_of(bid) == []
