"""Spending over £500 (Specified Information Order 2011, Schedule 1 para 3(g)): the public page and downloads.

Only payments recorded as paid, for strictly more than £500, appear: by the date paid, with the payee
organisation, the fund, the purpose the OPCC published (not the bid's own text) and the amount.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import event

from exports.workbook import SPREADSHEET_MIME
from grants.core import dates
from grants.core.extensions import db
from grants.core.models import Award, Fund, FundYear, GrantAgreement, Organisation
from grants.public.spending_queries import PAGE_SIZE
from tests.conftest import World, page
from tests.test_exports import YEAR, Grants, about, assert_well_formed, data_rows

URL = "/spending-over-500"
CSV_URL = f"/open-data/spending-over-500/{YEAR}.csv"
XLSX_URL = f"/open-data/spending-over-500/{YEAR}.xlsx"
HOSTILE_PAYEE = '=HYPERLINK("http://evil.example","Click")'
HOSTILE_PURPOSE = "+SUM(1,2)"
PURPOSE = 'Cycle-marking kits, "bike" lights\nfor Wisbech'
BID_TEXT = "The bid's own words"
OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


@dataclass
class Spending:
    world: World
    g: Grants
    scf_year: FundYear
    youth_year: FundYear
    agreements: dict[str, GrantAgreement] = field(default_factory=dict)
    made: int = 0

    def agreement(self, org: Organisation, fund_year: FundYear, purpose: str, amount: int = 1_000_000_00
                  ) -> GrantAgreement:
        """An active agreement for a new award to `org`, with the OPCC's published summary `purpose`."""
        self.made += 1
        key = f"award{self.made}"
        award: Award = self.g.award(key, org, fund_year, amount=amount, approved_at=datetime(YEAR, 5, 1, tzinfo=UTC),
                                    title=f"{BID_TEXT} {self.made}", activities=BID_TEXT)
        award.public_summary = purpose
        return self.g.agreement(key, award, status="active", start=date(YEAR, 4, 1), end=date(YEAR + 1, 3, 31))

    def paid(self, agreement: GrantAgreement, pence: int, paid_on: date) -> None:
        self.made += 1
        self.g.payment(f"p{self.made}", agreement, pence, paid_on, status="paid", paid_on=paid_on,
                       finance_reference=f"FIN-{self.made}")


def new_spending(world: World) -> Spending:
    g = Grants(world)
    youth = Fund(name="Youth Fund", funding_source="opcc")
    db.session.add(youth)
    db.session.flush()
    # The world's Safer Communities Fund years follow today's date; use its 2025-26 one if it has one.
    existing = {fy.year_start: fy for fy in (world.scf_year, world.closed_year)}
    return Spending(world, g, existing.get(YEAR) or g.fund_year("scf", world.scf), g.fund_year("youth", youth))


@pytest.fixture()
def spending(world: World) -> Spending:
    """In 2025-26: three payments published, and others that must not be (£500.00 exactly, scheduled, cancelled,
    and paid in the years either side)."""
    s = new_spending(world)
    hostile = Organisation(name=HOSTILE_PAYEE, org_type="other")
    db.session.add(hostile)
    db.session.flush()
    bikes = s.agreement(world.csp, s.scf_year, PURPOSE)
    youth = s.agreement(hostile, s.youth_year, HOSTILE_PURPOSE)
    s.paid(bikes, 1_000_00, date(YEAR, 4, 30))  # April's last day
    s.paid(bikes, 500_00, date(YEAR, 5, 1))  # exactly £500: not over £500
    s.paid(bikes, 500_01, date(YEAR, 5, 2))  # a penny over
    s.g.payment("scheduled", bikes, 2_000_00, date(YEAR, 6, 1))  # not paid yet
    s.g.payment("cancelled", bikes, 3_000_00, date(YEAR, 6, 2), status="cancelled")
    s.paid(youth, 1_234_56, date(YEAR + 1, 3, 31))  # the last day of the financial year
    s.paid(youth, 700_00, date(YEAR + 1, 4, 1))  # the next financial year
    s.paid(bikes, 800_00, date(YEAR, 3, 31))  # the year before
    db.session.commit()
    return s


