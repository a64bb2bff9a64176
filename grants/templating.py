"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, current_app
from wtforms import Form

from grants.decisions import DECISION_NAMES
from grants.money import format_money
from grants.periods import LONDON
from grants.workflow import STATUS_COLOURS, STATUS_NAMES


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{value.day} {value:%B %Y}"


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


def error_list(form: Form | None, extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The error summary's list: each error links to its field (date fields to their day box)."""
    items: list[dict[str, str]] = []
    if form is None:
        form = []  # type: ignore[assignment]

    def target(field: Any) -> str:
        if field.type in ("DateField", "GovDateField"):
            return f"#{field.id}-day"
        return f"#{field.id}"

    for field in form:
        if field.type == "FieldList":
            for entry in field.entries:
                for sub in getattr(entry, "form", [entry]):
                    for message in sub.errors:
                        items.append({"text": message, "href": f"#{sub.id}"})
            if field.errors and not any(isinstance(e, dict) for e in field.errors):
                for message in [e for e in field.errors if isinstance(e, str)]:
                    items.append({"text": message, "href": f"#{field.id}"})
            continue
        for message in field.errors:
            items.append({"text": message, "href": target(field)})
    for anchor, message in (extra or {}).items():
        items.append({"text": message, "href": f"#{anchor}"})
    return items


NAV_BY_ROLE: dict[str, list[tuple[str, str]]] = {
    "applicant": [("bids.index", "Your bids"), ("bids.start", "Start a bid"), ("agreements.index", "Agreements"),
                  ("monitoring.index", "Monitoring")],
    "officer": [("assessment.index", "Bids"), ("agreements.index", "Agreements"), ("monitoring.index", "Monitoring"),
                ("finance.index", "Reports")],
    "approver": [("assessment.index", "Bids"), ("agreements.index", "Agreements"), ("finance.index", "Reports")],
    "finance": [("finance.index", "Finance"), ("agreements.index", "Agreements"), ("assessment.index", "Bids"),
                ("monitoring.index", "Monitoring")],
    "admin": [
        ("admin.index", "Administration"),
        ("admin.funds", "Funds"),
        ("admin.organisations", "Organisations"),
        ("admin.users", "Users"),
        ("finance.index", "Reports"),
    ],
}


def nav_items(user: Any) -> list[tuple[str, str]]:
    return [(endpoint, text) for endpoint, text in NAV_BY_ROLE.get(user.role, []) if endpoint in current_app.view_functions]


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.globals["STATUS_NAMES"] = STATUS_NAMES
    app.jinja_env.globals["STATUS_COLOURS"] = STATUS_COLOURS
    app.jinja_env.globals["error_list"] = error_list
    app.jinja_env.globals["DECISION_NAMES"] = DECISION_NAMES
    app.jinja_env.globals["nav_items"] = nav_items
    from grants import agreement_rules, payment_rules
    from grants.audit import event_label
    from grants.bid_rules import THEMES

    app.jinja_env.globals["AGREEMENT_STATUS_NAMES"] = agreement_rules.STATUS_NAMES
    app.jinja_env.globals["AGREEMENT_STATUS_COLOURS"] = agreement_rules.STATUS_COLOURS
    app.jinja_env.globals["PAYMENT_STATUS_NAMES"] = payment_rules.STATUS_NAMES
    app.jinja_env.globals["PAYMENT_STATUS_COLOURS"] = payment_rules.STATUS_COLOURS
    app.jinja_env.globals["event_label"] = event_label
    app.jinja_env.globals["THEMES"] = THEMES

    @app.context_processor
    def service() -> dict[str, Any]:
        return {"service_name": app.config["SERVICE_NAME"]}
