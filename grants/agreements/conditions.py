"""The standard conditions of grant: versions an administrator keeps, each in force from its date.

An agreement takes the version in force on the day it is prepared (the latest whose date has come) and keeps
its number and exact text, so a later version never rewrites a signed agreement. A version is therefore never
changed once an agreement uses it; a version not yet in force that no agreement uses may still be corrected.
A database with no version at all (a fresh schema built without the migrations) gets version 1, with the
wording below, the first time an agreement is prepared, recorded in the audit history as made by the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grants.core.audit import record_event
from grants.core.dates import format_date
from grants.core.extensions import db
from grants.core.models import ConditionsVersion, GrantAgreement, User
from grants.core.paging import Page, page_of
from grants.core.refusals import Refused

# Version 1, as the OPCC first issued it; migration 0007 holds the same text.
DEFAULT_CONDITIONS = """\
1. The grant is used only for the purpose, activities and budget set out in the bid and this agreement.
2. Any part of the grant not spent on that purpose by the end date, or spent in breach of these conditions, \
is repaid to the Office of the Police and Crime Commissioner on request.
3. The grantee sends a monitoring return on progress, outcome measures and spending for each reporting \
period the grant runs in (half-years from 1 April and 1 October, or quarters where the fund reports \
quarterly), by the date the OPCC sets.
4. Payments are made as the work needs them, not in advance of need, against the payment schedule.
5. The grantee tells the OPCC at once of any change to the work, its costs or its timing, of any suspected \
fraud or irregularity, and of any safeguarding concern.
6. The grantee keeps records of spending for six years and lets the OPCC or its auditors see them.
7. The grantee acknowledges the Police and Crime Commissioner's funding in any publicity about the work.
8. The grantee handles personal data lawfully under UK data protection law."""
DEFAULT_EFFECTIVE_FROM = date(2025, 4, 1)

TEXT_LIMIT = 20_000
NONE_IN_FORCE = ("No standard conditions are in force on {day}, so no agreement can be prepared. An administrator "
                 "adds a version under Administration, Standard conditions.")
IN_USE = ("Version {number} cannot be changed: {uses} {agreements} {verb} made with it, and each keeps the exact "
          "text it was issued with. Add a new version instead.")
IN_FORCE = ("Version {number} cannot be changed: it came into force on {day}, and what was in force on a day "
            "stays as it was, for any agreement prepared then. Add a new version instead.")


def in_force(on: date) -> ConditionsVersion | None:
    """The version in force on `on`: the latest whose date has come (the higher number, for two from one day)."""
    return db.session.scalar(
        select(ConditionsVersion).where(ConditionsVersion.effective_from <= on)
        .order_by(ConditionsVersion.effective_from.desc(), ConditionsVersion.number.desc()).limit(1))


def by_number(number: int | None) -> ConditionsVersion | None:
    if number is None:
        return None
    return db.session.scalar(select(ConditionsVersion).where(ConditionsVersion.number == number))


def latest() -> ConditionsVersion | None:
    """The version with the highest number: the last one added."""
    return db.session.scalar(select(ConditionsVersion).order_by(ConditionsVersion.number.desc()).limit(1))


def _any_version() -> bool:
    return db.session.scalar(select(ConditionsVersion.id).limit(1)) is not None


def default_version(on: date) -> ConditionsVersion:
    """Version 1 as it would be made on an empty table: in force from 1 April 2025 (or `on`, if earlier)."""
    return ConditionsVersion(number=1, text=DEFAULT_CONDITIONS, effective_from=min(DEFAULT_EFFECTIVE_FROM, on))


def preview(on: date) -> ConditionsVersion | None:
    """What an agreement prepared on `on` would take, without storing anything: the version in force, or on an
    empty table version 1 as it would be made; None when versions exist but none is in force yet."""
    found = in_force(on)
    if found is not None or _any_version():
        return found
    return default_version(on)


def for_new_agreement(on: date) -> ConditionsVersion | None:
    """The version an agreement prepared on `on` takes; on an empty table version 1 is made first (by the
    system, audited). None when versions exist but none is in force yet."""
    found = in_force(on)
    if found is not None or _any_version():
        return found
    made = default_version(on)
    try:
        with db.session.begin_nested():
            db.session.add(made)
    except IntegrityError:  # another request made version 1 at the same moment: use theirs
        return in_force(on)
    record_event(None, "conditions.created", made, note=f"Version 1, in force from {format_date(made.effective_from)}",
                 details={"number": 1, "effective_from": made.effective_from.isoformat(), "made_by": "system"})
    return made


def none_in_force(on: date) -> str:
    return NONE_IN_FORCE.format(day=format_date(on))


def uses(version: ConditionsVersion) -> int:
    """How many agreements were made with this version."""
    return db.session.scalar(select(func.count(GrantAgreement.id))
                             .where(GrantAgreement.conditions_version == version.number)) or 0


def locked_because(version: ConditionsVersion, today: date, used: int | None = None) -> str | None:
    """Why this version can no longer be changed, or None while it is a future version no agreement uses."""
    used = uses(version) if used is None else used
    if used:
        return IN_USE.format(number=version.number, uses=used, agreements="agreement" if used == 1 else "agreements",
                             verb="was" if used == 1 else "were")
    if version.effective_from <= today:
        return IN_FORCE.format(number=version.number, day=format_date(version.effective_from))
    return None


@dataclass(frozen=True)
class VersionRow:
    version: ConditionsVersion
    uses: int
    state: str  # "future", "in_force" or "replaced"
    locked: str | None


def version_list(number: int, today: date) -> Page[VersionRow]:
    """One page of the versions, newest first, each with how many agreements use it and whether it is in force:
    four statements (the agreements are counted for the page's versions at once, in one pass)."""
    query = select(ConditionsVersion).order_by(ConditionsVersion.effective_from.desc(), ConditionsVersion.number.desc())
    page = page_of(query, number, 50)
    numbers = [version.number for version in page.items]
    counted = db.session.execute(
        select(GrantAgreement.conditions_version, func.count(GrantAgreement.id))
        .where(GrantAgreement.conditions_version.in_(numbers)).group_by(GrantAgreement.conditions_version)
    ).all() if numbers else []
    counts = {used: count for used, count in counted if used is not None}
    current = in_force(today)
    rows = [VersionRow(version, counts.get(version.number, 0), state_of(version, today, current),
                       locked_because(version, today, counts.get(version.number, 0))) for version in page.items]
    return Page(rows, page.number, page.size, page.total)


def state_of(version: ConditionsVersion, today: date, current: ConditionsVersion | None) -> str:
    """"future" (not yet in force), "in_force" (the version `current` in force today) or "replaced"."""
    if version.effective_from > today:
        return "future"
    return "in_force" if current is not None and version.id == current.id else "replaced"


@dataclass(frozen=True)
class ConditionsValues:
    text: str
    effective_from: date | None

    @property
    def wording(self) -> str:
        """The text as kept: line breaks as browsers send them (CR LF) made plain, no spaces at line ends."""
        lines = self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(line.rstrip() for line in lines).strip()


def _neighbours(number: int | None) -> tuple[ConditionsVersion | None, ConditionsVersion | None]:
    """The versions just before and just after `number` (None: a new version, after every other)."""
    before = select(ConditionsVersion).order_by(ConditionsVersion.number.desc()).limit(1)
    if number is None:
        return db.session.scalar(before), None
    earlier = db.session.scalar(before.where(ConditionsVersion.number < number))
    later = db.session.scalar(select(ConditionsVersion).where(ConditionsVersion.number > number)
                              .order_by(ConditionsVersion.number).limit(1))
    return earlier, later


def conditions_problems(values: ConditionsValues, today: date, editing: ConditionsVersion | None = None) -> dict[str, str]:
    """What is wrong with a version as typed. Its date is today or later, and versions come into force in the
    order of their numbers, so the version in force on any day never depends on when it was typed in."""
    problems: dict[str, str] = {}
    text = values.wording
    earlier, later = _neighbours(editing.number if editing is not None else None)
    if not text:
        problems["text"] = "Enter the text of the standard conditions"
    elif len(text) > TEXT_LIMIT:
        problems["text"] = f"The standard conditions must be {TEXT_LIMIT:,} characters or fewer"
    elif earlier is not None and text == earlier.text.strip():
        problems["text"] = f"The text is the same as version {earlier.number}: change it, or keep version {earlier.number}"
    day = values.effective_from
    if day is None:
        problems["effective_from"] = "Enter the date the conditions come into force"
    elif day < today:
        problems["effective_from"] = "The date the conditions come into force must be today or later"
    elif earlier is not None and day < earlier.effective_from:
        problems["effective_from"] = (f"The date must be on or after {format_date(earlier.effective_from)}, when "
                                      f"version {earlier.number} comes into force")
    elif later is not None and day > later.effective_from:
        problems["effective_from"] = (f"The date must be on or before {format_date(later.effective_from)}, when "
                                      f"version {later.number} comes into force")
    return problems


def add_version(actor: User, values: ConditionsValues, today: date) -> tuple[ConditionsVersion | None, dict[str, str]]:
    """A new version, numbered after the last; (None, problems) adds nothing. Two made at the same moment clash
    on the number, and the second is refused by the database."""
    problems = conditions_problems(values, today)
    if problems:
        return None, problems
    assert values.effective_from is not None
    last = db.session.scalar(select(func.max(ConditionsVersion.number))) or 0
    version = ConditionsVersion(number=last + 1, text=values.wording, effective_from=values.effective_from,
                                created_by_id=actor.id)
    db.session.add(version)
    record_event(actor, "conditions.created", version,
                 note=f"Version {version.number}, in force from {format_date(version.effective_from)}",
                 details={"number": version.number, "effective_from": version.effective_from.isoformat()})
    return version, {}


def change_version(actor: User, version: ConditionsVersion, values: ConditionsValues,
                   today: date) -> tuple[bool, dict[str, str]]:
    """Correct a future version no agreement uses: (whether anything changed, problems). A version in force or
    in use is refused whatever was typed."""
    reason = locked_because(version, today)
    if reason:
        raise Refused(reason)
    problems = conditions_problems(values, today, editing=version)
    if problems:
        return False, problems
    assert values.effective_from is not None
    changes = {}
    if version.text != values.wording:
        changes["text"] = {"from": version.text, "to": values.wording}
        version.text = values.wording
    if version.effective_from != values.effective_from:
        changes["effective_from"] = {"from": version.effective_from.isoformat(), "to": values.effective_from.isoformat()}
        version.effective_from = values.effective_from
    if changes:
        record_event(actor, "conditions.updated", version, note=f"Version {version.number}: " + ", ".join(changes),
                     details=changes)
    return bool(changes), {}
