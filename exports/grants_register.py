"""The grants register: every award in a financial year, with its agreement, payments and monitoring returns."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exports.workbook import DATE, INTEGER, MONEY, Column, ExportInfo, PeriodLike, Target, write_table_workbook

if TYPE_CHECKING:
    from grants.finance.reports import GrantsRegisterRow

TITLE = "Grants register"

COLUMNS = [
    Column("Grant identifier", lambda r: r.grant_id, width=26),
    Column("Bid reference", lambda r: r.bid_reference, width=14),
    Column("Organisation", lambda r: r.organisation, width=40),
    Column("Organisation identifier", lambda r: r.org_identifier, width=24),
    Column("Fund", lambda r: r.fund, width=28),
    Column("Funding source", lambda r: r.funding_source, width=20),
    Column("Title", lambda r: r.title, width=40),
    Column("Theme", lambda r: r.theme, width=22),
    Column("Location", lambda r: r.location, width=28),
    Column("Award date", lambda r: r.award_date, DATE),
    Column("Amount requested", lambda r: r.requested_pence, MONEY),
    Column("Amount awarded", lambda r: r.awarded_pence, MONEY),
    Column("Agreement reference", lambda r: r.agreement_reference),
    Column("Agreement status", lambda r: r.agreement_status, width=18),
    Column("Agreement start", lambda r: r.agreement_start, DATE),
    Column("Agreement end", lambda r: r.agreement_end, DATE),
    Column("Paid to date", lambda r: r.paid_pence, MONEY),
    Column("Scheduled, not yet paid", lambda r: r.scheduled_pence, MONEY),
    Column("Repayment asked for", lambda r: r.repayment_asked_pence, MONEY),
    Column("Repaid", lambda r: r.repaid_pence, MONEY),
    Column("Repayment written off", lambda r: r.repayment_written_off_pence, MONEY),
    Column("Repayment outstanding", lambda r: r.repayment_outstanding_pence, MONEY),
    Column("Close-out: reported spend", lambda r: r.close_out and r.close_out.spent_pence, MONEY),
    Column("Close-out: underspend", lambda r: r.close_out and r.close_out.underspend_pence, MONEY),
    Column("Close-out: released to budget", lambda r: r.close_out and r.close_out.released_pence, MONEY),
    Column("Returns due", lambda r: r.returns_due, INTEGER),
    Column("Returns submitted", lambda r: r.returns_submitted, INTEGER),
    Column("Returns accepted", lambda r: r.returns_accepted, INTEGER),
    Column("Returns overdue", lambda r: r.returns_overdue, INTEGER),
]

NOTES = (
    ("Amount requested", "The total of the bid's budget lines."),
    ("Paid to date", "Payments recorded as paid, whenever they were paid."),
    ("Scheduled, not yet paid", "Payments scheduled and not yet paid (cancelled payments are left out)."),
    ("Repayment asked for", "Money the grantee has been asked to repay under the agreement's conditions, in all; "
                            "the repayment columns are blank when none has been asked for."),
    ("Repaid", "Money received from the grantee against its repayments."),
    ("Repayment written off", "What finance wrote off as not to be collected."),
    ("Repayment outstanding", "What is still owed: asked for, less repaid and written off."),
    ("Close-out", "Kept when the grant was closed or terminated (blank before): the spend reported in the accepted "
                  "monitoring returns, the underspend (paid and not reported as spent), and the commitment given "
                  "back to the fund-year's budget (the grant less what was paid, plus what is to be repaid)."),
    ("Returns due", "Monitoring returns waiting for the grantee: not yet sent, or returned for changes."),
    ("Returns submitted", "Returns sent (or sent again) and waiting for an officer's review."),
    ("Returns overdue", "Returns due whose due date had passed on the day the file was made."),
)


def build_grants_register(rows: Iterable[GrantsRegisterRow], target: Target, *, period: PeriodLike, made_by: str,
                          made_at: datetime | None = None) -> int:
    """Write the register for one financial year (`period` is that whole year); return the number of grants."""
    info = ExportInfo(
        title=f"{TITLE} {period.label}",
        description=(f"Every grant awarded from a {period.label} fund-year: recipient, amount, agreement, "
                     "payments and monitoring returns. One row per award."),
        period=period, made_by=made_by, made_at=made_at or datetime.now(UTC), notes=NOTES,
    )
    return write_table_workbook(target, info, "Grants", COLUMNS, rows)
