"""The steps every page that changes a record shares: version check, the rule, commit or roll back, the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from grants.extensions import db
from grants.forms import FORM_PROBLEM, show_problems
from grants.refusals import Refused

CHANGED_ELSEWHERE = (
    "Someone else changed this record while you were looking at it, so your change has not been saved. "
    "Go back to see what changed."
)

PageAnswer = str | Response | tuple[str, int]


def change_page(form: FlaskForm, template: str, perform: Callable[[], dict[str, str] | str], done_url: str, *,
                version: int | None = None, changed_elsewhere: str = CHANGED_ELSEWHERE, **context: Any) -> PageAnswer:
    """Show the form (GET) or apply `perform` (POST).

    `perform` applies a rule and returns either the problems to show beside the fields (nothing is kept)
    or the message for the next page (the change is committed). `version` is the record's version when the
    page was drawn; a form posted against an older version is refused, so nobody silently overwrites another.
    """

    def again(extra: dict[str, str], status: int = 200) -> tuple[str, int]:
        return render_template(template, form=form, extra_errors=extra, **context), status

    if request.method == "GET":
        if version is not None:
            form.version.data = str(version)  # type: ignore[attr-defined]
        return render_template(template, form=form, **context)
    if not form.validate_on_submit():
        return again({})
    if version is not None and form.version.data != str(version):  # type: ignore[attr-defined]
        return again({FORM_PROBLEM: changed_elsewhere}, 409)
    try:
        outcome = perform()
        if isinstance(outcome, dict):
            db.session.rollback()
            return again(show_problems(form, outcome))
        db.session.commit()
    except Refused as exc:
        db.session.rollback()
        return again({FORM_PROBLEM: str(exc)}, 409)
    except (StaleDataError, IntegrityError):
        # Another change to the same record was committed first.
        db.session.rollback()
        return again({FORM_PROBLEM: changed_elsewhere}, 409)
    flash(outcome, "success")
    return redirect(done_url)
