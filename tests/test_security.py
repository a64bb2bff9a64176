"""HTTP security: headers, no inline script or style, cookies, error pages, CSRF, sign-out and redirects."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from grants import create_app
from grants.auth.rules import issue_reset_token
from grants.bids.documents import add_document
from grants.core.config import DEV_SECRET_KEY
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.mail import queue_email
from grants.core.models import AuditEvent, Bid, BudgetLine, ConditionsVersion, Fund, Repayment, User
from grants.monitoring.measures import MeasureInput, add_measure
from grants.payments.rules import schedule_payment
from grants.variations.rules import VariationInput
from grants.variations.rules import propose as propose_variation
from tests.conftest import PASSWORD, World, fresh_code, make_user, page, sign_in
from tests.test_agreements import approved_award, make_agreement

CSRF_REFUSED = "Your form had expired or came from another site"
# Every role lands on its own dashboard.
START = dict.fromkeys(("applicant", "officer", "approver", "finance", "admin"), "/dashboard/")


# Helpers -------------------------------------------------------------------------------------


def csp_directives(response: Any) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_security_headers(response: Any) -> None:
    directives = csp_directives(response)
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src, "no script-src or default-src"
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "*" not in script_src and "data:" not in script_src
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"strict-origin-when-cross-origin", "same-origin", "no-referrer",
                                                   "strict-origin"}


def csrf_token_from(response: Any) -> str:
    node = page(response).select_one("input[name=csrf_token]")
    assert node is not None and node["value"], "no CSRF token on the page"
    return str(node["value"])


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show a refused request changed nothing."""
    db.session.rollback()
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        state[table.name] = [tuple(row) for row in rows]
    return state


