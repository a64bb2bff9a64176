"""The OPCC's half of the workflow: assessment, information requests, rejection, and awards against every cap."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.assessment.routes import CHANGED_ELSEWHERE
from grants.assessment.rules import CRITERIA
from grants.core.extensions import db
from grants.core.models import Assessment, AuditEvent, Award, Bid, BidSnapshot, Decision, FundYear, OutboxEmail, User
from grants.core.money import money_input_value
from tests.conftest import World, error_messages, field_error, make_submitted_bid, page
from tests.test_bids import bid_form

SCF = "Safer Communities Fund"


def fresh(bid: Bid) -> Bid:
    """The bid as the database holds it now (requests commit in their own sessions)."""
    db.session.expire_all()
    return db.session.get(Bid, bid.id)


def set_year(world: World, **values: int | None) -> FundYear:
    fund_year = db.session.get(FundYear, world.scf_year.id)
    for name, value in values.items():
        setattr(fund_year, name, value)
    db.session.commit()
    return fund_year


def assessment_form(bid: Bid, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": str(fresh(bid).version),
        **{f"score_{key}": "4" for key in CRITERIA},
        "comments": "A clear plan with a known partner",
        "recommended_pence": money_input_value(bid.requested_pence),
        "conflict_of_interest": "no",
        "conflict_details": "",
        "organisation_checked": "y",
        "due_diligence_notes": "Checked the partnership's records and bank details",
        "fraud_risk": "low",
        "fraud_risk_reasons": "Long-standing statutory partnership",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def award_form(bid: Bid, amount_pence: int | str, reasons: str = "Street lighting deters burglary on the paths",
               public_summary: str = "Street lighting on two footpaths in Cambridge") -> dict[str, str]:
    amount = amount_pence if isinstance(amount_pence, str) else money_input_value(amount_pence)
    return {"version": str(fresh(bid).version), "amount_pence": amount, "reasons": reasons,
            "public_summary": public_summary}


def assess(client: FlaskClient, bid: Bid, **overrides: Any) -> Any:
    return client.post(f"/assess/bids/{bid.id}/assess", data=assessment_form(bid, **overrides))


def award(client: FlaskClient, bid: Bid, amount_pence: int | str, **kwargs: str) -> Any:
    return client.post(f"/assess/bids/{bid.id}/award", data=award_form(bid, amount_pence, **kwargs))


def assessed_bid(as_role: Any, world: World, amount_pence: int, *, user: User | None = None, **kwargs: Any) -> Bid:
    bid = make_submitted_bid(user or world.user("applicant"), world.scf_year, amount_pence, **kwargs)
    assert assess(as_role("officer"), bid).status_code == 302
    assert fresh(bid).status == "in_review"
    return bid


def committed(world: World) -> int:
    db.session.expire_all()
    return db.session.get(FundYear, world.scf_year.id).committed_pence


def actions(bid: Bid) -> list[str]:
    return [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "bid", AuditEvent.object_id == bid.id)
        .order_by(AuditEvent.occurred_at, AuditEvent.id))]


def outbox(to: str) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == to).order_by(OutboxEmail.id)))


# --- assessment ---------------------------------------------------------------------------------------------------


def test_officer_assessment_puts_the_bid_in_review_with_scores_and_due_diligence(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 3_000_00)
    client = as_role("officer")
    form = page(client.get(f"/assess/bids/{bid.id}/assess"))
    assert form.find(id="recommended_pence")["value"] == "3,000"  # the amount asked for, to start from

    response = assess(client, bid, score_need="5", score_measures="2", recommended_pence="2,500")
    assert response.status_code == 302
    assessment = db.session.scalar(select(Assessment).where(Assessment.bid_id == bid.id))
    assert assessment.criteria_scores == {"need": 5, "crime_reduction": 4, "deliverability": 4, "value_for_money": 4, "measures": 2}
    assert assessment.total_score == 19
    assert assessment.recommended_pence == 2_500_00
    assert assessment.organisation_checked and assessment.fraud_risk == "low"
    assert assessment.assessor_id == world.user("officer").id
    assert fresh(bid).status == "in_review"
    assert actions(bid)[-2:] == ["bid.in_review", "bid.assessed"]

    shown = page(client.get(f"/assess/bids/{bid.id}")).find(attrs={"data-testid": "assessment"}).get_text(" ", strip=True)
    assert "Long-standing statutory partnership" in shown


def test_assessment_shows_every_problem_next_to_its_field_and_stores_nothing(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 3_000_00)
    client = as_role("officer")
    blank = {f"score_{key}": None for key in CRITERIA} | {
        "conflict_of_interest": None, "organisation_checked": None, "fraud_risk": None, "fraud_risk_reasons": ""}
    response = assess(client, bid, **blank)
    assert response.status_code == 200
    messages = error_messages(response)
    assert "Select a score from 0 to 5 for evidence of the local problem" in messages
    assert len([m for m in messages if m.startswith("Select a score")]) == len(CRITERIA)
    assert field_error(response, "conflict_of_interest") == "Select whether you have a conflict of interest"
    assert field_error(response, "organisation_checked") == "Confirm that you have checked the organisation"
    assert field_error(response, "fraud_risk") == "Select the fraud risk"
    assert field_error(response, "fraud_risk_reasons") == "Give the reasons for the fraud risk rating"

    response = assess(client, bid, recommended_pence="3,000.01")
    assert field_error(response, "recommended_pence") == "The recommended amount cannot be more than the £3,000.00 requested"
    assert field_error(assess(client, bid, recommended_pence="lots"), "recommended_pence")
    response = assess(client, bid, score_need="9")
    assert field_error(response, "score_need") == "Select a score from 0 to 5 for evidence of the local problem"

    assert db.session.scalar(select(func.count(Assessment.id))) == 0
    assert fresh(bid).status == "submitted"


def test_a_declared_conflict_of_interest_refuses_the_assessment_but_keeps_the_declaration(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    response = assess(as_role("officer"), bid, conflict_of_interest="yes", conflict_details="My sister chairs the CSP")
    assert response.status_code == 200
    assert field_error(response, "conflict_of_interest").startswith("You have declared a conflict of interest")
    assert db.session.scalar(select(func.count(Assessment.id))) == 0
    declaration = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bid.conflict_declared"))
    assert declaration.note == "My sister chairs the CSP" and declaration.actor_id == world.user("officer").id
    assert fresh(bid).status == "submitted"


def test_an_award_needs_an_assessment_first(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    client = as_role("officer")
    response = client.get(f"/assess/bids/{bid.id}/award", follow_redirects=True)
    assert "so that decision cannot be taken now" in response.get_data(as_text=True)
    response = award(client, bid, 1_000_00)
    assert response.status_code == 302 and fresh(bid).status == "submitted"
    assert committed(world) == 0


# --- awards and caps ----------------------------------------------------------------------------------------------


def test_award_within_the_delegation_limit_is_approved_committed_and_told_to_the_applicant(as_role, world: World) -> None:
    bid = assessed_bid(as_role, world, 3_000_00)
    client = as_role("officer")
    figures = page(client.get(f"/assess/bids/{bid.id}/award")).find(attrs={"data-testid": "budget-figures"})
    rows = {dt.get_text(strip=True): dd.get_text(strip=True) for dt, dd in zip(figures.select("dt"), figures.select("dd"), strict=True)}
    assert rows["Budget"] == "£20,000.00"
    assert rows["Committed to approved awards"] == "£0.00"
    assert rows["Remaining"] == "£20,000.00"
    assert rows["Remaining after this award"] == "£17,000.00"

    response = award(client, bid, 2_000_00, reasons="Lighting the paths <b>cuts</b> burglary")
    assert response.status_code == 302
    assert fresh(bid).status == "approved"
    granted = db.session.scalar(select(Award).where(Award.bid_id == bid.id))
    assert granted.amount_pence == 2_000_00 and granted.reasons == "Lighting the paths <b>cuts</b> burglary"
    assert granted.approved_by_id == world.user("officer").id and granted.recommended_by_id is None
    assert committed(world) == 2_000_00
    assert actions(bid)[-1] == "bid.approved"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fund_year.committed")).details["amount_pence"] == 2_000_00

    [email] = outbox(world.user("applicant").email)[-1:]
    assert email.subject == f"{bid.reference}: grant awarded"
    assert "£2,000.00" in email.body and "Lighting the paths <b>cuts</b> burglary" in email.body

    # The applicant sees the outcome and the reasons, escaped, and none of the internal steps.
    applicant = as_role("applicant")
    html = applicant.get(f"/bids/{bid.id}").get_data(as_text=True)
    view = page(applicant.get(f"/bids/{bid.id}"))
    outcome = view.find(attrs={"data-testid": "outcome"}).get_text(" ", strip=True)
    assert "Your bid has been funded" in outcome and "Lighting the paths <b>cuts</b> burglary" in outcome
    assert "&lt;b&gt;cuts&lt;/b&gt;" in html
    assert view.find(attrs={"data-testid": "awarded"}).get_text(" ", strip=True).startswith("Awarded: £2,000.00")
    history = view.find(attrs={"data-testid": "history"}).get_text(" ", strip=True)
    assert "Assessment recorded" not in history and "Long-standing statutory partnership" not in html
    assert "Officer Person" not in history and "OPCC" in history


@pytest.mark.parametrize(("amount", "approved"), [(3_999_99, True), (4_000_00, True), (4_000_01, False)])
def test_per_bid_cap_at_just_below_and_just_above(as_role, world: World, amount: int, approved: bool) -> None:
    bid = assessed_bid(as_role, world, 5_000_00)
    set_year(world, per_bid_cap_pence=4_000_00, delegation_limit_pence=20_000_00)  # the cap was lowered after the bid
    response = award(as_role("officer"), bid, amount)
    assert fresh(bid).status == ("approved" if approved else "in_review")
    assert committed(world) == (amount if approved else 0)
    if not approved:
        assert response.status_code == 200
        assert field_error(response, "amount_pence") == f"£4,000.00 is the most this bid can be awarded from the {SCF}"


@pytest.mark.parametrize(("budget_left", "approved"), [(2_000_01, True), (2_000_00, True), (1_999_99, False)])
def test_fund_year_budget_at_just_below_and_just_above(as_role, world: World, budget_left: int, approved: bool) -> None:
    first = assessed_bid(as_role, world, 1_000_00, title="Earlier bid")
    second = assessed_bid(as_role, world, 2_000_00)
    set_year(world, budget_pence=1_000_00 + budget_left, delegation_limit_pence=5_000_00)
    client = as_role("officer")
    assert award(client, first, 1_000_00).status_code == 302
    response = award(client, second, 2_000_00)
    assert fresh(second).status == ("approved" if approved else "in_review")
    assert committed(world) == 1_000_00 + (2_000_00 if approved else 0)
    if not approved:
        left = "£1,999.99"
        assert field_error(response, "amount_pence") == f"£2,000.00 is more than the {left} left in the {SCF} {world.scf_year.label} budget"
        assert db.session.scalar(select(func.count(Award.id))) == 1
        assert db.session.scalar(select(func.count(Decision.id)).where(Decision.bid_id == second.id)) == 0


@pytest.mark.parametrize(("amount", "approved"), [(999_99, True), (1_000_00, True), (1_000_01, False)])
def test_per_applicant_cap_at_just_below_and_just_above(as_role, world: World, amount: int, approved: bool) -> None:
    set_year(world, per_applicant_cap_pence=3_000_00)
    first = assessed_bid(as_role, world, 2_000_00, title="First bid")
    second = assessed_bid(as_role, world, 1_500_00, title="Second bid")
    other = assessed_bid(as_role, world, 2_500_00, title="Another organisation", user=world.user("other_applicant"))
    client = as_role("officer")
    assert award(client, first, 2_000_00).status_code == 302
    assert award(client, other, 2_500_00).status_code == 302  # another organisation's awards don't count
    response = award(client, second, amount)
    assert fresh(second).status == ("approved" if approved else "in_review")
    assert committed(world) == 4_500_00 + (amount if approved else 0)
    if not approved:
        assert field_error(response, "amount_pence") == (
            f"An organisation can receive at most £3,000.00 from the {SCF} in {world.scf_year.label}; "
            "£1,000.00 is left for this organisation")


@pytest.mark.parametrize(("amount", "outcome"), [(2_499_99, "approved"), (2_500_00, "approved"), (2_500_01, "recommended")])
def test_delegation_limit_at_just_below_and_just_above(as_role, world: World, amount: int, outcome: str) -> None:
    bid = assessed_bid(as_role, world, 3_000_00)
    client = as_role("officer")
    if outcome == "recommended":
        warning = page(client.get(f"/assess/bids/{bid.id}/award")).select_one(".govuk-warning-text")
        assert "above the delegation limit" in warning.get_text()
    response = award(client, bid, amount)
    assert response.status_code == 302
    assert fresh(bid).status == outcome
    if outcome == "approved":
        assert committed(world) == amount
    else:
        assert committed(world) == 0  # a recommendation commits nothing
        assert db.session.scalar(select(func.count(Award.id))) == 0
        recommendation = db.session.scalar(select(Decision).where(Decision.kind == "recommended"))
        assert recommendation.amount_pence == amount and recommendation.decided_by_id == world.user("officer").id
        assert [m.subject for m in outbox(world.user("approver").email)] == [f"{bid.reference}: award recommended for your decision"]
        assert "above the delegation limit" in client.get(f"/assess/bids/{bid.id}").get_data(as_text=True)


def test_awards_are_refused_for_amounts_that_are_not_sums_of_money(as_role, world: World) -> None:
    bid = assessed_bid(as_role, world, 3_000_00)
    client = as_role("officer")
    for amount, message in [("", "Enter the amount to award"), ("0", "The award must be more than £0.00"),
                            ("3,000.01", "The award cannot be more than the £3,000.00 requested")]:
        assert field_error(award(client, bid, amount), "amount_pence") == message
    assert field_error(award(client, bid, "-5"), "amount_pence")
    assert field_error(award(client, bid, "1e9"), "amount_pence")
    response = award(client, bid, 1_000_00, reasons="   ")
    assert field_error(response, "reasons") == "Give the reasons why the grant will secure or contribute to crime and disorder reduction"
    assert fresh(bid).status == "in_review" and committed(world) == 0


# --- approvers ----------------------------------------------------------------------------------------------------


def recommended_bid(as_role: Any, world: World, amount: int = 4_000_00) -> Bid:
    bid = assessed_bid(as_role, world, amount)
    assert award(as_role("officer"), bid, amount).status_code == 302
    assert fresh(bid).status == "recommended"
    return bid


def test_an_approver_decides_a_recommended_award(as_role, world: World) -> None:
    bid = recommended_bid(as_role, world)
    client = as_role("approver")
    response = client.get(f"/assess/bids/{bid.id}/award")
    assert page(response).find(id="amount_pence")["value"] == "4,000"  # the recommendation, to start from
    response = award(client, bid, 3_500_00, reasons="Approved at a lower amount: the evaluation is not needed")
    assert response.status_code == 302
    granted = db.session.scalar(select(Award).where(Award.bid_id == bid.id))
    assert granted.amount_pence == 3_500_00
    assert granted.approved_by_id == world.user("approver").id
    assert granted.recommended_by_id == world.user("officer").id
    assert committed(world) == 3_500_00
    assert actions(bid)[-2:] == ["bid.recommended", "bid.approved"]


def test_the_officer_cannot_approve_their_own_recommendation(as_role, world: World) -> None:
    bid = recommended_bid(as_role, world)
    client = as_role("officer")
    assert award(client, bid, 4_000_00).status_code == 302  # refused: back to the bid, unchanged
    assert fresh(bid).status == "recommended" and committed(world) == 0


def test_an_approver_cannot_approve_an_award_they_recommended(as_role, world: World) -> None:
    bid = recommended_bid(as_role, world)
    officer = db.session.get(User, world.user("officer").id)
    officer.role = "approver"  # promoted after recommending
    db.session.commit()
    client = as_role("officer")
    response = award(client, bid, 4_000_00)
    assert response.status_code == 409
    assert "You recommended this award, so another approver must decide it" in " ".join(error_messages(response))
    assert fresh(bid).status == "recommended" and committed(world) == 0
    assert db.session.scalar(select(func.count(Award.id))) == 0


def test_an_approver_cannot_approve_a_bid_they_assessed(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 4_000_00)
    assert assess(as_role("officer2"), bid).status_code == 302
    assert award(as_role("officer"), bid, 4_000_00).status_code == 302
    assessor = db.session.get(User, world.user("officer2").id)
    assessor.role = "approver"
    db.session.commit()
    response = award(as_role("officer2"), bid, 4_000_00)
    assert response.status_code == 409
    assert "You assessed this bid, so another approver must decide it" in " ".join(error_messages(response))
    assert fresh(bid).status == "recommended"


def test_an_approver_only_decides_recommended_bids(as_role, world: World) -> None:
    bid = assessed_bid(as_role, world, 1_000_00)
    client = as_role("approver")
    assert award(client, bid, 1_000_00).status_code == 302
    assert fresh(bid).status == "in_review" and committed(world) == 0
    assert "assessment.award" not in str(page(client.get(f"/assess/bids/{bid.id}")).select("[data-testid=actions]"))


def test_only_an_approver_may_reject_a_recommended_bid(as_role, world: World) -> None:
    bid = recommended_bid(as_role, world)
    client = as_role("officer")
    client.post(f"/assess/bids/{bid.id}/reject", data={"version": str(fresh(bid).version), "reasons": "No"})
    assert fresh(bid).status == "recommended"
    client = as_role("approver")
    response = client.post(f"/assess/bids/{bid.id}/reject",
                           data={"version": str(fresh(bid).version), "reasons": "Duplicates a funded scheme"})
    assert response.status_code == 302 and fresh(bid).status == "rejected"


# --- information requests, resubmission, rejection -----------------------------------------------------------------


def test_information_request_and_resubmission_keep_both_versions(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 2_000_00, title="First title")
    client = as_role("officer")
    response = client.post(f"/assess/bids/{bid.id}/request-information",
                           data={"version": str(fresh(bid).version), "message": ""})
    assert field_error(response, "message") == "Say what information you need"
    response = client.post(f"/assess/bids/{bid.id}/request-information",
                           data={"version": str(fresh(bid).version), "message": "Which paths? Send a map."})
    assert response.status_code == 302
    assert fresh(bid).status == "info_requested"
    [receipt, email] = outbox(world.user("applicant").email)
    assert receipt.subject == f"{bid.reference}: your bid has been received"
    assert email.subject == f"{bid.reference}: more information needed" and "Which paths? Send a map." in email.body

    applicant = as_role("applicant")
    edit = applicant.get(f"/bids/{bid.id}/edit").get_data(as_text=True)
    assert "Which paths? Send a map." in edit
    response = applicant.post(f"/bids/{bid.id}/edit", data=bid_form(fresh(bid), title="Second title", submit="Submit"))
    assert response.status_code == 302
    assert fresh(bid).status == "submitted"

    snapshots = db.session.scalars(select(BidSnapshot).where(BidSnapshot.bid_id == bid.id).order_by(BidSnapshot.submission_number)).all()
    assert [(s.submission_number, s.facts["title"]) for s in snapshots] == [(1, "First title"), (2, "Second title")]
    assert actions(bid).count("bid.resubmitted") == 1
    staff_page = page(as_role("officer").get(f"/assess/bids/{bid.id}"))
    rows = [row.get_text(" ", strip=True) for row in staff_page.select("[data-testid=submissions] tbody tr")]
    assert rows[0].startswith("1:") and "First title" in rows[0] and "£2,000.00" in rows[0]
    assert rows[1].startswith("2:") and "Second title" in rows[1]
    decisions = staff_page.find(attrs={"data-testid": "decisions"}).get_text(" ", strip=True)
    assert "More information requested" in decisions and "Which paths? Send a map." in decisions


def test_rejection_needs_reasons_and_tells_the_applicant(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 2_000_00)
    client = as_role("officer")
    response = client.post(f"/assess/bids/{bid.id}/reject", data={"version": str(fresh(bid).version), "reasons": " "})
    assert field_error(response, "reasons") == "Give the reasons for rejecting the bid"
    assert fresh(bid).status == "submitted"
    response = client.post(f"/assess/bids/{bid.id}/reject",
                           data={"version": str(fresh(bid).version), "reasons": "Outside the fund's priorities"})
    assert response.status_code == 302 and fresh(bid).status == "rejected"
    assert outbox(world.user("applicant").email)[-1].subject == f"{bid.reference}: not funded"
    outcome = page(as_role("applicant").get(f"/bids/{bid.id}")).find(attrs={"data-testid": "outcome"}).get_text(" ", strip=True)
    assert "Your bid has not been funded" in outcome and "Outside the fund's priorities" in outcome
    # A decided bid takes no more decisions.
    assert award(as_role("officer"), bid, 1_000_00).status_code == 302
    assert fresh(bid).status == "rejected" and committed(world) == 0


# --- two officers at once, and the whole history --------------------------------------------------------------------


def test_a_second_officer_is_told_when_the_first_has_changed_the_bid(as_role, world: World) -> None:
    bid = assessed_bid(as_role, world, 2_000_00)
    stale_version = str(fresh(bid).version)
    first = as_role("officer2")
    response = first.post(f"/assess/bids/{bid.id}/request-information",
                          data={"version": stale_version, "message": "Send the quotes"})
    assert response.status_code == 302
    second = as_role("officer")
    response = second.post(f"/assess/bids/{bid.id}/reject", data={"version": stale_version, "reasons": "Too costly"})
    assert response.status_code == 302  # the bid is no longer rejectable: sent back to it, unchanged
    assert fresh(bid).status == "info_requested"


def test_a_stale_version_is_refused_with_a_message(as_role, world: World) -> None:
    bid = assessed_bid(as_role, world, 2_000_00)
    client = as_role("officer")
    stale = award_form(bid, 1_000_00)
    # Someone else saves a new assessment: the bid's version moves on, its status does not.
    db.session.get(Bid, bid.id).title = "Renamed by a colleague"
    db.session.commit()
    response = client.post(f"/assess/bids/{bid.id}/award", data=stale)
    assert response.status_code == 409
    assert CHANGED_ELSEWHERE in " ".join(error_messages(response))
    assert fresh(bid).status == "in_review" and committed(world) == 0


def test_the_bid_page_shows_the_whole_history_in_order(as_role, world: World) -> None:
    client = as_role("applicant")
    response = client.post("/bids/start", data={"fund_year_id": world.scf_year.id})
    bid = db.session.get(Bid, int(response.headers["Location"].split("/")[-2]))
    client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, submit="Submit"))
    officer = as_role("officer")
    officer.post(f"/assess/bids/{bid.id}/request-information", data={"version": str(fresh(bid).version), "message": "Quotes?"})
    as_role("applicant").post(f"/bids/{bid.id}/edit", data=bid_form(fresh(bid), submit="Submit"))
    assess(as_role("officer"), bid, recommended_pence="2,000.50")
    award(as_role("officer"), bid, 2_000_50)

    history = page(as_role("officer").get(f"/assess/bids/{bid.id}")).select("[data-testid=history] tbody tr")
    what = [row.select("td")[2].get_text(strip=True) for row in history]
    assert what == ["Bid started", "Draft saved", "Submitted", "More information requested",
                    "Resubmitted with more information", "Review started", "Assessment recorded", "Approved"]
    assert [row.select("td")[1].get_text(strip=True) for row in history][-1] == "Officer Person"


def test_outbox_lists_decision_emails_for_admins(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 2_000_00)
    as_role("officer").post(f"/assess/bids/{bid.id}/reject", data={"version": str(fresh(bid).version), "reasons": "No"})
    listing = as_role("admin").get("/admin/outbox").get_data(as_text=True)
    assert f"{bid.reference}: not funded" in listing and world.user("applicant").email in listing


def test_applicants_cannot_use_the_decision_pages(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 2_000_00)
    client = as_role("applicant")
    for path in ("assess", "award", "reject", "request-information"):
        assert client.get(f"/assess/bids/{bid.id}/{path}").status_code == 403
        assert client.post(f"/assess/bids/{bid.id}/{path}", data=award_form(bid, 100)).status_code == 403
    assert fresh(bid).status == "submitted"
