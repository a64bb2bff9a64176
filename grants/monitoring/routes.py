"""Monitoring returns: completed by grantees, reviewed by officers."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from grants.core.access import STAFF_ROLES, roles_required
from grants.core.audit import history
from grants.core.dates import today
from grants.core.extensions import db
from grants.core.models import GrantAgreement, MonitoringReturn
from grants.core.views import PageAnswer, change_page, refused_page
from grants.monitoring.forms import ReturnForm, ReviewForm
from grants.monitoring.lifecycle import OVERDUE, RETURN
from grants.monitoring.queries import return_or_404
from grants.monitoring.rules import ReturnAnswers, overdue_condition, review, save_draft, submit

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")


@bp.route("/")
@roles_required("applicant", *STAFF_ROLES)
def index() -> str:
    query = (select(MonitoringReturn).join(GrantAgreement)
             .order_by(MonitoringReturn.due_on, MonitoringReturn.id))
    if current_user.role == "applicant":
        query = query.where(GrantAgreement.organisation_id == current_user.organisation_id)
    status = request.args.get("status", "")
    if status == OVERDUE:
        query = query.where(overdue_condition(today()))
    elif status in RETURN.stored_keys:
        query = query.where(MonitoringReturn.status == status)
    else:
        status = ""
    return render_template("monitoring/index.html", rows=db.session.scalars(query).all(), status=status,
                           status_options=RETURN.choices([OVERDUE, *RETURN.stored_keys]))


@bp.route("/<int:return_id>")
@roles_required("applicant", *STAFF_ROLES)
def view(return_id: int) -> str:
    ret = return_or_404(return_id, current_user)
    return render_template("monitoring/view.html", ret=ret, agreement=ret.agreement,
                           actions=RETURN.allowed(current_user, ret, today()),
                           events=history("monitoring_return", ret.id))


def _answers(form: ReturnForm) -> ReturnAnswers:
    return ReturnAnswers(
        progress=form.progress.data or "", outputs_achieved=form.outputs_achieved.data or "",
        outcomes_achieved=form.outcomes_achieved.data or "", people_reached=form.people_reached.data,
        spent_pence=form.spent_pence.data, challenges=form.challenges.data or "",
    )


def _refused(ret: MonitoringReturn, action: str, *, form_first: bool = False) -> Response | None:
    return refused_page(RETURN, (action,), ret, url_for("monitoring.view", return_id=ret.id), form_first=form_first)


@bp.route("/<int:return_id>/edit", methods=["GET", "POST"])
@roles_required("applicant")
def edit(return_id: int) -> PageAnswer:
    ret = return_or_404(return_id, current_user)
    refused = _refused(ret, "complete")
    if refused:
        return refused
    form = ReturnForm(obj=ret) if request.method == "GET" else ReturnForm()

    def perform() -> dict[str, str] | str:
        save_draft(ret, current_user, _answers(form), today())
        if not form.submit.data:
            return "Your answers have been saved. Come back to finish and submit the return."
        # What was typed is kept even when the return cannot be submitted yet.
        db.session.commit()
        form.version.data = str(ret.version)
        return submit(ret, current_user, _answers(form), today()) or \
            f"Monitoring return for {ret.period_label} submitted. Thank you."

    answer = change_page(form, "monitoring/edit.html", perform, url_for("monitoring.view", return_id=ret.id),
                         version=ret.version, ret=ret, agreement=ret.agreement)
    if form.save.data and isinstance(answer, Response):
        return redirect(url_for("monitoring.edit", return_id=ret.id))
    return answer


@bp.route("/<int:return_id>/review", methods=["GET", "POST"], endpoint="review")
@roles_required("officer")
def review_return(return_id: int) -> PageAnswer:
    ret = return_or_404(return_id, current_user)
    refused = _refused(ret, "review", form_first=True)
    if refused:
        return refused
    form = ReviewForm()

    def perform() -> dict[str, str] | str:
        return review(ret, current_user, form.outcome.data, form.note.data or "", today()) or \
            f"Return {ret.period_label} for {ret.agreement.reference}: {RETURN.name(ret.status).lower()}."

    return change_page(form, "monitoring/review.html", perform, url_for("monitoring.view", return_id=ret.id),
                       version=ret.version, ret=ret, agreement=ret.agreement)
