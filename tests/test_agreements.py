"""Grant agreements from an approved award: prepare, issue, accept, start, pay, end; and who may do what."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from grants.agreements.conditions import DEFAULT_CONDITIONS
from grants.agreements.rules import AgreementTerms, accept, activate, issue, prepare_agreement
from grants.assessment.rules import AssessmentInput, decide_award, record_assessment
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import AuditEvent, Award, GrantAgreement, MonitoringReturn, OutboxEmail, Payment, Repayment
from tests.conftest import World, error_messages, field_error, make_submitted_bid, page


def approved_award(world: World, amount_pence: int = 2_000_00, title: str = "Cycle marking kits") -> Award:
    """An award approved through the same rules the officer's pages use."""
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, amount_pence, title=title)
    officer = world.user("officer")
    assert record_assessment(bid, officer, AssessmentInput(
        scores={"need": 4, "crime_reduction": 4, "deliverability": 4, "value_for_money": 4, "measures": 4},
        comments="", recommended_pence=amount_pence, conflict_of_interest=False, conflict_details="",
        organisation_checked=True, due_diligence_notes="Checked", fraud_risk="low", fraud_risk_reasons="Known CSP",
    ), uk_today()) == {}
    outcome, problems = decide_award(bid, officer, amount_pence, "Marked bikes are stolen less and recovered more",
                                     uk_today(), public_summary="Cycle marking in Cambridge")
    assert outcome is not None and outcome.status == "approved", problems
    db.session.commit()
    return db.session.scalar(select(Award).where(Award.bid_id == bid.id))


def make_agreement(world: World, status: str = "draft", title: str = "Cycle marking kits") -> GrantAgreement:
    """An agreement taken to `status` (draft, issued, accepted or active) through the rules, without pages.

    It runs from a month ago, so the half-year running now has its monitoring return."""
    award = approved_award(world, title=title)
    officer, today = world.user("officer"), uk_today()
    agreement, problems = prepare_agreement(award, officer, AgreementTerms(today - timedelta(days=30),
                                                                           today + timedelta(days=60), ""))
    assert agreement is not None, problems
    if status in ("issued", "accepted", "active"):
        issue(agreement, officer, uk_today())
    if status in ("accepted", "active"):
        assert accept(agreement, world.user("applicant"), "Tom Hughes", "Manager", True, uk_today()) == {}
    if status == "active":
        activate(agreement, officer, uk_today())
    db.session.commit()
    return agreement


def dates(name: str, value: date) -> dict[str, list[str]]:
    """A GOV.UK date input posts its three boxes under one name: day, month, year."""
    return {name: [str(value.day), str(value.month), str(value.year)]}


def fresh(agreement: GrantAgreement) -> GrantAgreement:
    db.session.expire_all()
    return db.session.get(GrantAgreement, agreement.id)


def events(object_type: str, object_id: int) -> list[str]:
    db.session.expire_all()
    return [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == object_id).order_by(AuditEvent.id))]


def prepare(client: FlaskClient, award: Award, start: date, end: date, special: str = "") -> Any:
    return client.post(f"/agreements/from-bid/{award.bid_id}",
                       data={**dates("start_date", start), **dates("end_date", end), "special_conditions": special})


def agreement_of(award: Award) -> GrantAgreement:
    db.session.expire_all()
    return db.session.scalar(select(GrantAgreement).where(GrantAgreement.award_id == award.id))


def post_version(client: FlaskClient, url: str, agreement: GrantAgreement, **data: str) -> Any:
    return client.post(url, data={"version": str(fresh(agreement).version), **data})


def issued_agreement(as_role: Any, world: World, *, start: date | None = None, end: date | None = None,
                     amount_pence: int = 2_000_00) -> GrantAgreement:
    award = approved_award(world, amount_pence)
    client = as_role("officer")
    start = start or uk_today()
    assert prepare(client, award, start, end or start + timedelta(days=200), "Report any bike thefts to the OPCC").status_code == 302
    agreement = agreement_of(award)
    assert post_version(client, f"/agreements/{agreement.id}/issue", agreement).status_code == 302
    return fresh(agreement)


