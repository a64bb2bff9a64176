"""Each mirrored 360Giving DQT check fires on a deliberately bad grant and stays silent on a good one."""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import threesixty_quality as tq

PREFIXES = {"GB-CHC", "GB-COH", "GB-LAE", "GB-LAS", "GB-GOR", "GB-PLPOL", "GB-GOVUK", "GB-SC", "GB-NIC"}
NOW = datetime.datetime(2026, 12, 1, 12, 0)

Grant = dict[str, Any]


def good_grant() -> Grant:
    return {
        "id": "360G-opcccambs-BID-00001",
        "title": "Safer streets in March",
        "description": "Street lighting and youth outreach in March town centre.",
        "currency": "GBP",
        "amountAwarded": 1000,
        "awardDate": "2026-05-01",
        "recipientOrganization": [
            {"id": "GB-CHC-1234567", "name": "X", "charityNumber": "1234567", "postalCode": "PE15 8NQ"}
        ],
        "fundingOrganization": [{"id": "GB-GOVUK-opcc-cambridgeshire", "name": "Cambridgeshire OPCC"}],
        "beneficiaryLocation": [{"name": "Fenland", "geoCode": "E07000010", "geoCodeType": "LAD"}],
        "grantProgramme": [{"code": "CSF", "title": "Community Safety Fund"}],
        "plannedDates": [{"startDate": "2026-06-01", "endDate": "2027-05-31", "duration": 12}],
        "dataSource": "https://www.cambridgeshire-pcc.gov.uk/grants/360giving.json",
        "dateModified": "2026-05-02T10:00:00+00:00",
    }


def good_individual_grant() -> Grant:
    grant = good_grant()
    del grant["recipientOrganization"]
    grant["id"] = "360G-opcccambs-BID-00002"
    grant["recipientIndividual"] = {"id": "360G-opcccambs-IND-1", "name": "Individual recipient"}
    grant["toIndividualsDetails"] = {"primaryGrantReason": "GTIR010", "grantPurpose": ["GTIP040"]}
    return grant


def package(*grants: Grant) -> dict[str, Any]:
    return {"grants": list(grants)}


def fired(findings: list[str]) -> set[str]:
    return {finding.split(":", 1)[0] for finding in findings}


def accuracy(pkg: dict[str, Any]) -> set[str]:
    return fired(tq.accuracy_findings(pkg, known_org_id_prefixes=PREFIXES, now=NOW))


def usefulness(pkg: dict[str, Any]) -> set[str]:
    return fired(tq.usefulness_findings(pkg, now=NOW))


def edit(change: Callable[[Grant], None], base: Callable[[], Grant] = good_grant) -> dict[str, Any]:
    grant = base()
    change(grant)
    return package(grant)


def second_grant(**funder: str) -> dict[str, Any]:
    other = good_grant()
    other["id"] = "360G-opcccambs-BID-00003"
    other["fundingOrganization"] = [funder]
    return package(good_grant(), other)


def recipient(**fields: Any) -> Callable[[Grant], None]:
    return lambda g: g["recipientOrganization"][0].update(fields)


def funder(**fields: Any) -> Callable[[Grant], None]:
    return lambda g: g["fundingOrganization"][0].update(fields)


def drop(key: str) -> Callable[[Grant], None]:
    return lambda g: g.pop(key)


def put(**fields: Any) -> Callable[[Grant], None]:
    return lambda g: g.update(fields)


def test_good_grants_are_clean() -> None:
    for pkg in (
        package(good_grant()),
        package(good_individual_grant()),
        package(good_grant(), good_individual_grant()),
    ):
        assert tq.accuracy_findings(pkg, known_org_id_prefixes=PREFIXES, now=NOW) == []
        assert tq.usefulness_findings(pkg, now=NOW) == []


def test_the_lists_match_the_dqt() -> None:
    assert len(tq.ACCURACY_CHECKS) == 21
    assert len(tq.USEFULNESS_CHECKS) == 15


