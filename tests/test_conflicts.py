"""Conflicts of interest: a declaration bars its maker from assessing, recommending and deciding that bid for
good, and staff never assess or decide their own organisation's bids. The lifecycle refuses them (the pages
and the rules alike), and the buttons for those actions are not shown to them."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.assessment.rules import (
    CRITERIA,
    AssessmentInput,
    decide_award,
    declare_conflict,
    record_assessment,
    reject,
    request_information,
)
from grants.bids.lifecycle import BID
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import AuditEvent, Award, Bid, ConflictDeclaration, Decision, User
from grants.core.refusals import Refused
from tests.conftest import World, error_messages, field_error, make_submitted_bid, make_user, page, sign_in
from tests.test_assessment import actions, assess, assessed_bid, award, committed, fresh, recommended_bid

DECLARED = "You have declared a conflict of interest in this bid"
OWN_ORGANISATION = "You belong to the organisation that made this bid"


def as_user(client: FlaskClient, user: User) -> FlaskClient:
    client.post("/sign-out")
    sign_in(client, user)
    return client


def buttons(client: FlaskClient, bid: Bid) -> list[str]:
    """The words of the action buttons the bid's staff page offers this person."""
    found = page(client.get(f"/assess/bids/{bid.id}")).select("[data-testid=actions] .govuk-button")
    return [button.get_text(strip=True) for button in found]


def barred_notice(client: FlaskClient, bid: Bid) -> str:
    notice = page(client.get(f"/assess/bids/{bid.id}")).find(attrs={"data-testid": "barred"})
    return notice.get_text(" ", strip=True) if notice else ""


def declarations(bid: Bid) -> list[tuple[int, str]]:
    return [(d.user_id, d.details) for d in db.session.scalars(
        select(ConflictDeclaration).where(ConflictDeclaration.bid_id == bid.id).order_by(ConflictDeclaration.id))]


def declared_events(bid: Bid) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "bid.conflict_declared", AuditEvent.object_type == "bid", AuditEvent.object_id == bid.id)
        .order_by(AuditEvent.id)))


def post(client: FlaskClient, bid: Bid, page_name: str, **fields: str) -> Any:
    return client.post(f"/assess/bids/{bid.id}/{page_name}", data={"version": str(fresh(bid).version), **fields})


def refused_with(response: Any, reason: str) -> bool:
    return response.status_code == 409 and any(reason in message for message in error_messages(response))


def declare(client: FlaskClient, bid: Bid, details: str = "My brother runs the project") -> Any:
    return client.post(f"/assess/bids/{bid.id}/declare-conflict", data={"details": details})


def unchanged(bid: Bid, status: str) -> bool:
    return (fresh(bid).status == status and db.session.scalar(select(func.count(Award.id))) == 0
            and db.session.scalar(select(func.count(Decision.id)).where(Decision.bid_id == bid.id)) == 0)


# --- officers --------------------------------------------------------------------------------------------------------


