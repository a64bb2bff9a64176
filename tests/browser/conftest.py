"""Browser fixtures: a live server on a seeded database, headless Chromium, axe-core and screenshots.

Each pytest process (each xdist worker) starts its own server on a free port with its own SQLite file,
seeded with the demo data, so workers never share state. CSRF protection is on, as in production.
Tests share one server per process, so each test makes the records it needs (unique titles).
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import update
from werkzeug.serving import WSGIRequestHandler, make_server

from grants import create_app
from grants.core.config import PROJECT_ROOT
from grants.core.extensions import db
from grants.core.models import User
from grants.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = PROJECT_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TIMEOUT_MS = 15_000

APPLICANT = "applicant@fenland-csp.example"
OTHER_APPLICANT = "applicant@cambridge-csp.example"
OFFICER = "officer@opcc.example"
APPROVER = "approver@opcc.example"
FINANCE = "finance@opcc.example"
ADMIN = "admin@opcc.example"


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("tests.browser.artifacts")  # no-op if already loaded


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig: pytest.Config) -> Path:
    """This run's folder for screenshots; made when the first picture is saved."""
    from tests.browser.artifacts import screenshot_folder  # loaded as a plugin by pytest_configure above

    return screenshot_folder(pytestconfig)


# --- the live server ----------------------------------------------------------------------------------------

@dataclass
class LiveServer:
    app: Flask
    url: str

    def endpoints(self) -> set[str]:
        return {rule.endpoint for rule in self.app.url_map.iter_rules()}


class QuietHandler(WSGIRequestHandler):
    """Logs errors only, not every request (the test output stays readable)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


LIVE_APPS: list[Flask] = []  # the server's app, for codes from the staff's authenticator


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("browser")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/browser.db", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.remove()
    LIVE_APPS.append(app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


# --- the browser --------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: the browser tests need it. Install the Debian package "
                    "'chromium' (scripts/system-deps.sh, run by `make test`) or set CHROMIUM_PATH.", pytrace=False)
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core not found at {AXE_JS}: run `make frontend` (npm ci in frontend/).", pytrace=False)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - report why, plainly
            pytest.fail(f"Could not launch {CHROMIUM} with Playwright: {exc}", pytrace=False)
        yield chromium
        chromium.close()


def new_context(browser: Any, live_server: LiveServer, **options: Any) -> Any:
    options = {"viewport": {"width": 1280, "height": 900}, **options}
    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Europe/London", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture()
def context(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser profile (no cookies) per test."""
    ctx = new_context(browser, live_server)
    yield ctx
    ctx.close()


@pytest.fixture()
def browser_errors() -> list[str]:
    """Script errors and Content-Security-Policy refusals seen by this test's pages (a test that plants a
    fault on purpose may clear it)."""
    return []


def watch_errors(pg: Any, errors: list[str]) -> Any:
    pg.on("console", lambda msg: errors.append(f"{pg.url}: {msg.text}") if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(f"{pg.url}: {exc}"))
    return pg


def _check_errors(request: pytest.FixtureRequest, errors: list[str]) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed and errors:
        pytest.fail("The browser reported errors (script errors, or things the Content-Security-Policy "
                    "refused, such as an inline style attribute):\n" + "\n".join(errors), pytrace=False)


@pytest.fixture()
def page(context: Any, request: pytest.FixtureRequest, screenshot_dir: Path, browser_errors: list[str]) -> Iterator[Any]:
    """A page in a fresh profile; the test fails if any page it visits logs an error in the browser."""
    pg = watch_errors(context.new_page(), browser_errors)
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not pg.is_closed():
        try:
            screenshot_dir.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(screenshot_dir / f"FAILED-{request.node.name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a failed picture must not hide the real failure
            pass
    _check_errors(request, browser_errors)


@pytest.fixture()
def nojs_page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest,
              browser_errors: list[str]) -> Iterator[Any]:
    """A page in a context with JavaScript switched off."""
    ctx = new_context(browser, live_server, java_script_enabled=False)
    yield watch_errors(ctx.new_page(), browser_errors)
    ctx.close()
    _check_errors(request, browser_errors)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]


# --- helpers the tests call ---------------------------------------------------------------------------------

