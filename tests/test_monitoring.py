"""Monitoring returns: periods and due dates, outcome measures, spend, evidence, review, the resubmission loop,
ending a grant, reminders and access."""

from __future__ import annotations

import io
import threading
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.core.audit import history
from grants.core.dates import due_date, half_years, period_named, periods_overlapping, quarters
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.files import detect_kind
from grants.core.models import (
    Fund,
    GrantAgreement,
    MeasureValue,
    MonitoringReturn,
    OutboxEmail,
    OutcomeMeasure,
    ReturnEvidence,
    SentReminder,
    User,
)
from grants.core.refusals import Refused
from grants.monitoring.lifecycle import RETURN, is_overdue
from grants.monitoring.measures import (
    MeasureInput,
    add_measure,
    change_measure,
    combine,
    delete_measure,
    load_standard_set,
    measures_for,
    parse_value,
    retire_measure,
)
from grants.monitoring.reminders import send_reminders
from grants.monitoring.rules import ReturnAnswers, schedule_returns, submit
from tests.conftest import World, error_messages, field_error, page
from tests.test_agreements import active_agreement, events

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def answers_for(ret: MonitoringReturn, **overrides: str) -> dict[str, str]:
    """A complete set of answers for the return's measures and budget lines, as the form posts them."""
    data = {"progress": "Four marking events held at Wisbech station", "challenges": "", "rag": "green"}
    for measure in ret.agreement.bid.fund_year.fund.measures:
        data[f"measure-{measure.id}"] = {"count": "180", "percentage": "75", "money": "£250", "yes_no": "yes"}[measure.unit]
    for line in ret.agreement.bid.budget_lines:
        data[f"spend-{line.id}"] = "£1,240.50"
    data.update(overrides)
    return data


@pytest.fixture()
def measures(world: World) -> list[OutcomeMeasure]:
    """The Home Office crime-reduction set on the test fund: three counts, an optional percentage, a yes/no."""
    fund = db.session.get(Fund, world.scf.id)
    assert load_standard_set(fund, "home-office-crime", None) == 5
    db.session.commit()
    return list(fund.measures)


def test_half_years_and_quarters_follow_the_financial_year() -> None:
    h1, h2 = half_years(2025)
    assert (h1.start, h1.end, h1.label) == (date(2025, 4, 1), date(2025, 9, 30), "2025-26 H1")
    assert (h2.start, h2.end, h2.label) == (date(2025, 10, 1), date(2026, 3, 31), "2025-26 H2")
    assert [(q.start, q.end) for q in quarters(2025)] == [
        (date(2025, 4, 1), date(2025, 6, 30)), (date(2025, 7, 1), date(2025, 9, 30)),
        (date(2025, 10, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 3, 31)),
    ]
    assert period_named(2025, "Q3") == quarters(2025)[2]
    assert period_named(2025, "FY").end == date(2026, 3, 31)
    assert period_named(2025, "H3") is None
    assert due_date(h2, 31) == date(2026, 5, 1)
    assert due_date(h1, 0) == date(2025, 9, 30)


def test_a_grant_overlaps_exactly_the_periods_it_touches() -> None:
    labels = [p.label for p in periods_overlapping(date(2025, 9, 30), date(2025, 10, 1))]
    assert labels == ["2025-26 H1", "2025-26 H2"]
    assert [p.label for p in periods_overlapping(date(2025, 10, 1), date(2026, 3, 31))] == ["2025-26 H2"]
    assert [p.label for p in periods_overlapping(date(2026, 3, 31), date(2026, 4, 1))] == ["2025-26 H2", "2026-27 H1"]
    quarterly = [p.label for p in periods_overlapping(date(2025, 6, 30), date(2026, 1, 1), "quarterly")]
    assert quarterly == ["2025-26 Q1", "2025-26 Q2", "2025-26 Q3", "2025-26 Q4"]


def _returns(agreement: GrantAgreement) -> list[MonitoringReturn]:
    db.session.expire_all()
    return list(db.session.scalars(select(MonitoringReturn).where(MonitoringReturn.agreement_id == agreement.id)
                                   .order_by(MonitoringReturn.period_start)))


