"""Pages anyone may read, signed in or not."""

from flask import Blueprint, render_template

from grants.public.queries import published_grants

bp = Blueprint("public", __name__)


@bp.route("/grants-awarded")
def grants_awarded() -> str:
    return render_template("public/grants_awarded.html", grants=published_grants())
