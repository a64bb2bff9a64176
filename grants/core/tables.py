"""Column headings copied into each cell of a table's rows, so a phone can show a row as a stack of labelled values.

The data_table macro (templates/_macros.html) passes its rows through label_cells: each <td> gets a
data-label attribute naming its column, which the stylesheet shows above the value on a narrow screen. Rows and
cells get their table roles written out too, as some browsers (Safari) stop announcing a table as a table once
its rows and cells are displayed as blocks. The rows
are the application's own template output (user text in them is escaped, so it cannot hold a tag), and tables
are never nested, so each row's cells can be counted from their opening tags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

_ROW_OR_CELL = re.compile(r"<(?P<row>tr)\b[^>]*>|<(?P<cell>td|th)\b(?P<attrs>[^>]*)>", re.IGNORECASE)
_COLSPAN = re.compile(r"""\bcolspan\s*=\s*["']?(\d+)""", re.IGNORECASE)


def label_cells(rows: str, headings: Sequence[Any]) -> Markup:
    """The rows with data-label="<the column's heading>" on each data cell (<td>) whose column has a heading
    to show (a cell spanning columns counts as all of them), and role="row", "cell" or "rowheader". Attributes
    a row or cell has already are kept.

    headings are the data_table macro's: a string, or a (text, "numeric" or "hidden") pair; a hidden heading (an
    actions column, whose buttons say what they do) gives no label."""
    labels = [h if isinstance(h, str) else ("" if h[1] == "hidden" else h[0]) for h in headings]
    out: list[str] = []
    column = 0
    last = 0
    for match in _ROW_OR_CELL.finditer(str(rows)):
        out.append(str(rows)[last:match.start()])
        last = match.end()
        if match.group("row"):
            column = 0
            tag = match.group(0)
            out.append(tag if "role=" in tag else f'{tag[:-1]} role="row">')
            continue
        attrs = match.group("attrs")
        label = labels[column] if column < len(labels) else ""
        span = _COLSPAN.search(attrs)
        column += int(span.group(1)) if span else 1
        # A row header (a name, "Total") heads its own row, so it needs no heading of its own.
        if label and match.group("cell").lower() == "td" and "data-label" not in attrs:
            attrs = f'{attrs} data-label="{escape(label)}"'
        if "role=" not in attrs:
            attrs = f'{attrs} role="{"cell" if match.group("cell").lower() == "td" else "rowheader"}"'
        out.append(f"<{match.group('cell')}{attrs}>")
    out.append(str(rows)[last:])
    return Markup("".join(out))
