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

_ROW_OR_CELL = re.compile(r"(<(?:tr|td|th)\b[^>]*>)", re.IGNORECASE)
_COLSPAN = re.compile(r"""\bcolspan\s*=\s*["']?(\d+)""", re.IGNORECASE)


def label_cells(rows: str, headings: Sequence[Any]) -> Markup:
    """The rows with data-label="<the column's heading>" on each data cell (<td>) whose column has a heading
    to show (a cell spanning columns counts as all of them), and role="row", "cell" or "rowheader". Attributes
    a row or cell has already are kept.

    headings are the data_table macro's: a string, or a (text, "numeric" or "hidden") pair; a hidden heading (an
    actions column, whose buttons say what they do) gives no label."""
    # Each column's label attribute is escaped once per table, not once per cell: this runs on every list page.
    labels = [h if isinstance(h, str) else ("" if h[1] == "hidden" else h[0]) for h in headings]
    label_attrs = [f' data-label="{escape(label)}"' if label else "" for label in labels]
    # re.split with a group alternates text and tags: text at even indexes, the tags at odd ones.
    parts = _ROW_OR_CELL.split(str(rows))
    column = 0
    for i in range(1, len(parts), 2):
        tag = parts[i]
        kind = tag[1:3].lower()
        if kind == "tr":
            column = 0
            if "role=" not in tag:
                parts[i] = f'{tag[:-1]} role="row">'
            continue
        label = label_attrs[column] if column < len(label_attrs) else ""
        span = _COLSPAN.search(tag) if "colspan" in tag.lower() else None
        column += int(span.group(1)) if span else 1
        extra = ""
        # A row header (a name, "Total") heads its own row, so it needs no heading of its own.
        if label and kind == "td" and "data-label" not in tag:
            extra = label
        if "role=" not in tag:
            extra += ' role="cell"' if kind == "td" else ' role="rowheader"'
        if extra:
            parts[i] = f"{tag[:-1]}{extra}>"
    return Markup("".join(parts))
