"""Grants after award: repayments (asked for, received in part or whole, written off), close-out figures and the
commitment given back to the fund-year, and where they show (agreement page, finance page, exports)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer

from exports.payments import RECEIPTS_SHEET, build_payments
from grants.assessment.rules import CRITERIA, AssessmentInput, decide_award, record_assessment
from grants.core.dates import period_named, whole_year
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import (
    AuditEvent,
    Bid,
    FundYear,
    GrantAgreement,
    MonitoringReturn,
    OutboxEmail,
    Payment,
    Repayment,
    RepaymentReceipt,
)
from grants.demo import seed_demo
from grants.finance import reports
from grants.finance.government import government_return
from grants.monitoring.rules import ReturnAnswers, review
from grants.monitoring.rules import submit as submit_return
from tests import test_concurrency as concurrency
from tests.conftest import World, error_messages, field_error, make_submitted_bid, make_user, page
from tests.test_agreements import active_agreement, dates, events, fresh, issued_agreement, post_version, schedule
from tests.test_exports import YEAR, Grants, make_grants, table, utc

TODAY = uk_today()


# --- helpers -------------------------------------------------------------------------------------------------


def paid(as_role: Any, world: World, amount: str = "1000", **kwargs: Any) -> GrantAgreement:
    """A running £2,000 grant of which `amount` has been paid, through finance's pages."""
    agreement = active_agreement(as_role, world, **kwargs)
    finance = as_role("finance")
    assert schedule(finance, agreement, amount, agreement.start_date).status_code == 302
    payment = db.session.scalar(select(Payment).where(Payment.agreement_id == agreement.id))
    response = finance.post(f"/agreements/payments/{payment.id}/paid",
                            data={"version": str(payment.version), **dates("paid_on", TODAY),
                                  "finance_reference": "AP-1"})
    assert response.status_code == 302
    return fresh(agreement)


def ask(client: FlaskClient, agreement: GrantAgreement, amount: str, reason: str = "Unspent grant", **more: Any) -> Any:
    return post_version(client, f"/agreements/{agreement.id}/repayments/new", agreement, amount_pence=amount,
                        reason=reason, **more)


def has_link(soup: Any, words: str) -> bool:
    """A link whose text starts with `words` (its visually hidden part names the record)."""
    return any(a.get_text(" ", strip=True).startswith(words) for a in soup.select("a"))


def repayments_of(agreement: GrantAgreement) -> list[Repayment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Repayment).where(Repayment.agreement_id == agreement.id)
                                   .order_by(Repayment.id)))


def receive(client: FlaskClient, repayment: Repayment, amount: str, on: date = TODAY, reference: str = "AR-1") -> Any:
    return client.post(f"/agreements/repayments/{repayment.id}/receive",
                       data={"amount_pence": amount, **dates("received_on", on), "reference": reference})


def fresh_repayment(repayment: Repayment) -> Repayment:
    db.session.expire_all()
    return db.session.get(Repayment, repayment.id)


def committed(world: World) -> int:
    db.session.expire_all()
    return db.session.get(FundYear, world.scf_year.id).committed_pence


def assessed(world: World, amount_pence: int, title: str) -> Bid:
    bid = make_submitted_bid(world.user("other_applicant"), world.scf_year, amount_pence, title=title)
    assert record_assessment(bid, world.user("officer"), AssessmentInput(
        scores=dict.fromkeys(CRITERIA, 4), comments="", recommended_pence=amount_pence, conflict_of_interest=False,
        conflict_details="", organisation_checked=True, due_diligence_notes="Checked", fraud_risk="low",
        fraud_risk_reasons="Known CSP"), TODAY) == {}
    db.session.commit()
    return bid


def award(world: World, bid: Bid, amount_pence: int) -> tuple[Any, dict[str, str]]:
    outcome, problems = decide_award(bid, world.user("officer"), amount_pence, "Fewer thefts", TODAY,
                                     public_summary="Bike marking")
    if outcome is None:
        db.session.rollback()
    else:
        db.session.commit()
    return outcome, problems


