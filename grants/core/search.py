"""Free-text search in lists: what a person typed, found anywhere in a column, whatever its case."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, func

SEARCH_MAX = 100  # characters of a search kept; more is no help in finding a record


def search_text(args: Mapping[str, str], name: str = "q") -> str:
    """The search typed into a list's filter: spaces tidied, cut to SEARCH_MAX characters."""
    return " ".join((args.get(name) or "").split())[:SEARCH_MAX]


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """`column` holds `text` (case ignored). % and _ are matched as themselves, not as wildcards.

    A contains-search reads every row of the table it filters (no ordinary index serves one), so lists use it
    only beside filters and paging that keep the rest of the page cheap."""
    return func.lower(column).like(f"%{like_escaped(text.casefold())}%", escape="\\")


def like_escaped(text: str) -> str:
    """`text` for a LIKE pattern with escape "\\": its %, _ and \\ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
