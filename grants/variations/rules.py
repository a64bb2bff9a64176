"""Varying a grant agreement: a new amount, end date or special conditions, checked again as an award is.

An increase passes the same checks as an award: the most one grant from the fund may be, the fund-year's
budget, the most one organisation may receive from it, and the officer's delegation limit (above it an
approver, not the proposer, decides). Its extra money is held in the fund-year from the moment it is offered,
by the same guarded UPDATE an award uses, so variations and awards made at the same moment never overspend;
declining or withdrawing gives it back. A decrease gives money back when the grantee accepts it. Nothing
already scheduled or paid is lost: the amount can never go below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from grants.agreements.lifecycle import AGREEMENT
from grants.agreements.terms import AgreementTerms, acceptance_problems, terms_problems
from grants.assessment.caps import commit_budget, per_applicant_cap_problem, release_budget
from grants.core.audit import record_event
from grants.core.dates import format_date
from grants.core.extensions import db
from grants.core.mail import queue_email, tell_organisation
from grants.core.models import AgreementVariation, Award, FundYear, GrantAgreement, User, utcnow
from grants.core.money import format_money
from grants.core.refusals import Refused
from grants.monitoring.rules import follow_end_date
from grants.variations.lifecycle import OPEN, VARIATION

NO_CHANGE = "No change has been made."


@dataclass
class VariationInput:
    amount_pence: int | None
    end_date: date | None
    special_conditions: str
    reasons: str


def open_variation(agreement: GrantAgreement) -> AgreementVariation | None:
    """The variation still waiting for a decision or for the grantee, if any: one at a time."""
    return db.session.scalar(select(AgreementVariation).where(
        AgreementVariation.agreement_id == agreement.id, AgreementVariation.status.in_(OPEN)))


def needs_approver(fund_year: FundYear, old_amount: int, new_amount: int) -> bool:
    """An increase taking the grant above the officer's delegation limit is for an approver."""
    return new_amount > old_amount and new_amount > fund_year.delegation_limit_pence


