"""Standard conditions kept as versions an administrator manages, each agreement keeping the version and text it was
issued with beside the budget it binds to; and the agreement as a PDF and on paper."""

from __future__ import annotations

import importlib.util
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from exports.agreement_pdf import (
    AgreementDocument,
    BudgetRow,
    PaymentRow,
    build_agreement_pdf,
    render_html,
    url_fetcher,
)
from grants.agreements.conditions import DEFAULT_CONDITIONS, DEFAULT_EFFECTIVE_FROM, for_new_agreement, in_force
from grants.agreements.rules import AgreementTerms, accept, issue, prepare_agreement
from grants.assessment.rules import AssessmentInput, decide_award, record_assessment
from grants.bids.rules import BudgetLineInput, save_bid, start_bid, submit_bid
from grants.core.config import PROJECT_ROOT
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import AuditEvent, Award, ConditionsVersion, GrantAgreement
from grants.demo import seed_demo
from grants.payments.rules import schedule_payment
from tests.conftest import World, error_messages, field_error, page
from tests.test_agreements import dates, make_agreement

LINES = [BudgetLineInput("Cycle marking kits", 1_200_00, "capital"),
         BudgetLineInput("Volunteer marking sessions", 800_00, "revenue")]


def award_with_budget(world: World, lines: list[BudgetLineInput] = LINES, title: str = "Bike marking") -> Award:
    """An award of the whole of a bid whose budget has a capital and a revenue line, through the rules."""
    applicant, officer, today = world.user("applicant"), world.user("officer"), uk_today()
    bid = start_bid(applicant, world.scf_year, today)
    save_bid(bid, applicant, {
        "title": title, "local_issue": "Bike theft at the station", "activities": "Mark bikes", "location": "March",
        "theme": "bike_theft", "start_date": today + timedelta(days=10), "end_date": today + timedelta(days=100),
        "outputs": "400 bikes marked", "outcomes": "Fewer thefts", "declaration": True}, lines)
    assert submit_bid(bid, applicant, today) == {}
    amount = sum(line.amount_pence for line in lines)
    assert record_assessment(bid, officer, AssessmentInput(
        scores={"need": 4, "crime_reduction": 4, "deliverability": 4, "value_for_money": 4, "measures": 4},
        comments="", recommended_pence=amount, conflict_of_interest=False, conflict_details="",
        organisation_checked=True, due_diligence_notes="Checked", fraud_risk="low", fraud_risk_reasons="Known CSP",
    ), today) == {}
    outcome, problems = decide_award(bid, officer, amount, "Marked bikes are stolen less", today,
                                     public_summary="Bike marking in March")
    assert outcome is not None and outcome.status == "approved", problems
    db.session.commit()
    return db.session.scalar(select(Award).where(Award.bid_id == bid.id))


def prepared(world: World, award: Award, on: date | None = None) -> GrantAgreement:
    """A draft agreement for the award, prepared by the officer on `on` (today) through the rules."""
    day = on or uk_today()
    agreement, problems = prepare_agreement(award, world.user("officer"),
                                            AgreementTerms(day, day + timedelta(days=90), "Mark 400 bikes"), day)
    assert agreement is not None, problems
    db.session.commit()
    return agreement


def add_version(number: int, effective_from: date, text: str = "") -> ConditionsVersion:
    version = ConditionsVersion(number=number, text=text or f"1. Wording of version {number}.",
                                effective_from=effective_from)
    db.session.add(version)
    db.session.commit()
    return version


def conditions_form(text: str, effective: date | None) -> dict[str, Any]:
    return {"text": text, **(dates("effective_from", effective) if effective else {})}


def pdf_text(response: Any) -> str:
    reader = PdfReader(io.BytesIO(response.get_data()))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))


# --- versions of the standard conditions --------------------------------------------------------------------


