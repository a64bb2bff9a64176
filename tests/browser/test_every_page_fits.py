"""Every page, on a 320 px and a 375 px phone: no sideways scrolling (fits()) and no axe-core problems.

The pages come from app.url_map, not from a list kept here, so a page added later is checked without anyone
remembering to add it. For each identity (signed out, then each demo role) every GET route is tried with
records from the demo data filling its URL parameters, through the browser context's own request client (fast:
nothing is drawn); the first URL answering 200 with HTML is that identity's page for the route. Each identity
then opens its pages at each width, reusing one browser page per identity and width; a page checked already for
someone signed out, or for an earlier user of the same role, is not opened again.

Three pages are reached only in the middle of signing in, so they are checked on the way (SIGN_IN_STEPS). A
route that no identity can open, and that is neither a file (FILES) nor listed in SKIPPED with the reason,
fails test_every_get_route_is_checked_or_skipped by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import inspect, select
from werkzeug.routing import Rule

from grants.auth.rules import issue_reset_token
from grants.core.extensions import db
from grants.core.models import (
    AgreementVariation,
    BidDocument,
    ConditionsVersion,
    GrantAgreement,
    MonitoringReturn,
    OutboxEmail,
    OutcomeMeasure,
    ReturnEvidence,
    User,
)
from grants.demo import DEMO_PASSWORD
from tests.browser.conftest import (
    ADMIN,
    APPLICANT,
    APPROVER,
    FINANCE,
    OFFICER,
    OTHER_APPLICANT,
    LiveServer,
    axe_violations,
    fits,
    format_violations,
    new_context,
    preload_axe,
    sign_in,
    start_bid,
    too_wide,
    watch_errors,
)
from tests.browser.test_two_factor import new_officer

pytestmark = pytest.mark.browser

WIDTHS = (320, 375)
SIGNED_OUT = "signed-out"
# Who looks, in this order: signed out, then each demo role; the second applicant's organisation has a draft bid.
IDENTITIES = {SIGNED_OUT: None, "applicant": APPLICANT, "applicant-cambridge": OTHER_APPLICANT, "officer": OFFICER,
              "approver": APPROVER, "finance": FINANCE, "admin": ADMIN}

# Files, not pages: never opened here (their contents are tested where they are made). An entry may name a route
# before it lands.
FILES = {
    "static": "the stylesheet, scripts and images",
    "main.healthz": "plain text for the load balancer",
    "agreements.pdf": "the agreement as a PDF (tests/browser/test_after_award.py reads it)",
    "bids.document": "a supporting document as its owner sent it",
    "monitoring.evidence": "return evidence as its owner sent it",
    "finance.grants_register": "a spreadsheet",
    "finance.government_return": "a spreadsheet",
    "finance.payments": "a spreadsheet",
    "assessment.download": "the officers' bid list as a spreadsheet",
    "public.threesixty_json": "360Giving open data",
    "public.threesixty_xlsx": "360Giving open data",
    "spending.download_csv": "spending over £500 open data",
    "spending.download_xlsx": "spending over £500 open data",
}

# Pages no identity can open with the demo data as it stands, and why. Any of them that becomes reachable is
# checked like the others (say, the home page once it shows a dashboard rather than redirecting).
SKIPPED = {
    "main.index": "redirects each role to its start page, which is checked",
    "agreements.prepare": "every approved bid in the demo data has its agreement already",
    "agreements.edit": "the demo data has no draft agreement",
    "agreements.accept": "the demo data has no agreement waiting for the grantee's acceptance",
    "assessment.award": "the demo data has no bid in review or recommended",
    "monitoring.review": "the demo data has no submitted return",
    "bids.remove": "the demo data has no supporting documents",
    # test_after_award.py takes a variation through these pages on a 375 px phone.
    "variations.view": "the demo data has no variations",
    "variations.approve": "the demo data has no variations",
    "variations.refuse": "the demo data has no variations",
    "variations.withdraw": "the demo data has no variations",
    "variations.accept": "the demo data has no variations",
    "variations.decline": "the demo data has no variations",
}

# Reached only while signing in: checked on the way, for the identity named.
SIGN_IN_STEPS = {
    "auth.sign_in_code": "each member of staff's second step",
    "auth.sign_in_recovery": "each member of staff, before giving their code",
    "auth.sign_in_set_up": "a new member of staff's first sign-in, after the signed-out pages",
}

# A URL parameter and the model whose rows fill it, where the name does not say (`bid_id` -> the `bid` table).
PARAMETER_MODELS: dict[str, Any] = {
    "agreement_id": GrantAgreement, "variation_id": AgreementVariation, "return_id": MonitoringReturn,
    "evidence_id": ReturnEvidence, "document_id": BidDocument, "measure_id": OutcomeMeasure,
    "version_id": ConditionsVersion, "message_id": OutboxEmail,
}


def model_for(parameter: str) -> Any | None:
    """The model whose ids fill `parameter`: named above, else the one whose table is the name without `_id`."""
    if parameter in PARAMETER_MODELS:
        return PARAMETER_MODELS[parameter]
    if not parameter.endswith("_id"):
        return None
    table = parameter.removesuffix("_id")
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == table:
            return mapper.class_
    return None


def fillings(rule: Rule, reset_token: str) -> list[dict[str, Any]]:
    """The values that could fill the rule's URL parameters, from the database as it is now.

    With more than one parameter, rows of one parameter's model give the others from their own columns (an
    outcome measure's row gives its fund_id), so only parameters that belong together are tried."""
    parameters = sorted(rule.arguments)
    if not parameters:
        return [{}]
    if parameters == ["token"]:
        return [{"token": reset_token}]
    for lead in parameters:
        model = model_for(lead)
        if model is None:
            continue
        columns = {c.key for c in inspect(model).column_attrs}
        others = [p for p in parameters if p != lead]
        if all(p in columns for p in others):
            rows = db.session.scalars(select(model).order_by(model.id)).all()
            return [{lead: row.id, **{p: getattr(row, p) for p in others}} for row in rows]
    return []


