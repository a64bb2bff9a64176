"""Password reset emails: the forgot-password page records the address and nothing else; `flask send-mail` sends
each link straight to its recipient and stores none of it readable; several senders never send one twice."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from grants.auth.resets import LINK_REMOVED, reset_links, send_reset_emails
from grants.core import mail as mail_module
from grants.core.extensions import db
from grants.core.mail import Mailer, queue_email
from grants.core.models import AuditEvent, OutboxEmail, PasswordResetToken, ResetRequest, utcnow
from tests.conftest import World, make_user, page
from tests.mailserver import PUBLIC_BASE_URL, REFUSED, MailServer, app_sending_to

LINK = re.compile(r"(https?://\S+/reset-password/([A-Za-z0-9_\-]+))\s")


@pytest.fixture()
def mail(app: Flask) -> Iterator[MailServer]:
    with app_sending_to(app) as server:
        yield server


def send_mail(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["send-mail"])


def links(mail: MailServer) -> list[tuple[str, str]]:
    """(recipient, link) of every email received."""
    found = []
    for message in mail.received:
        match = LINK.search(message.get_content())
        assert match, message.get_content()
        found.append((message["To"], match.group(1)))
    return found


def requests_waiting() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(ResetRequest.email).where(ResetRequest.handled_at.is_(None))
                                   .order_by(ResetRequest.id)))


def count(model: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def dropped_notes() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.note).where(AuditEvent.action == "reset_request.dropped")
                                   .order_by(AuditEvent.id)))


# The page ----------------------------------------------------------------------------------------------------------


def test_known_and_unknown_addresses_make_the_same_database_statements(app: Flask, client: FlaskClient,
                                                                       world: World) -> None:
    """Neither the answer nor the work behind it says whether an address has an account."""
    disabled = world.user("approver")
    disabled.active = False
    db.session.commit()
    app.config["RESET_MAX_REQUESTS"] = 100  # every request here is answered, whatever the limit per client
    statements: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append(statement)

    client.post("/forgot-password", data={"email": "first@opcc.example"})  # anything done once per client first
    seen: dict[str, tuple[list[str], bytes]] = {}
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        for email in ("officer@opcc.example", "nobody@opcc.example", disabled.email, " Finance@OPCC.example "):
            statements.clear()
            response = client.post("/forgot-password", data={"email": email})
            assert response.status_code == 200
            seen[email] = (list(statements), response.get_data())
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    known, *others = seen.values()
    writes = [s for s in known[0] if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [w.split("(")[0].strip() for w in writes if "reset_request" in w] == ["INSERT INTO reset_request"]
    for other in others:
        assert other == known  # the same statements, in the same order, and the same page
    assert requests_waiting() == ["first@opcc.example", "officer@opcc.example", "nobody@opcc.example",
                                  disabled.email, "finance@opcc.example"]


# The sender --------------------------------------------------------------------------------------------------------


def test_no_live_link_is_kept_in_any_table_or_page(app: Flask, client: FlaskClient, as_role, world: World,
                                                   mail: MailServer) -> None:
    client.post("/forgot-password", data={"email": world.user("finance").email})
    assert send_mail(app).output.strip() == "Sent 1 message(s)"
    [(to, link)] = links(mail)
    token = link.rsplit("/", 1)[1]
    assert to == "finance@opcc.example" and link.startswith(f"{PUBLIC_BASE_URL}/reset-password/")
    # The link works (so the token is the real one)...
    assert client.get(link.removeprefix(PUBLIC_BASE_URL)).status_code == 200
    # ...yet it is in no column of any table: the outbox copy has it removed, the token table holds its hash.
    db.session.rollback()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            assert token not in repr(tuple(row)), table.name
    [copy] = db.session.scalars(select(OutboxEmail)).all()
    assert LINK_REMOVED in copy.body and copy.sent_at is not None
    # Nor on the outbox pages.
    admin = as_role("admin")
    for path in ("/admin/outbox", f"/admin/outbox/{copy.id}"):
        shown = admin.get(path).get_data(as_text=True)
        assert token not in shown and "/reset-password/" not in shown
    assert LINK_REMOVED in page(admin.get(f"/admin/outbox/{copy.id}")).find(attrs={"data-testid": "body"}).get_text()
    # The outbox sender does not send the copy again.
    assert send_mail(app).output.strip() == "Sent 0 message(s)"
    assert len(mail.received) == 1


def test_several_requests_for_one_address_send_one_email(app: Flask, client: FlaskClient, world: World,
                                                         mail: MailServer) -> None:
    for email in ("officer@opcc.example", "OFFICER@opcc.example", " officer@opcc.example"):
        client.post("/forgot-password", data={"email": email})
    assert send_mail(app).output.strip() == "Sent 1 message(s)"
    assert [to for to, _link in links(mail)] == ["officer@opcc.example"]
    assert requests_waiting() == []
    assert count(PasswordResetToken) == 1
    officer = world.user("officer")
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "user", AuditEvent.object_id == officer.id,
        AuditEvent.action == "user.password_reset_requested")).all() == ["user.password_reset_requested"]
    # Asked again later: a new email with a new link, and both links work until one is used.
    client.post("/forgot-password", data={"email": "officer@opcc.example"})
    assert send_mail(app).output.strip() == "Sent 1 message(s)"
    first, second = (link.removeprefix(PUBLIC_BASE_URL) for _to, link in links(mail))
    assert first != second
    assert client.get(first).status_code == client.get(second).status_code == 200


def test_unknown_and_disabled_addresses_get_nothing(app: Flask, client: FlaskClient, world: World,
                                                    mail: MailServer) -> None:
    disabled = world.user("approver")
    disabled.active = False
    db.session.commit()
    for email in ("nobody@opcc.example", disabled.email):
        client.post("/forgot-password", data={"email": email})
    assert send_mail(app).output.strip() == "Sent 0 message(s)"
    assert mail.received == []
    assert requests_waiting() == []
    assert count(PasswordResetToken) == count(OutboxEmail) == 0
    assert dropped_notes() == ["no active account has this address: no email sent"] * 2


def test_requests_older_than_the_link_lifetime_are_dropped(app: Flask, world: World, mail: MailServer) -> None:
    hours = app.config["PASSWORD_RESET_HOURS"]
    db.session.add(ResetRequest(email="officer@opcc.example", requested_at=utcnow() - timedelta(hours=hours, minutes=1)))
    db.session.add(ResetRequest(email="finance@opcc.example", requested_at=utcnow() - timedelta(hours=hours, minutes=1)))
    db.session.add(ResetRequest(email="finance@opcc.example", requested_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert send_mail(app).output.strip() == "Sent 1 message(s)"
    assert [to for to, _link in links(mail)] == ["finance@opcc.example"]  # one of its requests was still fresh
    assert requests_waiting() == []
    assert dropped_notes() == [f"asked for more than {hours} hours ago: no email sent"]


def test_without_a_mail_server_requests_wait(app: Flask, client: FlaskClient, world: World) -> None:
    client.post("/forgot-password", data={"email": "officer@opcc.example"})
    app.config.update(SMTP_HOST="", PUBLIC_BASE_URL=PUBLIC_BASE_URL)
    result = send_mail(app)
    assert result.exit_code == 0 and result.output.strip() == "Sent 0 message(s)"
    assert requests_waiting() == ["officer@opcc.example"]
    assert count(PasswordResetToken) == count(OutboxEmail) == 0
    with app_sending_to(app) as server:
        assert send_mail(app).output.strip() == "Sent 1 message(s)"
    assert [to for to, _link in links(server)] == ["officer@opcc.example"]


def test_without_a_public_address_no_link_is_sent_and_the_command_fails(app: Flask, client: FlaskClient,
                                                                          world: World, mail: MailServer) -> None:
    """A link built on whatever machine runs cron (http://localhost/...) would not work, so it is not sent."""
    app.config["PUBLIC_BASE_URL"] = ""
    client.post("/forgot-password", data={"email": "officer@opcc.example"})
    queue_email("csp@fenland.example", "BID-00001: grant awarded", "Awarded")
    db.session.commit()
    result = send_mail(app)
    assert result.exit_code == 1
    assert "Sent 1 message(s), but no password reset emails: set PUBLIC_BASE_URL" in result.output
    assert [m["Subject"] for m in mail.received] == ["BID-00001: grant awarded"]  # other mail is not held up
    assert requests_waiting() == ["officer@opcc.example"]
    assert count(PasswordResetToken) == 0
    # With nothing waiting there is nothing to complain about.
    app.config["PUBLIC_BASE_URL"] = PUBLIC_BASE_URL
    assert send_mail(app).exit_code == 0
    app.config["PUBLIC_BASE_URL"] = ""
    assert send_mail(app).exit_code == 0


def test_links_are_built_on_the_public_address_even_under_a_path(app: Flask, client: FlaskClient, world: World,
                                                                  mail: MailServer) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://www.example.org/grants/"
    client.post("/forgot-password", data={"email": "officer@opcc.example"})
    send_mail(app)
    [(_to, link)] = links(mail)
    assert re.fullmatch(r"https://www\.example\.org/grants/reset-password/[A-Za-z0-9_\-]{40,}", link), link


def test_a_refused_email_waits_for_the_next_run_and_stores_no_link(app: Flask, client: FlaskClient, world: World,
                                                                   mail: MailServer) -> None:
    make_user(REFUSED, "applicant", world.csp)
    db.session.commit()
    for email in (REFUSED, "officer@opcc.example"):
        client.post("/forgot-password", data={"email": email})
    assert send_mail(app).output.strip() == "Sent 1 message(s)"
    assert [to for to, _link in links(mail)] == ["officer@opcc.example"]
    # The refused address's request waits; the token its email held was never saved, nor any copy.
    assert requests_waiting() == [REFUSED]
    assert count(PasswordResetToken) == count(OutboxEmail) == 1
    assert db.session.scalars(select(OutboxEmail.to_address)).all() == ["officer@opcc.example"]


def test_two_senders_at_once_send_one_email(app: Flask, client: FlaskClient, world: World, mail: MailServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """As when `flask send-mail` runs from cron on two servers: each address is claimed by one sender only."""
    for email in ("officer@opcc.example", "finance@opcc.example", "nobody@opcc.example"):
        client.post("/forgot-password", data={"email": email})
    real_send = Mailer.send

    def slow_send(self: Mailer, to_address: str, subject: str, body: str) -> None:
        time.sleep(0.3)  # both senders are at work at the same time
        real_send(self, to_address, subject, body)

    monkeypatch.setattr(mail_module.Mailer, "send", slow_send)
    claims: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE RESET_REQUEST"):
            claims.append(statement)

    start = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with app.app_context():
                start.wait(10)
                with Mailer(app.config) as mailer:
                    sent.append(send_reset_emails(app.config, mailer, reset_links(app, PUBLIC_BASE_URL)))
                db.session.remove()
        except BaseException as error:  # noqa: B036 (reported below, in the test's thread)
            errors.append(error)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert errors == []
    assert sorted(to for to, _link in links(mail)) == ["finance@opcc.example", "officer@opcc.example"]
    assert sum(sent) == 2
    assert count(PasswordResetToken) == 2 and requests_waiting() == []
    # On PostgreSQL requests another sender holds are skipped, not waited for; SQLite has one writer at a time.
    if db.engine.dialect.name == "postgresql":
        assert claims and all("FOR UPDATE SKIP LOCKED" in claim for claim in claims)