@contextmanager
def csrf_on(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def make_bid(world: World, status: str, title: str) -> Bid:
    user = world.user("applicant")
    bid = Bid(organisation_id=user.organisation_id, fund_year_id=world.scf_year.id, created_by_id=user.id,
              title=title, status=status)
    bid.budget_lines = [BudgetLine(position=0, item="Marking kits", amount_pence=1_000_00)]
    db.session.add(bid)
    db.session.commit()
    return bid


def uploads(data: dict[str, Any]) -> dict[str, Any]:
    """Form data to post: a file given as (content, name) is a fresh upload each time it is sent."""
    return {name: (io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value for name, value in data.items()}


def assert_no_inline_code(response: Any, where: str) -> None:
    soup = page(response)
    for script in soup.find_all("script"):
        assert script.get("src"), f"inline <script> on {where}: {str(script)[:120]}"
    for element in soup.find_all(True):
        assert not element.has_attr("style"), f"style attribute on {where}: {str(element)[:120]}"
        handlers = [name for name in element.attrs if name.lower().startswith("on")]
        assert not handlers, f"event handler {handlers} on {where}: {str(element)[:120]}"


# Security headers ----------------------------------------------------------------------------


def test_headers_on_a_page_a_redirect_a_404_and_a_static_file(client: FlaskClient, world: World) -> None:
    html = client.get("/sign-in")
    assert html.status_code == 200 and html.mimetype == "text/html"
    redirect = client.get("/")
    assert redirect.status_code == 302 and redirect.headers["Location"] == "/sign-in"
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    static = client.get("/static/css/main.css")
    assert static.status_code == 200 and static.mimetype == "text/css"
    static.close()
    for response in (html, redirect, missing, static):
        assert_security_headers(response)
        # Over plain HTTP, no HSTS: it would be ignored and misleading.
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_is_sent_over_https_only(client: FlaskClient, world: World) -> None:
    for path in ("/sign-in", "/", "/no-such-page", "/static/css/main.css"):
        secure = client.get(path, base_url="https://localhost")
        hsts = secure.headers.get("Strict-Transport-Security", "")
        assert hsts.startswith("max-age="), path
        assert int(hsts.split(";")[0].split("=")[1]) >= 31536000, path
        assert_security_headers(secure)
        secure.close()
        plain = client.get(path)
        assert "Strict-Transport-Security" not in plain.headers, path
        plain.close()


def test_signed_in_pages_are_not_cached(as_role) -> None:
    client = as_role("officer")
    response = client.get("/assess/")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert_security_headers(response)


# No inline script, style or event handlers ----------------------------------------------------


def _fill(rule: Any, ids: dict[str, Any]) -> str | None:
    values = {}
    for argument in rule.arguments:
        if argument not in ids:
            return None
        values[argument] = ids[argument]
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    return path


def test_no_inline_script_style_or_handlers_on_any_page(app: Flask, client: FlaskClient, world: World) -> None:
    draft = make_bid(world, "draft", "Draft bid")
    submitted = make_bid(world, "submitted", "Submitted bid")
    message = queue_email("someone@example.com", "Hello", "Body")
    token = issue_reset_token(world.user("finance"), 2)
    db.session.commit()
    make_agreement(world, "issued")
    active = make_agreement(world, "active")
    payment, _ = schedule_payment(active, world.user("finance"), 100_00, uk_today(), today=uk_today())
    db.session.commit()
    agreement_ids = {"agreement_id": active.id, "payment_id": payment.id, "return_id": active.returns[0].id}

    get_rules = [rule for rule in app.url_map.iter_rules()
                 if "GET" in rule.methods and rule.endpoint not in ("static", "main.healthz")]
    checked: dict[str, list[str]] = {}

    def visit(who: str, ids: dict[str, Any]) -> None:
        for rule in get_rules:
            path = _fill(rule, ids)
            if path is None:
                continue
            response = client.get(path)
            if response.status_code == 200 and response.mimetype == "text/html":
                assert_no_inline_code(response, f"{path} as {who}")
                checked.setdefault(who, []).append(path)

    # Signed out: sign in, forgotten password, the reset form, the static pages, a 404.
    visit("anonymous", {"token": token})
    assert {"/sign-in", "/forgot-password", f"/reset-password/{token}"} <= set(checked["anonymous"])
    for path in ("/no-such-page", "/reset-password/not-a-real-token"):
        response = client.get(path)
        assert response.status_code == 404
        assert_no_inline_code(response, path)
    # The sign-in page with an error summary and messages beside the fields.
    response = client.post("/sign-in", data={"email": "", "password": ""})
    assert page(response).select(".govuk-error-summary")
    assert_no_inline_code(response, "sign-in with errors")

    for role in ("applicant", "officer", "approver", "finance", "admin"):
        client.post("/sign-out")
        sign_in(client, world.user(role))
        bid_id = draft.id if role == "applicant" else submitted.id
        visit(role, {"bid_id": bid_id, "fund_id": world.scf.id, "fund_year_id": world.scf_year.id,
                     "organisation_id": world.csp.id, "user_id": world.user("officer").id,
                     "message_id": message.id, **agreement_ids})
        assert START[role] in checked[role]
        assert len(checked[role]) >= 2, (role, checked[role])
    # A 403 page while signed in.
    response = client.get("/bids/")
    assert response.status_code == 403
    assert_no_inline_code(response, "403 page")
    assert len(checked["admin"]) >= 10
    assert {f"/agreements/{active.id}", f"/monitoring/{active.returns[0].id}/edit"} <= set(checked["applicant"])
    assert f"/agreements/payments/{payment.id}/paid" in checked["finance"]


# Production settings -------------------------------------------------------------------------


@pytest.fixture()
def production_app(tmp_path: Any, database_uri_base: str | None) -> Iterator[Flask]:
    uri = database_uri_base or f"sqlite:///{tmp_path / 'production.db'}"
    app = create_app("production", SECRET_KEY="x" * 40, SQLALCHEMY_DATABASE_URI=uri)
    with app.app_context():
        db.drop_all()
        db.create_all()
        make_user("officer@opcc.example", "officer", None)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_production_session_cookie_is_secure_httponly_and_lax(production_app: Flask) -> None:
    assert production_app.config["WTF_CSRF_ENABLED"] is not False
    client = production_app.test_client()
    form = client.get("/sign-in", base_url="https://localhost")
    # Over HTTPS Flask-WTF also wants a same-site Referer, as a browser sends.
    response = client.post("/sign-in", base_url="https://localhost", headers={"Referer": "https://localhost/sign-in"},
                           data={"email": "officer@opcc.example", "password": PASSWORD,
                                 "csrf_token": csrf_token_from(form)})
    # The password is right: the session now waits for the security code.
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in/code"
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookies[0].split(";")[1:]}
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_production_refuses_the_development_secret_key() -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY=DEV_SECRET_KEY, SQLALCHEMY_DATABASE_URI="sqlite://")
    # ...and starts with a real one.
    assert create_app("production", SECRET_KEY="y" * 40, SQLALCHEMY_DATABASE_URI="sqlite://").config[
        "SESSION_COOKIE_SECURE"] is True


