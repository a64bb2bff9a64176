"""Administration rules: funds, fund-years, outcome measures (with grants.monitoring.measures), organisations and
users.

Plain functions that take already-parsed values and never look at the web request. Each
save either changes nothing and returns the problems (field name -> message), or makes the
change, adds an audit event to the same transaction and returns no problems; the caller
commits. A clash that only the database can see (two people saving the same name at the
same moment, an award committed while a budget is being cut) is turned back into the same
problems after a rollback, never into an error page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grants.auth.rules import normalise_email, set_password
from grants.core.audit import record_event
from grants.core.dates import financial_year_label
from grants.core.extensions import db
from grants.core.models import (
    DEFAULT_FREQUENCY,
    FUNDING_SOURCES,
    ORG_TYPES,
    REPORTING_FREQUENCIES,
    ROLES,
    Bid,
    Fund,
    FundYear,
    Organisation,
    OutcomeMeasure,
    User,
)
from grants.core.money import format_money
from grants.core.orgid import org_id_problem
from grants.core.passwords import hash_password, password_problem
from grants.monitoring.measures import MeasureInput, add_measure, change_measure, has_answers, measure_problems

Problems = dict[str, str]
Changes = dict[str, dict[str, Any]]
Record = TypeVar("Record")

# Key for a problem that belongs to no single field.
FORM = "form"
CLASHED = "Someone else changed these records while you were working. Check the details and try again."

MIN_DUE_DAYS, MAX_DUE_DAYS = 0, 365
MIN_REMINDER_DAYS, MAX_REMINDER_DAYS, DEFAULT_REMINDER_DAYS = 0, 365, 14
MIN_YEAR, MAX_YEAR = 2000, 2099

# Registers' own forms: the Charity Commission (6-7 digits, "-n" for a linked charity), OSCR (SC + 6 digits),
# the Charity Commission for Northern Ireland (NIC + 6 digits, or 6 digits); Companies House (8 characters).
_CHARITY_NUMBER = re.compile(r"^(?:\d{6,7}(?:-\d{1,2})?|SC\d{6}|NIC\d{6})$")
_COMPANY_NUMBER = re.compile(r"^(?:\d{8}|(?:SC|NI|OC|SO|NC|R0|IP|SP|RS|CE|CS)\d{6})$")
# Royal Mail's postcode shape: outward code, a space, inward code (BS 7666).
_POSTCODE = re.compile(r"^(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) \d[A-Z]{2}$")
# ONS GSS codes for a local authority district: E06/E07/E08/E09 (England), W06, S12, N09.
_DISTRICT_CODE = re.compile(r"^(?:E0[6-9]|W06|S12|N09)\d{6}$")


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


def _apply(obj: Any, values: dict[str, Any]) -> Changes:
    """Set each value on obj; return the changed ones as {field: {"from": old, "to": new}}."""
    changes: Changes = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = {"from": _jsonable(old), "to": _jsonable(new)}
            setattr(obj, name, new)
    return changes


def _created(values: dict[str, Any]) -> Changes:
    return {name: {"from": None, "to": _jsonable(value)} for name, value in values.items()}


def _flush_or_problems(recheck: Callable[[], Problems]) -> Problems:
    """Flush pending changes; if the database refuses them, roll back and say why in field terms."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return recheck() or {FORM: CLASHED}
    return {}


def _add(make: Callable[[], Record], check: Callable[[], Problems]) -> tuple[Record | None, Problems]:
    """Check, then add and flush the record `make` builds: (the record, {}), or (None, problems) adding nothing.

    `check` runs again after a refused flush, so a clash only the database saw is told in field terms."""
    problems = check()
    if problems:
        return None, problems
    record = make()
    db.session.add(record)
    problems = _flush_or_problems(check)
    if problems:
        return None, problems
    return record, {}


def _change(record: Any, values: dict[str, Any], check: Callable[[], Problems],
            recheck: Callable[[], Problems] | None = None) -> tuple[Changes, Problems]:
    """Check, then set and flush the values: (the changes, {}), ({}, {}) when nothing differs, or ({}, problems)
    changing nothing. After a refused flush `recheck` (by default `check`) says why in field terms."""
    problems = check()
    if problems:
        return {}, problems
    changes = _apply(record, values)
    if not changes:
        return {}, {}
    problems = _flush_or_problems(recheck or check)
    if problems:
        return {}, problems
    return changes, {}


