"""The OPCC's half of a bid's life: assessment, requests for information, rejection, and awards.

Every award is checked in one transaction against the per-bid cap, the fund-year budget, the
per-applicant cap and the delegation limit. The budget check is a single conditional UPDATE of the
fund-year row, run as the first write of the decision: it takes the row lock on PostgreSQL and the
write lock on SQLite, so two decisions at the same moment cannot both spend the same money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from grants.assessment.caps import commit_budget, per_applicant_cap_problem, per_bid_cap_problem
from grants.bids.lifecycle import BID
from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.mail import queue_email, tell_organisation
from grants.core.models import Assessment, Award, Bid, ConflictDeclaration, Decision, FundYear, User, utcnow
from grants.core.money import format_money
from grants.core.refusals import Refused

# The criteria every bid is scored against, 0 (no evidence) to 5 (excellent).
CRITERIA = {
    "need": "Evidence of the local problem",
    "crime_reduction": "Contribution to reducing crime and disorder",
    "deliverability": "Deliverability: plan, people and timescale",
    "value_for_money": "Value for money",
    "measures": "Outputs and outcomes that can be measured",
}
MAX_SCORE = 5
# What the applicant is told, by the bid's status: the heading over the latest decision's reasons.
OUTCOME_TITLES = {
    "info_requested": "The OPCC has asked for more information",
    "rejected": "Your bid has not been funded",
    "approved": "Your bid has been funded",
}

NO_CHANGE = "No change has been made."


class DecisionError(Refused):
    """A decision that the rules refuse; the message says why, for the person deciding."""


@dataclass
class AssessmentInput:
    scores: dict[str, int | None]
    comments: str
    recommended_pence: int | None
    conflict_of_interest: bool | None
    conflict_details: str
    organisation_checked: bool
    due_diligence_notes: str
    fraud_risk: str | None
    fraud_risk_reasons: str


@dataclass
class BudgetFigures:
    """What the decision screen shows: the fund-year's money before and after this award."""

    budget_pence: int
    committed_pence: int
    remaining_pence: int
    amount_pence: int | None

    @property
    def remaining_after_pence(self) -> int | None:
        return None if self.amount_pence is None else self.remaining_pence - self.amount_pence


def budget_figures(fund_year: FundYear, amount_pence: int | None) -> BudgetFigures:
    db.session.refresh(fund_year)  # show what is committed now, not what this session last read
    return BudgetFigures(fund_year.budget_pence, fund_year.committed_pence, fund_year.remaining_pence, amount_pence)


def latest_assessment(bid: Bid) -> Assessment | None:
    return db.session.scalar(
        select(Assessment).where(Assessment.bid_id == bid.id).order_by(Assessment.created_at.desc(), Assessment.id.desc())
    )


def latest_decision(bid: Bid, kinds: tuple[str, ...] | None = None) -> Decision | None:
    query = select(Decision).where(Decision.bid_id == bid.id)
    if kinds:
        query = query.where(Decision.kind.in_(kinds))
    return db.session.scalar(query.order_by(Decision.created_at.desc(), Decision.id.desc()))


def applicant_outcome(bid: Bid) -> tuple[str, Decision] | None:
    """The decision an applicant sees on their bid, with its heading; recommendations stay internal."""
    if bid.status not in OUTCOME_TITLES:
        return None
    decision = latest_decision(bid, (bid.status,))
    return (OUTCOME_TITLES[bid.status], decision) if decision else None


def award_for(bid: Bid) -> Award | None:
    return db.session.scalar(select(Award).where(Award.bid_id == bid.id))


def needs_approver(fund_year: FundYear, amount_pence: int) -> bool:
    return amount_pence > fund_year.delegation_limit_pence


def conflict_declared(bid: Bid, user: User) -> bool:
    """Whether this person has declared a conflict of interest in this bid (the lifecycle's guards ask)."""
    return db.session.scalar(select(ConflictDeclaration.id).where(
        ConflictDeclaration.bid_id == bid.id, ConflictDeclaration.user_id == user.id)) is not None