# Error pages ---------------------------------------------------------------------------------

LEAKS = ("Traceback", 'File "', "no_such_table", "SELECT", "UPDATE", "password_hash", "hunter2",
         "OperationalError", "ProgrammingError", "RuntimeError", "sqlalchemy", "Werkzeug", "werkzeug")


def assert_friendly(response: Any, code: int, title: str) -> None:
    assert response.status_code == code
    body = response.get_data(as_text=True)
    soup = page(response)
    assert soup.h1.get_text(strip=True) == title
    assert soup.title.get_text().strip().endswith("OPCC Grants")
    assert soup.select_one("a[href='/']"), "no way back to the start page"
    for leak in LEAKS:
        assert leak not in body, leak
    assert_security_headers(response)


def test_unexpected_errors_show_a_friendly_500_without_details(tmp_path: Any, caplog: Any) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'errors.db'}",
                     TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.route("/broken-sql")
    def broken_sql() -> str:
        db.session.execute(text("SELECT password_hash FROM no_such_table WHERE secret = 'hunter2'"))
        return "unreachable"

    @app.route("/broken-code")
    def broken_code() -> str:
        raise RuntimeError("UPDATE user SET password_hash = 'hunter2' WHERE id = 1")

    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        for path in ("/broken-sql", "/broken-code"):
            response = client.get(path)
            assert_friendly(response, 500, "Sorry, there is a problem with the service")
    # The details go to the log, for the people who run the service.
    logged = "\n".join(record.getMessage() + str(record.exc_info) for record in caplog.records)
    assert "no_such_table" in logged and "UPDATE user SET" in logged
    with app.app_context():
        db.engine.dispose()


def test_404_and_403_pages_are_friendly(as_role, client: FlaskClient) -> None:
    assert_friendly(client.get("/no-such-page"), 404, "Page not found")
    applicant = as_role("applicant")
    assert_friendly(applicant.get("/admin/"), 403, "You do not have permission to see this page")
    assert_friendly(applicant.get("/bids/999999"), 404, "Page not found")


