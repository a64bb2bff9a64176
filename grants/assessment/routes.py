from grants.access import roles_required
from grants.assessment import bp


@bp.route("/")
@roles_required("officer", "approver", "finance", "admin")
def index() -> str:
    return "bids"
