"""What every exported workbook shares: streaming sheets, an About sheet, real dates and money, safe text.

Workbooks are written with XlsxWriter in its constant_memory mode: each row goes to a temporary file once the
next row starts and strings are written inline, so memory stays flat however many rows there are, and rows must
be written in order, top to bottom. Column widths, frozen panes and the autofilter are kept apart from the rows and
written when the workbook is closed, so they can be set at any time. The temporary files live in a directory of
their own, removed when the workbook is finished or fails part-way; a small workbook is put together in memory.
Every text goes in as a string cell with its exact value (see _Worksheet and _Cells).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from os import PathLike
from typing import IO, Any, Protocol

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format
from xlsxwriter.utility import _preserve_whitespace
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from exports.formats import LONDON
from exports.text import clean_text, starts_like_formula

SPREADSHEET_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
MONEY_FORMAT = "£#,##0.00"
EXCEL_TEXT_LIMIT = 32_767  # characters in one cell; Excel reports a longer one as a damaged file
SHEET_TITLE_LIMIT = 31  # characters in a sheet's name
# A workbook whose rows make less XML than this is put together in memory when it is closed, saving the temporary
# file XlsxWriter otherwise writes for each of the file's dozen parts (on some disks removing a file costs a
# millisecond, more than writing a small export); a larger one goes through temporary files, so memory stays flat.
PACKED_IN_MEMORY = 512 * 1024  # bytes

# The error values a spreadsheet reads typed text as (as Excel writes them in a file).
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")

TEXT, MONEY, DATE, DATETIME, INTEGER = "text", "money", "date", "datetime", "integer"
_DEFAULT_WIDTHS = {TEXT: 24, MONEY: 14, DATE: 12, DATETIME: 17, INTEGER: 10}
_NUMBER_FORMATS = {MONEY: MONEY_FORMAT, DATE: DATE_FORMAT, DATETIME: DATETIME_FORMAT}

Target = str | PathLike[str] | IO[bytes]


def cell_text(value: object) -> str:
    """Text as a cell holds it: exactly as typed, less the characters XML 1.0 forbids, within Excel's limit."""
    return clean_text(str(value))[:EXCEL_TEXT_LIMIT]


def needs_quote_prefix(text: str) -> bool:
    """Whether a spreadsheet would read `text` as other than text once someone edits the cell: a formula, or
    an error value such as #N/A."""
    return starts_like_formula(text) or text in ERROR_CODES


def pounds(pence: int) -> Decimal:
    """Exact pounds from integer pence (never a float): 500050 -> Decimal('5000.50').

    Written to a cell as it is: the file then holds the decimal text "5000.50", which a spreadsheet reads as the
    nearest double, so every amount up to 16 digits comes back exact to the penny."""
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


class _Worksheet(Worksheet):
    """XlsxWriter's worksheet, writing every string as the plain text it is.

    Two changes to how XlsxWriter (3.3) writes an inline string, the only kind constant_memory mode writes:
    - it writes a string that starts "<r>" and ends "</r>" as rich-text XML, unescaped, so a typed "<r>...</r>"
      could add cells or formulas to the file; here that is escaped like any other text;
    - it writes a carriage return (as in the CR LF line breaks browsers send) as Excel's "_x000D_" escape, which
      Excel and LibreOffice read but openpyxl-based readers such as flattentool (the 360Giving Data Quality Tool)
      show as those seven characters; here it is the XML character reference "&#13;", which every reader reads."""

    def _xml_rich_inline_string(self, string: str, attributes: list[tuple[str, Any]] | None = None) -> None:
        self._xml_inline_string(string, _preserve_whitespace(string), attributes or [])

    @staticmethod
    def _escape_control_characters(data: Any) -> Any:
        if isinstance(data, str) and "\r" in data:
            return "\r".join(XMLwriter._escape_control_characters(part) for part in data.split("\r"))
        return XMLwriter._escape_control_characters(data)

    def _escape_data(self, data: Any) -> Any:
        escaped = super()._escape_data(data)
        if isinstance(escaped, str) and "\r" in escaped:
            return escaped.replace("\r", "&#13;")
        return escaped


CellWriter = Callable[[Worksheet, int, int, Any], None]  # (sheet, row, column, value); nothing for an empty value


