"""The OPCC's side: the list of bids from every organisation, each bid, and the decisions on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from exports.bid_list import build_bid_list
from grants.admin.queries import organisation_name
from grants.agreements.queries import agreement_for_bid
from grants.assessment.forms import (
    SCORE_FIELDS,
    AssessmentForm,
    AwardForm,
    ConflictForm,
    DecisionForm,
    InformationRequestForm,
    RejectForm,
)
from grants.assessment.queries import (
    BidFilters,
    described_filters,
    filter_choices,
    iter_staff_bids,
    staff_bid_list,
)
from grants.assessment.rules import (
    CRITERIA,
    MAX_SCORE,
    AssessmentInput,
    award_for,
    budget_figures,
    decide_award,
    declare_conflict,
    latest_assessment,
    latest_decision,
    needs_approver,
    record_assessment,
    reject,
    request_information,
)
from grants.bids.lifecycle import BID, VISIBLE_TO_STAFF, conflict_of_interest
from grants.bids.queries import bid_or_404
from grants.core.access import STAFF_ROLES, roles_required
from grants.core.audit import history
from grants.core.dates import today
from grants.core.downloads import made_by, send_workbook
from grants.core.extensions import db
from grants.core.lifecycle import Action
from grants.core.models import Bid, BidSnapshot, Decision
from grants.core.paging import page_number
from grants.core.views import PageAnswer, change_page, refused_page

bp = Blueprint("assessment", __name__, url_prefix="/assess")

CHANGED_ELSEWHERE = (
    "Someone else changed this bid while you were looking at it, so your decision has not been saved. "
    "Go back to the bid to see what changed."
)


@bp.route("/")
@roles_required(*STAFF_ROLES)
def index() -> str:
    filters = BidFilters.from_args(request.args)
    return render_template("assessment/index.html", page=staff_bid_list(filters, page_number(request.args)),
                           filters=filters, args=filters.args(), choices=filter_choices(),
                           organisation=organisation_name(filters.organisation_id) if filters.organisation_id else None,
                           status_options=BID.choices(VISIBLE_TO_STAFF))


@bp.route("/bids.xlsx")
@roles_required(*STAFF_ROLES)
def download() -> Response:
    """The list as filtered on the page, every match rather than one page of them."""
    filters = BidFilters.from_args(request.args)
    shown = described_filters(filters)
    return send_workbook(lambda out: build_bid_list(iter_staff_bids(filters), out, filters=shown, made_by=made_by()),
                         f"bids-{today().isoformat()}.xlsx", note="Bids",
                         details={"filters": {name: value for name, value in shown}})


def _staff_bid(bid_id: int) -> Bid:
    bid = bid_or_404(bid_id, current_user)
    if bid.status == "draft":  # drafts are the applicant's own until submitted
        abort(404)
    return bid


@bp.route("/bids/<int:bid_id>")
@roles_required(*STAFF_ROLES)
def bid(bid_id: int) -> str:
    bid = _staff_bid(bid_id)
    decisions = db.session.scalars(select(Decision).where(Decision.bid_id == bid.id).order_by(Decision.created_at, Decision.id)).all()
    snapshots = db.session.scalars(select(BidSnapshot).where(BidSnapshot.bid_id == bid.id).order_by(BidSnapshot.submission_number)).all()
    now = today()
    return render_template("assessment/bid.html", bid=bid, history=history("bid", bid.id), actions=BID.allowed(current_user, bid, now),
                           assessment=latest_assessment(bid), decisions=decisions, snapshots=snapshots,
                           award=award_for(bid), agreement=agreement_for_bid(bid), criteria=CRITERIA,
                           max_score=MAX_SCORE * len(CRITERIA), barred=_barred(bid, now))


def _barred(bid: Bid, now: date) -> str | None:
    """Why the signed-in officer or approver takes no part in this undecided bid, said where its buttons would be:
    a conflict of interest, else the first reason the lifecycle refuses them a decision this bid waits for (the
    approver who recommended or assessed it, say), the same reason its page would give."""
    if current_user.role not in ("officer", "approver") or bid.status not in BID.action("declare_conflict").sources:
        return None
    decisions = [action.key for action in BID.actions if action.endpoint and action.key != "declare_conflict"
                 and current_user.role in action.roles and bid.status in action.sources]
    reasons = (BID.refusal(key, current_user, bid, now) for key in decisions)
    return conflict_of_interest(current_user, bid, now) or next((reason for reason in reasons if reason), None)


def _decide(bid: Bid, form: DecisionForm, template: str, perform: Callable[[], dict[str, str] | str],
            **context: Any) -> PageAnswer:
    return change_page(form, template, perform, url_for("assessment.bid", bid_id=bid.id), version=bid.version,
                       changed_elsewhere=CHANGED_ELSEWHERE, bid=bid, **context)


def _refused(bid: Bid, *actions: str) -> Response | None:
    in_turn = any(bid.status in BID.action(action).sources for action in actions)
    return refused_page(BID, actions, bid, url_for("assessment.bid", bid_id=bid.id), message=None if in_turn else
                        f"This bid is {BID.name(bid.status).lower()}, so that decision cannot be taken now.")


@bp.route("/bids/<int:bid_id>/assess", methods=["GET", "POST"])
@roles_required("officer")
def assess(bid_id: int) -> PageAnswer:
    bid = _staff_bid(bid_id)
    refused = _refused(bid, "assess", "reassess")
    if refused:
        return refused
    form = AssessmentForm()
    if request.method == "GET":
        form.recommended_pence.data = bid.requested_pence

    def perform() -> dict[str, str] | str:
        scores = {name.removeprefix("score_"): _score(form[name].data) for name in SCORE_FIELDS}
        conflict = {"yes": True, "no": False}.get(form.conflict_of_interest.data or "")
        data = AssessmentInput(
            scores=scores, comments=form.comments.data or "", recommended_pence=form.recommended_pence.data,
            conflict_of_interest=conflict, conflict_details=form.conflict_details.data or "",
            organisation_checked=bool(form.organisation_checked.data),
            due_diligence_notes=form.due_diligence_notes.data or "", fraud_risk=form.fraud_risk.data,
            fraud_risk_reasons=form.fraud_risk_reasons.data or "",
        )
        problems = record_assessment(bid, current_user, data, today())
        if problems and conflict:
            db.session.commit()  # keep the declaration (refused with the assessment's problems): it bars them
        return problems or f"Assessment of {bid.reference} saved."

    return _decide(bid, form, "assessment/assess.html", perform, score_fields=SCORE_FIELDS)


def _score(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) == 1 else None


def _decide_in_words(bid_id: int, actions: tuple[str, ...], form_class: type[DecisionForm], field: str,
                     template: str, decide: Callable[[Bid, str], dict[str, str]], done: Callable[[Bid], str]) -> PageAnswer:
    """A decision whose substance is the words typed in `field`, sent to the organisation: `decide` is the rule."""
    bid = _staff_bid(bid_id)
    refused = _refused(bid, *actions)
    if refused:
        return refused
    form = form_class()

    def perform() -> dict[str, str] | str:
        return decide(bid, form[field].data or "") or done(bid)

    return _decide(bid, form, template, perform)


@bp.route("/bids/<int:bid_id>/request-information", methods=["GET", "POST"], endpoint="request_information")
@roles_required("officer")
def request_info(bid_id: int) -> PageAnswer:
    return _decide_in_words(
        bid_id, ("request_information",), InformationRequestForm, "message", "assessment/request_information.html",
        lambda bid, message: request_information(bid, current_user, message, today()),
        lambda bid: f"{bid.organisation.name} has been asked for more information about {bid.reference}.")


@bp.route("/bids/<int:bid_id>/reject", methods=["GET", "POST"], endpoint="reject")
@roles_required("officer", "approver")
def reject_bid(bid_id: int) -> PageAnswer:
    return _decide_in_words(
        bid_id, ("reject", "reject_recommendation"), RejectForm, "reasons", "assessment/reject.html",
        lambda bid, reasons: reject(bid, current_user, reasons, today()),
        lambda bid: f"{bid.reference} has been rejected and {bid.organisation.name} told why.")


@bp.route("/bids/<int:bid_id>/award", methods=["GET", "POST"])
@roles_required("officer", "approver")
def award(bid_id: int) -> PageAnswer:
    bid = _staff_bid(bid_id)
    refused = _refused(bid, "decide", "decide_recommendation")
    if refused:
        return refused
    form = AwardForm()
    recommendation = latest_decision(bid, ("recommended",)) if bid.status == "recommended" else None
    assessment = latest_assessment(bid)
    if request.method == "GET":
        if recommendation:
            form.amount_pence.data = recommendation.amount_pence
            form.reasons.data = recommendation.reasons
            form.public_summary.data = recommendation.public_summary or bid.title
        else:
            form.public_summary.data = bid.title
            if assessment:
                form.amount_pence.data = assessment.recommended_pence
    amount = form.amount_pence.data
    fund_year = bid.fund_year

    # Above the delegation limit this person's decision would be a recommendation (officers, in review).
    may_recommend = BID.refusal("recommend", current_user, bid, today()) is None

    def perform() -> dict[str, str] | str:
        outcome, problems = decide_award(bid, current_user, form.amount_pence.data, form.reasons.data or "", today(),
                                         public_summary=form.public_summary.data or "")
        return problems if outcome is None else outcome.message

    return _decide(bid, form, "assessment/award.html", perform, figures=budget_figures(fund_year, amount),
                   fund_year=fund_year, assessment=assessment, recommendation=recommendation,
                   may_recommend=may_recommend,
                   will_recommend=may_recommend and amount is not None and needs_approver(fund_year, amount),
                   declare=_actions_of(bid, "declare_conflict"))


def _actions_of(bid: Bid, *keys: str) -> list[Action]:
    """Those of these actions the signed-in person may take on the bid now, for a page's buttons."""
    return [BID.action(key) for key in keys if BID.refusal(key, current_user, bid, today()) is None]


@bp.route("/bids/<int:bid_id>/declare-conflict", methods=["GET", "POST"], endpoint="declare_conflict")
@roles_required("officer", "approver")
def declare(bid_id: int) -> PageAnswer:
    bid = _staff_bid(bid_id)
    refused = _refused(bid, "declare_conflict")
    if refused:
        return refused
    form = ConflictForm()

    def perform() -> dict[str, str] | str:
        declare_conflict(bid, current_user, form.details.data or "", today())
        return f"Your conflict of interest in {bid.reference} is recorded: you take no further part in assessing or deciding it."

    return change_page(form, "assessment/declare_conflict.html", perform, url_for("assessment.bid", bid_id=bid.id),
                       bid=bid)