def test_due_days_come_from_the_fund_and_the_last_return_ends_with_the_grant(as_role, world: World) -> None:
    fund = db.session.get(Fund, world.scf.id)
    fund.monitoring_due_days = 14
    db.session.commit()
    agreement = active_agreement(as_role, world, start=date(2026, 5, 1), end=date(2026, 8, 31))
    # Started today, after the period ended: never due before the start plus the fund's 14 days.
    assert [(r.period_name, r.period_start, r.period_end, r.due_on) for r in _returns(agreement)] == [
        ("H1", date(2026, 4, 1), date(2026, 8, 31), max(date(2026, 9, 14), uk_today() + timedelta(days=14)))]


def test_a_quarterly_fund_has_a_return_for_each_quarter_due_from_the_period_end(as_role, world: World) -> None:
    fund = db.session.get(Fund, world.scf.id)
    fund.reporting_frequency = "quarterly"
    db.session.commit()
    agreement = active_agreement(as_role, world, start=date(2030, 5, 1), end=date(2030, 11, 15))
    assert [(r.period_name, r.period_end, r.due_on) for r in _returns(agreement)] == [
        ("Q1", date(2030, 6, 30), date(2030, 7, 31)), ("Q2", date(2030, 9, 30), date(2030, 10, 31)),
        ("Q3", date(2030, 11, 15), date(2030, 12, 16))]
    assert [r.period_label for r in _returns(agreement)] == ["2030-31 Q1", "2030-31 Q2", "2030-31 Q3"]


def test_a_grant_started_late_is_not_overdue_the_day_it_starts(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world, start=date(2024, 4, 1), end=date(2024, 12, 31))
    returns = _returns(agreement)
    assert {r.due_on for r in returns} == {uk_today() + timedelta(days=31)}
    assert not any(is_overdue(r, uk_today()) for r in returns)
    # Scheduling again adds nothing.
    assert schedule_returns(db.session.get(GrantAgreement, agreement.id), world.user("officer"), uk_today()) == []


def current_return(as_role: Any, world: World) -> MonitoringReturn:
    """A return for the period running now, for a grant that started last month."""
    today = uk_today()
    agreement = active_agreement(as_role, world, start=today - timedelta(days=30), end=today + timedelta(days=60))
    return next(r for r in _returns(agreement) if r.period_start <= today <= r.period_end)


def fresh(ret: MonitoringReturn) -> MonitoringReturn:
    db.session.expire_all()
    return db.session.get(MonitoringReturn, ret.id)


def send(client: FlaskClient, ret: MonitoringReturn, button: str = "submit", files: Any = None, **answers: str) -> Any:
    data: dict[str, Any] = {**answers_for(fresh(ret)), **answers, "version": str(fresh(ret).version), button: "y"}
    if files is not None:
        data["evidence"] = files
    return client.post(f"/monitoring/{ret.id}/edit", data=data, content_type="multipart/form-data")


def test_parse_value_checks_each_unit() -> None:
    assert parse_value("count", "1,234", "People") == 1234
    assert parse_value("percentage", "75%", "Share") == 75
    assert parse_value("money", "£1,250.50", "Cost") == 1_250_50
    assert (parse_value("yes_no", "Yes", "Done"), parse_value("yes_no", "no", "Done")) == (1, 0)
    for unit, text, message in [
        ("count", "lots", "People must be a whole number, like 12"),
        ("count", "-3", "People must be a whole number, like 12"),
        ("count", "2.5", "People must be a whole number, like 12"),
        ("percentage", "101", "People must be a whole percentage from 0 to 100, like 75"),
        ("money", "12.345", "People: amount must not have more than two decimal places (pence)"),
        ("yes_no", "maybe", "Select yes or no for people"),
    ]:
        with pytest.raises(ValueError) as refused:
            parse_value(unit, text, "People")
        assert str(refused.value) == message
    assert combine("count", [3, 4]) == 7 and combine("money", [100, 250]) == 350
    assert combine("percentage", [40, 70]) == 70 and combine("yes_no", [1, 0]) == 0
    assert combine("count", []) is None