def active_agreement(as_role: Any, world: World, **kwargs: Any) -> GrantAgreement:
    agreement = issued_agreement(as_role, world, **kwargs)
    client = as_role("applicant")
    assert post_version(client, f"/agreements/{agreement.id}/accept", agreement, accepted_name="Tom Hughes",
                        accepted_role="Community Safety Manager", confirm="y").status_code == 302
    client = as_role("officer")
    assert post_version(client, f"/agreements/{agreement.id}/activate", agreement).status_code == 302
    return fresh(agreement)


def test_officer_prepares_a_draft_from_the_award_with_its_dates_checked(as_role, world: World) -> None:
    award = approved_award(world)
    client = as_role("officer")
    bid_page = page(client.get(f"/assess/bids/{award.bid_id}"))
    assert bid_page.find("a", string="Prepare grant agreement")
    form = client.get(f"/agreements/from-bid/{award.bid_id}")
    assert form.status_code == 200 and "Cycle marking kits" in form.get_data(as_text=True)

    today = uk_today()
    response = prepare(client, award, today, today - timedelta(days=1))
    assert field_error(response, "end_date") == "The end date must be the same as or after the start date"
    response = client.post(f"/agreements/from-bid/{award.bid_id}", data={"start_date": ["31", "2", "2026"]})
    assert field_error(response, "start_date") == "The start date must be a real date, like 27 3 2026"
    assert field_error(response, "end_date") == "Enter the end date"
    assert agreement_of(award) is None

    response = prepare(client, award, today, today + timedelta(days=180), "Mark at least 200 bikes")
    agreement = agreement_of(award)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/agreements/{agreement.id}")
    assert (agreement.status, agreement.amount_pence, agreement.special_conditions) == ("draft", 2_000_00, "Mark at least 200 bikes")
    assert (agreement.standard_conditions, agreement.conditions_version) == (DEFAULT_CONDITIONS, 1)
    assert events("grant_agreement", agreement.id) == ["agreement.prepared"]
    # A second preparation finds the first rather than making another.
    assert prepare(client, award, today, today).headers["Location"].endswith(f"/agreements/{agreement.id}")
    assert db.session.scalar(select(db.func.count(GrantAgreement.id))) == 1


def test_a_draft_is_hidden_from_the_grantee_until_issued_then_emailed(as_role, world: World) -> None:
    award = approved_award(world)
    client = as_role("officer")
    prepare(client, award, uk_today(), uk_today() + timedelta(days=30))
    agreement = agreement_of(award)

    applicant = as_role("applicant")
    assert applicant.get(f"/agreements/{agreement.id}").status_code == 404
    assert "Cycle marking kits" not in applicant.get("/agreements/").get_data(as_text=True)

    client = as_role("officer")
    response = post_version(client, f"/agreements/{agreement.id}/issue", agreement)
    assert response.status_code == 302
    assert fresh(agreement).status == "issued"
    mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.subject.contains(agreement.reference))).all()
    assert [m.to_address for m in mail] == [world.user("applicant").email]

    applicant = as_role("applicant")
    listing = applicant.get("/agreements/").get_data(as_text=True)
    assert "Cycle marking kits" in listing
    view = page(applicant.get(f"/agreements/{agreement.id}"))
    assert view.find("a", string="Read and accept the agreement")
    assert view.select_one("[data-testid=special-conditions]").get_text(strip=True) == "None."
    bid_view = page(applicant.get(f"/bids/{award.bid_id}"))
    assert bid_view.select_one("[data-testid=agreement-link] a")["href"] == f"/agreements/{agreement.id}"


def test_grantee_accepts_with_typed_name_role_and_time(as_role, world: World) -> None:
    agreement = issued_agreement(as_role, world)
    client = as_role("applicant")
    response = post_version(client, f"/agreements/{agreement.id}/accept", agreement)
    assert error_messages(response) == [
        "Enter your full name", "Enter your role in the organisation",
        "Confirm that you accept the conditions on behalf of your organisation",
    ]
    assert fresh(agreement).status == "issued"

    response = post_version(client, f"/agreements/{agreement.id}/accept", agreement, accepted_name="Tom Hughes",
                            accepted_role="Community Safety Manager", confirm="y")
    assert response.status_code == 302
    agreement = fresh(agreement)
    assert agreement.status == "accepted"
    assert (agreement.accepted_name, agreement.accepted_role) == ("Tom Hughes", "Community Safety Manager")
    assert agreement.accepted_by_id == world.user("applicant").id and agreement.accepted_at is not None
    text = page(client.get(f"/agreements/{agreement.id}")).select_one("[data-testid=acceptance]").get_text()
    assert "Tom Hughes, Community Safety Manager" in text
    # Accepting twice is refused politely.
    again = client.get(f"/agreements/{agreement.id}/accept")
    assert again.status_code == 302


