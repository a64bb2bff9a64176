from flask import Blueprint

bp = Blueprint("bids", __name__, url_prefix="/bids")

from grants.bids import routes  # noqa: E402,F401
