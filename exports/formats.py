"""Money and dates as people read them, in one place that imports nothing of the application (builders never
import Flask): the pages' filters (grants.core.money, grants.core.dates) and the agreement PDF use these."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def format_money(pence: int | None) -> str:
    """Show pence as "£5,000.00"; negative amounts as "-£5.00"."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rem:02d}"


def london_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def format_date(value: date | datetime | None) -> str:
    """"5 June 2026"; a moment is shown as its UK date."""
    if value is None:
        return ""
    day = london_date(value) if isinstance(value, datetime) else value
    return f"{day.day} {day:%B %Y}"


def format_datetime(value: datetime | None) -> str:
    """"5 June 2026 at 14:05", UK time."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"
