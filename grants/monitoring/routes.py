"""Monitoring returns: completed by grantees (measures, spend, evidence), reviewed by officers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from grants.core.access import STAFF_ROLES, roles_required
from grants.core.audit import history
from grants.core.dates import today
from grants.core.extensions import db
from grants.core.files import send_stored
from grants.core.models import MonitoringReturn, ReturnEvidence
from grants.core.paging import page_number
from grants.core.views import PageAnswer, change_page, refused_page
from grants.monitoring.evidence import add_evidence, evidence_problem
from grants.monitoring.forms import ReturnForm, ReviewForm
from grants.monitoring.lifecycle import OVERDUE, RETURN
from grants.monitoring.measures import input_text
from grants.monitoring.queries import return_list, return_or_404
from grants.monitoring.rules import (
    ReturnAnswers,
    answered_measures,
    measure_field,
    overspend_warning,
    review,
    save_draft,
    spend_field,
    spend_rows,
    submission_problems,
    submit,
)

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")


@bp.route("/")
@roles_required("applicant", *STAFF_ROLES)
def index() -> str:
    status = request.args.get("status", "")
    if status not in (OVERDUE, *RETURN.stored_keys):
        status = ""
    page = return_list(current_user, status, today(), page_number(request.args))
    return render_template("monitoring/index.html", page=page, status=status, args={"status": status} if status else {},
                           status_options=RETURN.choices([OVERDUE, *RETURN.stored_keys]))


def _figures(ret: MonitoringReturn) -> dict[str, Any]:
    """What every page about one return shows: its measures' answers and its spend by budget line."""
    return {"measures": answered_measures(ret), "spend": spend_rows(ret)}


@bp.route("/<int:return_id>")
@roles_required("applicant", *STAFF_ROLES)
def view(return_id: int) -> str:
    ret = return_or_404(return_id, current_user)
    return render_template("monitoring/view.html", ret=ret, agreement=ret.agreement,
                           actions=RETURN.allowed(current_user, ret, today()),
                           history=history("monitoring_return", ret.id), **_figures(ret))


def _answers(form: ReturnForm, ret: MonitoringReturn) -> ReturnAnswers:
    typed = request.form
    return ReturnAnswers(
        progress=form.progress.data or "", challenges=form.challenges.data or "", rag=form.rag.data or None,
        measures={m.id: typed.get(measure_field(m.id), "") for m, _ in answered_measures(ret)},
        spend={line.id: typed.get(spend_field(line.id), "") for line in ret.agreement.bid.budget_lines},
    )


def _shown_answers(ret: MonitoringReturn) -> dict[str, str]:
    """The measure and spend boxes as the page draws them: what was just typed, else what is kept."""
    if request.method == "POST":
        return {key: value for key, value in request.form.items() if key.startswith(("measure-", "spend-"))}
    shown = {measure_field(m.id): input_text(m.unit, value) for m, value in answered_measures(ret)}
    shown.update({spend_field(s.budget_line_id): input_text("money", s.spent_pence) for s in ret.spend})
    return shown


def _files() -> list[FileStorage]:
    return [f for f in request.files.getlist("evidence") if f and f.filename]


@bp.route("/<int:return_id>/edit", methods=["GET", "POST"])
@roles_required("applicant")
def edit(return_id: int) -> PageAnswer:
    ret = return_or_404(return_id, current_user)
    refused = refused_page(RETURN, ("complete",), ret, url_for("monitoring.view", return_id=ret.id))
    if refused:
        return refused
    form = ReturnForm(obj=ret) if request.method == "GET" else ReturnForm()
    directory = current_app.config["EVIDENCE_DIR"]
    max_bytes = current_app.config["EVIDENCE_MAX_MB"] * 1024 * 1024

    def perform() -> dict[str, str] | str:
        files = [(f.filename or "", f.read(max_bytes + 1)) for f in _files()]
        bad_files = [p for p in (evidence_problem(name, data, max_bytes) for name, data in files) if p]
        # Every problem at once; nothing is kept while there is one (the page shows what was typed).
        answers = _answers(form, ret)
        problems = save_draft(ret, current_user, answers, today())
        if problems and form.submit.data:
            problems = submission_problems(ret, answers)
        if bad_files:
            problems["evidence"] = "; ".join(bad_files) + ". Choose the files again."
        if problems:
            return problems
        for name, data in files:
            add_evidence(ret, current_user, name, data, directory)
        if not form.submit.data:
            return "Your answers have been saved. Come back to finish and submit the return."
        # What was typed is kept even when the return cannot be submitted yet.
        db.session.commit()
        form.version.data = str(ret.version)
        return submit(ret, current_user, answers, today()) or \
            f"Monitoring return for {ret.period_label} submitted. Thank you."

    answer = change_page(form, "monitoring/edit.html", perform, url_for("monitoring.view", return_id=ret.id),
                         version=ret.version, ret=ret, agreement=ret.agreement, shown=_shown_answers(ret),
                         anchors=_anchors(ret), **_figures(ret))
    if form.save.data and isinstance(answer, Response):
        return redirect(url_for("monitoring.edit", return_id=ret.id))
    return answer


def _anchors(ret: MonitoringReturn) -> dict[str, str]:
    """Problems with the drawn fields, each shown beside its own box."""
    keys = [measure_field(m.id) for m, _ in answered_measures(ret)]
    keys += [spend_field(line.id) for line in ret.agreement.bid.budget_lines]
    return {key: key for key in [*keys, "evidence"]}


@bp.route("/<int:return_id>/review", methods=["GET", "POST"], endpoint="review")
@roles_required("officer")
def review_return(return_id: int) -> PageAnswer:
    ret = return_or_404(return_id, current_user)
    refused = refused_page(RETURN, ("review",), ret, url_for("monitoring.view", return_id=ret.id), form_first=True)
    if refused:
        return refused
    form = ReviewForm()

    def perform() -> dict[str, str] | str:
        return review(ret, current_user, form.outcome.data, form.note.data or "", today(),
                      form.officer_rag.data or None) or \
            f"Return {ret.period_label} for {ret.agreement.reference}: {RETURN.name(ret.status).lower()}."

    return change_page(form, "monitoring/review.html", perform, url_for("monitoring.view", return_id=ret.id),
                       version=ret.version, ret=ret, agreement=ret.agreement, warning=overspend_warning(ret),
                       **_figures(ret))


@bp.route("/evidence/<int:evidence_id>")
@roles_required("applicant", *STAFF_ROLES)
def evidence(evidence_id: int) -> Response:
    """A file sent with a return, to those who may see the return; always downloaded, never shown inline."""
    item = db.session.get(ReturnEvidence, evidence_id)
    if item is None:
        abort(404)
    return_or_404(item.return_id, current_user)
    return send_stored(current_app.config["EVIDENCE_DIR"], item.stored_name, item.content_type, item.filename)

