"""Payments against a grant agreement: scheduled, recorded as paid or cancelled, by finance."""

from __future__ import annotations

from flask import Blueprint, current_app, url_for
from flask_login import current_user

from grants.agreements.queries import agreement_or_404
from grants.core.access import roles_required
from grants.core.dates import today
from grants.core.views import PageAnswer, change_page
from grants.payments.forms import CancelPaymentForm, PaidForm, PaymentForm
from grants.payments.queries import payment_or_404
from grants.payments.rules import cancel_payment, record_paid, schedule_payment, upfront_until

# The payment pages sit under /agreements, where people reach them from.
bp = Blueprint("payments", __name__, url_prefix="/agreements")


@bp.route("/<int:agreement_id>/payments/new", methods=["GET", "POST"], endpoint="new")
@roles_required("finance")
def new_payment(agreement_id: int) -> PageAnswer:
    agreement = agreement_or_404(agreement_id, current_user)
    form = PaymentForm()

    def perform() -> dict[str, str] | str:
        payment, problems = schedule_payment(agreement, current_user, form.amount_pence.data, form.due_on.data,
                                             form.note.data or "", today=today(), max_upfront_percent=upfront)
        return problems if payment is None else f"Payment of {form.amount_pence.raw_text} scheduled."

    upfront = current_app.config["PAYMENT_MAX_UPFRONT_PERCENT"]
    return change_page(form, "payments/new.html", perform,
                       url_for("agreements.view", agreement_id=agreement.id), agreement=agreement,
                       left=agreement.amount_pence - agreement.scheduled_pence, upfront_percent=upfront,
                       upfront_until=upfront_until(agreement))


@bp.route("/payments/<int:payment_id>/paid", methods=["GET", "POST"], endpoint="paid")
@roles_required("finance")
def record_payment(payment_id: int) -> PageAnswer:
    payment = payment_or_404(payment_id, current_user)
    agreement = payment.agreement
    form = PaidForm()

    def perform() -> dict[str, str] | str:
        problems = record_paid(payment, current_user, form.paid_on.data, form.finance_reference.data or "", today())
        return problems or f"Payment {payment.reference} recorded as paid."

    return change_page(form, "payments/paid.html", perform,
                       url_for("agreements.view", agreement_id=agreement.id), version=payment.version,
                       payment=payment, agreement=agreement)


@bp.route("/payments/<int:payment_id>/cancel", methods=["GET", "POST"], endpoint="cancel")
@roles_required("finance")
def cancel(payment_id: int) -> PageAnswer:
    payment = payment_or_404(payment_id, current_user)
    agreement = payment.agreement
    form = CancelPaymentForm()

    def perform() -> dict[str, str] | str:
        return cancel_payment(payment, current_user, form.reason.data or "", today()) or \
            f"Payment {payment.reference} cancelled."

    return change_page(form, "payments/cancel.html", perform,
                       url_for("agreements.view", agreement_id=agreement.id), version=payment.version,
                       payment=payment, agreement=agreement)

