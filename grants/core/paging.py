"""One page of a list: the page asked for, read safely from the query string, and the rows on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from grants.core.extensions import db

Row = TypeVar("Row")

# Rows fetched from the database at a time when a whole list is written out (a file, not a page): yield_per
# reads them through a server-side cursor on PostgreSQL, so memory stays flat however many there are.
STREAM_BATCH = 1000
# Far past any real list; a larger number in a URL is refused as "no such page" rather than overflowing.
MAX_PAGE = 100_000


def query_number(args: Mapping[str, str], name: str, allowed: range) -> int | None:
    """A query value typed as plain digits (no sign, no other script's digits) within `allowed`, else None."""
    text = (args.get(name) or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    value = int(text)
    return value if value in allowed else None


def page_number(args: Mapping[str, str]) -> int:
    """The `page` query value as a page number: 1 for anything missing, malformed or out of range."""
    try:
        number = int(args.get("page") or "")
    except ValueError:
        return 1
    return number if 0 < number <= MAX_PAGE else 1


@dataclass(frozen=True)
class Page(Generic[Row]):
    items: Sequence[Row]
    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_shown(self) -> int:
        return 0 if not self.total else (self.number - 1) * self.size + 1

    @property
    def last_shown(self) -> int:
        return min(self.total, self.number * self.size)


def page_of(query: Select[*tuple[Any, ...]], number: int, size: int, *, scalars: bool = True) -> Page[Any]:
    """Rows `number` of `query` (already ordered), `size` to a page, with the total count: two statements."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    paged = query.limit(size).offset((number - 1) * size)
    result = db.session.execute(paged)
    items: list[Any] = list(result.unique().scalars()) if scalars else list(result.all())
    return Page(items, number, size, total)