# CSRF ----------------------------------------------------------------------------------------


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(app: Flask, client: FlaskClient,
                                                                         world: World) -> None:
    """client is requested so that app.test_client() gives isolated clients (see conftest)."""
    draft = make_bid(world, "draft", "Draft bid")
    quote, _ = add_document(draft, world.user("applicant"), "quote.pdf", b"%PDF-1.4\n%%EOF\n", "", today=uk_today(),
                            directory=app.config["EVIDENCE_DIR"], max_bytes=1024 * 1024)
    submitted = make_bid(world, "submitted", "Submitted bid")
    recommended = make_bid(world, "recommended", "Recommended bid")
    token = issue_reset_token(world.user("finance"), 2)
    db.session.commit()
    award = approved_award(world, title="Awarded, no agreement yet")
    draft_agreement = make_agreement(world, "draft")
    issued = make_agreement(world, "issued")
    active = make_agreement(world, "active")
    payment, _ = schedule_payment(active, world.user("finance"), 100_00, uk_today(), today=uk_today())
    returns = {r.status: r for r in active.returns}
    due_return = returns["due"]
    variation, _ = propose_variation(active, world.user("officer"), VariationInput(
        1_900_00, active.end_date, "", "Fewer sessions"), uk_today())
    assert variation is not None
    repayment = Repayment(agreement_id=active.id, amount_pence=50_00, reason="Unspent", due_on=uk_today(),
                          created_by_id=world.user("officer").id)
    db.session.add(repayment)
    db.session.commit()
    measure, _ = add_measure(db.session.get(Fund, world.scf.id), world.user("admin"),
                             MeasureInput("Bikes marked", "", "count", True, ""))
    future_conditions = ConditionsVersion(number=2, text="Future wording", effective_from=uk_today() + timedelta(days=30))
    db.session.add(future_conditions)
    queue_email(world.user("applicant").email, "Unread", "A notification", recipient=world.user("applicant"))
    db.session.commit()
    today = [str(uk_today().day), str(uk_today().month), str(uk_today().year)]
    officer = world.user("officer")
    new_password = "violet-kettle-harbour-lantern"
    # endpoint: (who is signed in, path, form data that would be acted on with a token)
    cases: dict[str, tuple[str | None, str, dict[str, Any]]] = {
        "auth.sign_in": (None, "/sign-in", {"email": officer.email, "password": PASSWORD}),
        "auth.forgot_password": (None, "/forgot-password", {"email": officer.email}),
        "auth.reset_password": (None, f"/reset-password/{token}", {"password": new_password, "confirm": new_password}),
        "auth.sign_out": ("officer", "/sign-out", {}),
        "variations.propose": ("officer", f"/agreements/{issued.id}/variations/new",
                               {"version": "1", "amount_pence": "1000", "reasons": "More"}),
        "variations.approve": ("approver", f"/variations/{variation.id}/approve", {"version": "1", "note": "Yes"}),
        "variations.refuse": ("approver", f"/variations/{variation.id}/refuse", {"version": "1", "note": "No"}),
        "variations.withdraw": ("officer", f"/variations/{variation.id}/withdraw", {"version": "1", "note": "x"}),
        "variations.decline": ("applicant", f"/variations/{variation.id}/decline", {"version": "1", "note": "x"}),
        "variations.accept": ("applicant", f"/variations/{variation.id}/accept",
                              {"version": "1", "accepted_name": "T", "accepted_role": "M", "confirm": "y"}),
        "auth.sign_in_code": (None, "/sign-in/code", {"code": "123456"}),
        "auth.sign_in_recovery": (None, "/sign-in/recovery-code", {"code": "abcde-fghjk"}),
        "auth.sign_in_set_up": (None, "/sign-in/set-up", {"code": "123456"}),
        "auth.change_password": ("applicant", "/account/password",
                                 {"current": PASSWORD, "password": new_password, "confirm": new_password}),
        "auth.set_up_two_step": ("applicant", "/account/two-step", {"code": "123456"}),
        "auth.turn_off_two_step": ("applicant", "/account/two-step/turn-off", {}),
        "auth.new_recovery_codes": ("officer", "/account/recovery-codes", {"code": "123456"}),
        "admin.reset_two_step": ("admin", f"/admin/users/{officer.id}/two-step", {}),
        "admin.new_measure": ("admin", f"/admin/funds/{world.scf.id}/measures/new",
                              {"name": "Sessions", "unit": "count", "required": "yes"}),
        "admin.edit_measure": ("admin", f"/admin/funds/{world.scf.id}/measures/{measure.id}/edit",
                               {"name": "Bikes", "unit": "count", "required": "no"}),
        "admin.retire_measure": ("admin", f"/admin/funds/{world.scf.id}/measures/{measure.id}/retire", {}),
        "admin.delete_measure": ("admin", f"/admin/funds/{world.scf.id}/measures/{measure.id}/delete", {}),
        "admin.load_measures": ("admin", f"/admin/funds/{world.scf.id}/measures/standard-set",
                                {"set_key": "moj-victims"}),
        "admin.new_conditions": ("admin", "/admin/conditions/new", {"text": "New wording", "effective_from": today}),
        "admin.edit_conditions": ("admin", f"/admin/conditions/{future_conditions.id}/edit",
                                  {"text": "Changed wording", "effective_from": today}),
        "bids.start": ("applicant", "/bids/start", {"fund_year_id": str(world.scf_year.id)}),
        "bids.edit": ("applicant", f"/bids/{draft.id}/edit", {"version": "1", "title": "Changed", "save": "y"}),
        "bids.withdraw": ("applicant", f"/bids/{submitted.id}/withdraw", {"reason": "No longer needed"}),
        "bids.documents": ("applicant", f"/bids/{draft.id}/documents",
                           {"document": (b"%PDF-1.4\n%%EOF\n", "letter.pdf"), "description": "Letter"}),
        "bids.remove": ("applicant", f"/bids/{draft.id}/documents/{quote.id if quote else 0}/remove", {}),
        "assessment.assess": ("officer", f"/assess/bids/{submitted.id}/assess", {"version": "1", "comments": "Good"}),
        "assessment.request_information": ("officer", f"/assess/bids/{submitted.id}/request-information",
                                           {"version": "1", "message": "Send the budget"}),
        "assessment.reject": ("officer", f"/assess/bids/{submitted.id}/reject", {"version": "1", "reasons": "No"}),
        "assessment.declare_conflict": ("officer", f"/assess/bids/{submitted.id}/declare-conflict",
                                        {"details": "My sister"}),
        "assessment.award": ("approver", f"/assess/bids/{recommended.id}/award",
                             {"version": "1", "amount_pence": "1000"}),
        "admin.new_fund": ("admin", "/admin/funds/new", {"name": "Youth Fund", "funding_source": "opcc",
                                                         "monitoring_due_days": "31"}),
        "admin.edit_fund": ("admin", f"/admin/funds/{world.scf.id}/edit",
                            {"name": "Renamed", "funding_source": "opcc", "monitoring_due_days": "31"}),
        "admin.new_fund_year": ("admin", f"/admin/funds/{world.scf.id}/years/new", {"year_start": "2040"}),
        "admin.edit_fund_year": ("admin", f"/admin/fund-years/{world.scf_year.id}/edit", {"budget_pence": "1"}),
        "admin.new_organisation": ("admin", "/admin/organisations/new", {"name": "New CSP", "org_type": "csp"}),
        "admin.edit_organisation": ("admin", f"/admin/organisations/{world.csp.id}/edit",
                                    {"name": "Renamed CSP", "org_type": "csp"}),
        "admin.new_user": ("admin", "/admin/users/new", {"email": "new@opcc.example", "name": "New", "role": "admin",
                                                         "organisation_id": "", "password": new_password}),
        "admin.edit_user": ("admin", f"/admin/users/{officer.id}/edit",
                            {"name": "Officer Person", "role": "officer", "organisation_id": str(world.opcc.id)}),
        "admin.user_password": ("admin", f"/admin/users/{officer.id}/password",
                                {"password": new_password, "confirm": new_password}),
        "agreements.prepare": ("officer", f"/agreements/from-bid/{award.bid_id}",
                               {"start_date": today, "end_date": today}),
        "agreements.edit": ("officer", f"/agreements/{draft_agreement.id}/edit",
                            {"version": "1", "start_date": today, "end_date": today}),
        "agreements.issue": ("officer", f"/agreements/{draft_agreement.id}/issue", {"version": "1"}),
        "agreements.accept": ("applicant", f"/agreements/{issued.id}/accept",
                              {"version": str(issued.version), "accepted_name": "T", "accepted_role": "M", "confirm": "y"}),
        "agreements.activate": ("officer", f"/agreements/{active.id}/activate", {"version": str(active.version)}),
        "agreements.end": ("officer", f"/agreements/{active.id}/end",
                           {"version": str(active.version), "outcome": "terminated", "reason": "Stopped"}),
        "payments.new": ("finance", f"/agreements/{active.id}/payments/new",
                                   {"amount_pence": "10", "due_on": today}),
        "payments.paid": ("finance", f"/agreements/payments/{payment.id}/paid",
                                      {"version": "1", "paid_on": today, "finance_reference": "AP-1"}),
        "payments.cancel": ("finance", f"/agreements/payments/{payment.id}/cancel", {"version": "1", "reason": "x"}),
        "repayments.new": ("officer", f"/agreements/{active.id}/repayments/new",
                           {"version": str(active.version), "amount_pence": "10", "reason": "Unspent"}),
        "repayments.receive": ("finance", f"/agreements/repayments/{repayment.id}/receive",
                               {"amount_pence": "10", "received_on": today, "reference": "AR-1"}),
        "repayments.write_off": ("finance", f"/agreements/repayments/{repayment.id}/write-off",
                                 {"version": "1", "reason": "Cannot be recovered"}),
        "monitoring.edit": ("applicant", f"/monitoring/{due_return.id}/edit", {"version": "1", "progress": "x", "save": "y"}),
        "monitoring.review": ("officer", f"/monitoring/{due_return.id}/review",
                              {"version": "1", "outcome": "accepted"}),
        # The applicant has an unread notification (queued above): a forged POST must mark none read.
        "notifications.read_all": ("applicant", "/notifications/read-all", {}),
    }
    post_endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                      if "POST" in rule.methods and rule.endpoint != "static"}
    assert post_endpoints == set(cases), "a POST route is not covered by this test"

    with csrf_on(app):
        for endpoint, (role, path, data) in cases.items():
            client = app.test_client()
            if role is not None:
                app.config["WTF_CSRF_ENABLED"] = False
                sign_in(client, world.user(role))
                app.config["WTF_CSRF_ENABLED"] = True
                assert client.get(START[role]).status_code == 200
            before = snapshot()
            response = client.post(path, data=uploads(data))
            assert response.status_code == 400, endpoint
            assert CSRF_REFUSED in page(response).get_text(), endpoint
            assert snapshot() == before, endpoint
            if role is not None:  # still signed in: sign-out without a token did not sign out
                assert client.get(START[role]).status_code == 200, endpoint
            # A token from another session is refused too.
            other = app.test_client()
            foreign = csrf_token_from(other.get("/sign-in"))
            response = client.post(path, data=uploads(data) | {"csrf_token": foreign})
            assert response.status_code == 400, endpoint
            assert snapshot() == before, endpoint


