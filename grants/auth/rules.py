"""Signing in: checking passwords, locking out repeated failures, session tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.models import PasswordResetToken, User, utcnow
from grants.core.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password

START_PAGES = {
    "applicant": "bids.index",
    "officer": "assessment.index",
    "approver": "assessment.index",
    "finance": "assessment.index",
    "admin": "admin.index",
}
SIGN_IN_FAILED = "Enter a correct email address and password"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str, *, max_failures: int, lockout_minutes: int) -> tuple[User | None, str]:
    """The user if the password is right and the account usable; else None and a message that does not say whether the email exists."""
    user = find_user(email)
    now = utcnow()
    if user is None:
        verify_password(DUMMY_HASH, password)  # same work either way
        return None, SIGN_IN_FAILED
    if user.locked_until and user.locked_until > now:
        verify_password(DUMMY_HASH, password)  # same work as the other paths, so the lock is not given away
        record_event(user, "user.sign_in_refused", user, note="account locked")
        db.session.commit()
        return None, SIGN_IN_FAILED
    if not verify_password(user.password_hash, password) or not user.active:
        user.failed_logins += 1
        note = f"failed attempt {user.failed_logins}"
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
            note += f"; locked for {lockout_minutes} minutes"
        record_event(None, "user.sign_in_failed", user, note=note)
        db.session.commit()
        return None, SIGN_IN_FAILED
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    user.session_token = secrets.token_urlsafe(32)
    record_event(user, "user.signed_in", user)
    db.session.commit()
    return user, ""


def end_session(user: User) -> None:
    user.session_token = None
    record_event(user, "user.signed_out", user)
    db.session.commit()


def set_password(user: User, password: str, actor: User | None, *, action: str = "user.password_changed") -> None:
    """Change a password and end every session of that user."""
    user.password_hash = hash_password(password)
    user.session_token = None
    user.failed_logins = 0
    user.locked_until = None
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
