"""Pages anyone may read, signed in or not."""

from flask import render_template

from grants.public import bp
from grants.publication import published_grants


@bp.route("/grants-awarded")
def grants_awarded() -> str:
    return render_template("public/grants_awarded.html", grants=published_grants())
