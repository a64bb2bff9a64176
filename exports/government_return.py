"""The return to a government department (Ministry of Justice or Home Office) on the grants it pays for."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exports.workbook import DATE, INTEGER, MONEY, Column, ExportInfo, PeriodLike, Target, write_table_workbook

if TYPE_CHECKING:
    from grants.finance.reports import GovernmentReturnRow

COLUMNS = [
    Column("Bid reference", lambda r: r.bid_reference, width=14),
    Column("Agreement reference", lambda r: r.agreement_reference),
    Column("Recipient", lambda r: r.recipient, width=40),
    Column("Fund", lambda r: r.fund, width=28),
    Column("Purpose", lambda r: r.purpose, width=40),
    Column("Award date", lambda r: r.award_date, DATE),
    Column("Agreement start", lambda r: r.agreement_start, DATE),
    Column("Agreement end", lambda r: r.agreement_end, DATE),
    Column("Amount awarded", lambda r: r.awarded_pence, MONEY),
    Column("Paid in period", lambda r: r.paid_in_period_pence, MONEY),
    Column("Paid to date", lambda r: r.paid_to_date_pence, MONEY),
    Column("Monitoring return status", lambda r: r.return_status, width=18),
    Column("Return submitted", lambda r: r.return_submitted_on, DATE),
    Column("People reached", lambda r: r.people_reached, INTEGER),
    Column("Spent (per return)", lambda r: r.spent_pence, MONEY),
    Column("Outputs achieved", lambda r: r.outputs_achieved, width=50),
    Column("Outcomes achieved", lambda r: r.outcomes_achieved, width=50),
]

NOTES = (
    ("Which grants", "Grants from funds paid for by this department whose accepted agreement runs during the "
                     "period, and awards made in the period whose agreement is not yet accepted."),
    ("Paid in period", "Payments recorded as paid with a payment date inside the period."),
    ("Paid to date", "Every payment recorded as paid so far, whenever it was paid."),
    ("Monitoring return", "The grantee's outcome return covering exactly this period, if there is one; "
                          "blank when no return covers it."),
)


def build_government_return(rows: Iterable[GovernmentReturnRow], target: Target, *, source_name: str,
                            period: PeriodLike, made_by: str, made_at: datetime | None = None) -> int:
    """Write the return for one department (`source_name`, e.g. "Ministry of Justice") and period."""
    info = ExportInfo(
        title=f"{source_name} grant return {period.label}",
        description=(f"Grants funded by the {source_name} that were live in {period.label}: recipient, purpose, "
                     "amount awarded, payments, and the outcomes reported by the grantee for the period."),
        period=period, made_by=made_by, made_at=made_at or datetime.now(UTC), notes=NOTES,
    )
    return write_table_workbook(target, info, "Grants", COLUMNS, rows)
