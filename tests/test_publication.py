"""The public register of grants (Specified Information Order 2011, Schedule 1 para 3(f)): every approved award
with its recipient, the OPCC's summary of its purpose, the reasons, the conditions and where it stands; filtered
by financial year, month and fund, and paged. Nothing personal is published."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import event, func, select

from grants.agreements.rules import AgreementTerms, issue, prepare_agreement
from grants.bids.rules import start_bid
from grants.core.dates import financial_year_label, financial_year_start
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Award, Bid, Organisation, Repayment, User
from grants.demo import USERS, seed_demo
from grants.public.queries import PAGE_SIZE
from tests.conftest import World, field_error, page
from tests.test_assessment import assessed_bid, award, fresh, recommended_bid


def grant_rows(response: Any) -> list[list[str]]:
    return [[td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in page(response).select("[data-testid=grants] tbody tr")]


def test_anyone_can_read_every_approved_grant_in_the_officers_words(as_role, client, world: World) -> None:
    funded = assessed_bid(as_role, world, 2_000_00, title="Bike marking <script>alert(1)</script>")
    response = award(as_role("officer"), funded, 1_500_00, reasons="Marked bikes are stolen less & recovered more",
                     public_summary="Security marking of bikes at <b>two</b> stations")
    assert response.status_code == 302
    recommended_bid(as_role, world)  # awaiting an approver: not a grant yet
    assessed_bid(as_role, world, 1_000_00, title="Still in review")
    client.post("/sign-out")

    response = client.get("/grants-awarded")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<b>two</b>" not in html and "&lt;b&gt;two&lt;/b&gt;" in html
    assert "Bike marking" not in html and "New lights on two paths" not in html  # the applicant's own words
    [row] = grant_rows(response)
    assert row[0] == f"Security marking of bikes at <b>two</b> stations {funded.reference}"
    assert row[1:5] == [db.session.get(Organisation, world.csp.id).name, "Safer Communities Fund", "£1,500.00",
                        f"{datetime.now(UTC):%B %Y}"]
    assert row[5] == "Awarded: agreement being prepared"

    detail = client.get(page(response).select_one("[data-testid=grants] a")["href"])
    assert detail.status_code == 200
    text = page(detail).get_text(" ", strip=True)
    assert "Marked bikes are stolen less & recovered more" in text
    assert "The grant agreement, with its conditions, is being prepared" in text


def test_a_bid_that_is_not_a_grant_has_no_public_page(as_role, client, world: World) -> None:
    bid = assessed_bid(as_role, world, 1_000_00)
    client.post("/sign-out")
    assert client.get(f"/grants-awarded/{bid.id}").status_code == 404


def test_the_summary_is_required_at_award_and_the_bid_form_says_what_is_published(as_role, world: World) -> None:
    bid = assessed_bid(as_role, world, 1_000_00)
    officer = as_role("officer")
    form = page(officer.get(f"/assess/bids/{bid.id}/award"))
    assert form.find(id="public_summary").get_text() == bid.title  # a start the officer rewords
    response = award(officer, bid, 1_000_00, public_summary="   ")
    assert field_error(response, "public_summary") == "Write a summary of what the grant is for, to publish"
    response = award(officer, bid, 1_000_00, public_summary="x" * 501)
    assert field_error(response, "public_summary") == "The summary must be 500 characters or fewer"
    assert fresh(bid).status == "in_review"
    draft = start_bid(world.user("applicant"), world.scf_year, uk_today())
    db.session.commit()
    applicant_form = page(as_role("applicant").get(f"/bids/{draft.id}/edit")).get_text(" ", strip=True)
    assert "If your bid is funded, the commissioner publishes" in applicant_form


def test_an_approver_may_reword_the_officers_summary(as_role, world: World) -> None:
    bid = recommended_bid(as_role, world)
    approver = as_role("approver")
    assert page(approver.get(f"/assess/bids/{bid.id}/award")).find(id="public_summary").get_text() == \
        "Street lighting on two footpaths in Cambridge"
    assert award(approver, bid, 4_000_00, public_summary="Lighting on the Fen Road paths").status_code == 302
    assert db.session.scalar(select(Award.public_summary).where(Award.bid_id == bid.id)) == \
        "Lighting on the Fen Road paths"


def test_conditions_and_status_follow_the_agreement(as_role, client, world: World) -> None:
    bid = assessed_bid(as_role, world, 2_000_00)
    response = award(as_role("officer"), bid, 2_000_00)
    assert response.status_code == 302, field_error(response, "amount_pence")
    db.session.expire_all()  # the award was made by the request, in its own session
    officer = db.session.scalar(select(User).where(User.role == "officer"))
    grant = db.session.scalar(select(Award).where(Award.bid_id == bid.id))
    agreement, problems = prepare_agreement(grant, officer, AgreementTerms(
        uk_today(), uk_today() + timedelta(days=90), "Report bikes marked each month"), uk_today())
    assert agreement is not None, problems
    db.session.commit()
    client.post("/sign-out")
    # A draft's conditions are the OPCC's own until issued.
    assert "Report bikes marked" not in client.get(f"/grants-awarded/{bid.id}").get_data(as_text=True)
    issue(agreement, officer, uk_today())
    db.session.commit()
    detail = page(client.get(f"/grants-awarded/{bid.id}"))
    assert detail.select_one("[data-testid=special-conditions]").get_text(strip=True) == "Report bikes marked each month"
    assert detail.select_one("[data-testid=standard-conditions]").get_text(" ", strip=True).split() == \
        agreement.standard_conditions.split()
    agreement.status, agreement.ended_at = "terminated", datetime.now(UTC)
    repayment = Repayment(agreement_id=agreement.id, amount_pence=500_00, received_pence=0, status="due",
                          reason="Spent on another project", due_on=uk_today(), created_by_id=officer.id)
    db.session.add(repayment)
    db.session.commit()
    response = client.get(f"/grants-awarded/{bid.id}")
    status = page(response).select_one("[data-testid=grant-status]").get_text(" ", strip=True)
    assert status.startswith("Ended early on") and status.endswith("£500.00 to be repaid")
    assert "Spent on another project" not in response.get_data(as_text=True)  # between the OPCC and the grantee
    repayment.received_pence, repayment.status = 200_00, "part_received"
    db.session.commit()
    status = page(client.get(f"/grants-awarded/{bid.id}")).select_one("[data-testid=grant-status]").get_text(" ", strip=True)
    assert status.endswith("£500.00 to be repaid, of which £200.00 has been repaid")


def test_filters_by_year_month_and_fund_and_pages(app, client, world: World) -> None:
    seed_demo(uk_today())
    this_year = financial_year_start(uk_today())
    all_rows = db.session.scalars(select(Award).order_by(Award.approved_at.desc())).all()
    assert len(all_rows) >= 4
    response = client.get("/grants-awarded")
    assert len(grant_rows(response)) == len(all_rows)
    options = [o["value"] for o in page(response).select("#filter-year option")]
    assert str(this_year) in options

    april = client.get(f"/grants-awarded?year={this_year}&month=4")
    in_april = [a for a in all_rows if a.approved_at.astimezone(UTC).month == 4
                and financial_year_start(a.approved_at.date()) == this_year]
    assert len(grant_rows(april)) == len(in_april)
    assert page(april).select_one("#filter-month option[selected]")["value"] == "4"
    fund_id = all_rows[0].fund_year.fund_id
    by_fund = client.get(f"/grants-awarded?fund={fund_id}")
    assert len(grant_rows(by_fund)) == sum(1 for a in all_rows if a.fund_year.fund_id == fund_id)
    for bad in ("year=abc", "year=1999&month=4", "month=13&year=" + str(this_year), "page=-3", "page=99999999999",
                "fund=%00", "fund=99999"):
        assert client.get(f"/grants-awarded?{bad}").status_code == 200, bad
    assert "No grants match these filters." in client.get("/grants-awarded?fund=99999").get_data(as_text=True)
    files = [a["href"] for a in page(response).select("[data-testid=open-data] a")]
    assert f"/open-data/360giving/{financial_year_label(this_year)}.json" in files
    assert "/open-data/360giving/all-years.xlsx" in files


def test_paging_and_a_constant_number_of_statements(app, client, world: World) -> None:
    seed_demo(uk_today())
    template = db.session.scalars(select(Award)).first()

    def add_awards(count: int) -> None:
        for _ in range(count):
            bid = template.bid
            copy = Award(bid_id=_copy_bid(bid), fund_year_id=template.fund_year_id,
                         organisation_id=template.organisation_id, amount_pence=100_00, reasons="r",
                         public_summary="s", approved_by_id=template.approved_by_id)
            db.session.add(copy)
        db.session.commit()

    def statements(path: str) -> int:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    small = statements("/grants-awarded")
    add_awards(PAGE_SIZE + 5)
    assert statements("/grants-awarded") == small
    first = client.get("/grants-awarded")
    assert len(grant_rows(first)) == PAGE_SIZE
    assert re.search(r"Page 1 of 2", page(first).get_text(" ", strip=True))
    second = client.get(page(first).select_one("a[rel=next]")["href"])
    assert len(grant_rows(second)) == db.session.scalar(select(func.count(Award.id))) - PAGE_SIZE


def _copy_bid(bid: Any) -> int:
    copy = Bid(organisation_id=bid.organisation_id, fund_year_id=bid.fund_year_id, created_by_id=bid.created_by_id,
               status="approved", title=bid.title, activities=bid.activities, theme=bid.theme,
               location=bid.location, declaration=True)
    db.session.add(copy)
    db.session.flush()
    return copy.id


def test_nothing_personal_is_published(app, client, world: World) -> None:
    """Every public page and file, read for every demo user's name and email address."""
    seed_demo(uk_today())
    people = [(email, name) for email, name, _role, _org in USERS]
    people += [(u.email, u.name) for u in db.session.scalars(select(User))]
    this_year = financial_year_label(financial_year_start(uk_today()))
    paths = ["/grants-awarded", f"/grants-awarded?year={this_year[:4]}", "/spending-over-500",
             "/open-data/360giving/all-years.json", f"/open-data/360giving/{this_year}.json",
             "/open-data/360giving/all-years.xlsx", f"/open-data/spending-over-500/{this_year[:4]}.csv",
             f"/open-data/spending-over-500/{this_year[:4]}.xlsx"]
    paths += [f"/grants-awarded/{bid_id}" for bid_id in db.session.scalars(select(Award.bid_id))]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        body = _readable(response)
        for email, name in people:
            assert email.lower() not in body.lower(), f"{email} is published at {path}"
            assert name.lower() not in body.lower(), f"{name} is published at {path}"


def _readable(response: Any) -> str:
    """The text of a response, with a spreadsheet's cells read out."""
    if response.mimetype.endswith("sheet"):
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return " ".join(str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    return response.get_data(as_text=True)
