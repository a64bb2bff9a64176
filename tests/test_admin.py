"""The admin area: funds and fund-years, outcome measures, organisations, users, the outbox; who may reach it; the
audit trail."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select, text

from grants.admin import rules as rules
from grants.auth.resets import LINK_REMOVED
from grants.core.extensions import db
from grants.core.mail import queue_email
from grants.core.models import (
    AuditEvent,
    Bid,
    Fund,
    FundYear,
    MeasureValue,
    Organisation,
    OutboxEmail,
    OutcomeMeasure,
    User,
)
from grants.core.passwords import verify_password
from grants.monitoring.measures import load_standard_set, retire_measure
from tests.conftest import PASSWORD, World, error_messages, field_error, page, sign_in
from tests.mailserver import app_sending_to
from tests.test_agreements import make_agreement

NEW_PASSWORD = "violet-kettle-harbour-lantern"


def officer_home(app: Flask) -> str:
    with app.test_request_context():
        return url_for("assessment.index")


def isolated(app: Flask, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one request in its own app context, as a real server does.

    The app fixture keeps one app context open for the whole test and Flask reuses it for
    requests, so Flask-Login's per-request cache of the signed-in user (g._login_user) would
    otherwise carry over from one test client to another."""
    with app.app_context():
        return call(*args, **kwargs)


def get(app: Flask, client: FlaskClient, url: str) -> Any:
    return isolated(app, client.get, url)


def post(app: Flask, client: FlaskClient, url: str, **kwargs: Any) -> Any:
    return isolated(app, client.post, url, **kwargs)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def flash_text(response: Any) -> str:
    return " ".join(node.get_text(" ", strip=True) for node in page(response).select(".govuk-notification-banner"))


