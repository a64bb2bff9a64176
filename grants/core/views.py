"""The steps every page that changes a record shares: version check, the rule, commit or roll back, the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from grants.core.dates import today
from grants.core.extensions import db
from grants.core.forms import FORM_PROBLEM, show_problems
from grants.core.lifecycle import Lifecycle
from grants.core.refusals import Refused

CHANGED_ELSEWHERE = (
    "Someone else changed this record while you were looking at it, so your change has not been saved. "
    "Go back to see what changed."
)

PageAnswer = str | Response | tuple[str, int]


def change_page(form: FlaskForm, template: str, perform: Callable[[], dict[str, str] | str], done_url: str, *,
                version: int | None = None, changed_elsewhere: str = CHANGED_ELSEWHERE,
                anchors: dict[str, str] | None = None, **context: Any) -> PageAnswer:
    """Show the form (GET) or apply `perform` (POST).

    `perform` applies a rule and returns either the problems to show beside the fields (nothing is kept)
    or the message for the next page (the change is committed). `version` is the record's version when the
    page was drawn; a form posted against an older version is refused, so nobody silently overwrites another.
    """

    def again(extra: dict[str, str], status: int = 200) -> tuple[str, int]:
        return render_template(template, form=form, extra_errors=extra, **context), status

    if request.method == "GET":
        if version is not None:
            form.version.data = str(version)
        return render_template(template, form=form, **context)
    if not form.validate_on_submit():
        return again({})
    if version is not None and form.version.data != str(version):
        return again({FORM_PROBLEM: changed_elsewhere}, 409)
    try:
        outcome = perform()
        if isinstance(outcome, dict):
            db.session.rollback()
            return again(show_problems(form, outcome, anchors))
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


def refused_page(lifecycle: Lifecycle, actions: tuple[str, ...], record: Any, back_url: str, *,
                 message: str | None = None, form_first: bool = False) -> Response | None:
    """Back to the record, saying why, when this user may take none of `actions` on it now.

    Out of turn (the record is in none of the actions' states) any request goes back. Otherwise a form is
    only refused when asked for (GET); a POST goes on to the rule, which refuses with the reason beside the
    form (409), so nothing typed is lost; with `form_first` every POST does."""
    mine = [action for action in map(lifecycle.action, actions) if current_user.role in action.roles]
    out_of_turn = all(record.status not in action.sources for action in mine)
    if request.method != "GET" and (form_first or not out_of_turn):
        return None
    reasons = [lifecycle.refusal(action, current_user, record, today()) for action in actions]
    if any(reason is None for reason in reasons):
        return None
    flash(message or next(r for r in reasons if r), "info")
    return redirect(back_url)
