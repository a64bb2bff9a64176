"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import re
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn  # type: ignore[import-untyped]

_hasher = PasswordHasher()  # argon2id with RFC 9106 low-memory defaults (meets OWASP minimum)

MIN_LENGTH = 12
MAX_LENGTH = 128
# zxcvbn (with its lists of common and breached passwords, names and English words) estimates how
# many guesses a password would take. Score 4 is at least 10^10 guesses, zxcvbn's "strong protection from offline
# attacks": what a stolen database or backup calls for, since the argon2id hashes can then be attacked without
# throttling. Score 3 (10^8) is not enough: "Summer2025!!", the first guess of any password-spraying list, scores 3
# because zxcvbn 4.5's year pattern ends at 2019. Four unrelated words score 4 easily.
MIN_SCORE = 4
# zxcvbn's time grows steeply with length: the worst inputs measured (random runs of look-alike characters such
# as "4@(3!|") took over 1 s at 64 characters, under 0.4 s at 32. So only the first 32 are scored, room for four
# words: whatever follows them can only make a password harder to guess.
SCORED_LENGTH = 32
TRY_INSTEAD = "Try four or more words that have nothing to do with each other"
# Words anyone attacking this service would try first, alongside the person's own name and email address.
SERVICE_WORDS = ("opcc", "grants", "grant", "police", "policing", "crime", "commissioner", "cambridgeshire",
                 "peterborough", "cambs", "csp", "safer", "community", "fenland", "huntingdonshire", "cambridge")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a new password is not acceptable, or None. `email` and `name` are the account's, so a password
    built from them counts as easy to guess."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    if email and password.strip().lower() == email.strip().lower():
        return "Password must not be your email address"
    result = zxcvbn(password[:SCORED_LENGTH], user_inputs=guessable_words(email, name))
    if result["score"] >= MIN_SCORE:
        return None
    return f"Password is too easy to guess{_why(result)}. {TRY_INSTEAD}"


def guessable_words(email: str, name: str) -> list[str]:
    """Words an attacker would try first for this account: the service's own, then the person's."""
    local_part = email.split("@", 1)[0]
    personal = [email, local_part, *re.split(r"[^\w]+", local_part), name, *name.split()]
    return [*SERVICE_WORDS, *(word.lower() for word in personal if len(word) >= 3)]


def _why(result: dict[str, Any]) -> str:
    """zxcvbn's warning as the second half of our sentence (": this is a very common password"), or nothing."""
    if any(match.get("dictionary_name") == "user_inputs" for match in result["sequence"]):
        return ": it contains your name, your email address or a word from this service's name"
    warning = result["feedback"]["warning"].strip().rstrip(".")
    return f": {warning[0].lower()}{warning[1:]}" if warning else ""


# A hash to verify against when the email is unknown, so both paths take the same time.
DUMMY_HASH = _hasher.hash("unused-password-for-timing")
