"""A small SMTP server on loopback that keeps what it receives, for the tests that send email."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from flask import Flask

REFUSED = "nobody@refused.example"
PUBLIC_BASE_URL = "https://grants.opcc.example"


class SMTPSink(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: greets, accepts mail, refuses one recipient."""

    server: MailServer

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ready")
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb in ("MAIL", "RSET"):
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                self.reply("550 no such mailbox" if address == REFUSED else "250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.received.append(message_from_bytes(data, policy=policy.default))
                self.reply("250 kept")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class MailServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    received: list[EmailMessage]

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def config(self) -> dict[str, Any]:
        """The settings that send through this server."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_STARTTLS": False, "SMTP_USERNAME": "",
                "SMTP_PASSWORD": "", "MAIL_FROM": "grants@opcc.example"}


@contextmanager
def mail_server() -> Iterator[MailServer]:
    server = MailServer(("127.0.0.1", 0), SMTPSink)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextmanager
def app_sending_to(app: Flask) -> Iterator[MailServer]:
    """The app set to send through a fresh server, with the public address reset links are built on."""
    with mail_server() as server:
        app.config.update(server.config(), PUBLIC_BASE_URL=PUBLIC_BASE_URL)
        yield server