def cells(response: Any) -> list[list[str]]:
    return [[td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in page(response).select("[data-testid=spending] tbody tr")]


def get(client: FlaskClient, url: str = URL, **args: Any) -> Any:
    response = client.get(url, query_string=args or None)
    assert response.status_code == 200, (url, args, response.status_code)
    return response


FENLAND_APRIL = ["30 April 2025", "Fenland CSP", "Safer Communities Fund", PURPOSE, "£1,000.00"]
FENLAND_MAY = ["2 May 2025", "Fenland CSP", "Safer Communities Fund", PURPOSE, "£500.01"]
HOSTILE_MARCH = ["31 March 2026", HOSTILE_PAYEE, "Youth Fund", HOSTILE_PURPOSE, "£1,234.56"]


# --- the page ---------------------------------------------------------------------------------------------------


def test_anyone_sees_only_paid_payments_over_500(client: FlaskClient, spending: Spending) -> None:
    response = get(client, year=YEAR)
    assert cells(response) == [FENLAND_APRIL, FENLAND_MAY, HOSTILE_MARCH]
    soup = page(response)
    assert soup.select_one("[data-testid=spending-total]").get_text(" ", strip=True) == \
        "3 payments over £500, totalling £2,734.57 ."
    assert soup.h1.get_text(strip=True) == "Spending over £500"
    html = response.get_data(as_text=True)
    # The OPCC's published purpose, never the bid's own text; nobody's name or email.
    assert BID_TEXT not in html
    for user in spending.world.users.values():
        assert user.name not in html and user.email not in html
    # Each purpose links to its grant's public page, which anyone may read.
    links = [a["href"] for a in soup.select("[data-testid=spending] tbody td a")]
    bids = [spending.g.awards["award1"].bid_id, spending.g.awards["award1"].bid_id, spending.g.awards["award2"].bid_id]
    assert links == [f"/grants-awarded/{bid_id}" for bid_id in bids]
    assert client.get(links[-1]).status_code == 200


def test_signed_in_people_see_the_same_page(as_role: Any, spending: Spending) -> None:
    assert cells(get(as_role("applicant"), year=YEAR)) == [FENLAND_APRIL, FENLAND_MAY, HOSTILE_MARCH]


@pytest.mark.parametrize(("args", "expected", "total"), [
    ({"month": "4"}, [FENLAND_APRIL], "£1,000.00"),
    ({"month": "5"}, [FENLAND_MAY], "£500.01"),
    ({"month": "3"}, [HOSTILE_MARCH], "£1,234.56"),  # March of the financial year is March 2026
    ({"month": "6"}, [], "£0.00"),  # only a scheduled and a cancelled payment
    ({"month": ""}, [FENLAND_APRIL, FENLAND_MAY, HOSTILE_MARCH], "£2,734.57"),
])
def test_month_filter(client: FlaskClient, spending: Spending, args: dict[str, str], expected: list[list[str]],
                      total: str) -> None:
    response = get(client, year=YEAR, **args)
    assert cells(response) == expected
    assert total in page(response).select_one("[data-testid=spending-total]").get_text()
    if not expected:
        assert "No grant payments over £500 were made in June 2025." in response.get_data(as_text=True)


def test_year_filter(client: FlaskClient, spending: Spending) -> None:
    assert [row[0] for row in cells(get(client, year=YEAR + 1))] == ["1 April 2026"]
    assert [row[0] for row in cells(get(client, year=YEAR - 1))] == ["31 March 2025"]
    assert cells(get(client, year=YEAR + 1, month="3")) == []  # March 2027


def test_filters_are_labelled_and_keep_the_choice(client: FlaskClient, spending: Spending) -> None:
    soup = page(get(client, year=YEAR, month="3"))
    form = soup.select_one("form[method=get]")
    assert form["action"] == URL and form.select_one("button").get_text(strip=True) == "Filter"
    for select_ in form.select("select"):
        assert soup.find("label", attrs={"for": select_["id"]}) is not None
    years = {o["value"]: o.get_text(strip=True) for o in soup.select("#filter-year option")}
    assert years[str(YEAR)] == "2025-26" and years[str(YEAR + 1)] == "2026-27" and "" not in years
    assert soup.select_one("#filter-year option[selected]")["value"] == str(YEAR)
    months = [o.get_text(strip=True) for o in soup.select("#filter-month option")]
    assert months[0] == "All" and months[1] == "April 2025" and months[-1] == "March 2026"
    assert soup.select_one("#filter-month option[selected]")["value"] == "3"
    assert soup.select_one("caption").get_text(" ", strip=True).startswith("Grant payments over £500 in March 2026")
    # The CSP forbids inline script and style.
    assert not soup.select("[style]") and not [s for s in soup.select("script") if not s.get("src")]


def test_downloads_are_linked_with_the_licence(client: FlaskClient, spending: Spending) -> None:
    soup = page(get(client, year=YEAR, month="5"))
    links = [a["href"] for a in soup.select("[data-testid=downloads] a")]
    assert links == [CSV_URL, XLSX_URL]  # the whole year, whatever the month
    licence = soup.find("a", href=OGL)
    assert licence is not None and licence.get_text(strip=True) == "Open Government Licence v3.0"


@pytest.mark.parametrize(("today", "expected"), [
    (date(YEAR + 1, 3, 31), [FENLAND_APRIL, FENLAND_MAY, HOSTILE_MARCH]),
    (date(YEAR, 4, 1), [FENLAND_APRIL, FENLAND_MAY, HOSTILE_MARCH]),
    (date(YEAR + 1, 4, 1), [["1 April 2026", HOSTILE_PAYEE, "Youth Fund", HOSTILE_PURPOSE, "£700.00"]]),
])
def test_the_current_financial_year_by_default(client: FlaskClient, spending: Spending, monkeypatch: Any,
                                               today: date, expected: list[list[str]]) -> None:
    monkeypatch.setattr(dates, "today", lambda: today)
    assert cells(get(client)) == expected


@pytest.mark.parametrize("args", [
    {"year": "abc"}, {"year": ""}, {"year": "1999"}, {"year": "2100"}, {"year": "-2025"}, {"year": "2025.0"},
    {"year": "9" * 40}, {"year": "\u0662\u0660\u0662\u0665"}, {"year": "20\x0025"}, {"year": " "},
    {"month": "0"}, {"month": "13"}, {"month": "x"}, {"month": "-3"}, {"month": "1e1"}, {"month": "9" * 40},
    {"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page": "9" * 40}, {"page": "100001"},
    {"year": ["2025", "x"], "month": ["4", "4"]},
])
def test_bad_query_values_are_ignored(client: FlaskClient, spending: Spending, monkeypatch: Any,
                                      args: dict[str, Any]) -> None:
    monkeypatch.setattr(dates, "today", lambda: date(YEAR, 10, 1))
    response = get(client, **args)
    expected = [FENLAND_APRIL, FENLAND_MAY, HOSTILE_MARCH]
    if args.get("month") == ["4", "4"]:
        expected = [FENLAND_APRIL]
    assert cells(response) == expected


def test_a_page_past_the_end(client: FlaskClient, spending: Spending) -> None:
    response = get(client, year=YEAR, page="7")
    assert cells(response) == []
    assert "There is no page 7." in response.get_data(as_text=True)


def test_a_year_with_nothing_paid(client: FlaskClient, world: World) -> None:
    response = get(client, year="2031")
    assert cells(response) == []
    assert "No grant payments over £500 were made in the financial year 2031-32." in response.get_data(as_text=True)
    assert page(response).select_one("#filter-year option[selected]")["value"] == "2031"


def test_pages_of_payments(client: FlaskClient, world: World) -> None:
    s = new_spending(world)
    agreement = s.agreement(world.csp, s.scf_year, "Youth work")
    count = PAGE_SIZE + 3
    for index in range(count):
        s.paid(agreement, 600_00 + index, date(YEAR, 7, 1 + index % 31))
    db.session.commit()

    first = get(client, year=YEAR, month="7")
    assert len(cells(first)) == PAGE_SIZE
    assert f"{count} payments over £500" in first.get_data(as_text=True)
    nav = page(first).select_one("nav.govuk-pagination")
    assert "Page 1 of 2" in nav.get_text(" ", strip=True)
    assert nav.select_one("a[rel=prev]") is None
    next_link = nav.select_one("a[rel=next]")["href"]
    # The filters are kept from page to page.
    assert f"year={YEAR}" in next_link and "month=7" in next_link and "page=2" in next_link
    second = get(client, next_link)
    assert len(cells(second)) == 3
    nav = page(second).select_one("nav.govuk-pagination")
    assert "Page 2 of 2" in nav.get_text(" ", strip=True) and nav.select_one("a[rel=next]") is None
    assert nav.select_one("a[rel=prev]") is not None
    rows = cells(first) + cells(second)
    assert len({row[-1] for row in rows}) == count  # every payment once, across the pages
    paid = [datetime.strptime(row[0], "%d %B %Y").date() for row in rows]
    assert paid == sorted(paid)  # in date order
    total = sum(600_00 + index for index in range(count))
    assert f"£{total // 100:,}.{total % 100:02d}" in page(first).select_one("[data-testid=spending-total]").get_text()
    assert cells(get(client, year=YEAR, month="8")) == []


# --- the downloads ---------------------------------------------------------------------------------------------


def read_csv(response: Any) -> list[list[str]]:
    assert response.data.startswith(b"\xef\xbb\xbf"), "a byte order mark, so Excel reads UTF-8"
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def test_csv_download(client: FlaskClient, spending: Spending) -> None:
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "spending-over-500-2025-26.csv" in disposition
    header, *rows = read_csv(response)
    assert header == ["Date paid", "Payee", "Fund", "Purpose", "Amount (GBP)"]
    assert rows == [
        ["2025-04-30", "Fenland CSP", "Safer Communities Fund", PURPOSE, "1000.00"],
        ["2025-05-02", "Fenland CSP", "Safer Communities Fund", PURPOSE, "500.01"],
        # Text a spreadsheet would run as a formula starts with an apostrophe: a CSV field cannot carry a style.
        ["2026-03-31", "'" + HOSTILE_PAYEE, "Youth Fund", "'" + HOSTILE_PURPOSE, "1234.56"],
    ]
    assert BID_TEXT not in response.get_data(as_text=True)


def test_csv_for_a_year_with_nothing_paid_has_just_the_header(client: FlaskClient, world: World) -> None:
    response = client.get("/open-data/spending-over-500/2040.csv")
    assert response.status_code == 200
    assert read_csv(response) == [["Date paid", "Payee", "Fund", "Purpose", "Amount (GBP)"]]


def test_xlsx_download(client: FlaskClient, spending: Spending) -> None:
    response = client.get(XLSX_URL)
    assert response.status_code == 200
    assert response.mimetype == SPREADSHEET_MIME
    assert "spending-over-500-2025-26.xlsx" in response.headers["Content-Disposition"]
    book = assert_well_formed(response.data, "Spending over £500", ["Amount"], ["Date paid"])
    rows = data_rows(book["Spending over £500"])
    assert [(r["Date paid"], r["Payee"], r["Fund"], r["Purpose"], r["Amount"]) for r in rows] == [
        (datetime(2025, 4, 30), "Fenland CSP", "Safer Communities Fund", PURPOSE, 1000),
        (datetime(2025, 5, 2), "Fenland CSP", "Safer Communities Fund", PURPOSE, 500.01),
        (datetime(2026, 3, 31), HOSTILE_PAYEE, "Youth Fund", HOSTILE_PURPOSE, 1234.56),
    ]
    # In the workbook the text is exact, held as a string with the quote-prefix style.
    hostile = [c for row in book["Spending over £500"].iter_rows() for c in row
               if c.value in (HOSTILE_PAYEE, HOSTILE_PURPOSE)]
    assert len(hostile) == 2 and all(c.data_type == "s" and c.quotePrefix for c in hostile)
    facts = about(book)
    assert facts["Period"] == "2025-26" and facts["Rows of data"] == 3
    assert "Open Government Licence v3.0" in facts["Licence"] and OGL in facts["Licence"]
    assert BID_TEXT not in str(facts)


def test_xlsx_for_a_year_with_nothing_paid(client: FlaskClient, world: World) -> None:
    response = client.get("/open-data/spending-over-500/2040.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert data_rows(book["Spending over £500"]) == []


@pytest.mark.parametrize("url", [
    "/open-data/spending-over-500/1999.csv", "/open-data/spending-over-500/2100.xlsx",
    "/open-data/spending-over-500/99999999999999999999.csv", "/open-data/spending-over-500/abc.csv",
    "/open-data/spending-over-500/2025.pdf",
])
def test_downloads_for_no_such_year_are_not_found(client: FlaskClient, world: World, url: str) -> None:
    assert client.get(url).status_code == 404


# --- a constant number of statements ---------------------------------------------------------------------------


@pytest.fixture()
def count_statements(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    yield statements
    event.remove(db.engine, "before_cursor_execute", listen)


def statements_for(client: FlaskClient, statements: list[str], url: str) -> int:
    client.get(url)  # warm up: connections opened, anything cached
    statements.clear()
    response = client.get(url)
    assert response.status_code == 200
    response.get_data()  # a streamed download runs its query as it is read
    return len(statements)


def add_payments(s: Spending, number: int) -> None:
    """`number` payments over £500, each to a different organisation, award and fund-year's fund."""
    for index in range(number):
        org = Organisation(name=f"Grantee {s.made} {index}", org_type="other")
        db.session.add(org)
        db.session.flush()
        agreement = s.agreement(org, s.youth_year if index % 2 else s.scf_year, f"Purpose {index}")
        s.paid(agreement, 501_00 + index, date(YEAR, 4 + index % 9, 1 + index % 28))
    db.session.commit()


@pytest.mark.parametrize("url", [f"{URL}?year={YEAR}", f"{URL}?year={YEAR}&month=4", CSV_URL, XLSX_URL])
def test_statements_do_not_grow_with_rows(client: FlaskClient, world: World, count_statements: list[str],
                                          url: str) -> None:
    s = new_spending(world)
    add_payments(s, 3)
    few = statements_for(client, count_statements, url)
    add_payments(s, 27)
    assert len(cells(client.get(f"{URL}?year={YEAR}"))) == 30
    many = statements_for(client, count_statements, url)
    assert few == many, count_statements
    assert many <= 4