def page_routes(app: Any) -> list[Rule]:
    """Every rule answering GET, except files."""
    return sorted((r for r in app.url_map.iter_rules() if "GET" in (r.methods or ()) and r.endpoint not in FILES),
                  key=lambda r: r.rule)


def sign_in_checking(pg: Any, email: str, check: Callable[[str, str], None]) -> None:
    """Sign in, checking the second-step pages on the way (check(endpoint, url))."""
    def second_step() -> None:
        check("auth.sign_in_code", "/sign-in/code")
        pg.goto("/sign-in/recovery-code")
        check("auth.sign_in_recovery", "/sign-in/recovery-code")
        pg.goto("/sign-in/code")

    sign_in(pg, email, at_second_step=second_step)


def signed_in_context(browser: Any, live_server: LiveServer, identity: str, width: int = 1280) -> Any:
    context = new_context(browser, live_server, viewport={"width": width, "height": 800})
    email = IDENTITIES[identity]
    if email is not None:
        sign_in(context.new_page(), email)
    return context


def reachable(context: Any, app: Any, reset_token: str) -> dict[str, str]:
    """endpoint -> the first URL of that route this context's user gets as an HTML page."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, str] = {}
    for rule in page_routes(app):
        with app.app_context():
            candidates = fillings(rule, reset_token)
            db.session.remove()
        for values in candidates:
            url = adapter.build(rule.endpoint, values)
            response = context.request.get(url, max_redirects=0)
            if response.status == 200 and response.headers.get("content-type", "").startswith("text/html"):
                found[rule.endpoint] = url
                break
            # Not this role's page at all: no other record will change that.
            if response.status == 403 or "/sign-in" in response.headers.get("location", ""):
                break
    return found


@pytest.fixture(scope="module")
def reset_token(live_server: LiveServer) -> str:
    """A password-reset link's token, for a new member of staff (no demo user's account is touched)."""
    email = new_officer()
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        token = issue_reset_token(user, 2)
        db.session.commit()
        db.session.remove()
    return token


@pytest.fixture(scope="module")
def plan(browser: Any, live_server: LiveServer, reset_token: str) -> dict[str, dict[str, str]]:
    """Each identity's pages: endpoint -> URL."""
    found = {}
    for identity in IDENTITIES:
        context = signed_in_context(browser, live_server, identity)
        try:
            found[identity] = reachable(context, live_server.app, reset_token)
        finally:
            context.close()
    return found


