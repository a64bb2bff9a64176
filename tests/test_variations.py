"""Variations to a grant agreement: proposed by an officer, checked against the caps and the budget as an
award is, approved above the delegation limit by an approver, accepted or declined by the grantee; the
agreement, the fund-year's commitment, payments and monitoring returns follow; simultaneous approvals never
overspend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer

from grants.agreements.rules import end_agreement
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import AgreementVariation, Award, FundYear, GrantAgreement, OutboxEmail
from grants.core.refusals import Refused
from grants.payments.rules import schedule_payment
from grants.variations import rules
from tests.conftest import World, error_messages, field_error, make_user, page
from tests.test_agreements import active_agreement, dates, events, fresh, issued_agreement, make_agreement
from tests.test_concurrency import fire, signed_in_cookie


def committed(world: World) -> int:
    db.session.expire_all()
    return db.session.get(FundYear, world.scf_year.id).committed_pence


def propose(client: FlaskClient, agreement: GrantAgreement, amount: str, *, end: Any = None,
            special: str | None = None, reasons: str = "More sessions are needed") -> Any:
    agreement = fresh(agreement)
    return client.post(f"/agreements/{agreement.id}/variations/new", data={
        "version": str(agreement.version), "amount_pence": amount, **dates("end_date", end or agreement.end_date),
        "special_conditions": agreement.special_conditions if special is None else special, "reasons": reasons})


def latest(agreement: GrantAgreement) -> AgreementVariation:
    db.session.expire_all()
    return db.session.scalar(select(AgreementVariation).where(AgreementVariation.agreement_id == agreement.id)
                             .order_by(AgreementVariation.number.desc()))


def accept(client: FlaskClient, variation: AgreementVariation) -> Any:
    return client.post(f"/variations/{variation.id}/accept", data={
        "version": str(variation.version), "accepted_name": "Tom Hughes", "accepted_role": "Community Safety Manager",
        "confirm": "y"})


def decide(client: FlaskClient, variation: AgreementVariation, action: str, note: str = "Agreed") -> Any:
    return client.post(f"/variations/{variation.id}/{action}", data={"version": str(variation.version), "note": note})


def test_a_decrease_is_offered_at_once_and_gives_money_back_when_accepted(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    before = committed(world)
    response = propose(as_role("officer"), agreement, "1,500", special="Report thefts monthly")
    variation = latest(agreement)
    assert response.headers["Location"] == f"/variations/{variation.id}"
    assert (variation.status, variation.old_amount_pence, variation.new_amount_pence) == ("offered", 2_000_00, 1_500_00)
    assert committed(world) == before  # nothing changes until the grantee accepts
    mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.subject.contains(variation.reference))).all()
    assert mail and "£2,000.00 to £1,500.00" in mail[-1].body
    # The grantee sees it on the agreement and accepts it.
    grantee = as_role("applicant")
    shown = page(grantee.get(f"/agreements/{agreement.id}")).select_one("[data-testid=variations]").get_text(" ")
    assert "As issued" in shown and "Variation 1" in shown and "Offered to the grantee" in shown
    assert accept(grantee, variation).headers["Location"] == f"/agreements/{agreement.id}"
    agreement = fresh(agreement)
    assert agreement.amount_pence == 1_500_00 and agreement.special_conditions == "Report thefts monthly"
    assert db.session.get(Award, agreement.award_id).amount_pence == 1_500_00
    assert committed(world) == before - 500_00
    assert latest(agreement).accepted_name == "Tom Hughes"
    assert "agreement.varied" in events("grant_agreement", agreement.id)
    assert events("agreement_variation", variation.id) == ["agreement_variation.proposed", "agreement_variation.accepted"]


def test_an_increase_within_the_delegation_limit_holds_its_money_until_declined(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    before = committed(world)
    propose(as_role("officer"), agreement, "2,400")
    variation = latest(agreement)
    assert variation.status == "offered" and variation.committed_pence == 400_00
    assert committed(world) == before + 400_00
    response = decide(as_role("applicant"), variation, "decline", "We cannot spend it in time")
    assert response.status_code == 302
    assert latest(agreement).status == "declined" and committed(world) == before
    assert fresh(agreement).amount_pence == 2_000_00


def test_an_increase_above_the_delegation_limit_goes_to_an_approver(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    before = committed(world)
    propose(as_role("officer"), agreement, "3,000")
    variation = latest(agreement)
    assert variation.status == "awaiting_approval" and committed(world) == before
    assert db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == world.user("approver").email,
                                                       OutboxEmail.subject.contains("for your decision")))
    # Not the grantee's to see yet.
    assert as_role("applicant").get(f"/variations/{variation.id}").status_code == 404
    approver = as_role("approver")
    assert field_error(decide(approver, variation, "refuse", ""), "note") == "Give the reasons for refusing the variation"
    assert decide(approver, variation, "approve", "Within the fund's aims").status_code == 302
    variation = latest(agreement)
    assert variation.status == "offered" and variation.decided_by_id == world.user("approver").id
    assert committed(world) == before + 1_000_00
    assert accept(as_role("applicant"), variation).status_code == 302
    assert fresh(agreement).amount_pence == 3_000_00 and committed(world) == before + 1_000_00


@pytest.mark.parametrize(("change", "message"), [
    ("6,000", "A grant from the Safer Communities Fund {year} can be at most £5,000.00"),
    ("0", "The grant amount must be more than £0: to stop the grant, terminate it"),
    ("2,000", "Change the amount, the end date or the special conditions"),
])
def test_what_is_refused_is_said_beside_the_field(as_role, world: World, change: str, message: str) -> None:
    agreement = active_agreement(as_role, world)
    response = propose(as_role("officer"), agreement, change)
    assert response.status_code == 200
    error = field_error(response, "amount_pence")
    assert error == message.format(year=world.scf_year.label)
    assert latest(agreement) is None


def test_an_increase_the_budget_or_the_organisation_cap_cannot_take_is_refused(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.budget_pence = fund_year.committed_pence + 100_00
    db.session.commit()
    error = field_error(propose(as_role("officer"), agreement, "2,400"), "amount_pence")
    assert error == f"The increase of £400.00 is more than the £100.00 left in the Safer Communities Fund {fund_year.label} budget"
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.budget_pence, fund_year.per_applicant_cap_pence = 20_000_00, 2_200_00
    db.session.commit()
    error = field_error(propose(as_role("officer"), agreement, "2,400"), "amount_pence")
    assert error.startswith("An organisation can receive at most £2,200.00")
    assert latest(agreement) is None and committed(world) == 2_000_00


def test_nothing_scheduled_or_paid_is_lost(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    schedule_payment(agreement, world.user("finance"), 1_200_00, uk_today(), today=uk_today())
    db.session.commit()
    error = field_error(propose(as_role("officer"), agreement, "1,000"), "amount_pence")
    assert error == "The grant cannot be less than the £1,200.00 already scheduled or paid: cancel scheduled payments first"
    # Offered at £1,500, then more is scheduled before the grantee accepts: accepting is refused.
    propose(as_role("officer"), agreement, "1,500")
    variation = latest(agreement)
    schedule_payment(fresh(agreement), world.user("finance"), 500_00, uk_today() + timedelta(days=40),
                     today=uk_today())
    db.session.commit()
    response = accept(as_role("applicant"), variation)
    assert response.status_code == 409
    assert "has been scheduled or paid since this variation was offered" in " ".join(error_messages(response))
    assert fresh(agreement).amount_pence == 2_000_00 and latest(agreement).status == "offered"


def test_one_variation_at_a_time_and_only_while_the_agreement_can_change(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    officer = as_role("officer")
    propose(officer, agreement, "1,800")
    response = propose(officer, agreement, "1,700")
    assert response.status_code == 409 and "withdraw it or wait" in " ".join(error_messages(response))
    assert decide(officer, latest(agreement), "withdraw", "Proposed in error").status_code == 302
    assert propose(officer, agreement, "1,700").status_code == 302
    draft = make_agreement(world, "draft", title="Draft grant")
    assert as_role("officer").get(f"/agreements/{draft.id}/variations/new").status_code == 302  # refused: a draft
    with pytest.raises(Refused):
        rules.propose(draft, world.user("officer"), rules.VariationInput(1_000_00, draft.end_date, "", "x"), uk_today())


def test_an_issued_agreement_can_be_varied_before_it_is_accepted(as_role, world: World) -> None:
    agreement = issued_agreement(as_role, world)
    assert propose(as_role("officer"), agreement, "1,900").status_code == 302
    assert accept(as_role("applicant"), latest(agreement)).status_code == 302
    assert fresh(agreement).amount_pence == 1_900_00 and fresh(agreement).status == "issued"


def test_returns_follow_a_new_end_date(as_role, world: World) -> None:
    start = uk_today() - timedelta(days=30)
    agreement = active_agreement(as_role, world, start=start, end=start + timedelta(days=400))
    periods = [(r.period_name, r.status) for r in fresh(agreement).returns]
    assert len(periods) >= 3, (periods, fresh(agreement).start_date, fresh(agreement).end_date)
    # Shortened to end in its first period: the later returns are not required, the first ends on the new date.
    new_end = start + timedelta(days=10)
    propose(as_role("officer"), agreement, "2,000", end=new_end)
    accept(as_role("applicant"), latest(agreement))
    returns = fresh(agreement).returns
    assert returns[0].period_end == new_end and returns[0].status == "due"
    assert [r.status for r in returns[1:]] == ["not_required"] * (len(returns) - 1)
    # Extended again: the periods it now reaches get returns.
    propose(as_role("officer"), agreement, "2,000", end=start + timedelta(days=400))
    accept(as_role("applicant"), latest(agreement))
    assert len([r for r in fresh(agreement).returns if r.status == "due"]) >= 3


def test_who_may_do_what(as_role, world: World) -> None:
    agreement = active_agreement(as_role, world)
    for role in ("applicant", "approver", "finance", "admin"):
        assert as_role(role).get(f"/agreements/{agreement.id}/variations/new").status_code == 403
    propose(as_role("officer"), agreement, "1,800")
    variation = latest(agreement)
    other = make_user("applicant2@hunts.example", "applicant", world.other_csp)
    db.session.commit()
    assert as_role("other_applicant").get(f"/variations/{variation.id}").status_code == 404
    assert other.organisation_id != agreement.organisation_id
    assert as_role("officer").post(f"/variations/{variation.id}/accept").status_code == 403
    assert as_role("approver").get(f"/variations/{variation.id}/approve").status_code == 302  # not awaiting approval


def test_simultaneous_approvals_of_increases_never_overspend(app: Flask, world: World, server: BaseWSGIServer) -> None:
    """Twelve increases of £1,000 waiting for approval, with room in the budget for five: approved at once."""
    officer, approver = world.user("officer"), world.user("approver")
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.budget_pence = 100_000_00
    db.session.commit()
    agreements = [make_agreement(world, "active", title=f"Grant {n}") for n in range(12)]
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.delegation_limit_pence = 1_500_00
    db.session.commit()
    variations = []
    for agreement in agreements:
        variation, problems = rules.propose(agreement, officer, rules.VariationInput(
            3_000_00, agreement.end_date, "", "Demand has doubled"), uk_today())
        assert variation is not None and variation.status == "awaiting_approval", problems
        db.session.commit()
        variations.append(variation)
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.budget_pence = fund_year.committed_pence + 5 * 1_000_00 + 500_00
    db.session.commit()
    cookie = signed_in_cookie(server, approver.email)
    answers = fire(server, [(v.id, {"version": str(v.version), "note": "Approved"}, cookie) for v in variations],
                   path="/variations/{}/approve")
    approved = [a for a in answers if a.status == 302]
    assert len(approved) == 5
    assert all(a.status == 200 and "is more than the £500.00 left" in a.body for a in answers if a.status != 302)
    db.session.expire_all()
    fund_year = db.session.get(FundYear, world.scf_year.id)
    held = db.session.scalar(select(func.sum(AgreementVariation.committed_pence)))
    awarded = db.session.scalar(select(func.sum(Award.amount_pence)))
    assert fund_year.committed_pence == awarded + held <= fund_year.budget_pence
    assert held == 5 * 1_000_00


def test_an_approver_cannot_approve_a_variation_they_proposed(world: World) -> None:
    """Approvers do not propose (officers do); the guard still holds if someone is both."""
    agreement = make_agreement(world, "active")
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.delegation_limit_pence = 1_000_00
    db.session.commit()
    variation, _ = rules.propose(agreement, world.user("officer"), rules.VariationInput(
        2_500_00, agreement.end_date, "", "More"), uk_today())
    assert variation is not None
    variation.proposed_by_id = world.user("approver").id
    with pytest.raises(Refused, match="Someone other than the officer who proposed"):
        rules.approve(variation, world.user("approver"), "ok", uk_today())


def test_ending_a_grant_withdraws_its_open_variation_and_gives_its_money_back(world: World) -> None:
    agreement = make_agreement(world, "active")
    before = committed(world)
    variation, _ = rules.propose(agreement, world.user("officer"), rules.VariationInput(
        2_400_00, agreement.end_date, "", "More sessions"), uk_today())
    assert variation is not None and variation.committed_pence == 400_00
    db.session.commit()
    assert committed(world) == before + 400_00
    problems = end_agreement(fresh(agreement), world.user("officer"), "terminated", "Project stopped", None,
                             uk_today())
    assert problems == {}
    db.session.commit()
    assert latest(agreement).status == "withdrawn" and latest(agreement).committed_pence == 0
    # The held £400 is back; close-out then gives back the unpaid grant too.
    assert committed(world) == before - 2_000_00
