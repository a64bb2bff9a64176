from grants.access import roles_required
from grants.admin import bp


@bp.route("/")
@roles_required("admin")
def index() -> str:
    return "admin"


@bp.route("/funds")
@roles_required("admin")
def funds() -> str:
    return "funds"


@bp.route("/organisations")
@roles_required("admin")
def organisations() -> str:
    return "organisations"


@bp.route("/users")
@roles_required("admin")
def users() -> str:
    return "users"
