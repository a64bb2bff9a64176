"""Signing in (password, then a second factor for staff), signing out, your account, password resets."""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from grants.auth import throttle, two_factor
from grants.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    ForgotPasswordForm,
    NewPasswordForm,
    RecoveryCodeForm,
    SignInForm,
)
from grants.auth.resets import request_reset
from grants.auth.rules import (
    SIGN_IN_FAILED,
    START_PAGES,
    check_password,
    complete_sign_in,
    end_session,
    set_password,
    usable_reset_token,
)
from grants.auth.throttle import Throttled, wait_in_words
from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.forms import ConfirmForm
from grants.core.models import User, utcnow
from grants.core.passwords import password_problem, verify_password

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


PENDING_SECONDS = 300  # between the right password and the second factor


def client_address() -> str:
    return request.remote_addr or "unknown"


def hold_or_wait(keys: list[tuple[throttle.Limit, str]], template: str, form: FlaskForm,
                 field: str) -> throttle.Held | Response:
    """Count this attempt (see grants/auth/throttle.py), or the page again saying how long to wait."""
    try:
        return throttle.hold(keys)
    except Throttled as refusal:
        return throttled_page(template, form, refusal.retry_after, field)


def throttled_page(template: str, form: FlaskForm, wait: timedelta, field: str, **context: Any) -> Response:
    """The same page, answered 429 with a Retry-After, saying how long to wait."""
    getattr(form, field).errors = [f"Too many attempts. Wait {wait_in_words(wait)}, then try again."]
    response = make_response(render_template(template, form=form, **context), 429)
    response.headers["Retry-After"] = str(max(1, int(wait.total_seconds() + 0.999)))
    return response


def _log_in(user: User) -> str:
    """Sign the user in to this browser (a new session) and return where they go next."""
    next_url = session.get("pending_next")
    complete_sign_in(user)
    session.clear()
    login_user(user)
    session.permanent = True
    session["signed_in_at"] = session["last_seen"] = time.time()
    return safe_next(next_url) or start_page()


def _pending_user() -> User | None:
    """The user who gave the right password in this browser a moment ago and still owes a second factor."""
    user_id, at = session.get("pending_user"), session.get("pending_at", 0)
    if not user_id or time.time() - at > PENDING_SECONDS:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def _pending_or_restart() -> User | Response:
    if current_user.is_authenticated:
        return redirect(start_page())
    user = _pending_user()
    if user is None:
        session.clear()
        flash("Sign in again: the time to enter your security code ran out.", "info")
        return redirect(url_for("auth.sign_in"))
    return user


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response:
    if current_user.is_authenticated:
        return redirect(start_page())
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = check_password(form.email.data, form.password.data, client_address(), current_app.config)
        except Throttled as refusal:
            return throttled_page("auth/sign_in.html", form, refusal.retry_after, "email")
        if user is None:
            form.email.errors = [SIGN_IN_FAILED]
        else:
            session.clear()
            session.update(pending_user=user.id, pending_at=time.time(), pending_next=request.args.get("next"))
            if not two_factor.required_for(user):
                return redirect(_log_in(user))
            if two_factor.is_set_up(user):
                return redirect(url_for("auth.sign_in_code"))
            return redirect(url_for("auth.sign_in_set_up"))
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out() -> Response:
    end_session(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))


def _code_page(template: str, check: Callable[[User, str], bool], message: str) -> str | Response:
    pending = _pending_or_restart()
    if isinstance(pending, Response):
        return pending
    form = CodeForm() if template == "auth/code.html" else RecoveryCodeForm()
    if form.validate_on_submit():
        held = hold_or_wait(throttle.code_keys(current_app.config, pending.id), template, form, "code")
        if isinstance(held, Response):
            return held
        if check(pending, form.code.data):
            throttle.succeeded(held)
            return redirect(_log_in(pending))
        throttle.failed(held)
        record_event(None, "user.code_refused", pending, note=f"from {client_address()}")
        db.session.commit()
        form.code.errors = [message]
    return render_template(template, form=form)


@bp.route("/sign-in/code", methods=["GET", "POST"])
def sign_in_code() -> str | Response:
    return _code_page("auth/code.html", two_factor.accept_code,
                      "Enter the code your authenticator app shows now: that code is wrong or was used already")


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
def sign_in_recovery() -> str | Response:
    return _code_page("auth/recovery_code.html", two_factor.use_recovery_code,
                      "Enter a recovery code you have not used before")


def _set_up_page(user: User, after: Callable[[User], str]) -> str | Response:
    """Show a new secret (QR code and text); once a code made from it is typed, the second factor is on,
    `after` runs and the recovery codes are shown, once, with a link to where `after` says."""
    form = CodeForm()
    two_factor.start_set_up(user)
    db.session.commit()
    if form.validate_on_submit():
        new_codes = two_factor.confirm_set_up(user, form.code.data)
        if new_codes is not None:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=new_codes, continue_url=after(user))
        form.code.errors = ["Enter the code your authenticator app shows now: that code is wrong"]
    uri = two_factor.provisioning_uri(user, current_app.config["TOTP_ISSUER"])
    return render_template("auth/set_up.html", form=form, qr_code=two_factor.qr_code_data_uri(uri),
                           secret=two_factor.spaced_secret(user.totp_secret or ""))


