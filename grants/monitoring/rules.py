"""Outcome monitoring: one return per grant per half-year it runs in.

A return is due a set number of days (the fund's setting) after its period ends, and is overdue when
that date has passed and nothing has been submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_
from sqlalchemy.sql import ColumnElement

from grants.core.audit import record_event
from grants.core.dates import due_date, half_years_overlapping
from grants.core.extensions import db
from grants.core.mail import tell_organisation
from grants.core.models import GrantAgreement, MonitoringReturn, User, utcnow
from grants.monitoring.lifecycle import RETURN, WAITING


@dataclass
class ReturnAnswers:
    progress: str
    outputs_achieved: str
    outcomes_achieved: str
    people_reached: int | None
    spent_pence: int | None
    challenges: str


def overdue_condition(today: date) -> ColumnElement[bool]:
    """is_overdue, as a condition for a query."""
    return and_(MonitoringReturn.status.in_(WAITING), MonitoringReturn.due_on < today)


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


def save_draft(ret: MonitoringReturn, user: User, answers: ReturnAnswers, today: date) -> None:
    """Keep what has been written so far; nothing is checked until the return is submitted."""
    RETURN.check("complete", user, ret, today)
    _store(ret, answers)
    RETURN.apply("complete", user, ret, today)


def submit(ret: MonitoringReturn, user: User, answers: ReturnAnswers, today: date) -> dict[str, str]:
    action = "resubmit" if ret.status == "returned" else "submit"
    RETURN.check(action, user, ret, today)
    _store(ret, answers)
    problems = answer_problems(answers)
    if problems:
        return problems
    late = ret.due_on < today
    RETURN.apply(action, user, ret, today, note="submitted late" if late else "")
    ret.submitted_at = utcnow()
    ret.submitted_by_id = user.id
    return {}


REVIEW_OUTCOMES = {"accepted": "accept", "returned": "send_back"}


def review(ret: MonitoringReturn, officer: User, outcome: str | None, note: str, today: date) -> dict[str, str]:
    """An officer accepts a return or sends it back with what to change."""
    RETURN.check("review", officer, ret, today)
    if outcome not in REVIEW_OUTCOMES:
        return {"outcome": "Select whether you accept the return or send it back for changes"}
    if outcome == "returned" and not note.strip():
        return {"note": "Say what needs to change"}
    RETURN.apply(REVIEW_OUTCOMES[outcome], officer, ret, today, note=note.strip())
    ret.reviewed_at = utcnow()
    ret.reviewed_by_id = officer.id
    ret.review_note = note.strip()
    agreement = ret.agreement
    label = ret.period_label
    if outcome == "returned":
        tell_organisation(agreement.organisation, f"{agreement.reference}: monitoring return {label} needs changes",
                          f"The OPCC has sent back your monitoring return for {label} ({agreement.bid.title}).\n\n"
                          f"{note.strip()}\n\nSign in, change the return and submit it again.")
    else:
        tell_organisation(agreement.organisation, f"{agreement.reference}: monitoring return {label} accepted",
                          f"The OPCC has accepted your monitoring return for {label} ({agreement.bid.title})."
                          + (f"\n\n{note.strip()}" if note.strip() else ""))
    return {}
