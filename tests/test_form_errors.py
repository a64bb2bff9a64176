"""Error summaries: every message in people's words, each linking to a box that is on the page, in the order of
the page; and "Save as draft" keeps every valid answer when another has a problem."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient

from grants.assessment.rules import CRITERIA
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Bid
from grants.core.templating import error_list
from tests.conftest import World, field_error, make_submitted_bid, page
from tests.test_assessment import assessment_form, fresh
from tests.test_bids import bid_form, start_bid

# What the first save stores (tests.test_bids.bid_form), to compare with after a save that has a problem.
SAVED_TITLE = "Bike marking in Wisbech"
SAVED_LINES = [("Marking kits", 1_500_00, "revenue"), ("Staff time", 500_50, "revenue")]


def summary(response: Any) -> list[tuple[str, str]]:
    """The error summary's links: (href, text), in the order shown."""
    return [(a["href"], a.get_text(strip=True)) for a in page(response).select(".govuk-error-summary__list a")]


def ids_in_page_order(soup: BeautifulSoup) -> list[str]:
    return [str(node["id"]) for node in soup.select("main [id]")]


def assert_summary_sound(response: Any) -> list[tuple[str, str]]:
    """Every link goes to an element on the page, no message is Python's own text, and the list follows the page."""
    links = summary(response)
    assert links, "no error summary"
    soup = page(response)
    order = ids_in_page_order(soup)
    for href, text in links:
        assert href.startswith("#") and soup.find(id=href[1:]) is not None, f"{href} is not on the page"
        assert text and not any(mark in text for mark in "{}[]'"), f"not in people's words: {text!r}"
    positions = [order.index(href[1:]) for href, _text in links]
    assert positions == sorted(positions), f"summary out of page order: {links}"
    return links


def lines_of(bid: Bid) -> list[tuple[str, int, str]]:
    db.session.expire_all()
    return [(line.item, line.amount_pence, line.kind) for line in db.session.get(Bid, bid.id).budget_lines]


def saved_bid(client: FlaskClient, world: World) -> Bid:
    bid = start_bid(client, world)
    assert client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, save="Save")).status_code == 302
    db.session.refresh(bid)
    assert bid.title == SAVED_TITLE and lines_of(bid) == SAVED_LINES
    return bid


LONG = "x" * 201
CASES = [
    # (what kind of field, what is posted, the box the summary links to, its message, what the box shows again)
    ("text", {"title": LONG}, "title", "Bid title must be 200 characters or fewer", LONG),
    ("textarea", {"local_issue": "y" * 5001}, "local_issue",
     "The local issue this bid answers must be 5,000 characters or fewer", "y" * 5001),
    ("date, not a real one", {"start_date": ["31", "2", "2027"]}, "start_date-day",
     "The start date must be a real date, like 27 3 2026", "31"),
    ("date, a part missing", {"end_date": ["1", "", "2027"]}, "end_date-month", "The end date must include a month",
     ""),
    ("money", {"other_funding_pence": "lots"}, "other_funding_pence",
     "Enter an amount in pounds, like 5000 or £5,000.50", "lots"),
    ("radios", {"theme": "bogus"}, "theme", "Select a theme from the list", None),
    ("budget line: select", {"budget_lines-0-kind": "bogus"}, "budget_lines-0-kind", "Select capital or revenue",
     None),
    ("budget line: item too long", {"budget_lines-1-item": LONG}, "budget_lines-1-item",
     "Item must be 200 characters or fewer", LONG),
    ("budget line: cost in words", {"budget_lines-0-amount": "two thousand"}, "budget_lines-0-amount",
     "Enter an amount in pounds, like 5000 or £5,000.50", "two thousand"),
    ("budget line: item without a cost", {"budget_lines-1-amount": ""}, "budget_lines-1-amount",
     "Enter the cost of Staff time", ""),
    ("budget line: cost without an item", {"budget_lines-2-amount": "75"}, "budget_lines-2-item",
     "Enter what this cost is for", ""),
]


@pytest.mark.parametrize(("kind", "posted", "box", "message", "shown"), CASES, ids=[case[0] for case in CASES])
def test_each_kind_of_field_saved_with_a_problem(as_role, world: World, kind: str, posted: dict[str, Any], box: str,
                                                 message: str, shown: str | None) -> None:
    client = as_role("applicant")
    bid = saved_bid(client, world)
    before = fresh(bid)
    saved_start, saved_end, saved_other = before.start_date, before.end_date, before.other_funding_pence
    changed = {"activities": "Six marking events", "location": "Wisbech South", "outcomes": "Half the thefts"}

    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, save="Save", **changed, **posted))

    assert response.status_code == 200
    assert assert_summary_sound(response) == [(f"#{box}", message)]
    group = box.removesuffix("-day").removesuffix("-month")
    assert field_error(response, group) == message
    soup = page(response)
    if shown is not None:  # what was typed is in the box again
        node = soup.find(id=box)
        assert (node.get_text() if node.name == "textarea" else node.get("value", "")) == shown
    assert soup.find(attrs={"data-testid": "saved-except-problems"}) is not None

    # Every valid answer was kept; the one with a problem keeps what was saved before.
    bid = fresh(bid)
    assert (bid.activities, bid.location, bid.outcomes) == ("Six marking events", "Wisbech South", "Half the thefts")
    assert bid.title == SAVED_TITLE
    assert bid.local_issue == "Bike theft has doubled near the station"
    assert (bid.start_date, bid.end_date, bid.other_funding_pence) == (saved_start, saved_end, saved_other)
    assert bid.theme == "bike_theft"
    assert lines_of(bid) == SAVED_LINES

    # The page carries the new version, so saving it again once corrected is not refused as someone else's change.
    corrected = bid_form(bid, save="Save", **changed, **{"title": "Corrected title"})
    corrected["version"] = soup.find(id="version")["value"]
    assert client.post(f"/bids/{bid.id}/edit", data=corrected).status_code == 302
    assert fresh(bid).title == "Corrected title"


