"""Grant agreements: prepared and issued by officers, accepted by grantees, started and ended."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from exports.agreement_pdf import PDF_MIME, build_agreement_pdf, filename
from grants.agreements import conditions
from grants.agreements.closeout import accepted_spend, close_out_figures
from grants.agreements.documents import agreement_document, approved_budget, conditions_of
from grants.agreements.forms import AcceptForm, AgreementForm, ConfirmForm, EndForm
from grants.agreements.lifecycle import AGREEMENT
from grants.agreements.queries import agreement_for_bid, agreement_list, agreement_or_404, paid_pence
from grants.agreements.rules import (
    AgreementTerms,
    accept,
    activate,
    end_agreement,
    issue,
    prepare_agreement,
    update_draft,
)
from grants.assessment.rules import award_for
from grants.bids.lifecycle import BID
from grants.bids.queries import bid_or_404
from grants.core.access import STAFF_ROLES, roles_required
from grants.core.audit import history
from grants.core.dates import today
from grants.core.models import GrantAgreement, Payment, Repayment, utcnow
from grants.core.paging import page_number
from grants.core.views import PageAnswer, change_page, refused_page
from grants.payments.lifecycle import PAYMENT
from grants.repayments.lifecycle import REPAYMENT
from grants.repayments.queries import agreement_repayments
from grants.repayments.rules import repayable_pence
from grants.variations.queries import visible_variations

bp = Blueprint("agreements", __name__, url_prefix="/agreements")


@bp.route("/")
@roles_required("applicant", *STAFF_ROLES)
def index() -> str:
    status = request.args.get("status", "")
    if status not in AGREEMENT.stored_keys:
        status = ""
    page = agreement_list(current_user, status, page_number(request.args))
    # Grantees see only their own few agreements; staff filter every organisation's.
    options = [] if current_user.role == "applicant" else AGREEMENT.choices()
    return render_template("agreements/index.html", page=page, status=status, status_options=options,
                           args={"status": status} if status else {})


@bp.route("/<int:agreement_id>")
@roles_required("applicant", *STAFF_ROLES)
def view(agreement_id: int) -> str:
    agreement = agreement_or_404(agreement_id, current_user)
    confirm = ConfirmForm()
    confirm.version.data = str(agreement.version)
    now = today()
    repayments = agreement_repayments(agreement)
    return render_template(
        "agreements/view.html", agreement=agreement, bid=agreement.bid,
        actions=AGREEMENT.allowed(current_user, agreement, now), confirm=confirm, paid=paid_pence(agreement),
        payment_actions={p.id: PAYMENT.allowed(current_user, p, now) for p in agreement.payments},
        conditions=conditions_of(agreement), budget=approved_budget(agreement),
        variations=visible_variations(current_user, agreement),
        repayments=repayments, close_out=close_out_figures(agreement),
        repayment_actions={r.id: REPAYMENT.allowed(current_user, r, now) for r in repayments.repayments},
        history=history("grant_agreement", agreement.id,
                        also={"payment": select(Payment.id).where(Payment.agreement_id == agreement.id),
                              "repayment": select(Repayment.id).where(Repayment.agreement_id == agreement.id)}),
    )


@bp.route("/<int:agreement_id>.pdf")
@roles_required("applicant", *STAFF_ROLES)
def pdf(agreement_id: int) -> Response:
    """The agreement as a PDF, to keep or print: whoever may see its page may download it."""
    agreement = agreement_or_404(agreement_id, current_user)
    document = agreement_document(agreement, grantor=current_app.config["PUBLISHER_NAME"],
                                  service_name=current_app.config["SERVICE_NAME"])
    response = Response(build_agreement_pdf(document, made_at=utcnow()), mimetype=PDF_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename(document)}"'
    return response


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
    refused = refused_page(BID, ("prepare_agreement",), bid, url_for("assessment.bid", bid_id=bid.id))
    if refused:
        return refused
    form = AgreementForm()
    if request.method == "GET":
        form.start_date.raw_data = _date_boxes(bid.start_date)
        form.end_date.raw_data = _date_boxes(bid.end_date)
    made: list[GrantAgreement] = []

    def perform() -> dict[str, str] | str:
        agreement, problems = prepare_agreement(award, current_user, _terms(form), today())
        if agreement is None:
            return problems
        made.append(agreement)
        return f"Draft agreement {agreement.reference} saved. Check it, then issue it to {bid.organisation.name}."

    answer = change_page(form, "agreements/prepare.html", perform, url_for("assessment.bid", bid_id=bid.id),
                         bid=bid, award=award, conditions=conditions.preview(today()),
                         no_conditions=conditions.none_in_force(today()))
    if made and isinstance(answer, Response):
        return redirect(url_for("agreements.view", agreement_id=made[0].id))
    return answer


def _date_boxes(value: date | None) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)] if value else ["", "", ""]


def _refused(agreement: GrantAgreement, action: str) -> Response | None:
    return refused_page(AGREEMENT, (action,), agreement, url_for("agreements.view", agreement_id=agreement.id))


@bp.route("/<int:agreement_id>/edit", methods=["GET", "POST"])
@roles_required("officer")
def edit(agreement_id: int) -> PageAnswer:
    agreement = agreement_or_404(agreement_id, current_user)
    refused = _refused(agreement, "edit")
    if refused:
        return refused
    form = AgreementForm()
    if request.method == "GET":
        form.special_conditions.data = agreement.special_conditions
        form.start_date.raw_data = _date_boxes(agreement.start_date)
        form.end_date.raw_data = _date_boxes(agreement.end_date)

    def perform() -> dict[str, str] | str:
        return update_draft(agreement, current_user, _terms(form), today()) or \
            f"Draft agreement {agreement.reference} saved."

    return change_page(form, "agreements/prepare.html", perform, url_for("agreements.view", agreement_id=agreement.id),
                       version=agreement.version, bid=agreement.bid, award=agreement.award, agreement=agreement,
                       conditions=conditions_of(agreement))


def _state_change(agreement_id: int, change: str) -> PageAnswer:
    """Issue or activate: a button on the agreement page, with the version the page was drawn from."""
    agreement = agreement_or_404(agreement_id, current_user)
    form = ConfirmForm()
    back = url_for("agreements.view", agreement_id=agreement.id)

    def perform() -> dict[str, str] | str:
        if change == "issue":
            issue(agreement, current_user, today())
            return f"Agreement {agreement.reference} issued: {agreement.organisation.name} has been asked to accept it."
        count = activate(agreement, current_user, today())
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
    refused = _refused(agreement, "accept")
    if refused:
        return refused
    form = AcceptForm()
    if request.method == "GET":
        form.accepted_name.data = current_user.name

    def perform() -> dict[str, str] | str:
        problems = accept(agreement, current_user, form.accepted_name.data or "", form.accepted_role.data or "",
                          bool(form.confirm.data), today())
        return problems or f"You have accepted agreement {agreement.reference}. Thank you."

    return change_page(form, "agreements/accept.html", perform, url_for("agreements.view", agreement_id=agreement.id),
                       version=agreement.version, agreement=agreement, bid=agreement.bid,
                       conditions=conditions_of(agreement), budget=approved_budget(agreement))


@bp.route("/<int:agreement_id>/end", methods=["GET", "POST"])
@roles_required("officer")
def end(agreement_id: int) -> PageAnswer:
    agreement = agreement_or_404(agreement_id, current_user)
    form = EndForm()

    def perform() -> dict[str, str] | str:
        problems = end_agreement(agreement, current_user, form.outcome.data, form.reason.data or "",
                                 form.repayment_pence.data, today())
        return problems or f"Grant {agreement.reference} is {AGREEMENT.name(agreement.status).lower()}."

    return change_page(form, "agreements/end.html", perform, url_for("agreements.view", agreement_id=agreement.id),
                       version=agreement.version, agreement=agreement, paid=paid_pence(agreement),
                       spent=accepted_spend(agreement), repayable=repayable_pence(agreement))