def test_only_the_grantee_organisation_sees_or_accepts_its_agreement(as_role, world: World) -> None:
    agreement = issued_agreement(as_role, world)
    other = as_role("other_applicant")
    for url in (f"/agreements/{agreement.id}", f"/agreements/{agreement.id}/accept"):
        assert other.get(url).status_code == 404
    assert other.post(f"/agreements/{agreement.id}/accept", data={
        "version": str(agreement.version), "accepted_name": "Hana", "accepted_role": "Manager", "confirm": "y",
    }).status_code == 404
    assert "Cycle marking kits" not in other.get("/agreements/").get_data(as_text=True)
    assert fresh(agreement).status == "issued"


def test_starting_the_grant_schedules_a_return_for_each_half_year(as_role, world: World) -> None:
    start = date(2036, 6, 1)  # far enough ahead that no due date is held back by the day it starts
    agreement = issued_agreement(as_role, world, start=start, end=date(2037, 5, 31))
    client = as_role("applicant")
    post_version(client, f"/agreements/{agreement.id}/accept", agreement, accepted_name="Tom Hughes",
                 accepted_role="Manager", confirm="y")
    client = as_role("officer")
    response = post_version(client, f"/agreements/{agreement.id}/activate", agreement)
    assert response.status_code == 302
    agreement = fresh(agreement)
    assert agreement.status == "active"
    returns = db.session.scalars(select(MonitoringReturn).where(MonitoringReturn.agreement_id == agreement.id)
                                 .order_by(MonitoringReturn.period_start)).all()
    # One per half-year the grant touches; the last ends with the grant.
    assert [(r.period_start, r.period_end, r.due_on, r.status) for r in returns] == [
        (date(2036, 4, 1), date(2036, 9, 30), date(2036, 10, 31), "due"),
        (date(2036, 10, 1), date(2037, 3, 31), date(2037, 5, 1), "due"),
        (date(2037, 4, 1), date(2037, 5, 31), date(2037, 7, 1), "due"),
    ]
    assert events("grant_agreement", agreement.id) == [
        "agreement.prepared", "agreement.issued", "agreement.accepted", "agreement.active"]


def test_state_changes_out_of_turn_are_refused_with_a_reason(as_role, world: World) -> None:
    agreement = issued_agreement(as_role, world)
    client = as_role("officer")
    response = post_version(client, f"/agreements/{agreement.id}/activate", agreement)
    assert response.status_code == 409
    assert "cannot become active" in " ".join(error_messages(response))
    assert fresh(agreement).status == "issued"
    # A page drawn before someone else's change carries an old version and is refused.
    stale = client.post(f"/agreements/{agreement.id}/issue", data={"version": "1"})
    assert stale.status_code == 409 and fresh(agreement).status == "issued"


def test_only_officers_prepare_issue_start_and_end_agreements(as_role, world: World) -> None:
    award = approved_award(world)
    for role in ("approver", "finance", "admin", "applicant"):
        client = as_role(role)
        assert client.get(f"/agreements/from-bid/{award.bid_id}").status_code == 403
    client = as_role("officer")
    prepare(client, award, uk_today(), uk_today() + timedelta(days=30))
    agreement = agreement_of(award)
    for role in ("approver", "finance", "admin", "applicant"):
        client = as_role(role)
        for url in (f"/agreements/{agreement.id}/issue", f"/agreements/{agreement.id}/activate"):
            assert client.post(url, data={"version": str(agreement.version)}).status_code == 403
        assert client.get(f"/agreements/{agreement.id}/end").status_code == 403
    assert fresh(agreement).status == "draft"


