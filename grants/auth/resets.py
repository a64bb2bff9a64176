"""Password reset emails, with no live link ever stored where it could be read.

The forgot-password page only records the address it was given (a ResetRequest), looking nothing up, so it does
the same work whether or not the address has an account. `flask send-mail` then turns each address's waiting
requests into one email with a single-use link, sent straight to the recipient by SMTP; the outbox keeps a copy
with the link removed, because administrators read the outbox and every backup holds it. An address with no
active account gets nothing.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, url_for
from sqlalchemy import select, update

from grants.auth.rules import find_user, issue_reset_token, normalise_email
from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.mail import Mailer, send_keeping_copy
from grants.core.models import ResetRequest, utcnow

SUBJECT = "Reset your password"
# What the outbox copy holds in place of the link.
LINK_REMOVED = "[link removed: sent only to the recipient]"

log = logging.getLogger(__name__)


def request_reset(email: str) -> ResetRequest:
    """Record, in the caller's transaction, that someone asked for a reset link for this address."""
    request = ResetRequest(email=normalise_email(email))
    db.session.add(request)
    return request


def reset_email_body(link: str, hours: int) -> str:
    lifetime = "1 hour" if hours == 1 else f"{hours} hours"
    return (f"Use this link to choose a new password. It works once, for {lifetime}:\n\n{link}\n\n"
            "If you did not ask for this, you can ignore this email.")


def waiting_addresses() -> list[str]:
    """Addresses with reset requests not yet handled."""
    return list(db.session.scalars(select(ResetRequest.email).where(ResetRequest.handled_at.is_(None))
                                   .distinct().order_by(ResetRequest.email)))


def reset_links(app: Flask, base_url: str) -> Callable[[str], str]:
    """The reset page's full address for a token, on the site's public address (config PUBLIC_BASE_URL), never
    on the address of whichever machine runs the command."""
    def link_for(token: str) -> str:
        with app.test_request_context(base_url=base_url):
            return url_for("auth.reset_password", token=token, _external=True)
    return link_for


def _claim(email: str, now: datetime) -> list[tuple[int, datetime]]:
    """Mark this address's waiting requests handled and return them (id, when asked). It is the first statement
    of its transaction, so on SQLite it waits for the write lock and then sees what another sender committed; on
    PostgreSQL rows another sender holds are skipped. Either way no request is answered twice."""
    waiting = (select(ResetRequest.id).where(ResetRequest.email == email, ResetRequest.handled_at.is_(None))
               .with_for_update(skip_locked=True))
    claimed = db.session.execute(
        update(ResetRequest).where(ResetRequest.id.in_(waiting), ResetRequest.handled_at.is_(None))
        .values(handled_at=now).returning(ResetRequest.id, ResetRequest.requested_at)
        .execution_options(synchronize_session=False))
    return [(id_, asked) for id_, asked in claimed]


def _answer(email: str, requests: list[tuple[int, datetime]], now: datetime, hours: int, mailer: Mailer,
            link_for: Callable[[str], str]) -> bool:
    """Send the email for one address's claimed requests, in the caller's transaction; False if none is due."""
    user = find_user(email)
    if all(asked < now - timedelta(hours=hours) for _id, asked in requests):
        note = f"asked for more than {hours} hours ago: no email sent"
    elif user is None or not user.active:
        note = "no active account has this address: no email sent"
    else:
        token = issue_reset_token(user, hours)  # records user.password_reset_requested
        send_keeping_copy(mailer, user.email, SUBJECT, reset_email_body(link_for(token), hours),
                          reset_email_body(LINK_REMOVED, hours), recipient=user)
        return True
    record_event(None, "reset_request.dropped", object_type="reset_request", object_id=min(id_ for id_, _ in requests),
                 note=note)
    return False


def send_reset_emails(config: Mapping[str, Any], mailer: Mailer, link_for: Callable[[str], str]) -> int:
    """Answer every waiting reset request: one email per address however many times it was asked for, each
    address in a transaction of its own. Returns how many emails were sent. If the server refuses one, that
    address's requests wait for the next run (until they are too old), and the link it held was never saved."""
    hours = config["PASSWORD_RESET_HOURS"]
    addresses = waiting_addresses()
    db.session.commit()
    sent = 0
    for email in addresses:
        now = utcnow()
        requests = _claim(email, now)
        if not requests:  # another sender has answered them
            db.session.rollback()
            continue
        try:
            if _answer(email, requests, now, hours, mailer, link_for):
                sent += 1
            db.session.commit()
        except smtplib.SMTPException as error:
            db.session.rollback()
            log.warning("Password reset email to %s not sent, will try again: %s", email, error)
    return sent
