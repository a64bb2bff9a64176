"""Signing in: checking passwords (throttled), session tokens, passwords and reset links."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from grants.auth import throttle
from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.models import PasswordResetToken, User, utcnow
from grants.core.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password

# Every role lands on its own dashboard (grants.dashboards), which says what is waiting for them.
START_PAGES = {
    "applicant": "dashboards.index",
    "officer": "dashboards.index",
    "approver": "dashboards.index",
    "finance": "dashboards.index",
    "admin": "dashboards.index",
}
SIGN_IN_FAILED = "Enter a correct email address and password"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def check_password(email: str, password: str, address: str, config: Mapping[str, Any]) -> User | None:
    """The user if the password is right and the account usable, else None (the page's message does not
    say which was wrong). Raises Throttled, checking nothing, when this address or account has had too
    many failures: see grants/auth/throttle.py."""
    account = normalise_email(email)
    try:
        held = throttle.hold(throttle.sign_in_keys(config, address, account))
    except throttle.Throttled:
        user = find_user(account)
        if user is not None:
            record_event(None, "user.sign_in_throttled", user, note=f"from {address}")
            db.session.commit()
        raise
    user = find_user(account)
    if user is None:
        verify_password(DUMMY_HASH, password)  # same work either way
        throttle.failed(held)
        db.session.commit()
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        throttle.failed(held)
        record_event(None, "user.sign_in_failed", user,
                     note=f"{'wrong password' if user.active else 'account disabled'}, from {address}")
        db.session.commit()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    throttle.succeeded(held)
    db.session.commit()
    return user


def complete_sign_in(user: User) -> None:
    """Every factor checked: a new session token, so any session from before stops working."""
    user.last_login_at = utcnow()
    user.session_token = secrets.token_urlsafe(32)
    record_event(user, "user.signed_in", user)
    db.session.commit()


def end_session(user: User) -> None:
    user.session_token = None
    record_event(user, "user.signed_out", user)
    db.session.commit()


def set_password(user: User, password: str, actor: User | None, *, action: str = "user.password_changed") -> None:
    """Change a password and end every session of that user."""
    user.password_hash = hash_password(password)
    user.session_token = None
    throttle.clear_account(user.email)
    # Reset links asked for before this change must not work afterwards.
    for row in db.session.scalars(
        select(PasswordResetToken).where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
    ):
        row.used_at = utcnow()
    record_event(actor, action, user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_reset_token(user: User, hours: int) -> str:
    """A single-use reset token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordResetToken(user_id=user.id, token_hash=_token_hash(token), expires_at=utcnow() + timedelta(hours=hours))
    )
    record_event(None, "user.password_reset_requested", user)
    return token


def usable_reset_token(token: str, now: datetime | None = None) -> PasswordResetToken | None:
    row: PasswordResetToken | None = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token)))
    now = now or utcnow()
    if row is None or row.used_at is not None or row.expires_at < now or not row.user.active:
        return None
    return row
