from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from grants.auth.rules import START_PAGES
from grants.core.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for(START_PAGES[current_user.role]))
    return redirect(url_for("auth.sign_in"))


@bp.route("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # the point is to answer, not to raise
        db.session.rollback()
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200


@bp.route("/accessibility")
def accessibility() -> str:
    return render_template("main/accessibility.html")


@bp.route("/privacy")
def privacy() -> str:
    return render_template("main/privacy.html")