ACCURACY_CASES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "zero amount": (edit(put(amountAwarded=0)), {"ZeroAmountTest"}),
    "funder prefix": (edit(funder(id="XX-NOPE-1")), {"FundingOrgUnrecognisedPrefix"}),
    "recipient prefix": (edit(recipient(id="XX-NOPE-1")), {"RecipientOrgUnrecognisedPrefix"}),
    "charity number": (edit(recipient(charityNumber="12345")), {"RecipientOrgCharityNumber"}),
    "company number": (edit(recipient(companyNumber="1234")), {"RecipientOrgCompanyNumber"}),
    "GB-CHC id": (edit(recipient(id="GB-CHC-12345")), {"OrganizationIdLooksInvalid"}),
    "GB-COH id": (edit(recipient(id="GB-COH-123")), {"OrganizationIdLooksInvalid"}),
    "org id line break": (edit(funder(id="GB-GOVUK-opcc\ncambs")), {"OrganizationIdUnexpectedChars"}),
    "grant id line break": (edit(put(id="360G-opcccambs-BID-00001\n")), {"GrantIdUnexpectedChars"}),
    "two funders": (second_grant(id="GB-GOVUK-home-office", name="Home Office"), {"MoreThanOneFundingOrg"}),
    "email": (edit(put(description="Contact jo.bloggs@example.org.uk")), {"LooksLikeEmail"}),
    "impossible date": (edit(put(awardDate="2026-02-29")), {"ImpossibleDates"}),
    "planned start after end": (
        edit(put(plannedDates=[{"startDate": "2027-06-01", "endDate": "2026-06-01"}])),
        {"PlannedStartDateBeforeEndDate"},
    ),
    "actual start after end": (
        edit(put(actualDates=[{"startDate": "2026-09-01", "endDate": "2026-08-01"}])),
        {"ActualStartDateBeforeEndDate"},
    ),
    "planned far future": (
        edit(put(plannedDates=[{"startDate": "2026-06-01", "endDate": "2039-01-01"}])),
        {"FarFuturePlannedDates"},
    ),
    "actual far future": (
        edit(put(actualDates=[{"startDate": "2026-06-01", "endDate": "2032-01-01"}])),
        {"FarFutureActualDates"},
    ),
    "far past": (edit(put(awardDate="2001-11-30")), {"FarPastDates"}),
    "future award": (edit(put(awardDate="2026-12-02")), {"PostDatedAwardDates"}),
    "individual with DEI": (
        edit(put(project=[{"title": "x"}]), base=good_individual_grant),
        {"RecipientIndDEI"},
    ),
    "individual postcode": (
        edit(put(beneficiaryLocation=[{"geoCode": " pe15 8nq "}]), base=good_individual_grant),
        {"GeoCodePostcode"},
    ),
    "funder renamed": (
        second_grant(id="GB-GOVUK-opcc-cambridgeshire", name="OPCC Cambs"),
        {"MultiFundingNamesForOrgId"},
    ),
    "funder re-identified": (
        second_grant(id="GB-PLPOL-cambs", name="Cambridgeshire OPCC"),
        {"MultiFundingOrgIdsForName", "MoreThanOneFundingOrg"},
    ),
}


@pytest.mark.parametrize("case", ACCURACY_CASES)
def test_accuracy_check_fires(case: str) -> None:
    pkg, expected = ACCURACY_CASES[case]
    assert accuracy(pkg) == expected
    assert usefulness(pkg) == set(), "an accuracy case should not disturb the usefulness checks"


USEFULNESS_CASES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "recipient 360G id": (edit(recipient(id="360G-opcccambs-ORG-1")), {"RecipientOrg360GPrefix"}),
    "funder 360G id": (edit(funder(id="360G-opcccambs-OPCC")), {"FundingOrg360GPrefix"}),
    "no charity/company number": (
        edit(lambda g: g["recipientOrganization"][0].pop("charityNumber")),
        {"NoRecipientOrgCompanyCharityNumber"},
    ),
    "no recipient location": (
        edit(lambda g: g["recipientOrganization"][0].pop("postalCode")),
        {"IncompleteRecipientOrg", "BeneficiaryButNotRecipientGeoData"},
    ),
    "recipient location without geocode": (
        edit(lambda g: g["recipientOrganization"][0].update(postalCode="", location=[{"name": "Fenland"}])),
        {"IncompleteRecipientOrg"},
    ),
    "no grant programme": (edit(drop("grantProgramme")), {"NoGrantProgramme"}),
    "no beneficiary location": (edit(drop("beneficiaryLocation")), {"NoBeneficiaryLocation"}),
    "title is description": (edit(put(description="Safer streets in March")), {"TitleDescriptionSame"}),
    "long title": (edit(put(title="x" * 141)), {"TitleLength"}),
    "no dateModified": (edit(drop("dateModified")), {"NoLastModified"}),
    "no dataSource": (edit(drop("dataSource")), {"NoDataSource"}),
    "individual without details": (
        edit(drop("toIndividualsDetails"), base=good_individual_grant),
        {"RecipientIndWithoutToIndividualsDetails"},
    ),
    "no planned duration": (edit(put(plannedDates=[{"startDate": "2026-06-01"}])), {"PlannedDurationNotPresent"}),
    "no planned dates": (edit(drop("plannedDates")), {"PlannedDurationNotPresent"}),
    "location name only": (edit(put(beneficiaryLocation=[{"name": "Fenland"}])), {"BeneficiaryLocationNameButNoCode"}),
    "recipient location only": (
        edit(lambda g: (g.pop("beneficiaryLocation"), recipient(location=[{"geoCode": "E07000010"}])(g))),
        {"RecipientGeoDataButNoBeneficiary", "NoBeneficiaryLocation"},
    ),
}


