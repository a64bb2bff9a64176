"""Financial years (1 April to 31 March), half-years and quarters."""

from __future__ import annotations

from datetime import date


def financial_year_start(on: date) -> int:
    """The calendar year in which the financial year containing `on` began."""
    return on.year if on.month >= 4 else on.year - 1


def financial_year_label(year_start: int) -> str:
    return f"{year_start}-{(year_start + 1) % 100:02d}"


def financial_year_bounds(year_start: int) -> tuple[date, date]:
    return date(year_start, 4, 1), date(year_start + 1, 3, 31)
