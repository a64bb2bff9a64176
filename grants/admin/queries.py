"""The admin area's lists, a page at a time: each runs a fixed number of statements however many rows there are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from grants.core.dates import financial_year_label, format_date, utc_bounds
from grants.core.extensions import db
from grants.core.lifecycle import REGISTRY, event_label
from grants.core.models import (
    ROLE_NAMES,
    AuditEvent,
    Fund,
    MeasureValue,
    Organisation,
    OutboxEmail,
    OutcomeMeasure,
    User,
)
from grants.core.money import format_money
from grants.core.paging import Page, distinct_values, page_of
from grants.core.search import contains

PAGE_SIZE = 50


def organisation_name(organisation_id: int) -> str | None:
    return db.session.scalar(select(Organisation.name).where(Organisation.id == organisation_id))


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


def user_list(role: str | None, organisation_id: int | None, search: str, number: int) -> Page[User]:
    """One page of users by name, with `role`, of `organisation_id` and whose name, email or organisation holds
    `search`, when given, each with its organisation's name: two statements."""
    query = (select(User).options(joinedload(User.organisation).load_only(Organisation.id, Organisation.name))
             .order_by(User.name, User.id))
    if role:
        query = query.where(User.role == role)
    if organisation_id:
        query = query.where(User.organisation_id == organisation_id)
    if search:
        query = query.where(or_(contains(User.name, search), contains(User.email, search),
                                User.organisation_id.in_(select(Organisation.id)
                                                         .where(contains(Organisation.name, search)))))
    return page_of(query, number, PAGE_SIZE)


def outbox_list(number: int) -> Page[OutboxEmail]:
    """One page of the outbox, newest first: two statements."""
    query = select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
    return page_of(query, number, PAGE_SIZE)


# Audit events ------------------------------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    """The audit page's filters; None for any."""

    object_type: str | None = None
    action: str | None = None
    actor_id: int | None = None
    who: str = ""  # part of the name or email of who made the change
    date_from: date | None = None
    date_to: date | None = None


def audit_list(filters: AuditFilters, number: int) -> Page[AuditEvent]:
    """One page of audit events, newest first, with who made each: two statements. Each filter has an index that
    leads with it and ends with the time (see grants/core/models.py), so a page reads only its own rows."""
    query = select(AuditEvent).options(joinedload(AuditEvent.actor).load_only(User.id, User.name, User.role))
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor_id:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.who:
        query = query.where(AuditEvent.actor_id.in_(
            select(User.id).where(or_(contains(User.name, filters.who), contains(User.email, filters.who)))))
    # Dates are UK days: from the start of the first to the end of the last.
    if filters.date_from:
        query = query.where(AuditEvent.occurred_at >= utc_bounds(filters.date_from, filters.date_from)[0])
    if filters.date_to:
        query = query.where(AuditEvent.occurred_at < utc_bounds(filters.date_to, filters.date_to)[1])
    return page_of(query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()), number, AUDIT_PAGE_SIZE)


def record_type_name(object_type: str) -> str:
    """A record type as people read it: the lifecycle's noun where it has one ("agreement"), else its table's name
    ("fund_year" -> "Fund year")."""
    lifecycle = REGISTRY.get(object_type)
    name = lifecycle.noun if lifecycle is not None else object_type.replace("_", " ")
    return name[:1].upper() + name[1:]


def action_name(action: str) -> str:
    """An audit action as history names it (grants.core.lifecycle.event_label), with its record type before it
    where the label alone would not say ("Bid: Submitted")."""
    label = event_label(SimpleNamespace(action=action))
    kind, _, _ = action.partition(".")
    prefix = record_type_name(kind)
    return label if label.lower().startswith(prefix.lower()) else f"{prefix}: {label[:1].lower() + label[1:]}"


def audit_choices() -> dict[str, list[tuple[str, str]]]:
    """The filters' choices: the record types and actions that occur, each stepped through the index that leads
    with it (a few dozen lookups, however many events). Two statements."""
    types = distinct_values(AuditEvent.object_type)
    actions = distinct_values(AuditEvent.action)
    return {
        "object_types": sorted(((t, record_type_name(t)) for t in types), key=lambda c: c[1]),
        "actions": sorted(((a, action_name(a)) for a in actions), key=lambda c: c[1]),
    }


# Fields whose values name other things, and how to say them; money fields end in _pence.
_FIELD_NAMES = {"organisation_id": "Organisation", "active": "Active", "role": "Role", "year_start": "Financial year"}


def _field_name(name: str) -> str:
    if name in _FIELD_NAMES:
        return _FIELD_NAMES[name]
    words = name.removesuffix("_pence").removesuffix("_id").replace("_", " ")
    return words[:1].upper() + words[1:]


def _value(name: str, value: Any, organisations: Mapping[int, str]) -> str:
    if value is None or value == "":
        return "none"
    if name.endswith("_pence") and isinstance(value, int):
        return format_money(value)
    if name == "organisation_id" and isinstance(value, int):
        return organisations.get(value, f"organisation {value}")
    if name == "role":
        return ROLE_NAMES.get(str(value), str(value))
    if name == "year_start" and isinstance(value, int):
        return financial_year_label(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            pass
    return str(value)


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    record: str  # "Fund year 4"
    action: str  # "Fund year: updated"
    changes: list[str]  # "Budget: £60,000.00 to £70,000.00"


def _is_change(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"from", "to"}


def audit_rows(events: Sequence[AuditEvent]) -> list[AuditRow]:
    """Audit events as the page says them: the record and action named, and any changes they carry (an admin's
    change to a fund-year or a user, say) written out field by field. One statement, for the names of the
    organisations the changes mention."""
    details = [e.details if isinstance(e.details, dict) else {} for e in events]
    org_ids = {v for d in details for name, change in d.items() if name == "organisation_id" and _is_change(change)
               for v in (change["from"], change["to"]) if isinstance(v, int)}
    organisations = {r.id: r.name for r in db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids)))} if org_ids else {}
    rows = []
    for event, detail in zip(events, details, strict=True):
        changes = []
        for name, change in detail.items():
            if not _is_change(change):
                continue
            before, after = (_value(name, change[k], organisations) for k in ("from", "to"))
            changes.append(f"{_field_name(name)}: {after}" if change["from"] is None
                           else f"{_field_name(name)}: {before} to {after}")
        record = record_type_name(event.object_type)
        rows.append(AuditRow(event, f"{record} {event.object_id}" if event.object_id is not None else record,
                             action_name(event.action), changes))
    return rows
