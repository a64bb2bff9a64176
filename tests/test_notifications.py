"""Notifications: the emails a bid's submission sends, and each user's own emails read in the app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select

from grants.assessment.rules import declare_conflict, request_information
from grants.bids.rules import BudgetLineInput, save_bid, start_bid, submit_bid
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.mail import queue_email, tell_organisation
from grants.core.models import AuditEvent, Bid, OutboxEmail, User, utcnow
from grants.notifications.queries import PAGE_SIZE
from tests.conftest import World, make_submitted_bid, make_user, page
from tests.test_bids import bid_form


def mail(subject_part: str) -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.subject.contains(subject_part))
                                   .order_by(OutboxEmail.to_address)))


def draft(world: World, user: User | None = None) -> Bid:
    """A complete draft of two budget lines (£1,500.00 capital, £500.50 revenue), ready to submit."""
    applicant = user or world.user("applicant")
    today = uk_today()
    bid = start_bid(applicant, world.scf_year, today)
    save_bid(bid, applicant, {
        "title": "Bike marking in Wisbech", "local_issue": "Bike theft near the station",
        "activities": "Four marking events", "location": "Wisbech North", "theme": "bike_theft",
        "start_date": today + timedelta(days=10), "end_date": today + timedelta(days=100),
        "outputs": "200 bikes marked", "outcomes": "Fewer thefts", "declaration": True,
    }, [BudgetLineInput("Marking kits", 1_500_00, "capital"), BudgetLineInput("Staff time", 500_50, "revenue")])
    db.session.commit()
    return bid


# --- the emails a submission sends ----------------------------------------------------------------------------


def test_submission_emails_every_active_officer_who_may_assess_it(world: World) -> None:
    retired = make_user("retired@opcc.example", "officer", world.opcc, "Retired Officer")
    retired.active = False
    db.session.commit()
    bid = draft(world)
    assert submit_bid(bid, world.user("applicant"), uk_today()) == {}
    db.session.commit()

    told = mail(f"{bid.reference}: new bid from Fenland CSP")
    assert [m.to_address for m in told] == ["officer2@opcc.example", "officer@opcc.example"]
    assert {m.recipient_id for m in told} == {world.user("officer").id, world.user("officer2").id}
    # Not the inactive officer, nor approvers, finance, admin, nor another organisation's applicants.
    everyone = {m.to_address for m in mail(bid.reference)}
    assert everyone == {"officer2@opcc.example", "officer@opcc.example", "applicant@fenland.example"}
    body = told[0].body
    for fact in (f"Reference: {bid.reference}", "Title: Bike marking in Wisbech", "Organisation: Fenland CSP",
                 f"Fund: Safer Communities Fund {world.scf_year.label}", "Amount asked for: £2,000.50"):
        assert fact in body
    assert f"/assess/bids/{bid.id}" in body


def test_a_submission_refused_by_the_rules_emails_nobody(world: World) -> None:
    bid = start_bid(world.user("applicant"), world.scf_year, uk_today())
    db.session.commit()
    assert submit_bid(bid, world.user("applicant"), uk_today())  # nothing answered yet
    db.session.commit()
    assert mail(bid.reference) == []


def test_the_link_is_on_the_public_address_when_one_is_set(world: World, app: Any) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://grants.example.org/"
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    [first, *_] = mail(f"{bid.reference}: new bid")
    assert f"Assess it: https://grants.example.org/assess/bids/{bid.id}" in first.body


def test_submitting_through_the_page_links_to_the_address_it_came_to(as_role: Any, world: World) -> None:
    applicant = as_role("applicant")
    response = applicant.post("/bids/start", data={"fund_year_id": str(world.scf_year.id)})
    bid = db.session.scalar(select(Bid).order_by(Bid.id.desc()))
    assert response.status_code == 302 and bid is not None
    response = applicant.post(f"/bids/{bid.id}/edit", data=bid_form(bid, submit="Submit"))
    assert response.status_code == 302
    [first, *_] = mail(f"{bid.reference}: new bid")
    assert f"Assess it: http://localhost/assess/bids/{bid.id}" in first.body


def test_resubmission_after_an_information_request_emails_the_officers(world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 2_000_00)
    officer, officer2 = world.user("officer"), world.user("officer2")
    assert request_information(bid, officer, "Which paths?", uk_today()) == {}
    # The second officer declares a conflict of interest: they take no further part, so are not told.
    declare_conflict(bid, officer2, "My partner chairs the partnership", uk_today())
    db.session.commit()
    assert submit_bid(bid, world.user("applicant"), uk_today()) == {}
    db.session.commit()

    [told] = mail(f"{bid.reference}: more information from Fenland CSP")
    assert told.to_address == officer.email and told.recipient_id == officer.id
    assert "resubmitted" in told.body and f"/assess/bids/{bid.id}" in told.body
    [receipt] = mail(f"{bid.reference}: your updated bid has been received")
    assert receipt.recipient_id == world.user("applicant").id


def test_officers_of_the_bidding_organisation_are_not_told(world: World) -> None:
    """Staff never assess their own organisation's bids (grants.bids.lifecycle.conflict_of_interest)."""
    insider = make_user("insider@fenland.example", "officer", world.csp, "Inside Officer")
    db.session.commit()
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    assert insider.email not in {m.to_address for m in mail(f"{bid.reference}: new bid")}