def variation_problems(agreement: GrantAgreement, data: VariationInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    fund_year = agreement.award.fund_year
    if data.amount_pence is None:
        problems["amount_pence"] = "Enter the grant amount"
    elif data.amount_pence <= 0:
        problems["amount_pence"] = "The grant amount must be more than £0: to stop the grant, terminate it"
    elif data.amount_pence < agreement.scheduled_pence:
        problems["amount_pence"] = (f"The grant cannot be less than the {format_money(agreement.scheduled_pence)} "
                                    "already scheduled or paid: cancel scheduled payments first")
    elif data.amount_pence > agreement.amount_pence and data.amount_pence > fund_year.per_bid_cap_pence:
        problems["amount_pence"] = (f"A grant from the {fund_year.fund.name} {fund_year.label} can be at most "
                                    f"{format_money(fund_year.per_bid_cap_pence)}")
    problems.update({key: message for key, message in
                     terms_problems(AgreementTerms(agreement.start_date, data.end_date, "")).items()
                     if key == "end_date"})
    if not data.reasons.strip():
        problems["reasons"] = "Give the reasons for the variation"
    if not problems and (data.amount_pence, data.end_date, data.special_conditions.strip()) == (
            agreement.amount_pence, agreement.end_date, agreement.special_conditions):
        problems["amount_pence"] = "Change the amount, the end date or the special conditions"
    return problems


def propose(agreement: GrantAgreement, officer: User, data: VariationInput,
            today: date) -> tuple[AgreementVariation | None, dict[str, str]]:
    """An officer proposes a variation; (None, problems) means the caller rolls back and nothing is kept."""
    AGREEMENT.check("vary", officer, agreement, today)
    waiting = open_variation(agreement)
    if waiting is not None:
        raise Refused(f"Variation {waiting.reference} is {VARIATION.name(waiting.status).lower()}: withdraw it "
                      f"or wait for it to be decided before proposing another. {NO_CHANGE}")
    problems = variation_problems(agreement, data)
    if problems:
        return None, problems
    assert data.amount_pence is not None and data.end_date is not None
    fund_year = agreement.award.fund_year
    to_approver = needs_approver(fund_year, agreement.amount_pence, data.amount_pence)
    number = (db.session.scalar(select(func.max(AgreementVariation.number))
                                .where(AgreementVariation.agreement_id == agreement.id)) or 0) + 1
    variation = AgreementVariation(
        agreement=agreement, number=number, status="awaiting_approval" if to_approver else "offered",
        old_amount_pence=agreement.amount_pence, new_amount_pence=data.amount_pence,
        old_end_date=agreement.end_date, new_end_date=data.end_date,
        old_special_conditions=agreement.special_conditions, new_special_conditions=data.special_conditions.strip(),
        reasons=data.reasons.strip(), proposed_by_id=officer.id,
    )
    db.session.add(variation)
    db.session.flush()
    if not to_approver:
        problem = _hold_increase(variation, officer)
        if problem:
            return None, {"amount_pence": problem}
    record_event(officer, "agreement_variation.proposed", variation, to_state=variation.status,
                 note=change_in_words(variation))
    record_event(officer, "agreement.variation_proposed", agreement, from_state=agreement.status,
                 to_state=agreement.status, note=f"{variation.reference}: {change_in_words(variation)}")
    if to_approver:
        _tell_approvers(variation, officer)
    else:
        _tell_grantee(variation)
    return variation, {}


def change_in_words(variation: AgreementVariation) -> str:
    changes = []
    if variation.new_amount_pence != variation.old_amount_pence:
        changes.append(f"amount {format_money(variation.old_amount_pence)} to {format_money(variation.new_amount_pence)}")
    if variation.new_end_date != variation.old_end_date:
        changes.append(f"end date {format_date(variation.old_end_date)} to {format_date(variation.new_end_date)}")
    if variation.new_special_conditions != variation.old_special_conditions:
        changes.append("special conditions changed")
    return "; ".join(changes).capitalize()


def _hold_increase(variation: AgreementVariation, user: User) -> str | None:
    """Hold an increase's extra money in the fund-year (the award's guarded UPDATE); the problem, if any."""
    increase = variation.new_amount_pence - variation.old_amount_pence
    if increase <= 0:
        return None
    agreement = variation.agreement
    fund_year = agreement.award.fund_year
    if not commit_budget(fund_year, increase):
        left = max(fund_year.budget_pence - fund_year.committed_pence, 0)
        return (f"The increase of {format_money(increase)} is more than the {format_money(left)} left in the "
                f"{fund_year.fund.name} {fund_year.label} budget")
    applicant_problem = per_applicant_cap_problem(fund_year, agreement.organisation_id, increase, reader="staff",
                                                  pending_pence=_held_for(fund_year, agreement.organisation_id,
                                                                          variation.id))
    if applicant_problem:
        return applicant_problem
    variation.committed_pence = increase
    record_event(user, "fund_year.committed", fund_year,
                 note=f"{format_money(increase)} for variation {variation.reference}",
                 details={"amount_pence": increase, "committed_pence": fund_year.committed_pence,
                          "budget_pence": fund_year.budget_pence})
    return None


def _held_for(fund_year: FundYear, organisation_id: int, other_than: int) -> int:
    """Increases offered to an organisation's grants from a fund-year and not yet accepted."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(AgreementVariation.committed_pence), 0))
        .join(GrantAgreement, GrantAgreement.id == AgreementVariation.agreement_id)
        .join(Award, Award.id == GrantAgreement.award_id)
        .where(Award.fund_year_id == fund_year.id, GrantAgreement.organisation_id == organisation_id,
               AgreementVariation.status == "offered", AgreementVariation.id != other_than))
    return int(total or 0)


def _give_back(variation: AgreementVariation, user: User, amount: int, why: str) -> None:
    """Return money to the fund-year's budget (an increase not taken up, or a decrease accepted)."""
    if amount <= 0:
        return
    fund_year = variation.agreement.award.fund_year
    release_budget(fund_year, amount)
    record_event(user, "fund_year.released", fund_year, note=f"{format_money(amount)}: {why}",
                 details={"amount_pence": amount, "committed_pence": fund_year.committed_pence})


def approve(variation: AgreementVariation, approver: User, note: str, today: date) -> dict[str, str]:
    VARIATION.check("approve", approver, variation, today)
    problem = _hold_increase(variation, approver)
    if problem:
        return {"note": problem}
    VARIATION.apply("approve", approver, variation, today, note=note.strip())
    variation.decided_by_id, variation.decided_at, variation.decision_note = approver.id, utcnow(), note.strip()
    _tell_grantee(variation)
    return {}


def refuse(variation: AgreementVariation, approver: User, note: str, today: date) -> dict[str, str]:
    VARIATION.check("refuse", approver, variation, today)
    if not note.strip():
        return {"note": "Give the reasons for refusing the variation"}
    VARIATION.apply("refuse", approver, variation, today, note=note.strip())
    variation.decided_by_id, variation.decided_at, variation.decision_note = approver.id, utcnow(), note.strip()
    queue_email(variation.proposed_by.email, f"{variation.reference}: variation refused",
                f"{approver.name} refused the variation you proposed ({change_in_words(variation)}):\n\n"
                f"{note.strip()}", recipient=variation.proposed_by)
    return {}


def withdraw(variation: AgreementVariation, officer: User, note: str, today: date) -> dict[str, str]:
    VARIATION.check("withdraw", officer, variation, today)
    if not note.strip():
        return {"note": "Give the reason for withdrawing the variation"}
    was_offered = variation.status == "offered"
    _give_back(variation, officer, variation.committed_pence, f"variation {variation.reference} withdrawn")
    variation.committed_pence = 0
    VARIATION.apply("withdraw", officer, variation, today, note=note.strip())
    if was_offered:
        tell_organisation(variation.agreement.organisation, f"{variation.reference}: variation withdrawn",
                          f"The OPCC has withdrawn the variation it offered to {variation.agreement.reference}:\n\n"
                          f"{note.strip()}\n\nThe agreement stays as it was.")
    return {}


def withdraw_open(agreement: GrantAgreement, officer: User, why: str, today: date) -> None:
    """The grant has ended: a variation still open is withdrawn and any money it held goes back."""
    variation = open_variation(agreement)
    if variation is None:
        return
    _give_back(variation, officer, variation.committed_pence, f"variation {variation.reference} withdrawn: {why}")
    variation.committed_pence = 0
    VARIATION.apply("withdraw", officer, variation, today, note=why, system=True)


def decline(variation: AgreementVariation, user: User, note: str, today: date) -> dict[str, str]:
    VARIATION.check("decline", user, variation, today)
    if not note.strip():
        return {"note": "Say why you are declining the variation"}
    _give_back(variation, user, variation.committed_pence, f"variation {variation.reference} declined")
    variation.committed_pence = 0
    VARIATION.apply("decline", user, variation, today, note=note.strip())
    queue_email(variation.proposed_by.email, f"{variation.reference}: variation declined",
                f"{user.name} of {variation.agreement.organisation.name} declined the variation:\n\n{note.strip()}",
                recipient=variation.proposed_by)
    return {}


def accept(variation: AgreementVariation, user: User, name: str, role: str, confirmed: bool,
           today: date) -> dict[str, str]:
    """The grantee accepts: the agreement takes the new amount, end date and conditions; returns follow."""
    VARIATION.check("accept", user, variation, today)
    problems = acceptance_problems(name, role, confirmed)
    if problems:
        return problems
    agreement = variation.agreement
    new_amount = variation.new_amount_pence
    # Guarded, as payments are: nothing scheduled or paid since the variation was offered may be lost.
    changed = cast(CursorResult[Any], db.session.execute(
        update(GrantAgreement).where(GrantAgreement.id == agreement.id, GrantAgreement.scheduled_pence <= new_amount)
        .values(amount_pence=new_amount).execution_options(synchronize_session=False)))
    if changed.rowcount != 1:
        raise Refused(f"More than {format_money(new_amount)} has been scheduled or paid since this variation was "
                      f"offered, so it cannot be accepted: ask the OPCC to withdraw it. {NO_CHANGE}")
    db.session.expire(agreement, ["amount_pence"])
    award = agreement.award
    award.amount_pence = new_amount  # the organisation's total from the fund-year follows the grant
    _give_back(variation, user, variation.old_amount_pence - new_amount, f"variation {variation.reference} accepted")
    variation.committed_pence = 0
    old_end = agreement.end_date
    agreement.end_date = variation.new_end_date
    agreement.special_conditions = variation.new_special_conditions
    VARIATION.apply("accept", user, variation, today, note=f"Accepted by {name.strip()}, {role.strip()}")
    variation.accepted_by_id, variation.accepted_at = user.id, utcnow()
    variation.accepted_name, variation.accepted_role = name.strip(), role.strip()
    record_event(user, "agreement.varied", agreement, from_state=agreement.status, to_state=agreement.status,
                 note=f"{variation.reference}: {change_in_words(variation)}",
                 details={"variation_id": variation.id, "amount_pence": new_amount,
                          "end_date": variation.new_end_date.isoformat()})
    if old_end != agreement.end_date:
        follow_end_date(agreement, user, today)
    return {}


def _tell_grantee(variation: AgreementVariation) -> None:
    agreement = variation.agreement
    tell_organisation(
        agreement.organisation, f"{variation.reference}: a variation to your grant agreement to accept",
        f"The OPCC proposes a variation to {agreement.reference} ({agreement.bid.title}): "
        f"{change_in_words(variation)}.\n\nWhy: {variation.reasons}\n\n"
        "Sign in to read it and accept or decline it. Until you accept it, the agreement stays as it is.",
        also=agreement.bid.created_by,
    )


def _tell_approvers(variation: AgreementVariation, officer: User) -> None:
    for approver in db.session.scalars(select(User).where(User.role == "approver", User.active.is_(True))):
        queue_email(approver.email, f"{variation.reference}: variation for your decision",
                    f"{officer.name} proposes a variation to {variation.agreement.reference} for "
                    f"{variation.agreement.organisation.name}: {change_in_words(variation)}. It takes the grant above "
                    "the delegation limit, so an approver must decide it.", recipient=approver)
