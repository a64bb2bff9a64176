"""Finding agreements a user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from grants.agreements.lifecycle import VISIBLE_TO_GRANTEE
from grants.core.access import STAFF_ROLES, visible_or_404
from grants.core.models import (
    Award,
    Bid,
    Fund,
    FundYear,
    GrantAgreement,
    Organisation,
    User,
    agreement_reference,
)
from grants.core.paging import Page, page_of

PAGE_SIZE = 50


def can_see_agreement(user: User, agreement: GrantAgreement) -> bool:
    """Staff see every agreement; a grantee sees its own once issued (a draft is the OPCC's own until then)."""
    if user.role == "applicant":
        return agreement.organisation_id == user.organisation_id and agreement.status in VISIBLE_TO_GRANTEE
    return user.role in STAFF_ROLES


def agreement_or_404(agreement_id: int, user: User) -> GrantAgreement:
    return visible_or_404(GrantAgreement, agreement_id, user, can_see_agreement)


def paid_pence(agreement: GrantAgreement) -> int:
    """What has been paid to the grantee so far."""
    return sum(p.amount_pence for p in agreement.payments if p.status == "paid")


Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def with_grantee_and_fund(query: Q, agreement_id: InstrumentedAttribute[int]) -> Q:
    """`query` joined, through `agreement_id`, to its agreement, the grantee organisation and the fund (by the
    award's fund-year), so it can select their columns."""
    return (query
            .join(GrantAgreement, agreement_id == GrantAgreement.id)
            .join(Organisation, GrantAgreement.organisation_id == Organisation.id)
            .join(Award, GrantAgreement.award_id == Award.id)
            .join(FundYear, Award.fund_year_id == FundYear.id)
            .join(Fund, FundYear.fund_id == Fund.id))


def agreement_for_bid(bid: Bid) -> GrantAgreement | None:
    return bid.agreement


@dataclass(frozen=True)
class ListedAgreement:
    """One row of the agreements list: plain values, not the agreement, whose row is wide (it keeps its
    conditions as issued)."""

    __tablename__: ClassVar[str] = GrantAgreement.__tablename__  # read by status_of, as an agreement's own is

    id: int
    status: str
    amount_pence: int
    start_date: date
    end_date: date
    title: str
    organisation: str

    @property
    def reference(self) -> str:
        return agreement_reference(self.id) or ""


def agreement_list(user: User, status: str, number: int) -> Page[ListedAgreement]:
    """One page of the agreements `user` may see (with `status`, if given), newest first, each with its bid's title
    and its organisation's name: two statements."""
    query = (
        select(GrantAgreement.id, GrantAgreement.status, GrantAgreement.amount_pence, GrantAgreement.start_date,
               GrantAgreement.end_date, Bid.title, Organisation.name.label("organisation"))
        .join(Bid, GrantAgreement.bid_id == Bid.id)
        .join(Organisation, GrantAgreement.organisation_id == Organisation.id)
        .order_by(GrantAgreement.created_at.desc(), GrantAgreement.id.desc())
    )
    count = select(func.count()).select_from(GrantAgreement)
    if user.role == "applicant":
        mine = (GrantAgreement.organisation_id == user.organisation_id,
                GrantAgreement.status.in_(VISIBLE_TO_GRANTEE))
        query, count = query.where(*mine), count.where(*mine)
    if status:
        query, count = query.where(GrantAgreement.status == status), count.where(GrantAgreement.status == status)
    page = page_of(query, number, PAGE_SIZE, scalars=False, count=count)
    return Page([ListedAgreement(*row) for row in page.items], page.number, page.size, page.total)
