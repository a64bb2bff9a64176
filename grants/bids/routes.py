from grants.access import roles_required
from grants.bids import bp


@bp.route("/")
@roles_required("applicant")
def index() -> str:
    return "bids"


@bp.route("/start")
@roles_required("applicant")
def start() -> str:
    return "start"
