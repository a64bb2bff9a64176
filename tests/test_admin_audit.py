"""The admin audit page: every event newest first, a page at a time, filtered by record type, action, who and
dates, each named as people read it; admin changes to fund-years and users written out field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete

from grants.admin import rules
from grants.admin.queries import AUDIT_PAGE_SIZE
from grants.core.dates import LONDON
from grants.core.extensions import db
from grants.core.models import AuditEvent
from tests.conftest import World, page


def texts(response: Any) -> list[list[str]]:
    """The table's rows: when, who, record, what, details."""
    return [[cell.get_text(" ", strip=True) for cell in row.select("td")]
            for row in page(response).select("[data-testid=audit-events] tbody tr")]


def add_event(actor_id: int | None, action: str, object_type: str, object_id: int, when: datetime,
              note: str = "") -> None:
    db.session.add(AuditEvent(actor_id=actor_id, action=action, object_type=object_type, object_id=object_id,
                              occurred_at=when, note=note))


def fresh_log(world: World) -> None:
    """Only the events a test adds (the world's own, and sign-ins, are cleared first)."""
    db.session.execute(delete(AuditEvent))
    db.session.commit()


def test_only_admins_see_the_audit_page(as_role, world: World) -> None:
    assert as_role("officer").get("/admin/audit").status_code == 403
    assert as_role("admin").get("/admin/audit").status_code == 200


def test_events_are_newest_first_and_paged(as_role, world: World) -> None:
    client = as_role("admin")
    fresh_log(world)
    start = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    for k in range(AUDIT_PAGE_SIZE + 5):
        add_event(world.user("officer").id, "bid.saved", "bid", 1, start + timedelta(minutes=k), note=f"Event {k:03d}")
    db.session.commit()
    first = client.get("/admin/audit")
    notes = [row[4] for row in texts(first)]
    assert len(notes) == AUDIT_PAGE_SIZE and notes[0] == f"Event {AUDIT_PAGE_SIZE + 4:03d}"
    assert "Page 1 of 2" in page(first).select_one("nav.govuk-pagination").get_text(" ", strip=True)
    second = client.get("/admin/audit?page=2")
    notes = [row[4] for row in texts(second)]
    assert notes[-1] == "Event 000" and len(notes) == 5
    assert "There are no events on this page" in page(client.get("/admin/audit?page=9")).get_text()


def test_filters_by_record_type_action_who_and_dates(as_role, world: World) -> None:
    client = as_role("admin")
    fresh_log(world)
    officer, approver = world.user("officer").id, world.user("approver").id
    day = datetime(2025, 6, 10, 12, 0, tzinfo=LONDON)
    add_event(officer, "bid.submitted", "bid", 7, day - timedelta(days=2), "two days before")
    add_event(approver, "bid.approved", "bid", 7, day, "on the day")
    add_event(officer, "payment.scheduled", "payment", 3, day + timedelta(days=1), "a day after")
    add_event(approver, "fund_year.updated", "fund_year", 2, day + timedelta(days=3), "three days after")
    db.session.commit()

    def notes(query: str) -> list[str]:
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200
        return [row[4] for row in texts(response)]

    assert notes("object_type=bid") == ["on the day", "two days before"]
    assert notes("action=bid.approved") == ["on the day"]
    assert notes(f"actor={officer}") == ["a day after", "two days before"]
    assert notes("object_type=bid&actor=" + str(approver)) == ["on the day"]
    # Who: any part of the name or email, whatever the case.
    assert notes("who=OFFICER") == ["a day after", "two days before"]
    assert notes("who=approver%40opcc&object_type=fund_year") == ["three days after"]
    assert notes("who=nobody-by-this-name") == []
    # From and to are whole UK days, both included.
    assert notes("date_from=10&date_from=6&date_from=2025&date_to=11&date_to=6&date_to=2025") == [
        "a day after", "on the day"]
    assert notes("date_to=9&date_to=6&date_to=2025") == ["two days before"]
    # Choices the page does not offer are ignored; a date that is not a date is said, and not filtered by.
    assert len(notes("object_type=nonsense&action=nothing.happened")) >= 4
    bad = client.get("/admin/audit?date_from=31&date_from=2&date_from=2025")
    assert "The from must be a real date" in page(bad).select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert len(texts(bad)) >= 4
    backwards = client.get("/admin/audit?date_from=10&date_from=6&date_from=2025&date_to=1&date_to=6&date_to=2025")
    assert "same as or after the from date" in page(backwards).get_text()


def test_the_filters_are_kept_from_page_to_page(as_role, world: World) -> None:
    client = as_role("admin")
    fresh_log(world)
    start = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    for k in range(AUDIT_PAGE_SIZE + 1):
        add_event(world.user("officer").id, "bid.saved", "bid", 1, start + timedelta(minutes=k))
    db.session.commit()
    response = client.get("/admin/audit?object_type=bid&date_from=1&date_from=5&date_from=2025")
    following = page(response).select_one("nav.govuk-pagination a[rel=next]")["href"]
    assert "object_type=bid" in following and following.count("date_from=") == 3
    assert len(texts(client.get(following))) == 1


def test_names_are_those_people_read(as_role, world: World) -> None:
    client = as_role("admin")
    fresh_log(world)
    add_event(world.user("officer").id, "bid.resubmitted", "bid", 4, datetime.now(UTC))
    add_event(world.user("officer").id, "agreement.issued", "grant_agreement", 5, datetime.now(UTC))
    add_event(None, "user.sign_in_failed", "user", world.user("finance").id, datetime.now(UTC))
    db.session.commit()
    rows = texts(client.get("/admin/audit?actor="))
    found = {(row[1], row[2], row[3]) for row in rows}
    assert ("Officer Person", "Bid 4", "Bid: resubmitted with more information") in found
    assert ("Officer Person", "Agreement 5", "Agreement: issued to the grantee") in found
    assert ("System", f"User {world.user('finance').id}", "User: sign in failed") in found
    options = [o.get_text(strip=True) for o in page(client.get("/admin/audit")).select("#object_type option")]
    assert options == ["All record types", "Agreement", "Bid", "User"]


def test_admin_changes_to_fund_years_and_users_read_field_by_field(as_role, world: World) -> None:
    client = as_role("admin")
    admin = world.user("admin")
    fund_year = world.scf_year
    values = rules.FundYearValues(year_start=fund_year.year_start, budget_pence=25_000_00,
                                  per_bid_cap_pence=fund_year.per_bid_cap_pence, per_applicant_cap_pence=None,
                                  delegation_limit_pence=fund_year.delegation_limit_pence,
                                  opens_on=fund_year.opens_on, closes_on=fund_year.closes_on)
    assert rules.update_fund_year(admin, fund_year, values) == (True, {})
    user = world.user("other_applicant")
    user_values = rules.UserValues(name=user.name, role="applicant", organisation_id=world.csp.id, active=False)
    assert rules.update_user(admin, user, user_values) == (True, {})
    db.session.commit()

    rows = texts(client.get("/admin/audit?object_type=fund_year"))
    assert rows[0][3] == "Fund year: updated"
    assert "Budget: £20,000.00 to £25,000.00" in rows[0][4]
    rows = texts(client.get("/admin/audit?object_type=user&action=user.deactivated"))
    assert rows[0][2] == f"User {user.id}" and rows[0][3] == "User: deactivated"
    assert "Organisation: Huntingdonshire CSP to Fenland CSP" in rows[0][4]
    assert "Active: yes to no" in rows[0][4]
