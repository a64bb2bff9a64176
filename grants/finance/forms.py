"""The finance page's export forms: GET forms of drop-downs, each problem shown beside its field.

The choices are checked by grants.finance.catalogue (shared with `flask export`); this module only turns a
choice and its problems into GOV.UK select parameters. Several forms share the page, so each field's id is
prefixed with its export's name while its query-string name stays plain (year, period, source).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grants.core.dates import financial_year_label
from grants.core.models import FUNDING_SOURCES
from grants.finance.catalogue import GOVERNMENT_SOURCES, PERIOD_NAMES, ExportSpec


@dataclass
class ExportForm:
    spec: ExportSpec
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls, spec: ExportSpec, year_start: int) -> ExportForm:
        values = {"year": str(year_start), "period": "FY"}
        return cls(spec, values)

    @classmethod
    def from_args(cls, spec: ExportSpec, args: Mapping[str, str], errors: dict[str, str]) -> ExportForm:
        return cls(spec, {name: args.get(name, "") for name in ("year", "period", "source")}, errors)

    def field_id(self, name: str) -> str:
        return f"{self.spec.key}-{name}"

    def error_summary(self) -> dict[str, str]:
        """Anchor -> message for the page's error summary, in the order the fields appear."""
        return {self.field_id(name): self.errors[name] for name in ("source", "year", "period") if name in self.errors}

    def _select(self, name: str, label: str, options: list[tuple[str, str]], hint: str | None = None,
                placeholder: str | None = None) -> dict[str, Any]:
        chosen = self.values.get(name, "")
        items: list[dict[str, Any]] = [{"value": "", "text": placeholder}] if placeholder else []
        items += [{"value": value, "text": text, "selected": value == chosen} for value, text in options]
        params: dict[str, Any] = {"id": self.field_id(name), "name": name, "label": {"text": label}, "items": items}
        if hint:
            params["hint"] = {"text": hint}
        if name in self.errors:
            params["errorMessage"] = {"text": self.errors[name]}
        return params

    def selects(self, years: list[int]) -> list[dict[str, Any]]:
        """Select parameters (govukSelect's, written by templates/_select.html) for each field this export asks for."""
        fields = []
        if self.spec.needs_source:
            fields.append(self._select(
                "source", "Government department", [(s, FUNDING_SOURCES[s]) for s in GOVERNMENT_SOURCES],
                placeholder="Choose a department"))
        fields.append(self._select("year", "Financial year", [(str(y), financial_year_label(y)) for y in years]))
        if not self.spec.whole_year_only:
            hint = ("Ministry of Justice returns are six-monthly (H1, H2); Home Office returns are quarterly "
                    "(Q1 to Q4). Either may be for the whole year." if self.spec.needs_source else None)
            fields.append(self._select("period", "Period", [(p, PERIOD_NAMES[p]) for p in self.spec.periods],
                                       hint=hint))
        return fields
