"""Payments due or made in a period, for reconciling with the finance ledger; money grantees repaid in the
period is on a sheet of its own, never added to the payments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exports.workbook import DATE, MONEY, Column, ExportInfo, PeriodLike, Sheet, Target, write_workbook

if TYPE_CHECKING:
    from grants.finance.reports import PaymentRow, ReceiptRow

COLUMNS = [
    Column("Payment reference", lambda r: r.payment_reference, width=16),
    Column("Agreement reference", lambda r: r.agreement_reference),
    Column("Bid reference", lambda r: r.bid_reference, width=14),
    Column("Organisation", lambda r: r.organisation, width=40),
    Column("Fund", lambda r: r.fund, width=28),
    Column("Funding source", lambda r: r.funding_source, width=20),
    Column("Amount", lambda r: r.amount_pence, MONEY),
    Column("Due on", lambda r: r.due_on, DATE),
    Column("Status", lambda r: r.status, width=12),
    Column("Paid on", lambda r: r.paid_on, DATE),
    Column("Finance reference", lambda r: r.finance_reference, width=20),
    Column("Note", lambda r: r.note, width=40),
]
RECEIPTS_SHEET = "Repayments received"
RECEIPT_COLUMNS = [
    Column("Repayment reference", lambda r: r.repayment_reference, width=18),
    Column("Agreement reference", lambda r: r.agreement_reference),
    Column("Bid reference", lambda r: r.bid_reference, width=14),
    Column("Organisation", lambda r: r.organisation, width=40),
    Column("Fund", lambda r: r.fund, width=28),
    Column("Funding source", lambda r: r.funding_source, width=20),
    Column("Amount received", lambda r: r.amount_pence, MONEY, width=16),
    Column("Received on", lambda r: r.received_on, DATE),
    Column("Finance reference", lambda r: r.finance_reference, width=20),
    Column("Repayment status", lambda r: r.repayment_status, width=16),
]
NOTES = (
    ("Payments", "Money paid out to grantees: every payment due or paid in the period, scheduled, paid or cancelled."),
    (RECEIPTS_SHEET, "Money grantees paid back in the period against repayments they were asked for: money in, on "
                     "its own sheet, never added to the payments out."),
)


def build_payments(rows: Iterable[PaymentRow], target: Target, *, period: PeriodLike, made_by: str,
                   made_at: datetime | None = None, receipts: Iterable[ReceiptRow] = ()) -> int:
    """Write every payment due or paid in `period` (scheduled, paid and cancelled alike), and on a sheet of their
    own the repayments received in it; return the number of payments."""
    info = ExportInfo(
        title=f"Grant payments {period.label}",
        description=(f"Every grant payment due or paid in {period.label}, whatever its status "
                     "(scheduled, paid or cancelled). One row per payment. Money repaid by grantees in the period "
                     f"is on the {RECEIPTS_SHEET} sheet."),
        period=period, made_by=made_by, made_at=made_at or datetime.now(UTC), notes=NOTES,
    )
    return write_workbook(target, info, [Sheet("Payments", COLUMNS, rows),
                                         Sheet(RECEIPTS_SHEET, RECEIPT_COLUMNS, receipts)])
