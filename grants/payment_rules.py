"""Payments against a grant agreement: scheduled, then paid (with date and finance reference) or cancelled.

What is scheduled or paid never exceeds the agreement's amount: like an award against a budget, the
agreement's running total moves only by a conditional UPDATE that is the first write of the change, so
two finance officers scheduling at the same moment cannot overpay a grant.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from grants.agreement_rules import PAYABLE, cancel_scheduled
from grants.agreement_rules import STATUS_NAMES as AGREEMENT_STATUS_NAMES
from grants.audit import record_event
from grants.extensions import db
from grants.models import GrantAgreement, Payment, User
from grants.money import format_money
from grants.refusals import Refused

STATUS_NAMES = {"scheduled": "Scheduled", "paid": "Paid", "cancelled": "Cancelled"}
STATUS_COLOURS = {"scheduled": "blue", "paid": "green", "cancelled": "grey"}
REFERENCE_LIMIT = 100


class PaymentError(Refused):
    """A payment change the rules refuse; the message says why."""


def _check_payable(agreement: GrantAgreement) -> None:
    if agreement.status not in PAYABLE:
        raise PaymentError(
            f"This agreement is {AGREEMENT_STATUS_NAMES[agreement.status].lower()}: payments are only made once the grantee "
            "has accepted it and while the grant runs. No change has been made."
        )


def schedule_payment(agreement: GrantAgreement, user: User, amount_pence: int | None, due_on: date | None,
                     note: str = "") -> tuple[Payment | None, dict[str, str]]:
    _check_payable(agreement)
    problems: dict[str, str] = {}
    if amount_pence is None:
        problems["amount_pence"] = "Enter the amount to pay"
    elif amount_pence <= 0:
        problems["amount_pence"] = "The payment must be more than £0.00"
    if due_on is None:
        problems["due_on"] = "Enter the date the payment is due"
    elif due_on > agreement.end_date:
        problems["due_on"] = "The payment must be due by the grant's end date"
    if problems:
        return None, problems
    assert amount_pence is not None and due_on is not None
    moved = db.session.execute(
        update(GrantAgreement)
        .where(GrantAgreement.id == agreement.id,
               GrantAgreement.scheduled_pence + amount_pence <= GrantAgreement.amount_pence)
        .values(scheduled_pence=GrantAgreement.scheduled_pence + amount_pence)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        db.session.refresh(agreement)
        left = agreement.amount_pence - agreement.scheduled_pence
        return None, {"amount_pence": f"{format_money(amount_pence)} is more than the {format_money(left)} of the "
                                      "grant not yet scheduled or paid"}
    db.session.expire(agreement, ["scheduled_pence"])
    payment = Payment(agreement_id=agreement.id, amount_pence=amount_pence, due_on=due_on, status="scheduled",
                      note=note.strip(), created_by_id=user.id)
    db.session.add(payment)
    record_event(user, "payment.scheduled", payment, to_state="scheduled",
                 note=f"{format_money(amount_pence)} due {due_on.isoformat()} on {agreement.reference}",
                 details={"agreement_id": agreement.id, "amount_pence": amount_pence})
    return payment, {}


def record_paid(payment: Payment, user: User, paid_on: date | None, reference: str, today: date) -> dict[str, str]:
    if payment.status != "scheduled":
        raise PaymentError(f"This payment is {payment.status}, so it cannot be recorded as paid. No change has been made.")
    _check_payable(payment.agreement)
    problems: dict[str, str] = {}
    if paid_on is None:
        problems["paid_on"] = "Enter the date the payment was made"
    elif paid_on > today:
        problems["paid_on"] = "The date the payment was made must be today or in the past"
    elif payment.agreement.accepted_at and paid_on < payment.agreement.accepted_at.date():
        problems["paid_on"] = "The payment cannot have been made before the grantee accepted the agreement"
    reference = reference.strip()
    if not reference:
        problems["finance_reference"] = "Enter the finance system's reference for the payment"
    elif len(reference) > REFERENCE_LIMIT:
        problems["finance_reference"] = f"The reference must be {REFERENCE_LIMIT} characters or fewer"
    if problems:
        return problems
    payment.status = "paid"
    payment.paid_on = paid_on
    payment.finance_reference = reference
    record_event(user, "payment.paid", payment, from_state="scheduled", to_state="paid",
                 note=f"{format_money(payment.amount_pence)} paid on {paid_on.isoformat() if paid_on else ''}, "
                      f"reference {reference}")
    return {}


def cancel_payment(payment: Payment, user: User, reason: str) -> dict[str, str]:
    if payment.status != "scheduled":
        raise PaymentError(f"This payment is {payment.status}, so it cannot be cancelled. No change has been made.")
    if not reason.strip():
        return {"reason": "Give the reason for cancelling the payment"}
    cancel_scheduled(payment, user, reason.strip())
    return {}