class _Cells:
    """Writes typed values to the cells of a workbook's sheets, with one shared Format for each style.

    Text always goes in with write_string (never write(), which would make "=1+1" a formula) and with the
    quote-prefix style when it looks like a formula or an error value. A string cell in an .xlsx never runs as a
    formula; the risk is someone editing it in Excel or LibreOffice, which then reads what is shown as if typed.
    The quote prefix (quotePrefix="1" on the cell's format) keeps it text then too, as a typed leading apostrophe
    would, without putting an apostrophe in the value."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self._wb = wb
        self._formats: dict[tuple[str, bool, bool, bool], Format | None] = {}

    def style(self, kind: str = TEXT, *, bold: bool = False, wrap: bool = False,
              quote_prefix: bool = False) -> Format | None:
        """The format for a cell of `kind` (None for plain text or whole numbers), made once per workbook."""
        key = (kind, bold, wrap, quote_prefix)
        if key not in self._formats:
            properties: dict[str, Any] = {}
            if kind in _NUMBER_FORMATS:
                properties["num_format"] = _NUMBER_FORMATS[kind]
            if bold:
                properties["bold"] = True
            if wrap:
                properties.update(text_wrap=True, valign="top")
            if quote_prefix:
                properties["quote_prefix"] = True
            self._formats[key] = self._wb.add_format(properties) if properties else None
        return self._formats[key]

    def writer(self, kind: str, *, bold: bool = False, wrap: bool = False) -> CellWriter:
        """A function writing a value of `kind` to a cell, its format looked up once rather than per cell."""
        if kind == TEXT:
            return _text_writer(self.style(bold=bold, wrap=wrap), self.style(bold=bold, wrap=wrap, quote_prefix=True))
        return _value_writer(kind, self.style(kind, bold=bold))


def _text_writer(plain: Format | None, quoted: Format | None) -> CellWriter:
    def write(ws: Worksheet, row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            return
        text = cell_text(value)
        if text:
            ws.write_string(row, col, text, quoted if needs_quote_prefix(text) else plain)

    return write


def _excel_date(value: date | datetime) -> date:
    return value.astimezone(LONDON).date() if isinstance(value, datetime) else value


# How each kind of value other than text goes in: XlsxWriter's method, and the value as that method takes it.
_NUMBERS: dict[str, tuple[Callable[..., Any], Callable[[Any], Any]]] = {
    MONEY: (Worksheet.write_number, pounds),
    DATE: (Worksheet.write_datetime, _excel_date),
    DATETIME: (Worksheet.write_datetime, excel_local),
    INTEGER: (Worksheet.write_number, int),
}


def _value_writer(kind: str, style: Format | None) -> CellWriter:
    method, convert = _NUMBERS[kind]

    def write(ws: Worksheet, row: int, col: int, value: Any) -> None:
        if value is not None and value != "":
            method(ws, row, col, convert(value), style)

    return write


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
    # XlsxWriter keeps each sheet's rows, and the parts of the file while it is put together, in temporary files
    # it makes in `tmpdir`; a directory of our own goes, with whatever is in it, however writing ends.
    output = _Output(target)
    with tempfile.TemporaryDirectory(prefix="grants-workbook-") as tmpdir:
        wb = xlsxwriter.Workbook(output, {"constant_memory": True, "tmpdir": tmpdir, "strings_to_formulas": False,
                                          "strings_to_urls": False, "strings_to_numbers": False})
        try:
            wb.set_properties({"title": clean_text(info.title), "author": clean_text(info.made_by)})
            cells = _Cells(wb)
            counts = [_write_sheet(wb, cells, sheet) for sheet in sheets]
            _write_about_sheet(wb, cells, info, sheets[0].title, counts[0])
            wb.in_memory = _sheet_bytes(wb) < PACKED_IN_MEMORY  # read by close(), which puts the file together
            try:
                wb.close()
            except FileCreateError as error:  # XlsxWriter's wrapping of the OSError callers handle (disk full)
                if isinstance(error.__context__, OSError):
                    raise error.__context__ from None
                raise
        except BaseException:
            output.abandoned = True
            for ws in wb.worksheets():
                row_file = getattr(ws, "row_data_fh", None)  # still open: close it before its directory goes
                if row_file is not None:
                    row_file.close()
            raise
    return counts[0]


class _Output:
    """The target as XlsxWriter's zip writer sees it, cut off once writing has failed.

    XlsxWriter leaves its zip writer open when putting the file together fails (a full disk, say). When that is
    garbage collected it would write the end of a zip file into the target, or, the target being closed by then,
    fail with an "Exception ignored" traceback; once abandoned, nothing reaches the target."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self.abandoned = False

    def write(self, data: bytes) -> int:
        return len(data) if self.abandoned else self._out.write(data)

    def tell(self) -> int:
        return 0 if self.abandoned else self._out.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0 if self.abandoned else self._out.seek(offset, whence)

    def flush(self) -> None:
        if not self.abandoned:
            self._out.flush()


