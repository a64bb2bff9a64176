"""The applicant's bid journey: draft, edit, submit, every validation message, and who may see what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import AuditEvent, Bid, BidSnapshot, BudgetLine, utcnow
from tests.conftest import World, error_messages, field_error, page


def bid_form(bid: Bid | None = None, **overrides: Any) -> dict[str, Any]:
    start = uk_today() + timedelta(days=10)
    end = start + timedelta(days=90)
    data: dict[str, Any] = {
        "version": str(bid.version) if bid else "1",
        "title": "Bike marking in Wisbech",
        "local_issue": "Bike theft has doubled near the station",
        "activities": "Four marking events with the police",
        "location": "Wisbech North",
        "theme": "bike_theft",
        "start_date": [str(start.day), str(start.month), str(start.year)],
        "end_date": [str(end.day), str(end.month), str(end.year)],
        "outputs": "200 bikes marked",
        "outcomes": "Fewer bike thefts reported",
        "budget_lines-0-item": "Marking kits",
        "budget_lines-0-amount": "£1,500",
        "budget_lines-1-item": "Staff time",
        "budget_lines-1-amount": "500.50",
        "budget_lines-2-item": "",
        "budget_lines-2-amount": "",
        "other_funding": "None",
        "other_funding_pence": "",
        "declaration": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def start_bid(client: FlaskClient, world: World) -> Bid:
    response = client.post("/bids/start", data={"fund_year_id": world.scf_year.id})
    assert response.status_code == 302
    bid_id = int(response.headers["Location"].split("/")[-2])
    return db.session.get(Bid, bid_id)


def test_start_page_lists_only_open_funds(as_role, world: World) -> None:
    client = as_role("applicant")
    labels = [label.get_text(strip=True) for label in page(client.get("/bids/start")).select(".govuk-radios__label")]
    assert len(labels) == 1
    assert labels[0].startswith(f"Safer Communities Fund {world.scf_year.label}: up to £5,000.00 a bid")
    response = client.post("/bids/start", data={"fund_year_id": world.closed_year.id})
    assert field_error(response, "fund_year_id") == "Select a fund that is open for bids"
    response = client.post("/bids/start", data={})
    assert error_messages(response) == ["Select a fund"]
    assert db.session.scalar(select(Bid.id)) is None


def test_draft_save_return_edit_and_submit(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    assert bid.status == "draft" and bid.organisation_id == world.csp.id

    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, title="First title", declaration=None, save="Save"))
    assert response.status_code == 302
    db.session.refresh(bid)
    assert bid.title == "First title" and bid.status == "draft"
    assert [(line.item, line.amount_pence) for line in bid.budget_lines] == [("Marking kits", 1_500_00), ("Staff time", 500_50)]
    assert bid.requested_pence == 2_000_50

    # Coming back shows what was saved.
    soup = page(client.get(f"/bids/{bid.id}/edit"))
    assert soup.find(id="title")["value"] == "First title"
    assert soup.find(id="budget_lines-1-amount")["value"] == "500.50"
    assert soup.find(attrs={"data-testid": "budget-total"}).get_text(strip=True) == "£2,000.50"

    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, title="Better title", submit="Submit"))
    assert response.status_code == 302, error_messages(response)
    db.session.refresh(bid)
    assert bid.status == "submitted" and bid.title == "Better title" and bid.submitted_at is not None
    assert bid.declared_by == "Tom Hughes"
    snapshot = db.session.scalar(select(BidSnapshot).where(BidSnapshot.bid_id == bid.id))
    assert snapshot.submission_number == 1 and snapshot.facts["requested_pence"] == 2_000_50

    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == bid.id, AuditEvent.object_type == "bid").order_by(AuditEvent.id))]
    assert actions == ["bid.created", "bid.saved", "bid.saved", "bid.submitted"]
    submitted = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bid.submitted"))
    assert (submitted.from_state, submitted.to_state, submitted.actor_id) == ("draft", "submitted", world.user("applicant").id)

    # Submitted bids can no longer be edited by the applicant.
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, title="Sneaky", submit="Submit"))
    assert response.status_code == 302
    db.session.refresh(bid)
    assert bid.title == "Better title"
    view = page(client.get(f"/bids/{bid.id}"))
    assert view.find(attrs={"data-testid": "requested-total"}).get_text(strip=True) == "£2,000.50"
    assert "Submitted" in view.find(attrs={"data-testid": "history"}).get_text()


def submit(client: FlaskClient, bid: Bid, **overrides: Any):  # type: ignore[no-untyped-def]
    return client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, submit="Submit", **overrides))


def test_amount_over_the_per_bid_cap(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    response = submit(client, bid, **{"budget_lines-0-amount": "4,500", "budget_lines-1-amount": "500.01"})
    message = "£5,000.00 is the most you can ask for from the Safer Communities Fund"
    assert message in error_messages(response)
    assert page(response).find(id="budget-total-error").get_text(" ", strip=True) == f"Error: {message}"
    db.session.refresh(bid)
    assert bid.status == "draft"
    assert bid.requested_pence == 5_000_01  # what they typed is kept, not lost

    # Exactly at the cap is accepted.
    response = submit(client, bid, **{"budget_lines-0-amount": "4,500", "budget_lines-1-amount": "500"})
    assert response.status_code == 302
    db.session.refresh(bid)
    assert bid.status == "submitted" and bid.requested_pence == 5_000_00


def test_end_date_before_start_date(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    response = submit(client, bid, start_date=["10", "6", str(world.scf_year.year_start)],
                      end_date=["9", "6", str(world.scf_year.year_start)])
    assert field_error(response, "end_date") == "The end date must be the same as or after the start date"
    assert page(response).select_one(".govuk-error-summary__list a[href='#end_date-day']") is not None


def test_fund_closed(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = Bid(organisation_id=world.csp.id, fund_year_id=world.closed_year.id, created_by_id=world.user("applicant").id)
    db.session.add(bid)
    db.session.commit()
    response = submit(client, bid)
    closes = world.closed_year.closes_on
    assert (f"The Safer Communities Fund {world.closed_year.label} is closed: it closed to bids on "
            f"{closes.day} {closes:%B %Y}") in error_messages(response)
    db.session.refresh(bid)
    assert bid.status == "draft"


def test_missing_fields_each_have_a_message(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    empty = {name: "" for name in ("title", "local_issue", "activities", "location", "outputs", "outcomes",
                                   "budget_lines-0-item", "budget_lines-0-amount", "budget_lines-1-item",
                                   "budget_lines-1-amount")}
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(
        bid, submit="Submit", theme=None, start_date=None, end_date=None, declaration=None, **empty))
    expected = {
        "title": "Enter a title for the bid",
        "local_issue": "Describe the local issue the bid answers",
        "activities": "Describe what will be done",
        "location": "Enter where the work will happen (area or ward)",
        "theme": "Select the theme the bid addresses",
        "start_date": "Enter the start date",
        "end_date": "Enter the end date",
        "outputs": "Enter the expected outputs",
        "outcomes": "Enter the expected outcomes",
        "declaration": "Confirm the declaration to submit the bid",
    }
    for field_id, message in expected.items():
        assert field_error(response, field_id) == message, field_id
    summary = error_messages(response)
    assert set(expected.values()) | {"Add at least one costed item to the budget"} == set(summary)
    assert page(response).title.get_text().startswith("Error: ")


def test_money_that_is_negative_or_not_money(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    response = submit(client, bid, **{"budget_lines-0-amount": "-50", "budget_lines-1-amount": "lots",
                                      "other_funding_pence": "12.345"})
    assert field_error(response, "budget_lines-0-amount") == "Amount must not be negative"
    assert field_error(response, "budget_lines-1-amount") == "Enter an amount in pounds, like 5000 or £5,000.50"
    assert field_error(response, "other_funding_pence") == "Amount must not have more than two decimal places (pence)"
    # What was typed is shown again so nothing is lost.
    assert page(response).find(id="budget_lines-1-amount")["value"] == "lots"
    db.session.refresh(bid)
    assert bid.status == "draft" and bid.budget_lines == []


def test_budget_line_needs_both_item_and_cost(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    response = submit(client, bid, **{"budget_lines-0-amount": "", "budget_lines-1-item": ""})
    assert field_error(response, "budget_lines-0-amount") == "Enter the cost of Marking kits"
    assert field_error(response, "budget_lines-1-item") == "Enter what this cost is for"


def test_dates_that_are_not_real(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    response = submit(client, bid, start_date=["31", "2", "2027"], end_date=["", "5", "2027"])
    assert field_error(response, "start_date") == "The start date must be a real date, like 27 3 2026"
    assert field_error(response, "end_date") == "The end date must include a day"
    soup = page(response)
    assert soup.find(id="start_date-day")["value"] == "31"  # kept as typed
    # A day too large for the date library's integers is the same mistake, not a crash.
    response = submit(client, start_bid(client, world), start_date=["2797168345205", "1", "2027"])
    assert response.status_code == 200
    assert field_error(response, "start_date") == "The start date must be a real date, like 27 3 2026"


def test_add_budget_line_without_javascript(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, add_line="Add"))
    soup = page(response)
    assert soup.find(id="budget_lines-3-item") is not None
    assert soup.find(id="budget_lines-0-item")["value"] == "Marking kits"


def test_version_check_stops_silent_overwrites(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    stale_version = str(bid.version)
    assert client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, title="Saved by a colleague", save="Save")).status_code == 302
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, version=stale_version, title="Mine", save="Save"))
    assert response.status_code == 409
    assert "Someone else changed this bid after you opened it" in response.get_data(as_text=True)
    db.session.refresh(bid)
    assert bid.title == "Saved by a colleague"


def test_withdraw(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    assert submit(client, bid).status_code == 302
    response = client.post(f"/bids/{bid.id}/withdraw", data={"reason": "Found other funding"})
    assert response.status_code == 302
    db.session.refresh(bid)
    assert bid.status == "withdrawn"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bid.withdrawn"))
    assert (event.from_state, event.to_state, event.note) == ("submitted", "withdrawn", "Found other funding")
    # Decided or withdrawn bids cannot be withdrawn again.
    client.post(f"/bids/{bid.id}/withdraw", data={"reason": "again"})
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "bid.withdrawn").offset(1)) is None


def test_another_organisations_bid_is_not_found(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    submit(client, bid)
    other = as_role("other_applicant")
    for url in (f"/bids/{bid.id}", f"/bids/{bid.id}/edit", f"/bids/{bid.id}/withdraw"):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/bids/{bid.id}/edit", data=bid_form(bid, title="Hijack", save="Save")).status_code == 404
    assert other.post(f"/bids/{bid.id}/withdraw", data={"reason": "x"}).status_code == 404
    assert "Bike marking" not in other.get("/bids/").get_data(as_text=True)
    db.session.refresh(bid)
    assert bid.title == "Bike marking in Wisbech" and bid.status == "submitted"
    assert other.get("/bids/999999").status_code == 404


def test_applicant_list_shows_only_own_organisation(as_role, world: World) -> None:
    for applicant, title in (("applicant", "Ours"), ("other_applicant", "Theirs")):
        user = world.user(applicant)
        db.session.add(Bid(organisation_id=user.organisation_id, fund_year_id=world.scf_year.id,
                           created_by_id=user.id, title=title))
    db.session.commit()
    text = as_role("applicant").get("/bids/").get_data(as_text=True)
    assert "Ours" in text and "Theirs" not in text


def _bid(world: World, applicant: str, title: str, status: str, amount: int = 1_000_00) -> Bid:
    user = world.user(applicant)
    bid = Bid(organisation_id=user.organisation_id, fund_year_id=world.scf_year.id, created_by_id=user.id,
              title=title, status=status, submitted_at=None if status == "draft" else utcnow())
    bid.budget_lines = [BudgetLine(position=0, item="x", amount_pence=amount)]
    db.session.add(bid)
    db.session.commit()
    return bid


def test_officer_list_filters_and_hides_drafts(as_role, world: World) -> None:
    _bid(world, "applicant", "Fenland submitted", "submitted")
    _bid(world, "other_applicant", "Hunts in review", "in_review")
    draft = _bid(world, "applicant", "Fenland draft", "draft")
    client = as_role("officer")

    def titles(query: str = "") -> list[str]:
        soup = page(client.get(f"/assess/{query}"))
        return sorted(a.get_text(strip=True) for a in soup.select("[data-testid=bid-list] a"))

    assert titles() == ["Fenland submitted", "Hunts in review"]
    assert titles(f"?organisation={world.other_csp.id}") == ["Hunts in review"]
    assert titles("?status=submitted") == ["Fenland submitted"]
    assert titles(f"?fund={world.scf.id}") == ["Fenland submitted", "Hunts in review"]
    assert titles(f"?fund={world.scf.id + 99}") == []
    # Nonsense filters are ignored rather than failing.
    assert titles("?fund=abc&status=<script>&page=-4") == ["Fenland submitted", "Hunts in review"]
    assert client.get(f"/assess/bids/{draft.id}").status_code == 404
    assert "Fenland submitted" in client.get("/assess/bids/1").get_data(as_text=True)


def test_roles_reach_only_their_own_areas(as_role, world: World) -> None:
    client = as_role("applicant")
    assert client.get("/assess/").status_code == 403
    assert client.get("/admin/").status_code == 403
    client = as_role("officer")
    assert client.get("/bids/").status_code == 403
    assert client.get("/bids/start").status_code == 403
