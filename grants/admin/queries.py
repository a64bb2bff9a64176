"""The admin area's lists, a page at a time: each runs a fixed number of statements however many rows there are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from grants.core.extensions import db
from grants.core.models import Fund, MeasureValue, Organisation, OutboxEmail, OutcomeMeasure, User
from grants.core.paging import Page, page_of

PAGE_SIZE = 50


def organisation_names() -> list[tuple[int, str]]:
    """Every organisation's id and name, by name: for a filter that chooses one."""
    return [(r.id, r.name) for r in db.session.execute(select(Organisation.id, Organisation.name)
                                                       .order_by(Organisation.name))]


def organisation_choices(current_id: int | None = None) -> list[tuple[str, str]]:
    """The organisations a user may be given, for a form's select: the active ones, and the one the user already
    belongs to even if it is no longer active."""
    query = select(Organisation.id, Organisation.name, Organisation.active).order_by(Organisation.name)
    choices = [("", "No organisation")]
    for r in db.session.execute(query):
        if r.active or r.id == current_id:
            choices.append((str(r.id), r.name + ("" if r.active else " (inactive)")))
    return choices


@dataclass(frozen=True)
class FundRow:
    fund: Fund
    measures_in_use: int
    measures_retired: int


def fund_list(number: int) -> Page[FundRow]:
    """One page of funds by name, each with its financial years and how many of its measures are in use or retired:
    three statements."""
    in_use = (select(func.count(OutcomeMeasure.id))
              .where(OutcomeMeasure.fund_id == Fund.id, OutcomeMeasure.retired_at.is_(None))
              .correlate(Fund).scalar_subquery())
    retired = (select(func.count(OutcomeMeasure.id))
               .where(OutcomeMeasure.fund_id == Fund.id, OutcomeMeasure.retired_at.is_not(None))
               .correlate(Fund).scalar_subquery())
    query = (select(Fund, in_use.label("in_use"), retired.label("retired"))
             .options(selectinload(Fund.years)).order_by(Fund.name, Fund.id))
    page = page_of(query, number, PAGE_SIZE, scalars=False)
    return Page([FundRow(r[0], r.in_use, r.retired) for r in page.items], page.number, page.size, page.total)


def measure_list(fund: Fund, number: int) -> Page[tuple[OutcomeMeasure, bool]]:
    """One page of a fund's measures in their order, each with whether any return has answered it (then it can only
    be retired): two statements."""
    answered = exists().where(MeasureValue.measure_id == OutcomeMeasure.id)
    query = (select(OutcomeMeasure, answered.label("answered")).where(OutcomeMeasure.fund_id == fund.id)
             .order_by(OutcomeMeasure.position, OutcomeMeasure.id))
    page = page_of(query, number, PAGE_SIZE, scalars=False)
    return Page([(r[0], bool(r.answered)) for r in page.items], page.number, page.size, page.total)


def organisation_list(number: int) -> Page[Any]:
    """One page of organisations by name, each with its number of active users: two statements."""
    active_users = (select(func.count(User.id)).where(User.organisation_id == Organisation.id, User.active.is_(True))
                    .correlate(Organisation).scalar_subquery())
    query = select(Organisation, active_users.label("active_users")).order_by(Organisation.name)
    return page_of(query, number, PAGE_SIZE, scalars=False)


def user_list(role: str | None, organisation_id: int | None, number: int) -> Page[User]:
    """One page of users by name, with `role` and of `organisation_id` when given, each with its organisation's
    name: two statements."""
    query = (select(User).options(joinedload(User.organisation).load_only(Organisation.id, Organisation.name))
             .order_by(User.name, User.id))
    if role:
        query = query.where(User.role == role)
    if organisation_id:
        query = query.where(User.organisation_id == organisation_id)
    return page_of(query, number, PAGE_SIZE)


def outbox_list(number: int) -> Page[OutboxEmail]:
    """One page of the outbox, newest first: two statements."""
    query = select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
    return page_of(query, number, PAGE_SIZE)
