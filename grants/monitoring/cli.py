"""Monitoring commands: `flask send-reminders` (daily, from cron) and `flask load-measures`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from grants.core.dates import today
from grants.core.extensions import db
from grants.core.models import Fund
from grants.monitoring.measures import STANDARD_SETS, load_standard_set
from grants.monitoring.reminders import send_reminders


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Email monitoring return reminders: due soon, overdue, and the officers' weekly digest (run daily)."""
    counts = send_reminders(today())
    click.echo(f"Reminders sent: {counts.due_soon} due soon, {counts.overdue} overdue, "
               f"{counts.digests} officers' digest(s)")


@click.command("load-measures")
@click.option("--fund", "fund_name", required=True, help="The fund's name")
@click.option("--set", "set_key", required=True, type=click.Choice(sorted(STANDARD_SETS)), help="The standard set to add")
@with_appcontext
def load_measures_command(fund_name: str, set_key: str) -> None:
    """Add a standard set of outcome measures to a fund (measures it already has are left as they are)."""
    fund = db.session.scalar(select(Fund).where(Fund.name == fund_name))
    if fund is None:
        raise click.ClickException(f"No fund called {fund_name!r}")
    added = load_standard_set(fund, set_key, None)
    db.session.commit()
    click.echo(f"Added {added} measure(s) from {STANDARD_SETS[set_key][0]} to {fund.name}")
