"""Codes from the benchmark staff's authenticator: staff sign in with a second factor, as everywhere else."""

from __future__ import annotations

import time

import pyotp

BENCH_TOTP_SECRET = "BENCHMARKSTAFFTWOSTEPKEY234567AB"
_last_step: dict[str, int] = {}


def next_code(email: str) -> str:
    """A code the server will accept for this user now. Each code is accepted once, and a code from the step
    before or after now is accepted too, so each sign-in takes the next step, waiting if it must."""
    interval = pyotp.TOTP(BENCH_TOTP_SECRET).interval
    step = max(int(time.time()) // interval - 1, _last_step.get(email, -1) + 1)
    while step > int(time.time()) // interval + 1:
        time.sleep(1)
    _last_step[email] = step
    return pyotp.TOTP(BENCH_TOTP_SECRET).at(step * interval)