def test_grantee_saves_a_draft_then_submits_every_answer_checked(as_role, world: World, measures) -> None:
    ret = current_return(as_role, world)
    people, homes, sessions, share, planned = measures
    line = ret.agreement.bid.budget_lines[0]
    client = as_role("applicant")
    listing = page(client.get("/monitoring/"))
    assert "Cycle marking kits" in listing.select_one("[data-testid=return-list]").get_text()
    assert page(client.get(f"/monitoring/{ret.id}")).find("a", string="Complete the return")
    form = page(client.get(f"/monitoring/{ret.id}/edit"))
    assert form.find(id=f"measure-{people.id}") and form.find(id=f"spend-{line.id}") and form.find(id="evidence")

    blanks = {f"measure-{m.id}": "" for m in measures} | {f"spend-{line.id}": ""}
    response = send(client, ret, "save", progress="Half written", rag="", **blanks)
    assert response.status_code == 302
    assert (fresh(ret).status, fresh(ret).progress, fresh(ret).values) == ("due", "Half written", [])

    response = send(client, ret, progress="", rag="", **blanks)
    assert error_messages(response) == [
        "Describe the progress made in this period",
        "Select how the work is going: red, amber or green",
        "Enter people reached by interventions", "Enter homes or places made safer", "Enter sessions delivered",
        "Select yes or no for delivered to plan", "Enter the spend on Lights in this period, or 0",
    ]
    response = send(client, ret, **{f"measure-{people.id}": "lots", f"measure-{share.id}": "120",
                                    f"spend-{line.id}": "12.345"})
    assert field_error(response, f"measure-{people.id}") == "People reached by interventions must be a whole number, like 12"
    assert field_error(response, f"measure-{share.id}") == (
        "Participants reporting feeling safer must be a whole percentage from 0 to 100, like 75")
    assert field_error(response, f"spend-{line.id}") == (
        "Spend on Lights: amount must not have more than two decimal places (pence)")
    # What was typed is shown again, not lost.
    assert page(response).find(id=f"measure-{people.id}")["value"] == "lots"
    # Submitting says everything at once: what is missing as well as what is wrong.
    response = send(client, ret, rag="", **{f"measure-{people.id}": "lots"})
    assert error_messages(response) == ["Select how the work is going: red, amber or green",
                                        "People reached by interventions must be a whole number, like 12"]
    assert fresh(ret).status == "due"

    response = send(client, ret, **{f"measure-{share.id}": ""})  # optional
    assert response.status_code == 302
    ret = fresh(ret)
    assert (ret.status, ret.rag, ret.submission_count) == ("submitted", "green", 1)
    assert {v.measure_id: v.value for v in ret.values} == {people.id: 180, homes.id: 180, sessions.id: 180,
                                                           planned.id: 1}
    assert [(s.budget_line_id, s.spent_pence) for s in ret.spend] == [(line.id, 1_240_50)]
    assert ret.submitted_by_id == world.user("applicant").id
    assert events("monitoring_return", ret.id)[-2:] == ["monitoring_return.saved", "monitoring_return.submitted"]
    officers = db.session.scalars(select(OutboxEmail.to_address).where(OutboxEmail.subject.contains("submitted"))).all()
    assert sorted(officers) == sorted([world.user("officer").email, world.user("officer2").email])
    shown = page(client.get(f"/monitoring/{ret.id}"))
    assert "180" in shown.select_one("[data-testid=measures]").get_text()
    assert "£1,240.50" in shown.select_one("[data-testid=spend]").get_text()
    # Submitted: no more changes from the grantee.
    assert client.get(f"/monitoring/{ret.id}/edit").status_code == 302
    assert send(client, ret, progress="changed").status_code == 302
    assert fresh(ret).progress == "Four marking events held at Wisbech station"


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def test_evidence_is_checked_by_content_stored_outside_the_web_root_and_served_only_to_those_who_may_see(
        as_role, world: World, app: Flask, tmp_path: Any) -> None:
    app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence")
    app.config["EVIDENCE_MAX_MB"] = 1
    assert (detect_kind(PDF), detect_kind(_docx()), detect_kind(b"MZ\x90\x00"), detect_kind(b"PK\x03\x04junk")) == (
        "pdf", "docx", None, None)
    ret = current_return(as_role, world)
    client = as_role("applicant")
    response = send(client, ret, "save", files=[(io.BytesIO(b"MZ\x90\x00 not a pdf"), "report.pdf")])
    assert field_error(response, "evidence") == (
        "report.pdf must be a PDF, PNG, JPEG, Word, Excel, PowerPoint or OpenDocument file. Choose the files again.")
    response = send(client, ret, "save", files=[(io.BytesIO(b"%PDF-" + b"x" * (1024 * 1024)), "big.pdf")])
    assert field_error(response, "evidence").startswith("big.pdf is larger than 1 MB")
    assert db.session.scalar(select(func.count(ReturnEvidence.id))) == 0

    response = send(client, ret, files=[(io.BytesIO(PDF), "../../Photos of marking.pdf"),
                                        (io.BytesIO(_docx()), "Attendance.docx")])
    assert response.status_code == 302
    items = fresh(ret).evidence
    assert [(e.filename, e.content_type.split("/")[-1][:8], e.submission_number) for e in items] == [
        ("Photos of marking.pdf", "pdf", 1), ("Attendance.docx", "vnd.open", 1)]
    stored = tmp_path / "evidence" / items[0].stored_name
    assert stored.read_bytes() == PDF and "static" not in str(stored)

    download = client.get(f"/monitoring/evidence/{items[0].id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert as_role("officer").get(f"/monitoring/evidence/{items[0].id}").status_code == 200
    assert as_role("other_applicant").get(f"/monitoring/evidence/{items[0].id}").status_code == 404
    assert as_role("officer").get("/monitoring/evidence/99999").status_code == 404


def test_a_return_sent_back_is_changed_and_resubmitted_then_accepted(as_role, world: World) -> None:
    ret = current_return(as_role, world)
    send(as_role("applicant"), ret)
    officer = as_role("officer")
    assert page(officer.get(f"/monitoring/{ret.id}")).find("a", string="Review the return")
    url = f"/monitoring/{ret.id}/review"
    review_page = page(officer.get(url))
    # £1,240.50 reported spent and nothing paid yet: the officer is told.
    assert "£1,240.50 more than paid" in review_page.select_one("[data-testid=overspend]").get_text()
    response = officer.post(url, data={"version": str(fresh(ret).version)})
    assert field_error(response, "outcome") == "Select whether you accept the return or send it back for changes"
    assert field_error(response, "officer_rag") == "Select your own rating: red, amber or green"
    response = officer.post(url, data={"version": str(fresh(ret).version), "outcome": "returned", "officer_rag": "amber"})
    assert field_error(response, "note") == "Say what needs to change"
    response = officer.post(url, data={"version": str(fresh(ret).version), "outcome": "returned", "officer_rag": "amber",
                                       "note": "Say how many of the 212 bikes were children's"})
    assert response.status_code == 302
    assert (fresh(ret).status, fresh(ret).officer_rag) == ("returned", "amber")
    mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.subject.contains("needs changes"))).all()
    assert [m.to_address for m in mail] == [world.user("applicant").email]

    applicant = as_role("applicant")
    view = page(applicant.get(f"/monitoring/{ret.id}"))
    assert "children's" in view.select_one("[data-testid=review-note]").get_text()
    assert send(applicant, ret, progress="212 bikes marked, 64 of them children's").status_code == 302
    assert (fresh(ret).status, fresh(ret).submission_count) == ("resubmitted", 2)

    officer = as_role("officer")
    assert officer.post(url, data={"version": str(fresh(ret).version), "outcome": "accepted",
                                   "officer_rag": "green"}).status_code == 302
    assert (fresh(ret).status, fresh(ret).officer_rag) == ("accepted", "green")
    assert [e for e in events("monitoring_return", ret.id) if e != "monitoring_return.saved"][-4:] == [
        "monitoring_return.submitted", "monitoring_return.returned", "monitoring_return.resubmitted",
        "monitoring_return.accepted"]
    # Accepted is final.
    response = officer.post(url, data={"version": str(fresh(ret).version), "outcome": "returned", "note": "x",
                                       "officer_rag": "red"})
    assert response.status_code == 409 and fresh(ret).status == "accepted"


