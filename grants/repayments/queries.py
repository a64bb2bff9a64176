"""Finding repayments and adding them up: per agreement, for the agreement page, the finance page and the exports.

What a grantee is still expected to repay counts a repayment at its full amount until it is written off, and
then at what was received before the write-off. Every function runs a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import ColumnElement, Subquery

from grants.agreements.queries import with_grantee_and_fund
from grants.core.access import STAFF_ROLES, visible_or_404
from grants.core.extensions import db
from grants.core.models import (
    Fund,
    GrantAgreement,
    Organisation,
    Repayment,
    User,
    summed,
)
from grants.repayments.lifecycle import OWED

# Rows the finance page lists; the rest are counted ("and N more").
SHOWN = 50


def repayment_or_404(repayment_id: int, user: User) -> Repayment:
    """Finance's pages for a repayment are staff pages; the grantee sees its repayments on the agreement."""
    return visible_or_404(Repayment, repayment_id, user, lambda u, _repayment: u.role in STAFF_ROLES)


def expected_pence() -> ColumnElement[int]:
    """What one repayment brings back: its amount, or once written off, what was received before."""
    return case((Repayment.status == "cancelled", Repayment.received_pence), else_=Repayment.amount_pence)


def outstanding_pence() -> ColumnElement[int]:
    """What is still owed on one repayment: nothing once received in full or written off."""
    return case((Repayment.status.in_(OWED), Repayment.amount_pence - Repayment.received_pence), else_=0)


def written_off_pence() -> ColumnElement[int]:
    return case((Repayment.status == "cancelled", Repayment.amount_pence - Repayment.received_pence), else_=0)


def expected_total(agreement_id: int) -> int:
    """What the grantee of one agreement has been asked to repay, less anything written off."""
    return int(db.session.scalar(select(summed(expected_pence())).where(Repayment.agreement_id == agreement_id)) or 0)


def sums_by_agreement() -> Subquery:
    """Each agreement's repayments added up (columns agreement_id, asked, received, written_off, outstanding), to
    join to a query of grants."""
    return (
        select(
            Repayment.agreement_id,
            summed(Repayment.amount_pence).label("asked"),
            summed(Repayment.received_pence).label("received"),
            summed(written_off_pence()).label("written_off"),
            summed(outstanding_pence()).label("outstanding"),
        )
        .group_by(Repayment.agreement_id)
        .subquery("repayments")
    )


@dataclass(frozen=True)
class RepaymentFigures:
    asked_pence: int
    received_pence: int
    written_off_pence: int
    outstanding_pence: int


def owed(repayment: Repayment) -> int:
    """What is still owed on one repayment: nothing once received in full or written off."""
    return repayment.amount_pence - repayment.received_pence if repayment.status in OWED else 0


@dataclass(frozen=True)
class AgreementRepayments:
    """An agreement's repayments, oldest first, and their totals, for the agreement page."""

    repayments: list[Repayment]

    @property
    def figures(self) -> RepaymentFigures:
        rows = self.repayments
        return RepaymentFigures(
            asked_pence=sum(r.amount_pence for r in rows),
            received_pence=sum(r.received_pence for r in rows),
            written_off_pence=sum(r.amount_pence - r.received_pence for r in rows if r.status == "cancelled"),
            outstanding_pence=sum(owed(r) for r in rows),
        )

    def owed(self, repayment: Repayment) -> int:
        return owed(repayment)


def agreement_repayments(agreement: GrantAgreement) -> AgreementRepayments:
    """An agreement's repayments with their receipts: two statements."""
    return AgreementRepayments(list(db.session.scalars(
        select(Repayment).where(Repayment.agreement_id == agreement.id)
        .options(selectinload(Repayment.receipts))
        .order_by(Repayment.created_at, Repayment.id))))


# --- The finance page: repayments still owed --------------------------------------------------------------


@dataclass(frozen=True)
class RepaymentOwed:
    repayment: Repayment
    organisation: str
    fund: str

    @property
    def outstanding_pence(self) -> int:
        return owed(self.repayment)


@dataclass(frozen=True)
class RepaymentsOwed:
    shown: list[RepaymentOwed]
    count: int  # all of them, shown or not
    total_pence: int  # still owed on all of them

    @property
    def more(self) -> int:
        return self.count - len(self.shown)


def repayments_owed(shown: int = SHOWN) -> RepaymentsOwed:
    """Repayments still owed (due or part received): the `shown` due soonest, with the number of all of them and
    what is still owed on them. Two statements however many there are."""
    owed = Repayment.status.in_(OWED)
    count, total = db.session.execute(
        select(func.count(Repayment.id), summed(Repayment.amount_pence - Repayment.received_pence)).where(owed)).one()
    # The soonest owed first, then only those joined to their grantee and fund (not every owed repayment).
    soonest = select(Repayment.id).where(owed).order_by(Repayment.due_on, Repayment.id).limit(shown).subquery()
    rows = db.session.execute(
        with_grantee_and_fund(select(Repayment, Organisation.name.label("organisation"), Fund.name.label("fund")),
                              Repayment.agreement_id)
        .join(soonest, soonest.c.id == Repayment.id)
        .order_by(Repayment.due_on, Repayment.id)
    )
    return RepaymentsOwed([RepaymentOwed(r.Repayment, r.organisation, r.fund) for r in rows], count, int(total))

