"""The password policy: at least 12 characters, and hard to guess by zxcvbn's estimate, counting the person's own
name and email address and this service's words as guessable."""

from __future__ import annotations

import time

import pytest

from grants.core.passwords import MAX_LENGTH, MIN_LENGTH, TRY_INSTEAD, password_problem
from grants.demo import DEMO_PASSWORD, USERS

EMAIL = "jane.fairweather@fenland-csp.example"
NAME = "Jane Fairweather"
TOO_EASY = f"Password is too easy to guess. {TRY_INSTEAD}"


@pytest.mark.parametrize("password", [
    # The patterns password-spraying lists try first: a season, month or greeting, a year, a symbol or two.
    "Summer2025!!", "Welcome2024!", "Winter2023!!", "September2025",
    # Breached-password lists, with the usual decorations.
    "Liverpool123", "qwertyuiopas12", "password1234", "Password1234!", "iloveyou2025", "1q2w3e4r5t6y",
    "123456789012", "p@ssw0rd1234", "trustno1trustno1",
    # Keyboard runs, sequences and repeats.
    "asdfghjkl;'#", "abcdefghijklm", "aaaaaaaaaaaaaaa", "hunter2hunter2",
    # This service's own words.
    "opccgrants2025", "Cambridgeshire1!", "Peterborough2025", "PoliceGrants123",
    # The person's own name and email address.
    "JaneFairweather1", "fairweather2025!", "jane.fairweather@fenland",
])
def test_guessable_passwords_are_refused(password: str) -> None:
    problem = password_problem(password, email=EMAIL, name=NAME)
    assert problem is not None and problem.startswith("Password is too easy to guess"), (password, problem)
    assert problem.endswith(TRY_INSTEAD)


@pytest.mark.parametrize("password", [
    "violet-kettle-harbour-lantern", "correct horse battery staple", "green mouse paper ladder",
    "Orbit tulip saddle mackerel", "quiet-harbour-violet-engine", "v8#Lq2!Zr9wT", "k3rn-Ql7x-Wp0v-Hd5z",
    # Long passphrases: only the start is scored (zxcvbn is slow on long inputs), and the rest does no harm.
    "walnut ferry compass thistle " * 4,
])
def test_passphrases_and_random_passwords_are_accepted(password: str) -> None:
    assert password_problem(password[:MAX_LENGTH], email=EMAIL, name=NAME) is None


def test_the_message_uses_zxcvbns_warning_where_it_has_one() -> None:
    assert password_problem("password1234") == (
        f"Password is too easy to guess: this is a very common password. {TRY_INSTEAD}")
    assert password_problem("Liverpool123") == (
        f"Password is too easy to guess: this is similar to a commonly used password. {TRY_INSTEAD}")
    assert password_problem("aaaaaaaaaaaaaaa") == (
        f'Password is too easy to guess: repeats like "aaa" are easy to guess. {TRY_INSTEAD}')
    assert password_problem("FairweatherJane", email=EMAIL, name=NAME) == (
        "Password is too easy to guess: it contains your name, your email address or a word from this service's "
        f"name. {TRY_INSTEAD}")
    # No warning from zxcvbn: the sentence still reads.
    assert password_problem("Summer2025!!") == TOO_EASY


def test_the_same_words_are_only_guessable_for_their_owner() -> None:
    assert password_problem("FairweatherJane2024") is None
    assert password_problem("FairweatherJane2024", email=EMAIL, name=NAME) is not None


def test_length_limits_come_first() -> None:
    assert password_problem("x" * (MIN_LENGTH - 1)) == f"Password must be at least {MIN_LENGTH} characters"
    assert password_problem("violet kettle " * 10) == f"Password must be {MAX_LENGTH} characters or fewer"
    assert password_problem(EMAIL.upper(), email=EMAIL) == "Password must not be your email address"


def test_the_longest_worst_case_is_checked_quickly() -> None:
    # Runs of look-alike characters make zxcvbn try every substitution: over a second at 64 characters.
    slowest = 0.0
    for password in ("4@8({[<3612!|70$5%2" * 7)[:MAX_LENGTH], ("a1" * 64), ("1234567890" * 13)[:MAX_LENGTH]:
        started = time.perf_counter()
        password_problem(password)
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 1.0


@pytest.mark.parametrize(("email", "name"), [(email, name) for email, name, _role, _org in USERS])
def test_the_published_demo_password_meets_the_rule(email: str, name: str) -> None:
    assert password_problem(DEMO_PASSWORD, email=email, name=name) is None