def fund_form(**overrides: Any) -> dict[str, Any]:
    data = {"name": "Youth Fund", "description": "Grass-roots money for young people",
            "funding_source": "opcc", "monitoring_due_days": "31"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def fund_year_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "year_start": "2030",
        "budget_pence": "£30,000",
        "per_bid_cap_pence": "5000",
        "per_applicant_cap_pence": "",
        "delegation_limit_pence": "2,500.50",
        "opens_on": ["1", "4", "2030"],
        "closes_on": ["31", "1", "2031"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def org_form(**overrides: Any) -> dict[str, Any]:
    data = {"name": "Safer Peterborough Partnership", "org_type": "csp", "org_identifier": "GB-LAE-PTE"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def user_form(world: World, **overrides: Any) -> dict[str, Any]:
    data = {"email": "New.Person@Fenland.example", "name": "New Person", "role": "applicant",
            "organisation_id": str(world.csp.id), "password": NEW_PASSWORD}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def edit_user_form(user: User, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": user.name, "role": user.role,
                            "organisation_id": str(user.organisation_id or ""), "active": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# Who may reach the admin area ----------------------------------------------------------------

ADMIN_PAGES = [
    ("GET", "/admin/"),
    ("GET", "/admin/funds"),
    ("GET", "/admin/funds/new"),
    ("POST", "/admin/funds/new"),
    ("GET", "/admin/funds/{fund}/edit"),
    ("POST", "/admin/funds/{fund}/edit"),
    ("GET", "/admin/funds/{fund}/years/new"),
    ("POST", "/admin/funds/{fund}/years/new"),
    ("GET", "/admin/fund-years/{fund_year}/edit"),
    ("POST", "/admin/fund-years/{fund_year}/edit"),
    ("GET", "/admin/organisations"),
    ("GET", "/admin/organisations/new"),
    ("POST", "/admin/organisations/new"),
    ("GET", "/admin/organisations/{org}/edit"),
    ("POST", "/admin/organisations/{org}/edit"),
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{user}/edit"),
    ("POST", "/admin/users/{user}/edit"),
    ("GET", "/admin/users/{user}/password"),
    ("POST", "/admin/users/{user}/password"),
    ("GET", "/admin/outbox"),
    ("GET", "/admin/outbox/{email}"),
]


def _url(template: str, world: World, email_id: int) -> str:
    return template.format(fund=world.scf.id, fund_year=world.scf_year.id, org=world.csp.id,
                           user=world.user("officer").id, email=email_id)


@pytest.fixture()
def email_id(world: World) -> int:
    message = queue_email("someone@example.com", "Hello", "Body text")
    db.session.commit()
    return message.id


@pytest.mark.parametrize("role", ["applicant", "officer", "approver", "finance"])
def test_other_roles_are_refused_every_admin_page(app: Flask, as_role, world: World, email_id: int, role: str) -> None:
    client = as_role(role)
    before = db.session.scalar(select(db.func.count(AuditEvent.id)))
    for method, template in ADMIN_PAGES:
        response = isolated(app, client.open, _url(template, world, email_id), method=method,
                            data=user_form(world) | fund_form() | {"active": ""})
        assert response.status_code == 403, (method, template)
    # Nothing was changed or created by the refused requests.
    after = db.session.scalar(select(db.func.count(AuditEvent.id)))
    assert after == before
    db.session.refresh(world.user("officer"))
    assert world.user("officer").active and world.user("officer").name == "Officer Person"


def test_signed_out_users_are_sent_to_sign_in(app: Flask, client: FlaskClient, world: World, email_id: int) -> None:
    for method, template in ADMIN_PAGES:
        response = isolated(app, client.open, _url(template, world, email_id), method=method, data=fund_form())
        assert response.status_code == 302, (method, template)
        assert response.headers["Location"].startswith("/sign-in"), (method, template)
    assert db.session.scalar(select(Fund).where(Fund.name == "Youth Fund")) is None


def test_admin_sees_every_page(as_role, world: World, email_id: int) -> None:
    client = as_role("admin")
    for method, template in ADMIN_PAGES:
        if method == "GET":
            response = client.get(_url(template, world, email_id))
            assert response.status_code == 200, template
            soup = page(response)
            assert soup.title.get_text().strip().endswith("OPCC Grants") and soup.h1.get_text(strip=True)
            for form in soup.select("main form"):
                assert form.has_attr("novalidate"), template


@pytest.mark.parametrize("url", ["/admin/funds/999/edit", "/admin/funds/999/years/new", "/admin/fund-years/999/edit",
                                 "/admin/organisations/999/edit", "/admin/users/999/edit", "/admin/users/999/password",
                                 "/admin/outbox/999"])
def test_wrong_ids_are_404(as_role, world: World, url: str) -> None:
    client = as_role("admin")
    assert client.get(url).status_code == 404
    assert client.post(url, data={}).status_code in (404, 405)


def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused(app: Flask, as_role, world: World) -> None:
    client = as_role("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        soup = page(client.get("/admin/funds/new"))
        assert soup.select_one("form input[name=csrf_token]")["value"]
        response = client.post("/admin/funds/new", data=fund_form())
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.scalar(select(Fund).where(Fund.name == "Youth Fund")) is None


def test_dashboard_links_to_each_area(as_role, world: World) -> None:
    soup = page(as_role("admin").get("/admin/"))
    hrefs = {a["href"] for a in soup.select("main a")}
    assert {"/admin/funds", "/admin/organisations", "/admin/users", "/admin/outbox"} <= hrefs


# Funds ---------------------------------------------------------------------------------------


def test_create_and_edit_a_fund(as_role, world: World) -> None:
    client = as_role("admin")
    soup = page(client.get("/admin/funds/new"))
    assert soup.find(id="monitoring_due_days")["value"] == "31"
    labels = [label.get_text(strip=True) for label in soup.select(".govuk-radios__label")]
    assert labels == ["OPCC", "Ministry of Justice", "Home Office", "Six-monthly (H1, H2)", "Quarterly (Q1 to Q4)"]

    response = client.post("/admin/funds/new", data=fund_form(funding_source="home_office"))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/funds"
    fund = db.session.scalar(select(Fund).where(Fund.name == "Youth Fund"))
    assert (fund.funding_source, fund.monitoring_due_days, fund.description) == (
        "home_office", 31, "Grass-roots money for young people")
    listing = client.get("/admin/funds")
    assert "Youth Fund has been created" in flash_text(listing)
    section = page(listing).find(attrs={"data-testid": f"fund-{fund.id}"})
    assert "Home Office" in section.get_text() and "no financial years yet" in section.get_text()

    [created] = events("fund.created")
    assert created.actor_id == world.user("admin").id and created.object_id == fund.id
    assert created.details["name"] == {"from": None, "to": "Youth Fund"}

    # The edit form shows what is saved.
    soup = page(client.get(f"/admin/funds/{fund.id}/edit"))
    assert soup.find(id="name")["value"] == "Youth Fund"
    assert soup.find("input", attrs={"name": "funding_source", "value": "home_office"}).has_attr("checked")

    response = client.post(f"/admin/funds/{fund.id}/edit",
                           data=fund_form(name="Youth Fund 2", funding_source="moj", monitoring_due_days="0",
                                          reporting_frequency="quarterly", reminder_days="14"))
    assert response.status_code == 302
    db.session.refresh(fund)
    assert (fund.name, fund.funding_source, fund.monitoring_due_days) == ("Youth Fund 2", "moj", 0)
    [updated] = events("fund.updated")
    assert updated.details == {
        "name": {"from": "Youth Fund", "to": "Youth Fund 2"},
        "funding_source": {"from": "home_office", "to": "moj"},
        "monitoring_due_days": {"from": 31, "to": 0},
    }

    # Saving without changes records nothing.
    client.post(f"/admin/funds/{fund.id}/edit", data=fund_form(name="Youth Fund 2", funding_source="moj",
                                                               monitoring_due_days="0", reporting_frequency="quarterly",
                                                               reminder_days="14"))
    assert len(events("fund.updated")) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the name of the fund"),
        ({"name": "   "}, "name", "Enter the name of the fund"),
        ({"name": "x" * 201}, "name", "The name must be 200 characters or fewer"),
        ({"name": "safer communities FUND"}, "name", "There is already a fund called safer communities FUND"),
        ({"funding_source": None}, "funding_source", "Select where the fund's money comes from"),
        ({"funding_source": "lottery"}, "funding_source", "Select where the fund's money comes from"),
        ({"monitoring_due_days": ""}, "monitoring_due_days",
         "Enter how many days after each period monitoring returns are due"),
        ({"monitoring_due_days": "366"}, "monitoring_due_days", "Monitoring due days must be between 0 and 365"),
        ({"monitoring_due_days": "-1"}, "monitoring_due_days", "Monitoring due days must be a whole number, like 31"),
        ({"monitoring_due_days": "thirty"}, "monitoring_due_days",
         "Monitoring due days must be a whole number, like 31"),
    ],
)
def test_fund_validation(as_role, world: World, overrides: dict[str, Any], field: str, message: str) -> None:
    client = as_role("admin")
    response = client.post("/admin/funds/new", data=fund_form(**overrides))
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert error_messages(response) == [message]
    assert page(response).title.get_text().startswith("Error:")
    assert db.session.scalar(select(db.func.count(Fund.id))) == 1
    assert events("fund.created") == []


def test_renaming_a_fund_to_another_funds_name_is_a_field_error(as_role, world: World) -> None:
    client = as_role("admin")
    client.post("/admin/funds/new", data=fund_form())
    youth = db.session.scalar(select(Fund).where(Fund.name == "Youth Fund"))
    saved = {"reporting_frequency": "half_yearly", "reminder_days": "14"}
    response = client.post(f"/admin/funds/{youth.id}/edit", data=fund_form(name="Safer Communities Fund", **saved))
    assert field_error(response, "name") == "There is already a fund called Safer Communities Fund"
    # Keeping its own name is not a clash.
    response = client.post(f"/admin/funds/{youth.id}/edit", data=fund_form(description="New words", **saved))
    assert response.status_code == 302
    db.session.refresh(youth)
    assert youth.description == "New words"


def test_a_name_clash_only_the_database_sees_is_a_field_error(app: Flask, world: World, monkeypatch) -> None:
    """Two admins saving the same name at once: the unique constraint catches it, not a 500."""
    real = rules._same_name
    calls = []

    def misses_first_time(*args: Any) -> bool:
        calls.append(args)
        return False if len(calls) == 1 else real(*args)

    monkeypatch.setattr(rules, "_same_name", misses_first_time)
    values = rules.FundValues(name="Safer Communities Fund", description="", funding_source="opcc",
                              monitoring_due_days=31)
    fund, problems = rules.create_fund(world.user("admin"), values)
    assert fund is None
    assert problems == {"name": "There is already a fund called Safer Communities Fund"}
    assert db.session.scalar(select(db.func.count(Fund.id))) == 1


@pytest.mark.parametrize(("source", "frequency"), [("home_office", "quarterly"), ("moj", "half_yearly"),
                                                   ("opcc", "half_yearly")])
def test_a_new_fund_reports_as_its_source_usually_does_unless_told(as_role, world: World, source: str,
                                                                   frequency: str) -> None:
    client = as_role("admin")
    soup = page(client.get("/admin/funds/new"))
    assert soup.find(id="reminder_days")["value"] == "14"
    assert not soup.select("input[name=reporting_frequency][checked]")  # not chosen: the source decides

    assert client.post("/admin/funds/new", data=fund_form(funding_source=source)).status_code == 302
    fund = db.session.scalar(select(Fund).where(Fund.name == "Youth Fund"))
    assert (fund.reporting_frequency, fund.reminder_days) == (frequency, 14)
    [created] = events("fund.created")
    assert created.details["reporting_frequency"] == {"from": None, "to": frequency}
    assert created.details["reminder_days"] == {"from": None, "to": 14}


def test_fund_frequency_and_reminder_days_are_saved_and_shown(as_role, world: World) -> None:
    client = as_role("admin")
    response = client.post("/admin/funds/new", data=fund_form(funding_source="home_office",
                                                              reporting_frequency="half_yearly", reminder_days="30"))
    assert response.status_code == 302
    fund = db.session.scalar(select(Fund).where(Fund.name == "Youth Fund"))
    assert (fund.reporting_frequency, fund.reminder_days) == ("half_yearly", 30)
    section = page(client.get("/admin/funds")).find(attrs={"data-testid": f"fund-{fund.id}"})
    assert section.find(attrs={"data-testid": "frequency"}).get_text(strip=True) == "Six-monthly (H1, H2)"
    assert section.find(attrs={"data-testid": "reminder-days"}).get_text(strip=True) == (
        "30 days before a return is due")

    # The edit page shows what is saved; a change is saved and audited.
    soup = page(client.get(f"/admin/funds/{fund.id}/edit"))
    assert soup.find("input", attrs={"name": "reporting_frequency", "value": "half_yearly"}).has_attr("checked")
    assert soup.find(id="reminder_days")["value"] == "30"
    response = client.post(f"/admin/funds/{fund.id}/edit", data=fund_form(
        funding_source="home_office", reporting_frequency="quarterly", reminder_days="0"))
    assert response.status_code == 302
    db.session.refresh(fund)
    assert (fund.reporting_frequency, fund.reminder_days) == ("quarterly", 0)
    [updated] = events("fund.updated")
    assert updated.details == {"reporting_frequency": {"from": "half_yearly", "to": "quarterly"},
                               "reminder_days": {"from": 30, "to": 0}}
    section = page(client.get("/admin/funds")).find(attrs={"data-testid": f"fund-{fund.id}"})
    assert section.find(attrs={"data-testid": "frequency"}).get_text(strip=True) == "Quarterly (Q1 to Q4)"
    assert section.find(attrs={"data-testid": "reminder-days"}).get_text(strip=True) == "On the day a return is due"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"reporting_frequency": "monthly"}, "reporting_frequency", "Select how often grantees report"),
        ({"reporting_frequency": "<b>"}, "reporting_frequency", "Select how often grantees report"),
        ({"reminder_days": "366"}, "reminder_days", "Reminder days must be between 0 and 365"),
        ({"reminder_days": "999999999"}, "reminder_days", "Reminder days must be between 0 and 365"),
        ({"reminder_days": "-1"}, "reminder_days", "Reminder days must be a whole number, like 14"),
        ({"reminder_days": "two weeks"}, "reminder_days", "Reminder days must be a whole number, like 14"),
        ({"reminder_days": "1.5"}, "reminder_days", "Reminder days must be a whole number, like 14"),
        ({"reminder_days": "9" * 50}, "reminder_days", "Reminder days must be a whole number, like 14"),
    ],
)
def test_fund_frequency_and_reminder_days_validation(as_role, world: World, overrides: dict[str, Any], field: str,
                                                     message: str) -> None:
    client = as_role("admin")
    for url in ("/admin/funds/new", f"/admin/funds/{world.scf.id}/edit"):
        response = client.post(url, data=fund_form(**{"reporting_frequency": "quarterly", "reminder_days": "14",
                                                       **overrides}))
        assert response.status_code == 200, url
        assert field_error(response, field) == message
        assert error_messages(response) == [message]
    assert db.session.scalar(select(db.func.count(Fund.id))) == 1
    db.session.refresh(world.scf)
    assert (world.scf.name, world.scf.reporting_frequency, world.scf.reminder_days) == (
        "Safer Communities Fund", "half_yearly", 14)
    assert events("fund.created") == [] and events("fund.updated") == []


