"""Text is safe in every file made: characters XML 1.0 forbids never reach a record through a form and never
reach a file from one stored before, text keeps its exact value in workbooks without ever running as a
formula, and a request body over the limit is answered with a page, not a crash."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from exports.grants_register import build_grants_register
from exports.spending import spending_csv
from exports.text import clean_text
from exports.threesixty_giving import PackageInfo, build_360giving, json_package
from grants.core.dates import whole_year
from grants.core.extensions import db
from grants.core.models import Award, Bid, Fund, Organisation, OutcomeMeasure, Payment
from grants.core.requests import CleanParameters
from grants.finance import reports
from grants.finance.catalogue import EXPORTS, Settings, build, check_choices
from grants.finance.government import GOVERNMENT_SOURCES
from grants.public.queries import GrantFilters, iter_published
from grants.public.spending_queries import spending_items
from tests.conftest import World, page
from tests.test_bids import bid_form, start_bid
from tests.test_exports import MADE_AT, PREFIX, PUBLISHER, YEAR, Grants, make_grants, sheet_xml

# What XML 1.0 forbids and a database will still hold: a C0 control, U+FFFE, U+FFFF (and a noncharacter).
# PostgreSQL text cannot hold NUL, and no database driver stores a lone surrogate, so those two are sent
# through the forms and built into rows in code below instead.
STORED_BAD = "\x01\ufffe\x0b\uffff\x1b\ufdd0"
SURROGATES = "\ud800\udfff"
FILE_NAME = f"{YEAR}-{(YEAR + 1) % 100:02d}"


def forbidden(text: str) -> list[str]:
    """The characters of `text` XML 1.0 forbids, by the specification's own list (not the code under test)."""
    return [ch for ch in text
            if (ord(ch) < 0x20 and ch not in "\t\n\r") or 0xD800 <= ord(ch) <= 0xDFFF or ord(ch) in (0xFFFE, 0xFFFF)]