def _same_name(model: Any, name: str, exclude_id: int | None) -> bool:
    query = select(model.id).where(func.lower(model.name) == name.lower())
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return db.session.scalar(query.limit(1)) is not None


# Funds ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundValues:
    name: str
    description: str
    funding_source: str
    monitoring_due_days: int
    # None: not given. A new fund then gets its funding source's usual frequency and 14 days; a saved fund
    # must keep a value for each.
    reporting_frequency: str | None = None
    reminder_days: int | None = None


FREQUENCY_PROBLEM = "Select how often grantees report"
REMINDER_DAYS_MISSING = "Enter how many days before a return is due the grantee is reminded"
REMINDER_DAYS_RANGE = f"Reminder days must be between {MIN_REMINDER_DAYS} and {MAX_REMINDER_DAYS}"


def with_fund_defaults(values: FundValues) -> FundValues:
    """A new fund's values with what was not given filled in: the funding source's usual reporting frequency
    (quarterly for the Home Office, six-monthly otherwise) and reminders 14 days before a return is due."""
    return replace(
        values,
        reporting_frequency=values.reporting_frequency or DEFAULT_FREQUENCY.get(values.funding_source),
        reminder_days=DEFAULT_REMINDER_DAYS if values.reminder_days is None else values.reminder_days,
    )


def fund_problems(values: FundValues, fund_id: int | None = None) -> Problems:
    problems: Problems = {}
    if not values.name:
        problems["name"] = "Enter the name of the fund"
    elif len(values.name) > 200:
        problems["name"] = "The name must be 200 characters or fewer"
    elif _same_name(Fund, values.name, fund_id):
        problems["name"] = f"There is already a fund called {values.name}"
    if values.funding_source not in FUNDING_SOURCES:
        problems["funding_source"] = "Select where the fund's money comes from"
    if not MIN_DUE_DAYS <= values.monitoring_due_days <= MAX_DUE_DAYS:
        problems["monitoring_due_days"] = (
            f"Monitoring due days must be between {MIN_DUE_DAYS} and {MAX_DUE_DAYS}"
        )
    frequency = values.reporting_frequency
    # A new fund with no frequency chosen takes its source's: say so only once the source is known.
    if frequency not in REPORTING_FREQUENCIES and not (frequency is None and "funding_source" in problems):
        problems["reporting_frequency"] = FREQUENCY_PROBLEM
    if values.reminder_days is None:
        problems["reminder_days"] = REMINDER_DAYS_MISSING
    elif not MIN_REMINDER_DAYS <= values.reminder_days <= MAX_REMINDER_DAYS:
        problems["reminder_days"] = REMINDER_DAYS_RANGE
    return problems


def create_fund(actor: User, values: FundValues) -> tuple[Fund | None, Problems]:
    values = with_fund_defaults(values)
    fund, problems = _add(lambda: Fund(**asdict(values)), lambda: fund_problems(values))
    if fund is not None:
        record_event(actor, "fund.created", fund, note=fund.name, details=_created(asdict(values)))
    return fund, problems


def update_fund(actor: User, fund: Fund, values: FundValues) -> tuple[bool, Problems]:
    """(whether anything changed, problems)."""
    fund_id = fund.id
    changes, problems = _change(fund, asdict(values), lambda: fund_problems(values, fund_id))
    if changes:
        record_event(actor, "fund.updated", fund, note=", ".join(changes), details=changes)
    return bool(changes), problems


# Outcome measures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureValues:
    """A measure as typed; required is None when neither yes nor no was chosen."""

    name: str
    guidance: str
    unit: str
    required: bool | None
    category: str

    def as_input(self) -> MeasureInput:
        return MeasureInput(self.name, self.guidance, self.unit, bool(self.required), self.category)


GUIDANCE_LIMIT = 5000
REQUIRED_PROBLEM = "Select whether grantees must answer this measure"


