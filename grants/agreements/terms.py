"""What an agreement's terms and an acceptance must hold: shared by agreements and their variations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class AgreementTerms:
    start_date: date | None
    end_date: date | None
    special_conditions: str


def terms_problems(terms: AgreementTerms) -> dict[str, str]:
    problems: dict[str, str] = {}
    if terms.start_date is None:
        problems["start_date"] = "Enter the start date"
    if terms.end_date is None:
        problems["end_date"] = "Enter the end date"
    if terms.start_date and terms.end_date and terms.end_date < terms.start_date:
        problems["end_date"] = "The end date must be the same as or after the start date"
    return problems


def acceptance_problems(name: str, role: str, confirmed: bool) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not name.strip():
        problems["accepted_name"] = "Enter your full name"
    if not role.strip():
        problems["accepted_role"] = "Enter your role in the organisation"
    if not confirmed:
        problems["confirm"] = "Confirm that you accept the conditions on behalf of your organisation"
    return problems
