"""What every exported workbook shares: streaming sheets, an About sheet, real dates and money, safe text.

Workbooks are written in openpyxl's write-only mode: each row goes to a temporary file as it is appended and
strings are written inline, so memory stays flat however many rows there are. Column widths and frozen panes
must therefore be set before the first row, and the autofilter once the row count is known.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from os import PathLike
from typing import IO, Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from exports.formats import LONDON
from exports.text import clean_text, starts_like_formula

SPREADSHEET_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
MONEY_FORMAT = "£#,##0.00"
EXCEL_TEXT_LIMIT = 32_767  # characters in one cell; Excel reports a longer one as a damaged file

TEXT, MONEY, DATE, DATETIME, INTEGER = "text", "money", "date", "datetime", "integer"
_DEFAULT_WIDTHS = {TEXT: 24, MONEY: 14, DATE: 12, DATETIME: 17, INTEGER: 10}

BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")

Target = str | PathLike[str] | IO[bytes]


def cell_text(value: object) -> str:
    """Text as a cell holds it: exactly as typed, less the characters XML 1.0 forbids, within Excel's limit."""
    return clean_text(str(value))[:EXCEL_TEXT_LIMIT]


def needs_quote_prefix(text: str) -> bool:
    """Whether a spreadsheet would read `text` as other than text once someone edits the cell: a formula, or
    an error value such as #N/A (which openpyxl itself would write as an error)."""
    return starts_like_formula(text) or text in ERROR_CODES


def _string_cell(ws: WriteOnlyWorksheet, text: str) -> Any:
    """A cell holding `text` as a string, never a formula, with the text's exact value.

    A string cell in an .xlsx never runs as a formula; the risk is someone editing it in Excel or LibreOffice,
    which then reads what is shown as if typed. The quote-prefix style (quotePrefix="1" on the cell's format)
    keeps it text then too, as a typed leading apostrophe would, without putting an apostrophe in the value."""
    c = WriteOnlyCell(ws, text)
    c.data_type = "s"  # set after the value, which would otherwise make "=..." a formula
    if needs_quote_prefix(text):
        c.quotePrefix = True
    return c


def pounds(pence: int) -> Decimal:
    """Exact pounds from integer pence (never a float): 500050 -> Decimal('5000.50')."""
    return Decimal(pence).scaleb(-2)


def excel_local(moment: datetime) -> datetime:
    """Excel has no time zones: show UK clock time, without the zone."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(LONDON).replace(tzinfo=None)
    return moment


@dataclass(frozen=True)
class Column:
    """One column of a data sheet: its title, how to read the value from a row, and what kind of value it is."""

    title: str
    get: Callable[[Any], Any]
    kind: str = TEXT
    width: float | None = None
    total: bool = False  # summed in the sheet's totals row, if it has one


@dataclass(frozen=True)
class Sheet:
    """A data sheet: one row per item of `rows` (streamed), and a totals row when `totals_label` is given."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Any]
    totals_label: str | None = None


class PeriodLike(Protocol):
    """What a builder needs of a reporting period (grants.core.dates.Period fits)."""

    @property
    def label(self) -> str: ...
    @property
    def start(self) -> date: ...
    @property
    def end(self) -> date: ...


@dataclass(frozen=True)
class ExportInfo:
    """What the About sheet says: what the file is, for which period, made when and by whom."""

    title: str
    description: str
    period: PeriodLike | None  # None for a list as it stands when made, which covers no period
    made_by: str
    made_at: datetime
    source: str = "OPCC Grants, Office of the Police and Crime Commissioner for Cambridgeshire and Peterborough"
    notes: Sequence[tuple[str, str]] = field(default_factory=tuple)
    # Open with flattentool's "ignore" line, so tools that read every sheet as data (the 360Giving Data
    # Quality Tool) skip the About sheet.
    skipped_by_data_tools: bool = False


def cell(ws: WriteOnlyWorksheet, value: Any, kind: str = TEXT, *, bold: bool = False) -> Any:
    """A typed cell value. Text always ends up a string cell with its exact value, so nothing a person typed
    becomes a formula.

    Unstyled text and whole numbers are returned as plain values: openpyxl then reuses one cell object for
    them, which is most of the saving on a large sheet. Everything with a format gets its own cell."""
    if value is None or value == "":
        return None
    if kind == TEXT:
        text = cell_text(value)
        if not text:
            return None
        if not bold and not needs_quote_prefix(text):
            return text
        c = _string_cell(ws, text)
        if bold:
            c.font = BOLD
        return c
    if kind == INTEGER and not bold:
        return int(value)
    c = WriteOnlyCell(ws)
    if kind == MONEY:
        c.value = pounds(value)
        c.number_format = MONEY_FORMAT
    elif kind == DATE:
        c.value = value.astimezone(LONDON).date() if isinstance(value, datetime) else value
        c.number_format = DATE_FORMAT
    elif kind == DATETIME:
        c.value = excel_local(value)
        c.number_format = DATETIME_FORMAT
    else:  # INTEGER
        c.value = int(value)
    if bold:
        c.font = BOLD
    return c