def test_overdue_is_past_the_due_date_and_not_submitted(as_role, world: World) -> None:
    ret = current_return(as_role, world)
    assert not is_overdue(ret, ret.due_on)
    assert is_overdue(ret, ret.due_on + timedelta(days=1))
    overdue = RETURN.shown(ret, ret.due_on + timedelta(days=1))
    assert (overdue.name, overdue.colour) == ("Overdue", "red")
    ret.due_on = uk_today() - timedelta(days=1)
    db.session.commit()
    officer = as_role("officer")
    overdue = page(officer.get("/monitoring/?status=overdue")).select("[data-testid=return-list] tbody tr")
    assert len(overdue) == 1 and "Overdue" in overdue[0].get_text()
    send(as_role("applicant"), ret)
    assert "submitted late" in _notes(ret)
    officer = as_role("officer")
    assert not page(officer.get("/monitoring/?status=overdue")).select("[data-testid=return-list] tbody tr")


def _notes(ret: MonitoringReturn) -> list[str]:
    db.session.expire_all()
    return [e.note for e in history("monitoring_return", ret.id).events]


def test_a_future_period_cannot_be_submitted_yet(as_role, world: World) -> None:
    today = uk_today()
    agreement = active_agreement(as_role, world, start=today, end=today + timedelta(days=400))
    future = _returns(agreement)[-1]
    assert future.period_start > today
    response = send(as_role("applicant"), future)
    assert response.status_code == 409
    assert "can be submitted from then" in " ".join(error_messages(response))
    assert fresh(future).status == "due"


