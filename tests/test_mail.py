"""Outbox delivery by SMTP, against a small SMTP server on loopback that keeps what it receives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from grants.core.extensions import db
from grants.core.mail import deliver_pending, queue_email
from grants.core.models import OutboxEmail
from tests.mailserver import REFUSED, MailServer, mail_server


@pytest.fixture()
def smtp_server() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


def test_without_a_mail_server_messages_stay_in_the_outbox(app: Flask) -> None:
    queue_email("csp@fenland.example", "BID-00001: grant awarded", "Body")
    db.session.commit()
    assert deliver_pending({"SMTP_HOST": ""}) == 0
    assert db.session.scalar(select(OutboxEmail)).sent_at is None


def test_outbox_messages_are_sent_and_marked_and_a_refusal_is_kept(app: Flask, smtp_server: MailServer) -> None:
    queue_email("csp@fenland.example", "BID-00001: grant awarded", "£1,500.00 awarded.\n\nReasons: <b>fewer</b> thefts")
    queue_email(REFUSED, "BID-00002: not funded", "Reasons")
    db.session.commit()
    config = smtp_server.config()
    assert deliver_pending(config) == 1

    [message] = smtp_server.received
    assert message["To"] == "csp@fenland.example" and message["From"] == "grants@opcc.example"
    assert message["Subject"] == "BID-00001: grant awarded"
    assert "£1,500.00 awarded." in message.get_content() and "<b>fewer</b>" in message.get_content()

    sent, refused = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert sent.sent_at is not None and sent.error == ""
    assert refused.sent_at is None and "no such mailbox" in refused.error
    # Sent messages are not sent again; the refused one is tried again.
    assert deliver_pending(config) == 0
    assert len(smtp_server.received) == 1


def test_send_mail_command(app: Flask, smtp_server: MailServer) -> None:
    queue_email("csp@fenland.example", "BID-00003: more information needed", "Which paths?")
    db.session.commit()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.server_address[1], SMTP_STARTTLS=False)
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and result.output.strip() == "Sent 1 message(s)"
    assert [m["Subject"] for m in smtp_server.received] == ["BID-00003: more information needed"]
