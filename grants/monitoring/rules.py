"""Outcome monitoring: one return per grant per reporting period it runs in (half-years, or quarters for a
quarterly fund), answering the fund's outcome measures and the spend against each approved budget line.

A return is due a set number of days (the fund's setting) after its period ends, never before the grant was
started plus those days, and is overdue when that date has passed and nothing has been submitted. Ending a
grant makes the returns still outstanding not required.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.sql import ColumnElement

from grants.agreements.queries import paid_pence
from grants.core.audit import record_event
from grants.core.dates import periods_overlapping
from grants.core.extensions import db
from grants.core.mail import queue_email, tell_organisation
from grants.core.models import (
    RAG_RATINGS,
    GrantAgreement,
    MeasureValue,
    MonitoringReturn,
    OutcomeMeasure,
    ReturnSpend,
    User,
    summed,
    utcnow,
)
from grants.core.money import MoneyError, format_money, parse_money
from grants.monitoring.lifecycle import RETURN, REVIEWABLE, WAITING
from grants.monitoring.measures import measures_for, parse_value

COUNTED = ("submitted", "resubmitted", "accepted")  # returns whose figures count: sent in, not sent back


@dataclass
class ReturnAnswers:
    """What the grantee typed, as text: checked by the rules, so nothing typed is lost on a problem."""

    progress: str
    challenges: str
    rag: str | None
    measures: dict[int, str] = field(default_factory=dict)  # measure id -> text
    spend: dict[int, str] = field(default_factory=dict)  # budget line id -> text


def measure_field(measure_id: int) -> str:
    return f"measure-{measure_id}"


def spend_field(line_id: int) -> str:
    return f"spend-{line_id}"


def overdue_condition(today: date) -> ColumnElement[bool]:
    """is_overdue, as a condition for a query."""
    return and_(MonitoringReturn.status.in_(WAITING), MonitoringReturn.due_on < today)


def schedule_returns(agreement: GrantAgreement, actor: User, today: date) -> list[MonitoringReturn]:
    """One return for each period the grant overlaps; periods already scheduled are left as they are.

    The last return ends on the grant's end date; none is due before the grant started plus the fund's days."""
    existing = {ret.period_start for ret in agreement.returns}
    fund = agreement.bid.fund_year.fund
    days = fund.monitoring_due_days
    earliest_due = today + timedelta(days=days)
    made = []
    for period in periods_overlapping(agreement.start_date, agreement.end_date, fund.reporting_frequency):
        if period.start in existing:
            continue
        end = min(period.end, agreement.end_date)
        ret = MonitoringReturn(agreement_id=agreement.id, period_name=period.name, period_start=period.start,
                               period_end=end, due_on=max(end + timedelta(days=days), earliest_due), status="due")
        agreement.returns.append(ret)
        made.append(ret)
        record_event(actor, "monitoring_return.scheduled", ret, to_state="due",
                     note=f"{period.label} for {agreement.reference}, due {ret.due_on.isoformat()}")
    return made


def release_returns(agreement: GrantAgreement, officer: User, today: date) -> int:
    """The grant has ended: the returns still outstanding are not required. Returns how many."""
    released = 0
    outstanding = RETURN.action("not_required").sources
    for ret in agreement.returns:
        if ret.status in outstanding:
            RETURN.apply("not_required", officer, ret, today, system=True,
                         note=f"Grant {agreement.reference} ended")
            released += 1
    return released


def follow_end_date(agreement: GrantAgreement, actor: User, today: date) -> None:
    """A variation moved a running grant's end date: outstanding returns for periods after it are not
    required, the last one ends on it, and periods the grant now reaches get their returns."""
    if agreement.status != "active":
        return  # returns are scheduled when the grant starts, from the dates it has then
    fund = agreement.bid.fund_year.fund
    days = timedelta(days=fund.monitoring_due_days)
    outstanding = RETURN.action("not_required").sources
    for ret in agreement.returns:
        if ret.status == "not_required" and ret.period_start <= agreement.end_date:
            RETURN.apply("require_again", actor, ret, today, system=True,
                         note=f"Grant {agreement.reference} now runs to {agreement.end_date.isoformat()}")
        if ret.status not in outstanding:
            continue
        if ret.period_start > agreement.end_date:
            RETURN.apply("not_required", actor, ret, today, system=True,
                         note=f"Grant {agreement.reference} now ends before this period")
            continue
        period = periods_overlapping(ret.period_start, ret.period_start, fund.reporting_frequency)[0]
        end = min(period.end, agreement.end_date)
        if end != ret.period_end:
            ret.period_end, ret.due_on = end, max(end + days, today + days)
            record_event(actor, "monitoring_return.rescheduled", ret, from_state=ret.status, to_state=ret.status,
                         note=f"Period now ends {end.isoformat()}, due {ret.due_on.isoformat()}")
    schedule_returns(agreement, actor, today)


def returns_awaiting_review(agreement: GrantAgreement) -> list[MonitoringReturn]:
    return [ret for ret in agreement.returns if ret.status in REVIEWABLE]


# --- The grantee's answers --------------------------------------------------------------------------------


def _parsed(ret: MonitoringReturn, answers: ReturnAnswers) -> tuple[dict[int, int], dict[int, int], dict[str, str]]:
    """The answers given, read in their units, and the problems with those given badly (missing is not a problem
    until the return is submitted)."""
    problems: dict[str, str] = {}
    values: dict[int, int] = {}
    for measure in measures_for(ret.agreement.bid.fund_year.fund, ret.values):
        text = answers.measures.get(measure.id, "").strip()
        if text:
            try:
                values[measure.id] = parse_value(measure.unit, text, measure.name)
            except ValueError as exc:
                problems[measure_field(measure.id)] = str(exc)
    spend: dict[int, int] = {}
    for line in ret.agreement.bid.budget_lines:
        text = answers.spend.get(line.id, "").strip()
        if text:
            try:
                spend[line.id] = parse_money(text)
            except MoneyError as exc:
                problems[spend_field(line.id)] = f"Spend on {line.item}: {str(exc)[0].lower()}{str(exc)[1:]}"
    if answers.rag is not None and answers.rag not in RAG_RATINGS:
        problems["rag"] = "Select red, amber or green"
    return values, spend, problems


def _store(ret: MonitoringReturn, answers: ReturnAnswers, values: dict[int, int], spend: dict[int, int]) -> None:
    ret.progress = answers.progress.strip()
    ret.challenges = answers.challenges.strip()
    ret.rag = answers.rag or None
    kept = {v.measure_id: v for v in ret.values}
    for measure_id, value in values.items():
        if measure_id in kept:
            kept[measure_id].value = value
        else:
            ret.values.append(MeasureValue(measure_id=measure_id, value=value))
    ret.values = [v for v in ret.values if v.measure_id in values]
    lines = {s.budget_line_id: s for s in ret.spend}
    for line_id, pence in spend.items():
        if line_id in lines:
            lines[line_id].spent_pence = pence
        else:
            ret.spend.append(ReturnSpend(budget_line_id=line_id, spent_pence=pence))
    ret.spend = [s for s in ret.spend if s.budget_line_id in spend]


def save_draft(ret: MonitoringReturn, user: User, answers: ReturnAnswers, today: date) -> dict[str, str]:
    """Keep what has been written so far; only answers given badly are problems until the return is submitted."""
    RETURN.check("complete", user, ret, today)
    values, spend, problems = _parsed(ret, answers)
    if problems:
        return problems
    _store(ret, answers, values, spend)
    RETURN.apply("complete", user, ret, today)
    return {}


def missing_answers(ret: MonitoringReturn, answers: ReturnAnswers, values: dict[int, int],
                    spend: dict[int, int]) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not answers.progress.strip():
        problems["progress"] = "Describe the progress made in this period"
    if answers.rag is None:
        problems["rag"] = "Select how the work is going: red, amber or green"
    for measure in measures_for(ret.agreement.bid.fund_year.fund, ret.values):
        if measure.required and measure.id not in values and measure_field(measure.id) not in problems:
            problems[measure_field(measure.id)] = (f"Select yes or no for {measure.name.lower()}"
                                                   if measure.unit == "yes_no" else f"Enter {measure.name.lower()}")
    for line in ret.agreement.bid.budget_lines:
        if line.id not in spend:
            problems[spend_field(line.id)] = f"Enter the spend on {line.item} in this period, or 0"
    return problems


def _checked(ret: MonitoringReturn, answers: ReturnAnswers) -> tuple[dict[int, int], dict[int, int], dict[str, str]]:
    """The answers read in their units, and everything that stops the return being submitted: answers
    missing or given badly."""
    values, spend, problems = _parsed(ret, answers)
    return values, spend, {**missing_answers(ret, answers, values, spend), **problems}


def submission_problems(ret: MonitoringReturn, answers: ReturnAnswers) -> dict[str, str]:
    return _checked(ret, answers)[2]


def submit(ret: MonitoringReturn, user: User, answers: ReturnAnswers, today: date) -> dict[str, str]:
    action = "resubmit" if ret.status == "returned" else "submit"
    RETURN.check(action, user, ret, today)
    values, spend, problems = _checked(ret, answers)
    if problems:
        return problems
    _store(ret, answers, values, spend)
    late = ret.due_on < today
    RETURN.apply(action, user, ret, today, note="submitted late" if late else "")
    ret.submitted_at = utcnow()
    ret.submitted_by_id = user.id
    ret.submission_count += 1
    for evidence in ret.evidence:
        if evidence.submission_number is None:
            evidence.submission_number = ret.submission_count
    _tell_officers(ret, resubmitted=action == "resubmit", late=late)
    return {}


def _tell_officers(ret: MonitoringReturn, *, resubmitted: bool, late: bool) -> None:
    agreement = ret.agreement
    what = "resubmitted" if resubmitted else "submitted"
    for officer in db.session.scalars(select(User).where(User.role == "officer", User.active.is_(True))):
        queue_email(officer.email, f"{agreement.reference}: monitoring return {ret.period_label} {what}",
                    f"{agreement.organisation.name} has {what} its monitoring return for {ret.period_label} "
                    f"({agreement.bid.title}){', after its due date' if late else ''}.\n\n"
                    "Sign in to review it: accept it or send it back for changes.", recipient=officer)


# --- Figures the review and the returns read --------------------------------------------------------------


def spent_to_date(ret: MonitoringReturn) -> int:
    """Spend the grantee has reported on this grant up to and including this return's period."""
    counted = MonitoringReturn.status.in_(COUNTED) | (MonitoringReturn.id == ret.id)
    total = db.session.scalar(
        select(summed(ReturnSpend.spent_pence))
        .join(MonitoringReturn, ReturnSpend.return_id == MonitoringReturn.id)
        .where(MonitoringReturn.agreement_id == ret.agreement_id, MonitoringReturn.period_start <= ret.period_start,
               counted)
    )
    return int(total or 0)


