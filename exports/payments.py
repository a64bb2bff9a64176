"""Payments due or made in a period, for reconciling with the finance ledger."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exports.workbook import DATE, MONEY, Column, ExportInfo, PeriodLike, Target, write_table_workbook

if TYPE_CHECKING:
    from grants.finance.reports import PaymentRow

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


def build_payments(rows: Iterable[PaymentRow], target: Target, *, period: PeriodLike, made_by: str,
                   made_at: datetime | None = None) -> int:
    """Write every payment due or paid in `period` (scheduled, paid and cancelled alike)."""
    info = ExportInfo(
        title=f"Grant payments {period.label}",
        description=(f"Every grant payment due or paid in {period.label}, whatever its status "
                     "(scheduled, paid or cancelled). One row per payment."),
        period=period, made_by=made_by, made_at=made_at or datetime.now(UTC),
    )
    return write_table_workbook(target, info, "Payments", COLUMNS, rows)
