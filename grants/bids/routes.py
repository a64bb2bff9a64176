"""The applicant's side: start, edit, submit and withdraw bids for their own organisation."""


from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from grants.agreements.queries import agreement_for_bid, can_see_agreement
from grants.assessment.rules import applicant_outcome, award_for, latest_decision
from grants.bids.documents import MAX_DOCUMENTS, add_document, removable, removal_refusal, remove_document
from grants.bids.forms import BidForm, DocumentForm, StartBidForm, WithdrawForm
from grants.bids.lifecycle import APPLICANT_EVENTS, BID
from grants.bids.queries import bid_or_404, document_of_bid, document_or_404, organisation_bids
from grants.bids.rules import (
    BUDGET,
    FUND,
    BudgetLineInput,
    open_fund_years,
    save_bid,
    start_bid,
    submit_bid,
    withdraw_bid,
)
from grants.core.access import STAFF_ROLES, roles_required
from grants.core.audit import history
from grants.core.dates import format_date, today
from grants.core.extensions import db
from grants.core.files import delete_stored, send_stored
from grants.core.forms import ConfirmForm, show_problems
from grants.core.models import Bid, FundYear
from grants.core.money import format_money
from grants.core.paging import page_number
from grants.core.refusals import Refused
from grants.core.views import PageAnswer, change_page, refused_page

bp = Blueprint("bids", __name__, url_prefix="/bids")

CHANGED = "changed-elsewhere"  # the anchor of the message below (the form's hidden field is "version")
CHANGED_ELSEWHERE = (
    "Someone else changed this bid after you opened it. Your changes have not been saved: "
    "copy anything you need, then reload the bid to see the latest version."
)


@bp.route("/")
@roles_required("applicant")
def index() -> str:
    return render_template("bids/index.html", page=organisation_bids(current_user, page_number(request.args)))


@bp.route("/start", methods=["GET", "POST"])
@roles_required("applicant")
def start() -> str | Response:
    years = open_fund_years(today())
    form = StartBidForm()
    form.fund_year_id.choices = [
        (fy.id, f"{fy.fund.name} {fy.label}: up to {format_money(fy.per_bid_cap_pence)} a bid, "
                f"closes {format_date(fy.closes_on)}")
        for fy in years
    ]
    if form.validate_on_submit():
        fund_year = db.get_or_404(FundYear, form.fund_year_id.data)  # one of the choices, so it is there
        bid = start_bid(current_user, fund_year, today())
        db.session.commit()
        return redirect(url_for("bids.edit", bid_id=bid.id))
    return render_template("bids/start.html", form=form, years=years)


def _initial_data(bid: Bid) -> dict:
    data = {name: getattr(bid, name) for name in ("title", "local_issue", "activities", "location", "theme",
                                                  "start_date", "end_date", "outputs", "outcomes", "other_funding",
                                                  "declaration")}
    data["other_funding_pence"] = bid.other_funding_pence or None
    data["version"] = str(bid.version)
    data["budget_lines"] = [{"item": line.item, "amount": line.amount_pence, "kind": line.kind}
                            for line in bid.budget_lines]
    return data


def _form_values(form: BidForm) -> dict:
    """The answers to keep: every one that is valid. One with a problem (a cost that is not a sum of money, a date
    that does not exist) keeps what was saved before, and is shown with its message and what was typed."""
    values = {
        "title": (form.title.data or "").strip(),
        "local_issue": form.local_issue.data or "",
        "activities": form.activities.data or "",
        "location": (form.location.data or "").strip(),
        "theme": form.theme.data or "",
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
        "outputs": form.outputs.data or "",
        "outcomes": form.outcomes.data or "",
        "other_funding": form.other_funding.data or "",
        "other_funding_pence": form.other_funding_pence.data or 0,
        "declaration": bool(form.declaration.data),
    }
    return {name: value for name, value in values.items() if not form[name].errors}


def _budget_lines(form: BidForm, bid: Bid) -> list[BudgetLineInput]:
    """The budget as typed, empty rows left out; a row with a problem keeps the line saved in its place before
    (the rows are drawn from the saved lines in order), or is left out if it is new."""
    saved = list(bid.budget_lines)
    lines = []
    for index, entry in enumerate(form.budget_lines.entries):
        if entry.form.errors:
            if index < len(saved):
                old = saved[index]
                lines.append(BudgetLineInput(item=old.item, amount_pence=old.amount_pence, kind=old.kind))
            continue
        item = (entry.form.item.data or "").strip()
        if item:
            lines.append(BudgetLineInput(item=item, amount_pence=entry.form.amount.data or 0,
                                         kind=entry.form.kind.data or "revenue"))
    return lines


