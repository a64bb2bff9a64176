"""The public list of grants: recipient, purpose, amount and the reasons, for every approved award only."""

from __future__ import annotations

from grants.core.extensions import db
from grants.core.models import Organisation
from tests.conftest import World, page
from tests.test_assessment import assessed_bid, award, recommended_bid


def test_anyone_can_read_every_approved_grant_with_its_reasons(as_role, client, world: World) -> None:
    funded = assessed_bid(as_role, world, 2_000_00, title="Bike marking <script>alert(1)</script>")
    assert award(as_role("officer"), funded, 1_500_00, reasons="Marked bikes are stolen less & recovered more").status_code == 302
    recommended_bid(as_role, world)  # awaiting an approver: not a grant yet
    assessed_bid(as_role, world, 1_000_00, title="Still in review")
    client.post("/sign-out")

    response = client.get("/grants-awarded")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    rows = page(response).select("[data-testid=grants] tbody tr")
    assert len(rows) == 1
    cells = [td.get_text(" ", strip=True) for td in rows[0].select("td")]
    assert cells[0] == db.session.get(Organisation, world.csp.id).name
    assert cells[1] == f"Safer Communities Fund {world.scf_year.label}"
    assert cells[2].startswith("Bike marking <script>alert(1)</script>: New lights on two paths")
    assert cells[3] == "Marked bikes are stolen less & recovered more"
    assert cells[4] == "£1,500.00"


def test_no_grants_yet(client, world: World) -> None:
    response = client.get("/grants-awarded")
    assert "No grants have been awarded yet." in response.get_data(as_text=True)