def accept_return_with_spend(world: World, agreement: GrantAgreement, spent_pounds: str) -> None:
    """The grantee reports `spent_pounds` spent in the grant's first return; an officer accepts it."""
    db.session.expire_all()
    agreement = db.session.get(GrantAgreement, agreement.id)
    ret = agreement.returns[0]
    line = agreement.bid.budget_lines[0]
    assert submit_return(ret, world.user("applicant"), ReturnAnswers("Lights fitted", "", "green",
                                                                      spend={line.id: spent_pounds}), TODAY) == {}
    assert review(ret, world.user("officer"), "accepted", "Checked", TODAY, "green") == {}
    db.session.commit()


# --- asking for a repayment ------------------------------------------------------------------------------------


def test_an_officer_asks_for_up_to_what_was_paid_and_the_grantee_is_emailed(as_role, world: World) -> None:
    agreement = paid(as_role, world, "1000")
    officer = as_role("officer")
    view = page(officer.get(f"/agreements/{agreement.id}"))
    link = view.find("a", string="Ask for a repayment")
    assert link is not None and link["href"] == f"/agreements/{agreement.id}/repayments/new"
    form = page(officer.get(link["href"]))
    assert form.select_one("[data-testid=left]").get_text() == "£1,000.00"

    response = ask(officer, agreement, "1,000.01", "", **dates("due_on", TODAY - timedelta(days=1)))
    assert field_error(response, "amount_pence") == \
        "The repayment cannot be more than the £1,000.00 paid to the grantee"
    assert field_error(response, "reason") == "Give the reason for the repayment"
    assert field_error(response, "due_on") == "The repayment must be due today or later"
    assert field_error(ask(officer, agreement, "0"), "amount_pence") == "The repayment must be more than £0.00"
    assert field_error(ask(officer, agreement, ""), "amount_pence") == "Enter the amount to be repaid"
    assert repayments_of(agreement) == []

    due = TODAY + timedelta(days=14)
    response = ask(officer, agreement, "£600", "Two events were cancelled", **dates("due_on", due))
    assert response.status_code == 302
    [repayment] = repayments_of(agreement)
    assert (repayment.amount_pence, repayment.received_pence, repayment.status, repayment.due_on, repayment.reason) == (
        600_00, 0, "due", due, "Two events were cancelled")
    assert events("repayment", repayment.id) == ["repayment.due"]
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.subject.contains("repayment")))
    assert email.to_address == world.user("applicant").email
    for said in ("£600.00", "Two events were cancelled", f"{due.day} {due:%B %Y}", "How to pay", repayment.reference):
        assert said in email.body, said

    # What is left to ask back is what was paid less what has been asked back already.
    response = ask(officer, agreement, "500")
    assert field_error(response, "amount_pence") == ("The repayment cannot be more than £400.00: the £1,000.00 paid "
                                                     "to the grantee less what has already been asked back")
    assert ask(officer, agreement, "400").status_code == 302
    second = repayments_of(agreement)[1]
    assert second.due_on == TODAY + timedelta(days=30)  # no date given: 30 days
    response = ask(officer, agreement, "1")
    assert field_error(response, "amount_pence").startswith("Everything paid to the grantee (£1,000.00) has already")


def test_a_repayment_waits_for_acceptance_and_only_officers_ask(as_role, world: World) -> None:
    agreement = issued_agreement(as_role, world)
    officer = as_role("officer")
    assert not has_link(page(officer.get(f"/agreements/{agreement.id}")), "Ask for a repayment")
    response = officer.get(f"/agreements/{agreement.id}/repayments/new")
    assert response.status_code == 302  # back to the agreement, saying why
    response = ask(officer, agreement, "10")
    assert response.status_code == 302 and repayments_of(agreement) == []
    for role in ("finance", "approver", "admin", "applicant"):
        assert as_role(role).get(f"/agreements/{agreement.id}/repayments/new").status_code == 403