@bp.route("/sign-in/set-up", methods=["GET", "POST"])
def sign_in_set_up() -> str | Response:
    """Staff set up their authenticator at their first sign-in (or after an administrator reset it)."""
    pending = _pending_or_restart()
    if isinstance(pending, Response):
        return pending
    if two_factor.is_set_up(pending):
        return redirect(url_for("auth.sign_in_code"))
    return _set_up_page(pending, _log_in)


@bp.route("/account")
@login_required
def account() -> str:
    user = current_user._get_current_object()
    return render_template("auth/account.html", user=user, two_factor_on=two_factor.is_set_up(user),
                           may_turn_off=two_factor.may_turn_off(user), required=two_factor.required_for(user),
                           recovery_left=two_factor.remaining_recovery_codes(user), form=ConfirmForm())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response:
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        held = hold_or_wait(throttle.code_keys(current_app.config, user.id), "auth/change_password.html", form, "current")
        if isinstance(held, Response):
            return held
        if not verify_password(user.password_hash, form.current.data):
            throttle.failed(held)
            record_event(user, "user.password_change_refused", user, note="current password wrong")
            db.session.commit()
            form.current.errors = ["Enter your current password correctly"]
        elif problem := password_problem(form.password.data, email=user.email, name=user.name):
            throttle.succeeded(held)
            db.session.commit()
            form.password.errors = [problem]
        else:
            throttle.succeeded(held)
            set_password(user, form.password.data, user)
            # Every other session ended with the old token; this browser carries on with a new one.
            _keep_signed_in(user)
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form)


def _keep_signed_in(user: User) -> None:
    complete_sign_in(user)
    signed_in_at = session.get("signed_in_at", time.time())
    login_user(user)
    session["signed_in_at"], session["last_seen"] = signed_in_at, time.time()


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def set_up_two_step() -> str | Response:
    """An applicant chooses to use a second factor (staff always have one)."""
    user = current_user._get_current_object()
    if two_factor.is_set_up(user):
        return redirect(url_for("auth.account"))
    return _set_up_page(user, lambda _user: url_for("auth.account"))


@bp.route("/account/two-step/turn-off", methods=["POST"])
@login_required
def turn_off_two_step() -> Response:
    user = current_user._get_current_object()
    form = ConfirmForm()
    if form.validate_on_submit() and two_factor.may_turn_off(user):
        two_factor.turn_off(user, user, action="user.two_factor_turned_off")
        _keep_signed_in(user)
        flash("Two-step verification is off. You now sign in with your password only.", "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@login_required
def new_recovery_codes() -> str | Response:
    """New recovery codes replace the old ones, once the user shows they still hold their authenticator."""
    user = current_user._get_current_object()
    if not two_factor.is_set_up(user):
        return redirect(url_for("auth.account"))
    form = CodeForm()
    if form.validate_on_submit():
        held = hold_or_wait(throttle.code_keys(current_app.config, user.id), "auth/new_recovery_codes.html", form, "code")
        if isinstance(held, Response):
            return held
        if two_factor.accept_code(user, form.code.data):
            throttle.succeeded(held)
            codes = two_factor.replace_recovery_codes(user)
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, continue_url=url_for("auth.account"))
        throttle.failed(held)
        db.session.commit()
        form.code.errors = ["Enter the code your authenticator app shows now: that code is wrong or was used already"]
    return render_template("auth/new_recovery_codes.html", form=form)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> str | Response:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # Every request counts against the client's address (never the account typed, so a known and an unknown
        # address still run the same statements): enough for a forgetful office, too few to flood an inbox.
        held = hold_or_wait(throttle.reset_keys(current_app.config, client_address()), "auth/forgot_password.html", form, "email")
        if isinstance(held, Response):
            return held
        throttle.failed(held)
        # Only the address is stored, nothing looked up: the same statements and the same answer whether or not it
        # has an account. `flask send-mail` sends the link (grants/auth/resets.py).
        request_reset(form.email.data)
        db.session.commit()
        return render_template("auth/reset_sent.html")
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response:
    row = usable_reset_token(token)
    if row is None:
        return render_template("auth/reset_invalid.html"), 404  # type: ignore[return-value]
    form = NewPasswordForm()
    if form.validate_on_submit():
        problem = password_problem(form.password.data, email=row.user.email, name=row.user.name)
        if problem:
            form.password.errors = [problem]
        else:
            set_password(row.user, form.password.data, row.user, action="user.password_reset")
            row.used_at = utcnow()
            db.session.commit()
            flash("Your password has been changed. Sign in with your new password.", "success")
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form)
