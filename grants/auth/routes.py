import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from grants.auth.forms import ForgotPasswordForm, NewPasswordForm, SignInForm
from grants.auth.rules import (
    START_PAGES,
    authenticate,
    end_session,
    find_user,
    issue_reset_token,
    set_password,
    usable_reset_token,
)
from grants.core.extensions import db
from grants.core.mail import queue_email
from grants.core.models import utcnow
from grants.core.passwords import password_problem

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative //."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def start_page() -> str:
    return url_for(START_PAGES[current_user.role])


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response:
    if current_user.is_authenticated:
        return redirect(start_page())
    form = SignInForm()
    extra_errors = None
    if form.validate_on_submit():
        user, message = authenticate(
            form.email.data,
            form.password.data,
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lockout_minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
        )
        if user is not None:
            session.clear()
            login_user(user)
            session.permanent = True
            session["signed_in_at"] = session["last_seen"] = time.time()
            return redirect(safe_next(request.args.get("next")) or start_page())
        form.email.errors = [message]
    return render_template("auth/sign_in.html", form=form, extra_errors=extra_errors)


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out() -> Response:
    end_session(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> str | Response:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = find_user(form.email.data)
        if user is not None and user.active:
            token = issue_reset_token(user, current_app.config["PASSWORD_RESET_HOURS"])
            link = url_for("auth.reset_password", token=token, _external=True)
            queue_email(
                user.email,
                "Reset your password",
                f"Use this link to choose a new password. It works once, for "
                f"{current_app.config['PASSWORD_RESET_HOURS']} hours:\n\n{link}\n\n"
                "If you did not ask for this, you can ignore this email.",
            )
            db.session.commit()
        # The same answer whether or not the address is known.
        return render_template("auth/reset_sent.html")
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response:
    row = usable_reset_token(token)
    if row is None:
        return render_template("auth/reset_invalid.html"), 404  # type: ignore[return-value]
    form = NewPasswordForm()
    if form.validate_on_submit():
        problem = password_problem(form.password.data, email=row.user.email)
        if problem:
            form.password.errors = [problem]
        else:
            set_password(row.user, form.password.data, row.user, action="user.password_reset")
            row.used_at = utcnow()
            db.session.commit()
            flash("Your password has been changed. Sign in with your new password.", "success")
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form)
