"""The return to a government department (Ministry of Justice or Home Office) on the grants it pays for:
one row per grant with its outcome measures, spend and payments for the period, a totals row, and a sheet
of each measure's total by category."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from exports.workbook import (
    DATE,
    INTEGER,
    MONEY,
    TEXT,
    Column,
    ExportInfo,
    PeriodLike,
    Sheet,
    Target,
    write_workbook,
)

if TYPE_CHECKING:
    from grants.finance.government import GovernmentReturn, MeasureColumn, StreamedReturn

_FIRST = [
    Column("Bid reference", lambda r: r.bid_reference, width=14),
    Column("Agreement reference", lambda r: r.agreement_reference),
    Column("Recipient", lambda r: r.recipient, width=40),
    Column("Fund", lambda r: r.fund, width=28),
    Column("Purpose", lambda r: r.purpose, width=40),
    Column("Award date", lambda r: r.award_date, DATE),
    Column("Agreement start", lambda r: r.agreement_start, DATE),
    Column("Agreement end", lambda r: r.agreement_end, DATE),
    Column("Agreement status", lambda r: r.agreement_status, width=18),
    Column("Amount awarded", lambda r: r.awarded_pence, MONEY, total=True),
    Column("Monitoring returns in the period", lambda r: r.returns, width=36),
]
_REPAYMENTS = [
    Column("Repayment outstanding at period end", lambda r: r.repayment_outstanding_pence, MONEY, total=True),
    Column("Repaid to period end", lambda r: r.repaid_to_period_end_pence, MONEY, total=True),
]
_MONEY_MOJ = [
    Column("Spend in period", lambda r: r.spend_pence, MONEY, total=True),
    Column("Paid in period", lambda r: r.paid_in_period_pence, MONEY, total=True),
    Column("Paid to period end", lambda r: r.paid_to_period_end_pence, MONEY, total=True),
    *_REPAYMENTS,
]
_MONEY_HOME_OFFICE = [
    Column("Grantee's rating (RAG)", lambda r: r.grantee_rag, width=12),
    Column("Officer's rating (RAG)", lambda r: r.officer_rag, width=12),
    Column("Profile in period", lambda r: r.profile_pence, MONEY, total=True),
    Column("Spend in period", lambda r: r.spend_pence, MONEY, total=True),
    Column("Capital spend in period", lambda r: r.capital_spend_pence, MONEY, total=True),
    Column("Revenue spend in period", lambda r: r.revenue_spend_pence, MONEY, total=True),
    Column("Variance (profile less spend)", lambda r: r.variance_pence, MONEY, total=True),
    Column("Spend to period end", lambda r: r.spend_to_period_end_pence, MONEY, total=True),
    Column("Profile to period end", lambda r: r.profile_to_period_end_pence, MONEY, total=True),
    Column("Forecast spend to 31 March", lambda r: r.forecast_to_year_end_pence, MONEY, total=True),
    Column("Profile for the financial year", lambda r: r.year_profile_pence, MONEY, total=True),
    Column("Underspend", lambda r: "Yes" if r.underspend else "No", width=12),
    Column("Paid in period", lambda r: r.paid_in_period_pence, MONEY, total=True),
    Column("Paid to period end", lambda r: r.paid_to_period_end_pence, MONEY, total=True),
    *_REPAYMENTS,
]
_UNIT_KIND = {"count": INTEGER, "money": MONEY, "percentage": INTEGER, "yes_no": TEXT}
_UNIT_SUFFIX = {"count": "", "money": "", "percentage": " (%)", "yes_no": " (yes/no)"}
HOW_ADDED = {
    "Number": "Sum over the grants",
    "Money": "Sum over the grants",
    "Percentage": "Average of the grants that answered",
    "Yes or no": "Number of grants answering yes",
}
_TOTALS = [
    Column("Category", lambda t: t.category, width=24),
    Column("Measure", lambda t: t.measure, width=50),
    Column("Unit", lambda t: t.unit, width=12),
    Column("Total", lambda t: t.total if t.unit != "Money" else None, INTEGER),
    Column("Total (money)", lambda t: t.total if t.unit == "Money" else None, MONEY),
    Column("Grants answering", lambda t: t.grants_answering, INTEGER),
    Column("How added up", lambda t: HOW_ADDED[t.unit], width=36),
]


def _measure_column(m: MeasureColumn) -> Column:
    def value(row: Any) -> Any:
        answer = row.measures.get(m.measure_id)
        if answer is None or m.unit != "yes_no":
            return answer
        return "Yes" if answer else "No"

    return Column(f"{m.title}{_UNIT_SUFFIX[m.unit]}", value, _UNIT_KIND[m.unit], width=22,
                  total=m.unit in ("count", "money"))


def columns_for(data: GovernmentReturn | StreamedReturn) -> Sequence[Column]:
    measures = [_measure_column(m) for m in data.measures]
    money = _MONEY_HOME_OFFICE if data.source == "home_office" else _MONEY_MOJ
    return [*_FIRST, *money, *measures]


NOTES = (
    ("Which grants", "Grants from funds paid for by this department whose accepted agreement runs during the "
                     "period and had not been closed or terminated before the period began, and awards made in "
                     "the period whose agreement is not accepted yet."),
    ("Outcome measures", "From the grantee's monitoring returns for reporting periods inside this period that have "
                         "been submitted (accepted, or waiting for the OPCC's review). Numbers and money are added "
                         "up across the periods; a percentage or a yes/no is the latest period's answer."),
    ("Spend", "Spend reported against the approved budget lines, capital and revenue apart."),
    ("Paid", "Payments recorded as paid, by payment date: in the period, and from the start to the period's end."),
    ("Repayments", "Money the grantee was asked to repay: what was still owed at the period's end (asked for by "
                   "then, less what had been received by then; nothing once written off), and what had been "
                   "repaid by then."),
    ("Profile", "The payment schedule: payments scheduled or made (not cancelled), by due date. Variance is the "
                "profile less the spend; an underspend is spend to date behind its profile, or a forecast for the "
                "financial year short of the year's profile (Home Office money does not carry over past 31 March)."),
    ("As at", "Figures are as at the period's end, so making this return again gives the same figures unless the "
              "period's own records change. Statuses read as on the system's pages on the day the file was made."),
)


def build_government_return(data: GovernmentReturn | StreamedReturn, target: Target, *, source_name: str, period: PeriodLike,
                            made_by: str, made_at: datetime | None = None) -> int:
    """Write the return for one department (`source_name`, e.g. "Ministry of Justice") and period."""
    info = ExportInfo(
        title=f"{source_name} grant return {period.label}",
        description=(f"Grants funded by the {source_name} that were live in {period.label}: recipient, purpose, "
                     "amount awarded, outcome measures, spend and payments for the period, with totals."),
        period=period, made_by=made_by, made_at=made_at or datetime.now(UTC), notes=NOTES,
    )
    return write_workbook(target, info, [
        Sheet("Grants", columns_for(data), data.rows, totals_label="Total"),
        Sheet("Measure totals", _TOTALS, data.category_totals),
    ])