def test_two_officers_asking_at_once_are_not_both_checked_against_the_same_amount(as_role, world: World) -> None:
    agreement = paid(as_role, world, "1000")
    officer = as_role("officer")
    version = str(fresh(agreement).version)
    first = officer.post(f"/agreements/{agreement.id}/repayments/new",
                         data={"version": version, "amount_pence": "800", "reason": "Unspent"})
    second = officer.post(f"/agreements/{agreement.id}/repayments/new",
                          data={"version": version, "amount_pence": "800", "reason": "Unspent"})
    assert first.status_code == 302 and second.status_code == 409
    assert "Someone else changed this record" in " ".join(error_messages(second))
    assert [r.amount_pence for r in repayments_of(agreement)] == [800_00]


# --- money received, and write-offs ----------------------------------------------------------------------------


def test_finance_records_money_received_in_part_then_in_whole(as_role, world: World) -> None:
    agreement = paid(as_role, world, "1000")
    assert ask(as_role("officer"), agreement, "600").status_code == 302
    [repayment] = repayments_of(agreement)
    finance = as_role("finance")
    view = page(finance.get(f"/agreements/{agreement.id}"))
    assert has_link(view, "Record money received") and has_link(view, "Write off what is still owed")
    assert not has_link(view, "Ask for a repayment")  # not finance's

    response = receive(finance, repayment, "600.01", TODAY + timedelta(days=1), "")
    assert field_error(response, "received_on") == "The date the money was received must be today or in the past"
    assert field_error(response, "reference") == "Enter the finance system's reference for the money received"
    response = receive(finance, repayment, "600.01")
    assert field_error(response, "amount_pence") == "£600.01 is more than the £600.00 still owed on this repayment"
    response = receive(finance, repayment, "10", TODAY - timedelta(days=400))
    assert field_error(response, "received_on").startswith("The money cannot have been received before the grantee")
    assert fresh_repayment(repayment).received_pence == 0

    assert receive(finance, repayment, "200", reference="AR-2026-01").status_code == 302
    assert (fresh_repayment(repayment).status, fresh_repayment(repayment).received_pence) == ("part_received", 200_00)
    assert receive(finance, repayment, "100", reference="AR-2026-02").status_code == 302
    assert (fresh_repayment(repayment).status, fresh_repayment(repayment).received_pence) == ("part_received", 300_00)
    assert receive(finance, repayment, "300", reference="AR-2026-03").status_code == 302
    repayment = fresh_repayment(repayment)
    assert (repayment.status, repayment.received_pence) == ("received", 600_00)
    assert [(r.amount_pence, r.reference) for r in repayment.receipts] == [
        (200_00, "AR-2026-01"), (100_00, "AR-2026-02"), (300_00, "AR-2026-03")]
    assert events("repayment", repayment.id) == ["repayment.due", "repayment.part_received",
                                                 "repayment.receipt_recorded", "repayment.received"]
    # Received in full: nothing more can be received or written off.
    response = receive(finance, repayment, "1")
    assert response.status_code == 302  # back to the agreement: the form is not offered
    assert fresh_repayment(repayment).received_pence == 600_00
    response = finance.post(f"/agreements/repayments/{repayment.id}/write-off",
                            data={"version": str(repayment.version), "reason": "x"})
    assert response.status_code == 302 and fresh_repayment(repayment).status == "received"

    view = page(as_role("applicant").get(f"/agreements/{agreement.id}"))
    table = view.select_one("[data-testid=repayments]").get_text(" ", strip=True)
    assert "AR-2026-02" in table and "Received" in table
    assert view.select_one("[data-testid=repayments-received]").get_text() == "£600.00"
    assert view.select_one("[data-testid=repayments-outstanding]").get_text() == "£0.00"
    history = [row.select("td")[2].get_text(strip=True) for row in view.select("[data-testid=history] tbody tr")]
    assert history[-4:] == ["Repayment asked for", "Part repaid", "Money received", "Repaid in full"]


