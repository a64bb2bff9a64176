"""Caps a request or an award is checked against."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from grants.core.extensions import db
from grants.core.models import Award, FundYear, summed
from grants.core.money import format_money


def per_bid_cap_problem(fund_year: FundYear, amount_pence: int) -> str | None:
    if amount_pence > fund_year.per_bid_cap_pence:
        return f"{format_money(fund_year.per_bid_cap_pence)} is the most you can ask for from the {fund_year.fund.name}"
    return None


def awarded_to_organisation(fund_year_id: int, organisation_id: int) -> int:
    """Pence already awarded to one organisation from one fund-year."""
    total = db.session.scalar(
        select(summed(Award.amount_pence)).where(
            Award.fund_year_id == fund_year_id, Award.organisation_id == organisation_id
        )
    )
    return int(total or 0)


def per_applicant_cap_problem(fund_year: FundYear, organisation_id: int, amount_pence: int, *,
                              pending_pence: int = 0) -> str | None:
    """Whether `amount_pence` more would take the organisation past the most it may receive from the fund-year,
    counting its awards and `pending_pence` (increases offered to its grants and not yet accepted)."""
    cap = fund_year.per_applicant_cap_pence
    if cap is None:
        return None
    already = awarded_to_organisation(fund_year.id, organisation_id) + pending_pence
    if already + amount_pence > cap:
        left = max(cap - already, 0)
        return (
            f"An organisation can receive at most {format_money(cap)} from the {fund_year.fund.name} "
            f"in {fund_year.label}; {format_money(left)} is left for this organisation"
        )
    return None


def commit_budget(fund_year: FundYear, amount_pence: int) -> bool:
    """Add to the fund-year's commitment if its budget has room, in one guarded UPDATE, so decisions made at
    the same moment never overspend; False, with nothing changed, if it has not. As the first write of a
    transaction it holds the fund-year's lock for the rest of it."""
    return _move_commitment(fund_year, amount_pence,
                            FundYear.committed_pence + amount_pence <= FundYear.budget_pence)


def release_budget(fund_year: FundYear, amount_pence: int) -> bool:
    """Give money back to the fund-year's budget, never taking its commitment below zero; False, with nothing
    changed, if less than that is committed."""
    return _move_commitment(fund_year, -amount_pence, FundYear.committed_pence >= amount_pence)


def _move_commitment(fund_year: FundYear, change: int, guard: Any) -> bool:
    moved = cast(CursorResult[Any], db.session.execute(
        update(FundYear).where(FundYear.id == fund_year.id, guard)
        .values(committed_pence=FundYear.committed_pence + change)
        .execution_options(synchronize_session=False)
    ))  # an UPDATE: its result counts the rows
    db.session.refresh(fund_year)
    return bool(moved.rowcount == 1)
