"""Email: every message is kept in the outbox table, and sent by SMTP when a server is configured."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from grants.core.extensions import db
from grants.core.models import Organisation, OutboxEmail, User, utcnow


def queue_email(to_address: str, subject: str, body: str) -> OutboxEmail:
    """Add the message to the outbox in the caller's transaction."""
    message = OutboxEmail(to_address=to_address, subject=subject, body=body)
    db.session.add(message)
    return message


def tell_organisation(organisation: Organisation, subject: str, body: str, *, also: User | None = None) -> None:
    """Email an organisation's active applicant users (and `also`, such as a bid's author, if active)."""
    recipients = {user.email for user in organisation.users if user.active and user.role == "applicant"}
    if also is not None and also.active:
        recipients.add(also.email)
    for address in sorted(recipients):
        queue_email(address, subject, body)


def deliver_pending(config: Mapping[str, Any]) -> int:
    """Send unsent outbox messages by SMTP; returns how many were sent. No SMTP_HOST: nothing is sent."""
    if not config.get("SMTP_HOST"):
        return 0
    sent = 0
    # Rows are locked until committed, and rows another sender holds are skipped (PostgreSQL), so `flask
    # send-mail` running on several servers at once never sends a message twice.
    pending = db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.sent_at.is_(None))
                                 .order_by(OutboxEmail.id).with_for_update(skip_locked=True)).all()
    if not pending:
        return 0
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        for row in pending:
            msg = EmailMessage()
            msg["From"] = config["MAIL_FROM"]
            msg["To"] = row.to_address
            msg["Subject"] = row.subject
            msg.set_content(row.body)
            try:
                smtp.send_message(msg)
                row.sent_at = utcnow()
                row.error = ""
                sent += 1
            except smtplib.SMTPException as exc:
                row.error = str(exc)[:500]
    db.session.commit()
    return sent
