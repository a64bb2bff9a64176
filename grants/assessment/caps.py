"""Caps a request or an award is checked against."""

from __future__ import annotations

from sqlalchemy import select

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


def per_applicant_cap_problem(fund_year: FundYear, organisation_id: int, amount_pence: int) -> str | None:
    cap = fund_year.per_applicant_cap_pence
    if cap is None:
        return None
    already = awarded_to_organisation(fund_year.id, organisation_id)
    if already + amount_pence > cap:
        left = max(cap - already, 0)
        return (
            f"An organisation can receive at most {format_money(cap)} from the {fund_year.fund.name} "
            f"in {fund_year.label}; {format_money(left)} is left for this organisation"
        )
    return None
