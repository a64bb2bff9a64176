from flask import Blueprint

bp = Blueprint("public", __name__)

from grants.public import routes  # noqa: E402,F401
