"""Payments against a grant agreement: scheduled, then paid (with date and finance reference) or cancelled.

What is scheduled or paid never exceeds the agreement's amount: like an award against a budget, the
agreement's running total moves only by a conditional UPDATE that is the first write of the change, so
two finance officers scheduling at the same moment cannot overpay a grant.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, update

from grants.agreements.lifecycle import AGREEMENT
from grants.agreements.rules import cancel_scheduled
from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.models import GrantAgreement, Payment, User
from grants.core.money import format_money
from grants.payments.lifecycle import PAYMENT

REFERENCE_LIMIT = 100


def schedule_payment(agreement: GrantAgreement, user: User, amount_pence: int | None, due_on: date | None,
                     note: str = "", *, today: date) -> tuple[Payment | None, dict[str, str]]:
    AGREEMENT.check("schedule_payment", user, agreement, today)
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
    moved = cast(CursorResult[Any], db.session.execute(
        update(GrantAgreement)
        .where(GrantAgreement.id == agreement.id,
               GrantAgreement.scheduled_pence + amount_pence <= GrantAgreement.amount_pence)
        .values(scheduled_pence=GrantAgreement.scheduled_pence + amount_pence)
        .execution_options(synchronize_session=False)
    ))  # an UPDATE: its result counts the rows
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
    PAYMENT.check("pay", user, payment, today)
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
    payment.paid_on = paid_on
    payment.finance_reference = reference
    PAYMENT.apply("pay", user, payment, today,
                  note=f"{format_money(payment.amount_pence)} paid on {paid_on.isoformat() if paid_on else ''}, "
                       f"reference {reference}")
    return {}


def cancel_payment(payment: Payment, user: User, reason: str, today: date) -> dict[str, str]:
    PAYMENT.check("cancel", user, payment, today)
    if not reason.strip():
        return {"reason": "Give the reason for cancelling the payment"}
    cancel_scheduled(payment, user, reason.strip(), today)
    return {}
