"""Finding monitoring returns a user may see: those of the agreements they may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from sqlalchemy import func, select

from grants.agreements.queries import can_see_agreement
from grants.core.access import visible_or_404
from grants.core.models import (
    Bid,
    GrantAgreement,
    MonitoringReturn,
    Organisation,
    User,
    agreement_reference,
    return_period,
)
from grants.core.paging import Page, page_of
from grants.monitoring.lifecycle import OVERDUE
from grants.monitoring.rules import overdue_condition

PAGE_SIZE = 50


def return_or_404(return_id: int, user: User) -> MonitoringReturn:
    return visible_or_404(MonitoringReturn, return_id, user, lambda u, ret: can_see_agreement(u, ret.agreement))


@dataclass(frozen=True)
class ListedReturn:
    """One row of the returns list: plain values rather than the return and its agreement, whose rows are wide
    (an agreement keeps its conditions as issued) and cost more to load than the page costs to render."""

    __tablename__: ClassVar[str] = MonitoringReturn.__tablename__  # read by status_of, as a return's own is

    id: int
    agreement_id: int
    period_start: date
    period_name: str
    due_on: date
    status: str
    title: str
    organisation: str

    @property
    def period_label(self) -> str:
        return return_period(self.period_start, self.period_name).label

    @property
    def agreement_reference(self) -> str:
        return agreement_reference(self.agreement_id) or ""


def return_list(user: User, status: str, today: date, number: int) -> Page[ListedReturn]:
    """One page of the returns `user` may see with `status` ("" for any, "overdue", or a stored status), soonest
    due first, each with its grant's title and organisation: two statements."""
    # Staff see every return, so their count needs no agreement: each return has one (a required key).
    count = select(func.count()).select_from(MonitoringReturn)
    query = (
        select(MonitoringReturn.id, MonitoringReturn.agreement_id, MonitoringReturn.period_start,
               MonitoringReturn.period_name, MonitoringReturn.due_on, MonitoringReturn.status,
               Bid.title, Organisation.name.label("organisation"))
        .join(GrantAgreement, MonitoringReturn.agreement_id == GrantAgreement.id)
        .join(Bid, GrantAgreement.bid_id == Bid.id)
        .join(Organisation, GrantAgreement.organisation_id == Organisation.id)
        .order_by(MonitoringReturn.due_on, MonitoringReturn.id)
    )
    if user.role == "applicant":
        mine = GrantAgreement.organisation_id == user.organisation_id
        query = query.where(mine)
        count = count.join(MonitoringReturn.agreement).where(mine)
    if status == OVERDUE:
        query, count = query.where(overdue_condition(today)), count.where(overdue_condition(today))
    elif status:
        query, count = query.where(MonitoringReturn.status == status), count.where(MonitoringReturn.status == status)
    page = page_of(query, number, PAGE_SIZE, scalars=False, count=count)
    return Page([ListedReturn(*row) for row in page.items], page.number, page.size, page.total)
