"""Outcome measures: reading an answer in a measure's unit, showing it, adding answers up across returns,
and the standard sets an OPCC starts from."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.models import Fund, MeasureValue, OutcomeMeasure, User, utcnow
from grants.core.money import MoneyError, format_money, money_input_value, parse_money
from grants.core.refusals import Refused

MAX_COUNT = 1_000_000_000
_WHOLE = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")
YES_NO = {"yes": 1, "no": 0}


def parse_value(unit: str, text: str, name: str) -> int:
    """An answer in the measure's unit: a count, a whole percentage, pence, or 1 (yes) / 0 (no).

    Raises ValueError with a message fit to show beside the field."""
    cleaned = text.strip()
    if unit == "money":
        try:
            return parse_money(cleaned)
        except MoneyError as exc:
            raise ValueError(f"{name}: {str(exc)[0].lower()}{str(exc)[1:]}") from None
    if unit == "yes_no":
        if cleaned.lower() not in YES_NO:
            raise ValueError(f"Select yes or no for {name.lower()}")
        return YES_NO[cleaned.lower()]
    if unit == "percentage":
        number = cleaned.removesuffix("%").strip()
        if not number.isdigit() or not 0 <= int(number) <= 100:
            raise ValueError(f"{name} must be a whole percentage from 0 to 100, like 75")
        return int(number)
    if not _WHOLE.match(cleaned) or int(cleaned.replace(",", "")) > MAX_COUNT:
        raise ValueError(f"{name} must be a whole number, like 12")
    return int(cleaned.replace(",", ""))


def input_text(unit: str, value: int | None) -> str:
    """A stored answer as the form shows it for editing."""
    if value is None:
        return ""
    if unit == "money":
        return money_input_value(value)
    if unit == "yes_no":
        return "yes" if value else "no"
    return str(value)


def show_value(unit: str, value: int | None) -> str:
    """A stored answer as people read it."""
    if value is None:
        return ""
    if unit == "money":
        return format_money(value)
    if unit == "percentage":
        return f"{value}%"
    if unit == "yes_no":
        return "Yes" if value else "No"
    return f"{value:,}"


def combine(unit: str, values: Iterable[int]) -> int | None:
    """Several periods' answers as one figure for a longer period, as the unit defines: counts and money add
    up; a percentage or a yes/no is the latest period's (values come oldest first)."""
    listed = list(values)
    if not listed:
        return None
    return sum(listed) if unit in ("count", "money") else listed[-1]


def measures_for(fund: Fund, answered: Iterable[MeasureValue] = ()) -> list[OutcomeMeasure]:
    """The measures a return asks: the fund's current ones, and any retired one it has already answered."""
    answered_ids = {v.measure_id for v in answered}
    return [m for m in fund.measures if m.retired_at is None or m.id in answered_ids]


def has_answers(measure: OutcomeMeasure) -> bool:
    return db.session.scalar(select(MeasureValue.id).where(MeasureValue.measure_id == measure.id).limit(1)) is not None


@dataclass
class MeasureInput:
    name: str
    guidance: str
    unit: str
    required: bool
    category: str


