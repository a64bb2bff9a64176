"""Six-monthly monitoring returns: periods and due dates, completion, review, the resubmission loop, access."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from grants.core.audit import history
from grants.core.dates import due_date, half_years, half_years_overlapping, period_named, quarters
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Fund, MonitoringReturn, OutboxEmail
from grants.monitoring.lifecycle import RETURN, is_overdue
from tests.conftest import World, error_messages, field_error, page
from tests.test_agreements import active_agreement, events

ANSWERS = {
    "progress": "Four marking events held at Wisbech station",
    "outputs_achieved": "212 bikes marked",
    "outcomes_achieved": "Reported bike thefts near the station fell from 31 to 19",
    "people_reached": "180",
    "spent_pence": "£1,240.50",
    "challenges": "",
}


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


def test_a_grant_overlaps_exactly_the_half_years_it_touches() -> None:
    labels = [p.label for p in half_years_overlapping(date(2025, 9, 30), date(2025, 10, 1))]
    assert labels == ["2025-26 H1", "2025-26 H2"]
    assert [p.label for p in half_years_overlapping(date(2025, 10, 1), date(2026, 3, 31))] == ["2025-26 H2"]
    assert [p.label for p in half_years_overlapping(date(2026, 3, 31), date(2026, 4, 1))] == ["2025-26 H2", "2026-27 H1"]


def test_due_days_come_from_the_fund(as_role, world: World) -> None:
    fund = db.session.get(Fund, world.scf.id)
    fund.monitoring_due_days = 14
    db.session.commit()
    agreement = active_agreement(as_role, world, start=date(2026, 5, 1), end=date(2026, 8, 31))
    returns = db.session.scalars(select(MonitoringReturn).where(MonitoringReturn.agreement_id == agreement.id)).all()
    assert [(r.period_start, r.due_on) for r in returns] == [(date(2026, 4, 1), date(2026, 10, 14))]


def current_return(as_role: Any, world: World) -> MonitoringReturn:
    """A return for the half-year running now, for a grant that started last month."""
    today = uk_today()
    agreement = active_agreement(as_role, world, start=today - timedelta(days=30), end=today + timedelta(days=60))
    db.session.expire_all()
    return next(r for r in db.session.scalars(select(MonitoringReturn).where(MonitoringReturn.agreement_id == agreement.id))
                if r.period_start <= today <= r.period_end)


def fresh(ret: MonitoringReturn) -> MonitoringReturn:
    db.session.expire_all()
    return db.session.get(MonitoringReturn, ret.id)


def send(client: FlaskClient, ret: MonitoringReturn, button: str = "submit", **answers: str) -> Any:
    data = {**ANSWERS, **answers, "version": str(fresh(ret).version), button: "y"}
    return client.post(f"/monitoring/{ret.id}/edit", data=data)


def test_grantee_saves_a_draft_then_submits_every_answer_checked(as_role, world: World) -> None:
    ret = current_return(as_role, world)
    client = as_role("applicant")
    listing = page(client.get("/monitoring/"))
    assert "Cycle marking kits" in listing.select_one("[data-testid=return-list]").get_text()
    assert page(client.get(f"/monitoring/{ret.id}")).find("a", string="Complete the return")

    response = send(client, ret, "save", progress="Half written", outputs_achieved="", people_reached="",
                    spent_pence="")
    assert response.status_code == 302
    assert (fresh(ret).status, fresh(ret).progress) == ("due", "Half written")

    response = send(client, ret, progress="", outputs_achieved="", outcomes_achieved="", people_reached="",
                    spent_pence="")
    assert error_messages(response) == [
        "Describe the progress made in this period", "Describe the outputs delivered in this period",
        "Describe the outcomes achieved in this period", "Enter how many people the work reached, or 0",
        "Enter how much of the grant was spent in this period, or 0",
    ]
    response = send(client, ret, people_reached="lots", spent_pence="12.345")
    assert field_error(response, "people_reached") == "The number of people must be a whole number, like 45"
    assert field_error(response, "spent_pence") == "Amount must not have more than two decimal places (pence)"
    assert fresh(ret).status == "due"

    response = send(client, ret)
    assert response.status_code == 302
    ret = fresh(ret)
    assert (ret.status, ret.people_reached, ret.spent_pence) == ("submitted", 180, 1_240_50)
    assert ret.submitted_by_id == world.user("applicant").id
    assert events("monitoring_return", ret.id)[-2:] == ["monitoring_return.saved", "monitoring_return.submitted"]
    # Submitted: no more changes from the grantee.
    assert client.get(f"/monitoring/{ret.id}/edit").status_code == 302
    assert send(client, ret, progress="changed").status_code == 302
    assert fresh(ret).progress == ANSWERS["progress"]


def test_a_return_sent_back_is_changed_and_resubmitted_then_accepted(as_role, world: World) -> None:
    ret = current_return(as_role, world)
    send(as_role("applicant"), ret)
    officer = as_role("officer")
    assert page(officer.get(f"/monitoring/{ret.id}")).find("a", string="Review the return")
    url = f"/monitoring/{ret.id}/review"
    response = officer.post(url, data={"version": str(fresh(ret).version)})
    assert field_error(response, "outcome") == "Select whether you accept the return or send it back for changes"
    response = officer.post(url, data={"version": str(fresh(ret).version), "outcome": "returned"})
    assert field_error(response, "note") == "Say what needs to change"
    response = officer.post(url, data={"version": str(fresh(ret).version), "outcome": "returned",
                                       "note": "Say how many of the 212 bikes were children's"})
    assert response.status_code == 302
    assert fresh(ret).status == "returned"
    mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.subject.contains("needs changes"))).all()
    assert [m.to_address for m in mail] == [world.user("applicant").email]

    applicant = as_role("applicant")
    view = page(applicant.get(f"/monitoring/{ret.id}"))
    assert "children's" in view.select_one("[data-testid=review-note]").get_text()
    assert send(applicant, ret, outputs_achieved="212 bikes marked, 64 of them children's").status_code == 302
    assert fresh(ret).status == "resubmitted"

    officer = as_role("officer")
    assert officer.post(url, data={"version": str(fresh(ret).version), "outcome": "accepted"}).status_code == 302
    assert fresh(ret).status == "accepted"
    assert [e for e in events("monitoring_return", ret.id) if e != "monitoring_return.saved"][-4:] == [
        "monitoring_return.submitted", "monitoring_return.returned", "monitoring_return.resubmitted",
        "monitoring_return.accepted"]
    # Accepted is final.
    response = officer.post(url, data={"version": str(fresh(ret).version), "outcome": "returned", "note": "x"})
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
    return [e.note for e in history("monitoring_return", ret.id)]


def test_a_future_period_cannot_be_submitted_yet(as_role, world: World) -> None:
    today = uk_today()
    agreement = active_agreement(as_role, world, start=today, end=today + timedelta(days=400))
    future = db.session.scalars(select(MonitoringReturn).where(MonitoringReturn.agreement_id == agreement.id)
                                .order_by(MonitoringReturn.period_start)).all()[-1]
    assert future.period_start > today
    response = send(as_role("applicant"), future)
    assert response.status_code == 409
    assert "can be submitted from then" in " ".join(error_messages(response))
    assert fresh(future).status == "due"


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
