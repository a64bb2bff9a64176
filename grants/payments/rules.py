"""Payments against a grant agreement: scheduled, then paid (with date and finance reference) or cancelled.

What is scheduled or paid never exceeds the agreement's amount: like an award against a budget, the
agreement's running total moves only by a conditional UPDATE that is the first write of the change, so
two finance officers scheduling at the same moment cannot overpay a grant.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from grants.agreements.lifecycle import AGREEMENT
from grants.agreements.rules import cancel_scheduled
from grants.core.audit import record_event
from grants.core.config import Config
from grants.core.dates import format_date
from grants.core.extensions import db
from grants.core.models import GrantAgreement, Payment, User, summed
from grants.core.money import format_money
from grants.payments.lifecycle import PAYMENT

REFERENCE_LIMIT = 100
UPFRONT_DAYS = 30  # the first days of a grant, in which no more than a set share of it may be due


def upfront_until(agreement: GrantAgreement) -> date:
    """The last day of the grant's first UPFRONT_DAYS days."""
    return agreement.start_date + timedelta(days=UPFRONT_DAYS - 1)


def upfront_problem(agreement: GrantAgreement, amount_pence: int, due_on: date, max_percent: int) -> str | None:
    """Why a payment due on `due_on` would put more than `max_percent` of the grant in its first days, or None."""
    last_day = upfront_until(agreement)
    if due_on > last_day:
        return None
    limit = agreement.amount_pence * max_percent // 100
    already = int(db.session.scalar(
        select(summed(Payment.amount_pence))
        .where(Payment.agreement_id == agreement.id, Payment.status != "cancelled", Payment.due_on <= last_day)
    ) or 0)
    if already + amount_pence <= limit:
        return None
    room = limit - already
    return (f"No more than {max_percent}% of the grant ({format_money(limit)}) can be due in its first {UPFRONT_DAYS} "
            f"days, to {format_date(last_day)}, so money is paid as the work needs it"
            + (f"; {format_money(already)} is due by then already" if already else "")
            + f". Make the payment due on or after {format_date(last_day + timedelta(days=1))}"
            + (f", or make it {format_money(room)} or less" if room > 0 else ""))


def schedule_payment(
    agreement: GrantAgreement, user: User, amount_pence: int | None, due_on: date | None, note: str = "", *,
    today: date, max_upfront_percent: int = Config.PAYMENT_MAX_UPFRONT_PERCENT,
) -> tuple[Payment | None, dict[str, str]]:
    """Schedule a payment, not in advance of need: due within the grant's dates, and no more than
    `max_upfront_percent` of the grant due in its first UPFRONT_DAYS days (config PAYMENT_MAX_UPFRONT_PERCENT)."""
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
    elif due_on < agreement.start_date:
        problems["due_on"] = ("The payment cannot be due before the grant starts, on "
                              f"{format_date(agreement.start_date)}")
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
    # Read while the agreement's row is held, so payments scheduled at the same moment are counted.
    upfront = upfront_problem(agreement, amount_pence, due_on, max_upfront_percent)
    if upfront:
        return None, {"due_on": upfront}
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
