"""Grants as 360Giving open data: a JSON package valid against the standard's package schema, and a spreadsheet
the 360Giving Data Quality Tool reads as it is (column titles as the standard names them; the notes sheet
carries flattentool's `ignore` line, so the tool skips it).

Each grant carries its recipient's registered identifier where it has one (org-id.guide), charity and company
numbers, postcode and district; the beneficiary location is the recipient's district (a CSP's area), or the
police force area when the district is not recorded. Rows are read once, as they stream in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from exports.text import clean_text
from exports.workbook import DATE, LONDON, MONEY, Column, ExportInfo, PeriodLike, Target, write_table_workbook

PFA = {"name": "Cambridgeshire", "geoCode": "E23000023", "geoCodeType": "PFA", "countryCode": "GB"}
SCHEMA_VERSION = "1.4"
OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
OGL_NAME = "Open Government Licence v3.0"
TITLE_LIMIT = 140  # the Data Quality Tool reports longer titles


class GrantRow(Protocol):
    """What a grant row must offer (grants.public.queries.PublishedGrant fits)."""

    @property
    def bid_id(self) -> int: ...
    @property
    def reference(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def recipient_id(self) -> int: ...
    @property
    def recipient_org_id(self) -> str | None: ...
    @property
    def charity_number(self) -> str | None: ...
    @property
    def company_number(self) -> str | None: ...
    @property
    def postcode(self) -> str | None: ...
    @property
    def district_code(self) -> str | None: ...
    @property
    def district_name(self) -> str | None: ...
    @property
    def fund_id(self) -> int: ...
    @property
    def fund(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def reasons(self) -> str: ...
    @property
    def amount_pence(self) -> int: ...
    @property
    def paid_pence(self) -> int: ...
    @property
    def award_date(self) -> date: ...
    @property
    def start_date(self) -> date | None: ...
    @property
    def end_date(self) -> date | None: ...
    @property
    def ended_on(self) -> date | None: ...
    @property
    def last_modified(self) -> datetime: ...


@dataclass(frozen=True)
class Publisher:
    """Who publishes, and where: the funder's identity and the public addresses of the grants."""

    prefix: str  # 360Giving publisher prefix, e.g. 360G-opcccambs
    org_id: str
    name: str
    website: str
    grant_url: Callable[[int], str]  # a grant's public page, from its bid id
    programme_url: Callable[[int], str]  # a fund's public list of grants, from its id

    def grant_id(self, row: GrantRow) -> str:
        return f"{self.prefix}-{row.reference}"

    def recipient_id(self, row: GrantRow) -> str:
        # Only an organisation on no register gets an identifier of our own.
        return row.recipient_org_id or f"{self.prefix}-ORG-{row.recipient_id}"


def iso_datetime(moment: datetime) -> str:
    # The standard wants a full date-time with its offset, which a spreadsheet cell cannot hold: written as text.
    return moment.astimezone(LONDON).isoformat(timespec="seconds")


def title(row: GrantRow) -> str:
    summary = " ".join(row.summary.split())
    return summary if len(summary) <= TITLE_LIMIT else summary[:TITLE_LIMIT - 1].rstrip() + "…"


def description(row: GrantRow) -> str:
    return f"{row.summary.strip()}\n\nWhy it will reduce crime and disorder: {row.reasons.strip()}"


def _location(row: GrantRow) -> dict[str, str]:
    if row.district_code and row.district_name:
        return {"name": row.district_name, "geoCode": row.district_code, "geoCodeType": "LAD", "countryCode": "GB"}
    return dict(PFA)


def _pounds(pence: int) -> int | float:
    return pence // 100 if pence % 100 == 0 else pence / 100


def _cleaned(value: Any) -> Any:
    """`value` with every string in it cleaned (exports.text): json.dumps would write U+FFFE as it is and fail
    on a lone surrogate, and the 360Giving tools turn the JSON into spreadsheets."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {key: _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value


def grant_json(row: GrantRow, publisher: Publisher) -> dict[str, Any]:
    """One grant as the 360Giving Data Standard's JSON has it."""
    recipient: dict[str, Any] = {"id": publisher.recipient_id(row), "name": row.recipient}
    if row.charity_number:
        recipient["charityNumber"] = row.charity_number
    if row.company_number:
        recipient["companyNumber"] = row.company_number
    if row.postcode:
        recipient["postalCode"] = row.postcode
    recipient["location"] = [_location(row)]
    grant: dict[str, Any] = {
        "id": publisher.grant_id(row),
        "title": title(row),
        "description": description(row),
        "currency": "GBP",
        "amountAwarded": _pounds(row.amount_pence),
        "awardDate": row.award_date.isoformat(),
        "recipientOrganization": [recipient],
        "fundingOrganization": [{"id": publisher.org_id, "name": publisher.name}],
        "beneficiaryLocation": [_location(row)],
        "grantProgramme": [{"code": f"{publisher.prefix}-FUND-{row.fund_id}", "title": row.fund,
                            "url": publisher.programme_url(row.fund_id)}],
        "fromOpenCall": "Yes",
        "dateModified": iso_datetime(row.last_modified),
        "dataSource": publisher.grant_url(row.bid_id),
        "url": publisher.grant_url(row.bid_id),
    }
    if row.paid_pence:
        grant["amountDisbursed"] = _pounds(row.paid_pence)
    if row.start_date and row.end_date:
        grant["plannedDates"] = [{"startDate": row.start_date.isoformat(), "endDate": row.end_date.isoformat()}]
    if row.ended_on and row.start_date:
        grant["actualDates"] = [{"startDate": row.start_date.isoformat(), "endDate": row.ended_on.isoformat()}]
    cleaned: dict[str, Any] = _cleaned(grant)
    return cleaned