def test_finance_writes_off_what_is_still_owed_with_reasons(as_role, world: World) -> None:
    agreement = paid(as_role, world, "1000")
    assert ask(as_role("officer"), agreement, "500").status_code == 302
    [repayment] = repayments_of(agreement)
    finance = as_role("finance")
    assert receive(finance, repayment, "150").status_code == 302
    repayment = fresh_repayment(repayment)
    url = f"/agreements/repayments/{repayment.id}/write-off"
    assert field_error(finance.post(url, data={"version": str(repayment.version)}), "reason") == \
        "Give the reason for writing off what is still owed"
    stale = finance.post(url, data={"version": str(repayment.version - 1), "reason": "Organisation wound up"})
    assert stale.status_code == 409
    response = finance.post(url, data={"version": str(repayment.version), "reason": "Organisation wound up"})
    assert response.status_code == 302
    repayment = fresh_repayment(repayment)
    assert (repayment.status, repayment.received_pence, repayment.amount_pence) == ("cancelled", 150_00, 500_00)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "repayment",
                                                       AuditEvent.action == "repayment.cancelled"))
    assert event.actor_id == world.user("finance").id and "Organisation wound up" in event.note
    assert (event.from_state, event.to_state) == ("part_received", "cancelled")
    assert receive(finance, repayment, "1").status_code == 302 and fresh_repayment(repayment).received_pence == 150_00

    view = page(finance.get(f"/agreements/{agreement.id}"))
    assert view.select_one("[data-testid=repayments-outstanding]").get_text() == "£0.00"
    assert "£350.00 written off" in view.select_one("[data-testid=repayments]").get_text(" ", strip=True)
    # What was written off can be asked for again: it was never repaid.
    assert field_error(ask(as_role("officer"), agreement, "851"), "amount_pence").startswith(
        "The repayment cannot be more than £850.00")


def test_twenty_receipts_at_the_same_moment_never_exceed_what_is_owed(  # type: ignore[no-untyped-def]
        app: Flask, world: World, server: BaseWSGIServer, as_role) -> None:
    agreement = paid(as_role, world, "1000")
    assert ask(as_role("officer"), agreement, "950").status_code == 302
    [repayment] = repayments_of(agreement)
    finance = [world.user("finance"), make_user("finance2@opcc.example", "finance", world.opcc)]
    db.session.commit()
    cookies = [concurrency.signed_in_cookie(server, user.email) for user in finance]
    form = {"amount_pence": "100", "received_on": [str(TODAY.day), str(TODAY.month), str(TODAY.year)],
            "reference": "AR-SAME-MOMENT"}
    answers = concurrency.fire(server, [(repayment.id, form, cookies[n % 2]) for n in range(20)],  # type: ignore[misc]
                               path="/agreements/repayments/{}/receive")

    repayment = fresh_repayment(repayment)
    receipts = db.session.scalar(select(func.sum(RepaymentReceipt.amount_pence))
                                 .where(RepaymentReceipt.repayment_id == repayment.id))
    made = [a for a in answers if a.status == 302]
    assert len(made) == 9 and receipts == repayment.received_pence == 900_00
    assert repayment.status == "part_received" and repayment.received_pence <= repayment.amount_pence
    for answer in answers:
        if answer.status != 302:
            assert answer.status == 200
            assert "£100.00 is more than the £50.00 still owed on this repayment" in answer.body
    assert len(events("repayment", repayment.id)) == 1 + 9  # asked for, then one event per receipt kept


# --- close-out: the final figures, and the commitment released ------------------------------------------------