def test_the_first_agreement_on_an_empty_table_makes_version_1_as_the_system(world: World) -> None:
    assert db.session.scalar(select(func.count(ConditionsVersion.id))) == 0
    agreement = prepared(world, award_with_budget(world))
    version = db.session.scalar(select(ConditionsVersion))
    assert (version.number, version.text, version.effective_from, version.created_by_id) == (
        1, DEFAULT_CONDITIONS, DEFAULT_EFFECTIVE_FROM, None)
    assert (agreement.conditions_version, agreement.standard_conditions) == (1, DEFAULT_CONDITIONS)
    made = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conditions.created"))
    assert (made.actor_id, made.object_type, made.object_id) == (None, "conditions_version", version.id)
    prepared_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "agreement.prepared"))
    assert prepared_event.details == {"conditions_version": 1}
    # A second agreement finds version 1 rather than making another.
    prepared(world, award_with_budget(world, title="Second"))
    assert db.session.scalar(select(func.count(ConditionsVersion.id))) == 1


def test_an_agreement_takes_the_version_in_force_on_the_day_and_keeps_its_text(world: World) -> None:
    today = uk_today()
    add_version(1, today - timedelta(days=400), "1. Old wording.")
    add_version(2, today - timedelta(days=10), "1. Current wording.")
    add_version(3, today + timedelta(days=30), "1. Future wording.")
    assert in_force(today).number == 2
    assert in_force(today + timedelta(days=30)).number == 3
    assert in_force(today - timedelta(days=11)).number == 1
    agreement = prepared(world, award_with_budget(world))
    assert (agreement.conditions_version, agreement.standard_conditions) == (2, "1. Current wording.")
    # Two versions from one day: the later number is in force.
    add_version(4, today + timedelta(days=30), "1. Corrected future wording.")
    assert in_force(today + timedelta(days=30)).number == 4
    later = prepared(world, award_with_budget(world, title="Later"), on=today + timedelta(days=30))
    assert later.conditions_version == 4
    # Each agreement keeps the version it was prepared with.
    db.session.expire_all()
    assert db.session.get(GrantAgreement, agreement.id).conditions_version == 2


def test_preparing_fails_clearly_when_no_version_is_in_force(as_role, world: World) -> None:
    future = uk_today() + timedelta(days=5)
    add_version(1, future)
    award = award_with_budget(world)
    agreement, problems = prepare_agreement(award, world.user("officer"), AgreementTerms(
        uk_today(), uk_today() + timedelta(days=30), ""), uk_today())
    assert agreement is None
    assert problems["conditions"].startswith("No standard conditions are in force on ")
    assert for_new_agreement(uk_today()) is None  # and no version 1 is made beside the future one
    client = as_role("officer")
    form = page(client.get(f"/agreements/from-bid/{award.bid_id}"))
    assert "No standard conditions are in force" in form.select_one("[data-testid=no-conditions]").get_text()
    response = client.post(f"/agreements/from-bid/{award.bid_id}",
                           data={**dates("start_date", uk_today()), **dates("end_date", uk_today())})
    assert response.status_code == 200
    assert any(m.startswith("No standard conditions are in force") for m in error_messages(response))
    assert db.session.scalar(select(func.count(GrantAgreement.id))) == 0


