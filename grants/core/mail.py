"""Email: every message is kept in the outbox table, and sent by SMTP when a server is configured."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from contextlib import nullcontext
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from grants.core.extensions import db
from grants.core.models import Organisation, OutboxEmail, User, utcnow


def queue_email(to_address: str, subject: str, body: str, *, recipient: User | None = None) -> OutboxEmail:
    """Add the message to the outbox in the caller's transaction. `recipient`: the user it is written to, who
    then reads it under Notifications too; None only for an address that is no user's."""
    message = OutboxEmail(to_address=to_address, subject=subject, body=body,
                          recipient_id=recipient.id if recipient is not None else None)
    db.session.add(message)
    return message


def email_user(user: User, subject: str, body: str) -> OutboxEmail:
    """Email one user at their address, named as the recipient."""
    return queue_email(user.email, subject, body, recipient=user)


def tell_organisation(organisation: Organisation, subject: str, body: str, *, also: User | None = None) -> None:
    """Email an organisation's active applicant users (and `also`, such as a bid's author, if active)."""
    recipients = {user.email: user for user in organisation.users if user.active and user.role == "applicant"}
    if also is not None and also.active:
        recipients[also.email] = also
    for address in sorted(recipients):
        email_user(recipients[address], subject, body)


class Mailer:
    """One SMTP connection for a run of the sender, opened when the first message goes (so a run with nothing to
    send never connects) and closed at the end of the `with` block."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def connect(self) -> smtplib.SMTP:
        """The open connection (opened now if need be): a server that cannot be reached or refuses the login
        raises here, before any message is tried."""
        if self._smtp is None:
            config = self.config
            smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10)
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            self._smtp = smtp
        return self._smtp

    def send(self, to_address: str, subject: str, body: str) -> None:
        """Send one message now; raises smtplib.SMTPException if the server refuses it."""
        msg = EmailMessage()
        msg["From"] = self.config["MAIL_FROM"]
        msg["To"] = to_address
        msg["Subject"] = subject
        msg.set_content(body)
        self.connect().send_message(msg)


def send_keeping_copy(mailer: Mailer, to_address: str, subject: str, body: str, kept_body: str, *,
                      recipient: User | None = None) -> OutboxEmail:
    """Send a message that holds a secret (a password reset link) straight to its recipient, and keep in the
    outbox, in the caller's transaction, a copy marked sent whose body is `kept_body`: the outbox is read by
    administrators and copied into every backup, so the secret must never be stored there."""
    mailer.send(to_address, subject, body)
    message = OutboxEmail(to_address=to_address, subject=subject, body=kept_body, sent_at=utcnow(), error="",
                          recipient_id=recipient.id if recipient is not None else None)
    db.session.add(message)
    return message


def deliver_pending(config: Mapping[str, Any], mailer: Mailer | None = None) -> int:
    """Send unsent outbox messages by SMTP; returns how many were sent. No SMTP_HOST: nothing is sent.
    `mailer`: a connection already open for this run (`flask send-mail` sends reset emails on it first)."""
    if not config.get("SMTP_HOST"):
        return 0
    sent = 0
    # Rows are locked until committed, and rows another sender holds are skipped (PostgreSQL), so `flask
    # send-mail` running on several servers at once never sends a message twice.
    pending = db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.sent_at.is_(None))
                                 .order_by(OutboxEmail.id).with_for_update(skip_locked=True)).all()
    if not pending:
        return 0
    with nullcontext(mailer) if mailer else Mailer(config) as smtp:
        smtp.connect()
        for row in pending:
            try:
                smtp.send(row.to_address, row.subject, row.body)
                row.sent_at = utcnow()
                row.error = ""
                sent += 1
            except smtplib.SMTPException as exc:
                row.error = str(exc)[:500]
    db.session.commit()
    return sent
