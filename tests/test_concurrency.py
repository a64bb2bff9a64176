"""Concurrent award decisions against a real threaded server must never overspend a fund-year's budget.

Runs on the file SQLite database the `app` fixture makes, and on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer

from grants.assessment.routes import CHANGED_ELSEWHERE
from grants.assessment.rules import CRITERIA, AssessmentInput, record_assessment
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Award, Bid, Decision, FundYear, GrantAgreement, Payment
from tests.conftest import PASSWORD, World, fresh_code, make_submitted_bid, make_user
from tests.test_agreements import active_agreement

DECISIONS = 24
AMOUNT = 1_000_00
BUDGET = 10 * AMOUNT + 500_00  # fits ten awards, with money left that is less than one more
TIMEOUT = 60  # seconds any one request or thread may take


@dataclass
class Answer:
    bid_id: int
    status: int
    body: str


def request(srv: BaseWSGIServer, method: str, path: str, form: dict[str, str], cookie: str = "") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_port, timeout=TIMEOUT)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=urlencode(form, doseq=True), headers=headers)
    response = conn.getresponse()
    response.body = response.read().decode()  # type: ignore[attr-defined]
    conn.close()
    return response


def fire(srv: BaseWSGIServer, decisions: list[tuple[int, dict[str, str], str]],
         path: str = "/assess/bids/{}/award") -> list[Answer]:
    """Post every decision at the same moment, one thread each, to `path` filled with the record's id;
    wait for all the answers."""
    start = threading.Barrier(len(decisions), timeout=TIMEOUT)
    answers: list[Answer] = []
    failures: list[BaseException] = []

    def decide(bid_id: int, form: dict[str, str], cookie: str) -> None:
        try:
            start.wait()
            response = request(srv, "POST", path.format(bid_id), form, cookie)
            answers.append(Answer(bid_id, response.status, response.body))  # type: ignore[attr-defined]
        except BaseException as exc:  # noqa: BLE001  (reported by the caller's assertion)
            failures.append(exc)

    threads = [threading.Thread(target=decide, args=decision) for decision in decisions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a decision never finished"
    assert failures == []
    assert len(answers) == len(decisions)
    return answers


def signed_in_cookie(srv: BaseWSGIServer, email: str) -> str:
    """Sign in through the pages (password, then the staff's security code); the session cookie."""
    response = request(srv, "POST", "/sign-in", {"email": email, "password": PASSWORD})
    assert response.status == 302, f"sign-in failed for {email}"
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    if response.getheader("Location") == "/sign-in/code":
        response = request(srv, "POST", "/sign-in/code", {"code": fresh_code(email)}, cookie)
        assert response.status == 302, f"second factor refused for {email}"
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    return cookie


def assessed_bids(world: World, count: int = DECISIONS) -> list[Bid]:
    """Bids from several organisations, each assessed and ready for an award decision."""
    applicants = [world.user("applicant"), world.user("other_applicant")]
    bids = []
    for n in range(count):
        bid = make_submitted_bid(applicants[n % 2], world.scf_year, AMOUNT, title=f"Bid {n}")
        problems = record_assessment(bid, world.user("officer"), AssessmentInput(
            scores=dict.fromkeys(CRITERIA, 3), comments="", recommended_pence=AMOUNT, conflict_of_interest=False,
            conflict_details="", organisation_checked=True, due_diligence_notes="Checked", fraud_risk="low",
            fraud_risk_reasons="Statutory partnership"), uk_today())
        assert problems == {}
        db.session.commit()
        bids.append(bid)
    return bids


def test_concurrent_approvals_never_overspend_and_every_refusal_says_why(
        app: Flask, world: World, server: BaseWSGIServer) -> None:
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.budget_pence = BUDGET
    fund_year.delegation_limit_pence = AMOUNT  # every award is within the officers' limit
    db.session.commit()
    bids = assessed_bids(world)
    officers = [world.user("officer"), make_user("officer3@opcc.example", "officer", world.opcc)]
    db.session.commit()
    cookies = [signed_in_cookie(server, officer.email) for officer in officers]
    forms = {bid.id: {"version": str(bid.version), "amount_pence": "1000", "reasons": f"Reasons for {bid.reference}",
                      "public_summary": "Summary"}
             for bid in bids}

    answers = fire(server, [(bid.id, forms[bid.id], cookies[n % len(cookies)]) for n, bid in enumerate(bids)])

    db.session.expire_all()
    fund_year = db.session.get(FundYear, world.scf_year.id)
    awarded = db.session.scalar(select(func.coalesce(func.sum(Award.amount_pence), 0)))
    approved = [a for a in answers if a.status == 302]
    refused = [a for a in answers if a.status != 302]

    assert fund_year.committed_pence <= fund_year.budget_pence
    assert awarded == fund_year.committed_pence == len(approved) * AMOUNT
    assert len(approved) == BUDGET // AMOUNT  # every award that fitted was made; no refusal was spurious
    for answer in refused:
        assert answer.status == 200, f"{answer.bid_id}: {answer.status}"
        assert f"£1,000.00 is more than the £500.00 left in the Safer Communities Fund {fund_year.label} budget" in answer.body
    statuses = dict(db.session.execute(select(Bid.id, Bid.status)).all())
    assert sorted(statuses[a.bid_id] for a in approved) == ["approved"] * len(approved)
    assert sorted(statuses[a.bid_id] for a in refused) == ["in_review"] * len(refused)
    # Nothing of a refused decision was kept.
    assert db.session.scalar(select(func.count(Decision.id)).where(Decision.kind == "approved")) == len(approved)


def test_simultaneous_decisions_on_one_bid_make_one_award(app: Flask, world: World, server: BaseWSGIServer) -> None:
    fund_year = db.session.get(FundYear, world.scf_year.id)
    fund_year.delegation_limit_pence = AMOUNT
    db.session.commit()
    [bid] = assessed_bids(world, count=1)
    officers = [world.user("officer"), world.user("officer2")]
    cookies = [signed_in_cookie(server, officer.email) for officer in officers]
    form = {"version": str(bid.version), "amount_pence": "1000", "reasons": "Reasons", "public_summary": "Summary"}
    answers = fire(server, [(bid.id, form, cookies[n % 2]) for n in range(10)])

    db.session.expire_all()
    assert db.session.scalar(select(func.count(Award.id))) == 1
    assert db.session.get(FundYear, world.scf_year.id).committed_pence == AMOUNT
    assert db.session.get(Bid, bid.id).status == "approved"
    for answer in answers:
        # Either the decision that won, one sent back to the decided bid, or one told that the bid changed.
        assert answer.status in (302, 409), answer.status
        if answer.status == 409:
            assert CHANGED_ELSEWHERE in answer.body


def test_concurrent_payments_never_pay_more_than_the_grant(app: Flask, world: World, server: BaseWSGIServer,
                                                           as_role) -> None:  # type: ignore[no-untyped-def]
    agreement = active_agreement(as_role, world, amount_pence=1_050_00)
    finance = [world.user("finance"), make_user("finance2@opcc.example", "finance", world.opcc)]
    db.session.commit()
    cookies = [signed_in_cookie(server, user.email) for user in finance]
    due = uk_today() + timedelta(days=30)  # after the grant's first 30 days: all of it may be due then
    form = {"amount_pence": "100", "due_on": [str(due.day), str(due.month), str(due.year)]}
    answers = fire(server, [(agreement.id, form, cookies[n % 2]) for n in range(20)],  # type: ignore[misc]
                   path="/agreements/{}/payments/new")

    db.session.expire_all()
    agreement = db.session.get(GrantAgreement, agreement.id)
    scheduled = db.session.scalar(select(func.sum(Payment.amount_pence)).where(Payment.agreement_id == agreement.id))
    made = [a for a in answers if a.status == 302]
    assert len(made) == 10 and scheduled == agreement.scheduled_pence == 1_000_00
    for answer in answers:
        if answer.status != 302:
            assert answer.status == 200
            assert "£100.00 is more than the £50.00 of the grant not yet scheduled or paid" in answer.body
