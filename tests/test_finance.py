"""The finance page and its downloads: who may see them, bad choices, the files, the audit trail, the command."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from exports.workbook import SPREADSHEET_MIME
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import AuditEvent
from tests.conftest import World, error_messages, field_error, page
from tests.test_exports import YEAR, Grants, data_rows, make_grants

DOWNLOADS = {
    "grants-register": "/finance/exports/grants-register.xlsx?year=2025",
    "government-return": "/finance/exports/government-return.xlsx?year=2025&period=H1&source=moj",
    "payments": "/finance/exports/payments.xlsx?year=2025&period=Q2",
}
STAFF = ("finance", "officer", "approver", "admin")


@pytest.fixture()
def grants(world: World) -> Grants:
    return make_grants(world)


def audit_events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.downloaded")
                                   .order_by(AuditEvent.id)))


# --- who may see what -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/finance/", *DOWNLOADS.values()])
def test_signed_out_people_are_sent_to_sign_in(client: FlaskClient, world: World, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("url", ["/finance/", *DOWNLOADS.values()])
def test_applicants_are_refused(as_role: Any, grants: Grants, url: str) -> None:
    assert as_role("applicant").get(url).status_code == 403
    assert audit_events() == []


@pytest.mark.parametrize("role", STAFF)
def test_staff_see_the_finance_page(as_role: Any, grants: Grants, role: str) -> None:
    response = as_role(role).get("/finance/")
    assert response.status_code == 200
    soup = page(response)
    assert soup.h1.get_text(strip=True) == "Finance and exports"
    for name in DOWNLOADS:
        form = soup.select_one(f'[data-testid="export-{name}"] form')
        assert form["method"] == "get" and form["action"].endswith(f"/finance/exports/{name}.xlsx")
    # Every select has a label; the CSP forbids inline script and style.
    for select_ in soup.select("select"):
        assert soup.find("label", attrs={"for": select_["id"]}) is not None
    assert not soup.select("[style]") and not [s for s in soup.select("script") if not s.get("src")]
    years = [o["value"] for o in soup.select("#grants-register-year option")]
    assert str(YEAR) in years


@pytest.mark.parametrize("role", STAFF)
def test_staff_can_download(as_role: Any, grants: Grants, role: str) -> None:
    response = as_role(role).get(DOWNLOADS["grants-register"])
    assert response.status_code == 200
    assert response.mimetype == SPREADSHEET_MIME


# --- the downloads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "filename", "sheet", "period"), [
    ("grants-register", "grants-register-2025-26.xlsx", "Grants", "2025-26"),
    ("government-return", "government-return-moj-2025-26-H1.xlsx", "Grants", "2025-26 H1"),
    ("payments", "payments-2025-26-Q2.xlsx", "Payments", "2025-26 Q2"),
])
def test_download_is_a_spreadsheet_and_is_recorded(as_role: Any, grants: Grants, name: str, filename: str,
                                                   sheet: str, period: str) -> None:
    finance = grants.world.user("finance")
    response = as_role("finance").get(DOWNLOADS[name])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == SPREADSHEET_MIME
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and f"filename={filename}" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[0] == sheet and book.sheetnames[-1] == "About"
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
    assert about["Made by"] == f"{finance.name} ({finance.email})"
    assert about["Period"] == period
    rows = data_rows(book[sheet])
    assert about["Rows of data"] == len(rows) > 0
    [event] = audit_events()
    assert event.actor_id == finance.id and event.object_type == "export"
    assert event.details["export"] == name and event.details["period"] == period
    assert event.details["rows"] == len(rows)


def test_the_finance_page_points_to_the_published_open_data(as_role: Any, grants: Grants) -> None:
    soup = page(as_role("finance").get("/finance/"))
    assert soup.find("a", href="/grants-awarded#open-data") is not None


def test_government_return_download_for_the_home_office(as_role: Any, grants: Grants) -> None:
    response = as_role("officer").get("/finance/exports/government-return.xlsx?year=2025&period=Q2&source=home_office")
    assert response.status_code == 200
    assert "government-return-home-office-2025-26-Q2.xlsx" in response.headers["Content-Disposition"]
    rows = data_rows(load_workbook(io.BytesIO(response.data))["Grants"])
    assert {r["Purpose"] for r in rows} == {"Street lights", "Q2 award"}


# --- bad choices give field errors, never a 500 ---------------------------------------------------------


@pytest.mark.parametrize(("url", "field_id", "message"), [
    ("/finance/exports/grants-register.xlsx", "grants-register-year", "Choose a financial year"),
    ("/finance/exports/grants-register.xlsx?year=abc", "grants-register-year", "Choose a financial year from the list"),
    ("/finance/exports/grants-register.xlsx?year=1999", "grants-register-year", "Choose a financial year from the list"),
    ("/finance/exports/grants-register.xlsx?year=%D9%A2%D9%A0%D9%A2%D9%A5", "grants-register-year",
     "Choose a financial year from the list"),
    ("/finance/exports/payments.xlsx?year=2025&period=Q9", "payments-period", "Choose a period from the list"),
    ("/finance/exports/payments.xlsx?year=2025&period=", "payments-period", "Choose a period"),
    ("/finance/exports/payments.xlsx?year=99999999999999999999999&period=Q1", "payments-year",
     "Choose a financial year from the list"),
    ("/finance/exports/government-return.xlsx?year=2025&period=H1", "government-return-source",
     "Choose who the return is for"),
    ("/finance/exports/government-return.xlsx?year=2025&period=H1&source=opcc", "government-return-source",
     "Choose the Ministry of Justice or the Home Office"),
    ("/finance/exports/government-return.xlsx?year=2025&period=Q2&source=moj", "government-return-period",
     "Ministry of Justice returns are six-monthly: choose H1, H2 or the whole financial year"),
    ("/finance/exports/government-return.xlsx?year=2025&period=H1&source=home_office", "government-return-period",
     "Home Office returns are quarterly: choose Q1, Q2, Q3, Q4 or the whole financial year"),
])
def test_bad_choices_are_shown_beside_their_fields(as_role: Any, grants: Grants, url: str, field_id: str,
                                                   message: str) -> None:
    response = as_role("finance").get(url)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert field_error(response, field_id) == message
    assert message in error_messages(response)
    link = page(response).select_one(".govuk-error-summary__list a")
    assert link["href"] == f"#{field_id}" and page(response).find(id=field_id) is not None
    assert audit_events() == []


def test_several_problems_at_once_and_the_choices_are_kept(as_role: Any, grants: Grants) -> None:
    response = as_role("finance").get("/finance/exports/government-return.xlsx?year=x&period=Q7&source=moj")
    assert response.status_code == 400
    assert field_error(response, "government-return-year") == "Choose a financial year from the list"
    assert field_error(response, "government-return-period") == "Choose a period from the list"
    soup = page(response)
    assert soup.select_one("#government-return-source option[selected]")["value"] == "moj"
    assert soup.title.get_text().startswith("Error:")


# --- what is coming up ----------------------------------------------------------------------------------


def test_finance_page_shows_payments_due_soon_and_overdue_returns(as_role: Any, grants: Grants) -> None:
    today = uk_today()
    g = grants
    award = g.award("soon", g.world.csp, g.years["moj"], amount=10_000_00, approved_at=g.awards["victims"].approved_at,
                    title="Due soon")
    agreement = g.agreement("soon", award, status="active", start=today - timedelta(days=200),
                            end=today + timedelta(days=200))
    due_soon = g.payment("due_soon", agreement, 1_234_00, today + timedelta(days=10))
    past_due = g.payment("past_due", agreement, 500_00, today - timedelta(days=3))
    too_late = g.payment("too_late", agreement, 700_00, today + timedelta(days=31))
    paid = g.payment("paid_soon", agreement, 800_00, today + timedelta(days=5), status="paid", paid_on=today)
    g.monitoring_return(agreement, "H1", status="due", due_on=today - timedelta(days=1))
    g.monitoring_return(agreement, "H2", status="due", due_on=today + timedelta(days=1))
    db.session.commit()

    soup = page(as_role("finance").get("/finance/"))
    listed = soup.select_one('[data-testid="payments-due"]').get_text(" ", strip=True)
    assert due_soon.reference in listed and past_due.reference in listed
    assert too_late.reference not in listed and paid.reference not in listed
    # Scheduled payments from the fixture are all long past due (2025), so they are listed too.
    assert g.payments["bikes_due"].reference in listed
    assert "Past due" in listed
    overdue = soup.select_one('[data-testid="overdue-returns"]').get_text(" ", strip=True)
    # Overdue: this H1 return (due yesterday), the fixture's returned H2 return (due 1 May 2026) if that has passed.
    expected = 1 + (1 if today > date(2026, 5, 1) else 0)
    assert soup.select_one('[data-testid="overdue-total"]').get_text(strip=True) == str(expected)
    assert "Victims' Services Fund" in overdue


def test_finance_page_with_nothing_due(as_role: Any, world: World) -> None:
    soup = page(as_role("finance").get("/finance/"))
    assert "No scheduled payments are due" in soup.select_one('[data-testid="payments-due"]').get_text()
    assert "No monitoring returns are overdue" in soup.select_one('[data-testid="overdue-returns"]').get_text()


# --- the command line -----------------------------------------------------------------------------------


def test_export_command_writes_the_file(app: Flask, grants: Grants, tmp_path: Path) -> None:
    target = tmp_path / "moj.xlsx"
    result = app.test_cli_runner().invoke(args=["export", "government-return", "--year", "2025", "--period", "H1",
                                                "--source", "moj", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 row(s)" in result.output
    book = load_workbook(target)
    assert len(data_rows(book["Grants"])) == 2
    assert not list(tmp_path.glob("*.part"))
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.written"))
    assert event is not None and event.details["export"] == "government-return"


@pytest.mark.parametrize("name", ["grants-register", "payments"])
def test_export_command_for_each_export(app: Flask, grants: Grants, tmp_path: Path, name: str) -> None:
    target = tmp_path / f"{name}.xlsx"
    result = app.test_cli_runner().invoke(args=["export", name, "--year", "2025", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert load_workbook(target).sheetnames[-1] == "About"


def test_export_command_refuses_bad_choices(app: Flask, grants: Grants, tmp_path: Path) -> None:
    target = tmp_path / "bad.xlsx"
    result = app.test_cli_runner().invoke(args=["export", "government-return", "--year", "2025", "--period", "Q1",
                                                "--source", "moj", "--output", str(target)])
    assert result.exit_code == 2
    assert "six-monthly" in result.output
    assert not target.exists()


def test_export_command_reports_a_folder_that_does_not_exist(app: Flask, grants: Grants, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "register.xlsx"
    result = app.test_cli_runner().invoke(args=["export", "grants-register", "--year", "2025", "--output", str(target)])
    assert result.exit_code == 1 and "Could not write" in result.output
