"""Grants as 360Giving open data: one sheet whose column titles are the 360Giving Data Standard's.

Required per grant: Identifier, Title, Description, Currency, Amount Awarded, Award Date, one recipient
organisation and the funding organisation. Beneficiary location is the police force area
(PFA E23000023, Cambridgeshire, which includes Peterborough).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exports.workbook import (
    DATE,
    LONDON,
    MONEY,
    Column,
    ExportInfo,
    PeriodLike,
    Target,
    write_table_workbook,
)

if TYPE_CHECKING:
    from grants.finance.reports import GrantsRegisterRow

PFA_NAME = "Cambridgeshire"
PFA_CODE = "E23000023"


def recipient_org_id(row: GrantsRegisterRow, prefix: str) -> str:
    """The organisation's org-id (GB-LAE-..., GB-CHC-...) if recorded, else one under our own 360G prefix."""
    return row.org_identifier or f"{prefix}-ORG-{row.organisation_id}"


def iso_datetime(moment: datetime) -> str:
    # Written as text: the standard wants a full date-time with its offset, which a spreadsheet cell cannot hold.
    return moment.astimezone(LONDON).isoformat(timespec="seconds")


def columns(prefix: str, funding_org_id: str, funding_org_name: str) -> list[Column]:
    return [
        Column("Identifier", lambda r: r.grant_id, width=26),
        Column("Title", lambda r: r.title, width=40),
        Column("Description", lambda r: r.description or r.title, width=60),
        Column("Currency", lambda r: "GBP", width=10),
        Column("Amount Applied For", lambda r: r.requested_pence, MONEY),
        Column("Amount Awarded", lambda r: r.awarded_pence, MONEY),
        Column("Award Date", lambda r: r.award_date, DATE),
        Column("Planned Dates:Start Date", lambda r: r.agreement_start, DATE),
        Column("Planned Dates:End Date", lambda r: r.agreement_end, DATE),
        Column("Recipient Org:Identifier", lambda r: recipient_org_id(r, prefix), width=28),
        Column("Recipient Org:Name", lambda r: r.organisation, width=40),
        Column("Beneficiary Location:Name", lambda r: PFA_NAME),
        Column("Beneficiary Location:Geographic Code", lambda r: PFA_CODE),
        Column("Beneficiary Location:Geographic Code Type", lambda r: "PFA"),
        Column("Funding Org:Identifier", lambda r: funding_org_id, width=26),
        Column("Funding Org:Name", lambda r: funding_org_name, width=40),
        Column("Grant Programme:Title", lambda r: r.fund, width=28),
        Column("Last Modified", lambda r: iso_datetime(r.last_modified), width=26),
    ]


def build_360giving(rows: Iterable[GrantsRegisterRow], target: Target, *, period: PeriodLike, grant_id_prefix: str,
                    funding_org_id: str, funding_org_name: str, made_by: str, made_at: datetime | None = None) -> int:
    """Write one financial year's awards in 360Giving's spreadsheet layout; return the number of grants."""
    info = ExportInfo(
        title=f"360Giving grants data {period.label}",
        description=(f"Grants awarded from {period.label} fund-years, in the 360Giving Data Standard's "
                     "spreadsheet layout (column titles as the standard names them), ready to publish as open data."),
        period=period, made_by=made_by, made_at=made_at or datetime.now(UTC),
        notes=(
            ("Identifiers", f"Grant identifiers start with the publisher prefix {grant_id_prefix}. Organisations "
                            f"without an org-id code are identified as {grant_id_prefix}-ORG-<number>."),
            ("Beneficiary location", f"The police force area: {PFA_NAME} ({PFA_CODE}, code type PFA)."),
            ("Last Modified", "A full date-time with its offset from UTC, as the standard asks."),
        ),
    )
    return write_table_workbook(target, info, "grants", columns(grant_id_prefix, funding_org_id, funding_org_name),
                                rows)
