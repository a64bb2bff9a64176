"""Command-line tasks: `flask create-user`, `flask seed-demo`, `flask send-mail`, `flask refresh-org-id-prefixes`."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from grants.auth.rules import normalise_email
from grants.core.audit import record_event
from grants.core.backup import register_backup_command
from grants.core.dates import today
from grants.core.extensions import db
from grants.core.models import ROLES, Organisation, User
from grants.core.orgid import ORG_ID_GUIDE_DOWNLOAD, prefixes_document, save_prefixes
from grants.core.passwords import hash_password, password_problem
from grants.finance.cli import export_command
from grants.monitoring.cli import load_measures_command, send_reminders_command


@click.command("refresh-org-id-prefixes")
@with_appcontext
@click.option("--source", default=ORG_ID_GUIDE_DOWNLOAD, show_default=True,
              help="org-id.guide's download.json: its address, or a copy saved as a file")
def refresh_org_id_prefixes(source: str) -> None:
    """Bring the org-id.guide list of organisation-identifier prefixes up to date."""
    try:
        if source.startswith(("https://", "http://")):
            with urllib.request.urlopen(source, timeout=60) as response:  # noqa: S310 (an address the admin gives)
                download = json.load(response)
        else:
            download = json.loads(Path(source).read_text(encoding="utf-8"))
        document = prefixes_document(download, source, today())
    except (OSError, ValueError, KeyError) as error:
        raise click.ClickException(f"Could not read the org-id.guide list from {source}: {error}") from error
    click.echo(f"{len(document['prefixes'])} prefixes saved to {save_prefixes(document)}")


def register_commands(app: Flask) -> None:
    app.cli.add_command(refresh_org_id_prefixes)
    register_backup_command(app)
    app.cli.add_command(export_command)
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(load_measures_command)

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--organisation", help="Organisation name (required for applicants)")
    @click.password_option()
    def create_user(email: str, name: str, role: str, organisation: str | None, password: str) -> None:
        """Create a user."""
        email = normalise_email(email)
        if db.session.scalar(select(User).where(User.email == email)):
            raise click.ClickException(f"A user with email {email} already exists")
        problem = password_problem(password, email=email, name=name)
        if problem:
            raise click.ClickException(problem)
        org = None
        if organisation:
            org = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
            if org is None:
                raise click.ClickException(f"No organisation called {organisation!r}")
        if role == "applicant" and org is None:
            raise click.ClickException("An applicant must belong to an organisation: give --organisation")
        user = User(email=email, name=name, role=role, organisation_id=org.id if org else None,
                    password_hash=hash_password(password))
        db.session.add(user)
        record_event(None, "user.created", user, note="created from the command line")
        db.session.commit()
        click.echo(f"Created {role} {email}")

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Add demo organisations, funds, users and bids (idempotent)."""
        from grants.demo import DEMO_PASSWORD, USERS, seed_demo

        seed_demo()
        click.echo(f"Demo data ready. Demo users (password: {DEMO_PASSWORD}):")
        for email, _name, role, _org in USERS:
            click.echo(f"  {role:10} {email}")

    @app.cli.command("send-mail")
    def send_mail() -> None:
        """Send the password reset emails asked for, then the outbox, by SMTP (needs SMTP_HOST and PUBLIC_BASE_URL)."""
        click.echo(f"Sent {send_all_mail(current_app)} message(s)")


def send_all_mail(app: Flask) -> int:
    """Reset emails first (their links are never stored, so they go only from here), then the outbox. With no
    SMTP_HOST nothing is sent and everything waits. Refuses to send reset links without PUBLIC_BASE_URL rather
    than address them to whatever machine runs this."""
    from grants.auth.resets import reset_links, send_reset_emails, waiting_addresses
    from grants.core.mail import Mailer, deliver_pending

    config = app.config
    if not config.get("SMTP_HOST"):
        return 0
    base_url = config.get("PUBLIC_BASE_URL", "")
    with Mailer(config) as mailer:
        sent = send_reset_emails(config, mailer, reset_links(app, base_url)) if base_url else 0
        sent += deliver_pending(config, mailer)
    if not base_url and waiting_addresses():
        raise click.ClickException(
            f"Sent {sent} message(s), but no password reset emails: set PUBLIC_BASE_URL to the site's public "
            "address (for example https://grants.example.org), which their links are built on")
    return sent
