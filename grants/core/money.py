"""Money as integer pence: parsing what people type, and showing it."""

from __future__ import annotations

import re

from exports.formats import format_money as format_money  # one definition, shared with the PDF builder

_MONEY = re.compile(r"^£?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
# £1,000,000,000: above any fund's budget, however large the force. Money columns are 64-bit, so totals of
# any number of such amounts still fit.
MAX_PENCE = 100_000_000_000


class MoneyError(ValueError):
    """Raised with a message fit to show next to the field."""


def parse_money(text: str | None) -> int:
    """Turn "5000", "£5,000" or "5,000.50" into pence; refuse anything else."""
    cleaned = (text or "").strip().replace(" ", "")
    if not cleaned:
        raise MoneyError("Enter an amount")
    if cleaned.startswith("-") or cleaned.startswith("£-"):
        raise MoneyError("Amount must not be negative")
    match = _MONEY.match(cleaned)
    if not match:
        if re.match(r"^£?[\d,]+\.\d{3,}$", cleaned):
            raise MoneyError("Amount must not have more than two decimal places (pence)")
        raise MoneyError("Enter an amount in pounds, like 5000 or £5,000.50")
    pounds = int(match.group(1).replace(",", ""))
    pence = int((match.group(2) or "0").ljust(2, "0"))
    total = pounds * 100 + pence
    if total > MAX_PENCE:
        raise MoneyError(f"Amount must be {format_money(MAX_PENCE)} or less")
    return total


def money_input_value(pence: int | None) -> str:
    """Pence as an editable form value, grouped as people read it: "3,650" for whole pounds (GOV.UK's style: no
    ".00" unless there are pence), "3,650.50" otherwise. No "£": the box has its own prefix. parse_money reads
    it back unchanged, as it does format_money's "£3,650.00"."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}{pounds:,}.{rem:02d}" if rem else f"{sign}{pounds:,}"
