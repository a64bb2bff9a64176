"""Buttons are drawn from the same lifecycle guard the POST checks, messages are worded for who reads them, and
money is shown in the boxes as people write it and read back as it is shown."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants.bids.lifecycle import BID
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Award, Bid, Decision, User
from tests.conftest import World, error_messages, field_error, make_submitted_bid, page
from tests.test_assessment import assess, award, award_form, fresh, recommended_bid, set_year
from tests.test_bids import bid_form, start_bid
from tests.test_conflicts import as_user, barred_notice, buttons, declare

SCF = "Safer Communities Fund"


def reject(client: FlaskClient, bid: Bid) -> object:
    return client.post(f"/assess/bids/{bid.id}/reject",
                       data={"version": str(fresh(bid).version), "reasons": "Duplicates a funded scheme"})


def undecided(bid: Bid) -> bool:
    return (fresh(bid).status == "recommended" and db.session.scalar(select(func.count(Award.id))) == 0
            and db.session.scalar(select(func.count(Decision.id)).where(
                Decision.bid_id == bid.id, Decision.kind.in_(("approved", "rejected")))) == 0)


def promote(user: User) -> None:
    db.session.get(User, user.id).role = "approver"
    db.session.commit()


def test_an_approver_who_recommended_sees_no_decision_and_cannot_post_one(as_role, client: FlaskClient,
                                                                          world: World) -> None:
    bid = recommended_bid(as_role, world)  # recommended by world's officer
    promote(world.user("officer"))
    recommender = as_user(client, world.user("officer"))
    reason = "You recommended this award, so another approver must decide it."
    assert BID.refusal("reject_recommendation", world.user("officer"), fresh(bid), uk_today()) == reason
    assert not {"Decide award", "Reject"} & set(buttons(recommender, bid))
    assert barred_notice(recommender, bid) == reason

    response = reject(recommender, bid)
    assert response.status_code == 409 and reason in " ".join(error_messages(response))
    response = award(recommender, bid, 4_000_00)
    assert response.status_code == 409 and reason in " ".join(error_messages(response))
    assert undecided(bid)

    # Any other approver is offered both, and may take either.
    other = as_role("approver")
    assert {"Decide award", "Reject"} <= set(buttons(other, bid)) and barred_notice(other, bid) == ""
    assert reject(other, bid).status_code == 302 and fresh(bid).status == "rejected"


def test_an_approver_who_assessed_sees_no_decision_and_cannot_post_one(as_role, client: FlaskClient,
                                                                       world: World) -> None:
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 4_000_00)
    assert assess(as_role("officer2"), bid).status_code == 302
    assert award(as_role("officer"), bid, 4_000_00).status_code == 302 and fresh(bid).status == "recommended"
    promote(world.user("officer2"))
    assessor = as_user(client, world.user("officer2"))
    reason = "You assessed this bid, so another approver must decide it."
    assert buttons(assessor, bid) == ["Declare a conflict of interest"]
    assert barred_notice(assessor, bid) == reason
    assert reject(assessor, bid).status_code == 409
    assert award(assessor, bid, 4_000_00).status_code == 409
    assert undecided(bid)


def test_an_approver_who_declared_a_conflict_sees_no_decision_and_cannot_post_one(as_role, world: World) -> None:
    bid = recommended_bid(as_role, world)
    approver = as_role("approver")
    assert {"Decide award", "Reject"} <= set(buttons(approver, bid))
    assert declare(approver, bid, "The project lead is my neighbour").status_code == 302
    assert buttons(approver, bid) == []
    assert reject(approver, bid).status_code == 409
    assert award(approver, bid, 4_000_00).status_code == 409
    assert undecided(bid)


# --- messages worded for who reads them ---------------------------------------------------------------------------


def test_cap_messages_speak_to_the_applicant_and_to_the_officer(as_role, world: World) -> None:
    set_year(world, per_bid_cap_pence=4_000_00, delegation_limit_pence=20_000_00)
    earlier = make_submitted_bid(world.user("applicant"), world.scf_year, 1_000_00, title="Earlier bid")
    officer = as_role("officer")
    assert assess(officer, earlier).status_code == 302
    assert award(officer, earlier, 1_000_00).status_code == 302

    # The officer: what this bid can be awarded.
    bid = make_submitted_bid(world.user("applicant"), world.scf_year, 3_900_00)
    set_year(world, per_bid_cap_pence=3_000_00, per_applicant_cap_pence=4_500_00)  # lowered after it was sent
    response = assess(officer, bid, recommended_pence="3,500")
    assert field_error(response, "recommended_pence") == f"£3,000.00 is the most this bid can be awarded from the {SCF}"
    assert "you can ask" not in response.get_data(as_text=True)
    set_year(world, per_bid_cap_pence=4_000_00)
    assert assess(officer, bid).status_code == 302
    response = award(officer, bid, 3_900_00)
    assert field_error(response, "amount_pence") == (
        f"An organisation can receive at most £4,500.00 from the {SCF} in {world.scf_year.label}; "
        "£3,500.00 is left for this organisation")

    # The applicant: what they can ask for.
    client = as_role("applicant")
    draft = start_bid(client, world)
    response = client.post(f"/bids/{draft.id}/edit", data=bid_form(draft, submit="Submit", **{
        "budget_lines-0-amount": "3,000", "budget_lines-1-amount": "600"}))
    assert error_messages(response) == [
        f"Your organisation can receive at most £4,500.00 from the {SCF} in {world.scf_year.label}, "
        "so you can ask for up to £3,500.00"]
    response = client.post(f"/bids/{draft.id}/edit", data=bid_form(fresh(draft), submit="Submit", **{
        "budget_lines-0-amount": "4,000", "budget_lines-1-amount": "0.01"}))
    assert error_messages(response) == [f"£4,000.00 is the most you can ask for from the {SCF}"]


# --- money in form boxes ----------------------------------------------------------------------------------------------


def test_money_boxes_show_grouped_pounds_and_read_them_back(as_role, world: World) -> None:
    client = as_role("applicant")
    bid = start_bid(client, world)
    assert client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, save="Save", other_funding_pence="£12,000", **{
        "budget_lines-0-amount": "3650", "budget_lines-1-amount": "1234.5"})).status_code == 302
    soup = page(client.get(f"/bids/{bid.id}/edit"))
    shown = {name: soup.find(id=name)["value"] for name in
             ("budget_lines-0-amount", "budget_lines-1-amount", "other_funding_pence")}
    assert shown == {"budget_lines-0-amount": "3,650", "budget_lines-1-amount": "1,234.50",
                     "other_funding_pence": "12,000"}

    # Saving the page as shown changes nothing.
    db.session.refresh(bid)
    version = bid.version
    response = client.post(f"/bids/{bid.id}/edit", data=bid_form(bid, save="Save", **shown))
    assert response.status_code == 302
    bid = fresh(bid)
    assert [line.amount_pence for line in bid.budget_lines] == [3_650_00, 1_234_50]
    assert bid.other_funding_pence == 12_000_00 and bid.version == version  # no change, so no new version


def test_the_award_box_starts_from_the_recommendation_as_shown(as_role, world: World) -> None:
    bid = recommended_bid(as_role, world, 4_250_50)
    approver = as_role("approver")
    shown = page(approver.get(f"/assess/bids/{bid.id}/award")).find(id="amount_pence")["value"]
    assert shown == "4,250.50"
    response = approver.post(f"/assess/bids/{bid.id}/award", data={**award_form(bid, shown)})
    assert response.status_code == 302
    assert db.session.scalar(select(Award.amount_pence).where(Award.bid_id == bid.id)) == 4_250_50
