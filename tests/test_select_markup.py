"""templates/_select.html writes what govukSelect writes, for every kind of parameters the finance forms give."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from grants.finance.catalogue import EXPORTS
from grants.finance.forms import ExportForm


def _normalised(html: str) -> str:
    """The markup with the whitespace between and around elements removed, which a browser does not show."""
    html = re.sub(r"\s+", " ", html)
    return re.sub(r"\s*(<[^>]*>)\s*", r"\1", html).strip()


def _both(app: Flask, params: dict[str, Any]) -> tuple[str, str]:
    theirs = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/select/macro.html" import govukSelect %}{{ govukSelect(p) }}')
    ours = app.jinja_env.from_string('{% from "_select.html" import select %}{{ select(p) }}')
    return _normalised(theirs.render(p=params)), _normalised(ours.render(p=params))


def _forms() -> list[ExportForm]:
    found = []
    for spec in EXPORTS.values():
        found.append(ExportForm.blank(spec, 2025))
        found.append(ExportForm.from_args(spec, {"year": "1999", "period": "Q9", "source": "nope <b>"},
                                          {"year": "Choose a financial year", "period": "Choose a period <i>",
                                           "source": "Choose a department"}))
    return found


@pytest.mark.parametrize("form", _forms(), ids=lambda f: f"{f.spec.name}-{'errors' if f.errors else 'blank'}")
def test_the_same_markup_as_govuk_select(app: Flask, form: ExportForm) -> None:
    selects = form.selects([2026, 2025, 2024])
    assert selects
    for params in selects:
        theirs, ours = _both(app, params)
        assert ours == theirs
        assert ("govuk-form-group--error" in ours) == ("errorMessage" in params)
        assert ("-hint" in ours) == ("hint" in params)
        if "<i>" in params.get("errorMessage", {}).get("text", ""):
            assert "&lt;i&gt;" in ours and "<i>" not in ours  # text is escaped
