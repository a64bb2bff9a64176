"""The exports finance can make, how their choices are checked, and how each is built.

Shared by the web download and `flask export`, so both accept the same choices, refuse the same mistakes with
the same messages, and call the same query and builder. Nothing here reads a web request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from exports.government_return import build_government_return
from exports.grants_register import build_grants_register
from exports.payments import build_payments
from grants.core.dates import Period, financial_year_label, period_named, whole_year
from grants.core.models import FUNDING_SOURCES
from grants.finance import reports
from grants.finance.government import GOVERNMENT_SOURCES, streamed_return

PERIOD_NAMES = {
    "FY": "Whole financial year",
    "H1": "H1: April to September",
    "H2": "H2: October to March",
    "Q1": "Q1: April to June",
    "Q2": "Q2: July to September",
    "Q3": "Q3: October to December",
    "Q4": "Q4: January to March",
}
SOURCE_RULES = {
    "moj": "Ministry of Justice returns are six-monthly: choose H1, H2 or the whole financial year",
    "home_office": "Home Office returns are quarterly: choose Q1, Q2, Q3, Q4 or the whole financial year",
}
YEAR_RANGE = range(2000, 2100)  # when no list of years is given (the command line), any plausible year


@dataclass(frozen=True)
class Settings:
    """The app configuration the builders need, passed in so none of this reads Flask's config."""

    grant_id_prefix: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(grant_id_prefix=config["GRANT_ID_PREFIX"])


@dataclass(frozen=True)
class ExportSpec:
    name: str
    title: str
    description: str
    periods: tuple[str, ...]  # the period names it accepts; ("FY",) means a whole year only
    needs_source: bool = False

    @property
    def key(self) -> str:
        """The name as an HTML id fragment."""
        return self.name

    @property
    def whole_year_only(self) -> bool:
        return self.periods == ("FY",)


EXPORTS: dict[str, ExportSpec] = {spec.name: spec for spec in (
    ExportSpec("grants-register", "Grants register",
               "Every award from a financial year's funds: recipient, amounts, agreement, payments to date, "
               "repayments and monitoring returns.", ("FY",)),
    ExportSpec("government-return", "Government grant return",
               "Grants paid for by the Ministry of Justice (six-monthly) or the Home Office (quarterly) that were "
               "live in the period, with payments and the grantee's reported outcomes.",
               ("FY", "H1", "H2", "Q1", "Q2", "Q3", "Q4"), needs_source=True),
    ExportSpec("payments", "Payments",
               "Every payment due or paid in the period, scheduled, paid or cancelled, and on a sheet of its own "
               "the money grantees repaid in it.",
               ("FY", "H1", "H2", "Q1", "Q2", "Q3", "Q4")),
)}


@dataclass(frozen=True)
class ExportRequest:
    spec: ExportSpec
    period: Period
    source: str | None = None

    @property
    def filename(self) -> str:
        year = financial_year_label(self.period.year_start)
        parts = [self.spec.name]
        if self.source:
            parts.append(self.source.replace("_", "-"))
        parts.append(year)
        if self.period.name != "FY":
            parts.append(self.period.name)
        return "-".join(parts) + ".xlsx"

    @property
    def period_label(self) -> str:
        return self.period.label

    def audit_details(self) -> dict[str, str]:
        details = {"export": self.spec.name, "period": self.period.label}
        if self.source:
            details["funding_source"] = self.source
        return details


def check_choices(spec: ExportSpec, year: str | None, period: str | None, source: str | None,
                  years: Collection[int] | None = None) -> tuple[ExportRequest | None, dict[str, str]]:
    """The request, or the problems keyed by field ("year", "period", "source") with messages to show beside them."""
    problems: dict[str, str] = {}
    year_start: int | None = None
    text = (year or "").strip()
    if not text:
        problems["year"] = "Choose a financial year"
    elif not (text.isascii() and text.isdigit() and len(text) == 4) or int(text) not in (years or YEAR_RANGE):
        problems["year"] = "Choose a financial year from the list"
    else:
        year_start = int(text)

    chosen_source: str | None = None
    if spec.needs_source:
        chosen_source = (source or "").strip()
        if not chosen_source:
            problems["source"] = "Choose who the return is for"
        elif chosen_source not in GOVERNMENT_SOURCES:
            problems["source"] = "Choose the Ministry of Justice or the Home Office"
            chosen_source = None

    name = "FY" if spec.whole_year_only else (period or "").strip().upper()
    if not name:
        problems["period"] = "Choose a period"
    elif name not in spec.periods:
        problems["period"] = "Choose a period from the list"
    elif chosen_source and name not in GOVERNMENT_SOURCES[chosen_source]:
        problems["period"] = SOURCE_RULES[chosen_source]

    if problems or year_start is None:
        return None, problems
    chosen = period_named(year_start, name) or whole_year(year_start)
    return ExportRequest(spec, chosen, chosen_source), {}


def build(request: ExportRequest, target: str | IO[bytes], *, settings: Settings, made_by: str,
          made_at: datetime | None = None) -> int:
    """Run the export's query and write its workbook to `target`; return the number of data rows."""
    made_at = made_at or datetime.now(UTC)
    period = request.period
    builders: dict[str, Callable[[], int]] = {
        "grants-register": lambda: build_grants_register(
            reports.grants_register(period.year_start, settings.grant_id_prefix), target,
            period=period, made_by=made_by, made_at=made_at),
        "government-return": lambda: build_government_return(
            streamed_return(request.source or "", period), target,
            source_name=FUNDING_SOURCES[request.source or ""], period=period, made_by=made_by, made_at=made_at),
        "payments": lambda: build_payments(
            reports.payments(period), target, period=period, made_by=made_by, made_at=made_at,
            receipts=reports.repayment_receipts(period)),
    }
    return builders[request.spec.name]()