def _sheet_bytes(wb: xlsxwriter.Workbook) -> int:
    """How much row XML the sheets' temporary files hold so far."""
    size = 0
    for ws in wb.worksheets():
        ws.row_data_fh.flush()
        size += os.fstat(ws.row_data_fh.fileno()).st_size
    return size


def _write_sheet(wb: xlsxwriter.Workbook, cells: _Cells, sheet: Sheet) -> int:
    columns = sheet.columns
    ws = wb.add_worksheet(sheet.title[:SHEET_TITLE_LIMIT], worksheet_class=_Worksheet)
    for index, column in enumerate(columns):
        ws.set_column(index, index, column.width or max(_DEFAULT_WIDTHS[column.kind], len(column.title) + 3))
    ws.freeze_panes(1, 0)
    header = cells.writer(TEXT, bold=True)
    for index, column in enumerate(columns):
        header(ws, 0, index, column.title)
    writers = [(index, column.get, cells.writer(column.kind), column.total) for index, column in enumerate(columns)]
    totals = [0] * len(columns)
    count = 0
    for count, row in enumerate(sheet.rows, 1):
        for index, get, write, summed in writers:
            value = get(row)
            write(ws, count, index, value)
            if summed and isinstance(value, int):
                totals[index] += value
    # The filter covers the header and every data row (just the header when there are none), not the totals.
    ws.autofilter(0, 0, count, len(columns) - 1)
    if sheet.totals_label is not None:
        header(ws, count + 1, 0, sheet.totals_label)
        for index, column in enumerate(columns):
            if column.total and index > 0:
                cells.writer(column.kind, bold=True)(ws, count + 1, index, totals[index])
    return count


def _write_about_sheet(wb: xlsxwriter.Workbook, cells: _Cells, info: ExportInfo, sheet_title: str,
                       count: int) -> None:
    about = wb.add_worksheet("About", worksheet_class=_Worksheet)
    about.set_column(0, 0, 28)
    about.set_column(1, 1, 90)
    text, label, wrapped = cells.writer(TEXT), cells.writer(TEXT, bold=True), cells.writer(TEXT, wrap=True)
    row = 0
    if info.skipped_by_data_tools:
        for col, value in enumerate(("#", "ignore", "(This line tells data tools to skip this sheet.)")):
            text(about, row, col, value)
        row += 1
    label(about, row, 0, info.title)
    row += 2  # and a blank line
    facts: list[tuple[str, Any, str]] = [("What this file is", info.description, TEXT)]
    if info.period is not None:
        facts += [("Period", info.period.label, TEXT), ("Period starts", info.period.start, DATE),
                  ("Period ends", info.period.end, DATE)]
    facts += [
        ("Made on (UK time)", info.made_at, DATETIME),
        ("Made by", info.made_by, TEXT),
        ("Rows of data", count, INTEGER),
        ("Data sheet", sheet_title[:SHEET_TITLE_LIMIT], TEXT),
        ("Money", "Pounds sterling (GBP), exact to the penny.", TEXT),
        ("Dates", "Real spreadsheet dates, shown as day/month/year.", TEXT),
        ("Produced by", info.source, TEXT),
        *[(name, note, TEXT) for name, note in info.notes],
    ]
    for name, value, kind in facts:
        label(about, row, 0, name)
        (wrapped if kind == TEXT else cells.writer(kind))(about, row, 1, value)
        row += 1