def _measure_form_problems(values: MeasureValues) -> Problems:
    """What grants.monitoring.measures.measure_problems leaves to the form: a yes or no, and the guidance's length."""
    problems: Problems = {}
    if len(values.guidance.strip()) > GUIDANCE_LIMIT:
        problems["guidance"] = f"The guidance must be {GUIDANCE_LIMIT:,} characters or fewer"
    if values.required is None:
        problems["required"] = REQUIRED_PROBLEM
    return problems


def add_fund_measure(actor: User, fund: Fund, values: MeasureValues) -> tuple[OutcomeMeasure | None, Problems]:
    """Add a measure to a fund (audited by the measures rule), or every problem with what was typed."""
    own = _measure_form_problems(values)
    if own:
        return None, {**measure_problems(fund, values.as_input()), **own}
    return add_measure(fund, actor, values.as_input())


def _unchanged(measure: OutcomeMeasure, data: MeasureInput) -> bool:
    return (measure.name, measure.guidance, measure.unit, measure.required, measure.category) == (
        data.name.strip(), data.guidance.strip(), data.unit, data.required, data.category.strip())


def change_fund_measure(actor: User, measure: OutcomeMeasure, values: MeasureValues) -> tuple[bool, Problems]:
    """(whether anything changed, problems). A measure returns have answered is refused whatever was typed
    (grants.core.refusals.Refused, from the measures rule)."""
    data = values.as_input()
    answered = has_answers(measure)
    own = _measure_form_problems(values)
    if own and not answered:
        return False, {**measure_problems(measure.fund, data, editing=measure), **own}
    if not own and not answered and _unchanged(measure, data):
        return False, {}
    problems = change_measure(measure, actor, data)  # refuses an answered measure
    return not problems, problems


# Fund-years ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundYearValues:
    year_start: int
    budget_pence: int
    per_bid_cap_pence: int
    per_applicant_cap_pence: int | None
    delegation_limit_pence: int
    opens_on: date
    closes_on: date


def _has_bids(fund_year_id: int) -> bool:
    return db.session.scalar(select(Bid.id).where(Bid.fund_year_id == fund_year_id).limit(1)) is not None


def fund_year_problems(fund: Fund, values: FundYearValues, fund_year: FundYear | None = None) -> Problems:
    problems: Problems = {}
    own_id = fund_year.id if fund_year is not None else None
    if not MIN_YEAR <= values.year_start <= MAX_YEAR:
        problems["year_start"] = f"Enter the year the financial year starts, between {MIN_YEAR} and {MAX_YEAR}"
    else:
        query = select(FundYear.id).where(FundYear.fund_id == fund.id, FundYear.year_start == values.year_start)
        if own_id is not None:
            query = query.where(FundYear.id != own_id)
        if db.session.scalar(query.limit(1)) is not None:
            problems["year_start"] = f"The {fund.name} already has a {financial_year_label(values.year_start)} year"
        elif (fund_year is not None and values.year_start != fund_year.year_start and _has_bids(fund_year.id)):
            problems["year_start"] = "The financial year cannot be changed because bids have been made to it"

    if values.budget_pence < 0:
        problems["budget_pence"] = "The budget must be £0 or more"
    elif fund_year is not None and values.budget_pence < fund_year.committed_pence:
        problems["budget_pence"] = (
            f"The budget cannot be less than the {format_money(fund_year.committed_pence)} "
            "already committed to approved awards"
        )

    if values.per_bid_cap_pence <= 0:
        problems["per_bid_cap_pence"] = "The per-bid cap must be more than £0"
    elif values.budget_pence > 0 and values.per_bid_cap_pence > values.budget_pence:
        # A budget of £0 means no money is allocated yet: nothing can be awarded, so any cap is harmless.
        problems["per_bid_cap_pence"] = "The per-bid cap cannot be more than the budget"

    if values.per_applicant_cap_pence is not None and values.per_applicant_cap_pence <= 0:
        problems["per_applicant_cap_pence"] = "The per-applicant cap must be more than £0, or left empty for no cap"

    if values.delegation_limit_pence < 0:
        problems["delegation_limit_pence"] = "The delegation limit must be £0 or more"

    if values.closes_on < values.opens_on:
        problems["closes_on"] = "The closing date must be the same as or after the opening date"
    return problems


