"""History says what changed in the words of the form people answered, not the names of the database's columns."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from grants.bids.forms import BidForm
from grants.bids.lifecycle import BID, FIELDS
from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.models import AuditEvent, Bid
from tests.conftest import World, page
from tests.test_bids import bid_form, start_bid

COLUMN_NAMES = ("local_issue", "start_date", "budget_lines", "other_funding_pence")


def history_notes(response: object) -> list[str]:
    table = page(response).find(attrs={"data-testid": "history"})
    assert table is not None, "no history on the page"
    return [row.select("td")[-1].get_text(strip=True) for row in table.select("tbody tr")]


def saved_events(bid: Bid) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "bid", AuditEvent.object_id == bid.id, AuditEvent.action == "bid.saved")
        .order_by(AuditEvent.id)))


def test_the_history_names_changed_answers_by_their_labels(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    assert client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, save="Save")).status_code == 302
    db.session.refresh(bid)
    assert client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, save="Save", local_issue="Thefts at the station",
                                                             **{"budget_lines-1-amount": "600"})).status_code == 302

    first, second = saved_events(bid)
    assert second.note == "The local issue this bid answers, Costed budget"
    assert second.details == {"changed": ["local_issue", "budget_lines"]}  # the names, for anything that reads them
    assert first.note.startswith("Bid title, The local issue this bid answers, What will be done, Where, Theme, ")

    notes = history_notes(client.get(f"/bids/{bid.id}"))
    assert "The local issue this bid answers, Costed budget" in notes
    headings = [h.get_text(strip=True) for h in page(client.get(f"/bids/{bid.id}/edit")).select("h2")]
    assert FIELDS["budget_lines"] in headings and FIELDS["declaration"] in headings
    shown = " ".join(notes)
    assert not any(name in shown for name in COLUMN_NAMES), shown

    # The OPCC's staff read the same words once the bid is submitted.
    db.session.refresh(bid)
    assert client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, submit="Submit")).status_code == 302
    staff_notes = history_notes(as_role("officer").get(f"/assess/bids/{bid.id}"))
    assert "The local issue this bid answers, Costed budget" in staff_notes
    assert not any(name in " ".join(staff_notes) for name in COLUMN_NAMES)


def test_changes_recorded_before_in_column_names_are_shown_in_words(as_role, world: World) -> None:
    """Audit events are never edited: older events listing column names are put into words as they are read."""
    client = as_role("applicant")
    bid = start_bid(client, world)
    record_event(world.user("applicant"), "bid.saved", bid, from_state="draft", to_state="draft",
                 note="local_issue, start_date, budget_lines")
    # A note that only looks like a field name, on an event that is not a change of answers, is left alone.
    record_event(world.user("applicant"), "bid.document_added", bid, from_state="draft", to_state="draft",
                 note="title")
    db.session.commit()
    notes = history_notes(client.get(f"/bids/{bid.id}"))
    assert "The local issue this bid answers, Start date, Costed budget" in notes
    assert "title" in notes
    stored = saved_events(bid)[0]
    assert stored.note == "local_issue, start_date, budget_lines"  # the event itself is unchanged


def test_the_history_words_are_the_forms_labels(app: Flask) -> None:
    with app.test_request_context():
        form = BidForm()
        assert set(FIELDS) <= set(form._fields)
        for name, label in FIELDS.items():
            # The checkbox's label is the declaration itself; the heading above it, "Declaration", names it.
            if name != "declaration":
                assert form[name].label.text == label, name
    assert BID.fields is FIELDS and BID.fields_event == "bid.saved"
