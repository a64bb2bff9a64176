"""Session handling and HTTP security headers."""

from __future__ import annotations

import time

from flask import Flask, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from grants.core.extensions import db, login_manager
from grants.core.models import User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    if not session_token:
        return None
    # With the organisation: every page's header names it, so it comes in the same statement.
    return db.session.scalar(select(User).options(joinedload(User.organisation))
                             .where(User.session_token == session_token, User.active.is_(True)))


def init_security(app: Flask) -> None:
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def expire_idle_sessions() -> Response | None:
        if request.endpoint in ("static", "main.healthz") or not current_user.is_authenticated:
            return None
        now = time.time()
        idle = app.config["SESSION_IDLE_MINUTES"] * 60
        absolute = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
        last_seen = session.get("last_seen", now)
        signed_in_at = session.get("signed_in_at", now)
        too_old = now - signed_in_at > absolute
        if too_old or now - last_seen > idle:
            user = current_user._get_current_object()
            user.session_token = None
            db.session.commit()
            logout_user()
            session.clear()
            if too_old:
                flash(f"You were signed out because you signed in more than {app.config['SESSION_ABSOLUTE_HOURS']} "
                      "hours ago. Sign in again.", "info")
            else:
                flash("You were signed out because you had not used the service for a while. Sign in again.", "info")
            return redirect(url_for("auth.sign_in"))
        session["last_seen"] = now
        return None

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if current_user.is_authenticated and request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response