def test_every_get_route_is_checked_or_skipped(plan: dict[str, dict[str, str]], live_server: LiveServer) -> None:
    """A page someone adds is checked by the width tests below, or this fails until its reason is listed."""
    visited = set().union(*plan.values()) | set(SIGN_IN_STEPS)
    routes = {r.endpoint for r in live_server.app.url_map.iter_rules() if "GET" in (r.methods or ())}
    unexplained = sorted(routes - visited - set(FILES) - set(SKIPPED))
    assert not unexplained, (
        "These GET routes are not checked at phone widths: no identity could open them with the demo data. "
        f"Give the demo data a record that fills them, or list them in SKIPPED with the reason: {unexplained}")
    # The lists must not hide the pages people use most.
    for identity, endpoint in [("applicant", "bids.view"), ("officer", "assessment.bid"), ("admin", "admin.users"),
                               ("applicant", "monitoring.edit"), ("finance", "agreements.view"),
                               (SIGNED_OUT, "public.grant"), ("applicant", "auth.reset_password")]:
        assert endpoint in plan[identity], f"{identity} should reach {endpoint}: {sorted(plan[identity])}"


def own_pages(plan: dict[str, dict[str, str]], identity: str) -> dict[str, str]:
    """The pages this identity checks: its own, less those checked already by someone signed out (the public pages:
    the signed-in header on them is checked on every other page) or by an earlier identity of the same role."""
    role = identity.split("-")[0]
    earlier = list(IDENTITIES)[:list(IDENTITIES).index(identity)]
    seen = {endpoint for other in earlier if other == SIGNED_OUT or other.split("-")[0] == role for endpoint in plan[other]}
    return {endpoint: url for endpoint, url in plan[identity].items() if endpoint not in seen}


@pytest.fixture(params=[(identity, width) for identity in IDENTITIES for width in WIDTHS],
                ids=lambda p: f"{p[0]}-{p[1]}px")
def phone(request: pytest.FixtureRequest, browser: Any, live_server: LiveServer) -> Iterator[tuple[str, int, Any]]:
    """(identity, width, a context of that width); signed in through the pages checked on the way."""
    identity, width = request.param
    context = new_context(browser, live_server, viewport={"width": width, "height": 800})
    preload_axe(context)
    yield identity, width, context
    context.close()


