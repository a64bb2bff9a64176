"""The second sign-in factor: time-based one-time passwords (RFC 6238) and single-use recovery codes.

Staff must use it; applicants may. A code is accepted once only, even by two workers at the same moment:
the time step it belongs to is recorded in one conditional UPDATE.
"""

from __future__ import annotations

import hmac
import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, func, select, update

from grants.core.access import STAFF_ROLES
from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.models import RecoveryCode, User, utcnow
from grants.core.passwords import hash_password, verify_password

RECOVERY_CODES = 10
# Without the easily confused 0/o, 1/l/i: ten characters give about 49 bits each.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# A code from the step before or after now is accepted too: phone clocks drift.
DRIFT_STEPS = 1


def required_for(user: User) -> bool:
    """Staff must use a second factor; an applicant who has set one up must use it too."""
    return user.role in STAFF_ROLES or user.totp_confirmed_at is not None


def is_set_up(user: User) -> bool:
    return bool(user.totp_secret) and user.totp_confirmed_at is not None


def may_turn_off(user: User) -> bool:
    """Only an applicant, who chose it, may turn it off; staff always use it."""
    return is_set_up(user) and user.role not in STAFF_ROLES


def start_set_up(user: User) -> str:
    """A new secret for the user's authenticator, kept unconfirmed until they enter a code made from it."""
    if not user.totp_secret or user.totp_confirmed_at is not None:
        user.totp_secret = pyotp.random_base32()
        user.totp_confirmed_at = None
        user.totp_last_step = None
    return user.totp_secret


def provisioning_uri(user: User, issuer: str) -> str:
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code_data_uri(uri: str) -> str:
    """The otpauth link as a QR code image, made here (no service sees the secret)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=4, border=2))


def spaced_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an authenticator app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = "".join(code.split())
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now) // totp.interval
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def accept_code(user: User, code: str, now: float | None = None) -> bool:
    """True, once only, for a code the user's authenticator makes now. The caller commits."""
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code, time.time() if now is None else now)
    if step is None:
        return False
    result = db.session.execute(
        update(User).where(User.id == user.id, (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False  # this code (or a later one) was used already
    db.session.refresh(user)
    return True


def _new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes, shown once; only their hashes are kept and any older ones stop working."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_password(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def confirm_set_up(user: User, code: str) -> list[str] | None:
    """The user typed a code from their new authenticator: the second factor is on, with new recovery
    codes. None (nothing changed) if the code is wrong. The caller commits."""
    if not user.totp_secret or user.totp_confirmed_at is not None or not accept_code(user, code):
        return None
    user.totp_confirmed_at = utcnow()
    record_event(user, "user.two_factor_set_up", user)
    return _new_recovery_codes(user)


def replace_recovery_codes(user: User) -> list[str]:
    record_event(user, "user.recovery_codes_replaced", user)
    return _new_recovery_codes(user)


def remaining_recovery_codes(user: User) -> int:
    return int(db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0)


def use_recovery_code(user: User, code: str) -> bool:
    """True, once only, for one of the user's unused recovery codes. The caller commits."""
    typed = "".join(ch for ch in code.lower() if ch.isalnum())
    if len(typed) != 10:
        return False
    for row in db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ):
        if verify_password(row.code_hash, typed):
            taken = db.session.execute(
                update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow()).execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                record_event(user, "user.recovery_code_used", user)
                return True
            return False
    return False


def turn_off(user: User, actor: User, *, action: str) -> None:
    """Remove the user's second factor and recovery codes and end their sessions (an administrator's
    reset, or an applicant turning it off). Staff set it up again at their next sign-in."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.session_token = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record_event(actor, action, user)