def overspend_warning(ret: MonitoringReturn) -> str | None:
    """Said to the reviewing officer when the spend reported to date is more than has been paid."""
    spent, paid = spent_to_date(ret), paid_pence(ret.agreement)
    if spent <= paid:
        return None
    return (f"The grantee reports {format_money(spent)} spent to the end of this period, but only "
            f"{format_money(paid)} has been paid: {format_money(spent - paid)} more than paid.")


def spend_rows(ret: MonitoringReturn) -> list[dict[str, object]]:
    """Each approved budget line with its budget, spend before this period, this period's spend and what is left."""
    earlier = dict(db.session.execute(
        select(ReturnSpend.budget_line_id, summed(ReturnSpend.spent_pence))
        .join(MonitoringReturn, ReturnSpend.return_id == MonitoringReturn.id)
        .where(MonitoringReturn.agreement_id == ret.agreement_id, MonitoringReturn.period_start < ret.period_start,
               MonitoringReturn.status.in_(COUNTED))
        .group_by(ReturnSpend.budget_line_id)
    ).all())
    now = {s.budget_line_id: s.spent_pence for s in ret.spend}
    rows = []
    for line in ret.agreement.bid.budget_lines:
        before = int(earlier.get(line.id) or 0)
        this = now.get(line.id)
        rows.append({"line": line, "before": before, "this": this,
                     "variance": line.amount_pence - before - (this or 0)})
    return rows


