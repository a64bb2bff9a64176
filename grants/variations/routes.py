"""Variations: proposed by officers, approved above the delegation limit, accepted or declined by grantees."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from grants.agreements.lifecycle import AGREEMENT
from grants.agreements.queries import agreement_or_404
from grants.core.access import STAFF_ROLES, roles_required
from grants.core.audit import history
from grants.core.dates import today
from grants.core.models import AgreementVariation, GrantAgreement
from grants.core.views import PageAnswer, change_page, refused_page
from grants.variations import rules
from grants.variations.forms import AcceptVariationForm, NoteForm, VariationForm
from grants.variations.lifecycle import VARIATION
from grants.variations.queries import variation_or_404

bp = Blueprint("variations", __name__)


def _date_boxes(agreement: GrantAgreement) -> list[str]:
    end = agreement.end_date
    return [str(end.day), str(end.month), str(end.year)]


@bp.route("/agreements/<int:agreement_id>/variations/new", methods=["GET", "POST"])
@roles_required("officer")
def propose(agreement_id: int) -> PageAnswer:
    agreement = agreement_or_404(agreement_id, current_user)
    back = url_for("agreements.view", agreement_id=agreement.id)
    refused = refused_page(AGREEMENT, ("vary",), agreement, back)
    if refused:
        return refused
    form = VariationForm()
    if request.method == "GET":
        form.amount_pence.process_data(agreement.amount_pence)
        form.end_date.raw_data = _date_boxes(agreement)
        form.special_conditions.data = agreement.special_conditions
    made: list[AgreementVariation] = []

    def perform() -> dict[str, str] | str:
        variation, problems = rules.propose(agreement, current_user, rules.VariationInput(
            form.amount_pence.data, form.end_date.data, form.special_conditions.data or "",
            form.reasons.data or ""), today())
        if variation is None:
            return problems
        made.append(variation)
        if variation.status == "offered":
            return f"Variation {variation.reference} offered to {agreement.organisation.name} to accept."
        return (f"Variation {variation.reference} takes the grant above the delegation limit, so it has gone to an "
                "approver to decide.")

    answer = change_page(form, "variations/propose.html", perform, back, version=agreement.version,
                         agreement=agreement)
    if made and isinstance(answer, Response):
        return redirect(url_for("variations.view", variation_id=made[0].id))
    return answer


@bp.route("/variations/<int:variation_id>")
@roles_required("applicant", *STAFF_ROLES)
def view(variation_id: int) -> str:
    variation = variation_or_404(variation_id, current_user)
    return render_template("variations/view.html", variation=variation, agreement=variation.agreement,
                           actions=VARIATION.allowed(current_user, variation, today()),
                           history=history("agreement_variation", variation.id))


def _decision(variation_id: int, action: str, decide: Callable[..., dict[str, str]], done: str,
              heading: str) -> PageAnswer:
    variation = variation_or_404(variation_id, current_user)
    back = url_for("variations.view", variation_id=variation.id)
    refused = refused_page(VARIATION, (action,), variation, back)
    if refused:
        return refused
    form = NoteForm()

    def perform() -> dict[str, str] | str:
        return decide(variation, current_user, form.note.data or "", today()) or done.format(v=variation)

    return change_page(form, "variations/decide.html", perform, back, version=variation.version,
                       variation=variation, agreement=variation.agreement, heading=heading, action=action)


@bp.route("/variations/<int:variation_id>/approve", methods=["GET", "POST"])
@roles_required("approver")
def approve(variation_id: int) -> PageAnswer:
    return _decision(variation_id, "approve", rules.approve,
                     "Variation {v.reference} approved and offered to the grantee.", "Approve the variation")


@bp.route("/variations/<int:variation_id>/refuse", methods=["GET", "POST"])
@roles_required("approver")
def refuse(variation_id: int) -> PageAnswer:
    return _decision(variation_id, "refuse", rules.refuse, "Variation {v.reference} refused.",
                     "Refuse the variation")


@bp.route("/variations/<int:variation_id>/withdraw", methods=["GET", "POST"])
@roles_required("officer")
def withdraw(variation_id: int) -> PageAnswer:
    return _decision(variation_id, "withdraw", rules.withdraw, "Variation {v.reference} withdrawn.",
                     "Withdraw the variation")


@bp.route("/variations/<int:variation_id>/decline", methods=["GET", "POST"])
@roles_required("applicant")
def decline(variation_id: int) -> PageAnswer:
    return _decision(variation_id, "decline", rules.decline,
                     "You have declined variation {v.reference}. The agreement stays as it was.",
                     "Decline the variation")


@bp.route("/variations/<int:variation_id>/accept", methods=["GET", "POST"])
@roles_required("applicant")
def accept(variation_id: int) -> PageAnswer:
    variation = variation_or_404(variation_id, current_user)
    back = url_for("variations.view", variation_id=variation.id)
    refused = refused_page(VARIATION, ("accept",), variation, back)
    if refused:
        return refused
    form = AcceptVariationForm()
    if request.method == "GET":
        form.accepted_name.data = current_user.name

    def perform() -> dict[str, str] | str:
        problems = rules.accept(variation, current_user, form.accepted_name.data or "",
                                form.accepted_role.data or "", bool(form.confirm.data), today())
        return problems or f"You have accepted variation {variation.reference}: the agreement now reads as varied."

    return change_page(form, "variations/accept.html", perform,
                       url_for("agreements.view", agreement_id=variation.agreement_id), version=variation.version,
                       variation=variation, agreement=variation.agreement)