def test_the_receipt_summarises_the_answers_for_the_person_who_submitted(world: World) -> None:
    colleague = make_user("colleague@fenland.example", "applicant", world.csp, "Cora Colleague")
    db.session.commit()
    bid = draft(world)
    assert submit_bid(bid, colleague, uk_today()) == {}
    db.session.commit()

    [receipt] = mail(f"{bid.reference}: your bid has been received")
    assert receipt.to_address == colleague.email and receipt.recipient_id == colleague.id
    start, end = uk_today() + timedelta(days=10), uk_today() + timedelta(days=100)
    for line in (f"Reference: {bid.reference}", f"Fund: Safer Communities Fund {world.scf_year.label}",
                 "Title: Bike marking in Wisbech", "Where: Wisbech North", "Amount asked for: £2,000.50",
                 f"Start date: {start.day} {start:%B %Y}", f"End date: {end.day} {end:%B %Y}",
                 "- Marking kits (capital): £1,500.00", "- Staff time (revenue): £500.50", "Total: £2,000.50",
                 "What happens next", f"See your bid: /bids/{bid.id}"):
        assert line in receipt.body.splitlines(), line
    assert receipt.body.index("Marking kits") < receipt.body.index("Staff time") < receipt.body.index("Total")


# --- the recipient is kept ------------------------------------------------------------------------------------


def test_mail_to_users_names_them_and_mail_to_an_address_names_nobody(world: World) -> None:
    tell_organisation(world.csp, "Hello", "Body", also=world.user("officer"))
    queue_email("someone@example.org", "Hello", "Body")
    db.session.commit()
    rows = {m.to_address: m.recipient_id for m in mail("Hello")}
    assert rows == {"applicant@fenland.example": world.user("applicant").id,
                    "officer@opcc.example": world.user("officer").id, "someone@example.org": None}


# --- reading them in the app ----------------------------------------------------------------------------------


def notify(user: User, count: int, subject: str = "Note") -> list[OutboxEmail]:
    made = [queue_email(user.email, f"{subject} {k:03d}", f"Body {k}", recipient=user) for k in range(count)]
    db.session.commit()
    return made


def subjects(response: Any) -> list[str]:
    table = page(response).find(attrs={"data-testid": "notifications"})
    return [a.get_text(strip=True) for a in table.select("tbody a")] if table else []


def nav_link(response: Any) -> str:
    link = page(response).find("a", href="/notifications/")
    assert link is not None, "no Notifications entry in the navigation"
    return " ".join(link.get_text().split())  # as a screen reader reads it, hidden text included


@pytest.mark.parametrize("role", ["applicant", "officer", "approver", "finance", "admin"])
def test_each_role_sees_only_its_own_notifications_newest_first(as_role: Any, world: World, role: str) -> None:
    notify(world.user("other_applicant"), 1, "Not yours")
    notify(world.user("officer2"), 1, "Not yours either")
    notify(world.user(role), 2, "Yours")
    client = as_role(role)
    response = client.get("/notifications/")
    assert response.status_code == 200
    assert subjects(response) == ["Yours 001", "Yours 000"]
    assert nav_link(response) == "Notifications, 2 unread"