def test_sign_in_with_a_token_from_the_form_works(app: Flask, client: FlaskClient, world: World) -> None:
    with csrf_on(app):
        form = client.get("/sign-in")
        token = csrf_token_from(form)
        refused = client.post("/sign-in", data={"email": "officer@opcc.example", "password": PASSWORD,
                                                "csrf_token": token + "x"})
        assert refused.status_code == 400
        response = client.post("/sign-in", data={"email": "officer@opcc.example", "password": PASSWORD,
                                                 "csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"] == "/sign-in/code"
        token = csrf_token_from(client.get("/sign-in/code"))
        response = client.post("/sign-in/code", data={"code": fresh_code("officer@opcc.example"), "csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"] == START["officer"]
        home = client.get(START["officer"])
        assert home.status_code == 200
        # Signing out with the token from a signed-in page works too.
        response = client.post("/sign-out", data={"csrf_token": csrf_token_from(home)})
        assert response.status_code == 302
    assert client.get("/assess/").status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(User.session_token).where(User.email == "officer@opcc.example")) is None


# Sign-out and replayed cookies ---------------------------------------------------------------


def test_a_session_cookie_saved_before_sign_out_does_not_work_after(client: FlaskClient, world: World) -> None:
    sign_in(client, world.user("officer"))
    assert client.get("/assess/").status_code == 200
    saved = client.get_cookie("session")
    assert saved is not None
    response = client.post("/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert client.get("/assess/").status_code == 302
    client.set_cookie("session", saved.value)
    response = client.get("/assess/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert "data-testid=\"signed-in-as\"" not in client.get("/sign-in").get_data(as_text=True)
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == world.user("officer").id,
                                                                AuditEvent.object_type == "user")).all()
    assert events == ["user.signed_in", "user.signed_out"]


def test_signing_in_again_ends_the_previous_session(app: Flask, client: FlaskClient, world: World) -> None:
    first, second = client, app.test_client()
    sign_in(first, world.user("officer"))
    assert first.get("/assess/").status_code == 200
    sign_in(second, world.user("officer"))
    assert second.get("/assess/").status_code == 200
    assert first.get("/assess/").status_code == 302


# Open redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "///evil.example", "/\\evil.example",
                                    "https:evil.example", "http://localhost.evil.example/admin/", "javascript:alert(1)"])
