"""`flask export NAME --year 2025 [--period H1] [--source moj] --output PATH`: the same builders as the web page."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from grants.core.audit import record_event
from grants.core.extensions import db
from grants.finance.catalogue import EXPORTS, PERIOD_NAMES, Settings, build, check_choices


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown user"


@click.command("export")
@click.argument("name", type=click.Choice(list(EXPORTS)))
@click.option("--year", required=True, help="First calendar year of the financial year: 2025 means 2025-26")
@click.option("--period", default="FY", show_default=True, help=f"One of {', '.join(PERIOD_NAMES)}")
@click.option("--source", help="For government-return: moj (six-monthly) or home_office (quarterly)")
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Where to write the .xlsx file")
@with_appcontext
def export_command(name: str, year: str, period: str, source: str | None, output: Path) -> None:
    """Write one of the finance exports as an .xlsx file."""
    chosen, problems = check_choices(EXPORTS[name], year, period, source)
    if chosen is None:
        raise click.UsageError("; ".join(f"--{field}: {message}" for field, message in problems.items()))
    made_by = f"{_who()} (command line)"
    # Written beside the target then renamed, so a failed export never leaves half a file under the real name.
    partial = output.with_name(output.name + ".part")
    try:
        rows = build(chosen, str(partial), settings=Settings.from_config(current_app.config), made_by=made_by)
        partial.replace(output)
    except OSError as exc:
        raise click.ClickException(f"Could not write {output}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    record_event(None, "export.written", object_type="export", note=f"{chosen.spec.title} {chosen.period_label}",
                 details={**chosen.audit_details(), "rows": rows, "via": "command line", "by": made_by})
    db.session.commit()
    click.echo(f"Wrote {rows} row(s) to {output}")
