"""Dates as the OPCC reads them: today in the UK, financial years (1 April to 31 March), half-years, quarters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

# One definition each, shared with the builders in exports/ (which never import the application). The OPCC
# works in UK time (LONDON): a decision at 23:30 UTC on 30 June belongs to 1 July.
from exports.formats import LONDON as LONDON
from exports.formats import format_date as format_date
from exports.formats import format_datetime as format_datetime
from exports.formats import london_date as london_date


def today() -> date:
    """Today's date in the UK: what "due", "overdue" and "in the past" mean to the people using the system."""
    return datetime.now(LONDON).date()


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants of UK midnight at the start of `start` and just after `end`, for comparing stored times."""
    first = datetime.combine(start, time(), tzinfo=LONDON).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time(), tzinfo=LONDON).astimezone(UTC)
    return first, after


def format_month(value: date | datetime | None) -> str:
    """"June 2026"; a moment is shown as its UK month."""
    if value is None:
        return ""
    day = london_date(value) if isinstance(value, datetime) else value
    return f"{day:%B %Y}"


def financial_year_start(on: date) -> int:
    """The calendar year in which the financial year containing `on` began."""
    return on.year if on.month >= 4 else on.year - 1


def financial_year_label(year_start: int) -> str:
    return f"{year_start}-{(year_start + 1) % 100:02d}"


def financial_year_bounds(year_start: int) -> tuple[date, date]:
    return date(year_start, 4, 1), date(year_start + 1, 3, 31)


# Months of a financial year in order: April to March.
FINANCIAL_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)


def month_start(year_start: int, month: int) -> date:
    """The first day of a calendar month (1 to 12) of the financial year beginning in April `year_start`."""
    return date(year_start if month >= 4 else year_start + 1, month, 1)


def months_of(year_start: int) -> list[date]:
    """The first day of each month of a financial year, April to March."""
    return [month_start(year_start, month) for month in FINANCIAL_MONTHS]


def period_bounds(year_start: int, month: int | None = None) -> tuple[date, date]:
    """First and last day of the financial year, or of one of its months."""
    if month is None:
        return financial_year_bounds(year_start)
    first = month_start(year_start, month)
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, after - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """A reporting period inside one financial year: a half (H1, H2), a quarter (Q1 to Q4) or the whole year."""

    year_start: int
    name: str  # "H1", "Q3", "FY"
    start: date
    end: date

    @property
    def label(self) -> str:
        year = financial_year_label(self.year_start)
        return year if self.name == "FY" else f"{year} {self.name}"

    def overlaps(self, start: date, end: date) -> bool:
        return start <= self.end and end >= self.start


def _month_end(year: int, month: int) -> date:
    first_of_next = date(year + (month // 12), month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def _span(year_start: int, name: str, first_month_offset: int, months: int) -> Period:
    """A period of `months` months starting `first_month_offset` months after 1 April."""
    m0 = 4 + first_month_offset
    start = date(year_start + (m0 - 1) // 12, (m0 - 1) % 12 + 1, 1)
    m1 = m0 + months - 1
    end = _month_end(year_start + (m1 - 1) // 12, (m1 - 1) % 12 + 1)
    return Period(year_start, name, start, end)


def half_years(year_start: int) -> list[Period]:
    """H1 is 1 April to 30 September, H2 is 1 October to 31 March."""
    return [_span(year_start, "H1", 0, 6), _span(year_start, "H2", 6, 6)]


def quarters(year_start: int) -> list[Period]:
    return [_span(year_start, f"Q{n + 1}", 3 * n, 3) for n in range(4)]


def whole_year(year_start: int) -> Period:
    start, end = financial_year_bounds(year_start)
    return Period(year_start, "FY", start, end)


def period_named(year_start: int, name: str) -> Period | None:
    """"H1", "Q2", "FY" ... of a financial year, or None for a name that is no period."""
    if name == "FY":
        return whole_year(year_start)
    return next((p for p in half_years(year_start) + quarters(year_start) if p.name == name), None)


def periods_overlapping(start: date, end: date, frequency: str = "half_yearly") -> list[Period]:
    """Every reporting period (half-years, or quarters for "quarterly") that `start` to `end` touches, in order."""
    of_year = quarters if frequency == "quarterly" else half_years
    periods: list[Period] = []
    for year in range(financial_year_start(start), financial_year_start(end) + 1):
        periods.extend(p for p in of_year(year) if p.overlaps(start, end))
    return periods


def due_date(period: Period, days_after: int) -> date:
    """A return is due a set number of days after its period ends."""
    return period.end + timedelta(days=days_after)

