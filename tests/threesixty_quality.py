"""Offline mirror of the 360Giving Data Quality Tool's accuracy and usefulness checks.

Source read: https://github.com/ThreeSixtyGiving/dataquality at commit
783b746fb031208e92553bdb47a37af8fc84fd32 (2026-03-25), files

* ``lib360dataquality/cove/threesixtygiving.py`` (the check classes, ``TEST_CLASSES``,
  ``create_grant_dates_dict``, ``run_extra_checks``, ``get_prefixes``/``orgids_prefixes``),
* ``lib360dataquality/check_field_present.py`` (``PlannedDurationNotPresent``),
* ``lib360dataquality/additional_test.py`` (``AdditionalTest`` counting rules),

plus ``libcove.lib.common.get_orgids_prefixes`` (every ``code`` in org-id.guide's list, to which the DQT
appends ``"360G"``) and ``libcove.lib.tools.ignore_errors``.

This re-implements the two lists in ``TEST_CLASSES`` (``quality_accuracy`` and ``usefulness``) with the same
conditions, thresholds, per-grant/per-field counting and exception behaviour, so our tests can check published
360Giving data without the DQT, which is not installable here. It deliberately leaves out schema validation,
codelist checks and the spreadsheet-only checks, which the DQT runs separately from these lists.

Differences by design: no HTML text; the DQT compares dates with ``datetime.now()`` and so do we unless a
``now`` is passed, which lets tests fix the clock; ``relativedelta(years=n)`` is re-done without dateutil.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "ACCURACY_CHECKS",
    "DEFAULT_PREFIXES_FILE",
    "USEFULNESS_CHECKS",
    "accuracy_findings",
    "duplicate_grant_ids",
    "load_org_id_prefixes",
    "usefulness_findings",
]

Grant = dict[str, Any]

DEFAULT_PREFIXES_FILE = Path(__file__).resolve().parent.parent / "grants" / "reference" / "org-id-prefixes.json"

# libcove.lib.tools.ignore_errors: any of these escaping a check makes the DQT drop the whole list's results.
_DQT_SWALLOWED = (KeyError, TypeError, IndexError, AttributeError, ValueError)

# Org-id prefix, charity/company number, email and postcode patterns, as in threesixtygiving.py.
_COMPANY_RE = re.compile(r"^\w{8}$")
_EMAIL_RE = re.compile(r"[\w.-]+@[\w.-]+\.[\w.-]+")
_POSTCODE_RE = re.compile(r"^\s*[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\s*$", re.IGNORECASE)

_ANY, _ORGANISATION, _INDIVIDUAL = "any", "organisation", "individual"


# --------------------------------------------------------------------------- helpers copied from the DQT


def load_org_id_prefixes(path: Path | None = None) -> set[str] | None:
    """Read org-id list codes from ``path`` (default ``grants/reference/org-id-prefixes.json``).

    The file is a JSON object whose ``"prefixes"`` key lists objects with a ``"code"`` (``{"code": "GB-CHC"}``);
    org-id.guide's own download shape (``"lists"``) is read too. Returns None when the file does not exist.
    """
    path = path or DEFAULT_PREFIXES_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = data.get("prefixes", data.get("lists", []))
    return {entry["code"] for entry in entries}


def _check_charity_number(charity_number: Any) -> bool:
    charity_number = str(charity_number)
    try:
        int(charity_number)
    except ValueError:
        return False
    return len(charity_number) in (6, 7)


def _check_company_number(company_number: Any) -> bool:
    """Company numbers must be 8 word characters (a non-string raises TypeError, as in the DQT)."""
    return _COMPANY_RE.match(company_number) is not None


def _flatten_dict(grant: dict[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in sorted(grant.items()):
        if isinstance(value, list):
            for num, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _flatten_dict(item, f"{path}/{key}/{num}")
                else:
                    yield (f"{path}/{key}/{num}", item)
        elif isinstance(value, dict):
            yield from _flatten_dict(value, f"{path}/{key}")
        else:
            yield (f"{path}/{key}", value)


def _convert_date(input_date: Any) -> tuple[datetime.datetime | None, str | None]:
    """``convert_string_date_to_datetime``: ``YYYY-MM-DD`` or ``YYYY-MM-DDT...`` (time part ignored)."""
    if "T" in input_date:
        input_date = input_date.split("T")[0]
    try:
        return datetime.datetime.strptime(input_date, "%Y-%m-%d"), None
    except ValueError as e:
        return None, str(e)


_DATE_TYPES = ("award_date", "planned_start_date", "planned_end_date", "actual_start_date", "actual_end_date")


def _grant_dates(grant: Grant) -> dict[str, tuple[datetime.datetime | None, str | None]]:
    """``create_grant_dates_dict``: only the first plannedDates/actualDates entry; an empty list hides all dates."""
    try:
        planned = grant.get("plannedDates", [{}])[0]
        actual = grant.get("actualDates", [{}])[0]
        raw = {
            "award_date": grant.get("awardDate"),
            "planned_start_date": planned.get("startDate"),
            "planned_end_date": planned.get("endDate"),
            "actual_start_date": actual.get("startDate"),
            "actual_end_date": actual.get("endDate"),
        }
    except IndexError:
        return {}
    return {date_type: _convert_date(raw[date_type]) for date_type in _DATE_TYPES if raw[date_type]}


def _add_years(when: datetime.datetime, years: int) -> datetime.datetime:
    """``when + relativedelta(years=years)``: 29 February falls back to the 28th in a non-leap year."""
    try:
        return when.replace(year=when.year + years)
    except ValueError:
        return when.replace(year=when.year + years, day=28)


# --------------------------------------------------------------------------- check base


class _Check:
    """One DQT ``AdditionalTest``: ``process`` is called per grant; ``failed``/``count`` as in the DQT."""

    heading = ""
    relevance = _ANY

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.failed = False
        self.count = 0

    def process(self, grant: Grant) -> None:
        raise NotImplementedError

    def fail(self, times: int = 1) -> None:
        self.failed = True
        self.count += times

    def finding(self) -> str:
        noun = "grant" if self.count == 1 else "grants"
        return f"{type(self).__name__}: {self.count} {noun} - {self.heading}"


class _Context:
    def __init__(self, prefixes: set[str] | None, now: datetime.datetime) -> None:
        self.prefixes = prefixes
        self.now = now


# --------------------------------------------------------------------------- accuracy (quality) checks


class ZeroAmountTest(_Check):
    heading = "a value of £0 (amountAwarded == 0)"

    def process(self, grant: Grant) -> None:
        if "amountAwarded" in grant and grant["amountAwarded"] == 0:
            self.fail()


class _UnrecognisedPrefix(_Check):
    field = ""

    def process(self, grant: Grant) -> None:
        prefixes = self.ctx.prefixes or set()
        try:
            count_failure = False
            for organization in grant[self.field]:
                org_id = organization["id"].lower()
                if not any(org_id.startswith(prefix.lower()) for prefix in prefixes):
                    self.failed = count_failure = True
            # As in the DQT, a later organisation without an id (KeyError) leaves the grant flagged but uncounted.
            if count_failure:
                self.count += 1
        except KeyError:
            pass


class FundingOrgUnrecognisedPrefix(_UnrecognisedPrefix):
    heading = "a Funding Org:Identifier that does not draw from a recognised register"
    field = "fundingOrganization"


class RecipientOrgUnrecognisedPrefix(_UnrecognisedPrefix):
    heading = "a Recipient Org:Identifier that does not draw from a recognised register"
    field = "recipientOrganization"
    relevance = _ORGANISATION


class RecipientOrgCharityNumber(_Check):
    heading = "a Recipient Org:Charity Number that doesn't look like a UK charity number"
    relevance = _ORGANISATION

    def process(self, grant: Grant) -> None:
        try:
            count_failure = False
            for organization in grant["recipientOrganization"]:
                charity_number = str(organization["charityNumber"])  # a missing one ends this grant's loop
                if charity_number[:2].isalpha():
                    charity_number = charity_number[2:]
                if not _check_charity_number(charity_number):
                    self.failed = count_failure = True
            if count_failure:
                self.count += 1
        except KeyError:
            pass


class RecipientOrgCompanyNumber(_Check):
    heading = "a Recipient Org:Company Number that doesn't look like a company number"
    relevance = _ORGANISATION

    def process(self, grant: Grant) -> None:
        try:
            count_failure = False
            for organization in grant["recipientOrganization"]:
                if not _check_company_number(organization["companyNumber"]):  # a missing one ends the loop
                    self.failed = count_failure = True
            if count_failure:
                self.count += 1
        except KeyError:
            pass


def _org_ids(grant: Grant) -> Iterator[str]:
    for org_type in ("fundingOrganization", "recipientOrganization"):
        for org in grant.get(org_type, []):
            org_id = org.get("id")
            if org_id:
                yield org_id


class OrganizationIdLooksInvalid(_Check):
    heading = "a Funding or Recipient Organisation identifier that might not be valid (GB-CHC-/GB-COH- format)"
    relevance = _ORGANISATION

    def process(self, grant: Grant) -> None:
        for org_id in _org_ids(grant):
            if org_id.upper().startswith("GB-CHC-"):
                if not _check_charity_number(org_id[7:]):
                    self.fail()
            elif org_id.upper().startswith("GB-COH-"):
                if not _check_company_number(org_id[7:]):
                    self.fail()


class OrganizationIdUnexpectedChars(_Check):
    heading = "a Funding or Recipient Organisation identifier that contains a line break"
    relevance = _ORGANISATION

    def process(self, grant: Grant) -> None:
        for org_id in _org_ids(grant):
            if "\n" in org_id:
                self.fail()


class GrantIdUnexpectedChars(_Check):
    heading = "a Grant Identifier that contains a line break"

    def process(self, grant: Grant) -> None:
        grant_id: Any = grant.get("id")
        if "\n" in grant_id:  # a missing id raises TypeError, as in the DQT
            self.fail()


class MoreThanOneFundingOrg(_Check):
    heading = "different funding organisation identifiers listed"

    def __init__(self, ctx: _Context) -> None:
        super().__init__(ctx)
        self.funding_organization_ids: list[str] = []

    def process(self, grant: Grant) -> None:
        try:
            for organization in grant["fundingOrganization"]:
                org_id = organization.get("id")
                if org_id and org_id not in self.funding_organization_ids:
                    self.funding_organization_ids.append(org_id)
        except KeyError:
            pass
        if len(self.funding_organization_ids) > 1:
            self.failed = True

    def finding(self) -> str:
        # The DQT leaves count at 0 here; its heading reports the number of distinct funder ids.
        return f"{type(self).__name__}: {len(self.funding_organization_ids)} {self.heading}"


class LooksLikeEmail(_Check):
    heading = "text that looks like an email address (counted per field; paths containing 'email' skipped)"

    def process(self, grant: Grant) -> None:
        for key, value in _flatten_dict(grant):
            if "email" in key:
                continue
            if isinstance(value, str) and _EMAIL_RE.search(value):
                self.fail()


class ImpossibleDates(_Check):
    heading = "dates that don't exist (e.g. 31 September, 29 February in a non-leap year)"

    def process(self, grant: Grant) -> None:
        dates = _grant_dates(grant)
        for date_type in _DATE_TYPES:
            error = dates.get(date_type, (None, None))[1]
            if error and "does not match format '%Y-%m-%d'" not in error and "unconverted data remains" not in error:
                self.fail()
                break


class _StartAfterEnd(_Check):
    start, end = "", ""

    def process(self, grant: Grant) -> None:
        dates = _grant_dates(grant)
        start = dates.get(self.start, (None, None))[0]
        end = dates.get(self.end, (None, None))[0]
        if start and end and start > end:
            self.fail()


class PlannedStartDateBeforeEndDate(_StartAfterEnd):
    heading = "Planned Dates:Start Date entries that are after the corresponding Planned Dates:End Date"
    start, end = "planned_start_date", "planned_end_date"


class ActualStartDateBeforeEndDate(_StartAfterEnd):
    heading = "Actual Dates:Start Date entries that are after the corresponding Actual Dates:End Date"
    start, end = "actual_start_date", "actual_end_date"


class _DateWindow(_Check):
    """Fails (once per grant) when any of ``date_types`` lies beyond ``years`` from now (negative: in the past)."""

    date_types: tuple[str, ...] = ()
    years = 0

    def process(self, grant: Grant) -> None:
        dates = _grant_dates(grant)
        limit = _add_years(self.ctx.now, self.years)
        for date_type in self.date_types:
            when = dates.get(date_type, (None, None))[0]
            if when and (when > limit if self.years >= 0 else when < limit):
                self.fail()
                break


class FarFuturePlannedDates(_DateWindow):
    heading = "Planned Dates that are over 12 years in the future"
    date_types = ("planned_start_date", "planned_end_date")
    years = 12


class FarFutureActualDates(_DateWindow):
    heading = "Actual Date entries that are over 5 years in the future"
    date_types = ("actual_start_date", "actual_end_date")
    years = 5


class FarPastDates(_DateWindow):
    heading = "dates that are over 25 years ago"
    date_types = _DATE_TYPES
    years = -25


class PostDatedAwardDates(_DateWindow):
    heading = "Award Dates that are in the future"
    date_types = ("award_date",)
    years = 0


class RecipientIndDEI(_Check):
    heading = "Recipient Ind and DEI information (recipientIndividual with project)"
    relevance = _INDIVIDUAL

    def process(self, grant: Grant) -> None:
        if "recipientIndividual" in grant and "project" in grant:
            self.fail()


class GeoCodePostcode(_Check):
    heading = "Beneficiary Location:Geographic Code that looks like a postcode on a grant to an individual"
    relevance = _INDIVIDUAL

    def process(self, grant: Grant) -> None:
        if "recipientIndividual" in grant:
            for location in grant.get("beneficiaryLocation", []):
                if _POSTCODE_RE.match(location.get("geoCode", "")):
                    self.fail()


class _FunderNameIdConsistency(_Check):
    """Fails when a Funding Org:Name (key) reappears with a different id (value), or the other way round."""

    key_field, value_field = "", ""

    def __init__(self, ctx: _Context) -> None:
        super().__init__(ctx)
        self.seen: dict[str, str] = {}

    def process(self, grant: Grant) -> None:
        if "fundingOrganization" not in grant:
            return
        for organisation in grant["fundingOrganization"]:
            key, value = organisation[self.key_field], organisation[self.value_field]
            if self.seen.setdefault(key, value) != value:
                self.fail()


class MultiFundingNamesForOrgId(_FunderNameIdConsistency):
    heading = "introduced an additional Funding Org:Name for an existing Funding Org:Identifier"
    key_field, value_field = "id", "name"


class MultiFundingOrgIdsForName(_FunderNameIdConsistency):
    heading = "introduced an additional Funding Org:Identifier for an existing Funding Org:Name"
    key_field, value_field = "name", "id"


# --------------------------------------------------------------------------- usefulness checks


class _OrgId360G(_Check):
    field = ""

    def process(self, grant: Grant) -> None:
        try:
            for organization in grant[self.field]:
                if organization["id"].lower().startswith("360g"):
                    self.fail()
        except KeyError:
            pass


class RecipientOrg360GPrefix(_OrgId360G):
    heading = "a Recipient Org:Identifier that starts '360G-'"
    field = "recipientOrganization"
    relevance = _ORGANISATION


class FundingOrg360GPrefix(_OrgId360G):
    heading = "a Funding Org:Identifier that starts '360G-'"
    field = "fundingOrganization"


class _PerRecipientOrg(_Check):
    relevance = _ORGANISATION

    def lacking(self, organization: dict[str, Any]) -> bool:
        raise NotImplementedError

    def process(self, grant: Grant) -> None:
        try:
            if any([self.lacking(org) for org in grant["recipientOrganization"]]):
                self.fail()
        except KeyError:
            pass


class NoRecipientOrgCompanyCharityNumber(_PerRecipientOrg):
    heading = "do not have either a Recipient Org:Company Number or a Recipient Org:Charity Number"

    def lacking(self, organization: dict[str, Any]) -> bool:
        return not (organization.get("companyNumber") or organization.get("charityNumber"))


class IncompleteRecipientOrg(_PerRecipientOrg):
    heading = "do not have recipient organisation location information (postalCode or location geoCode)"

    def lacking(self, organization: dict[str, Any]) -> bool:
        locations = organization.get("location")
        has_location_data = locations and any(location.get("geoCode") for location in locations)
        return not (organization.get("postalCode") or has_location_data)


class _FieldMissing(_Check):
    field = ""

    def process(self, grant: Grant) -> None:
        if not grant.get(self.field):
            self.fail()


class NoGrantProgramme(_FieldMissing):
    heading = "do not contain any Grant Programme fields"
    field = "grantProgramme"


class NoBeneficiaryLocation(_FieldMissing):
    heading = "do not contain any beneficiary location fields"
    field = "beneficiaryLocation"


class NoLastModified(_FieldMissing):
    heading = "do not have Last Modified information (dateModified)"
    field = "dateModified"


class NoDataSource(_FieldMissing):
    heading = "do not have Data Source information"
    field = "dataSource"


class TitleDescriptionSame(_Check):
    heading = "a title and a description that are the same"

    def process(self, grant: Grant) -> None:
        title, description = grant.get("title"), grant.get("description")
        if title and description and title == description:
            self.fail()


class TitleLength(_Check):
    heading = "a title that is longer than recommended (over 140 characters)"

    def process(self, grant: Grant) -> None:
        if len(grant.get("title", "")) > 140:
            self.fail()


class RecipientIndWithoutToIndividualsDetails(_Check):
    heading = "Recipient individual grant with no To Individuals Details"
    relevance = _INDIVIDUAL

    def process(self, grant: Grant) -> None:
        if "recipientIndividual" in grant and "toIndividualsDetails" not in grant:
            self.fail()


class PlannedDurationNotPresent(_Check):
    heading = "neither a planned duration or start and end dates found (first plannedDates entry)"

    def process(self, grant: Grant) -> None:
        try:
            planned = grant["plannedDates"][0]
            present = planned.get("duration") is not None or (planned.get("startDate") and planned.get("endDate"))
        except (KeyError, IndexError):
            present = False
        if not present:
            self.fail()


class BeneficiaryLocationNameButNoCode(_Check):
    heading = "Beneficiary location name found but no beneficiary location code (counted per location)"

    def process(self, grant: Grant) -> None:
        for location in grant.get("beneficiaryLocation", []):
            if location.get("name") and not location.get("geoCode"):
                self.fail()


class BeneficiaryButNotRecipientGeoData(_Check):
    heading = "Beneficiary location data found but no Recipient Organisation location data"
    relevance = _ORGANISATION

    def process(self, grant: Grant) -> None:
        if grant.get("recipientIndividual"):
            return
        if (
            len(grant.get("beneficiaryLocation", [])) > 0
            and not grant["recipientOrganization"][0].get("postalCode")
            and len(grant["recipientOrganization"][0].get("location", [])) == 0
        ):
            self.fail()


class RecipientGeoDataButNoBeneficiary(_Check):
    heading = "Recipient Organisation location data found but no Beneficiary location data"
    relevance = _ORGANISATION

    def process(self, grant: Grant) -> None:
        if grant.get("recipientIndividual"):
            return
        beneficiary_locations = grant.get("beneficiaryLocation", [])
        if len(grant["recipientOrganization"][0].get("location", [])) > 0 and len(beneficiary_locations) == 0:
            self.fail()


# --------------------------------------------------------------------------- the lists and runners

# The same classes, in the same order, as TEST_CLASSES in threesixtygiving.py.
ACCURACY_CHECKS: tuple[type[_Check], ...] = (
    ZeroAmountTest,
    FundingOrgUnrecognisedPrefix,
    RecipientOrgUnrecognisedPrefix,
    RecipientOrgCharityNumber,
    RecipientOrgCompanyNumber,
    OrganizationIdLooksInvalid,
    OrganizationIdUnexpectedChars,
    GrantIdUnexpectedChars,
    MoreThanOneFundingOrg,
    LooksLikeEmail,
    ImpossibleDates,
    PlannedStartDateBeforeEndDate,
    ActualStartDateBeforeEndDate,
    FarFuturePlannedDates,
    FarFutureActualDates,
    FarPastDates,
    PostDatedAwardDates,
    RecipientIndDEI,
    GeoCodePostcode,
    MultiFundingNamesForOrgId,
    MultiFundingOrgIdsForName,
)

USEFULNESS_CHECKS: tuple[type[_Check], ...] = (
    RecipientOrg360GPrefix,
    FundingOrg360GPrefix,
    NoRecipientOrgCompanyCharityNumber,
    IncompleteRecipientOrg,
    NoGrantProgramme,
    NoBeneficiaryLocation,
    TitleDescriptionSame,
    TitleLength,
    NoLastModified,
    NoDataSource,
    RecipientIndWithoutToIndividualsDetails,
    PlannedDurationNotPresent,
    BeneficiaryLocationNameButNoCode,
    BeneficiaryButNotRecipientGeoData,
    RecipientGeoDataButNoBeneficiary,
)

_PREFIX_CHECKS = (FundingOrgUnrecognisedPrefix, RecipientOrgUnrecognisedPrefix)


def _run(
    package: dict[str, Any],
    checks: tuple[type[_Check], ...],
    ctx: _Context,
    label: str,
) -> list[str]:
    """``run_extra_checks``: every check sees every grant; an exception the DQT swallows voids the whole list."""
    if "grants" not in package:
        return []
    grants = package["grants"]
    try:
        instances = [check(ctx) for check in checks]
        for grant in grants:
            for instance in instances:
                instance.process(grant)
    except _DQT_SWALLOWED as e:
        return [f"DQTChecksErrored: the DQT's {label} checks would error on this data ({type(e).__name__}: {e})"]
    individuals = sum(1 for grant in grants if grant.get("recipientIndividual"))
    findings = []
    for instance in instances:
        if instance.relevance == _INDIVIDUAL and individuals == 0:
            instance.count = 0  # AdditionalTest.get_heading_count resets this, but the check still shows
        if instance.failed:
            findings.append(instance.finding())
    return findings


def accuracy_findings(
    package: dict[str, Any],
    known_org_id_prefixes: set[str] | None = None,
    *,
    now: datetime.datetime | None = None,
) -> list[str]:
    """The DQT's ``quality_accuracy`` checks: one ``"<CheckClass>: <count> ..."`` string per failing check.

    ``known_org_id_prefixes`` is the org-id.guide list codes (``{"GB-CHC", "GB-COH", ...}``); as in the DQT,
    ``"360G"`` is always added and an identifier is recognised when it starts with any code, case-insensitively.
    When it is None the codes are read from ``grants/reference/org-id-prefixes.json``; when it is None *and*
    that file does not exist, FundingOrgUnrecognisedPrefix and RecipientOrgUnrecognisedPrefix are skipped
    (all the other checks still run). An explicit empty set is not skipped: then only 360G ids are recognised.

    ``now`` (naive, default ``datetime.now()``) is the clock for the future/past date checks.
    Returns an empty list for clean data.
    """
    prefixes = known_org_id_prefixes if known_org_id_prefixes is not None else load_org_id_prefixes()
    checks = ACCURACY_CHECKS
    if prefixes is None:
        checks = tuple(check for check in checks if check not in _PREFIX_CHECKS)
    else:
        prefixes = set(prefixes) | {"360G"}
    return _run(package, checks, _Context(prefixes, now or datetime.datetime.now()), "accuracy")


def usefulness_findings(package: dict[str, Any], *, now: datetime.datetime | None = None) -> list[str]:
    """The DQT's ``usefulness`` checks, in the same style as :func:`accuracy_findings`; empty when clean."""
    return _run(package, USEFULNESS_CHECKS, _Context(None, now or datetime.datetime.now()), "usefulness")


def duplicate_grant_ids(package: dict[str, Any]) -> set[str]:
    """Grant ids used more than once (the DQT's ``grants_aggregates["duplicate_ids"]``, not one of its checks)."""
    seen: set[str] = set()
    duplicates: set[str] = set()
    for grant in package.get("grants", []):
        grant_id = grant.get("id")
        if grant_id:
            if grant_id in seen:
                duplicates.add(grant_id)
            seen.add(grant_id)
    return duplicates