@pytest.mark.parametrize("case", USEFULNESS_CASES)
def test_usefulness_check_fires(case: str) -> None:
    pkg, expected = USEFULNESS_CASES[case]
    assert usefulness(pkg) == expected
    assert accuracy(pkg) == set(), "a usefulness case should not disturb the accuracy checks"


def test_every_check_is_exercised() -> None:
    accuracy_names = set().union(*(expected for _, expected in ACCURACY_CASES.values()))
    usefulness_names = set().union(*(expected for _, expected in USEFULNESS_CASES.values()))
    assert accuracy_names == {check.__name__ for check in tq.ACCURACY_CHECKS}
    assert usefulness_names == {check.__name__ for check in tq.USEFULNESS_CHECKS}


def test_findings_carry_class_name_and_count() -> None:
    bad = good_grant()
    bad["amountAwarded"] = 0
    other = copy.deepcopy(bad)
    other["id"] = "360G-opcccambs-BID-00009"
    findings = tq.accuracy_findings(package(bad, other, good_grant()), known_org_id_prefixes=PREFIXES, now=NOW)
    assert findings == ["ZeroAmountTest: 2 grants - a value of £0 (amountAwarded == 0)"]


def test_dqt_number_rules() -> None:
    # A two-letter prefix is stripped from a charity number; GB-CHC ids are not stripped.
    assert accuracy(edit(recipient(charityNumber="SC012345"))) == set()
    assert accuracy(edit(recipient(id="GB-CHC-SC012345"))) == {"OrganizationIdLooksInvalid"}
    assert accuracy(edit(recipient(companyNumber="SC123459"))) == set()
    # Only the first plannedDates entry counts, and an ISO datetime's time part is ignored.
    assert accuracy(edit(put(awardDate="2026-05-01T09:30:00Z"))) == set()
    # A malformed date is a validation problem, not an "impossible" one.
    assert accuracy(edit(put(awardDate="01/05/2026"))) == set()
    # Fields whose path names an email are skipped by LooksLikeEmail.
    assert accuracy(edit(recipient(email="office@example.org"))) == set()


def test_360g_ids_are_recognised_prefixes_but_not_useful() -> None:
    pkg = edit(funder(id="360G-opcccambs-OPCC"))
    assert accuracy(pkg) == set()
    assert usefulness(pkg) == {"FundingOrg360GPrefix"}
    # With an explicit empty prefix set only 360G ids are recognised.
    assert fired(tq.accuracy_findings(pkg, known_org_id_prefixes=set(), now=NOW)) == {"RecipientOrgUnrecognisedPrefix"}


def test_prefix_checks_skipped_without_prefixes_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pkg = edit(recipient(id="XX-NOPE-1"))
    monkeypatch.setattr(tq, "DEFAULT_PREFIXES_FILE", tmp_path / "missing.json")
    assert tq.accuracy_findings(pkg, now=NOW) == []

    prefixes_file = tmp_path / "org-id-prefixes.json"
    prefixes_file.write_text(json.dumps({"prefixes": [{"code": "GB-CHC"}, {"code": "GB-GOVUK"}]}))
    monkeypatch.setattr(tq, "DEFAULT_PREFIXES_FILE", prefixes_file)
    assert tq.load_org_id_prefixes() == {"GB-CHC", "GB-GOVUK"}
    assert fired(tq.accuracy_findings(pkg, now=NOW)) == {"RecipientOrgUnrecognisedPrefix"}
    assert tq.accuracy_findings(package(good_grant()), now=NOW) == []


def test_data_that_breaks_the_dqt_is_reported() -> None:
    grant = good_grant()
    del grant["fundingOrganization"][0]["name"]
    findings = tq.accuracy_findings(package(grant), known_org_id_prefixes=PREFIXES, now=NOW)
    assert len(findings) == 1 and findings[0].startswith("DQTChecksErrored: ")
    assert tq.accuracy_findings({}, known_org_id_prefixes=PREFIXES) == []


def test_duplicate_grant_ids() -> None:
    assert tq.duplicate_grant_ids(package(good_grant(), good_grant(), good_individual_grant())) == {
        "360G-opcccambs-BID-00001"
    }
