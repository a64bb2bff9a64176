"""Reminders about monitoring returns, sent by `flask send-reminders` (run daily from cron).

- The grantee is reminded a set number of days (the fund's reminder days) before a return is due, and told
  again when it becomes overdue.
- Officers get a weekly digest of overdue returns (once per ISO week, on the first run of the week).

Each message goes exactly once per return and stage: its key is written to `sent_reminder` (unique) in the
same transaction as the email, so a second run, or a run at the same moment, finds the key taken and skips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from grants.core.dates import format_date
from grants.core.extensions import db
from grants.core.mail import queue_email, tell_organisation
from grants.core.models import Bid, Fund, FundYear, GrantAgreement, MonitoringReturn, SentReminder, User
from grants.monitoring.lifecycle import WAITING

MAX_REMINDER_DAYS = 366  # a fund's reminder days are kept below this by the admin form


@dataclass
class ReminderCounts:
    due_soon: int = 0
    overdue: int = 0
    digests: int = 0


def _claim(key: str) -> bool:
    """Take the reminder's key for this transaction; False when another run has already taken it."""
    try:
        with db.session.begin_nested():
            db.session.add(SentReminder(key=key))
    except IntegrityError:
        return False
    return True


def _waiting_returns(condition: ColumnElement[bool]) -> list[tuple[MonitoringReturn, int]]:
    """Returns waiting for the grantee of running grants, each with its fund's reminder days."""
    return list(db.session.execute(
        select(MonitoringReturn, Fund.reminder_days)
        .join(GrantAgreement, MonitoringReturn.agreement_id == GrantAgreement.id)
        .join(Bid, GrantAgreement.bid_id == Bid.id)
        .join(FundYear, Bid.fund_year_id == FundYear.id)
        .join(Fund, FundYear.fund_id == Fund.id)
        .where(MonitoringReturn.status.in_(WAITING), GrantAgreement.status == "active", condition)
        .order_by(MonitoringReturn.due_on, MonitoringReturn.id)
    ))


def _send_once(key: str, send: object) -> bool:
    """Claim the key and send, committed together; a key already taken sends nothing."""
    if not _claim(key):
        db.session.rollback()
        return False
    send()  # type: ignore[operator]
    try:
        db.session.commit()
    except IntegrityError:  # another run committed the same key first
        db.session.rollback()
        return False
    return True


def send_reminders(today: date) -> ReminderCounts:
    counts = ReminderCounts()
    # A due-soon reminder from the fund's reminder days before the due date, until the day it is due.
    upcoming = _waiting_returns(and_(MonitoringReturn.due_on >= today,
                                     MonitoringReturn.due_on <= today + timedelta(days=MAX_REMINDER_DAYS)))
    due_soon = [r.id for r, days in upcoming if r.due_on - timedelta(days=days) <= today]
    for ret_id in due_soon:
        ret = db.session.get(MonitoringReturn, ret_id)
        assert ret is not None
        if _send_once(f"return:{ret.id}:due_soon", lambda ret=ret: _tell_grantee_due(ret)):
            counts.due_soon += 1
    for ret_id in [r.id for r, _days in _waiting_returns(MonitoringReturn.due_on < today)]:
        ret = db.session.get(MonitoringReturn, ret_id)
        assert ret is not None
        if _send_once(f"return:{ret.id}:overdue", lambda ret=ret: _tell_grantee_overdue(ret, today)):
            counts.overdue += 1
    overdue = [r for r, _days in _waiting_returns(MonitoringReturn.due_on < today)]
    if overdue:
        year, week, _ = today.isocalendar()
        if _send_once(f"digest:{year}-W{week:02d}", lambda: _tell_officers(overdue, today)):
            counts.digests += 1
    return counts


def _tell_grantee_due(ret: MonitoringReturn) -> None:
    agreement = ret.agreement
    tell_organisation(
        agreement.organisation, f"{agreement.reference}: monitoring return {ret.period_label} due {format_date(ret.due_on)}",
        f"Your monitoring return for {ret.period_label} ({agreement.bid.title}) is due on {format_date(ret.due_on)}.\n\n"
        "Sign in to complete it: your outcome measures, what was spent on each budget line, and any evidence.",
    )


def _tell_grantee_overdue(ret: MonitoringReturn, today: date) -> None:
    agreement = ret.agreement
    days = (today - ret.due_on).days
    tell_organisation(
        agreement.organisation, f"{agreement.reference}: monitoring return {ret.period_label} is overdue",
        f"Your monitoring return for {ret.period_label} ({agreement.bid.title}) was due on "
        f"{format_date(ret.due_on)}, {days} day{'s' if days != 1 else ''} ago, and has not been submitted.\n\n"
        "Sign in to complete and submit it. Returns are a condition of the grant.",
    )


def _tell_officers(overdue: list[MonitoringReturn], today: date) -> None:
    lines = [f"- {r.agreement.reference} {r.agreement.organisation.name}: {r.period_label}, due {format_date(r.due_on)}"
             for r in overdue]
    body = (f"{len(overdue)} monitoring return{'s are' if len(overdue) != 1 else ' is'} overdue on "
            f"{format_date(today)}:\n\n" + "\n".join(lines))
    for officer in db.session.scalars(select(User).where(User.role == "officer", User.active.is_(True))):
        queue_email(officer.email, f"Overdue monitoring returns: {len(overdue)}", body, recipient=officer)
