"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with RFC 9106 low-memory defaults (meets OWASP minimum)

MIN_LENGTH = 12
MAX_LENGTH = 128
# The most common passwords of 12+ characters in public breach lists; refused outright.
COMMON_PASSWORDS = frozenset(
    {
        "password1234", "123456789012", "qwertyuiopas", "passwordpassword", "iloveyou1234",
        "password123!", "qwerty123456", "1q2w3e4r5t6y", "letmein12345", "welcome12345",
        "administrator", "changeme1234", "password12345", "1234567890123", "abc123456789",
        "qwertyuiop123", "football1234", "monkey123456", "sunshine1234", "princess1234",
        "trustno11234", "passw0rd1234", "p@ssw0rd1234", "123123123123", "111111111111",
        "000000000000", "aaaaaaaaaaaa", "asdfghjkl123", "zaq12wsxcde3", "1qaz2wsx3edc",
        "superman1234", "baseball1234", "dragon123456", "master123456", "starwars1234",
        "whatever1234", "computer1234", "michael12345", "shadow123456", "cambridgeshire",
        "peterborough", "police123456", "policepolice", "grantsgrants", "opccgrants123",
    }
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 4:
        return "Password is too common or easy to guess; choose another"
    if email and lowered == email.lower():
        return "Password must not be your email address"
    return None


# A hash to verify against when the email is unknown, so both paths take the same time.
DUMMY_HASH = _hasher.hash("unused-password-for-timing")
