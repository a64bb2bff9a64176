"""Jinja filters and globals shared by every template."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app
from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import FieldList, Form, FormField

from grants.core.dates import format_date, format_datetime, format_month, today
from grants.core.files import format_size, kind_name
from grants.core.lifecycle import REGISTRY, State, event_label, event_note
from grants.core.money import format_money
from grants.core.tables import label_cells


def _first_input_id(field: Any) -> str:
    """The id of the first box a person types or chooses in for this field: what an error summary links to.

    A date's day box (or the first box left empty), a list's first entry, a group of fields' first field; radios
    and checkboxes give their first option the field's own id."""
    if isinstance(field, FieldList):
        return _first_input_id(field.entries[0]) if field.entries else str(field.id)
    if isinstance(field, FormField):
        first = next(iter(field.form), None)
        return _first_input_id(first) if first is not None else str(field.id)
    if isinstance(field.widget, GovDateInput):
        parts = list(field.raw_data or [])
        missing = [part for part, value in zip(("day", "month", "year"), parts, strict=False) if not str(value).strip()]
        # The first empty box when only some were filled in ("must include a month"), else the day.
        return f"{field.name}-{missing[0] if missing and len(missing) < 3 else 'day'}"
    return str(field.id)


def _field_errors(field: Any) -> Iterator[dict[str, str]]:
    """One field's errors as the summary lists them, each linking to the box it is about.

    A list of forms (a FieldList of FormFields, however subclassed) gives each entry's own fields' messages,
    linked to those fields; its own messages are only the strings among its errors (the rest are its entries'
    error dicts, already listed)."""
    if isinstance(field, FieldList):
        for entry in field.entries:
            yield from _field_errors(entry)
        for message in field.errors:
            if isinstance(message, str):
                yield {"text": message, "href": f"#{_first_input_id(field)}"}
        return
    if isinstance(field, FormField):
        for sub in field.form:
            yield from _field_errors(sub)
        return
    for message in field.errors:
        if isinstance(message, str):
            yield {"text": message, "href": f"#{_first_input_id(field)}"}


def error_list(form: Form | None, extra: dict[str, str] | None = None, page: str | None = None) -> list[dict[str, str]]:
    """The error summary's list: each error links to its field (date fields to their day box), and `extra`
    (anchor -> message) adds problems that belong to no single field.

    Given the page's content as drawn, the list follows the order of what it links to on the page, as GOV.UK
    asks, whatever order the form declares its fields in or the extra problems come in; anything the page does
    not show keeps its place at the end."""
    items = [item for field in (form if form is not None else []) for item in _field_errors(field)]
    for anchor, message in (extra or {}).items():
        items.append({"text": message, "href": f"#{anchor}"})
    if page:
        def position(item: dict[str, str]) -> int:
            # An id attribute, not the end of another (data-testid="...").
            found = re.search(rf'(?<![\w-])id="{re.escape(item["href"][1:])}"', page)
            return found.start() if found else len(page)

        items.sort(key=position)  # stable: two messages for one box keep their order
    return items


NAV_BY_ROLE: dict[str, list[tuple[str, str]]] = {
    "applicant": [("dashboards.index", "Home"), ("bids.index", "Your bids"), ("bids.start", "Start a bid"), ("agreements.index", "Agreements"),
                  ("monitoring.index", "Monitoring"), ("notifications.index", "Notifications")],
    "officer": [("dashboards.index", "Home"), ("assessment.index", "Bids"), ("agreements.index", "Agreements"), ("monitoring.index", "Monitoring"),
                ("finance.index", "Reports"), ("notifications.index", "Notifications")],
    "approver": [("dashboards.index", "Home"), ("assessment.index", "Bids"), ("agreements.index", "Agreements"), ("finance.index", "Reports"),
                 ("notifications.index", "Notifications")],
    "finance": [("dashboards.index", "Home"), ("finance.index", "Finance"), ("agreements.index", "Agreements"), ("assessment.index", "Bids"),
                ("monitoring.index", "Monitoring"), ("notifications.index", "Notifications")],
    "admin": [
        ("dashboards.index", "Home"),
        ("admin.index", "Administration"),
        ("admin.funds", "Funds"),
        ("admin.organisations", "Organisations"),
        ("admin.users", "Users"),
        ("finance.index", "Reports"),
        ("notifications.index", "Notifications"),
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
    app.jinja_env.filters["dict_without"] = lambda values, key: {k: v for k, v in values.items() if k != key}
    app.jinja_env.filters["label_cells"] = label_cells
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
    app.jinja_env.globals["event_note"] = event_note
    app.jinja_env.globals["THEMES"] = THEMES

    @app.context_processor
    def service() -> dict[str, Any]:
        return {"service_name": app.config["SERVICE_NAME"]}
