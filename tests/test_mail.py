"""Outbox delivery by SMTP, against a small SMTP server on loopback that keeps what it receives."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import select

from grants.core.extensions import db
from grants.core.mail import deliver_pending, queue_email
from grants.core.models import OutboxEmail

REFUSED = "nobody@refused.example"


class SMTPSink(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: greets, accepts mail, refuses one recipient."""

    received: list[EmailMessage]

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ready")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                if address == REFUSED:
                    self.reply("550 no such mailbox")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.received.append(message_from_bytes(data, policy=policy.default))  # type: ignore[attr-defined]
                self.reply("250 kept")
            elif verb == "RSET":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture()
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPSink)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_without_a_mail_server_messages_stay_in_the_outbox(app: Flask) -> None:
    queue_email("csp@fenland.example", "BID-00001: grant awarded", "Body")
    db.session.commit()
    assert deliver_pending({"SMTP_HOST": ""}) == 0
    assert db.session.scalar(select(OutboxEmail)).sent_at is None


def test_outbox_messages_are_sent_and_marked_and_a_refusal_is_kept(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    queue_email("csp@fenland.example", "BID-00001: grant awarded", "£1,500.00 awarded.\n\nReasons: <b>fewer</b> thefts")
    queue_email(REFUSED, "BID-00002: not funded", "Reasons")
    db.session.commit()
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.server_address[1], "SMTP_STARTTLS": False,
              "SMTP_USERNAME": "", "SMTP_PASSWORD": "", "MAIL_FROM": "grants@opcc.example"}
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


def test_send_mail_command(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    queue_email("csp@fenland.example", "BID-00003: more information needed", "Which paths?")
    db.session.commit()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.server_address[1], SMTP_STARTTLS=False)
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and result.output.strip() == "Sent 1 message(s)"
    assert [m["Subject"] for m in smtp_server.received] == ["BID-00003: more information needed"]