def test_admin_adds_a_version_checked_and_audited(as_role, world: World) -> None:
    make_agreement(world, "issued")  # version 1 exists and is in use
    client = as_role("admin")
    listing = page(client.get("/admin/conditions"))
    assert "cannot be changed or deleted once an agreement uses it" in listing.get_text()
    row = listing.select_one("[data-testid=conditions-1]").get_text(" ", strip=True)
    assert "Version 1" in row and "In force" in row and "1" in row
    form = page(client.get("/admin/conditions/new"))
    assert form.select_one("textarea[name=text]").get_text().strip() == DEFAULT_CONDITIONS

    # Browsers send a textarea's line breaks as CR LF: version 1's words sent back are still the same words.
    response = client.post("/admin/conditions/new", data=conditions_form(DEFAULT_CONDITIONS.replace("\n", "\r\n"), None))
    assert field_error(response, "text") == ("The text is the same as version 1: change it, or keep version 1")
    assert field_error(response, "effective_from") == "Enter the date the conditions come into force"
    response = client.post("/admin/conditions/new",
                           data=conditions_form("1. New wording.", uk_today() - timedelta(days=1)))
    assert field_error(response, "effective_from") == "The date the conditions come into force must be today or later"
    response = client.post("/admin/conditions/new", data=conditions_form(" ", uk_today()))
    assert field_error(response, "text") == "Enter the text of the standard conditions"
    response = client.post("/admin/conditions/new", data={"text": "1. New.", "effective_from": ["31", "2", "2030"]})
    assert field_error(response, "effective_from") == "The date it comes into force must be a real date, like 27 3 2026"
    assert db.session.scalar(select(func.count(ConditionsVersion.id))) == 1

    starts = uk_today() + timedelta(days=60)
    response = client.post("/admin/conditions/new", data=conditions_form("1. New wording.  \r\n2. More.\r\n", starts))
    assert response.status_code == 302
    version = db.session.scalar(select(ConditionsVersion).where(ConditionsVersion.number == 2))
    assert (version.text, version.effective_from, version.created_by_id) == (
        "1. New wording.\n2. More.", starts, world.user("admin").id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conditions.created",
                                                       AuditEvent.object_id == version.id))
    assert event.actor_id == world.user("admin").id and event.details["number"] == 2
    # A later version cannot come into force before an earlier one.
    response = client.post("/admin/conditions/new", data=conditions_form("1. Third.", starts - timedelta(days=1)))
    assert field_error(response, "effective_from").startswith("The date must be on or after ")


def test_only_a_future_version_no_agreement_uses_can_be_changed(as_role, world: World) -> None:
    agreement = make_agreement(world, "issued")
    v1 = db.session.scalar(select(ConditionsVersion).where(ConditionsVersion.number == 1))
    v2 = add_version(2, uk_today() + timedelta(days=30))
    client = as_role("admin")

    view = page(client.get(f"/admin/conditions/{v1.id}"))
    locked = view.select_one("[data-testid=locked]").get_text(" ", strip=True)
    assert locked == ("Version 1 cannot be changed: 1 agreement was made with it, and each keeps the exact text it was "
                      "issued with. Add a new version instead.")
    assert view.select_one("[data-testid=uses]").get_text(strip=True) == "1"
    edit = page(client.get(f"/admin/conditions/{v1.id}/edit"))
    assert edit.select_one("main form[method=post]") is None and edit.select_one("[data-testid=locked]")
    response = client.post(f"/admin/conditions/{v1.id}/edit", data=conditions_form("1. Sneaky.", uk_today()))
    assert response.status_code == 409 and "Version 1 cannot be changed" in " ".join(error_messages(response))
    db.session.expire_all()
    assert db.session.get(ConditionsVersion, v1.id).text == DEFAULT_CONDITIONS
    assert db.session.get(GrantAgreement, agreement.id).standard_conditions == DEFAULT_CONDITIONS

    # The future one is corrected, and the change is audited.
    starts = uk_today() + timedelta(days=45)
    response = client.post(f"/admin/conditions/{v2.id}/edit", data=conditions_form("1. Corrected.", starts))
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(ConditionsVersion, v2.id)
    assert (changed.text, changed.effective_from) == ("1. Corrected.", starts)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conditions.updated"))
    assert event.object_id == v2.id and set(event.details) == {"text", "effective_from"}

    # A version in force no agreement has used yet is fixed too: an agreement could take it at any moment.
    v3 = add_version(3, uk_today() + timedelta(days=45), "1. In force today.")
    v3.effective_from = uk_today()
    v2.effective_from = uk_today()
    db.session.commit()
    response = client.post(f"/admin/conditions/{v3.id}/edit", data=conditions_form("1. Changed.", uk_today()))
    assert response.status_code == 409
    assert "it came into force on" in " ".join(error_messages(response))


# --- the agreement page ---------------------------------------------------------------------------------------