def declare_conflict(bid: Bid, user: User, details: str, today: date) -> bool:
    """Record that this person has a conflict of interest in this bid, with its audit event. From then on the
    lifecycle refuses them every part in assessing, recommending and deciding it, for good.

    Returns False, changing nothing, when they have declared one already: once is enough."""
    if conflict_declared(bid, user):
        return False
    details = details.strip()
    BID.apply("declare_conflict", user, bid, today, note=details)  # checks the state and the person first
    # Two declarations at the same moment (two tabs): the unique key keeps one, the other is refused on commit.
    db.session.add(ConflictDeclaration(bid_id=bid.id, user_id=user.id, details=details))
    db.session.flush()
    return True


def assessment_problems(bid: Bid, data: AssessmentInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    for key, label in CRITERIA.items():
        score = data.scores.get(key)
        if score is None or not 0 <= score <= MAX_SCORE:
            problems[f"score_{key}"] = f"Select a score from 0 to {MAX_SCORE} for {label.lower()}"
    if data.recommended_pence is None:
        problems["recommended_pence"] = "Enter the amount you recommend"
    elif data.recommended_pence > bid.requested_pence:
        problems["recommended_pence"] = (
            f"The recommended amount cannot be more than the {format_money(bid.requested_pence)} requested"
        )
    else:
        cap = per_bid_cap_problem(bid.fund_year, data.recommended_pence, reader="staff")
        if cap:
            problems["recommended_pence"] = cap
    if data.conflict_of_interest is None:
        problems["conflict_of_interest"] = "Select whether you have a conflict of interest"
    elif data.conflict_of_interest:
        problems["conflict_of_interest"] = (
            "You have declared a conflict of interest, so you cannot assess or decide this bid: another officer must"
        )
    if not data.organisation_checked:
        problems["organisation_checked"] = "Confirm that you have checked the organisation"
    if data.fraud_risk not in ("low", "medium", "high"):
        problems["fraud_risk"] = "Select the fraud risk"
    if not data.fraud_risk_reasons.strip():
        problems["fraud_risk_reasons"] = "Give the reasons for the fraud risk rating"
    return problems


def record_assessment(bid: Bid, officer: User, data: AssessmentInput, today: date) -> dict[str, str]:
    """Store the officer's assessment and put the bid in review; returns the problems, storing nothing, if any."""
    BID.check("reassess" if bid.status == "in_review" else "assess", officer, bid, today)
    problems = assessment_problems(bid, data)
    if data.conflict_of_interest:
        # The declaration itself is kept, though the assessment is refused; it bars the officer from now on.
        declare_conflict(bid, officer, data.conflict_details, today)
    if problems:
        return problems
    scores = {key: int(data.scores[key] or 0) for key in CRITERIA}
    assessment = Assessment(
        bid_id=bid.id, assessor_id=officer.id, criteria_scores=scores, total_score=sum(scores.values()),
        comments=data.comments.strip(), recommended_pence=data.recommended_pence,
        conflict_of_interest=False, conflict_details="", organisation_checked=True,
        due_diligence_notes=data.due_diligence_notes.strip(), fraud_risk=data.fraud_risk,
        fraud_risk_reasons=data.fraud_risk_reasons.strip(),
    )
    db.session.add(assessment)
    from_state = bid.status
    if bid.status == "submitted":
        BID.apply("start_review", officer, bid, today)
    db.session.flush()
    record_event(officer, "bid.assessed", bid, from_state=from_state, to_state=bid.status,
                 note=f"Score {assessment.total_score} of {MAX_SCORE * len(CRITERIA)}; recommends "
                      f"{format_money(assessment.recommended_pence)}; fraud risk {assessment.fraud_risk}",
                 details={"assessment_id": assessment.id, "scores": scores})
    return {}


def _tell_applicants(bid: Bid, subject: str, body: str) -> None:
    """Email the organisation's active applicant users; the bid's author always included."""
    tell_organisation(bid.organisation, f"{bid.reference}: {subject}", body, also=bid.created_by)


def _record_decision(bid: Bid, user: User, action: str, reasons: str, today: date, *, note: str | None = None,
                     amount_pence: int | None = None, public_summary: str | None = None) -> None:
    """The decision and the bid's move, together: the decision's kind is the state the bid moves to."""
    move = BID.check(action, user, bid, today)
    db.session.add(Decision(bid_id=bid.id, kind=move.target, amount_pence=amount_pence, reasons=reasons,
                            public_summary=public_summary, decided_by_id=user.id))
    BID.apply(action, user, bid, today, note=reasons if note is None else note)
    bid.decided_at = utcnow() if bid.status in ("approved", "rejected") else bid.decided_at


def _tell_in_words(bid: Bid, user: User, action: str, field: str, words: str, today: date, *, missing: str,
                   subject: str, body: str) -> dict[str, str]:
    """A decision whose substance is what the organisation is told: recorded with the words, and sent to them.

    `body` is formatted with the bid's reference and title and the words. Without words it is {field: missing},
    storing nothing."""
    words = words.strip()
    if not words:
        return {field: missing}
    _record_decision(bid, user, action, words, today)  # checks the move first
    _tell_applicants(bid, subject, body.format(reference=bid.reference, title=bid.title, words=words))
    return {}


def request_information(bid: Bid, officer: User, message: str, today: date) -> dict[str, str]:
    """Ask the organisation for more information; returns the problems, storing nothing, if any."""
    return _tell_in_words(
        bid, officer, "request_information", "message", message, today,
        missing="Say what information you need", subject="more information needed",
        body="The OPCC needs more information about your bid {reference} ({title}).\n\n{words}\n\n"
             "Sign in, update the bid and submit it again.",
    )


def reject(bid: Bid, user: User, reasons: str, today: date) -> dict[str, str]:
    """Reject the bid and tell the organisation why; returns the problems, storing nothing, if any."""
    if user.role == "officer" and bid.status == "recommended":
        raise DecisionError(f"This bid has been recommended to an approver, who decides it. {NO_CHANGE}")
    return _tell_in_words(
        bid, user, "reject_recommendation" if bid.status == "recommended" else "reject", "reasons", reasons, today,
        missing="Give the reasons for rejecting the bid", subject="not funded",
        body="Your bid {reference} ({title}) has not been funded.\n\nThe reasons:\n{words}",
    )


@dataclass
class AwardOutcome:
    status: str  # "approved" or "recommended"
    message: str


def recommender(bid: Bid) -> User | None:
    recommendation = latest_decision(bid, ("recommended",))
    return recommendation.decided_by if recommendation else None


PUBLIC_SUMMARY_LIMIT = 500


def _award_problems(bid: Bid, amount_pence: int | None, reasons: str, public_summary: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if amount_pence is None:
        problems["amount_pence"] = "Enter the amount to award"
    elif amount_pence <= 0:
        problems["amount_pence"] = "The award must be more than £0.00"
    elif amount_pence > bid.requested_pence:
        problems["amount_pence"] = f"The award cannot be more than the {format_money(bid.requested_pence)} requested"
    else:
        cap = per_bid_cap_problem(bid.fund_year, amount_pence, reader="staff")
        if cap:
            problems["amount_pence"] = cap
    if not reasons.strip():
        problems["reasons"] = "Give the reasons why the grant will secure or contribute to crime and disorder reduction"
    if not public_summary.strip():
        problems["public_summary"] = "Write a summary of what the grant is for, to publish"
    elif len(public_summary.strip()) > PUBLIC_SUMMARY_LIMIT:
        problems["public_summary"] = f"The summary must be {PUBLIC_SUMMARY_LIMIT} characters or fewer"
    return problems


def decide_award(bid: Bid, user: User, amount_pence: int | None, reasons: str, today: date, *,
                 public_summary: str) -> tuple[AwardOutcome | None, dict[str, str]]:
    """An officer's or approver's award decision, with the reasons and the summary of its purpose to publish.

    Within the officer's delegation limit the award is approved at once; above it the officer's decision is
    recorded as a recommendation for an approver. Returns (outcome, {}) or (None, problems); on problems
    the caller must roll back, so nothing is kept.
    """
    fund_year = bid.fund_year
    if user.role not in ("officer", "approver"):
        raise DecisionError("Only commissioning officers and approvers decide awards")
    BID.check("decide_recommendation" if user.role == "approver" else "decide", user, bid, today)
    if latest_assessment(bid) is None:
        raise DecisionError(f"Record an assessment, with due diligence, before deciding an award. {NO_CHANGE}")
    problems = _award_problems(bid, amount_pence, reasons, public_summary)
    if problems:
        return None, problems
    assert amount_pence is not None
    reasons, public_summary = reasons.strip(), public_summary.strip()

    if user.role == "officer" and needs_approver(fund_year, amount_pence):
        remaining = budget_figures(fund_year, amount_pence).remaining_pence
        if amount_pence > remaining:
            return None, {"amount_pence": _over_budget_message(fund_year, amount_pence, remaining)}
        applicant_problem = per_applicant_cap_problem(fund_year, bid.organisation_id, amount_pence, reader="staff")
        if applicant_problem:
            return None, {"amount_pence": applicant_problem}
        _record_decision(bid, user, "recommend", reasons, today, amount_pence=amount_pence,
                         public_summary=public_summary, note=f"{format_money(amount_pence)} recommended: above the delegation "
                              f"limit of {format_money(fund_year.delegation_limit_pence)}")
        for approver in db.session.scalars(select(User).where(User.role == "approver", User.active.is_(True))):
            queue_email(approver.email, f"{bid.reference}: award recommended for your decision",
                        f"{user.name} recommends an award of {format_money(amount_pence)} to {bid.organisation.name} "
                        f"for {bid.title}. It is above the delegation limit, so an approver must decide it.",
                        recipient=approver)
        return AwardOutcome("recommended", f"{format_money(amount_pence)} is above the delegation limit of "
                                           f"{format_money(fund_year.delegation_limit_pence)}, so the award has "
                                           "been recommended to an approver, who will decide it."), {}

    # The guarded spend: first write of the transaction, so it holds the lock for the rest of it.
    if not commit_budget(fund_year, amount_pence):
        remaining = budget_figures(fund_year, amount_pence).remaining_pence
        return None, {"amount_pence": _over_budget_message(fund_year, amount_pence, remaining)}
    applicant_problem = per_applicant_cap_problem(fund_year, bid.organisation_id, amount_pence, reader="staff")
    if applicant_problem:
        return None, {"amount_pence": applicant_problem}

    recommended_by = recommender(bid) if bid.status == "recommended" else None
    db.session.add(Award(bid_id=bid.id, fund_year_id=fund_year.id, organisation_id=bid.organisation_id,
                         amount_pence=amount_pence, reasons=reasons, public_summary=public_summary,
                         approved_by_id=user.id,
                         recommended_by_id=recommended_by.id if recommended_by else None))
    _record_decision(bid, user, "approve_recommendation" if bid.status == "recommended" else "approve", reasons,
                     today, amount_pence=amount_pence, public_summary=public_summary,
                     note=f"{format_money(amount_pence)} awarded of {format_money(bid.requested_pence)} requested")
    record_event(user, "fund_year.committed", fund_year, note=f"{format_money(amount_pence)} for {bid.reference}",
                 details={"amount_pence": amount_pence, "committed_pence": fund_year.committed_pence,
                          "budget_pence": fund_year.budget_pence})
    _tell_applicants(
        bid, "grant awarded",
        f"The OPCC has awarded {format_money(amount_pence)} to {bid.organisation.name} for {bid.title} "
        f"({bid.reference}); you asked for {format_money(bid.requested_pence)}.\n\n"
        f"Why the grant will help reduce crime and disorder:\n{reasons}\n\n"
        f"The commissioner publishes every grant. What is published about this one's purpose:\n{public_summary}\n\n"
        "A grant agreement with its conditions will follow.",
    )
    return AwardOutcome("approved", f"{format_money(amount_pence)} awarded to {bid.organisation.name}."), {}


def _over_budget_message(fund_year: FundYear, amount_pence: int, remaining_pence: int) -> str:
    return (f"{format_money(amount_pence)} is more than the {format_money(max(remaining_pence, 0))} left in the "
            f"{fund_year.fund.name} {fund_year.label} budget")