@dataclass(frozen=True)
class PackageInfo:
    title: str
    description: str
    identifier: str
    made_at: datetime
    download_url: str
    access_url: str


def json_package(rows: Iterable[GrantRow], publisher: Publisher, info: PackageInfo) -> Iterator[str]:
    """The JSON package in pieces, one grant at a time, for streaming; the caller makes sure there is a grant
    (the schema asks for at least one)."""
    head = {
        "version": SCHEMA_VERSION,
        "title": info.title,
        "description": info.description,
        "identifier": info.identifier,
        "issued": iso_datetime(info.made_at),
        "modified": iso_datetime(info.made_at),
        "publisher": {"identifier": publisher.org_id, "name": publisher.name, "website": publisher.website},
        "license": OGL,
        "downloadURL": info.download_url,
        "accessURL": info.access_url,
    }
    yield json.dumps(_cleaned(head), ensure_ascii=False)[:-1] + ', "grants": ['
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(grant_json(row, publisher), ensure_ascii=False)
    yield "\n]}\n"


def columns(publisher: Publisher) -> list[Column]:
    """The spreadsheet's columns, titled as the standard's spreadsheet template titles them."""
    def location(key: str) -> Callable[[GrantRow], str]:
        return lambda r: _location(r)[key]

    return [
        Column("Identifier", publisher.grant_id, width=26),
        Column("Title", title, width=40),
        Column("Description", description, width=60),
        Column("Currency", lambda r: "GBP", width=10),
        Column("Amount Awarded", lambda r: r.amount_pence, MONEY),
        Column("Amount Disbursed", lambda r: r.paid_pence or None, MONEY),
        Column("Award Date", lambda r: r.award_date, DATE),
        Column("Planned Dates:Start Date", lambda r: r.start_date, DATE),
        Column("Planned Dates:End Date", lambda r: r.end_date, DATE),
        Column("Actual Dates:End Date", lambda r: r.ended_on, DATE),
        Column("Recipient Org:Identifier", publisher.recipient_id, width=28),
        Column("Recipient Org:Name", lambda r: r.recipient, width=40),
        Column("Recipient Org:Charity Number", lambda r: r.charity_number),
        Column("Recipient Org:Company Number", lambda r: r.company_number),
        Column("Recipient Org:Postal Code", lambda r: r.postcode),
        Column("Recipient Org:Location:0:Name", location("name")),
        Column("Recipient Org:Location:0:Geographic Code", location("geoCode")),
        Column("Recipient Org:Location:0:Geographic Code Type", location("geoCodeType")),
        Column("Recipient Org:Location:0:Country Code", location("countryCode")),
        Column("Beneficiary Location:Name", location("name")),
        Column("Beneficiary Location:Geographic Code", location("geoCode")),
        Column("Beneficiary Location:Geographic Code Type", location("geoCodeType")),
        Column("Beneficiary Location:Country Code", location("countryCode")),
        Column("Funding Org:Identifier", lambda r: publisher.org_id, width=26),
        Column("Funding Org:Name", lambda r: publisher.name, width=40),
        Column("Grant Programme:Code", lambda r: f"{publisher.prefix}-FUND-{r.fund_id}"),
        Column("Grant Programme:Title", lambda r: r.fund, width=28),
        Column("Grant Programme:URL", lambda r: publisher.programme_url(r.fund_id), width=40),
        Column("From An Open Call?", lambda r: "Yes"),
        Column("Last Modified", lambda r: iso_datetime(r.last_modified), width=26),
        Column("Data Source", lambda r: publisher.grant_url(r.bid_id), width=40),
    ]


def build_360giving(rows: Iterable[GrantRow], target: Target, *, period: PeriodLike, publisher: Publisher,
                    made_at: datetime) -> int:
    """Write the grants in 360Giving's spreadsheet layout; return the number of grants."""
    info = ExportInfo(
        title=f"360Giving grants data {period.label}",
        description=(f"Grants awarded by the {publisher.name}, {period.label}, in the 360Giving Data Standard's "
                     "spreadsheet layout (column titles as the standard names them)."),
        period=period, made_by=publisher.name, made_at=made_at, source=publisher.website,
        notes=(
            ("Licence", f"{OGL_NAME}: {OGL}"),
            ("Identifiers", f"Grant identifiers start with the publisher prefix {publisher.prefix}. Organisations on "
                            "no register are identified as "
                            f"{publisher.prefix}-ORG-<number>; every other identifier is from org-id.guide."),
            ("Locations", "The recipient's local authority district (ONS code, type LAD) or, where that is not "
                          f"recorded, the police force area: {PFA['name']} ({PFA['geoCode']}, type PFA)."),
            ("Last Modified", "A full date-time with its offset from UTC, as the standard asks."),
        ),
        skipped_by_data_tools=True,
    )
    return write_table_workbook(target, info, "grants", columns(publisher), rows)