def schedule(client: FlaskClient, agreement: GrantAgreement, amount: str, due: date) -> Any:
    return client.post(f"/agreements/{agreement.id}/payments/new", data={"amount_pence": amount, **dates("due_on", due)})


def test_finance_schedules_and_records_payments_never_beyond_the_grant(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    client = as_role("finance")
    today = uk_today()
    response = schedule(client, agreement, "£2,000.01", today)
    assert field_error(response, "amount_pence") == "£2,000.01 is more than the £2,000.00 of the grant not yet scheduled or paid"
    response = schedule(client, agreement, "-5", today)
    assert field_error(response, "amount_pence") == "Amount must not be negative"
    response = schedule(client, agreement, "1000", agreement.end_date + timedelta(days=1))
    assert field_error(response, "due_on") == "The payment must be due by the grant's end date"
    assert schedule(client, agreement, "£1,500", today + timedelta(days=30)).status_code == 302
    response = schedule(client, agreement, "600", today)
    assert field_error(response, "amount_pence") == "£600.00 is more than the £500.00 of the grant not yet scheduled or paid"
    assert fresh(agreement).scheduled_pence == 1_500_00

    payment = db.session.scalar(select(Payment).where(Payment.agreement_id == agreement.id))
    url = f"/agreements/payments/{payment.id}/paid"
    response = client.post(url, data={"version": str(payment.version), **dates("paid_on", today + timedelta(days=1))})
    assert field_error(response, "paid_on") == "The date the payment was made must be today or in the past"
    assert field_error(response, "finance_reference") == "Enter the finance system's reference for the payment"
    response = client.post(url, data={"version": str(payment.version), **dates("paid_on", today),
                                      "finance_reference": "AP-2026-0042"})
    assert response.status_code == 302
    db.session.expire_all()
    payment = db.session.get(Payment, payment.id)
    assert (payment.status, payment.paid_on, payment.finance_reference) == ("paid", today, "AP-2026-0042")
    assert events("payment", payment.id) == ["payment.scheduled", "payment.paid"]
    # A paid payment cannot be paid or cancelled again.
    assert client.post(url, data={"version": str(payment.version), **dates("paid_on", today),
                                  "finance_reference": "again"}).status_code == 409
    assert client.post(f"/agreements/payments/{payment.id}/cancel",
                       data={"version": str(payment.version), "reason": "oops"}).status_code == 409

    view = page(client.get(f"/agreements/{agreement.id}"))
    assert "£1,500.00" in view.select_one("[data-testid=agreement]").get_text(" ")  # paid so far
    history = [row.select("td")[2].get_text(strip=True) for row in view.select("[data-testid=history] tbody tr")]
    assert history[-2:] == ["Payment scheduled", "Payment made"]


def test_payments_are_not_scheduled_in_advance_of_need(app, as_role, world: World) -> None:
    start = uk_today() + timedelta(days=10)
    agreement = active_agreement(as_role, world, start=start)  # £2,000
    client = as_role("finance")
    form = page(client.get(f"/agreements/{agreement.id}/payments/new"))
    last_day, after = start + timedelta(days=29), start + timedelta(days=30)

    def day(value: date) -> str:
        return f"{value.day} {value:%B %Y}"

    assert form.select_one("[data-testid=upfront]").get_text(" ", strip=True).endswith(
        f"no more than 50% of the grant can be due by {day(last_day)}.")
    response = schedule(client, agreement, "100", start - timedelta(days=1))
    assert field_error(response, "due_on") == f"The payment cannot be due before the grant starts, on {day(start)}"
    response = schedule(client, agreement, "1,000.01", start)
    assert field_error(response, "due_on") == (
        f"No more than 50% of the grant (£1,000.00) can be due in its first 30 days, to {day(last_day)}, so money is "
        f"paid as the work needs it. Make the payment due on or after {day(after)}, or make it £1,000.00 or less")
    assert schedule(client, agreement, "600", start).status_code == 302
    response = schedule(client, agreement, "500", last_day)
    assert field_error(response, "due_on").endswith(f"£600.00 is due by then already. Make the payment due on or "
                                                    f"after {day(after)}, or make it £400.00 or less")
    assert schedule(client, agreement, "400", last_day).status_code == 302  # exactly half
    assert schedule(client, agreement, "1,000", after).status_code == 302  # day 31
    payments = db.session.scalars(select(Payment).where(Payment.agreement_id == agreement.id)
                                  .order_by(Payment.id)).all()
    assert [p.amount_pence for p in payments] == [600_00, 400_00, 1_000_00]
    # A cancelled payment no longer counts; the share is a setting.
    cancel = f"/agreements/payments/{payments[0].id}/cancel"
    assert client.post(cancel, data={"version": str(payments[0].version), "reason": "Too early"}).status_code == 302
    app.config["PAYMENT_MAX_UPFRONT_PERCENT"] = 25
    response = schedule(client, agreement, "200", start)
    assert field_error(response, "due_on").startswith("No more than 25% of the grant (£500.00)")
    assert schedule(client, agreement, "100", start).status_code == 302


def test_cancelling_a_scheduled_payment_frees_its_money(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    client = as_role("finance")
    later = uk_today() + timedelta(days=30)
    schedule(client, agreement, "2000", later)
    payment = db.session.scalar(select(Payment).where(Payment.agreement_id == agreement.id))
    url = f"/agreements/payments/{payment.id}/cancel"
    assert field_error(client.post(url, data={"version": str(payment.version)}), "reason") == \
        "Give the reason for cancelling the payment"
    assert client.post(url, data={"version": str(payment.version), "reason": "Wrong amount"}).status_code == 302
    assert fresh(agreement).scheduled_pence == 0
    assert schedule(client, agreement, "2000", later).status_code == 302


def test_payments_wait_for_acceptance_and_only_finance_makes_them(as_role, world: World) -> None:
    agreement = issued_agreement(as_role, world)
    client = as_role("finance")
    response = schedule(client, agreement, "100", uk_today())
    assert response.status_code == 409
    assert "once the grantee has accepted it" in " ".join(error_messages(response))
    for role in ("officer", "approver", "admin", "applicant"):
        assert as_role(role).get(f"/agreements/{agreement.id}/payments/new").status_code == 403


def test_closing_needs_no_scheduled_payments_and_terminating_cancels_them(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    finance = as_role("finance")
    schedule(finance, agreement, "500", uk_today())
    schedule(finance, agreement, "700", uk_today() + timedelta(days=30))
    first = db.session.scalars(select(Payment).where(Payment.agreement_id == agreement.id).order_by(Payment.id)).first()
    finance.post(f"/agreements/payments/{first.id}/paid", data={"version": str(first.version),
                                                               **dates("paid_on", uk_today()), "finance_reference": "AP-1"})
    officer = as_role("officer")
    url = f"/agreements/{agreement.id}/end"
    response = post_version(officer, url, agreement)
    assert field_error(response, "outcome") == "Select whether the grant is closed or terminated"
    assert field_error(response, "reason") == "Give the reason"
    response = post_version(officer, url, agreement, outcome="closed", reason="Work finished")
    assert field_error(response, "outcome") == \
        "Pay or cancel the scheduled payments before closing the grant, or terminate it"
    response = post_version(officer, url, agreement, outcome="terminated", reason="Project stopped", repayment_pence="600")
    assert field_error(response, "repayment_pence") == "The repayment cannot be more than the £500.00 paid to the grantee"
    assert fresh(agreement).status == "active"

    response = post_version(officer, url, agreement, outcome="terminated", reason="Project stopped",
                            repayment_pence="£250")
    assert response.status_code == 302
    agreement = fresh(agreement)
    assert (agreement.status, agreement.scheduled_pence) == ("terminated", 500_00)
    repayment = db.session.scalar(select(Repayment).where(Repayment.agreement_id == agreement.id))
    assert (repayment.amount_pence, repayment.received_pence, repayment.status, repayment.reason) == (
        250_00, 0, "due", "Project stopped")
    assert repayment.due_on == uk_today() + timedelta(days=30)
    assert sorted(p.status for p in agreement.payments) == ["cancelled", "paid"]
    assert events("grant_agreement", agreement.id)[-2:] == ["agreement.terminated", "agreement.closed_out"]
    assert events("repayment", repayment.id) == ["repayment.due"]