def test_a_saved_fund_must_keep_a_frequency_and_reminder_days(as_role, world: World) -> None:
    """Left empty on a new fund they take the defaults; a saved fund's page always shows its own, so empty is
    a mistake."""
    response = as_role("admin").post(f"/admin/funds/{world.scf.id}/edit", data=fund_form(reminder_days=""))
    assert field_error(response, "reporting_frequency") == "Select how often grantees report"
    assert field_error(response, "reminder_days") == (
        "Enter how many days before a return is due the grantee is reminded")
    assert events("fund.updated") == []


def test_a_new_fund_without_a_source_is_asked_only_for_the_source(as_role, world: World) -> None:
    response = as_role("admin").post("/admin/funds/new", data=fund_form(funding_source=None))
    assert error_messages(response) == ["Select where the fund's money comes from"]


# Fund-years ----------------------------------------------------------------------------------


def test_add_and_edit_a_fund_year(as_role, world: World) -> None:
    client = as_role("admin")
    response = client.post(f"/admin/funds/{world.scf.id}/years/new", data=fund_year_form(per_applicant_cap_pence="10000"))
    assert response.status_code == 302
    fund_year = db.session.scalar(select(FundYear).where(FundYear.fund_id == world.scf.id, FundYear.year_start == 2030))
    assert (fund_year.budget_pence, fund_year.per_bid_cap_pence, fund_year.per_applicant_cap_pence,
            fund_year.delegation_limit_pence, fund_year.committed_pence) == (30_000_00, 5_000_00, 10_000_00, 2_500_50, 0)
    assert (fund_year.opens_on, fund_year.closes_on) == (date(2030, 4, 1), date(2031, 1, 31))

    listing = client.get("/admin/funds")
    assert "Safer Communities Fund 2030-31 has been added" in flash_text(listing)
    row = next(tr for tr in page(listing).select("tr") if tr.th and tr.th.get_text(strip=True) == "2030-31")
    cells = [td.get_text(strip=True) for td in row.select("td")]
    assert cells[:6] == ["£30,000.00", "£0.00", "£5,000.00", "£10,000.00", "£2,500.50", "1 April 2030 to 31 January 2031"]

    [created] = events("fund_year.created")
    assert created.object_type == "fund_year" and created.object_id == fund_year.id
    assert created.details["budget_pence"] == {"from": None, "to": 30_000_00}
    assert created.details["closes_on"] == {"from": None, "to": "2031-01-31"}

    # The edit form is filled in from the record.
    soup = page(client.get(f"/admin/fund-years/{fund_year.id}/edit"))
    assert soup.find(id="budget_pence")["value"] == "30,000"
    assert soup.find(id="delegation_limit_pence")["value"] == "2,500.50"
    assert soup.find(id="opens_on-day")["value"] == "01" and soup.find(id="opens_on-year")["value"] == "2030"

    response = client.post(f"/admin/fund-years/{fund_year.id}/edit",
                           data=fund_year_form(budget_pence="40000", per_applicant_cap_pence="",
                                               delegation_limit_pence="0"))
    assert response.status_code == 302
    db.session.refresh(fund_year)
    assert (fund_year.budget_pence, fund_year.per_applicant_cap_pence, fund_year.delegation_limit_pence) == (
        40_000_00, None, 0)
    [updated] = events("fund_year.updated")
    assert updated.details == {
        "budget_pence": {"from": 30_000_00, "to": 40_000_00},
        "per_applicant_cap_pence": {"from": 10_000_00, "to": None},
        "delegation_limit_pence": {"from": 2_500_50, "to": 0},
    }


def test_delegation_limit_may_exceed_the_per_bid_cap(as_role, world: World) -> None:
    client = as_role("admin")
    response = client.post(f"/admin/fund-years/{world.scf_year.id}/edit", data=fund_year_form(
        year_start=str(world.scf_year.year_start), delegation_limit_pence="9000"))
    assert response.status_code == 302
    db.session.refresh(world.scf_year)
    assert world.scf_year.delegation_limit_pence == 9_000_00


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"closes_on": ["31", "3", "2030"]}, "closes_on", "The closing date must be the same as or after the opening date"),
        ({"per_bid_cap_pence": "30000.01"}, "per_bid_cap_pence", "The per-bid cap cannot be more than the budget"),
        ({"per_bid_cap_pence": "0"}, "per_bid_cap_pence", "The per-bid cap must be more than £0"),
        ({"per_applicant_cap_pence": "0.00"}, "per_applicant_cap_pence",
         "The per-applicant cap must be more than £0, or left empty for no cap"),
        ({"delegation_limit_pence": "-5"}, "delegation_limit_pence", "Amount must not be negative"),
        ({"budget_pence": "-1"}, "budget_pence", "Amount must not be negative"),
        ({"budget_pence": "12.345"}, "budget_pence", "Amount must not have more than two decimal places (pence)"),
        ({"budget_pence": "lots"}, "budget_pence", "Enter an amount in pounds, like 5000 or £5,000.50"),
        ({"budget_pence": ""}, "budget_pence", "Enter the budget"),
        ({"per_bid_cap_pence": ""}, "per_bid_cap_pence", "Enter the per-bid cap"),
        ({"delegation_limit_pence": ""}, "delegation_limit_pence", "Enter the delegation limit"),
        ({"year_start": ""}, "year_start", "Enter the year the financial year starts, like 2026"),
        ({"year_start": "2030-31"}, "year_start", "Enter the year the financial year starts as 4 digits, like 2026"),
        ({"year_start": "1999"}, "year_start", "Enter the year the financial year starts, between 2000 and 2099"),
        ({"opens_on": ["", "", ""]}, "opens_on", "Enter the opening date"),
        ({"opens_on": ["31", "2", "2030"]}, "opens_on", "The opening date must be a real date, like 27 3 2026"),
        ({"closes_on": ["31", "", "2031"]}, "closes_on", "The closing date must include a month"),
    ],
)
def test_fund_year_validation(as_role, world: World, overrides: dict[str, Any], field: str, message: str) -> None:
    client = as_role("admin")
    response = client.post(f"/admin/funds/{world.scf.id}/years/new", data=fund_year_form(**overrides))
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert message in error_messages(response)
    assert db.session.scalar(select(FundYear).where(FundYear.year_start == 2030)) is None
    assert events("fund_year.created") == []


def test_duplicate_financial_year_is_refused(as_role, world: World) -> None:
    client = as_role("admin")
    year = world.scf_year.year_start
    response = client.post(f"/admin/funds/{world.scf.id}/years/new", data=fund_year_form(year_start=str(year)))
    assert field_error(response, "year_start") == f"The Safer Communities Fund already has a {world.scf_year.label} year"
    # Moving another year onto it is refused too.
    response = client.post(f"/admin/fund-years/{world.closed_year.id}/edit", data=fund_year_form(year_start=str(year)))
    assert field_error(response, "year_start") == f"The Safer Communities Fund already has a {world.scf_year.label} year"
    # The same year in a different fund is fine.
    client.post("/admin/funds/new", data=fund_form())
    youth = db.session.scalar(select(Fund).where(Fund.name == "Youth Fund"))
    response = client.post(f"/admin/funds/{youth.id}/years/new", data=fund_year_form(year_start=str(year)))
    assert response.status_code == 302


