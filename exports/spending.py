"""Grant payments over £500 in a financial year, as open data: a CSV file and a workbook from the same columns.

Published under the Elected Local Policing Bodies (Specified Information) Order 2011, Schedule 1 para 3(g).
Both builders take the rows (any iterable, read once, streamed) and never a web request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from exports.text import clean_text, starts_like_formula
from exports.threesixty_giving import OGL, OGL_NAME
from exports.workbook import (
    DATE,
    MONEY,
    TEXT,
    Column,
    ExportInfo,
    PeriodLike,
    Target,
    pounds,
    write_table_workbook,
)

if TYPE_CHECKING:
    from grants.public.spending_queries import SpendingItem

SHEET_TITLE = "Spending over £500"

COLUMNS = [
    Column("Date paid", lambda r: r.paid_on, DATE),
    Column("Payee", lambda r: r.payee, width=40),
    Column("Fund", lambda r: r.fund, width=28),
    Column("Purpose", lambda r: r.purpose, width=60),
    Column("Amount", lambda r: r.amount_pence, MONEY),
]
# The CSV says its units in the header, since a plain number carries no currency.
CSV_HEADER = ["Date paid", "Payee", "Fund", "Purpose", "Amount (GBP)"]
BOM = "\ufeff"  # so Excel reads the file as UTF-8


def csv_text(value: object) -> str:
    """Text for a CSV field: the characters XML 1.0 forbids removed and, when it would start a formula, a
    leading apostrophe.

    A CSV field cannot carry a style, and a spreadsheet opening a CSV file reads each field as if typed in, so
    `=HYPERLINK(...)` would run. OWASP's CSV injection advice is to prefix such a field with an apostrophe; it
    changes the value, so the workbook download, which keeps each value exactly, is the one to use for matching."""
    text = clean_text(str(value))
    return "'" + text if starts_like_formula(text) else text


def csv_value(value: Any, kind: str) -> str:
    """A CSV field: dates as YYYY-MM-DD, money as exact pounds (1234.50), text safe from formulas."""
    if value is None:
        return ""
    if kind == DATE:
        return value.isoformat() if isinstance(value, date) else csv_text(value)
    if kind == MONEY:
        return str(pounds(value))
    return csv_text(value) if kind == TEXT else str(value)


def spending_csv(rows: Iterable[SpendingItem]) -> Iterator[str]:
    """The CSV file in pieces, a line at a time (the first starting with a byte order mark), for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(fields: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(fields)
        return buffer.getvalue()

    yield BOM + line(CSV_HEADER)
    for row in rows:
        yield line([csv_value(column.get(row), column.kind) for column in COLUMNS])


def build_spending(rows: Iterable[SpendingItem], target: Target, *, period: PeriodLike, publisher: str,
                   made_at: datetime | None = None) -> int:
    """Write the payments over £500 paid in `period` to a workbook; return the number of rows."""
    info = ExportInfo(
        title=f"Grant payments over £500, {period.label}",
        description=(f"Each grant payment of more than £500 paid in {period.label}: the date paid, the payee "
                     "organisation, the fund, the purpose as published by the OPCC, and the amount. One row per "
                     "payment. Published under the Elected Local Policing Bodies (Specified Information) Order 2011, "
                     "Schedule 1 paragraph 3(g)."),
        period=period, made_by=publisher, made_at=made_at or datetime.now(UTC),
        notes=(("Licence", f"{OGL_NAME}: {OGL}"),),
    )
    return write_table_workbook(target, info, SHEET_TITLE, COLUMNS, rows)