def create_fund_year(actor: User, fund: Fund, values: FundYearValues) -> tuple[FundYear | None, Problems]:
    # After a refused flush `fund` is read again, so the check sees what the database holds now.
    fund_year, problems = _add(lambda: FundYear(fund_id=fund.id, committed_pence=0, **asdict(values)),
                               lambda: fund_year_problems(fund, values))
    if fund_year is not None:
        record_event(actor, "fund_year.created", fund_year, note=f"{fund.name} {fund_year.label}",
                     details=_created(asdict(values)))
    return fund_year, problems


def update_fund_year(actor: User, fund_year: FundYear, values: FundYearValues) -> tuple[bool, Problems]:
    """(whether anything changed, problems). The budget can never drop below what is committed:
    checked here for the message, and by the database's CHECK constraint against an award
    committed at the same moment (after the refused flush the fund-year is read again, with that award)."""
    changes, problems = _change(fund_year, asdict(values), lambda: fund_year_problems(fund_year.fund, values, fund_year))
    if changes:
        record_event(actor, "fund_year.updated", fund_year, note=f"{fund_year.fund.name} {fund_year.label}: "
                     + ", ".join(changes), details=changes)
    return bool(changes), problems


# Organisations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationValues:
    name: str
    org_type: str
    org_identifier: str | None
    charity_number: str | None = None
    company_number: str | None = None
    postcode: str | None = None
    district_code: str | None = None
    district_name: str | None = None
    active: bool = True


def clean_code(text: str | None) -> str | None:
    """A register number or code as registers write it: capitals, no spaces; empty is None."""
    cleaned = re.sub(r"\s+", "", text or "").upper()
    return cleaned or None


def clean_company_number(text: str | None) -> str | None:
    # Companies House numbers are eight characters; people often drop the leading zeros.
    cleaned = clean_code(text)
    return cleaned.zfill(8) if cleaned and cleaned.isdigit() and len(cleaned) < 8 else cleaned


def clean_postcode(text: str | None) -> str | None:
    """Capitals, with one space before the last three characters ("pe158nq" -> "PE15 8NQ")."""
    cleaned = clean_code(text)
    return f"{cleaned[:-3]} {cleaned[-3:]}" if cleaned and len(cleaned) > 3 else cleaned


def _registration_problems(values: OrganisationValues) -> Problems:
    problems: Problems = {}
    if values.org_identifier is not None:
        problem = org_id_problem(values.org_identifier) if len(values.org_identifier) <= 100 else \
            "The organisation identifier must be 100 characters or fewer"
        if problem:
            problems["org_identifier"] = problem
    if values.charity_number and not _CHARITY_NUMBER.match(values.charity_number):
        problems["charity_number"] = ("Enter the charity number as the register writes it, like 1234567, "
                                      "SC012345 or NIC100002")
    if values.company_number and not _COMPANY_NUMBER.match(values.company_number):
        problems["company_number"] = "Enter the company number as Companies House writes it, like 01234567 or SC123456"
    if values.postcode and not _POSTCODE.match(values.postcode):
        problems["postcode"] = "Enter a real postcode, like PE15 8NQ"
    if values.district_code and not _DISTRICT_CODE.match(values.district_code):
        problems["district_code"] = "Enter the district's ONS code: a letter and 8 digits, like E07000010"
    if values.district_code and not values.district_name:
        problems["district_name"] = "Enter the name of the district"
    elif values.district_name and not values.district_code:
        problems["district_code"] = "Enter the district's ONS code, like E07000010"
    elif values.district_name and len(values.district_name) > 100:
        problems["district_name"] = "The district name must be 100 characters or fewer"
    return problems


def organisation_problems(values: OrganisationValues, organisation_id: int | None = None) -> Problems:
    problems: Problems = {}
    if not values.name:
        problems["name"] = "Enter the name of the organisation"
    elif len(values.name) > 200:
        problems["name"] = "The name must be 200 characters or fewer"
    elif _same_name(Organisation, values.name, organisation_id):
        problems["name"] = f"There is already an organisation called {values.name}"
    if values.org_type not in ORG_TYPES:
        problems["org_type"] = "Select the type of organisation"
    return problems | _registration_problems(values)


