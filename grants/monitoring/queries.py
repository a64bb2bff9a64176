"""Finding monitoring returns a user may see: those of the agreements they may see."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from grants.agreements.queries import can_see_agreement
from grants.core.access import visible_or_404
from grants.core.models import Bid, GrantAgreement, MonitoringReturn, Organisation, User
from grants.core.paging import Page, page_of
from grants.monitoring.lifecycle import OVERDUE
from grants.monitoring.rules import overdue_condition

PAGE_SIZE = 50


def return_or_404(return_id: int, user: User) -> MonitoringReturn:
    return visible_or_404(MonitoringReturn, return_id, user, lambda u, ret: can_see_agreement(u, ret.agreement))


def return_list(user: User, status: str, today: date, number: int) -> Page[MonitoringReturn]:
    """One page of the returns `user` may see with `status` ("" for any, "overdue", or a stored status), soonest
    due first, each with its grant's title and organisation: two statements."""
    # Staff see every return, so their count needs no agreement: each return has one (a required key).
    count = select(func.count()).select_from(MonitoringReturn)
    query = (
        select(MonitoringReturn).join(MonitoringReturn.agreement)
        .options(contains_eager(MonitoringReturn.agreement).options(
            joinedload(GrantAgreement.bid).load_only(Bid.id, Bid.title),
            joinedload(GrantAgreement.organisation).load_only(Organisation.id, Organisation.name)))
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
    return page_of(query, number, PAGE_SIZE, count=count)