def answered_measures(ret: MonitoringReturn) -> list[tuple[OutcomeMeasure, int | None]]:
    values = {v.measure_id: v.value for v in ret.values}
    return [(m, values.get(m.id)) for m in measures_for(ret.agreement.bid.fund_year.fund, ret.values)]


# --- The officer's review ---------------------------------------------------------------------------------

REVIEW_OUTCOMES = {"accepted": "accept", "returned": "send_back"}


def review(ret: MonitoringReturn, officer: User, outcome: str | None, note: str, today: date,
           officer_rag: str | None = None) -> dict[str, str]:
    """An officer accepts a return or sends it back with what to change, with their own red/amber/green rating."""
    RETURN.check("review", officer, ret, today)
    problems: dict[str, str] = {}
    if outcome not in REVIEW_OUTCOMES:
        problems["outcome"] = "Select whether you accept the return or send it back for changes"
    if officer_rag not in RAG_RATINGS:
        problems["officer_rag"] = "Select your own rating: red, amber or green"
    if outcome == "returned" and not note.strip():
        problems["note"] = "Say what needs to change"
    if problems:
        return problems
    assert outcome is not None
    RETURN.apply(REVIEW_OUTCOMES[outcome], officer, ret, today, note=note.strip(),
                 details={"officer_rag": officer_rag})
    ret.reviewed_at = utcnow()
    ret.reviewed_by_id = officer.id
    ret.review_note = note.strip()
    ret.officer_rag = officer_rag
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


