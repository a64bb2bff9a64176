"""Checks of the checking: axe-core really runs and reports, and errors in the browser are noticed."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import axe_violations, format_violations

pytestmark = pytest.mark.browser


def test_axe_reports_a_planted_problem(page, browser_errors) -> None:  # type: ignore[no-untyped-def]
    """Guards against a silently broken harness: a page with known faults must fail."""
    page.goto("/sign-in")
    page.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<img src="/static/missing.png" id="planted-img"><input type="text" id="planted-input">')""")
    violations = axe_violations(page)
    ids = {v["id"] for v in violations}
    assert {"image-alt", "label"} <= ids, ids
    message = format_violations(violations)
    assert re.search(r"- image-alt \(critical\): Images must have alternative text", message), message
    assert "target: #planted-img" in message and "target: #planted-input" in message
    browser_errors.clear()  # the planted image is missing on purpose


def test_browser_errors_are_caught(page, browser_errors) -> None:  # type: ignore[no-untyped-def]
    """Every browser test fails if a page logs an error; here an inline style, which the CSP refuses."""
    page.goto("/sign-in")
    page.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend', '<p style="color: red">x</p>')""")
    page.wait_for_timeout(100)
    assert any("Content Security Policy" in error for error in browser_errors), browser_errors
    browser_errors.clear()

