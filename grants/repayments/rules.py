"""Repayments (clawback): money a grantee is asked to pay back under its agreement's conditions (Police Reform
and Social Responsibility Act 2011, s.9 allows conditions as to repayment), and the money received against it.

An officer asks for a repayment when a grant is closed or terminated, or on its own, with reasons, from an
accepted, running or ended grant: never more than has been paid less what has already been asked back. The
grantee is emailed the amount, the reason, the due date and how to pay. Finance records money as it arrives,
in part or in whole; what has been received moves only by a conditional UPDATE that is the first write of the
change, so receipts recorded at the same moment never add up to more than is owed. Finance may write off what
is still owed, with reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update

from grants.agreements.closeout import release_repayment, take_back
from grants.agreements.lifecycle import AGREEMENT
from grants.agreements.queries import paid_pence
from grants.core.audit import record_event
from grants.core.dates import format_date, london_date
from grants.core.extensions import db
from grants.core.mail import tell_organisation
from grants.core.models import GrantAgreement, Repayment, RepaymentReceipt, User, utcnow
from grants.core.money import format_money
from grants.repayments.lifecycle import OWED, REPAYMENT
from grants.repayments.queries import expected_total

# A repayment asked for without a date of its own is due this many days later.
REPAYMENT_DAYS = 30
REFERENCE_LIMIT = 100
HOW_TO_PAY = (
    "How to pay: make a bank transfer to the Office of the Police and Crime Commissioner for Cambridgeshire and "
    "Peterborough, quoting {reference}. For the bank details, an invoice or to agree instalments, reply to this "
    "email or contact the OPCC's finance team."
)


@dataclass
class RepaymentRequest:
    amount_pence: int | None
    reason: str
    due_on: date | None  # None: REPAYMENT_DAYS from today


def repayable_pence(agreement: GrantAgreement) -> int:
    """What may still be asked back: paid to the grantee, less what has been asked back already."""
    return paid_pence(agreement) - expected_total(agreement.id)


def amount_problem(agreement: GrantAgreement, amount_pence: int) -> str | None:
    if amount_pence <= 0:
        return "The repayment must be more than £0.00"
    left = repayable_pence(agreement)
    if amount_pence <= left:
        return None
    paid = paid_pence(agreement)
    if left == paid:
        return f"The repayment cannot be more than the {format_money(paid)} paid to the grantee"
    if left <= 0:
        return (f"Everything paid to the grantee ({format_money(paid)}) has already been asked back, so no more "
                "can be asked for")
    return (f"The repayment cannot be more than {format_money(left)}: the {format_money(paid)} paid to the grantee "
            "less what has already been asked back")


def request_problems(agreement: GrantAgreement, request: RepaymentRequest, today: date) -> dict[str, str]:
    problems: dict[str, str] = {}
    if request.amount_pence is None:
        problems["amount_pence"] = "Enter the amount to be repaid"
    else:
        problem = amount_problem(agreement, request.amount_pence)
        if problem:
            problems["amount_pence"] = problem
    if not request.reason.strip():
        problems["reason"] = "Give the reason for the repayment"
    if request.due_on is not None and request.due_on < today:
        problems["due_on"] = "The repayment must be due today or later"
    return problems


def ask_repayment(agreement: GrantAgreement, officer: User, request: RepaymentRequest,
                  today: date) -> tuple[Repayment | None, dict[str, str]]:
    """An officer asks the grantee to repay part of the grant; (None, problems) stores nothing."""
    AGREEMENT.check("ask_repayment", officer, agreement, today)
    problems = request_problems(agreement, request, today)
    if problems:
        return None, problems
    assert request.amount_pence is not None
    return make_repayment(agreement, officer, request.amount_pence, request.reason, request.due_on, today), {}


def make_repayment(agreement: GrantAgreement, user: User, amount_pence: int, reason: str, due_on: date | None,
                   today: date) -> Repayment:
    """The repayment, its audit event and the grantee's email; the amount has been checked by the caller.

    The agreement is changed first, so two repayments asked for at the same moment cannot both be checked
    against the same amount left: the second is told the agreement changed."""
    agreement.updated_at = utcnow()
    db.session.flush()
    due_on = due_on or today + timedelta(days=REPAYMENT_DAYS)
    repayment = Repayment(agreement_id=agreement.id, amount_pence=amount_pence, received_pence=0, status="due",
                          reason=reason.strip(), due_on=due_on, created_by_id=user.id)
    db.session.add(repayment)
    record_event(user, "repayment.due", repayment, to_state="due",
                 note=f"{format_money(amount_pence)} to be repaid on {agreement.reference} by {format_date(due_on)}: "
                      f"{repayment.reason}",
                 details={"agreement_id": agreement.id, "amount_pence": amount_pence})
    release_repayment(agreement, user, amount_pence, f"repayment {repayment.reference} on {agreement.reference}")
    bid = agreement.bid
    tell_organisation(
        agreement.organisation, f"{agreement.reference}: repayment of {format_money(amount_pence)} due",
        f"The OPCC asks {agreement.organisation.name} to repay {format_money(amount_pence)} of the grant for "
        f"{bid.title} ({agreement.reference}) by {format_date(due_on)}.\n\n"
        f"Why: {repayment.reason}\n\n"
        f"{HOW_TO_PAY.format(reference=repayment.reference)}\n\n"
        "Sign in to see the repayment, and what has been received, with the agreement.",
        also=bid.created_by,
    )
    return repayment


@dataclass
class Receipt:
    amount_pence: int | None
    received_on: date | None
    reference: str


def receipt_problems(repayment: Repayment, receipt: Receipt, today: date) -> dict[str, str]:
    problems: dict[str, str] = {}
    if receipt.amount_pence is None:
        problems["amount_pence"] = "Enter the amount received"
    elif receipt.amount_pence <= 0:
        problems["amount_pence"] = "The amount received must be more than £0.00"
    accepted = repayment.agreement.accepted_at
    if receipt.received_on is None:
        problems["received_on"] = "Enter the date the money was received"
    elif receipt.received_on > today:
        problems["received_on"] = "The date the money was received must be today or in the past"
    elif accepted and receipt.received_on < london_date(accepted):
        problems["received_on"] = (f"The money cannot have been received before the grantee accepted the agreement, "
                                   f"on {format_date(accepted)}")
    reference = receipt.reference.strip()
    if not reference:
        problems["reference"] = "Enter the finance system's reference for the money received"
    elif len(reference) > REFERENCE_LIMIT:
        problems["reference"] = f"The reference must be {REFERENCE_LIMIT} characters or fewer"
    return problems


def record_receipt(repayment: Repayment, user: User, receipt: Receipt, today: date) -> dict[str, str]:
    """Finance records money received; the repayment becomes part received, or received once nothing is owed."""
    REPAYMENT.check("receive", user, repayment, today)
    problems = receipt_problems(repayment, receipt, today)
    if problems:
        return problems
    amount = receipt.amount_pence
    assert amount is not None and receipt.received_on is not None
    # The guarded total: the first write of the change, so it holds the row for the rest of it.
    moved = cast(CursorResult[Any], db.session.execute(
        update(Repayment)
        .where(Repayment.id == repayment.id, Repayment.status.in_(OWED),
               Repayment.received_pence + amount <= Repayment.amount_pence)
        .values(received_pence=Repayment.received_pence + amount, version=Repayment.version + 1)
        .execution_options(synchronize_session=False)
    ))
    db.session.refresh(repayment)
    if moved.rowcount != 1:
        REPAYMENT.check("receive", user, repayment, today)  # written off or received in full meanwhile
        owed = repayment.amount_pence - repayment.received_pence
        return {"amount_pence": f"{format_money(amount)} is more than the {format_money(owed)} still owed on this "
                                "repayment"}
    db.session.add(RepaymentReceipt(repayment_id=repayment.id, amount_pence=amount, received_on=receipt.received_on,
                                    reference=receipt.reference.strip(), recorded_by_id=user.id))
    owed = repayment.amount_pence - repayment.received_pence
    if owed == 0:
        move = "receive_all"
    elif repayment.status == "due":
        move = "part_receive"
    else:
        move = "receive"
    REPAYMENT.apply(move, user, repayment, today,
                    note=f"{format_money(amount)} received on {format_date(receipt.received_on)}, reference "
                         f"{receipt.reference.strip()}; {format_money(owed)} still owed",
                    details={"amount_pence": amount, "received_pence": repayment.received_pence})
    return {}


def write_off(repayment: Repayment, user: User, reason: str, today: date) -> dict[str, str]:
    """Finance writes off what is still owed; what was received stays received."""
    REPAYMENT.check("write_off", user, repayment, today)
    if not reason.strip():
        return {"reason": "Give the reason for writing off what is still owed"}
    remainder = repayment.amount_pence - repayment.received_pence
    REPAYMENT.apply("write_off", user, repayment, today,
                    note=f"{format_money(remainder)} written off, {format_money(repayment.received_pence)} of "
                         f"{format_money(repayment.amount_pence)} received: {reason.strip()}",
                    details={"written_off_pence": remainder, "received_pence": repayment.received_pence})
    problem = take_back(repayment.agreement, user, remainder, f"{repayment.reference} written off")
    return {"budget": problem} if problem else {}