def test_budget_rows_are_kept_one_by_one(as_role, world: World) -> None:
    """A row with a problem keeps its saved line; the rows around it are saved as typed; a new row with a problem
    is not saved but stays on the page as typed."""
    client = as_role("applicant")
    bid = saved_bid(client, world)
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, save="Save", **{
        "budget_lines-0-amount": "two thousand",
        "budget_lines-1-item": "Staff hours", "budget_lines-1-amount": "600", "budget_lines-1-kind": "revenue",
        "budget_lines-2-item": "Camera", "budget_lines-2-amount": "£1,200.50", "budget_lines-2-kind": "capital",
        "budget_lines-3-item": "Signs", "budget_lines-3-amount": "lots",
    }))
    assert response.status_code == 200
    assert [href for href, _text in assert_summary_sound(response)] == ["#budget_lines-0-amount",
                                                                         "#budget_lines-3-amount"]
    assert lines_of(bid) == [("Marking kits", 1_500_00, "revenue"), ("Staff hours", 600_00, "revenue"),
                             ("Camera", 1_200_50, "capital")]
    soup = page(response)
    assert soup.find(id="budget_lines-0-amount")["value"] == "two thousand"
    assert soup.find(id="budget_lines-3-item")["value"] == "Signs"
    assert soup.find(id="budget_lines-3-amount")["value"] == "lots"


def test_every_problem_at_once_is_listed_in_page_order(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = saved_bid(client, world)
    posted: dict[str, Any] = {}
    for _kind, fields, *_rest in CASES:
        posted.update(fields)
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, submit="Submit", **posted))
    assert response.status_code == 200
    links = assert_summary_sound(response)
    assert len(links) == len(CASES)
    assert links[0] == ("#title", "Bid title must be 200 characters or fewer")
    assert links[-1][0] == "#other_funding_pence"  # drawn after the budget
    assert fresh(bid).status == "draft"  # not submitted while an answer has a problem


def test_submission_problems_link_to_their_boxes_in_page_order(as_role, world: World) -> None:
    """The rules' problems (a radio, a date, the checkbox, the budget as a whole) go beside their boxes, and those
    that belong to no field (the budget total) take their place on the page, not the end of the list."""
    client = as_role("applicant")
    bid = saved_bid(client, world)
    start = uk_today() + timedelta(days=20)
    before: date = start - timedelta(days=1)
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(
        bid, submit="Submit", theme=None, declaration=None,
        start_date=[str(start.day), str(start.month), str(start.year)],
        end_date=[str(before.day), str(before.month), str(before.year)],
        **{"budget_lines-0-amount": "4,900"}))
    assert response.status_code == 200
    links = assert_summary_sound(response)
    assert [href for href, _text in links] == ["#theme", "#end_date-day", "#budget-total", "#declaration"]
    assert links[2][1] == "£5,000.00 is the most you can ask for from the Safer Communities Fund"


def test_a_change_made_elsewhere_links_to_its_message(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = saved_bid(client, world)
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, version="0", title="Mine", save="Save"))
    assert response.status_code == 409
    [(href, text)] = assert_summary_sound(response)
    assert href == "#changed-elsewhere" and text.startswith("Someone else changed this bid")
    assert fresh(bid).title == SAVED_TITLE  # nothing of a stale page is kept
    assert len(page(response).select("#version")) == 1  # the message does not share the hidden field's id


def test_the_assessment_summary_follows_the_page(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 4_000_00)
    client = as_role("officer")
    empty = {f"score_{key}": None for key in CRITERIA}
    response = client.post(f"/assess/bids/{bid.id}/assess", data=assessment_form(
        bid, conflict_of_interest=None, organisation_checked=None, fraud_risk=None, fraud_risk_reasons="",
        recommended_pence="4,000.01", **empty))
    assert response.status_code == 200
    links = assert_summary_sound(response)
    assert [href for href, _text in links] == [
        "#conflict_of_interest", *(f"#score_{key}" for key in CRITERIA), "#recommended_pence",
        "#organisation_checked", "#fraud_risk", "#fraud_risk_reasons"]
    assert fresh(bid).status == "submitted"


def test_the_summary_order_is_read_from_id_attributes_only() -> None:
    drawn = '<p data-testid="total"></p><p id="first"></p>\n<div\n  id="total"></div>'
    items = error_list(None, {"total": "Budget total", "elsewhere": "Not on the page", "first": "First box"}, drawn)
    assert [item["href"] for item in items] == ["#first", "#total", "#elsewhere"]
    assert error_list(None, {"b": "B", "a": "A"}) == [{"text": "B", "href": "#b"}, {"text": "A", "href": "#a"}]
