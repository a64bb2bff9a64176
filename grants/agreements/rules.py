"""Grant agreements: prepared from an approved award, issued, accepted by the grantee, active, then ended.

The commissioner may attach any conditions to a crime and disorder reduction grant, including conditions
as to repayment (Police Reform and Social Responsibility Act 2011, s.9), so every agreement carries the
standard conditions as they stood when it was prepared, any special conditions, and a recordable clawback.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from grants.agreements import conditions
from grants.agreements.closeout import close_out
from grants.agreements.lifecycle import AGREEMENT
from grants.agreements.terms import AgreementTerms, acceptance_problems, terms_problems
from grants.bids.lifecycle import BID
from grants.core import dates
from grants.core.audit import record_event
from grants.core.dates import format_date
from grants.core.extensions import db
from grants.core.mail import tell_organisation
from grants.core.models import Award, GrantAgreement, Payment, User, utcnow
from grants.core.money import format_money
from grants.core.refusals import Refused
from grants.monitoring.rules import release_returns, returns_awaiting_review, schedule_returns
from grants.payments.lifecycle import PAYMENT
from grants.repayments.rules import amount_problem, make_repayment
from grants.variations.rules import withdraw_open

NO_CHANGE = "No change has been made."


def prepare_agreement(award: Award, officer: User, terms: AgreementTerms,
                      today: date | None = None) -> tuple[GrantAgreement | None, dict[str, str]]:
    """A draft agreement for an approved award; (None, problems) stores nothing."""
    BID.check("prepare_agreement", officer, award.bid, today or dates.today())
    problems = terms_problems(terms)
    if problems:
        return None, problems
    assert terms.start_date and terms.end_date
    day = today or dates.today()
    standard = conditions.for_new_agreement(day)
    if standard is None:
        return None, {"conditions": conditions.none_in_force(day)}
    agreement = GrantAgreement(
        award_id=award.id, bid=award.bid, organisation_id=award.organisation_id, status="draft",
        amount_pence=award.amount_pence, start_date=terms.start_date, end_date=terms.end_date,
        standard_conditions=standard.text, conditions_version=standard.number,
        special_conditions=terms.special_conditions.strip(), prepared_by_id=officer.id,
    )
    db.session.add(agreement)
    record_event(officer, "agreement.prepared", agreement, to_state="draft",
                 note=f"{format_money(agreement.amount_pence)} for {award.bid.reference}, "
                      f"standard conditions version {standard.number}",
                 details={"conditions_version": standard.number})
    return agreement, {}


def update_draft(agreement: GrantAgreement, officer: User, terms: AgreementTerms, today: date) -> dict[str, str]:
    if agreement.status != "draft":
        raise Refused(f"Only a draft agreement can be changed. {NO_CHANGE}")
    AGREEMENT.check("edit", officer, agreement, today)
    problems = terms_problems(terms)
    if problems:
        return problems
    agreement.start_date = terms.start_date  # type: ignore[assignment]
    agreement.end_date = terms.end_date  # type: ignore[assignment]
    agreement.special_conditions = terms.special_conditions.strip()
    AGREEMENT.apply("edit", officer, agreement, today)
    return {}


def issue(agreement: GrantAgreement, officer: User, today: date) -> None:
    AGREEMENT.apply("issue", officer, agreement, today)
    agreement.issued_at = utcnow()
    agreement.issued_by_id = officer.id
    bid = agreement.bid
    tell_organisation(
        agreement.organisation, f"{agreement.reference}: grant agreement to accept",
        f"The grant agreement for {bid.title} ({bid.reference}), {format_money(agreement.amount_pence)} from "
        f"{format_date(agreement.start_date)} to {format_date(agreement.end_date)}, is ready.\n\n"
        "Sign in to read its conditions and accept it.",
        also=bid.created_by,
    )


def accept(agreement: GrantAgreement, user: User, name: str, role: str, confirmed: bool, today: date) -> dict[str, str]:
    """The grantee accepts: their typed name, role and the time are kept with the agreement."""
    AGREEMENT.check("accept", user, agreement, today)
    problems = acceptance_problems(name, role, confirmed)
    if problems:
        return problems
    AGREEMENT.apply("accept", user, agreement, today, note=f"Accepted by {name.strip()}, {role.strip()}")
    agreement.accepted_at = utcnow()
    agreement.accepted_by_id = user.id
    agreement.accepted_name = name.strip()
    agreement.accepted_role = role.strip()
    return {}


def activate(agreement: GrantAgreement, officer: User, today: date) -> int:
    """The grant starts: its monitoring returns are scheduled. Returns how many were scheduled."""
    AGREEMENT.apply("activate", officer, agreement, today)
    agreement.activated_at = utcnow()
    returns = schedule_returns(agreement, officer, today)
    return len(returns)


def end_problems(agreement: GrantAgreement, outcome: str | None, reason: str,
                 repayment_pence: int | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if outcome not in ("closed", "terminated"):
        problems["outcome"] = "Select whether the grant is closed or terminated"
    if not reason.strip():
        problems["reason"] = "Give the reason"
    repayment_problem = amount_problem(agreement, repayment_pence) if repayment_pence is not None else None
    if repayment_problem:
        problems["repayment_pence"] = repayment_problem
    return problems


END_OUTCOMES = {"closed": "close", "terminated": "terminate"}


def end_agreement(agreement: GrantAgreement, officer: User, outcome: str | None, reason: str,
                  repayment_pence: int | None, today: date) -> dict[str, str]:
    """Close (work finished) or terminate (funding stopped) a grant; scheduled payments are cancelled, the final
    figures are kept and what the grant no longer needs goes back to its fund-year (grants.agreements.closeout).

    A repayment (clawback) may be asked for either way, up to what has been paid less what was asked back
    before; the grantee is emailed it, with the end's reason as its reason."""
    AGREEMENT.check("end", officer, agreement, today)
    problems = end_problems(agreement, outcome, reason, repayment_pence)
    if problems:
        return problems
    assert outcome is not None
    outstanding = scheduled_payments(agreement)
    if outcome == "closed" and outstanding:
        return {"outcome": "Pay or cancel the scheduled payments before closing the grant, or terminate it"}
    if outcome == "closed" and returns_awaiting_review(agreement):
        return {"outcome": "Review the monitoring returns waiting for a decision before closing the grant, "
                           "or terminate it"}
    AGREEMENT.apply(END_OUTCOMES[outcome], officer, agreement, today, note=reason.strip())
    for payment in outstanding:
        cancel_scheduled(payment, officer, f"Cancelled: grant {outcome}", today, event_note=f"Grant {outcome}")
    release_returns(agreement, officer, today)
    withdraw_open(agreement, officer, f"Grant {outcome}", today)
    agreement.ended_at = utcnow()
    agreement.end_reason = reason.strip()
    if repayment_pence:
        make_repayment(agreement, officer, repayment_pence, reason, None, today)
    close_out(agreement, officer)
    return {}


def cancel_scheduled(payment: Payment, user: User, note: str, today: date, *, event_note: str | None = None) -> None:
    """Cancel a scheduled payment and give its money back to what the agreement may still schedule.

    The rules cancel as part of ending a grant (as the system); finance cancels one on its own."""
    PAYMENT.apply("cancel", user, payment, today, note=note if event_note is None else event_note,
                  system=event_note is not None)
    payment.note = note
    _release_scheduled(payment.agreement, payment.amount_pence)


def _release_scheduled(agreement: GrantAgreement, amount_pence: int) -> None:
    db.session.execute(
        update(GrantAgreement)
        .where(GrantAgreement.id == agreement.id)
        .values(scheduled_pence=GrantAgreement.scheduled_pence - amount_pence)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(agreement, ["scheduled_pence"])


def scheduled_payments(agreement: GrantAgreement) -> list[Payment]:
    return [p for p in agreement.payments if p.status == "scheduled"]
