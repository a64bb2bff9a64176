"""The 360Giving files, read as the standard's own tools read them: the JSON validated against the package
schema (../shared/reference/360giving), the Data Quality Tool's checks run on it, and the spreadsheet read by
flattentool with the options the Data Quality Tool passes it."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import flattentool
import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, FormatChecker
from openpyxl import load_workbook
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from grants.core.dates import financial_year_label, financial_year_start
from grants.core.extensions import db
from grants.core.models import Award, GrantAgreement, Organisation
from grants.demo import seed_demo
from tests.threesixty_quality import accuracy_findings, duplicate_grant_ids, usefulness_findings

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "360giving"
TODAY = date(2026, 11, 20)
YEAR = financial_year_label(financial_year_start(TODAY))


def validator() -> Draft202012Validator:
    """The package schema, with the grant schema it refers to (by its public address) served from disk."""
    package = json.loads((REFERENCE / "360-giving-package-schema.json").read_text(encoding="utf-8"))
    grant = json.loads((REFERENCE / "360-giving-schema.json").read_text(encoding="utf-8"))
    grant_url = package["properties"]["grants"]["items"]["$ref"]
    # The schemas name their dialect with "http://" where the 2020-12 draft says "https://": said here instead.
    resource = Resource(contents=grant, specification=DRAFT202012)
    registry = Registry().with_resources([(grant_url, resource), (grant["$id"], resource)])
    return Draft202012Validator(package, registry=registry, format_checker=FormatChecker())


def schema_errors(package: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(package)]


@pytest.fixture()
def demo(app: Any) -> None:
    seed_demo(TODAY)


def get_json(client: FlaskClient, name: str) -> dict[str, Any]:
    response = client.get(f"/open-data/360giving/{name}.json")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def test_every_file_is_valid_against_the_package_schema(client: FlaskClient, demo: None) -> None:
    for name in ("all-years", YEAR):
        package = get_json(client, name)
        assert schema_errors(package) == [], name
        assert package["grants"] and not duplicate_grant_ids(package)


def test_the_schema_check_itself_finds_mistakes(client: FlaskClient, demo: None) -> None:
    package = get_json(client, "all-years")
    package["grants"][0]["amountAwarded"] = "lots"
    package["grants"][1]["awardDate"] = "1st April"
    errors = schema_errors(package)
    assert any("amountAwarded" in e for e in errors) and any("awardDate" in e for e in errors)


def test_demo_data_has_no_accuracy_findings_and_only_the_gaps_the_data_allows(client: FlaskClient, demo: None) -> None:
    package = get_json(client, "all-years")
    now = datetime(2026, 11, 20, 12)
    assert accuracy_findings(package, now=now) == []
    # The CSPs are councils, on no charity or company register; the funder's own register entry is configured
    # (PUBLISHER_ORG_ID), and the demo keeps the 360Giving code.
    gaps = {finding.split(":")[0] for finding in usefulness_findings(package, now=now)}
    assert gaps <= {"NoRecipientOrgCompanyCharityNumber", "FundingOrg360GPrefix"}, gaps


def test_each_grant_says_what_the_order_asks_in_the_officers_words(client: FlaskClient, demo: None) -> None:
    package = get_json(client, "all-years")
    awards = {f"360G-opcccambs-{a.bid.reference}": a for a in db.session.scalars(db.select(Award))}
    assert {g["id"] for g in package["grants"]} == set(awards)
    for grant in package["grants"]:
        award = awards[grant["id"]]
        assert grant["title"] == award.public_summary
        assert award.bid.activities not in grant["description"]  # the applicant's own words are not published
        assert award.reasons in grant["description"]
        recipient = grant["recipientOrganization"][0]
        assert recipient["id"] == award.organisation.org_identifier and recipient["id"].startswith("GB-LAE-")
        assert recipient["postalCode"] == award.organisation.postcode
        assert grant["beneficiaryLocation"][0]["geoCode"] == award.organisation.district_code
        assert grant["dataSource"].endswith(f"/grants-awarded/{award.bid_id}")
        assert grant["grantProgramme"][0]["title"] == award.fund_year.fund.name


def test_a_years_file_holds_the_grants_awarded_in_that_year(client: FlaskClient, demo: None) -> None:
    everything = get_json(client, "all-years")
    this_year = get_json(client, YEAR)
    start = date(financial_year_start(TODAY), 4, 1)
    expected = {g["id"] for g in everything["grants"] if date.fromisoformat(g["awardDate"]) >= start}
    assert {g["id"] for g in this_year["grants"]} == expected


def test_an_organisation_on_no_register_gets_the_publishers_own_code(client: FlaskClient, demo: None) -> None:
    fenland = db.session.scalar(db.select(Organisation).where(Organisation.name == "Fenland CSP"))
    fenland.org_identifier = None
    fenland.district_code = fenland.district_name = None
    db.session.commit()
    package = get_json(client, "all-years")
    theirs = [g for g in package["grants"] if g["recipientOrganization"][0]["name"] == "Fenland CSP"]
    assert theirs
    for grant in theirs:
        assert grant["recipientOrganization"][0]["id"] == f"360G-opcccambs-ORG-{fenland.id}"
        assert grant["beneficiaryLocation"][0]["geoCode"] == "E23000023"  # the police force area
    assert schema_errors(package) == []


def test_a_grant_ended_early_shows_its_actual_end_and_what_was_paid(client: FlaskClient, demo: None) -> None:
    agreement = db.session.scalar(db.select(GrantAgreement).where(GrantAgreement.status == "active").limit(1))
    agreement.status, agreement.ended_at = "terminated", datetime(2026, 10, 1, 12, tzinfo=UTC)
    db.session.commit()
    grant = next(g for g in get_json(client, "all-years")["grants"] if g["id"].endswith(agreement.bid.reference))
    assert grant["actualDates"][0]["endDate"] == "2026-10-01"
    assert grant["amountDisbursed"] * 100 == sum(p.amount_pence for p in agreement.payments if p.status == "paid")


def unflatten(xlsx: bytes, tmp_path: Path) -> dict[str, Any]:
    """The spreadsheet as the Data Quality Tool converts it (libcove's convert_spreadsheet options)."""
    source, output = tmp_path / "grants.xlsx", tmp_path / "unflattened.json"
    source.write_bytes(xlsx)
    flattentool.unflatten(
        str(source), output_name=str(output), input_format="xlsx", default_configuration="RootListPath grants",
        schema=str(REFERENCE / "360-giving-schema.json"), convert_titles=True, root_id="", id_name="id",
        root_is_list=False, metatab_name="Meta", metatab_vertical_orientation=True, disable_local_refs=True,
    )
    result: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return result


def test_the_spreadsheet_reads_as_the_same_grants_and_nothing_else(client: FlaskClient, demo: None,
                                                                   tmp_path: Path) -> None:
    response = client.get(f"/open-data/360giving/{YEAR}.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["grants", "About"]
    assert workbook["About"]["A1"].value == "#" and workbook["About"]["B1"].value == "ignore"

    from_sheet = unflatten(response.data, tmp_path)
    from_json = get_json(client, YEAR)
    assert [g["id"] for g in from_sheet["grants"]] == [g["id"] for g in from_json["grants"]]
    for sheet_grant, json_grant in zip(from_sheet["grants"], from_json["grants"], strict=True):
        for key in ("title", "description", "currency", "recipientOrganization", "fundingOrganization",
                    "beneficiaryLocation", "grantProgramme", "dataSource", "dateModified", "fromOpenCall"):
            assert sheet_grant[key] == json_grant[key], key
        # A date cell comes back as midnight UTC on that day, which the standard accepts.
        assert sheet_grant["awardDate"] == json_grant["awardDate"] + "T00:00:00+00:00"
        assert float(sheet_grant["amountAwarded"]) == float(json_grant["amountAwarded"])
    assert schema_errors({"grants": from_sheet["grants"]}) == []
    assert accuracy_findings({"grants": from_sheet["grants"]}, now=datetime(2026, 11, 20, 12)) == []


def test_a_file_with_no_grants_or_a_made_up_name_is_not_found(client: FlaskClient, demo: None) -> None:
    for name in ("1999-00", "2026-28", "2026", "everything"):
        assert client.get(f"/open-data/360giving/{name}.json").status_code == 404
        assert client.get(f"/open-data/360giving/{name}.xlsx").status_code == 404


def test_nothing_to_publish_before_the_first_award(client: FlaskClient, app: Any) -> None:
    assert client.get("/open-data/360giving/all-years.json").status_code == 404
    assert "nothing to download" in client.get("/grants-awarded").get_data(as_text=True)