def measure_problems(fund: Fund, data: MeasureInput, editing: OutcomeMeasure | None = None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not data.name.strip():
        problems["name"] = "Enter the name of the measure"
    elif len(data.name.strip()) > 200:
        problems["name"] = "The name must be 200 characters or fewer"
    elif any(m.name.lower() == data.name.strip().lower() and m is not editing for m in fund.measures):
        problems["name"] = f"{fund.name} already has a measure called {data.name.strip()}"
    if data.unit not in ("count", "percentage", "money", "yes_no"):
        problems["unit"] = "Select the unit"
    if len(data.category.strip()) > 100:
        problems["category"] = "The category must be 100 characters or fewer"
    return problems


def add_measure(fund: Fund, admin: User, data: MeasureInput) -> tuple[OutcomeMeasure | None, dict[str, str]]:
    problems = measure_problems(fund, data)
    if problems:
        return None, problems
    position = max((m.position for m in fund.measures), default=0) + 1
    measure = OutcomeMeasure(fund_id=fund.id, name=data.name.strip(), guidance=data.guidance.strip(), unit=data.unit,
                             required=data.required, category=data.category.strip(), position=position)
    db.session.add(measure)
    fund.measures.append(measure)
    record_event(admin, "outcome_measure.created", measure, note=f"{fund.name}: {measure.name}")
    return measure, {}


def change_measure(measure: OutcomeMeasure, admin: User, data: MeasureInput) -> dict[str, str]:
    """Change a measure nobody has answered yet; an answered one keeps its meaning, so it is retired instead."""
    if has_answers(measure):
        raise Refused("Returns have answered this measure, so it cannot be changed: retire it and add a new one. "
                      "No change has been made.")
    problems = measure_problems(measure.fund, data, editing=measure)
    if problems:
        return problems
    measure.name, measure.guidance, measure.unit = data.name.strip(), data.guidance.strip(), data.unit
    measure.required, measure.category = data.required, data.category.strip()
    record_event(admin, "outcome_measure.updated", measure, note=measure.name)
    return {}


def retire_measure(measure: OutcomeMeasure, admin: User) -> None:
    if measure.retired_at is not None:
        raise Refused("This measure is already retired. No change has been made.")
    measure.retired_at = utcnow()
    record_event(admin, "outcome_measure.retired", measure, note=measure.name)


def delete_measure(measure: OutcomeMeasure, admin: User) -> None:
    if has_answers(measure):
        raise Refused("Returns have answered this measure, so it cannot be deleted: retire it instead. "
                      "No change has been made.")
    record_event(admin, "outcome_measure.deleted", measure, note=measure.name)
    db.session.delete(measure)


# Starting points the OPCC edits to match each department's current template.
VICTIM_NEEDS = (
    "mental and physical health", "shelter and accommodation", "family, friends and children",
    "education, skills and employment", "drugs and alcohol", "finance and benefits", "outlook and attitudes",
    "social interaction",
)
STANDARD_SETS: dict[str, tuple[str, list[MeasureInput]]] = {
    "moj-victims": ("Ministry of Justice victims' services", [
        MeasureInput("Victims referred", "Victims referred to the service in the period.", "count", True, "Referrals"),
        MeasureInput("Victims supported", "Victims who received support in the period.", "count", True, "Support"),
        *[MeasureInput(f"Victims supported: {need}", f"Victims supported in the period whose need was {need}.",
                       "count", True, "Support by need") for need in VICTIM_NEEDS],
        MeasureInput("Victims who report being better able to cope and recover",
                     "Of the victims whose support ended in the period, how many say they are better able to cope "
                     "and recover: the outcome PCCs report to the Ministry of Justice.", "count", True, "Outcomes"),
    ]),
    "home-office-crime": ("Home Office crime reduction", [
        MeasureInput("People reached by interventions", "People who took part in or received an intervention.",
                     "count", True, "Outputs"),
        MeasureInput("Homes or places made safer", "Homes, streets or public places where security was improved.",
                     "count", True, "Outputs"),
        MeasureInput("Sessions delivered", "Sessions, patrols or events delivered.", "count", True, "Outputs"),
        MeasureInput("Participants reporting feeling safer", "Share of participants asked who say they feel safer.",
                     "percentage", False, "Outcomes"),
        MeasureInput("Delivered to plan", "Was the work in the period delivered as planned?", "yes_no", True,
                     "Delivery"),
    ]),
}


def load_standard_set(fund: Fund, set_key: str, admin: User | None) -> int:
    """Add a standard set's measures the fund does not have yet (by name); returns how many were added."""
    _title, measures = STANDARD_SETS[set_key]
    have = {m.name.lower() for m in fund.measures}
    added = 0
    for data in measures:
        if data.name.lower() in have:
            continue
        position = max((m.position for m in fund.measures), default=0) + 1
        measure = OutcomeMeasure(fund_id=fund.id, name=data.name, guidance=data.guidance, unit=data.unit,
                                 required=data.required, category=data.category, position=position)
        fund.measures.append(measure)
        db.session.add(measure)
        record_event(admin, "outcome_measure.created", measure, note=f"{fund.name}: {measure.name} (standard set)")
        added += 1
    return added
