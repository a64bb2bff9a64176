"""Close-out: when a grant is closed or terminated its final figures are kept, and the commitment it no longer
needs goes back to its fund-year, so the money can be awarded again in the same year.

What is released is the grant less what was paid (never to be paid now), plus what the grantee is asked to
repay (money repaid is available again). The fund-year's commitment moves only by a guarded UPDATE and never
goes below zero. A repayment asked for after the close-out is released as it is asked; writing one off takes
its unpaid part back from the fund-year, if the fund-year still has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from grants.agreements.queries import paid_pence
from grants.assessment.caps import commit_budget, release_budget
from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.models import FundYear, GrantAgreement, MonitoringReturn, ReturnSpend, User, summed
from grants.core.money import format_money
from grants.repayments.queries import expected_total


@dataclass(frozen=True)
class CloseOut:
    """A grant's final figures, as the agreement page and the grants register show them."""

    awarded_pence: int
    paid_pence: int
    spent_pence: int  # reported in the accepted monitoring returns
    repayment_pence: int  # asked to be repaid, less anything written off
    released_pence: int  # given back to the fund-year

    @property
    def underspend_pence(self) -> int:
        """Paid to the grantee and not reported as spent."""
        return max(self.paid_pence - self.spent_pence, 0)


def accepted_spend(agreement: GrantAgreement) -> int:
    """Spend the grantee reported in the monitoring returns an officer accepted."""
    return int(db.session.scalar(
        select(summed(ReturnSpend.spent_pence))
        .join(MonitoringReturn, ReturnSpend.return_id == MonitoringReturn.id)
        .where(MonitoringReturn.agreement_id == agreement.id, MonitoringReturn.status == "accepted")
    ) or 0)


def close_out_figures(agreement: GrantAgreement) -> CloseOut | None:
    """The figures kept when the grant ended (and what has been asked back since), or None before it ends."""
    if agreement.released_pence is None or agreement.final_spent_pence is None:
        return None
    return CloseOut(agreement.amount_pence, paid_pence(agreement), agreement.final_spent_pence,
                    expected_total(agreement.id), agreement.released_pence)


def close_out(agreement: GrantAgreement, officer: User) -> CloseOut:
    """Keep the final figures of a grant that has just ended and release what it no longer needs."""
    paid = paid_pence(agreement)
    spent = accepted_spend(agreement)
    repayment = expected_total(agreement.id)
    fund_year = agreement.award.fund_year
    released = release(agreement, officer, agreement.amount_pence - paid + repayment,
                       f"Close-out of {agreement.reference}")
    agreement.final_spent_pence = spent
    agreement.released_pence = released
    figures = CloseOut(agreement.amount_pence, paid, spent, repayment, released)
    record_event(officer, "agreement.closed_out", agreement, from_state=agreement.status, to_state=agreement.status,
                 note=f"Awarded {format_money(figures.awarded_pence)}; paid {format_money(paid)}; reported spend "
                      f"{format_money(spent)}; underspend {format_money(figures.underspend_pence)}; to be repaid "
                      f"{format_money(repayment)}; {format_money(released)} released to the {fund_year.fund.name} "
                      f"{fund_year.label} budget",
                 details={"awarded_pence": figures.awarded_pence, "paid_pence": paid, "spent_pence": spent,
                          "underspend_pence": figures.underspend_pence, "repayment_pence": repayment,
                          "released_pence": released})
    return figures


def release(agreement: GrantAgreement, user: User, wanted: int, note: str) -> int:
    """Give up to `wanted` of the agreement's commitment back to its fund-year, never taking the fund-year's
    commitment below zero; returns what was released."""
    if wanted <= 0:
        return 0
    fund_year = agreement.award.fund_year
    released = wanted
    if not release_budget(fund_year, wanted):
        # Less is committed than this grant would give back: release all of it, read under a lock.
        released = int(db.session.scalar(select(FundYear.committed_pence).where(FundYear.id == fund_year.id)
                                         .with_for_update()) or 0)
        release_budget(fund_year, released)
    if released:
        record_event(user, "fund_year.released", fund_year, note=f"{format_money(released)}: {note}",
                     details={"agreement_id": agreement.id, "released_pence": released})
    return released


def release_repayment(agreement: GrantAgreement, user: User, amount_pence: int, note: str) -> None:
    """A repayment asked for after the close-out: what will be repaid is available again, as at the close-out."""
    if agreement.released_pence is None:
        return  # ended before close-out figures were kept: its commitment was never released
    released = release(agreement, user, amount_pence, note)
    _execute(update(GrantAgreement).where(GrantAgreement.id == agreement.id)
             .values(released_pence=GrantAgreement.released_pence + released))
    db.session.expire(agreement, ["released_pence"])


def take_back(agreement: GrantAgreement, user: User, amount_pence: int, note: str) -> str | None:
    """Money that will not be repaid after all (written off) was released at the close-out: commit it to the
    fund-year again. Returns why not, when the fund-year's budget no longer has it."""
    if agreement.released_pence is None:
        return None
    back = min(amount_pence, agreement.released_pence)
    if back <= 0:
        return None
    fund_year = agreement.award.fund_year
    _execute(update(GrantAgreement).where(GrantAgreement.id == agreement.id, GrantAgreement.released_pence >= back)
             .values(released_pence=GrantAgreement.released_pence - back))
    db.session.expire(agreement, ["released_pence"])
    if not commit_budget(fund_year, back):
        left = fund_year.budget_pence - fund_year.committed_pence
        return (f"{format_money(back)} of this repayment was given back to the {fund_year.fund.name} "
                f"{fund_year.label} budget when the grant ended, and only {format_money(left)} of that budget is "
                "not awarded now: raise the budget before writing it off")
    record_event(user, "fund_year.committed", fund_year, note=f"{format_money(back)}: {note}",
                 details={"agreement_id": agreement.id, "amount_pence": back})
    return None


def _execute(statement: Any) -> CursorResult[Any]:
    """An UPDATE of a running total, leaving the session's objects to be read again; its result counts the rows."""
    return cast(CursorResult[Any], db.session.execute(statement.execution_options(synchronize_session=False)))
