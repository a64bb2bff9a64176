"""The officers' list of bids as it stands, with the filters it was made with: one row per bid."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exports.workbook import DATETIME, MONEY, Column, ExportInfo, Target, write_table_workbook

if TYPE_CHECKING:
    from grants.assessment.queries import ListedBid

COLUMNS = [
    Column("Bid reference", lambda r: r.reference, width=14),
    Column("Title", lambda r: r.title, width=40),
    Column("Organisation", lambda r: r.organisation, width=40),
    Column("Fund", lambda r: r.fund, width=28),
    Column("Financial year", lambda r: r.year, width=14),
    Column("Amount requested", lambda r: r.requested_pence, MONEY, width=18),
    Column("Submitted (UK time)", lambda r: r.submitted_at, DATETIME, width=18),
    Column("Status", lambda r: r.state.name, width=26),
]


def build_bid_list(rows: Iterable[ListedBid], target: Target, *, filters: Sequence[tuple[str, str]], made_by: str,
                   made_at: datetime | None = None) -> int:
    """Write the bids in `rows` (newest submission first) and the filters that chose them; return how many."""
    chosen = "; ".join(f"{name}: {value}" for name, value in filters) or "none (every submitted bid)"
    info = ExportInfo(
        title="Bids",
        description=("The officers' list of bids as it stood when this file was made, newest submission first. "
                     "Drafts are not included: they are the applicant's own until submitted."),
        period=None, made_by=made_by, made_at=made_at or datetime.now(UTC), notes=(("Filters", chosen),),
    )
    return write_table_workbook(target, info, "Bids", COLUMNS, rows)
