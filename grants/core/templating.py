"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app
from wtforms import Form

from grants.core.dates import format_date, format_datetime, format_month, today
from grants.core.files import format_size, kind_name
from grants.core.lifecycle import REGISTRY, State, event_label
from grants.core.money import format_money


def _field_errors(field: Any) -> Iterator[dict[str, str]]:
    """One field's errors, each linking to its input (a date field's day box; each entry of a list of forms)."""
    if field.type != "FieldList":
        href = f"#{field.id}-day" if field.type in ("DateField", "GovDateField") else f"#{field.id}"
        for message in field.errors:
            yield {"text": message, "href": href}
        return
    for entry in field.entries:
        for sub in getattr(entry, "form", [entry]):
            for message in sub.errors:
                yield {"text": message, "href": f"#{sub.id}"}
    if field.errors and not any(isinstance(e, dict) for e in field.errors):
        for message in [e for e in field.errors if isinstance(e, str)]:
            yield {"text": message, "href": f"#{field.id}"}


def error_list(form: Form | None, extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The error summary's list: each error links to its field (date fields to their day box)."""
    items = [item for field in (form if form is not None else []) for item in _field_errors(field)]
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


def status_of(record: Any) -> State:
    """A record's state as people read it today (name and tag colour), from its lifecycle."""
    return REGISTRY[type(record).__tablename__].shown(record, today())


def actor_name(event: Any, viewer: Any) -> str:
    """Who made a change, as this viewer may know it: grantees see "OPCC" for the OPCC's staff."""
    if event.actor is None:
        return "System"
    if viewer.role == "applicant" and event.actor.role != "applicant":
        return "OPCC"
    return str(event.actor.name)


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["month"] = format_month
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["file_size"] = format_size
    app.jinja_env.filters["file_kind"] = kind_name
    app.jinja_env.globals["error_list"] = error_list
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["status_of"] = status_of
    app.jinja_env.globals["actor_name"] = actor_name
    from grants.assessment.lifecycle import DECISION_NAMES
    from grants.bids.rules import THEMES
    from grants.core.models import BUDGET_KINDS, RAG_RATINGS
    from grants.monitoring.measures import show_value

    app.jinja_env.globals["DECISION_NAMES"] = DECISION_NAMES
    app.jinja_env.globals["RAG_RATINGS"] = RAG_RATINGS
    app.jinja_env.globals["BUDGET_KINDS"] = BUDGET_KINDS
    app.jinja_env.globals["show_value"] = show_value
    app.jinja_env.globals["event_label"] = event_label
    app.jinja_env.globals["THEMES"] = THEMES

    @app.context_processor
    def service() -> dict[str, Any]:
        return {"service_name": app.config["SERVICE_NAME"]}
