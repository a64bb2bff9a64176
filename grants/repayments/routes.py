"""Repayments: asked for by officers from an agreement, money received and write-offs recorded by finance."""

from __future__ import annotations

from flask import Blueprint, url_for
from flask_login import current_user

from grants.agreements.lifecycle import AGREEMENT
from grants.agreements.queries import agreement_or_404, paid_pence
from grants.core.access import roles_required
from grants.core.dates import today
from grants.core.money import format_money
from grants.core.views import PageAnswer, change_page, refused_page
from grants.repayments.forms import ReceiptForm, RepaymentForm, WriteOffForm
from grants.repayments.lifecycle import REPAYMENT
from grants.repayments.queries import repayment_or_404
from grants.repayments.rules import Receipt, RepaymentRequest, ask_repayment, record_receipt, repayable_pence, write_off

# The repayment pages sit under /agreements, where people reach them from.
bp = Blueprint("repayments", __name__, url_prefix="/agreements")


@bp.route("/<int:agreement_id>/repayments/new", methods=["GET", "POST"], endpoint="new")
@roles_required("officer")
def new_repayment(agreement_id: int) -> PageAnswer:
    agreement = agreement_or_404(agreement_id, current_user)
    back = url_for("agreements.view", agreement_id=agreement.id)
    refused = refused_page(AGREEMENT, ("ask_repayment",), agreement, back)
    if refused:
        return refused
    form = RepaymentForm()

    def perform() -> dict[str, str] | str:
        repayment, problems = ask_repayment(
            agreement, current_user,
            RepaymentRequest(form.amount_pence.data, form.reason.data or "", form.due_on.data), today())
        if repayment is None:
            return problems
        return (f"Repayment {repayment.reference} of {form.amount_pence.raw_text} asked for: "
                f"{agreement.organisation.name} has been emailed.")

    return change_page(form, "repayments/new.html", perform, back, version=agreement.version, agreement=agreement,
                       paid=paid_pence(agreement), left=repayable_pence(agreement))


@bp.route("/repayments/<int:repayment_id>/receive", methods=["GET", "POST"], endpoint="receive")
@roles_required("finance")
def receive(repayment_id: int) -> PageAnswer:
    repayment = repayment_or_404(repayment_id, current_user)
    agreement = repayment.agreement
    back = url_for("agreements.view", agreement_id=agreement.id, _anchor="repayments")
    refused = refused_page(REPAYMENT, ("receive",), repayment, back)
    if refused:
        return refused
    form = ReceiptForm()

    def perform() -> dict[str, str] | str:
        problems = record_receipt(repayment, current_user, Receipt(form.amount_pence.data, form.received_on.data,
                                                                   form.reference.data or ""), today())
        return problems or f"{format_money(form.amount_pence.data)} received against repayment {repayment.reference}."

    return change_page(form, "repayments/receive.html", perform, back, repayment=repayment, agreement=agreement)


@bp.route("/repayments/<int:repayment_id>/write-off", methods=["GET", "POST"], endpoint="write_off")
@roles_required("finance")
def write_off_repayment(repayment_id: int) -> PageAnswer:
    repayment = repayment_or_404(repayment_id, current_user)
    agreement = repayment.agreement
    back = url_for("agreements.view", agreement_id=agreement.id, _anchor="repayments")
    refused = refused_page(REPAYMENT, ("write_off",), repayment, back)
    if refused:
        return refused
    form = WriteOffForm()

    def perform() -> dict[str, str] | str:
        return write_off(repayment, current_user, form.reason.data or "", today()) or \
            f"What was still owed on repayment {repayment.reference} has been written off."

    return change_page(form, "repayments/write_off.html", perform, back, version=repayment.version,
                       repayment=repayment, agreement=agreement)
