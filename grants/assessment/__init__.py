from flask import Blueprint

bp = Blueprint("assessment", __name__, url_prefix="/assess")

from grants.assessment import routes  # noqa: E402,F401
