"""Grant agreements and their payments: prepared and issued by officers, accepted by grantees, paid by finance."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from grants.access import STAFF_ROLES, agreement_or_404, bid_or_404, payment_or_404, roles_required
from grants.agreement_rules import (
    STANDARD_CONDITIONS,
    STATUS_NAMES,
    VISIBLE_TO_GRANTEE,
    AgreementTerms,
    accept,
    activate,
    agreement_for_bid,
    end_agreement,
    issue,
    paid_pence,
    prepare_agreement,
    update_draft,
)
from grants.agreements import bp
from grants.agreements.forms import (
    AcceptForm,
    AgreementForm,
    CancelPaymentForm,
    ConfirmForm,
    EndForm,
    PaidForm,
    PaymentForm,
)
from grants.audit import history
from grants.decisions import award_for
from grants.extensions import db
from grants.models import GrantAgreement, Payment
from grants.monitoring_rules import display_status, period_label
from grants.payment_rules import cancel_payment, record_paid, schedule_payment
from grants.views import PageAnswer, change_page


@bp.route("/")
@roles_required("applicant", *STAFF_ROLES)
def index() -> str:
    query = select(GrantAgreement).order_by(GrantAgreement.created_at.desc(), GrantAgreement.id.desc())
    status = request.args.get("status", "")
    if current_user.role == "applicant":
        query = query.where(GrantAgreement.organisation_id == current_user.organisation_id,
                            GrantAgreement.status.in_(VISIBLE_TO_GRANTEE))
    if status in STATUS_NAMES:
        query = query.where(GrantAgreement.status == status)
    else:
        status = ""
    agreements = db.session.scalars(query).all()
    return render_template("agreements/index.html", agreements=agreements, status=status,
                           status_options=list(STATUS_NAMES.items()))


def _actions(agreement: GrantAgreement) -> list[tuple[str, str, str]]:
    """Links to the changes this user may make now: (endpoint, label, button classes)."""
    role, status = current_user.role, agreement.status
    actions = []
    if role == "officer" and status == "draft":
        actions.append(("agreements.edit", "Change draft", "govuk-button--secondary"))
    if role == "applicant" and status == "issued":
        actions.append(("agreements.accept", "Read and accept the agreement", ""))
    if role == "finance" and status in ("accepted", "active"):
        actions.append(("agreements.new_payment", "Schedule a payment", ""))
    if role == "officer" and status in ("accepted", "active"):
        actions.append(("agreements.end", "Close or terminate the grant", "govuk-button--warning"))
    return actions


@bp.route("/<int:agreement_id>")
@roles_required("applicant", *STAFF_ROLES)
def view(agreement_id: int) -> str:
    agreement = agreement_or_404(agreement_id, current_user)
    confirm = ConfirmForm()
    confirm.version.data = str(agreement.version)
    today = date.today()
    returns = [(ret, period_label(ret), *display_status(ret, today)) for ret in agreement.returns]
    return render_template(
        "agreements/view.html", agreement=agreement, bid=agreement.bid, actions=_actions(agreement),
        confirm=confirm, paid=paid_pence(agreement), returns=returns, events=history("grant_agreement", agreement.id, also={"payment": [p.id for p in agreement.payments]}),
    )


def _terms(form: AgreementForm) -> AgreementTerms:
    return AgreementTerms(form.start_date.data, form.end_date.data, form.special_conditions.data or "")


@bp.route("/from-bid/<int:bid_id>", methods=["GET", "POST"])
@roles_required("officer")
def prepare(bid_id: int) -> PageAnswer:
    bid = bid_or_404(bid_id, current_user)
    award = award_for(bid)
    if award is None:
        abort(404)
    existing = agreement_for_bid(bid)
    if existing is not None:
        return redirect(url_for("agreements.view", agreement_id=existing.id))
    form = AgreementForm()
    if request.method == "GET":
        form.start_date.raw_data = _date_boxes(bid.start_date)
        form.end_date.raw_data = _date_boxes(bid.end_date)
    made: list[GrantAgreement] = []

    def perform() -> dict[str, str] | str:
        agreement, problems = prepare_agreement(award, current_user, _terms(form))
        if agreement is None:
            return problems
        made.append(agreement)
        return f"Draft agreement {agreement.reference} saved. Check it, then issue it to {bid.organisation.name}."

    answer = change_page(form, "agreements/prepare.html", perform, url_for("assessment.bid", bid_id=bid.id),
                         bid=bid, award=award, standard_conditions=STANDARD_CONDITIONS)
    if made and isinstance(answer, Response):
        return redirect(url_for("agreements.view", agreement_id=made[0].id))
    return answer


def _date_boxes(value: date | None) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)] if value else ["", "", ""]


@bp.route("/<int:agreement_id>/edit", methods=["GET", "POST"])
@roles_required("officer")
def edit(agreement_id: int) -> PageAnswer:
    agreement = agreement_or_404(agreement_id, current_user)
    form = AgreementForm()
    if request.method == "GET":
        form.special_conditions.data = agreement.special_conditions
        form.start_date.raw_data = _date_boxes(agreement.start_date)
        form.end_date.raw_data = _date_boxes(agreement.end_date)

    def perform() -> dict[str, str] | str:
        return update_draft(agreement, current_user, _terms(form)) or f"Draft agreement {agreement.reference} saved."

    return change_page(form, "agreements/prepare.html", perform, url_for("agreements.view", agreement_id=agreement.id),
                       version=agreement.version, bid=agreement.bid, award=agreement.award, agreement=agreement,
                       standard_conditions=agreement.standard_conditions)


def _state_change(agreement_id: int, change: str) -> PageAnswer:
    """Issue or activate: a button on the agreement page, with the version the page was drawn from."""
    agreement = agreement_or_404(agreement_id, current_user)
    form = ConfirmForm()
    back = url_for("agreements.view", agreement_id=agreement.id)

    def perform() -> dict[str, str] | str:
        if change == "issue":
            issue(agreement, current_user)
            return f"Agreement {agreement.reference} issued: {agreement.organisation.name} has been asked to accept it."
        count = activate(agreement, current_user)
        return f"Grant {agreement.reference} is active; {count} monitoring return(s) scheduled."

    # Only a refused change comes back as a page: it says why, with a way back to the agreement.
    return change_page(form, "agreements/refused.html", perform, back, version=agreement.version, agreement=agreement)


@bp.route("/<int:agreement_id>/issue", methods=["POST"], endpoint="issue")
@roles_required("officer")
def issue_agreement(agreement_id: int) -> PageAnswer:
    return _state_change(agreement_id, "issue")


@bp.route("/<int:agreement_id>/activate", methods=["POST"], endpoint="activate")
@roles_required("officer")
def activate_agreement(agreement_id: int) -> PageAnswer:
    return _state_change(agreement_id, "activate")


@bp.route("/<int:agreement_id>/accept", methods=["GET", "POST"], endpoint="accept")
@roles_required("applicant")
def accept_agreement(agreement_id: int) -> PageAnswer:
    agreement = agreement_or_404(agreement_id, current_user)
    if agreement.status != "issued":
        flash(f"This agreement is {STATUS_NAMES[agreement.status].lower()}, so it cannot be accepted now.", "info")
        return redirect(url_for("agreements.view", agreement_id=agreement.id))
    form = AcceptForm()
    if request.method == "GET":
        form.accepted_name.data = current_user.name

    def perform() -> dict[str, str] | str:
        problems = accept(agreement, current_user, form.accepted_name.data or "", form.accepted_role.data or "",
                          bool(form.confirm.data))
        return problems or f"You have accepted agreement {agreement.reference}. Thank you."

    return change_page(form, "agreements/accept.html", perform, url_for("agreements.view", agreement_id=agreement.id),
                       version=agreement.version, agreement=agreement, bid=agreement.bid)


@bp.route("/<int:agreement_id>/end", methods=["GET", "POST"])
@roles_required("officer")
def end(agreement_id: int) -> PageAnswer:
    agreement = agreement_or_404(agreement_id, current_user)
    form = EndForm()

    def perform() -> dict[str, str] | str:
        problems = end_agreement(agreement, current_user, form.outcome.data, form.reason.data or "",
                                 form.repayment_pence.data)
        return problems or f"Grant {agreement.reference} is {STATUS_NAMES[agreement.status].lower()}."

    return change_page(form, "agreements/end.html", perform, url_for("agreements.view", agreement_id=agreement.id),
                       version=agreement.version, agreement=agreement, paid=paid_pence(agreement))


@bp.route("/<int:agreement_id>/payments/new", methods=["GET", "POST"])
@roles_required("finance")
def new_payment(agreement_id: int) -> PageAnswer:
    agreement = agreement_or_404(agreement_id, current_user)
    form = PaymentForm()

    def perform() -> dict[str, str] | str:
        payment, problems = schedule_payment(agreement, current_user, form.amount_pence.data, form.due_on.data,
                                             form.note.data or "")
        return problems if payment is None else f"Payment of {form.amount_pence.raw_text} scheduled."

    return change_page(form, "agreements/payment_new.html", perform,
                       url_for("agreements.view", agreement_id=agreement.id), agreement=agreement,
                       left=agreement.amount_pence - agreement.scheduled_pence)


def _payment(payment_id: int) -> tuple[Payment, GrantAgreement]:
    payment = payment_or_404(payment_id, current_user)
    return payment, payment.agreement


@bp.route("/payments/<int:payment_id>/paid", methods=["GET", "POST"])
@roles_required("finance")
def record_payment(payment_id: int) -> PageAnswer:
    payment, agreement = _payment(payment_id)
    form = PaidForm()

    def perform() -> dict[str, str] | str:
        problems = record_paid(payment, current_user, form.paid_on.data, form.finance_reference.data or "", date.today())
        return problems or f"Payment {payment.reference} recorded as paid."

    return change_page(form, "agreements/payment_paid.html", perform,
                       url_for("agreements.view", agreement_id=agreement.id), version=payment.version,
                       payment=payment, agreement=agreement)


@bp.route("/payments/<int:payment_id>/cancel", methods=["GET", "POST"])
@roles_required("finance")
def cancel(payment_id: int) -> PageAnswer:
    payment, agreement = _payment(payment_id)
    form = CancelPaymentForm()

    def perform() -> dict[str, str] | str:
        return cancel_payment(payment, current_user, form.reason.data or "") or f"Payment {payment.reference} cancelled."

    return change_page(form, "agreements/payment_cancel.html", perform,
                       url_for("agreements.view", agreement_id=agreement.id), version=payment.version,
                       payment=payment, agreement=agreement)