def assert_safe_workbook(data: bytes) -> Any:
    """Every XML part well-formed, no formula anywhere, no forbidden character in any cell; openpyxl reads it."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(z.read(name))  # raises on any character XML forbids
    for name, xml in sheet_xml(data).items():
        assert "<f>" not in xml and "<f " not in xml, f"formula in {name}"
    book = load_workbook(io.BytesIO(data))
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and forbidden(value)), (ws.title, value)
    return book


def values_of(book: Any) -> set[Any]:
    return {value for ws in book.worksheets for row in ws.iter_rows(values_only=True) for value in row}


def raw_form(data: dict[str, Any]) -> bytes:
    """A urlencoded body as a client that sends lone surrogates would encode it (a browser never does)."""
    pairs = [(key, value) for key, values in data.items()
             for value in (values if isinstance(values, list) else [values])]
    return "&".join(f"{quote_plus(key)}={quote_plus(str(value).encode('utf-8', 'surrogatepass'))}"
                    for key, value in pairs).encode("ascii")


# --- on the way in ---------------------------------------------------------------------------------------------


def test_request_values_lose_every_character_xml_forbids() -> None:
    values = CleanParameters([("title\ufffe", "A\x00B\x01C\x1fD\ufffeE\uffffF\ud800G\udfffH\ufdd0I\tJ\nK\rL"),
                              ("title\ufffe", "😀 ok")])
    assert values.getlist("title") == ["ABCDEFGHI\tJ\nK\rL", "😀 ok"]


@pytest.mark.parametrize("typed", [
    "Bike\ufffe marking", "Bike\uffff marking", "Bike\x01\x1b marking", "Bike marking\x0b\x0c",
    "Bike\x00 marking", "B\ufffei\uffffk\x07e\x1f marking",
])
def test_a_bid_title_typed_with_forbidden_characters_is_stored_without_them(as_role, world: World,
                                                                             typed: str) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, title=typed, save="Save"))
    assert response.status_code == 302
    db.session.refresh(bid)
    assert bid.title == "Bike marking"


def test_a_lone_surrogate_in_a_bid_title_is_never_stored(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    body = raw_form(bid_form(bid, title=f"Bike{SURROGATES} marking", save="Save"))
    response = client.post(f"/bids/{bid.id}/edit", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    db.session.refresh(bid)
    assert bid.title.startswith("Bike") and bid.title.endswith(" marking")
    assert forbidden(bid.title) == []


def test_an_organisation_name_typed_with_forbidden_characters_is_stored_without_them(as_role,
                                                                                    world: World) -> None:
    client = as_role("admin")
    typed = "Safer\ufffe Peterborough\uffff Partnership\x01"
    form = {"name": typed, "org_type": "csp", "org_identifier": "GB-LAE-PTE"}
    assert client.post("/admin/organisations/new", data=form).status_code == 302
    names = set(db.session.scalars(select(Organisation.name)))
    assert "Safer Peterborough Partnership" in names
    assert not any(forbidden(name) for name in names)


def test_a_would_be_formula_is_stored_as_typed(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    assert client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, title="=1+1", save="Save")).status_code == 302
    db.session.refresh(bid)
    assert bid.title == "=1+1"  # no apostrophe in the record: that is for the files to handle


# --- older records holding them --------------------------------------------------------------------------------


@pytest.fixture()
def bad_grants(world: World) -> Grants:
    """The export test data, then every text a file shows spoiled as older records might hold it."""
    g = make_grants(world)

    def spoil(text: str) -> str:
        return text[:1] + STORED_BAD + text[1:] if text else text

    for org in db.session.scalars(select(Organisation)):
        org.name = spoil(org.name)
        org.district_name = spoil(org.district_name or "")
    for fund in db.session.scalars(select(Fund)):
        fund.name = spoil(fund.name)
    for measure in db.session.scalars(select(OutcomeMeasure)):
        measure.name, measure.category = spoil(measure.name), spoil(measure.category)
    for bid in db.session.scalars(select(Bid)):
        bid.title, bid.location = spoil(bid.title), spoil(bid.location)
    for award in db.session.scalars(select(Award)):
        award.public_summary, award.reasons = spoil(award.public_summary), spoil(award.reasons)
    for payment in db.session.scalars(select(Payment)):
        payment.finance_reference, payment.note = spoil(payment.finance_reference or "FIN"), spoil("Paid by BACS")
    db.session.commit()
    return g


def every_finance_workbook() -> list[tuple[str, bytes]]:
    """Each finance export for every period (and department) it offers, for the test year."""
    made = []
    for spec in EXPORTS.values():
        for source in (GOVERNMENT_SOURCES if spec.needs_source else [None]):
            for period in spec.periods:
                chosen, problems = check_choices(spec, str(YEAR), period, source)
                if chosen is None:
                    continue  # a period that department does not report on
                out = io.BytesIO()
                build(chosen, out, settings=Settings(grant_id_prefix=PREFIX), made_by=f"Fin{STORED_BAD}ance",
                      made_at=MADE_AT)
                made.append((chosen.filename, out.getvalue()))
    return made


def test_every_finance_workbook_from_older_records_is_well_formed(bad_grants: Grants) -> None:
    made = every_finance_workbook()
    names = {name.split("-20")[0] for name, _ in made}
    assert names == {"grants-register", "government-return-moj", "government-return-home-office", "payments"}
    for name, data in made:
        book = assert_safe_workbook(data)
        values = values_of(book)
        if name in (f"grants-register-{FILE_NAME}.xlsx", f"payments-{FILE_NAME}.xlsx"):
            assert "Fenland CSP" in values, name  # the rows are there, cleaned, not dropped
        assert "Finance" in values, name  # the About sheet's "Made by"


def test_open_data_files_from_older_records_are_well_formed(client: FlaskClient, bad_grants: Grants) -> None:
    response = client.get(f"/open-data/360giving/{FILE_NAME}.xlsx")
    assert response.status_code == 200
    book = assert_safe_workbook(response.data)
    assert {"Fenland CSP", "Huntingdonshire CSP", "Safer Communities Fund"} <= values_of(book)

    response = client.get(f"/open-data/360giving/{FILE_NAME}.json")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert forbidden(text) == [] and "\\u000b" not in text and "\\u0001" not in text
    package = json.loads(text)
    grants_out = package["grants"]
    assert {g["recipientOrganization"][0]["name"] for g in grants_out} >= {"Fenland CSP", "Huntingdonshire CSP"}
    assert not forbidden(json.dumps(package, ensure_ascii=False))

    response = client.get(f"/open-data/spending-over-500/{YEAR}.xlsx")
    assert response.status_code == 200
    book = assert_safe_workbook(response.data)
    assert "Fenland CSP" in values_of(book)

    response = client.get(f"/open-data/spending-over-500/{YEAR}.csv")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    assert forbidden(text.replace("\r\n", "\n")) == []
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert any(row[1] == "Fenland CSP" for row in rows[1:])


def test_lone_surrogates_in_rows_never_reach_a_file(bad_grants: Grants) -> None:
    """Rows built in code may carry what no database stores: the builders clean them just the same."""
    register = list(reports.grants_register(YEAR, PREFIX))
    for row in register:
        row.title = f"{row.title}{SURROGATES}"
    out = io.BytesIO()
    build_grants_register(register, out, period=whole_year(YEAR), made_by=f"Someone{SURROGATES}", made_at=MADE_AT)
    assert_safe_workbook(out.getvalue())

    published = [dataclasses.replace(row, recipient=f"{row.recipient}{SURROGATES}")
                 for row in iter_published(GrantFilters(year=YEAR))]
    out = io.BytesIO()
    build_360giving(published, out, period=whole_year(YEAR), publisher=PUBLISHER, made_at=MADE_AT)
    assert_safe_workbook(out.getvalue())
    info = PackageInfo(title=f"Grants{SURROGATES}", description="All", identifier="x", made_at=MADE_AT,
                       download_url="https://opcc.example/x.json", access_url="https://opcc.example/")
    text = "".join(json_package(published, PUBLISHER, info))
    text.encode("utf-8")  # a lone surrogate would make this fail
    assert forbidden(text) == [] and json.loads(text)["grants"]

    items = [dataclasses.replace(item, payee=f"{item.payee}{SURROGATES}") for item in spending_items(YEAR)]
    assert items
    text = "".join(spending_csv(items))
    text.encode("utf-8")
    assert forbidden(text.replace("\r\n", "\n")) == []


# --- would-be formulas keep their value ------------------------------------------------------------------------


@pytest.fixture()
def formula_grants(world: World) -> Grants:
    g = make_grants(world)
    g.awards["bikes"].bid.title = "=1+1"
    g.awards["bikes"].public_summary = "=1+1"
    g.payments["bikes_paid"].finance_reference = "-AP-1004"
    world.csp.name = "@Fenland CSP"
    db.session.commit()
    return g


def cells_with(book: Any, value: str) -> list[Any]:
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == value]


def assert_exact_and_quoted(book: Any, value: str) -> None:
    found = cells_with(book, value)
    assert found, f"{value!r} is not in the workbook as typed"
    assert all(c.data_type == "s" and c.quotePrefix for c in found), value
    assert not cells_with(book, "'" + value)


def test_would_be_formulas_export_exactly_as_typed_with_the_quote_prefix(client: FlaskClient,
                                                                         formula_grants: Grants) -> None:
    made = dict(every_finance_workbook())
    register = load_workbook(io.BytesIO(made[f"grants-register-{FILE_NAME}.xlsx"]))
    assert_exact_and_quoted(register, "=1+1")
    assert_exact_and_quoted(register, "@Fenland CSP")
    payments = load_workbook(io.BytesIO(made[f"payments-{FILE_NAME}-Q2.xlsx"]))
    assert_exact_and_quoted(payments, "-AP-1004")  # matches the ledger
    for data in made.values():
        assert_safe_workbook(data)
    # Ordinary text is left as it is: no style it does not need.
    plain = cells_with(register, "Huntingdonshire CSP")
    assert plain and not any(c.quotePrefix for c in plain)

    threesixty = assert_safe_workbook(client.get(f"/open-data/360giving/{FILE_NAME}.xlsx").data)
    assert_exact_and_quoted(threesixty, "=1+1")
    assert_exact_and_quoted(threesixty, "@Fenland CSP")
    spending = assert_safe_workbook(client.get(f"/open-data/spending-over-500/{YEAR}.xlsx").data)
    assert_exact_and_quoted(spending, "@Fenland CSP")
    assert_exact_and_quoted(spending, "=1+1")

    # A CSV field cannot carry a style: there the apostrophe goes in front, as OWASP advises.
    rows = list(csv.reader(io.StringIO(client.get(f"/open-data/spending-over-500/{YEAR}.csv").data
                                       .decode("utf-8-sig"), newline="")))
    assert ["'@Fenland CSP", "'=1+1"] in [[row[1], row[3]] for row in rows]
    assert not any(field.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for field in row)
    # The JSON keeps the value exactly: nothing runs a JSON file.
    package = client.get(f"/open-data/360giving/{FILE_NAME}.json").get_json()
    assert "=1+1" in [g["title"] for g in package["grants"]]


def test_clean_text_keeps_everything_else() -> None:
    kept = "Tab\there\nLine\r\nCR £5 – “quotes” 😀 \u202eRTL\u202c \ufeffBOM \u00a0nbsp \x7fDEL"
    assert clean_text(kept) == kept


# --- the request body limit ------------------------------------------------------------------------------------


def limit_for(env: dict[str, str]) -> int:
    code = "from grants.core.config import Config; print(Config.MAX_CONTENT_LENGTH)"
    clean_env = {k: v for k, v in os.environ.items() if k not in ("MAX_REQUEST_MB", "EVIDENCE_MAX_MB")}
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, env={**clean_env, **env})
    return int(done.stdout)


def test_the_body_limit_is_configurable_and_never_below_one_evidence_file() -> None:
    mb = 1024 * 1024
    assert limit_for({}) == 31 * mb  # three evidence files at 10 MB, and 1 MB for the form
    assert limit_for({"MAX_REQUEST_MB": "50"}) == 50 * mb
    assert limit_for({"EVIDENCE_MAX_MB": "20"}) == 61 * mb
    assert limit_for({"MAX_REQUEST_MB": "5", "EVIDENCE_MAX_MB": "10"}) == 11 * mb


def assert_too_large_page(response: Any) -> None:
    assert response.status_code == 413
    soup = page(response)
    assert soup.h1.get_text(strip=True) == "What you sent is too large"
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("csrf", [False, True])
def test_a_body_over_the_limit_is_refused_with_a_page(app: Flask, client: FlaskClient, world: World,
                                                       csrf: bool) -> None:
    app.config["WTF_CSRF_ENABLED"] = csrf  # in production the CSRF check reads the form first
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit >= (app.config["EVIDENCE_MAX_MB"] + 1) * 1024 * 1024
    big = io.BytesIO(b"%PDF-" + b"x" * limit)
    assert_too_large_page(client.post("/sign-in", data={"email": "a@example.com", "evidence": (big, "big.pdf")},
                                      content_type="multipart/form-data"))
    assert_too_large_page(client.post("/sign-in", data=b"email=" + b"x" * limit,
                                      content_type="application/x-www-form-urlencoded"))


def test_a_signed_in_form_over_the_limit_changes_nothing(app: Flask, as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    data = bid_form(bid, title="Too big", save="Save")
    data["activities"] = "x" * app.config["MAX_CONTENT_LENGTH"]
    assert_too_large_page(client.post(f"/bids/{bid.id}/edit", data=data))
    db.session.refresh(bid)
    assert bid.title != "Too big"
    # A long text field within the body limit but over the form's own memory limit: the same page.
    data["activities"] = "x" * (app.config["MAX_CONTENT_LENGTH"] // 40)
    assert_too_large_page(client.post(f"/bids/{bid.id}/edit", data=data, content_type="multipart/form-data"))


def chunked(client: FlaskClient, url: str, body: bytes) -> Any:
    """A urlencoded body sent without a length, as a server that reads chunked bodies (gunicorn) passes it on."""
    return client.post(url, input_stream=io.BytesIO(body), content_type="application/x-www-form-urlencoded",
                       headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})


def test_a_streamed_body_over_the_limit_is_refused_not_cut_short(app: Flask, as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    assert chunked(client, f"/bids/{bid.id}/edit", raw_form(bid_form(bid, title="Sent in chunks", save="Save"))
                   ).status_code == 302
    db.session.refresh(bid)
    assert bid.title == "Sent in chunks"
    # Werkzeug alone would parse the form up to the limit and save what it got.
    body = raw_form(bid_form(bid, title="Cut short", save="Save", activities="x" * app.config["MAX_CONTENT_LENGTH"]))
    assert_too_large_page(chunked(client, f"/bids/{bid.id}/edit", body))
    db.session.refresh(bid)
    assert bid.title == "Sent in chunks"