def test_budget_cannot_drop_below_what_is_committed(as_role, world: World) -> None:
    client = as_role("admin")
    fund_year = world.scf_year
    fund_year.committed_pence = 12_500_00
    db.session.commit()
    soup = page(client.get(f"/admin/fund-years/{fund_year.id}/edit"))
    assert "£12,500.00 is already committed" in soup.find(attrs={"data-testid": "committed"}).get_text()
    form = fund_year_form(year_start=str(fund_year.year_start), budget_pence="12,499.99")
    response = client.post(f"/admin/fund-years/{fund_year.id}/edit", data=form)
    assert field_error(response, "budget_pence") == (
        "The budget cannot be less than the £12,500.00 already committed to approved awards")
    db.session.refresh(fund_year)
    assert fund_year.budget_pence == 20_000_00 and events("fund_year.updated") == []
    # Exactly what is committed is allowed.
    response = client.post(f"/admin/fund-years/{fund_year.id}/edit", data=form | {"budget_pence": "12500"})
    assert response.status_code == 302
    db.session.refresh(fund_year)
    assert fund_year.budget_pence == 12_500_00


def test_budget_cut_racing_an_award_is_a_field_error_not_an_overspend(app: Flask, world: World) -> None:
    """An award is committed (by another connection) after the admin's page loaded the fund-year."""
    fund_year = db.session.get(FundYear, world.scf_year.id)
    assert fund_year.committed_pence == 0
    with db.engine.begin() as other:
        other.execute(text("UPDATE fund_year SET committed_pence = 1500000 WHERE id = :id"),
                      {"id": fund_year.id})
    values = rules.FundYearValues(year_start=fund_year.year_start, budget_pence=10_000_00, per_bid_cap_pence=5_000_00,
                                  per_applicant_cap_pence=None, delegation_limit_pence=2_500_00,
                                  opens_on=fund_year.opens_on, closes_on=fund_year.closes_on)
    changed, problems = rules.update_fund_year(world.user("admin"), fund_year, values)
    assert not changed
    assert problems == {"budget_pence": "The budget cannot be less than the £15,000.00 already committed to approved awards"}
    db.session.rollback()
    fresh = db.session.get(FundYear, world.scf_year.id)
    assert (fresh.budget_pence, fresh.committed_pence) == (20_000_00, 15_000_00)


def test_year_of_a_fund_year_with_bids_cannot_change(as_role, world: World) -> None:
    db.session.add(Bid(organisation_id=world.csp.id, fund_year_id=world.closed_year.id,
                       created_by_id=world.user("applicant").id))
    db.session.commit()
    client = as_role("admin")
    response = client.post(f"/admin/fund-years/{world.closed_year.id}/edit", data=fund_year_form(year_start="2040"))
    assert field_error(response, "year_start") == "The financial year cannot be changed because bids have been made to it"
    # Other details can still change.
    year = str(world.closed_year.year_start)
    response = client.post(f"/admin/fund-years/{world.closed_year.id}/edit", data=fund_year_form(year_start=year))
    assert response.status_code == 302


# Outcome measures ----------------------------------------------------------------------------


@pytest.fixture()
def measures(world: World) -> list[OutcomeMeasure]:
    """The Home Office crime-reduction set on the Safer Communities Fund: three counts, an optional percentage,
    a yes/no."""
    fund = db.session.get(Fund, world.scf.id)
    assert load_standard_set(fund, "home-office-crime", None) == 5
    db.session.commit()
    return list(fund.measures)


def measure_form(**overrides: Any) -> dict[str, Any]:
    data = {"name": "Bikes marked", "guidance": "Bikes security-marked in the period", "unit": "count",
            "required": "yes", "category": "Outputs"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def measures_url(fund: Fund, tail: str = "") -> str:
    return f"/admin/funds/{fund.id}/measures{tail}"


def measure_url(measure: OutcomeMeasure, action: str) -> str:
    return f"/admin/funds/{measure.fund_id}/measures/{measure.id}/{action}"


def measure_rows(response: Any) -> dict[str, list[str]]:
    """The measures table: name -> [unit, required, category, status, actions]."""
    table = page(response).find(attrs={"data-testid": "measures"})
    rows = {}
    for tr in table.select("tbody tr"):
        name = tr.th.contents[0].get_text(strip=True) if tr.th.contents else ""
        cells = [td.get_text(" ", strip=True) for td in tr.select("td")]
        actions = [a.contents[0].strip() for a in tr.select("td a")]
        rows[name] = [*cells[:4], " ".join(actions)]
    return rows


def answer(measure: OutcomeMeasure, world: World) -> None:
    """A monitoring return of a running grant answers the measure."""
    agreement = make_agreement(world, "active")
    ret = agreement.returns[0]
    db.session.add(MeasureValue(return_id=ret.id, measure_id=measure.id, value=12))
    db.session.commit()


def measure_events(measure_id: int) -> list[str]:
    return [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "outcome_measure", AuditEvent.object_id == measure_id).order_by(AuditEvent.id))]


def test_the_measures_page_lists_a_funds_measures(as_role, world: World, measures: list[OutcomeMeasure]) -> None:
    client = as_role("admin")
    funds = page(client.get("/admin/funds"))
    assert funds.find("a", href=measures_url(world.scf))
    retire_measure(measures[1], world.user("admin"))
    db.session.commit()
    response = client.get(measures_url(world.scf))
    assert response.status_code == 200
    rows = measure_rows(response)
    assert list(rows) == [m.name for m in measures]
    assert rows["People reached by interventions"] == ["Number", "Required", "Outputs", "In use",
                                                       "Change Retire Delete"]
    assert rows["Homes or places made safer"] == ["Number", "Required", "Outputs", "Retired", "Change Delete"]
    assert rows["Participants reporting feeling safer"][:4] == ["Percentage", "Optional", "Outcomes", "In use"]
    assert rows["Delivered to plan"][0] == "Yes or no"
    # Another fund's page lists only its own.
    client.post("/admin/funds/new", data=fund_form())
    youth = db.session.scalar(select(Fund).where(Fund.name == "Youth Fund"))
    soup = page(client.get(measures_url(youth)))
    assert soup.find(attrs={"data-testid": "measures"}) is None
    assert "has no outcome measures yet" in soup.get_text()


def test_add_a_measure(as_role, world: World) -> None:
    client = as_role("admin")
    soup = page(client.get(measures_url(world.scf, "/new")))
    assert [label.get_text(strip=True) for label in soup.select("input[name=unit] + label")] == [
        "Number", "Percentage", "Money", "Yes or no"]
    response = client.post(measures_url(world.scf, "/new"), data=measure_form(unit="money", required="no",
                                                                              category=""))
    assert response.status_code == 302 and response.headers["Location"] == measures_url(world.scf)
    measure = db.session.scalar(select(OutcomeMeasure).where(OutcomeMeasure.fund_id == world.scf.id))
    assert (measure.name, measure.guidance, measure.unit, measure.required, measure.category, measure.retired_at) == (
        "Bikes marked", "Bikes security-marked in the period", "money", False, "", None)
    listing = client.get(measures_url(world.scf))
    assert "Bikes marked has been added to the Safer Communities Fund" in flash_text(listing)
    assert measure_rows(listing)["Bikes marked"][:4] == ["Money", "Optional", "None", "In use"]
    assert measure_events(measure.id) == ["outcome_measure.created"]
    assert events("outcome_measure.created")[0].actor_id == world.user("admin").id


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the name of the measure"),
        ({"name": "   "}, "name", "Enter the name of the measure"),
        ({"name": "x" * 201}, "name", "The name must be 200 characters or fewer"),
        ({"name": "people REACHED by interventions"}, "name",
         "Safer Communities Fund already has a measure called people REACHED by interventions"),
        ({"unit": None}, "unit", "Select the unit"),
        ({"unit": "kilograms"}, "unit", "Select the unit"),
        ({"required": None}, "required", "Select whether grantees must answer this measure"),
        ({"required": "maybe"}, "required", "Select whether grantees must answer this measure"),
        ({"category": "c" * 101}, "category", "The category must be 100 characters or fewer"),
        ({"guidance": "g" * 5001}, "guidance", "The guidance must be 5,000 characters or fewer"),
    ],
)
def test_measure_validation(as_role, world: World, measures: list[OutcomeMeasure], overrides: dict[str, Any],
                            field: str, message: str) -> None:
    client = as_role("admin")
    response = client.post(measures_url(world.scf, "/new"), data=measure_form(**overrides))
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert error_messages(response) == [message]
    assert page(response).title.get_text().startswith("Error:")
    assert db.session.scalar(select(db.func.count(OutcomeMeasure.id))) == 5
    # Changing a measure is checked the same way.
    response = client.post(measure_url(measures[2], "edit"), data=measure_form(**overrides))
    assert response.status_code == 200 and field_error(response, field) == message
    db.session.refresh(measures[2])
    assert measures[2].name == "Sessions delivered"
    assert len(events("outcome_measure.created")) == 5 and events("outcome_measure.updated") == []