def test_ending_a_grant_makes_outstanding_returns_not_required_and_refuses_them(as_role, world: World) -> None:
    today = uk_today()
    agreement = active_agreement(as_role, world, start=today - timedelta(days=30), end=today + timedelta(days=400))
    current, *later = _returns(agreement)
    send(as_role("applicant"), current)
    officer = as_role("officer")
    # Closing waits for the submitted return's review; terminating does not.
    response = officer.post(f"/agreements/{agreement.id}/end", data={
        "version": str(db.session.get(GrantAgreement, agreement.id).version), "outcome": "closed", "reason": "Done"})
    assert field_error(response, "outcome").startswith("Review the monitoring returns waiting for a decision")
    response = officer.post(f"/agreements/{agreement.id}/end", data={
        "version": str(db.session.get(GrantAgreement, agreement.id).version), "outcome": "terminated",
        "reason": "The partnership was dissolved"})
    assert response.status_code == 302
    assert {r.status for r in _returns(agreement)} == {"not_required"}
    assert RETURN.shown(fresh(later[0]), later[0].due_on + timedelta(days=1)).name == "Not required"
    assert not page(officer.get("/monitoring/?status=overdue")).select("[data-testid=return-list] tbody tr")
    # Nothing more is submitted or accepted on an ended grant, by page or by rule.
    for ret in _returns(agreement):
        assert not RETURN.allowed(world.user("applicant"), ret, today)
        assert not RETURN.allowed(world.user("officer"), ret, today)
    ret = fresh(later[0])
    ret.status = "due"  # even if a return were still due, the ended grant refuses it
    db.session.commit()
    with pytest.raises(Refused, match="not running"):
        submit(fresh(ret), world.user("applicant"), ReturnAnswers("x", "", "green"), ret.period_end)
    response = send(as_role("applicant"), ret)
    assert response.status_code == 409 and "not running" in " ".join(error_messages(response))
    assert fresh(ret).status == "due"


def test_other_organisations_and_other_roles_cannot_touch_a_return(as_role, world: World) -> None:
    ret = current_return(as_role, world)
    other = as_role("other_applicant")
    for url in (f"/monitoring/{ret.id}", f"/monitoring/{ret.id}/edit"):
        assert other.get(url).status_code == 404
    assert send(other, ret).status_code == 404
    assert "Cycle marking kits" not in other.get("/monitoring/").get_data(as_text=True)
    for role in ("officer", "approver", "finance", "admin"):
        assert as_role(role).get(f"/monitoring/{ret.id}/edit").status_code == 403
    for role in ("applicant", "approver", "finance", "admin"):
        assert as_role(role).get(f"/monitoring/{ret.id}/review").status_code == 403
    assert fresh(ret).status == "due"


# --- Outcome measures --------------------------------------------------------------------------------------


def test_a_measure_is_changed_until_answered_then_only_retired(as_role, world: World, measures) -> None:
    admin = world.user("admin")
    fund = db.session.get(Fund, world.scf.id)
    measure, problems = add_measure(fund, admin, MeasureInput("Bikes marked", "Count each bike once", "count", True, "Outputs"))
    assert problems == {} and measure is not None
    assert add_measure(fund, admin, MeasureInput("bikes MARKED", "", "count", True, ""))[1] == {
        "name": "Safer Communities Fund already has a measure called bikes MARKED"}
    assert add_measure(fund, admin, MeasureInput("", "", "furlongs", True, ""))[1] == {
        "name": "Enter the name of the measure", "unit": "Select the unit"}
    assert change_measure(measure, admin, MeasureInput("Bikes marked", "", "count", False, "Outputs")) == {}
    db.session.commit()

    ret = current_return(as_role, world)
    assert send(as_role("applicant"), ret, **{f"measure-{measure.id}": "40"}).status_code == 302
    measure = db.session.get(OutcomeMeasure, measure.id)
    with pytest.raises(Refused, match="cannot be changed"):
        change_measure(measure, admin, MeasureInput("Bicycles marked", "", "count", False, ""))
    with pytest.raises(Refused, match="cannot be deleted"):
        delete_measure(measure, admin)
    retire_measure(measure, admin)
    db.session.commit()
    # Retired: not asked again, but the answer stays with the return that gave it.
    assert db.session.scalar(select(MeasureValue.value).where(MeasureValue.measure_id == measure.id)) == 40
    shown = page(as_role("officer").get(f"/monitoring/{ret.id}"))
    assert "Bikes marked" in shown.select_one("[data-testid=measures]").get_text()
    assert measure.id in [m.id for m in measures_for(measure.fund, fresh(ret).values)]
    assert measure.id not in [m.id for m in measures_for(measure.fund)]


