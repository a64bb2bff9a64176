"""The OPCC's side: the list of bids from every organisation, and each bid."""

from flask import abort, render_template, request
from flask_login import current_user

from grants.access import STAFF_ROLES, bid_or_404, roles_required
from grants.assessment import bp
from grants.audit import history
from grants.bid_queries import PAGE_SIZE, VISIBLE_TO_STAFF, BidFilters, filter_choices, staff_bid_list
from grants.workflow import STATUS_NAMES


@bp.route("/")
@roles_required(*STAFF_ROLES)
def index() -> str:
    filters = BidFilters.from_args(request.args)
    bids, total = staff_bid_list(filters)
    return render_template("assessment/index.html", bids=bids, total=total, filters=filters,
                           choices=filter_choices(), page_size=PAGE_SIZE,
                           status_options=[(s, STATUS_NAMES[s]) for s in VISIBLE_TO_STAFF])


@bp.route("/bids/<int:bid_id>")
@roles_required(*STAFF_ROLES)
def bid(bid_id: int) -> str:
    bid = bid_or_404(bid_id, current_user)
    if bid.status == "draft":  # drafts are the applicant's own until submitted
        abort(404)
    return render_template("assessment/bid.html", bid=bid, events=history("bid", bid.id))