def test_every_problem_with_a_measure_is_shown_at_once(as_role, world: World) -> None:
    response = as_role("admin").post(measures_url(world.scf, "/new"), data={"guidance": "g" * 5001})
    assert error_messages(response) == ["Enter the name of the measure",
                                        "The guidance must be 5,000 characters or fewer", "Select the unit",
                                        "Select whether grantees must answer this measure"]


def test_change_a_measure(as_role, world: World, measures: list[OutcomeMeasure]) -> None:
    client = as_role("admin")
    measure = measures[4]
    soup = page(client.get(measure_url(measure, "edit")))
    assert soup.find(id="name")["value"] == "Delivered to plan"
    assert soup.find("input", attrs={"name": "unit", "value": "yes_no"}).has_attr("checked")
    assert soup.find("input", attrs={"name": "required", "value": "yes"}).has_attr("checked")
    assert soup.find(id="category")["value"] == "Delivery"

    response = client.post(measure_url(measure, "edit"), data=measure_form(
        name="Delivered on time", guidance="", unit="yes_no", required="no", category="Delivery"))
    assert response.status_code == 302 and response.headers["Location"] == measures_url(world.scf)
    db.session.refresh(measure)
    assert (measure.name, measure.guidance, measure.required) == ("Delivered on time", "", False)
    assert "Delivered on time has been changed" in flash_text(client.get(measures_url(world.scf)))
    assert measure_events(measure.id) == ["outcome_measure.created", "outcome_measure.updated"]
    # Keeping its own name is fine; saving it unchanged records nothing.
    response = client.post(measure_url(measure, "edit"), data=measure_form(
        name="Delivered on time", guidance="", unit="yes_no", required="no", category="Delivery"))
    assert response.status_code == 302
    assert "Nothing was changed" in flash_text(client.get(measures_url(world.scf)))
    assert measure_events(measure.id) == ["outcome_measure.created", "outcome_measure.updated"]


def test_retire_a_measure(as_role, world: World, measures: list[OutcomeMeasure]) -> None:
    client = as_role("admin")
    measure = measures[0]
    soup = page(client.get(measure_url(measure, "retire")))
    assert soup.h1.get_text(strip=True) == "Retire People reached by interventions?"
    assert soup.select_one("main form button").get_text(strip=True) == "Retire measure"
    response = client.post(measure_url(measure, "retire"))
    assert response.status_code == 302 and response.headers["Location"] == measures_url(world.scf)
    db.session.refresh(measure)
    assert measure.retired_at is not None
    listing = client.get(measures_url(world.scf))
    assert "People reached by interventions has been retired" in flash_text(listing)
    assert measure_rows(listing)["People reached by interventions"][3:] == ["Retired", "Change Delete"]
    assert measure_events(measure.id) == ["outcome_measure.created", "outcome_measure.retired"]
    # Retiring it again is refused with the reason, on the page.
    assert page(client.get(measure_url(measure, "retire"))).find(attrs={"data-testid": "blocked"})
    response = client.post(measure_url(measure, "retire"))
    assert response.status_code == 409
    assert error_messages(response) == ["This measure is already retired. No change has been made."]
    assert measure_events(measure.id) == ["outcome_measure.created", "outcome_measure.retired"]


def test_delete_a_measure(as_role, world: World, measures: list[OutcomeMeasure]) -> None:
    client = as_role("admin")
    measure_id = measures[3].id
    soup = page(client.get(measure_url(measures[3], "delete")))
    assert soup.h1.get_text(strip=True) == "Delete Participants reporting feeling safer?"
    assert soup.select_one("main form button.govuk-button--warning").get_text(strip=True) == "Delete measure"
    response = client.post(measure_url(measures[3], "delete"))
    assert response.status_code == 302 and response.headers["Location"] == measures_url(world.scf)
    db.session.expire_all()
    assert db.session.get(OutcomeMeasure, measure_id) is None
    listing = client.get(measures_url(world.scf))
    assert "Participants reporting feeling safer has been deleted" in flash_text(listing)
    assert "Participants reporting feeling safer" not in measure_rows(listing)
    assert measure_events(measure_id) == ["outcome_measure.created", "outcome_measure.deleted"]


def test_an_answered_measure_cannot_be_changed_or_deleted_only_retired(as_role, world: World,
                                                                       measures: list[OutcomeMeasure]) -> None:
    measure = measures[0]
    answer(measure, world)
    client = as_role("admin")
    # The list offers only Retire for it.
    row = measure_rows(client.get(measures_url(world.scf)))["People reached by interventions"]
    assert row == ["Number", "Required", "Outputs", "In use Answered in returns", "Retire"]
    # Its change page says why, without a form.
    soup = page(client.get(measure_url(measure, "edit")))
    assert "cannot be changed" in soup.select_one(".govuk-warning-text").get_text()
    assert soup.select("main form") == []
    soup = page(client.get(measure_url(measure, "delete")))
    assert "cannot be deleted" in soup.find(attrs={"data-testid": "blocked"}).get_text()
    assert soup.select("main form") == []

    # Posted anyway, each is refused with the reason on the page, and nothing changes.
    response = client.post(measure_url(measure, "edit"), data=measure_form(name="People reached"))
    assert response.status_code == 409
    assert error_messages(response) == [
        "Returns have answered this measure, so it cannot be changed: retire it and add a new one. "
        "No change has been made."]
    response = client.post(measure_url(measure, "edit"), data=measure_form(required=None))  # whatever was typed
    assert response.status_code == 409
    response = client.post(measure_url(measure, "delete"))
    assert response.status_code == 409
    assert error_messages(response) == [
        "Returns have answered this measure, so it cannot be deleted: retire it instead. No change has been made."]
    assert "cannot be deleted" in page(response).find(id="form-problem").get_text()
    db.session.expire_all()
    kept = db.session.get(OutcomeMeasure, measure.id)
    assert (kept.name, kept.retired_at) == ("People reached by interventions", None)
    assert measure_events(measure.id) == ["outcome_measure.created"]

    # Retiring it is allowed, and then it has no actions left.
    assert client.post(measure_url(measure, "retire")).status_code == 302
    row = measure_rows(client.get(measures_url(world.scf)))["People reached by interventions"]
    assert row[3:] == ["Retired Answered in returns", ""]
    assert measure_events(measure.id) == ["outcome_measure.created", "outcome_measure.retired"]