@pytest.fixture()
def shot(screenshot_dir: Path):  # type: ignore[no-untyped-def]
    """shot(page, "bid-edit") saves a full-page PNG in this run's folder."""

    def _shot(pg: Any, name: str) -> Path:
        screenshot_dir.mkdir(parents=True, exist_ok=True)
        path = screenshot_dir / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact') or 'unknown impact'}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            target = " ".join(json.dumps(t) if not isinstance(t, str) else t for t in node["target"])
            lines.append(f"    target: {target}")
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def axe_violations(pg: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now and return its violations.

    page.add_script_tag(path=...) adds an inline <script>, which the application's Content-Security-Policy
    (script-src 'self') refuses, and the tests should see pages with the headers users get (no bypass_csp).
    So axe's source is evaluated through the DevTools protocol, which the CSP does not govern."""
    if not pg.evaluate("() => typeof window.axe !== 'undefined'"):
        pg.evaluate(_axe_source() + "\n;undefined")
    result = pg.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return r.violations;
        }""",
        AXE_TAGS,
    )
    return list(result)


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def preload_axe(context: Any) -> None:
    """Load axe-core into every page of the context as it opens (not sent again for each page checked): for tests
    that check many pages."""
    context.add_init_script(script=_axe_source())


def assert_accessible(pg: Any, where: str) -> None:
    violations = axe_violations(pg)
    assert not violations, f"axe-core found accessibility problems on {where} ({pg.url}):\n{format_violations(violations)}"


def fits(pg: Any) -> bool:
    """No sideways scrolling: the page is no wider than the window."""
    return bool(pg.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def too_wide(pg: Any) -> list[str]:
    """What sticks out past the right edge of the window (the innermost elements, up to five), to say why a page
    does not fit: "table.govuk-table 767px"."""
    return list(pg.evaluate("""() => {
        const limit = window.innerWidth, found = [];
        for (const el of document.body.querySelectorAll("*")) {
            const box = el.getBoundingClientRect();
            if (box.width === 0 || box.right <= limit + 0.5) continue;
            // A part of something that scrolls inside its own box does not widen the page.
            let inside = false;
            for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
                const overflow = getComputedStyle(up).overflowX;
                if (overflow === "auto" || overflow === "scroll" || overflow === "hidden") { inside = true; break; }
            }
            if (inside) continue;
            if ([...el.children].some(child => child.getBoundingClientRect().right > limit + 0.5)) continue;
            const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                [...el.classList].slice(0, 2).map(c => "." + c).join("");
            found.push(`${name} ${Math.round(box.right)}px`);
        }
        return found.slice(0, 5);
    }"""))


def error_summary(pg: Any) -> list[str]:
    """The problems listed in the page's error summary, once the page showing it has loaded."""
    expect(pg.locator(".govuk-error-summary")).to_be_visible()
    return [t.strip() for t in pg.locator(".govuk-error-summary__list a").all_inner_texts()]


def sign_in(pg: Any, email: str, password: str = DEMO_PASSWORD, *,
            at_second_step: Callable[[], None] | None = None) -> None:
    """Sign in as a demo user: the password, then (staff) a code from the demo authenticator key.
    at_second_step, if given, runs on the security-code page before the code is typed, and leaves the browser
    there."""
    pg.goto("/sign-in")
    pg.fill("#email", email)
    pg.fill("#password", password)
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_load_state()
    if pg.url.endswith("/sign-in/code"):
        if at_second_step is not None:
            at_second_step()
        pg.fill("#code", authenticator_code(email))
        pg.get_by_role("button", name="Continue").click()
    expect(pg.locator("[data-testid=signed-in-as]"), f"sign-in as {email} failed").to_have_count(1)


def authenticator_code(email: str, secret: str = DEMO_TOTP_SECRET) -> str:
    """The authenticator's code now (the demo staff's key unless another is given). Each code is accepted once, so the server's record of the last
    one used is cleared first: as if the next code had come round."""
    with LIVE_APPS[-1].app_context():
        db.session.execute(update(User).where(User.email == email).values(totp_last_step=None))
        db.session.commit()
        db.session.remove()
    return pyotp.TOTP(secret).now()


def sign_out(pg: Any) -> None:
    pg.get_by_role("button", name="Sign out").click()
    pg.wait_for_url(re.compile(r"/sign-in$"))


def unique(title: str) -> str:
    """A title no other test on this server will use."""
    return f"{title} {os.getpid()}-{time.monotonic_ns() % 10**9}"


def start_bid(pg: Any, fund: str = "Safer Communities Fund") -> int:
    """From anywhere signed in as an applicant: start a bid to the fund; returns the new bid's id."""
    pg.goto("/bids/start")
    pg.get_by_role("radio", name=re.compile(rf"^{re.escape(fund)} \d{{4}}-\d{{2}}:")).check()
    pg.get_by_role("button", name="Start bid").click()
    pg.wait_for_url(re.compile(r"/bids/\d+/edit$"))
    return int(pg.url.rstrip("/").split("/")[-2])


def fill_date(pg: Any, field: str, value: Any) -> None:
    pg.fill(f"#{field}-day", str(value.day))
    pg.fill(f"#{field}-month", str(value.month))
    pg.fill(f"#{field}-year", str(value.year))


def fill_bid(pg: Any, *, title: str, start: Any, end: Any, lines: list[tuple[str, str]],
             declaration: bool = True) -> None:
    """Fill every answer on the bid form (the edit page must be open)."""
    pg.fill("#title", title)
    pg.fill("#local_issue", "Bike theft near Wisbech station has doubled since spring.")
    pg.fill("#activities", "Four cycle-marking events with the neighbourhood police team.")
    pg.fill("#location", "Wisbech North")
    pg.get_by_label("Bike theft", exact=True).check()
    fill_date(pg, "start_date", start)
    fill_date(pg, "end_date", end)
    pg.fill("#outputs", "200 bikes marked")
    pg.fill("#outcomes", "Fewer bike thefts reported over the next six months")
    for i, (item, amount) in enumerate(lines):
        pg.fill(f"#budget_lines-{i}-item", item)
        pg.fill(f"#budget_lines-{i}-amount", amount)
    pg.fill("#other_funding", "None")
    if declaration:
        pg.locator("#declaration").check()
