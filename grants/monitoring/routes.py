"""Six-monthly monitoring returns: completed by grantees, reviewed by officers."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from grants.access import STAFF_ROLES, return_or_404, roles_required
from grants.audit import history
from grants.extensions import db
from grants.models import GrantAgreement, MonitoringReturn
from grants.monitoring import bp
from grants.monitoring.forms import ReturnForm, ReviewForm
from grants.monitoring_rules import (
    EDITABLE_BY_GRANTEE,
    REVIEWABLE,
    STATUS_NAMES,
    ReturnAnswers,
    display_status,
    overdue_condition,
    period_label,
    review,
    save_draft,
    submit,
)
from grants.views import PageAnswer, change_page

OVERDUE = "overdue"


@bp.route("/")
@roles_required("applicant", *STAFF_ROLES)
def index() -> str:
    today = date.today()
    query = (select(MonitoringReturn).join(GrantAgreement)
             .order_by(MonitoringReturn.due_on, MonitoringReturn.id))
    if current_user.role == "applicant":
        query = query.where(GrantAgreement.organisation_id == current_user.organisation_id)
    status = request.args.get("status", "")
    if status == OVERDUE:
        query = query.where(overdue_condition(today))
    elif status in STATUS_NAMES:
        query = query.where(MonitoringReturn.status == status)
    else:
        status = ""
    rows = [(ret, period_label(ret), *display_status(ret, today)) for ret in db.session.scalars(query)]
    return render_template("monitoring/index.html", rows=rows, status=status,
                           status_options=[(OVERDUE, "Overdue"), *STATUS_NAMES.items()])


@bp.route("/<int:return_id>")
@roles_required("applicant", *STAFF_ROLES)
def view(return_id: int) -> str:
    ret = return_or_404(return_id, current_user)
    today = date.today()
    status_name, colour = display_status(ret, today)
    can_edit = (current_user.role == "applicant" and ret.status in EDITABLE_BY_GRANTEE
                and ret.agreement.status == "active" and today >= ret.period_start)
    return render_template("monitoring/view.html", ret=ret, agreement=ret.agreement, label=period_label(ret),
                           status_name=status_name, colour=colour, can_edit=can_edit,
                           can_review=current_user.role == "officer" and ret.status in REVIEWABLE,
                           events=history("monitoring_return", ret.id))


def _answers(form: ReturnForm) -> ReturnAnswers:
    return ReturnAnswers(
        progress=form.progress.data or "", outputs_achieved=form.outputs_achieved.data or "",
        outcomes_achieved=form.outcomes_achieved.data or "", people_reached=form.people_reached.data,
        spent_pence=form.spent_pence.data, challenges=form.challenges.data or "",
    )


@bp.route("/<int:return_id>/edit", methods=["GET", "POST"])
@roles_required("applicant")
def edit(return_id: int) -> PageAnswer:
    ret = return_or_404(return_id, current_user)
    back = url_for("monitoring.view", return_id=ret.id)
    if ret.status not in EDITABLE_BY_GRANTEE:
        flash(f"This return is {STATUS_NAMES[ret.status].lower()}, so it cannot be changed now.", "info")
        return redirect(back)
    form = ReturnForm(obj=ret) if request.method == "GET" else ReturnForm()

    def perform() -> dict[str, str] | str:
        save_draft(ret, current_user, _answers(form))
        if not form.submit.data:
            return "Your answers have been saved. Come back to finish and submit the return."
        # What was typed is kept even when the return cannot be submitted yet.
        db.session.commit()
        form.version.data = str(ret.version)
        return submit(ret, current_user, _answers(form), date.today()) or \
            f"Monitoring return for {period_label(ret)} submitted. Thank you."

    answer = change_page(form, "monitoring/edit.html", perform, back, version=ret.version, ret=ret,
                         agreement=ret.agreement, label=period_label(ret))
    if form.save.data and isinstance(answer, Response):
        return redirect(url_for("monitoring.edit", return_id=ret.id))
    return answer


@bp.route("/<int:return_id>/review", methods=["GET", "POST"], endpoint="review")
@roles_required("officer")
def review_return(return_id: int) -> PageAnswer:
    ret = return_or_404(return_id, current_user)
    form = ReviewForm()

    def perform() -> dict[str, str] | str:
        return review(ret, current_user, form.outcome.data, form.note.data or "") or \
            f"Return {period_label(ret)} for {ret.agreement.reference}: {STATUS_NAMES[ret.status].lower()}."

    return change_page(form, "monitoring/review.html", perform, url_for("monitoring.view", return_id=ret.id),
                       version=ret.version, ret=ret, agreement=ret.agreement, label=period_label(ret))
