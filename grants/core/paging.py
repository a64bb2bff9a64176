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
# A record id as a query value may name: anything else is no record at all.
ID_RANGE = range(1, 2**31)


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


def _counting(query: Select[*tuple[Any, ...]]) -> Select[int]:
    """The query's rows counted. Its own columns are dropped rather than wrapped: a page's columns may hold
    correlated subqueries (sums per row) that the database would otherwise work out for every row it counts."""
    if query._group_by_clauses or query._distinct or query._having_criteria:
        return select(func.count()).select_from(query.order_by(None).subquery())
    return query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)


def page_of(query: Select[*tuple[Any, ...]], number: int, size: int, *, scalars: bool = True,
            count: Select[int] | None = None) -> Page[Any]:
    """Rows `number` of `query` (already ordered), `size` to a page, with the total count (from `count` when the
    caller has a leaner query for it): two statements."""
    total = db.session.scalar(count if count is not None else _counting(query)) or 0
    paged = query.limit(size).offset((number - 1) * size)
    result = db.session.execute(paged)
    items: list[Any] = list(result.unique().scalars()) if scalars else list(result.all())
    return Page(items, number, size, total)


def distinct_values(column: Any) -> list[Any]:
    """The different values `column` holds, in order, found by stepping through an index that leads with it: one
    lookup per value, rather than a read of every row (neither SQLite nor PostgreSQL skips through an index for a
    plain DISTINCT). One statement."""
    found = select(func.min(column).label("value")).cte("found", recursive=True)
    following = select(func.min(column)).where(column > found.c.value).scalar_subquery()
    found = found.union_all(select(following).where(found.c.value.is_not(None)))
    return list(db.session.scalars(select(found.c.value).where(found.c.value.is_not(None))))
