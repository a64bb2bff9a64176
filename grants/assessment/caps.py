"""Caps a request or an award is checked against."""

from __future__ import annotations

from typing import Any, Literal, cast

from sqlalchemy import CursorResult, select, update

from grants.core.extensions import db
from grants.core.models import Award, FundYear, summed
from grants.core.money import format_money

# Who reads a cap's message: the applicant asking for money, or the OPCC's staff deciding how much to give.
Reader = Literal["applicant", "staff"]


def per_bid_cap_problem(fund_year: FundYear, amount_pence: int, *, reader: Reader) -> str | None:
    """Why `amount_pence` is more than one bid may have from the fund-year, said to `reader`; None when it is not."""
    cap, fund = format_money(fund_year.per_bid_cap_pence), fund_year.fund.name
    if amount_pence > fund_year.per_bid_cap_pence:
        if reader == "applicant":
            return f"{cap} is the most you can ask for from the {fund}"
        return f"{cap} is the most this bid can be awarded from the {fund}"
    return None


def awarded_to_organisation(fund_year_id: int, organisation_id: int) -> int:
    """Pence already awarded to one organisation from one fund-year."""
    total = db.session.scalar(
        select(summed(Award.amount_pence)).where(
            Award.fund_year_id == fund_year_id, Award.organisation_id == organisation_id
        )
    )
    return int(total or 0)


def per_applicant_cap_problem(fund_year: FundYear, organisation_id: int, amount_pence: int, *, reader: Reader,
                              pending_pence: int = 0) -> str | None:
    """Whether `amount_pence` more would take the organisation past the most it may receive from the fund-year,
    counting its awards and `pending_pence` (increases offered to its grants and not yet accepted)."""
    cap = fund_year.per_applicant_cap_pence
    if cap is None:
        return None
    already = awarded_to_organisation(fund_year.id, organisation_id) + pending_pence
    if already + amount_pence > cap:
        left = format_money(max(cap - already, 0))
        most = f"at most {format_money(cap)} from the {fund_year.fund.name} in {fund_year.label}"
        if reader == "applicant":
            if already >= cap:
                return f"Your organisation can receive {most}, and has already been awarded all of it"
            return f"Your organisation can receive {most}, so you can ask for up to {left}"
        return f"An organisation can receive {most}; {left} is left for this organisation"
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