def test_opening_a_notification_marks_it_read_once(as_role: Any, world: World) -> None:
    first, second = notify(world.user("applicant"), 2)
    client = as_role("applicant")
    listing = page(client.get("/notifications/"))
    assert len(listing.select("tr[data-unread]")) == 2
    assert listing.find(attrs={"data-testid": "unread-count"}).get_text(" ", strip=True) == "2 unread"

    response = client.get(f"/notifications/{first.id}")
    assert response.status_code == 200
    shown = page(response)
    assert shown.find("h1").get_text(strip=True) == "Note 000"
    assert shown.find(attrs={"data-testid": "body"}).get_text(strip=True) == "Body 0"
    assert nav_link(response) == "Notifications, 1 unread"  # counted after this one was marked
    db.session.expire_all()
    opened = db.session.get(OutboxEmail, first.id).read_at
    assert opened is not None and db.session.get(OutboxEmail, second.id).read_at is None

    client.get(f"/notifications/{first.id}")
    db.session.expire_all()
    assert db.session.get(OutboxEmail, first.id).read_at == opened  # opening again keeps the first time
    listing = page(client.get("/notifications/"))
    unread = [row.find("a").get_text(strip=True) for row in listing.select("tr[data-unread]")]
    assert unread == ["Note 001"]
    # Reading is not a change to a grant's record: no audit event.
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "outbox_email")).all() == []


def test_another_users_notification_is_not_found_and_stays_unread(as_role: Any, world: World) -> None:
    [theirs] = notify(world.user("officer2"), 1)
    [unaddressed] = [queue_email("someone@example.org", "Hello", "Body")]
    db.session.commit()
    client = as_role("officer")
    assert client.get(f"/notifications/{theirs.id}").status_code == 404
    assert client.get(f"/notifications/{unaddressed.id}").status_code == 404
    assert as_role("admin").get(f"/notifications/{theirs.id}").status_code == 404  # admins use the Outbox
    db.session.expire_all()
    assert db.session.get(OutboxEmail, theirs.id).read_at is None


def test_marking_all_read(as_role: Any, world: World) -> None:
    notify(world.user("applicant"), 3)
    [theirs] = notify(world.user("other_applicant"), 1)
    client = as_role("applicant")
    assert page(client.get("/notifications/")).find("button", string="Mark all as read")
    response = client.post("/notifications/read-all", follow_redirects=True)
    assert "3 notifications marked as read." in response.get_data(as_text=True)
    assert page(response).select("tr[data-unread]") == []
    assert page(response).find(attrs={"data-testid": "unread-count"}) is None
    assert nav_link(response) == "Notifications"
    assert not page(response).find("button", string="Mark all as read")
    db.session.expire_all()
    assert db.session.get(OutboxEmail, theirs.id).read_at is None


def test_signed_out_people_are_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    assert client.get("/notifications/").headers["Location"].startswith("/sign-in")
    assert client.post("/notifications/read-all").status_code in (302, 400)


@contextmanager
def counting() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_the_list_pages_with_a_constant_number_of_statements(as_role: Any, world: World) -> None:
    applicant = world.user("applicant")
    notify(applicant, 3)
    client = as_role("applicant")
    with counting() as few:
        assert len(subjects(client.get("/notifications/"))) == 3
    made = notify(applicant, PAGE_SIZE * 2, "More")
    for message in made[::2]:
        message.read_at = utcnow()
    db.session.commit()
    with counting() as many:
        response = client.get("/notifications/")
    assert len(subjects(response)) == PAGE_SIZE
    assert len(many) == len(few), many
    # The user, the page's count and rows, and the unread count (once, shared by the header and the page).
    assert sum("count(" in s.lower() for s in many) == 2
    assert "Page 1 of 3" in response.get_data(as_text=True)
    second = client.get("/notifications/?page=2")
    assert subjects(second)[0] == f"More {PAGE_SIZE - 1:03d}"
    last = subjects(client.get("/notifications/?page=3"))
    assert last == ["Note 002", "Note 001", "Note 000"]


def test_the_unread_count_is_one_cheap_statement_on_other_pages(as_role: Any, world: World) -> None:
    notify(world.user("officer"), 2)
    client = as_role("officer")
    with counting() as seen:
        response = client.get("/assess/")
    assert nav_link(response) == "Notifications, 2 unread"
    assert sum("outbox_email" in s for s in seen) == 1