def test_every_page_fits_a_phone_and_passes_axe(phone: tuple[str, int, Any], plan: dict[str, dict[str, str]],
                                                screenshot_dir: Any) -> None:
    identity, width, context = phone
    errors: list[str] = []
    problems: list[str] = []
    checked: list[str] = []
    pg = watch_errors(context.new_page(), errors)

    def check(endpoint: str, url: str) -> None:
        checked.append(endpoint)
        where = f"{endpoint} ({url}) as {identity} at {width} px"
        if not fits(pg):
            wide = pg.evaluate("() => document.documentElement.scrollWidth")
            problems.append(f"{where} scrolls sideways: {wide} px wide; sticking out: {too_wide(pg)}")
            screenshot_dir.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(screenshot_dir / f"too-wide-{identity}-{width}-{endpoint}.png"), full_page=True)
        violations = axe_violations(pg)
        if violations:
            problems.append(f"{where}: axe-core found\n{format_violations(violations)}")

    email = IDENTITIES[identity]
    if email is not None:
        sign_in_checking(pg, email, check)
        # Staff give a code from their authenticator; applicants have not set one up.
        assert checked == ([] if identity.startswith("applicant") else ["auth.sign_in_code", "auth.sign_in_recovery"])
    pages = own_pages(plan, identity)
    for endpoint, url in pages.items():
        response = pg.goto(url)
        assert response is not None and response.status == 200, f"{url} as {identity}: {response and response.status}"
        check(endpoint, url)
    if identity == SIGNED_OUT:
        # A new member of staff sets up their authenticator at their first sign-in.
        pg.goto("/sign-in")
        pg.fill("#email", new_officer())
        pg.fill("#password", DEMO_PASSWORD)
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url(re.compile(r"/sign-in/set-up$"))
        check("auth.sign_in_set_up", "/sign-in/set-up")
    assert plan[identity], f"{identity} could open no page at all"
    assert set(pages) <= set(checked)
    assert not errors, "The browser reported errors:\n" + "\n".join(errors)
    assert not problems, f"{len(problems)} of {len(checked)} pages failed:\n" + "\n".join(problems)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_phone_shows_every_column_of_a_list(browser: Any, live_server: LiveServer, width: int) -> None:
    """A list of many columns is shown row by row on a phone, each value under its column's heading, so no column
    (the bid's status) is cut off at the screen's edge; it is still a table to a screen reader."""
    context = new_context(browser, live_server, viewport={"width": width, "height": 800})
    errors: list[str] = []
    pg = watch_errors(context.new_page(), errors)
    try:
        sign_in(pg, APPLICANT)
        pg.goto("/bids/")
        table = pg.get_by_role("table", name="Your organisation's bids")
        expect(table).to_be_visible()
        statuses = table.locator("tbody td[data-label=Status]")
        assert statuses.count() >= 2
        for i in range(statuses.count()):
            box = statuses.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (i, box)
            assert statuses.nth(i).locator(".govuk-tag").is_visible()
        label = pg.evaluate("el => getComputedStyle(el, '::before').content", statuses.first.element_handle())
        assert "Status" in label, label
        assert table.get_by_role("columnheader").all_inner_texts() == ["Bid", "Fund", "Requested", "Status"]
        assert table.locator("tbody").get_by_role("row").count() == statuses.count()
        # Wide enough for the table, the same page shows it as one.
        pg.set_viewport_size({"width": 1024, "height": 800})
        assert pg.evaluate("el => getComputedStyle(el, '::before').content", statuses.first.element_handle()) == "none"
        assert table.locator("thead").is_visible()
    finally:
        context.close()
    assert not errors, errors


def test_long_words_wrap_on_a_phone(browser: Any, live_server: LiveServer) -> None:
    """A title of one long word (a web address, say) wraps in the heading and in the list instead of widening the
    page."""
    context = new_context(browser, live_server, viewport={"width": 320, "height": 800})
    errors: list[str] = []
    pg = watch_errors(context.new_page(), errors)
    try:
        sign_in(pg, APPLICANT)
        bid_id = start_bid(pg)
        title = "www.fenland-csp.example/projects/" + "x" * 60 + f"-{bid_id}"
        pg.fill("#title", title)
        pg.get_by_role("button", name="Save as draft").click()
        pg.goto(f"/bids/{bid_id}/edit")
        expect(pg.locator("h1")).to_contain_text(title)
        assert fits(pg), too_wide(pg)
        pg.goto("/bids/")
        link = pg.get_by_role("link", name=title)
        expect(link).to_be_visible()
        assert fits(pg), too_wide(pg)
        box = link.bounding_box()  # within the screen, not in a part of the table scrolled out of sight
        assert box is not None and box["x"] + box["width"] <= 320, box
    finally:
        context.close()
    assert not errors, errors