@pytest.mark.parametrize("role", ["applicant", "admin"])
def test_sign_in_next_never_leaves_the_site(client: FlaskClient, world: World, target: str, role: str) -> None:
    response = client.post("/sign-in", query_string={"next": target},
                           data={"email": world.user(role).email, "password": PASSWORD})
    response = after_the_code(client, response, world.user(role).email)
    assert response.status_code == 302
    assert response.headers["Location"] == START[role]


def after_the_code(client: FlaskClient, response: Any, email: str) -> Any:
    """Where the sign-in goes once the security code is given (staff), or at once (applicants)."""
    if response.headers.get("Location") == "/sign-in/code":
        return client.post("/sign-in/code", data={"code": fresh_code(email)})
    return response


def test_sign_in_next_to_a_page_on_this_site_is_followed(client: FlaskClient, world: World) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=%2Fadmin%2Fusers"
    response = client.post("/sign-in?next=%2Fadmin%2Fusers", data={"email": "admin@opcc.example",
                                                                     "password": PASSWORD})
    assert after_the_code(client, response, "admin@opcc.example").headers["Location"] == "/admin/users"


def test_session_times_are_set_at_sign_in(client: FlaskClient, world: World) -> None:
    before = time.time()
    sign_in(client, world.user("finance"))
    with client.session_transaction() as session:
        assert before <= session["signed_in_at"] <= time.time()
        assert session["last_seen"] >= session["signed_in_at"]
        assert session.permanent