def test_closing_keeps_the_final_figures_and_the_released_money_is_awarded_again(as_role, world: World) -> None:
    agreement = paid(as_role, world, "1000")
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.budget_pence = fund_year.committed_pence  # the year's budget is all awarded
    db.session.commit()
    waiting = assessed(world, 1_000_00, "Bike marking, second round")
    outcome, problems = award(world, waiting, 1_000_00)
    assert outcome is None and problems["amount_pence"].startswith("£1,000.00 is more than the £0.00 left")

    accept_return_with_spend(world, agreement, "700")
    officer = as_role("officer")
    response = post_version(officer, f"/agreements/{agreement.id}/end", agreement, outcome="closed",
                            reason="Lights fitted; £300 not needed", repayment_pence="300")
    assert response.status_code == 302, error_messages(response)
    agreement = fresh(agreement)
    assert (agreement.status, agreement.final_spent_pence, agreement.released_pence) == ("closed", 700_00, 1_300_00)
    assert committed(world) == 2_000_00 - 1_300_00  # the grant less what was paid, plus what is to be repaid
    [repayment] = repayments_of(agreement)
    assert (repayment.amount_pence, repayment.reason) == (300_00, "Lights fitted; £300 not needed")
    assert events("grant_agreement", agreement.id)[-2:] == ["agreement.closed", "agreement.closed_out"]
    released = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fund_year.released"))
    assert (released.object_id, released.details["released_pence"]) == (world.scf_year.id, 1_300_00)

    view = page(officer.get(f"/agreements/{agreement.id}"))
    figures = {key: view.select_one(f"[data-testid=close-out-{key}]").get_text() for key in
               ("awarded", "paid", "spent", "underspend", "repayment", "released")}
    assert figures == {"awarded": "£2,000.00", "paid": "£1,000.00", "spent": "£700.00", "underspend": "£300.00",
                       "repayment": "£300.00", "released": "£1,300.00"}
    history = [row.select("td")[2].get_text(strip=True) for row in view.select("[data-testid=history] tbody tr")]
    assert "Close-out figures recorded" in history and "Repayment asked for" in history

    # The released money is awarded again in the same year.
    outcome, problems = award(world, db.session.get(Bid, waiting.id), 1_000_00)
    assert outcome is not None and outcome.status == "approved", problems
    assert committed(world) == 700_00 + 1_000_00

    row = next(r for r in reports.grants_register(world.scf_year.year_start, "360G-x", today=TODAY)
               if r.agreement_reference == agreement.reference)
    assert row.close_out is not None
    assert (row.close_out.spent_pence, row.close_out.underspend_pence, row.close_out.released_pence) == (
        700_00, 300_00, 1_300_00)
    assert (row.repayment_asked_pence, row.repaid_pence, row.repayment_outstanding_pence) == (300_00, 0, 300_00)


def test_terminating_an_accepted_grant_releases_all_of_it(as_role, world: World) -> None:
    agreement = issued_agreement(as_role, world)
    applicant = as_role("applicant")
    assert post_version(applicant, f"/agreements/{agreement.id}/accept", agreement, accepted_name="Tom Hughes",
                        accepted_role="Manager", confirm="y").status_code == 302
    before = committed(world)
    response = post_version(as_role("officer"), f"/agreements/{agreement.id}/end", agreement, outcome="terminated",
                            reason="Organisation withdrew")
    assert response.status_code == 302
    agreement = fresh(agreement)
    assert (agreement.released_pence, agreement.final_spent_pence) == (2_000_00, 0)
    assert committed(world) == before - 2_000_00
    assert repayments_of(agreement) == []