@bp.route("/<int:bid_id>/edit", methods=["GET", "POST"])
@roles_required("applicant")
def edit(bid_id: int) -> PageAnswer:
    bid = bid_or_404(bid_id, current_user)
    refused = refused_page(BID, ("edit", "revise"), bid, url_for("bids.view", bid_id=bid.id))
    if refused:
        return refused
    form = BidForm(data=_initial_data(bid)) if request.method == "GET" else BidForm()
    g.decision = latest_decision(bid, ("info_requested",)) if bid.status == "info_requested" else None
    extra_errors: dict[str, str] = {}
    if request.method == "POST":
        if form.add_line.data:
            form.budget_lines.append_entry()
            return render_template("bids/edit.html", form=form, bid=bid)
        valid = form.validate()
        if "csrf_token" in form.errors:  # not from this page: keep nothing
            return render_template("bids/edit.html", form=form, bid=bid), 400
        if form.version.data != str(bid.version):
            extra_errors[CHANGED] = CHANGED_ELSEWHERE
            return render_template("bids/edit.html", form=form, bid=bid, extra_errors=extra_errors), 409
        try:
            # Every valid answer is kept, whichever button was pressed and whatever else has a problem.
            save_bid(bid, current_user, _form_values(form), _budget_lines(form, bid), today())
            db.session.flush()
            if not valid:
                db.session.commit()
                form.version.data = str(bid.version)
                return render_template("bids/edit.html", form=form, bid=bid, saved_except_problems=True)
            if form.submit.data:
                problems = submit_bid(bid, current_user, today())
                db.session.commit()
                if not problems:
                    flash(f"Bid {bid.reference} submitted. We will email you when a decision is made.", "success")
                    return redirect(url_for("bids.view", bid_id=bid.id))
                form.version.data = str(bid.version)
                extra_errors = show_problems(form, problems, {BUDGET: "budget-total", FUND: "fund"})
                return render_template("bids/edit.html", form=form, bid=bid, extra_errors=extra_errors,
                                       saved_with_problems=True)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            extra_errors[CHANGED] = CHANGED_ELSEWHERE
            return render_template("bids/edit.html", form=form, bid=bid, extra_errors=extra_errors), 409
        flash("Your bid has been saved as a draft.", "success")
        return redirect(url_for("bids.documents" if form.documents.data else "bids.edit", bid_id=bid.id))
    return render_template("bids/edit.html", form=form, bid=bid, extra_errors=extra_errors)


@bp.route("/<int:bid_id>")
@roles_required("applicant")
def view(bid_id: int) -> str:
    bid = bid_or_404(bid_id, current_user)
    outcome = applicant_outcome(bid)
    award = award_for(bid) if bid.status == "approved" else None
    agreement = agreement_for_bid(bid) if award else None
    if agreement is not None and not can_see_agreement(current_user, agreement):
        agreement = None
    return render_template("bids/view.html", bid=bid, history=history("bid", bid.id, actions=APPLICANT_EVENTS),
                           decision_title=outcome[0] if outcome else None, decision=outcome[1] if outcome else None,
                           award=award, agreement=agreement, actions=BID.allowed(current_user, bid, today()))


@bp.route("/<int:bid_id>/withdraw", methods=["GET", "POST"])
@roles_required("applicant")
def withdraw(bid_id: int) -> str | Response:
    bid = bid_or_404(bid_id, current_user)
    form = WithdrawForm()
    if BID.refusal("withdraw", current_user, bid, today()):
        flash("A decision has been made on this bid, so it cannot be withdrawn.", "info")
        return redirect(url_for("bids.view", bid_id=bid.id))
    if form.validate_on_submit():
        try:
            withdraw_bid(bid, current_user, form.reason.data or "", today())
        except Refused as exc:
            flash(str(exc), "info")
            return redirect(url_for("bids.view", bid_id=bid.id))
        db.session.commit()
        flash(f"Bid {bid.reference} has been withdrawn.", "success")
        return redirect(url_for("bids.index"))
    return render_template("bids/withdraw.html", form=form, bid=bid)


# Supporting documents ------------------------------------------------------------------------


@bp.route("/<int:bid_id>/documents", methods=["GET", "POST"])
@roles_required("applicant")
def documents(bid_id: int) -> PageAnswer:
    """The bid's supporting documents, and a plain multipart form to add one (no script needed)."""
    bid = bid_or_404(bid_id, current_user)
    refused = refused_page(BID, ("attach",), bid, url_for("bids.view", bid_id=bid.id))
    if refused:
        return refused
    form = DocumentForm()
    max_bytes = current_app.config["EVIDENCE_MAX_MB"] * 1024 * 1024

    def perform() -> dict[str, str] | str:
        upload = form.document.data if isinstance(form.document.data, FileStorage) else None
        filename = (upload.filename or "") if upload else ""
        data = upload.read(max_bytes + 1) if upload else b""
        document, problems = add_document(bid, current_user, filename, data, form.description.data or "",
                                          directory=current_app.config["EVIDENCE_DIR"], max_bytes=max_bytes,
                                          today=today())
        return problems or f"{document.filename if document else 'The document'} has been added to the bid."

    return change_page(form, "bids/documents.html", perform, url_for("bids.documents", bid_id=bid.id), bid=bid, max_documents=MAX_DOCUMENTS,
                       removable=removable(current_user, bid, today()))


@bp.route("/<int:bid_id>/documents/<int:document_id>/remove", methods=["GET", "POST"])
@roles_required("applicant")
def remove(bid_id: int, document_id: int) -> PageAnswer:
    bid = bid_or_404(bid_id, current_user)
    document = document_of_bid(bid, document_id)
    back = url_for("bids.documents", bid_id=bid.id)
    reason = removal_refusal(current_user, bid, document, today())
    if reason and request.method == "GET":
        flash(reason, "info")
        return redirect(back if BID.refusal("attach", current_user, bid, today()) is None
                        else url_for("bids.view", bid_id=bid.id))
    name, stored_name = document.filename, document.stored_name

    def perform() -> str:
        remove_document(bid, current_user, document, today())
        return f"{name} has been removed from the bid."

    answer = change_page(ConfirmForm(), "bids/remove_document.html", perform, back, bid=bid, document=document)
    if request.method == "POST" and isinstance(answer, Response):
        delete_stored(current_app.config["EVIDENCE_DIR"], stored_name)  # committed: the file goes too
    return answer


@bp.route("/documents/<int:document_id>")
@roles_required("applicant", *STAFF_ROLES)
def document(document_id: int) -> Response:
    """A supporting document, to whoever may see the bid's documents; always downloaded, never shown inline."""
    item = document_or_404(document_id, current_user)
    return send_stored(current_app.config["EVIDENCE_DIR"], item.stored_name, item.content_type, item.filename)