def test_load_measures_command_adds_a_standard_set_once(app: Flask, world: World) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["load-measures", "--fund", "Safer Communities Fund", "--set", "moj-victims"])
    assert result.exit_code == 0 and "Added 11 measure(s)" in result.output
    names = [m.name for m in db.session.get(Fund, world.scf.id).measures]
    assert "Victims who report being better able to cope and recover" in names
    assert "Victims supported: finance and benefits" in names
    again = runner.invoke(args=["load-measures", "--fund", "Safer Communities Fund", "--set", "moj-victims"])
    assert "Added 0 measure(s)" in again.output
    assert runner.invoke(args=["load-measures", "--fund", "Nope", "--set", "moj-victims"]).exit_code != 0


# --- Reminders ---------------------------------------------------------------------------------------------


def _reminder_mail() -> list[tuple[str, str]]:
    db.session.expire_all()
    return sorted(db.session.execute(select(OutboxEmail.to_address, OutboxEmail.subject)
                                     .where(OutboxEmail.subject.contains("return"))).all())


def test_reminders_go_once_per_return_and_stage(as_role, world: World, app: Flask) -> None:
    ret = current_return(as_role, world)
    db.session.execute(db.delete(OutboxEmail))
    ret = fresh(ret)
    ret.due_on = uk_today() + timedelta(days=10)  # within the fund's 14 days
    db.session.commit()
    counts = send_reminders(uk_today())
    assert (counts.due_soon, counts.overdue, counts.digests) == (1, 0, 0)
    assert send_reminders(uk_today()).due_soon == 0
    applicant = world.user("applicant").email
    assert [m for m in _reminder_mail() if m[0] == applicant] == [
        (applicant, f"{ret.agreement.reference}: monitoring return {ret.period_label} due "
                    f"{ret.due_on.day} {ret.due_on:%B %Y}")]

    overdue_day = ret.due_on + timedelta(days=1)
    counts = send_reminders(overdue_day)
    assert (counts.due_soon, counts.overdue, counts.digests) == (0, 1, 1)
    assert send_reminders(overdue_day) == type(counts)(0, 0, 0)
    digests = db.session.scalars(select(OutboxEmail).where(OutboxEmail.subject.startswith("Overdue monitoring"))).all()
    assert {d.to_address for d in digests} == {world.user("officer").email, world.user("officer2").email}
    assert ret.agreement.reference in digests[0].body
    next_week = overdue_day + timedelta(days=7)
    assert send_reminders(next_week).digests == 1
    # A submitted return is reminded of no more.
    send(as_role("applicant"), ret)
    before = len(_reminder_mail())
    assert send_reminders(next_week + timedelta(days=7)) == type(counts)(0, 0, 0)
    assert len(_reminder_mail()) == before


def test_reminders_run_twice_at_the_same_moment_send_each_once(as_role, world: World, app: Flask) -> None:
    ret = current_return(as_role, world)
    ret_id = ret.id
    db.session.execute(db.delete(OutboxEmail))
    fresh(ret).due_on = uk_today() - timedelta(days=3)
    db.session.commit()
    db.session.remove()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                start.wait()
                send_reminders(uk_today())
                db.session.remove()
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    keys = db.session.scalars(select(SentReminder.key).order_by(SentReminder.key)).all()
    assert keys == [f"digest:{uk_today().isocalendar()[0]}-W{uk_today().isocalendar()[1]:02d}",
                    f"return:{ret_id}:overdue"]
    overdue_mail = [m for m in _reminder_mail() if "overdue" in m[1]]
    assert len(overdue_mail) == 1
    officers = db.session.scalar(select(func.count(User.id)).where(User.role == "officer"))
    assert db.session.scalar(select(func.count(OutboxEmail.id)).where(
        OutboxEmail.subject.startswith("Overdue monitoring"))) == officers