def test_add_a_standard_set(as_role, world: World) -> None:
    client = as_role("admin")
    soup = page(client.get(measures_url(world.scf)))
    labels = [label.get_text(strip=True) for label in soup.select("input[name=set_key] + label")]
    assert labels == ["Ministry of Justice victims' services (11 measures)", "Home Office crime reduction (5 measures)"]
    # One the fund already has is not added twice.
    client.post(measures_url(world.scf, "/new"), data=measure_form(name="Victims referred"))
    response = client.post(measures_url(world.scf, "/standard-set"), data={"set_key": "moj-victims"})
    assert response.status_code == 302 and response.headers["Location"] == measures_url(world.scf)
    listing = client.get(measures_url(world.scf))
    assert ("10 measures from the Ministry of Justice victims' services set added to the Safer Communities Fund"
            in flash_text(listing))
    assert len(measure_rows(listing)) == 11
    assert len(events("outcome_measure.created")) == 11

    response = client.post(measures_url(world.scf, "/standard-set"), data={"set_key": "moj-victims"})
    assert response.status_code == 200
    assert field_error(response, "set_key") == (
        "The Safer Communities Fund already has every measure in the Ministry of Justice victims' services set")
    response = client.post(measures_url(world.scf, "/standard-set"), data={"set_key": "lottery"})
    assert field_error(response, "set_key") == "Select a standard set"
    response = client.post(measures_url(world.scf, "/standard-set"), data={})
    assert error_messages(response) == ["Select a standard set"]
    assert len(events("outcome_measure.created")) == 11


def test_measure_ids_of_another_fund_or_none_are_404(as_role, world: World, measures: list[OutcomeMeasure]) -> None:
    client = as_role("admin")
    client.post("/admin/funds/new", data=fund_form())
    youth = db.session.scalar(select(Fund).where(Fund.name == "Youth Fund"))
    measure = measures[0]
    for action in ("edit", "retire", "delete"):
        for url in (f"/admin/funds/{youth.id}/measures/{measure.id}/{action}",
                    f"/admin/funds/{world.scf.id}/measures/999/{action}",
                    f"/admin/funds/999/measures/{measure.id}/{action}"):
            assert client.get(url).status_code == 404, url
            assert client.post(url, data=measure_form()).status_code == 404, url
    for url in ("/admin/funds/999/measures", "/admin/funds/999/measures/new", "/admin/funds/999/measures/standard-set"):
        assert client.post(url, data={"set_key": "moj-victims", **measure_form()}).status_code in (404, 405), url
    assert client.get("/admin/funds/999/measures").status_code == 404
    db.session.expire_all()
    assert db.session.get(OutcomeMeasure, measure.id).retired_at is None
    assert len(events("outcome_measure.created")) == 5 and not events("outcome_measure.retired")


@pytest.mark.parametrize("role", ["applicant", "officer", "approver", "finance"])
def test_only_admins_manage_measures(app: Flask, as_role, world: World, measures: list[OutcomeMeasure],
                                     role: str) -> None:
    client = as_role(role)
    measure = measures[0]
    forms = [measures_url(world.scf, "/new"), *(measure_url(measure, action) for action in ("edit", "retire", "delete"))]
    requests = [("GET", measures_url(world.scf)), ("POST", measures_url(world.scf, "/standard-set")),
                *(("GET", url) for url in forms), *(("POST", url) for url in forms)]
    for method, url in requests:
        response = client.open(url, method=method, data={"set_key": "moj-victims", **measure_form()})
        assert response.status_code == 403, (method, url)
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count(OutcomeMeasure.id))) == 5
    assert db.session.get(OutcomeMeasure, measure.id).retired_at is None
    assert len(events("outcome_measure.created")) == 5 and events("outcome_measure.retired") == []


def test_measure_forms_carry_a_csrf_token(app: Flask, as_role, world: World, measures: list[OutcomeMeasure]) -> None:
    client = as_role("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for url in (measures_url(world.scf), measures_url(world.scf, "/new"), measure_url(measures[0], "edit"),
                    measure_url(measures[0], "retire"), measure_url(measures[0], "delete")):
            for form in page(client.get(url)).select("main form[method=post]"):
                assert form.select_one("input[name=csrf_token]")["value"], url
        assert client.post(measure_url(measures[0], "delete")).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.get(OutcomeMeasure, measures[0].id) is not None


# Organisations -------------------------------------------------------------------------------


def test_create_and_edit_an_organisation(as_role, world: World) -> None:
    client = as_role("admin")
    response = client.post("/admin/organisations/new", data=org_form(org_identifier=" gb-lae-PTE "))
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Safer Peterborough Partnership"))
    assert (org.org_type, org.org_identifier, org.active) == ("csp", "GB-LAE-PTE", True)
    listing = client.get("/admin/organisations")
    assert "Safer Peterborough Partnership has been added" in flash_text(listing)
    row = next(tr for tr in page(listing).select("tbody tr") if "Safer Peterborough" in tr.th.get_text())
    for hidden in row.select(".govuk-visually-hidden"):  # read as the page shows it
        hidden.decompose()
    assert [td.get_text(strip=True) for td in row.select("td")][:4] == [
        "Community Safety Partnership", "GB-LAE-PTE", "0", "Active"]
    assert row.select_one("td a[href]")["href"] == f"/admin/users?organisation={org.id}"
    [created] = events("organisation.created")
    assert created.details["org_identifier"] == {"from": None, "to": "GB-LAE-PTE"}

    soup = page(client.get(f"/admin/organisations/{org.id}/edit"))
    assert soup.find(id="active").has_attr("checked")
    response = client.post(f"/admin/organisations/{org.id}/edit",
                           data=org_form(org_type="other", org_identifier="", active=""))
    assert response.status_code == 302
    db.session.refresh(org)
    assert (org.org_type, org.org_identifier, org.active) == ("other", None, False)
    [updated] = events("organisation.updated")
    assert updated.details == {"org_type": {"from": "csp", "to": "other"},
                               "org_identifier": {"from": "GB-LAE-PTE", "to": None},
                               "active": {"from": True, "to": False}}


@pytest.mark.parametrize(("typed", "kept"), [
    ("GB-CHC-1234567", "GB-CHC-1234567"), ("GB-COH-01234567", "GB-COH-01234567"), ("GB-LAE-CAB", "GB-LAE-CAB"),
    ("360G-opcccambs-FCSP", "360G-opcccambs-FCSP"), ("XI-PB-123456", "XI-PB-123456"),
    # List codes with underscores or three parts, which a pattern of letters and two parts refused.
    ("AE-RK_CR-12345", "AE-RK_CR-12345"), ("CN-11-CR-91110000", "CN-11-CR-91110000"),
    ("us-ca_cr-C0806592", "US-CA_CR-C0806592"), (" gb-chc-123 4567 ", "GB-CHC-1234567"),
])
def test_org_identifier_accepts_every_org_id_guide_list(as_role, world: World, typed: str, kept: str) -> None:
    response = as_role("admin").post("/admin/organisations/new", data=org_form(org_identifier=typed))
    assert response.status_code == 302
    assert db.session.scalar(select(Organisation.org_identifier).where(Organisation.name == org_form()["name"])) == kept


def test_registration_details_are_kept_as_registers_write_them(as_role, world: World) -> None:
    response = as_role("admin").post("/admin/organisations/new", data=org_form(
        charity_number=" 1234567 ", company_number="1234567", postcode="pe158nq", district_code="e07000010",
        district_name="Fenland"))
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == org_form()["name"]))
    assert (org.charity_number, org.company_number, org.postcode, org.district_code, org.district_name) == (
        "1234567", "01234567", "PE15 8NQ", "E07000010", "Fenland")
    [created] = events("organisation.created")
    assert "PE15 8NQ" in str(created.details)


UNKNOWN_LIST = ("Enter an identifier that starts with the code of a list on org-id.guide, like GB-LAE-CAB, "
                "GB-CHC-1234567 or GB-COH-01234567")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the name of the organisation"),
        ({"name": "fenland csp"}, "name", "There is already an organisation called fenland csp"),
        ({"org_type": None}, "org_type", "Select the type of organisation"),
        ({"org_type": "council"}, "org_type", "Select the type of organisation"),
        ({"org_identifier": "1234567"}, "org_identifier", UNKNOWN_LIST),
        ({"org_identifier": "GB-CHC"}, "org_identifier", UNKNOWN_LIST),
        ({"org_identifier": "Fenland council"}, "org_identifier", UNKNOWN_LIST),
        ({"org_identifier": "GB-CHC-<script>"}, "org_identifier", UNKNOWN_LIST),
        ({"org_identifier": "GB-MADEUP-123"}, "org_identifier", UNKNOWN_LIST),
        ({"org_identifier": "XI-GRID-grid.5335.0"}, "org_identifier",
         "XI-GRID is a withdrawn list on org-id.guide: use the organisation's identifier on a current list"),
        ({"charity_number": "12345"}, "charity_number",
         "Enter the charity number as the register writes it, like 1234567, SC012345 or NIC100002"),
        ({"company_number": "AB-1"}, "company_number",
         "Enter the company number as Companies House writes it, like 01234567 or SC123456"),
        ({"postcode": "PE15"}, "postcode", "Enter a real postcode, like PE15 8NQ"),
        ({"district_code": "E0700001", "district_name": "Fenland"}, "district_code",
         "Enter the district's ONS code: a letter and 8 digits, like E07000010"),
        ({"district_code": "E07000010"}, "district_name", "Enter the name of the district"),
        ({"district_name": "Fenland"}, "district_code", "Enter the district's ONS code, like E07000010"),
    ],
)
def test_organisation_validation(as_role, world: World, overrides: dict[str, Any], field: str, message: str) -> None:
    response = as_role("admin").post("/admin/organisations/new", data=org_form(**overrides))
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert error_messages(response) == [message]
    assert db.session.scalar(select(db.func.count(Organisation.id))) == 3


