"""Friendly error pages; never a stack trace or SQL."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from grants.core.extensions import db

PAGES = {
    400: ("There was a problem with your request", "Go back, refresh the page and try again."),
    403: ("You do not have permission to see this page", "If you think you should, contact the OPCC grants team."),
    404: ("Page not found", "If you typed the web address, check it is correct. The record may not exist or may not be yours to see."),
    405: ("That action is not allowed here", "Go back and try again."),
    413: ("What you sent is too large", "Go back and send fewer or smaller files at a time, or shorter text."),
    429: ("Too many attempts", "Wait a few minutes and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you had saved has been lost."),
}


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, body = PAGES.get(code, PAGES[500])
    return render_template("errors/error.html", code=code, title=title, body=detail or body), code


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(400, "Your form had expired or came from another site. Go back, refresh the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code if error.code in PAGES else 500 if error.code >= 500 else 400)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        app.logger.exception("Unhandled error")
        db.session.rollback()
        return render_error(500)