def test_the_agreement_shows_its_version_and_the_budget_it_binds_to(as_role, world: World) -> None:
    award = award_with_budget(world)
    client = as_role("officer")
    form = page(client.get(f"/agreements/from-bid/{award.bid_id}"))
    assert form.select_one("[data-testid=conditions-version]").get_text(strip=True) == "Version 1, in force from 1 April 2025"
    agreement = prepared(world, award)
    view = page(client.get(f"/agreements/{agreement.id}"))
    assert view.select_one("[data-testid=conditions-version]").get_text(strip=True) == \
        "Version 1, in force from 1 April 2025"
    assert view.select_one("[data-testid=standard-conditions]").get_text().startswith("1. The grant is used only")
    rows = [[cell.get_text(" ", strip=True) for cell in tr.select("th, td")]
            for tr in view.select("[data-testid=budget] tbody tr, [data-testid=budget] tfoot tr")]
    assert rows == [["Cycle marking kits", "Capital", "£1,200.00"], ["Volunteer marking sessions", "Revenue", "£800.00"],
                    ["Total", "£2,000.00"]]
    assert "condition 1 binds the grant to this budget" in view.get_text()
    assert view.select_one("[data-testid=budget-difference]") is None
    # The PDF is linked, and the parts of the page that mean nothing on paper are marked not to print.
    link = view.select_one("[data-testid=agreement-pdf]")
    assert link["href"] == f"/agreements/{agreement.id}.pdf"
    assert "govuk-!-display-none-print" in link.parent["class"]
    assert view.select_one("[data-testid=history]").find_parent("div", class_="govuk-!-display-none-print")


def test_an_agreement_from_before_versions_shows_its_own_text_without_a_number(as_role, world: World) -> None:
    agreement = make_agreement(world, "issued")
    agreement.conditions_version, agreement.standard_conditions = None, "Older wording, as issued."
    db.session.commit()
    view = page(as_role("applicant").get(f"/agreements/{agreement.id}"))
    assert view.select_one("[data-testid=conditions-version]") is None
    assert view.select_one("[data-testid=standard-conditions]").get_text(strip=True) == "Older wording, as issued."


def test_the_print_stylesheet_hides_the_header_menu_buttons_and_footer() -> None:
    source = (PROJECT_ROOT / "frontend" / "src" / "main.scss").read_text(encoding="utf-8")
    printed = source[source.index("@media print"):]
    for selector in (".app-header", ".govuk-service-navigation", ".govuk-button", ".govuk-footer", ".govuk-back-link"):
        assert selector in printed
    built = PROJECT_ROOT / "grants" / "static" / "css" / "main.css"
    if built.exists():  # `make frontend` has run
        assert re.search(r"@media print\{[^{]*\.app-header", built.read_text(encoding="utf-8"))


# --- the PDF ----------------------------------------------------------------------------------------------------


def accepted_with_payment(world: World) -> GrantAgreement:
    award = award_with_budget(world)
    agreement = prepared(world, award)
    issue(agreement, world.user("officer"), uk_today())
    assert accept(agreement, world.user("applicant"), "Tom Hughes", "Community Safety Manager", True, uk_today()) == {}
    payment, problems = schedule_payment(agreement, world.user("finance"), 500_00, uk_today() + timedelta(days=14),
                                         "First instalment", today=uk_today())
    assert payment is not None, problems
    db.session.commit()
    return agreement


def test_the_pdf_holds_the_agreement_as_issued_and_accepted(as_role, world: World) -> None:
    agreement = accepted_with_payment(world)
    for role in ("applicant", "officer", "finance"):
        response = as_role(role).get(f"/agreements/{agreement.id}.pdf")
        assert response.status_code == 200, role
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == \
            f'attachment; filename="grant-agreement-{agreement.reference}.pdf"'
        assert response.get_data().startswith(b"%PDF-")
    text = pdf_text(response)
    for expected in (agreement.reference, "Fenland CSP", "Bike marking", "£2,000.00", "Version 1",
                     "in force from 1 April 2025", "1. The grant is used only for the purpose",
                     "Mark 400 bikes", "Cycle marking kits", "Capital", "Volunteer marking sessions", "Revenue",
                     "£1,200.00", "£500.00", "Scheduled", "Tom Hughes", "Community Safety Manager",
                     "Safer Communities Fund", "Page 1 of"):
        assert expected in text, expected
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert reader.metadata.title == f"Grant agreement {agreement.reference}: Bike marking"