def create_organisation(actor: User, values: OrganisationValues) -> tuple[Organisation | None, Problems]:
    organisation, problems = _add(lambda: Organisation(**asdict(values)), lambda: organisation_problems(values))
    if organisation is not None:
        record_event(actor, "organisation.created", organisation, note=organisation.name,
                     details=_created(asdict(values)))
    return organisation, problems


def update_organisation(actor: User, organisation: Organisation, values: OrganisationValues) -> tuple[bool, Problems]:
    organisation_id = organisation.id
    changes, problems = _change(organisation, asdict(values), lambda: organisation_problems(values, organisation_id))
    if changes:
        record_event(actor, "organisation.updated", organisation, note=", ".join(changes), details=changes)
    return bool(changes), problems


# Users ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewUserValues:
    email: str
    name: str
    role: str
    organisation_id: int | None
    password: str


@dataclass(frozen=True)
class UserValues:
    name: str
    role: str
    organisation_id: int | None
    active: bool


APPLICANT_NEEDS_ORGANISATION = "Select the organisation this applicant works for"


def _user_problems(name: str, role: str, organisation_id: int | None) -> Problems:
    problems: Problems = {}
    if not name:
        problems["name"] = "Enter the person's full name"
    elif len(name) > 200:
        problems["name"] = "The name must be 200 characters or fewer"
    if role not in ROLES:
        problems["role"] = "Select a role"
    if organisation_id is not None and db.session.get(Organisation, organisation_id) is None:
        problems["organisation_id"] = "Select an organisation from the list"
    elif role == "applicant" and organisation_id is None:
        problems["organisation_id"] = APPLICANT_NEEDS_ORGANISATION
    return problems


def new_user_problems(values: NewUserValues) -> Problems:
    problems: Problems = {}
    email = normalise_email(values.email)
    if not email:
        problems["email"] = "Enter an email address"
    elif db.session.scalar(select(User.id).where(User.email == email).limit(1)) is not None:
        problems["email"] = "There is already a user with this email address"
    problems.update(_user_problems(values.name, values.role, values.organisation_id))
    password_message = password_problem(values.password, email=email, name=values.name)
    if password_message:
        problems["password"] = password_message
    return problems


def create_user(actor: User, values: NewUserValues) -> tuple[User | None, Problems]:
    user, problems = _add(
        lambda: User(email=normalise_email(values.email), name=values.name, role=values.role,
                     organisation_id=values.organisation_id, password_hash=hash_password(values.password),
                     active=True),
        lambda: new_user_problems(values))
    if user is None:
        return None, problems
    recorded = {"email": user.email, "name": user.name, "role": user.role, "organisation_id": user.organisation_id}
    record_event(actor, "user.created", user, to_state="active", note=f"{user.email} as {user.role_name}",
                 details=_created(recorded))  # never the password
    return user, {}


def user_problems(actor: User, user: User, values: UserValues) -> Problems:
    problems = _user_problems(values.name, values.role, values.organisation_id)
    if user.id == actor.id:
        if not values.active:
            problems["active"] = "You cannot deactivate your own account"
        if values.role != "admin" and "role" not in problems:
            problems["role"] = "You cannot remove your own administrator role"
    return problems


def update_user(actor: User, user: User, values: UserValues) -> tuple[bool, Problems]:
    """Change a user's details. Deactivating ends every session they have."""
    was_active = user.active
    # A flush the database refuses is told as a clash (CLASHED), not re-checked.
    changes, problems = _change(user, asdict(values), lambda: user_problems(actor, user, values),
                                recheck=lambda: {})
    if not changes:
        return False, problems
    if not values.active:
        user.session_token = None  # their session cookies stop working on the next request
    if "active" in changes:
        action = "user.deactivated" if was_active else "user.reactivated"
        from_state, to_state = ("active", "deactivated") if was_active else ("deactivated", "active")
    else:
        action, from_state, to_state = "user.updated", None, None
    record_event(actor, action, user, from_state=from_state, to_state=to_state,
                 note=", ".join(changes), details=changes)
    return True, {}


def reset_user_password(actor: User, user: User, password: str) -> Problems:
    """An administrator sets a new password; the user's sessions end. The password is never logged."""
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        return {"password": problem}
    set_password(user, password, actor, action="user.password_set_by_admin")
    return {}
