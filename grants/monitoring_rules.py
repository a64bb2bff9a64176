"""Six-monthly outcome monitoring: one return per grant per half-year it runs in.

A return is due a set number of days (the fund's setting) after its period ends, and is overdue when
that date has passed and nothing has been submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_
from sqlalchemy.sql import ColumnElement

from grants.audit import record_event
from grants.extensions import db
from grants.mail import tell_organisation
from grants.models import GrantAgreement, MonitoringReturn, User, utcnow
from grants.periods import Period, due_date, half_years_overlapping
from grants.refusals import Refused
from grants.templating import format_date

STATUS_NAMES = {
    "due": "Not submitted",
    "submitted": "Submitted",
    "accepted": "Accepted",
    "returned": "Returned for changes",
    "resubmitted": "Resubmitted",
}
STATUS_COLOURS = {"due": "grey", "submitted": "blue", "accepted": "green", "returned": "yellow", "resubmitted": "blue"}
EDITABLE_BY_GRANTEE = {"due", "returned"}
REVIEWABLE = {"submitted", "resubmitted"}


class ReturnError(Refused):
    """A change the monitoring rules refuse; the message says why."""


@dataclass
class ReturnAnswers:
    progress: str
    outputs_achieved: str
    outcomes_achieved: str
    people_reached: int | None
    spent_pence: int | None
    challenges: str


def period_of(ret: MonitoringReturn) -> Period:
    return next(p for p in half_years_overlapping(ret.period_start, ret.period_end) if p.start == ret.period_start)


def period_label(ret: MonitoringReturn) -> str:
    return period_of(ret).label


def is_overdue(ret: MonitoringReturn, today: date) -> bool:
    return ret.status in EDITABLE_BY_GRANTEE and ret.due_on < today


def overdue_condition(today: date) -> ColumnElement[bool]:
    """is_overdue, as a condition for a query."""
    return and_(MonitoringReturn.status.in_(EDITABLE_BY_GRANTEE), MonitoringReturn.due_on < today)


def display_status(ret: MonitoringReturn, today: date) -> tuple[str, str]:
    """The status to show and its tag colour; overdue is a state of the calendar, not of the record."""
    if is_overdue(ret, today):
        return "Overdue", "red"
    return STATUS_NAMES[ret.status], STATUS_COLOURS[ret.status]


def schedule_returns(agreement: GrantAgreement, actor: User) -> list[MonitoringReturn]:
    """One return for each half-year the grant overlaps; periods already scheduled are left as they are."""
    existing = {ret.period_start for ret in agreement.returns}
    days = agreement.bid.fund_year.fund.monitoring_due_days
    made = []
    for period in half_years_overlapping(agreement.start_date, agreement.end_date):
        if period.start in existing:
            continue
        ret = MonitoringReturn(agreement_id=agreement.id, period_start=period.start, period_end=period.end,
                               due_on=due_date(period, days), status="due")
        db.session.add(ret)
        made.append(ret)
        record_event(actor, "monitoring_return.scheduled", ret, to_state="due",
                     note=f"{period.label} for {agreement.reference}, due {ret.due_on.isoformat()}")
    return made


def answer_problems(answers: ReturnAnswers) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not answers.progress.strip():
        problems["progress"] = "Describe the progress made in this period"
    if not answers.outputs_achieved.strip():
        problems["outputs_achieved"] = "Describe the outputs delivered in this period"
    if not answers.outcomes_achieved.strip():
        problems["outcomes_achieved"] = "Describe the outcomes achieved in this period"
    if answers.people_reached is None:
        problems["people_reached"] = "Enter how many people the work reached, or 0"
    if answers.spent_pence is None:
        problems["spent_pence"] = "Enter how much of the grant was spent in this period, or 0"
    return problems


def _store(ret: MonitoringReturn, answers: ReturnAnswers) -> None:
    ret.progress = answers.progress.strip()
    ret.outputs_achieved = answers.outputs_achieved.strip()
    ret.outcomes_achieved = answers.outcomes_achieved.strip()
    ret.people_reached = answers.people_reached
    ret.spent_pence = answers.spent_pence
    ret.challenges = answers.challenges.strip()


def _check_grantee(ret: MonitoringReturn, user: User) -> None:
    if user.role != "applicant" or user.organisation_id != ret.agreement.organisation_id:
        raise ReturnError("Only someone from the grantee organisation can complete its return")
    if ret.status not in EDITABLE_BY_GRANTEE:
        raise ReturnError(f"This return is {STATUS_NAMES[ret.status].lower()}, so it cannot be changed now. "
                          "No change has been made.")


def save_draft(ret: MonitoringReturn, user: User, answers: ReturnAnswers) -> None:
    """Keep what has been written so far; nothing is checked until the return is submitted."""
    _check_grantee(ret, user)
    _store(ret, answers)
    record_event(user, "monitoring_return.saved", ret, from_state=ret.status, to_state=ret.status)


def submit(ret: MonitoringReturn, user: User, answers: ReturnAnswers, today: date) -> dict[str, str]:
    _check_grantee(ret, user)
    if today < ret.period_start:
        raise ReturnError(f"This return's period starts on {format_date(ret.period_start)}; it can be submitted "
                          "from then. No change has been made.")
    _store(ret, answers)
    problems = answer_problems(answers)
    if problems:
        return problems
    from_state = ret.status
    ret.status = "resubmitted" if from_state == "returned" else "submitted"
    ret.submitted_at = utcnow()
    ret.submitted_by_id = user.id
    record_event(user, f"monitoring_return.{ret.status}", ret, from_state=from_state, to_state=ret.status,
                 note="submitted late" if ret.due_on < today else "")
    return {}


def review(ret: MonitoringReturn, officer: User, outcome: str | None, note: str) -> dict[str, str]:
    """An officer accepts a return or sends it back with what to change."""
    if ret.status not in REVIEWABLE:
        raise ReturnError(f"This return is {STATUS_NAMES[ret.status].lower()}, so it cannot be reviewed now. "
                          "No change has been made.")
    if outcome not in ("accepted", "returned"):
        return {"outcome": "Select whether you accept the return or send it back for changes"}
    if outcome == "returned" and not note.strip():
        return {"note": "Say what needs to change"}
    from_state = ret.status
    ret.status = outcome
    ret.reviewed_at = utcnow()
    ret.reviewed_by_id = officer.id
    ret.review_note = note.strip()
    record_event(officer, f"monitoring_return.{outcome}", ret, from_state=from_state, to_state=outcome, note=note.strip())
    agreement = ret.agreement
    label = period_label(ret)
    if outcome == "returned":
        tell_organisation(agreement.organisation, f"{agreement.reference}: monitoring return {label} needs changes",
                          f"The OPCC has sent back your monitoring return for {label} ({agreement.bid.title}).\n\n"
                          f"{note.strip()}\n\nSign in, change the return and submit it again.")
    else:
        tell_organisation(agreement.organisation, f"{agreement.reference}: monitoring return {label} accepted",
                          f"The OPCC has accepted your monitoring return for {label} ({agreement.bid.title})."
                          + (f"\n\n{note.strip()}" if note.strip() else ""))
    return {}