def test_an_officer_who_declares_is_barred_for_good_and_reassessing_cannot_clear_it(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    officer = as_role("officer")
    response = assess(officer, bid, conflict_of_interest="yes", conflict_details="My sister chairs the CSP")
    assert response.status_code == 200
    assert field_error(response, "conflict_of_interest").startswith("You have declared a conflict of interest")
    assert declarations(bid) == [(world.user("officer").id, "My sister chairs the CSP")]
    [event] = declared_events(bid)
    assert event.actor_id == world.user("officer").id and event.note == "My sister chairs the CSP"
    assert (event.from_state, event.to_state) == ("submitted", "submitted")

    # Answering "No" now changes nothing: the declaration stands.
    response = assess(officer, bid, conflict_of_interest="no")
    assert refused_with(response, DECLARED)
    assert fresh(bid).status == "submitted"
    refused = officer.get(f"/assess/bids/{bid.id}/assess", follow_redirects=True).get_data(as_text=True)
    assert DECLARED in refused
    assert buttons(officer, bid) == []  # not even a second declaration
    assert DECLARED in barred_notice(officer, bid)
    assert refused_with(post(officer, bid, "request-information", message="Which wards?"), DECLARED)
    assert refused_with(post(officer, bid, "reject", reasons="Out of scope"), DECLARED)
    assert unchanged(bid, "submitted")

    # Another officer assesses; the first still cannot reassess, recommend, award, reject or ask for more.
    other = as_role("officer2")
    assert "Assess" in buttons(other, bid) and barred_notice(other, bid) == ""
    assert assess(other, bid).status_code == 302 and fresh(bid).status == "in_review"
    officer = as_role("officer")
    assert refused_with(assess(officer, bid, conflict_of_interest="no"), DECLARED)
    assert refused_with(award(officer, bid, 1_000_00), DECLARED)
    assert refused_with(post(officer, bid, "request-information", message="Which wards?"), DECLARED)
    assert refused_with(post(officer, bid, "reject", reasons="Out of scope"), DECLARED)
    assert buttons(officer, bid) == []
    assert unchanged(bid, "in_review") and committed(world) == 0

    other = as_role("officer2")
    assert {"Reassess", "Decide award", "Reject"} <= set(buttons(other, bid))
    assert award(other, bid, 1_000_00).status_code == 302
    assert fresh(bid).status == "approved" and committed(world) == 1_000_00
    assert len(declared_events(bid)) == 1


def test_an_officer_who_assessed_and_then_declares_cannot_recommend(as_role, world: World) -> None:
    bid = assessed_bid(as_role, world, 4_000_00)  # above the delegation limit: an officer would recommend
    officer = as_role("officer")
    assert "Declare a conflict of interest" in buttons(officer, bid)
    response = declare(officer, bid, "I used to work for them")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/assess/bids/{bid.id}")
    assert declarations(bid) == [(world.user("officer").id, "I used to work for them")]
    assert refused_with(award(officer, bid, 4_000_00), DECLARED)
    assert refused_with(assess(officer, bid), DECLARED)
    assert unchanged(bid, "in_review")
    assert BID.refusal("recommend", world.user("officer"), fresh(bid), uk_today()).startswith(DECLARED)


def test_a_second_declaration_is_harmless(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    officer = world.user("officer")
    assert declare_conflict(bid, officer, "  Family link  ", uk_today()) is True
    assert declare_conflict(bid, officer, "Said again", uk_today()) is False
    db.session.commit()
    assert declarations(bid) == [(officer.id, "Family link")]
    assert len(declared_events(bid)) == 1

    client = as_role("officer")
    again = client.get(f"/assess/bids/{bid.id}/declare-conflict", follow_redirects=True).get_data(as_text=True)
    assert "You have already declared a conflict of interest in this bid" in again
    assert declare(client, bid, "Third time").status_code == 302
    assert declarations(bid) == [(officer.id, "Family link")] and len(declared_events(bid)) == 1


# --- approvers -------------------------------------------------------------------------------------------------------


def test_an_approver_declares_on_the_decision_page_and_cannot_approve(as_role, client: FlaskClient,
                                                                       world: World) -> None:
    bid = recommended_bid(as_role, world)
    approver = as_role("approver")
    decision_page = page(approver.get(f"/assess/bids/{bid.id}/award"))
    link = decision_page.find("a", string="Declare a conflict of interest")
    assert link is not None and link["href"] == f"/assess/bids/{bid.id}/declare-conflict"
    assert approver.get(link["href"]).status_code == 200
    response = declare(approver, bid, "The project lead is my neighbour")
    assert response.status_code == 302
    assert declarations(bid) == [(world.user("approver").id, "The project lead is my neighbour")]
    [event] = declared_events(bid)
    assert event.actor_id == world.user("approver").id
    assert (event.from_state, event.to_state) == ("recommended", "recommended")

    assert refused_with(award(approver, bid, 4_000_00), DECLARED)
    assert refused_with(post(approver, bid, "reject", reasons="Duplicates a funded scheme"), DECLARED)
    assert approver.get(f"/assess/bids/{bid.id}/award").status_code == 302  # back to the bid, saying why
    assert buttons(approver, bid) == [] and DECLARED in barred_notice(approver, bid)
    assert fresh(bid).status == "recommended" and committed(world) == 0
    assert db.session.scalar(select(func.count(Award.id))) == 0

    second = make_user("approver2@opcc.example", "approver", world.opcc, "Second Approver")
    db.session.commit()
    as_user(client, second)
    assert "Decide award" in buttons(client, bid)
    assert award(client, bid, 4_000_00).status_code == 302
    assert fresh(bid).status == "approved" and committed(world) == 4_000_00
    granted = db.session.scalar(select(Award).where(Award.bid_id == bid.id))
    assert granted.approved_by_id == second.id
    assert actions(bid)[-3:] == ["bid.recommended", "bid.conflict_declared", "bid.approved"]


def test_the_applicant_is_not_shown_the_declaration(as_role, world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    assert declare(as_role("officer"), bid, "Secret link").status_code == 302
    staff_history = page(as_role("officer2").get(f"/assess/bids/{bid.id}")).find(attrs={"data-testid": "history"})
    assert "Conflict of interest declared" in staff_history.get_text(" ", strip=True)
    applicant_page = as_role("applicant").get(f"/bids/{bid.id}").get_data(as_text=True)
    assert "Conflict of interest" not in applicant_page and "Secret link" not in applicant_page


# --- staff of the bidding organisation -------------------------------------------------------------------------------


@pytest.fixture()
def insiders(world: World) -> dict[str, User]:
    """An officer and an approver who belong to Fenland CSP, the organisation that makes the bids below."""
    found = {role: make_user(f"{role}@fenland.example", role, world.csp, f"Fenland {role.title()}")
             for role in ("officer", "approver")}
    db.session.commit()
    return found


def test_staff_of_the_bidding_organisation_cannot_assess_or_decide_its_bids(
        as_role, client: FlaskClient, world: World, insiders: dict[str, User]) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    as_user(client, insiders["officer"])
    assert buttons(client, bid) == ["Declare a conflict of interest"]  # no Assess, Reject or Ask for more
    assert OWN_ORGANISATION in barred_notice(client, bid)
    refused = client.get(f"/assess/bids/{bid.id}/assess", follow_redirects=True).get_data(as_text=True)
    assert OWN_ORGANISATION in refused
    assert refused_with(assess(client, bid), OWN_ORGANISATION)
    assert refused_with(post(client, bid, "reject", reasons="Out of scope"), OWN_ORGANISATION)
    assert refused_with(post(client, bid, "request-information", message="Which wards?"), OWN_ORGANISATION)
    assert unchanged(bid, "submitted")

    # Assessed by someone else, it is still not theirs to decide.
    assert assess(as_role("officer"), bid).status_code == 302
    as_user(client, insiders["officer"])
    assert refused_with(award(client, bid, 1_000_00), OWN_ORGANISATION)
    assert not {"Decide award", "Reassess", "Reject"} & set(buttons(client, bid))
    assert unchanged(bid, "in_review") and committed(world) == 0

    # Another organisation's bid is theirs to assess as any officer's.
    elsewhere = make_submitted_bid(world.user("other_applicant"), world.scf_year, 1_000_00)
    assert "Assess" in buttons(client, elsewhere) and barred_notice(client, elsewhere) == ""
    assert assess(client, elsewhere).status_code == 302


def test_an_approver_of_the_bidding_organisation_cannot_decide_its_recommended_award(
        as_role, client: FlaskClient, world: World, insiders: dict[str, User]) -> None:
    bid = recommended_bid(as_role, world)
    as_user(client, insiders["approver"])
    assert not {"Decide award", "Reject"} & set(buttons(client, bid))
    assert refused_with(award(client, bid, 4_000_00), OWN_ORGANISATION)
    assert refused_with(post(client, bid, "reject", reasons="No"), OWN_ORGANISATION)
    assert fresh(bid).status == "recommended" and committed(world) == 0


# --- the rules refuse, whoever calls them ----------------------------------------------------------------------------


def _assessment(amount_pence: int, conflict: bool = False) -> AssessmentInput:
    return AssessmentInput(scores=dict.fromkeys(CRITERIA, 4), comments="", recommended_pence=amount_pence,
                           conflict_of_interest=conflict, conflict_details="", organisation_checked=True,
                           due_diligence_notes="Checked", fraud_risk="low", fraud_risk_reasons="Statutory partnership")


def test_the_rules_refuse_a_conflicted_person_when_called_directly(world: World, insiders: dict[str, User]) -> None:
    today = uk_today()
    officer, other = world.user("officer"), world.user("officer2")
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    assert declare_conflict(bid, officer, "Family link", today)
    assert record_assessment(bid, other, _assessment(1_000_00), today) == {}
    db.session.commit()

    for person, reason in ((officer, DECLARED), (insiders["officer"], OWN_ORGANISATION)):
        with pytest.raises(Refused, match=reason):
            decide_award(bid, person, 1_000_00, "Fewer thefts", today, public_summary="Bike marking")
        with pytest.raises(Refused, match=reason):
            record_assessment(bid, person, _assessment(1_000_00), today)
        with pytest.raises(Refused, match=reason):
            reject(bid, person, "Out of scope", today)
        with pytest.raises(Refused, match=reason):
            request_information(bid, person, "Which wards?", today)
        db.session.rollback()
    assert unchanged(bid, "in_review") and committed(world) == 0

    # Above the delegation limit the officer's decision would be a recommendation: refused the same way.
    big = make_submitted_bid(world.user("applicant"), world.scf_year, 4_000_00)
    assert record_assessment(big, other, _assessment(4_000_00), today) == {}
    assert declare_conflict(big, officer, "", today)
    db.session.commit()
    with pytest.raises(Refused, match=DECLARED):
        decide_award(big, officer, 4_000_00, "Fewer thefts", today, public_summary="Bike marking")
    db.session.rollback()
    outcome, problems = decide_award(big, other, 4_000_00, "Fewer thefts", today, public_summary="Bike marking")
    assert outcome is not None and outcome.status == "recommended", problems
    db.session.commit()

    # The approver who declares cannot approve it; another approver can.
    approver = world.user("approver")
    assert declare_conflict(big, approver, "Neighbour", today)
    db.session.commit()
    with pytest.raises(Refused, match=DECLARED):
        decide_award(big, approver, 4_000_00, "Fewer thefts", today, public_summary="Bike marking")
    with pytest.raises(Refused, match=OWN_ORGANISATION):
        decide_award(big, insiders["approver"], 4_000_00, "Fewer thefts", today, public_summary="Bike marking")
    db.session.rollback()
    assert fresh(big).status == "recommended" and committed(world) == 0
    for action in ("decide_recommendation", "approve_recommendation", "reject_recommendation"):
        assert BID.refusal(action, approver, fresh(big), today).startswith(DECLARED)
    second = make_user("approver2@opcc.example", "approver", world.opcc)
    outcome, problems = decide_award(big, second, 4_000_00, "Fewer thefts", today, public_summary="Bike marking")
    assert outcome is not None and outcome.status == "approved", problems
    db.session.commit()
    assert committed(world) == 4_000_00


def test_a_declaration_through_the_assessment_rule_is_kept_and_bars(world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00)
    officer = world.user("officer")
    problems = record_assessment(bid, officer, _assessment(1_000_00, conflict=True), uk_today())
    assert "conflict_of_interest" in problems
    db.session.commit()
    assert declarations(bid) == [(officer.id, "")]
    with pytest.raises(Refused, match=DECLARED):
        record_assessment(bid, officer, _assessment(1_000_00), uk_today())
