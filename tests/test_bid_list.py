"""The officers' list of bids: search, fund-year filter, drafts kept out, and the download of what it shows."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from grants.bids.lifecycle import BID
from grants.bids.rules import start_bid, withdraw_bid
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import AuditEvent
from tests.conftest import World, make_submitted_bid, page


def titles(client: Any, query: str = "") -> list[str]:
    soup = page(client.get(f"/assess/{query}"))
    return sorted(a.get_text(strip=True) for a in soup.select("[data-testid=bid-list] a"))


def _bids(world: World) -> dict[str, Any]:
    lights = make_submitted_bid(world.user("applicant"), world.scf_year, 2_000_00, title="Street lighting")
    cameras = make_submitted_bid(world.user("other_applicant"), world.scf_year, 3_000_00, title="Cameras 50% off")
    last_year = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00, title="Youth boxing club")
    # Moved to last year's fund-year after submission, as if it had been made then.
    last_year.fund_year_id = world.closed_year.id
    db.session.commit()
    return {"lights": lights, "cameras": cameras, "last_year": last_year}


def test_search_finds_reference_title_or_organisation(as_role: Any, world: World) -> None:
    bids = _bids(world)
    client = as_role("officer")
    assert titles(client, "?q=LIGHTING") == ["Street lighting"]
    assert titles(client, "?q=huntingdonshire") == ["Cameras 50% off"]
    assert titles(client, "?q=fenland") == ["Street lighting", "Youth boxing club"]
    for reference in (bids["cameras"].reference, bids["cameras"].reference.lower(), str(bids["cameras"].id)):
        assert titles(client, f"?q={reference}") == ["Cameras 50% off"]
    # % and _ are searched for as themselves.
    assert titles(client, "?q=50%25") == ["Cameras 50% off"]
    assert titles(client, "?q=%25%25") == []
    assert titles(client, "?q=_") == []
    # The search stays in the box and in every page's links.
    soup = page(client.get("/assess/?q=lighting&status=submitted"))
    assert soup.select_one("#filter-q")["value"] == "lighting"
    assert "q=lighting" in soup.select_one("[data-testid=download]")["href"]


def test_fund_year_filter_and_its_choices(as_role: Any, world: World) -> None:
    _bids(world)
    client = as_role("officer")
    assert titles(client, f"?year={world.closed_year.id}") == ["Youth boxing club"]
    assert titles(client, f"?year={world.scf_year.id}") == ["Cameras 50% off", "Street lighting"]
    assert titles(client, f"?year={world.scf_year.id}&q=cameras") == ["Cameras 50% off"]
    assert titles(client, "?year=999") == []
    assert titles(client, "?year=abc") == ["Cameras 50% off", "Street lighting", "Youth boxing club"]
    options = [o.get_text(strip=True) for o in page(client.get("/assess/")).select("#filter-year option")]
    assert options == ["All", f"Safer Communities Fund {world.scf_year.label}",
                       f"Safer Communities Fund {world.closed_year.label}"]


def test_drafts_and_bids_withdrawn_unsubmitted_are_not_listed(as_role: Any, world: World) -> None:
    _bids(world)
    applicant = world.user("applicant")
    draft = start_bid(applicant, world.scf_year, uk_today())
    draft.title = "Still a draft"
    never_sent = start_bid(applicant, world.scf_year, uk_today())
    never_sent.title = "Withdrawn before sending"
    db.session.flush()
    withdraw_bid(never_sent, applicant, "Changed our minds", uk_today())
    db.session.commit()
    assert titles(as_role("officer")) == ["Cameras 50% off", "Street lighting", "Youth boxing club"]


def test_nothing_moves_a_bid_back_to_draft() -> None:
    # The list finds submitted bids by their submission time alone, which only holds while a draft is a bid
    # never yet submitted.
    assert [a.key for a in BID.actions if a.target == "draft"] == []


def test_download_holds_every_match_with_its_filters(as_role: Any, world: World) -> None:
    bids = _bids(world)
    client = as_role("officer")
    response = client.get(f"/assess/bids.xlsx?year={world.scf_year.id}&q=%3Dcameras")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Bids", "About"]
    rows = list(book["Bids"].iter_rows(values_only=True))
    assert rows == [("Bid reference", "Title", "Organisation", "Fund", "Financial year", "Amount requested",
                     "Submitted (UK time)", "Status")]  # "=cameras" matches nothing, and is not a formula
    response = client.get(f"/assess/bids.xlsx?year={world.scf_year.id}")
    rows = list(load_workbook(io.BytesIO(response.data))["Bids"].iter_rows(values_only=True))
    assert [r[:6] + (r[7],) for r in rows[1:]] == [
        (bids["cameras"].reference, "Cameras 50% off", "Huntingdonshire CSP", "Safer Communities Fund",
         world.scf_year.label, Decimal("3000"), "Submitted"),
        (bids["lights"].reference, "Street lighting", "Fenland CSP", "Safer Communities Fund",
         world.scf_year.label, Decimal("2000"), "Submitted"),
    ]
    assert all(r[6] is not None and r[6].date() >= uk_today() - timedelta(days=1) for r in rows[1:])
    about = {r[0]: r[1] for r in load_workbook(io.BytesIO(response.data))["About"].iter_rows(values_only=True) if r}
    assert about["Filters"] == f"Fund and year: Safer Communities Fund {world.scf_year.label}"
    assert about["Rows of data"] == 2
    assert "Period" not in about
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.downloaded")).all()[-1]
    assert event.note == "Bids" and event.details["rows"] == 2
    assert event.details["filters"] == {"Fund and year": f"Safer Communities Fund {world.scf_year.label}"}


def test_the_list_and_download_are_staff_only(as_role: Any, world: World) -> None:
    _bids(world)
    assert as_role("applicant").get("/assess/bids.xlsx").status_code == 403
    for role in ("officer", "approver", "finance", "admin"):
        assert as_role(role).get("/assess/bids.xlsx").status_code == 200, role