def test_renaming_an_organisation_to_another_name_in_use(as_role, world: World) -> None:
    response = as_role("admin").post(f"/admin/organisations/{world.csp.id}/edit",
                                     data=org_form(name="Huntingdonshire CSP", active="y"))
    assert field_error(response, "name") == "There is already an organisation called Huntingdonshire CSP"


# Users ---------------------------------------------------------------------------------------


def test_create_a_user(as_role, world: World, client: FlaskClient) -> None:
    admin = as_role("admin")
    soup = page(admin.get("/admin/users/new"))
    assert [label.get_text(strip=True) for label in soup.select(".govuk-radios__label")] == [
        "Applicant (grantee organisation)", "Commissioning officer", "Approver", "Finance", "Administrator"]
    options = [option.get_text(strip=True) for option in soup.select("#organisation_id option")]
    assert options == ["No organisation", "Fenland CSP", "Huntingdonshire CSP", "OPCC"]

    response = admin.post("/admin/users/new", data=user_form(world))
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.person@fenland.example"))
    assert (user.name, user.role, user.organisation_id, user.active) == ("New Person", "applicant", world.csp.id, True)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert "An account has been created for New Person" in flash_text(admin.get("/admin/users"))

    [created] = events("user.created")
    assert created.object_id == user.id and created.actor_id == world.user("admin").id
    assert created.details["role"] == {"from": None, "to": "applicant"}
    assert NEW_PASSWORD not in str(created.details) + created.note and "password" not in str(created.details)

    # The new user can sign in with that password.
    admin.post("/sign-out")
    response = admin.post("/sign-in", data={"email": "new.person@fenland.example", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"


def test_staff_user_needs_no_organisation(as_role, world: World) -> None:
    response = as_role("admin").post("/admin/users/new", data=user_form(
        world, email="fin2@opcc.example", role="finance", organisation_id=""))
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "fin2@opcc.example"))
    assert user.role == "finance" and user.organisation_id is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": ""}, "email", "Enter an email address"),
        ({"email": "not-an-email"}, "email", "Enter an email address in the correct format, like name@example.com"),
        ({"email": "a@b"}, "email", "Enter an email address in the correct format, like name@example.com"),
        ({"email": "APPLICANT@fenland.example"}, "email", "There is already a user with this email address"),
        ({"name": ""}, "name", "Enter the person's full name"),
        ({"role": None}, "role", "Select a role"),
        ({"role": "superuser"}, "role", "Select a role"),
        ({"organisation_id": ""}, "organisation_id", "Select the organisation this applicant works for"),
        ({"organisation_id": "999"}, "organisation_id", "Select an organisation from the list"),
        ({"organisation_id": "abc"}, "organisation_id", "Select an organisation from the list"),
        ({"password": ""}, "password", "Enter an initial password"),
        ({"password": "short"}, "password", "Password must be at least 12 characters"),
        ({"password": "password1234"}, "password", "Password is too easy to guess: this is a very common password. "
                                                    "Try four or more words that have nothing to do with each other"),
        ({"password": "new.person@fenland.example"}, "password", "Password must not be your email address"),
    ],
)
def test_new_user_validation(as_role, world: World, overrides: dict[str, Any], field: str, message: str) -> None:
    response = as_role("admin").post("/admin/users/new", data=user_form(world, **overrides))
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert message in error_messages(response)
    assert events("user.created") == []
    # The password is never sent back to the browser.
    assert NEW_PASSWORD not in response.get_data(as_text=True)


def test_inactive_organisations_are_not_offered_for_new_users(as_role, world: World) -> None:
    world.other_csp.active = False
    db.session.commit()
    soup = page(as_role("admin").get("/admin/users/new"))
    assert "Huntingdonshire CSP" not in [o.get_text(strip=True) for o in soup.select("#organisation_id option")]
    # But a user already in it keeps it on their edit page.
    soup = page(as_role("admin").get(f"/admin/users/{world.user('other_applicant').id}/edit"))
    selected = soup.select_one("#organisation_id option[selected]")
    assert selected.get_text(strip=True) == "Huntingdonshire CSP (inactive)"


def test_edit_a_user(as_role, world: World) -> None:
    client = as_role("admin")
    officer = world.user("officer")
    soup = page(client.get(f"/admin/users/{officer.id}/edit"))
    assert soup.find(id="name")["value"] == "Officer Person"
    assert soup.find("input", attrs={"name": "role", "value": "officer"}).has_attr("checked")
    assert soup.select_one("#organisation_id option[selected]").get_text(strip=True) == "OPCC"
    assert soup.find(id="active").has_attr("checked")

    response = client.post(f"/admin/users/{officer.id}/edit",
                           data=edit_user_form(officer, name="Olu Officer", role="approver", organisation_id=""))
    assert response.status_code == 302
    db.session.refresh(officer)
    assert (officer.name, officer.role, officer.organisation_id, officer.active) == ("Olu Officer", "approver", None, True)
    [updated] = events("user.updated")
    assert updated.details == {"name": {"from": "Officer Person", "to": "Olu Officer"},
                               "role": {"from": "officer", "to": "approver"},
                               "organisation_id": {"from": world.opcc.id, "to": None}}


def test_an_applicant_must_keep_an_organisation(as_role, world: World) -> None:
    applicant = world.user("applicant")
    response = as_role("admin").post(f"/admin/users/{applicant.id}/edit",
                                     data=edit_user_form(applicant, organisation_id=""))
    assert field_error(response, "organisation_id") == "Select the organisation this applicant works for"
    officer = world.user("officer")
    response = as_role("admin").post(f"/admin/users/{officer.id}/edit",
                                     data=edit_user_form(officer, role="applicant", organisation_id=""))
    assert field_error(response, "organisation_id") == "Select the organisation this applicant works for"
    db.session.refresh(officer)
    assert officer.role == "officer"