def _text_cell(ws: WriteOnlyWorksheet, value: str, *, bold: bool = False, wrap: bool = False) -> Any:
    """About-sheet text, bold or wrapped, so always a cell of its own."""
    text = cell_text(value) if value is not None else ""
    if not text:
        return None
    c = _string_cell(ws, text)
    if bold:
        c.font = BOLD
    if wrap:
        c.alignment = WRAP
    return c


def write_table_workbook(target: Target, info: ExportInfo, sheet_title: str, columns: Sequence[Column],
                         rows: Iterable[Any]) -> int:
    """Write a data sheet (one row per item of `rows`, streamed) and an About sheet; return the number of rows."""
    return write_workbook(target, info, [Sheet(sheet_title, columns, rows)])


def write_workbook(target: Target, info: ExportInfo, sheets: Sequence[Sheet]) -> int:
    """Write the data sheets, then an About sheet; return the number of rows of the first sheet.

    The data sheets come first so the main one opens first and tools reading the first sheet find the data."""
    if isinstance(target, str | PathLike):
        with open(target, "wb") as out:  # opened first, so a bad path fails before any work is done
            return write_workbook(out, info, sheets)
    wb = Workbook(write_only=True)
    wb.properties.title = clean_text(info.title)
    wb.properties.creator = clean_text(info.made_by)
    try:
        counts = [_write_sheet(wb, sheet) for sheet in sheets]
        write_about_sheet(wb, info, sheets[0].title, counts[0])
        wb.save(target)
    except BaseException:
        _discard(wb)
        raise
    return counts[0]


def _write_sheet(wb: Workbook, sheet: Sheet) -> int:
    columns = sheet.columns
    ws = wb.create_sheet(sheet.title[:31])
    for index, column in enumerate(columns, 1):
        width = column.width or max(_DEFAULT_WIDTHS[column.kind], len(column.title) + 3)
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"  # written with the sheet's top, so before the first row
    ws.append([cell(ws, column.title, bold=True) for column in columns])
    totals = [0] * len(columns)
    count = 0
    for row in sheet.rows:
        values = [column.get(row) for column in columns]
        ws.append([cell(ws, value, column.kind) for value, column in zip(values, columns, strict=True)])
        for index, (value, column) in enumerate(zip(values, columns, strict=True)):
            if column.total and isinstance(value, int):
                totals[index] += value
        count += 1
    # The filter covers the header and every data row (just the header when there are none), not the totals.
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    if sheet.totals_label is not None:
        ws.append([cell(ws, sheet.totals_label, bold=True),
                   *[cell(ws, totals[i], column.kind, bold=True) if column.total else None
                     for i, column in enumerate(columns) if i > 0]])
    return count


def _discard(wb: Workbook) -> None:
    """After a failure, finish each streamed sheet and delete its temporary file now.

    Otherwise openpyxl leaves the files until the process exits (a long time for a web server) and its
    row writers complain when garbage collected. Uses openpyxl 3.1 internals, hence the guard."""
    for ws in wb.worksheets:
        try:
            if not ws.closed:
                ws.close()
        except Exception:  # a sheet that failed half way may not close cleanly; removing its file is what matters
            pass
        path = getattr(getattr(ws, "_writer", None), "out", None)
        if isinstance(path, str) and os.path.exists(path):
            os.remove(path)


def write_about_sheet(wb: Workbook, info: ExportInfo, sheet_title: str, count: int) -> None:
    about = wb.create_sheet("About")
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 90
    if info.skipped_by_data_tools:
        about.append(["#", "ignore", "(This line tells data tools to skip this sheet.)"])
    about.append([_text_cell(about, info.title, bold=True)])
    about.append([])
    facts: list[tuple[str, Any, str]] = [("What this file is", info.description, TEXT)]
    if info.period is not None:
        facts += [("Period", info.period.label, TEXT), ("Period starts", info.period.start, DATE),
                  ("Period ends", info.period.end, DATE)]
    facts += [
        ("Made on (UK time)", info.made_at, DATETIME),
        ("Made by", info.made_by, TEXT),
        ("Rows of data", count, INTEGER),
        ("Data sheet", sheet_title[:31], TEXT),
        ("Money", "Pounds sterling (GBP), exact to the penny.", TEXT),
        ("Dates", "Real spreadsheet dates, shown as day/month/year.", TEXT),
        ("Produced by", info.source, TEXT),
    ]
    for label, value, kind in facts:
        value_cell = _text_cell(about, value, wrap=True) if kind == TEXT else cell(about, value, kind)
        about.append([_text_cell(about, label, bold=True), value_cell])
    for label, text in info.notes:
        about.append([_text_cell(about, label, bold=True), _text_cell(about, text, wrap=True)])