def test_release_never_takes_the_fund_years_commitment_below_zero(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.committed_pence = 500_00  # less than this grant would give back (a figure changed by hand)
    db.session.commit()
    response = post_version(as_role("officer"), f"/agreements/{agreement.id}/end", agreement, outcome="terminated",
                            reason="Stopped")
    assert response.status_code == 302
    assert committed(world) == 0 and fresh(agreement).released_pence == 500_00


def test_a_repayment_asked_after_the_close_is_released_and_a_write_off_takes_it_back(as_role, world: World) -> None:
    agreement = paid(as_role, world, "1000")
    officer = as_role("officer")
    assert post_version(officer, f"/agreements/{agreement.id}/end", agreement, outcome="terminated",
                        reason="Stopped").status_code == 302
    assert fresh(agreement).released_pence == 1_000_00 and committed(world) == 1_000_00
    assert ask(officer, fresh(agreement), "250", "Equipment sold").status_code == 302
    assert fresh(agreement).released_pence == 1_250_00 and committed(world) == 750_00
    [repayment] = repayments_of(agreement)

    # Written off once the year's budget has been awarded again: refused until the budget has room.
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.budget_pence = fund_year.committed_pence + 100_00
    db.session.commit()
    finance = as_role("finance")
    url = f"/agreements/repayments/{repayment.id}/write-off"
    response = finance.post(url, data={"version": str(repayment.version), "reason": "Not recoverable"})
    assert response.status_code == 200
    assert "raise the budget before writing it off" in " ".join(error_messages(response))
    assert fresh_repayment(repayment).status == "due" and committed(world) == 750_00
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.budget_pence = 20_000_00
    db.session.commit()
    assert finance.post(url, data={"version": str(repayment.version), "reason": "Not recoverable"}).status_code == 302
    assert fresh(agreement).released_pence == 1_000_00 and committed(world) == 1_000_00


# --- where repayments show --------------------------------------------------------------------------------------


def test_the_finance_page_lists_what_is_owed(as_role, world: World) -> None:
    agreement = paid(as_role, world, "1000")
    officer = as_role("officer")
    assert ask(officer, agreement, "300", **dates("due_on", TODAY)).status_code == 302
    assert ask(officer, agreement, "200").status_code == 302
    first, second = repayments_of(agreement)
    first.due_on = TODAY - timedelta(days=1)
    db.session.commit()
    finance = as_role("finance")
    assert receive(finance, second, "50").status_code == 302
    view = page(finance.get("/finance/"))
    rows = view.select("[data-testid=repayments-owed] tbody tr")
    assert [r.select("td")[0].a.get_text() for r in rows] == [first.reference, second.reference]
    assert "Overdue" in rows[0].get_text() and "Part received" in rows[1].get_text()
    assert view.select_one("[data-testid=repayments-owed-total]").get_text() == "£450.00"
    assert has_link(rows[0], "Record money received")
    officer_view = page(as_role("officer").get("/finance/"))
    assert not has_link(officer_view.select_one("[data-testid=repayments-owed]"), "Record money received")


@pytest.fixture()
def grants(world: World) -> Grants:
    return make_grants(world)


def test_payments_export_lists_receipts_on_their_own_sheet(grants: Grants) -> None:
    agreement = grants.agreements["victims"]
    repayment = Repayment(agreement_id=agreement.id, amount_pence=2_000_00, reason="Unspent", due_on=date(2025, 9, 1),
                          created_by_id=grants.world.user("officer").id, created_at=utc(2025, 8, 1, 9))
    db.session.add(repayment)
    db.session.flush()
    db.session.add_all([
        RepaymentReceipt(repayment_id=repayment.id, amount_pence=500_00, received_on=date(2025, 9, 15),
                         reference="=AR-1", recorded_by_id=grants.world.user("finance").id),
        RepaymentReceipt(repayment_id=repayment.id, amount_pence=300_00, received_on=date(2025, 11, 1),
                         reference="AR-2", recorded_by_id=grants.world.user("finance").id),
    ])
    repayment.received_pence, repayment.status = 800_00, "part_received"
    db.session.commit()

    q2 = period_named(YEAR, "Q2")
    out = io.BytesIO()
    count = build_payments(reports.payments(q2), out, period=q2, made_by="Finance Person",
                           receipts=reports.repayment_receipts(q2))
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["Payments", RECEIPTS_SHEET, "About"]
    payments = list(book["Payments"].iter_rows(values_only=True))
    assert count == len(payments) - 1 and all(row[0].startswith("PAY-") for row in payments[1:])
    receipts = table(book[RECEIPTS_SHEET])
    assert [(r["Repayment reference"], r["Amount received"], r["Received on"], r["Finance reference"])
            for r in receipts] == [(repayment.reference, 500, datetime(2025, 9, 15), "=AR-1")]
    assert receipts[0]["Agreement reference"] == agreement.reference
    assert receipts[0]["Repayment status"] == "Part received"
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
    assert "never added to the payments" in about[RECEIPTS_SHEET]
    # The year's receipts match the database; the payments sheet never counts them.
    year = list(reports.repayment_receipts(whole_year(YEAR)))
    assert sum(r.amount_pence for r in year) == db.session.scalar(select(func.sum(RepaymentReceipt.amount_pence)))


def test_register_and_government_return_read_repayments_as_the_database_holds_them(grants: Grants) -> None:
    """The register's repayment columns are today's sums; a government return's are as at its period's end:
    asked for by then, received by then, not yet written off then."""
    agreement = grants.agreements["victims"]
    officer, finance = grants.world.user("officer").id, grants.world.user("finance").id
    kept = Repayment(agreement_id=agreement.id, amount_pence=2_000_00, received_pence=800_00, status="part_received",
                     reason="Unspent", due_on=date(2025, 9, 1), created_by_id=officer, created_at=utc(2025, 8, 1, 9))
    written_off = Repayment(agreement_id=agreement.id, amount_pence=1_000_00, received_pence=0, status="cancelled",
                            reason="Misused", due_on=date(2025, 6, 1), created_by_id=officer,
                            created_at=utc(2025, 5, 1, 9))
    later = Repayment(agreement_id=agreement.id, amount_pence=400_00, received_pence=0, status="due",
                      reason="Late", due_on=date(2026, 5, 1), created_by_id=officer, created_at=utc(2026, 4, 20, 9))
    db.session.add_all([kept, written_off, later])
    db.session.flush()
    db.session.add_all([
        RepaymentReceipt(repayment_id=kept.id, amount_pence=500_00, received_on=date(2025, 9, 15), reference="A",
                         recorded_by_id=finance),
        RepaymentReceipt(repayment_id=kept.id, amount_pence=300_00, received_on=date(2025, 11, 1), reference="B",
                         recorded_by_id=finance),
        AuditEvent(action="repayment.cancelled", object_type="repayment", object_id=written_off.id,
                   from_state="due", to_state="cancelled", occurred_at=utc(2025, 12, 1, 12)),
    ])
    db.session.commit()

    row = next(r for r in reports.grants_register(YEAR, "360G-x", today=date(2026, 6, 1))
               if r.agreement_reference == agreement.reference)
    repayments = db.session.scalars(select(Repayment).where(Repayment.agreement_id == agreement.id)).all()
    assert row.repayment_asked_pence == sum(r.amount_pence for r in repayments) == 3_400_00
    assert row.repaid_pence == sum(r.received_pence for r in repayments) == 800_00
    assert row.repayment_written_off_pence == 1_000_00
    assert row.repayment_outstanding_pence == sum(r.amount_pence - r.received_pence for r in repayments
                                                  if r.status in ("due", "part_received")) == 1_600_00

    def as_at(name: str) -> tuple[int, int]:
        period = period_named(YEAR, name)
        assert period is not None
        found = next(r for r in government_return("moj", period).rows if r.agreement_reference == agreement.reference)
        return found.repayment_outstanding_pence, found.repaid_to_period_end_pence

    assert as_at("H1") == (2_000_00 - 500_00 + 1_000_00, 500_00)  # the write-off came later, in December
    assert as_at("H2") == (2_000_00 - 800_00, 800_00)  # written off by then; the April 2026 one not asked yet
    assert as_at("FY") == as_at("H2")


def test_the_demo_has_an_ended_grant_with_a_repayment_part_received(app: Flask) -> None:
    seed_demo(TODAY)
    repayment = db.session.scalar(select(Repayment))
    assert repayment is not None and repayment.status == "part_received"
    assert 0 < repayment.received_pence < repayment.amount_pence
    agreement = repayment.agreement
    assert agreement.status == "closed" and agreement.released_pence and agreement.final_spent_pence is not None
    assert db.session.scalar(select(func.count(MonitoringReturn.id)).where(
        MonitoringReturn.agreement_id == agreement.id, MonitoringReturn.status == "accepted")) == 1


def test_the_public_page_shows_no_reason_for_a_repayment(as_role, client: FlaskClient, world: World) -> None:
    agreement = paid(as_role, world, "1000")
    assert post_version(as_role("officer"), f"/agreements/{agreement.id}/end", agreement, outcome="terminated",
                        reason="Safeguarding concern about a named volunteer", repayment_pence="400").status_code == 302
    client.post("/sign-out")
    body = client.get(f"/grants-awarded/{agreement.bid_id}").get_data(as_text=True)
    assert "£400.00 to be repaid" in body and "volunteer" not in body and "Safeguarding" not in body
