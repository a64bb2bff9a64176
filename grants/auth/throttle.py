"""Slowing down guessing: failed attempts counted in the database, per client address and per account.

Each key (a client address, an account from one address, an account from anywhere) allows a number of
free failures. After that the key is blocked for a while, and each further failure doubles the wait up
to a ceiling; one attempt is allowed between blocks. A success clears the account's keys; an hour
with no failure forgets a key.

An attempt is counted *before* the password is checked, in one conditional UPDATE, so requests arriving
together (on any worker or any server, since the counters live in the shared database) can never check
more passwords than the key allows. Someone guessing from other addresses slows an account down by
at most `account_max_wait` (a minute by default), never locks its owner out for long.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from grants.core.extensions import db
from grants.core.models import ThrottleCounter, utcnow
from grants.core.search import like_escaped

FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Limit:
    """`free` failures, then a wait of `first_wait` doubling with each block up to `max_wait`."""

    scope: str
    free: int
    first_wait: timedelta
    max_wait: timedelta

    def wait(self, blocks: int) -> timedelta:
        doubled: timedelta = self.first_wait * (2 ** min(blocks, 20))
        return min(self.max_wait, doubled)


def sign_in_limits(config: Mapping[str, Any]) -> tuple[Limit, Limit, Limit]:
    """Per client address (any account), per account from one address, per account from any address."""
    most = timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
    return (
        Limit("address", config["LOGIN_ADDRESS_MAX_FAILURES"], timedelta(minutes=1), most),
        Limit("account-address", config["LOGIN_MAX_FAILURES"], timedelta(minutes=1), most),
        Limit("account", config["LOGIN_ACCOUNT_MAX_FAILURES"], timedelta(seconds=15),
              timedelta(seconds=config["LOGIN_ACCOUNT_MAX_WAIT_SECONDS"])),
    )


def sign_in_keys(config: Mapping[str, Any], address: str, account: str) -> list[tuple[Limit, str]]:
    by_address, by_account_address, by_account = sign_in_limits(config)
    return [
        (by_address, f"sign-in address {address}"),
        (by_account_address, f"sign-in account {account} from {address}"),
        (by_account, f"sign-in account {account}"),
    ]


def code_keys(config: Mapping[str, Any], user_id: int) -> list[tuple[Limit, str]]:
    """Second-factor and recovery codes: six digits are guessable without a limit."""
    limit = Limit("code", config["LOGIN_MAX_FAILURES"], timedelta(minutes=1),
                  timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]))
    return [(limit, f"code user {user_id}")]


def reset_keys(config: Mapping[str, Any], address: str) -> list[tuple[Limit, str]]:
    """Asking for reset emails: enough for a forgetful office, too few to flood someone's inbox."""
    limit = Limit("reset", config["RESET_MAX_REQUESTS"], timedelta(minutes=5), timedelta(hours=1))
    return [(limit, f"reset address {address}")]


@dataclass(frozen=True)
class Held:
    """Attempts counted against each key, to be settled as failed or succeeded."""

    keys: tuple[tuple[Limit, str], ...]


class Throttled(Exception):
    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"throttled for {retry_after}")
        self.retry_after = retry_after


def _insert_missing(key: str, now: datetime) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(ThrottleCounter).values(key=key, attempts=0, blocks=0, updated_at=now).on_conflict_do_nothing()
    )


def _reserve(limit: Limit, key: str, now: datetime) -> bool:
    """Count one attempt against the key if it has one to give; one statement, so never more than allowed."""
    _insert_missing(key, now)
    stale = ThrottleCounter.updated_at < now - FORGET_AFTER
    result = db.session.execute(
        update(ThrottleCounter)
        .where(ThrottleCounter.key == key,
               or_(stale, and_(ThrottleCounter.attempts < limit.free,
                               or_(ThrottleCounter.blocked_until.is_(None), ThrottleCounter.blocked_until <= now))))
        .values(attempts=_if(stale, 1, ThrottleCounter.attempts + 1), blocks=_if(stale, 0, ThrottleCounter.blocks),
                blocked_until=_if(stale, None, ThrottleCounter.blocked_until), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _if(condition: Any, then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)


def _retry_after(keys: list[tuple[Limit, str]], now: datetime) -> timedelta:
    until = db.session.scalars(
        select(ThrottleCounter.blocked_until).where(ThrottleCounter.key.in_([key for _, key in keys]),
                                                    ThrottleCounter.blocked_until > now)
    ).all()
    # No block yet means the last free attempts are being checked right now: a moment's wait.
    return max((moment - now for moment in until if moment is not None), default=timedelta(seconds=1))


def hold(keys: list[tuple[Limit, str]], now: datetime | None = None) -> Held:
    """Count an attempt against every key, committed at once so other workers see it; raise Throttled,
    counting nothing, when any key has no attempt to give."""
    now = now or utcnow()
    reserved: list[tuple[Limit, str]] = []
    for limit, key in keys:
        if not _reserve(limit, key, now):
            for _, taken in reserved:
                _give_back(taken)
            retry = _retry_after(keys, now)
            db.session.commit()
            raise Throttled(retry)
        reserved.append((limit, key))
    db.session.commit()
    return Held(tuple(reserved))


def _give_back(key: str) -> None:
    db.session.execute(
        update(ThrottleCounter).where(ThrottleCounter.key == key, ThrottleCounter.attempts > 0)
        .values(attempts=ThrottleCounter.attempts - 1).execution_options(synchronize_session=False)
    )


def failed(held: Held, now: datetime | None = None) -> None:
    """The attempt failed: it stays counted, and a key that has used its free attempts is blocked for
    longer each time. The caller commits."""
    now = now or utcnow()
    for limit, key in held.keys:
        row = db.session.execute(
            select(ThrottleCounter.attempts, ThrottleCounter.blocks).where(ThrottleCounter.key == key)
        ).one_or_none()
        if row is None or row.attempts < limit.free:
            continue
        # Only the request that sees these `blocks` sets the next block, so two failures together block once.
        db.session.execute(
            update(ThrottleCounter)
            .where(ThrottleCounter.key == key, ThrottleCounter.blocks == row.blocks,
                   ThrottleCounter.attempts >= limit.free)
            .values(blocks=row.blocks + 1, attempts=limit.free - 1, blocked_until=now + limit.wait(row.blocks),
                    updated_at=now)
            .execution_options(synchronize_session=False)
        )


def succeeded(held: Held, *, forget: tuple[str, ...] = ("account-address", "account", "code")) -> None:
    """The attempt succeeded: the account's counts are cleared; an address only gets its attempt back.
    The caller commits."""
    for limit, key in held.keys:
        if limit.scope in forget:
            db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key)
                               .execution_options(synchronize_session=False))
        else:
            _give_back(key)


def clear_account(account: str) -> None:
    """A new password (reset or set by an administrator) starts the account afresh."""
    db.session.execute(
        delete(ThrottleCounter).where(or_(ThrottleCounter.key == f"sign-in account {account}",
                                          ThrottleCounter.key.like(f"sign-in account {like_escaped(account)} from %",
                                                                   escape="\\")))
        .execution_options(synchronize_session=False)
    )


def wait_in_words(wait: timedelta) -> str:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