def test_deactivated_user_loses_their_existing_session(app: Flask, world: World) -> None:
    officer = world.user("officer")
    officer_client, admin = app.test_client(), app.test_client()
    isolated(app, sign_in, officer_client, officer)
    isolated(app, sign_in, admin, world.user("admin"))
    home = officer_home(app)
    assert get(app, officer_client, home).status_code == 200

    response = post(app, admin, f"/admin/users/{officer.id}/edit", data=edit_user_form(officer, active=None))
    assert response.status_code == 302
    assert "Officer Person has been deactivated and signed out" in flash_text(get(app, admin, "/admin/users"))
    db.session.refresh(officer)
    assert officer.active is False and officer.session_token is None
    [event] = events("user.deactivated")
    assert (event.from_state, event.to_state, event.details) == ("active", "deactivated",
                                                                 {"active": {"from": True, "to": False}})

    # The officer's old cookie no longer works, and they cannot sign in again.
    response = get(app, officer_client, home)
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    response = post(app, officer_client, "/sign-in", data={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 200

    # Reactivating lets them sign in afresh (the old cookie stays dead).
    post(app, admin, f"/admin/users/{officer.id}/edit", data=edit_user_form(officer))
    assert len(events("user.reactivated")) == 1
    isolated(app, sign_in, officer_client, officer)
    assert get(app, officer_client, home).status_code == 200


def test_admin_cannot_deactivate_themself_or_drop_their_admin_role(as_role, world: World) -> None:
    admin_user = world.user("admin")
    client = as_role("admin")
    response = client.post(f"/admin/users/{admin_user.id}/edit", data=edit_user_form(admin_user, active=None))
    assert field_error(response, "active") == "You cannot deactivate your own account"
    response = client.post(f"/admin/users/{admin_user.id}/edit", data=edit_user_form(admin_user, role="officer"))
    assert field_error(response, "role") == "You cannot remove your own administrator role"
    db.session.refresh(admin_user)
    assert admin_user.active and admin_user.role == "admin" and admin_user.session_token
    assert client.get("/admin/").status_code == 200
    # Their own name can change.
    response = client.post(f"/admin/users/{admin_user.id}/edit", data=edit_user_form(admin_user, name="Ada Admin"))
    assert response.status_code == 302


def test_admin_sets_a_users_password(app: Flask, world: World) -> None:
    officer = world.user("officer")
    officer_client, admin = app.test_client(), app.test_client()
    isolated(app, sign_in, officer_client, officer)
    isolated(app, sign_in, admin, world.user("admin"))
    home = officer_home(app)

    url = f"/admin/users/{officer.id}/password"
    response = post(app, admin, url, data={"password": "short", "confirm": "short"})
    assert field_error(response, "password") == "Password must be at least 12 characters"
    response = post(app, admin, url, data={"password": officer.email, "confirm": officer.email})
    assert field_error(response, "password") == "Password must not be your email address"
    response = post(app, admin, url, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert field_error(response, "confirm") == "The passwords do not match"
    response = post(app, admin, url, data={"password": "", "confirm": ""})
    assert error_messages(response) == ["Enter a new password", "Confirm the new password"]
    assert NEW_PASSWORD not in response.get_data(as_text=True)
    db.session.refresh(officer)
    assert verify_password(officer.password_hash, PASSWORD)
    assert events("user.password_set_by_admin") == []
    assert get(app, officer_client, home).status_code == 200

    response = post(app, admin, url, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    db.session.refresh(officer)
    assert verify_password(officer.password_hash, NEW_PASSWORD)
    [event] = events("user.password_set_by_admin")
    assert event.actor_id == world.user("admin").id and event.object_id == officer.id
    # No audit event anywhere holds the password.
    for row in db.session.scalars(select(AuditEvent)):
        assert NEW_PASSWORD not in f"{row.note} {row.details}"
    # The officer's session has ended; the new password works, the old one does not.
    assert get(app, officer_client, home).headers["Location"].startswith("/sign-in")
    response = post(app, officer_client, "/sign-in", data={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 200
    response = post(app, officer_client, "/sign-in", data={"email": officer.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
    # The admin's own session carries on.
    assert get(app, admin, "/admin/").status_code == 200


def test_user_list_filters(as_role, world: World) -> None:
    client = as_role("admin")

    def names(response: Any) -> list[str]:
        return [th.get_text(strip=True) for th in page(response).select("[data-testid=users] tbody th")]

    everyone = names(client.get("/admin/users"))
    assert len(everyone) == 7
    assert names(client.get("/admin/users?role=officer")) == ["Officer Person", "Second Officer"]
    assert names(client.get(f"/admin/users?organisation={world.csp.id}")) == ["Tom Hughes"]
    assert names(client.get(f"/admin/users?role=applicant&organisation={world.other_csp.id}")) == ["Hana Hunts"]
    assert names(client.get(f"/admin/users?role=finance&organisation={world.csp.id}")) == []
    # Nonsense filters are ignored, not a crash.
    for query in ("role=wizard", "organisation=abc", "role=&organisation=", "q=%20%20"):
        response = client.get(f"/admin/users?{query}")
        assert response.status_code == 200 and names(response) == everyone
    # An organisation that does not exist is said to, with no one in it.
    missing = client.get("/admin/users?organisation=999")
    assert names(missing) == []
    assert "an organisation that does not exist" in page(missing).select_one("[data-testid=organisation-filter]").text
    # Search: any part of the name, email or organisation, whatever the case; % and _ are plain characters.
    assert names(client.get("/admin/users?q=OFFICER")) == ["Officer Person", "Second Officer"]
    assert names(client.get("/admin/users?q=hughes")) == ["Tom Hughes"]
    assert names(client.get(f"/admin/users?q={world.other_csp.name[:8].upper()}")) == ["Hana Hunts"]
    assert names(client.get("/admin/users?q=%25")) == []
    assert names(client.get("/admin/users?q=officer&role=approver")) == []


# Outbox --------------------------------------------------------------------------------------


def test_outbox_lists_newest_first_and_shows_a_message(as_role, world: World) -> None:
    first = queue_email("a@example.com", "First message", "Hello A")
    db.session.flush()
    second = queue_email("b@example.com", "Second message", "Hello B\n\nhttps://example.com/link")
    db.session.flush()
    second.created_at = first.created_at.replace(year=first.created_at.year + 1)
    from grants.core.models import utcnow

    first.sent_at = utcnow()
    db.session.commit()

    client = as_role("admin")
    soup = page(client.get("/admin/outbox"))
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in soup.select("[data-testid=outbox] tbody tr")]
    assert [row[0] for row in rows] == ["b@example.com", "a@example.com"]
    assert rows[0][3] == "Not sent" and rows[1][3] != "Not sent"

    link = soup.find("a", string="Second message")["href"]
    assert link == f"/admin/outbox/{second.id}"
    response = client.get(link)
    assert page(response).find(attrs={"data-testid": "body"}).get_text() == "Hello B\n\nhttps://example.com/link"
    assert page(response).h1.get_text(strip=True) == "Second message"
    [viewed] = events("outbox.viewed")
    assert viewed.object_type == "outbox_email" and viewed.object_id == second.id


def test_outbox_shows_password_reset_emails_without_their_links(app: Flask, client: FlaskClient, as_role,
                                                                  world: World) -> None:
    """An administrator who could read a live reset link could take over the account: the outbox keeps the
    email with its link removed; only the recipient ever gets the link."""
    client.post("/forgot-password", data={"email": world.user("applicant").email})
    with app_sending_to(app) as mail:
        assert app.test_cli_runner().invoke(args=["send-mail"]).output.strip() == "Sent 1 message(s)"
    [sent] = mail.received
    token = sent.get_content().split("/reset-password/")[1].split()[0]
    admin = as_role("admin")
    listing = admin.get("/admin/outbox").get_data(as_text=True)
    assert page(admin.get("/admin/outbox")).find("a", string="Reset your password")
    db.session.rollback()
    message = db.session.scalar(select(OutboxEmail))
    shown = admin.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    body = page(admin.get(f"/admin/outbox/{message.id}")).find(attrs={"data-testid": "body"}).get_text()
    assert LINK_REMOVED in body and "Use this link to choose a new password" in body
    for text_shown in (listing, shown):
        assert "/reset-password/" not in text_shown and token not in text_shown


def test_outbox_pages_do_not_break_on_odd_page_numbers(as_role, world: World, email_id: int) -> None:
    client = as_role("admin")
    for query in ("page=0", "page=-3", "page=abc"):
        response = client.get(f"/admin/outbox?{query}")
        assert response.status_code == 200
        assert page(response).find("a", string="Hello")["href"] == f"/admin/outbox/{email_id}"
    response = client.get("/admin/outbox?page=999")
    assert response.status_code == 200 and "There are no emails on this page" in response.get_data(as_text=True)


def test_a_problem_belonging_to_no_field_is_shown_in_the_summary(as_role, world: World, monkeypatch) -> None:
    monkeypatch.setattr(rules, "update_organisation", lambda *args: (False, {rules.FORM: rules.CLASHED}))
    response = as_role("admin").post(f"/admin/organisations/{world.csp.id}/edit", data=org_form(active="y"))
    assert response.status_code == 200
    assert error_messages(response) == [rules.CLASHED]
    assert page(response).select_one(".govuk-error-summary__list a")["href"] == "#form-problem"
    assert rules.CLASHED in page(response).find(id="form-problem").get_text()