def test_an_issued_agreement_pdf_says_it_is_not_yet_accepted(as_role, world: World) -> None:
    agreement = make_agreement(world, "issued")
    text = pdf_text(as_role("applicant").get(f"/agreements/{agreement.id}.pdf"))
    assert "Issued for acceptance" in text and "Not yet accepted" in text
    assert "Tom Hughes" not in text


def test_the_pdf_is_for_those_who_may_see_the_agreement(as_role, world: World) -> None:
    draft = make_agreement(world, "draft")
    issued = make_agreement(world, "issued", title="Issued one")
    other = as_role("other_applicant")
    assert other.get(f"/agreements/{issued.id}.pdf").status_code == 404
    applicant = as_role("applicant")
    assert applicant.get(f"/agreements/{draft.id}.pdf").status_code == 404  # the OPCC's own until issued
    assert applicant.get(f"/agreements/{issued.id}.pdf").status_code == 200
    officer = as_role("officer")
    draft_text = pdf_text(officer.get(f"/agreements/{draft.id}.pdf"))
    assert "DRAFT: NOT YET ISSUED" in draft_text.upper()
    officer.post("/sign-out")
    response = officer.get(f"/agreements/{issued.id}.pdf")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def document(**changes: Any) -> AgreementDocument:
    values: dict[str, Any] = dict(
        reference="GA-00042", status="accepted", status_name="Accepted", grantor="The OPCC", grantee="Fenland CSP",
        bid_reference="BID-00007", title="Bike marking", purpose="Marking bikes", fund="Safer Communities Fund 2026-27",
        funding_source="OPCC", amount_pence=2_000_00, start_date=date(2026, 4, 1), end_date=date(2027, 3, 31),
        special_conditions="None", standard_conditions="1. Spend it well.", conditions_version=3,
        conditions_effective_from=date(2026, 1, 1), budget=[BudgetRow("Kits", "Capital", 2_000_00)],
        payments=[PaymentRow("PAY-00001", date(2026, 5, 1), 1_000_00, "Paid", date(2026, 5, 2), "AP-1")],
        accepted_at=datetime(2026, 4, 2, 13, 5, tzinfo=UTC), accepted_name="Tom Hughes", accepted_role="Manager")
    values.update(changes)
    return AgreementDocument(**values)


def test_the_pdf_is_built_from_data_with_text_escaped_and_no_network() -> None:
    html = render_html(document(special_conditions='<img src="https://tracker.example/x.png">\x07'),
                       made_at=datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    assert "<img" not in html and "&lt;img" in html and "\x07" not in html
    assert "Version 3 of the standard conditions of grant, in force from 1 January 2026" in html
    assert "2 April 2026 at 14:05" in html  # acceptance in UK time
    fetcher = url_fetcher()
    for url in ("https://tracker.example/x.png", "http://tracker.example/style.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)
    pdf = build_agreement_pdf(document(), made_at=datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "GA-00042" in text and "Version 3" in text and "Kits" in text and "AP-1" in text


def test_migration_0007_holds_the_same_version_1_text() -> None:
    path = next((PROJECT_ROOT / "migrations" / "versions").glob("0007_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.CONDITIONS_V1 == DEFAULT_CONDITIONS


def test_the_demo_makes_version_1_once_and_its_agreements_carry_it(app: Flask) -> None:
    seed_demo(uk_today())
    db.session.commit()
    seed_demo(uk_today())
    db.session.commit()
    assert db.session.scalars(select(ConditionsVersion.number)).all() == [1]
    versions = set(db.session.scalars(select(GrantAgreement.conditions_version)))
    assert versions == {1}
