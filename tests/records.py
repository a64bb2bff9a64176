"""Known records for the access matrix and the fuzz tests, built through the application's own rules.

Both modules keep one app (and one database) per module and empty it between tests: building the schema
for each of several hundred cases would be far slower, on PostgreSQL especially. Signing in is done by
putting the user's session token in the session, as `login_user` does, rather than by posting a password:
argon2 takes a tenth of a second per check, and the sign-in form is tested on its own in test_auth.py.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grants import create_app
from grants.agreements.rules import AgreementTerms, accept, activate, issue, prepare_agreement
from grants.assessment.rules import (
    CRITERIA,
    AssessmentInput,
    award_for,
    decide_award,
    record_assessment,
    request_information,
)
from grants.auth.rules import issue_reset_token
from grants.bids.rules import start_bid
from grants.core.dates import financial_year_bounds, financial_year_start
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.mail import queue_email
from grants.core.models import (
    ROLES,
    Bid,
    ConditionsVersion,
    Fund,
    FundYear,
    GrantAgreement,
    MonitoringReturn,
    Organisation,
    User,
)
from grants.monitoring.evidence import add_evidence
from grants.monitoring.measures import MeasureInput, add_measure
from grants.monitoring.rules import ReturnAnswers
from grants.monitoring.rules import submit as submit_return
from grants.payments.rules import schedule_payment
from grants.variations.rules import VariationInput
from grants.variations.rules import propose as propose_variation
from tests.conftest import make_submitted_bid, make_user


def module_app(tmp_path_factory: Any, database_uri_base: str | None, name: str) -> Iterator[Flask]:
    """One app and schema for a whole test module (see above), on PostgreSQL when the suite runs there."""
    uri = database_uri_base or f"sqlite:///{tmp_path_factory.mktemp(name) / 'test.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def empty_database(app: Flask) -> None:
    """Delete every row; if the schema refuses (a trigger, say), build it again from nothing."""
    with app.app_context():
        try:
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
        except Exception:
            db.session.rollback()
            db.drop_all()
            db.create_all()
        db.session.remove()


@dataclass
class Records:
    """Ids of known records by name (`ids`), and each role's session token (`tokens`)."""

    ids: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.ids[name]


def _assess(bid: Bid, officer: User) -> None:
    problems = record_assessment(bid, officer, AssessmentInput(
        scores={key: 4 for key in CRITERIA}, comments="Clear plan", recommended_pence=bid.requested_pence,
        conflict_of_interest=False, conflict_details="", organisation_checked=True,
        due_diligence_notes="Checked", fraud_risk="low", fraud_risk_reasons="Statutory partnership"), uk_today())
    assert problems == {}, problems
    db.session.flush()


def new_bid(app: Flask, records: Records, *, status: str = "submitted", amount_pence: int | None = None,
            title: str = "Bike marking", org: str = "applicant") -> int:
    """A new bid of the applicant's organisation (or `org`'s), moved on to `status`; returns its id.

    A recommended bid asks for more than the delegation limit (£2,500), the others for £1,000."""
    if amount_pence is None:
        amount_pence = 3_000_00 if status == "recommended" else 1_000_00
    with app.app_context():
        applicant = db.session.get(User, records[f"user_{org}"])
        officer = db.session.get(User, records["user_officer"])
        fund_year = db.session.get(FundYear, records["fund_year"])
        if status == "draft":
            bid = start_bid(applicant, fund_year, uk_today())
        else:
            bid = make_submitted_bid(applicant, fund_year, amount_pence, title=title)
        if status in ("in_review", "recommended", "approved"):
            _assess(bid, officer)
        if status in ("recommended", "approved"):
            outcome, problems = decide_award(bid, officer, amount_pence, "Marked bikes are stolen less", uk_today(),
                                             public_summary="Cycle marking in Cambridge")
            assert outcome is not None and outcome.status == status, (outcome, problems)
        if status == "info_requested":
            assert request_information(bid, officer, "Which stations?", uk_today()) == {}
        assert bid.status == status
        db.session.commit()
        bid_id = bid.id
        db.session.remove()
        return bid_id


AGREEMENT_STEPS = ("draft", "issued", "accepted", "active")


def new_agreement(app: Flask, records: Records, *, status: str = "active", org: str = "applicant") -> int:
    """A grant agreement for a new approved bid, taken on to `status`; it began 60 days ago and runs for a
    year, so its first monitoring return can be submitted now. Returns its id."""
    bid_id = new_bid(app, records, status="approved", org=org)
    today = uk_today()
    with app.app_context():
        officer = db.session.get(User, records["user_officer"])
        grantee = db.session.get(User, records[f"user_{org}"])
        award = award_for(db.session.get(Bid, bid_id))
        agreement, problems = prepare_agreement(award, officer, AgreementTerms(
            today - timedelta(days=60), today + timedelta(days=300), "Report any thefts"))
        assert agreement is not None, problems
        steps = AGREEMENT_STEPS[1:AGREEMENT_STEPS.index(status) + 1]
        if "issued" in steps:
            issue(agreement, officer, uk_today())
        if "accepted" in steps:
            assert accept(agreement, grantee, grantee.name, "Community Safety Manager", True, uk_today()) == {}
        if "active" in steps:
            activate(agreement, officer, uk_today())
        db.session.commit()
        agreement_id = agreement.id
        db.session.remove()
        return agreement_id


def new_variation(app: Flask, records: Records, *, status: str = "offered", org: str = "applicant") -> int:
    """A variation to a new active £1,000 agreement: "offered" (a decrease to £800, offered at once) or
    "awaiting_approval" (an increase to £3,000, above the delegation limit). Returns its id."""
    agreement_id = new_agreement(app, records, org=org)
    with app.app_context():
        agreement = db.session.get(GrantAgreement, agreement_id)
        amount = 3_000_00 if status == "awaiting_approval" else 800_00
        variation, problems = propose_variation(agreement, db.session.get(User, records["user_officer"]),
                                                VariationInput(amount, agreement.end_date, "", "Demand changed"),
                                                uk_today())
        assert variation is not None and variation.status == status, problems
        db.session.commit()
        variation_id = variation.id
        db.session.remove()
        return variation_id


def add_payment(app: Flask, records: Records, agreement_id: int) -> int:
    """A scheduled payment of £100 on an accepted or active agreement; returns its id."""
    with app.app_context():
        finance = db.session.get(User, records["user_finance"])
        payment, problems = schedule_payment(db.session.get(GrantAgreement, agreement_id), finance, 100_00,
                                             uk_today() + timedelta(days=30), today=uk_today())
        assert payment is not None, problems
        db.session.commit()
        payment_id = payment.id
        db.session.remove()
        return payment_id


def add_evidence_file(app: Flask, records: Records, return_id: int, org: str) -> int:
    """A PDF sent with a return by someone of the grantee organisation `org`; returns its id."""
    with app.app_context():
        ret = db.session.get(MonitoringReturn, return_id)
        grantee = db.session.get(User, records[f"user_{org}"])
        evidence = add_evidence(ret, grantee, "photos.pdf", b"%PDF-1.4\n%%EOF\n", app.config["EVIDENCE_DIR"])
        db.session.commit()
        evidence_id = evidence.id
        db.session.remove()
        return evidence_id


def add_bid_document(app: Flask, records: Records, bid_name: str, org: str) -> int:
    """A PDF quote added, through the rules, to a bid the applicant may still change; returns its id."""
    from grants.bids.documents import add_document

    with app.app_context():
        bid = db.session.get(Bid, records[bid_name])
        document, problems = add_document(bid, db.session.get(User, records[f"user_{org}"]), "quote.pdf",
                                          b"%PDF-1.4\n%%EOF\n", "Quote", directory=app.config["EVIDENCE_DIR"],
                                          max_bytes=1024 * 1024, today=uk_today())
        assert document is not None, problems
        db.session.commit()
        document_id = document.id
        db.session.remove()
        return document_id


def new_measure(app: Flask, records: Records) -> int:
    """An outcome measure no return has answered, on the fund kept for measures (not the fund bids go to, whose
    returns the other records submit); returns its id."""
    with app.app_context():
        fund = db.session.get(Fund, records["measure_fund"])
        measure, problems = add_measure(fund, db.session.get(User, records["user_admin"]), MeasureInput(
            f"Bikes marked {secrets.token_hex(4)}", "Bikes marked in the period", "count", True, "Outputs"))
        assert measure is not None, problems
        db.session.commit()
        measure_id = measure.id
        db.session.remove()
        return measure_id


def returns_of(app: Flask, records: Records, agreement_id: int, *, submit_first: bool = False,
               org: str = "applicant") -> list[int]:
    """The ids of an active agreement's monitoring returns, earliest first; the first one submitted if asked."""
    with app.app_context():
        agreement = db.session.get(GrantAgreement, agreement_id)
        returns = list(agreement.returns)
        if submit_first:
            answers = ReturnAnswers("Six events held", "", "green",
                                    spend={line.id: "50" for line in agreement.bid.budget_lines})
            grantee = db.session.get(User, records[f"user_{org}"])
            assert submit_return(returns[0], grantee, answers, uk_today()) == {}
            db.session.commit()
        ids = [ret.id for ret in returns]
        db.session.remove()
        return ids


def new_conditions_version(app: Flask, records: Records) -> int:
    """A version of the standard conditions coming into force in 30 days (or with the last version, if that is
    later), which no agreement uses, so it can still be changed; returns its id."""
    with app.app_context():
        number, last = db.session.execute(select(func.max(ConditionsVersion.number),
                                                 func.max(ConditionsVersion.effective_from))).one()
        version = ConditionsVersion(number=(number or 0) + 1, text=f"Future conditions {secrets.token_hex(4)}",
                                    effective_from=max(uk_today() + timedelta(days=30), last or uk_today()),
                                    created_by_id=records["user_admin"])
        db.session.add(version)
        db.session.commit()
        version_id = version.id
        db.session.remove()
        return version_id


def build_records(app: Flask) -> Records:
    """Two CSPs, the OPCC, one user of each role (and a second applicant and a spare user), a fund with an
    open and a closed year, bids in each state, an outbox email, a password reset token, grant agreements in
    each state before the end, a scheduled payment, monitoring returns (due and submitted) and their evidence,
    bids' supporting documents, a second fund with an outcome measure, and the standard conditions' version 1
    (in use) and a version not yet in force."""
    records = Records()
    with app.app_context():
        csp = Organisation(name="Fenland CSP", org_type="csp", org_identifier="GB-LAE-FEN")
        other = Organisation(name="Huntingdonshire CSP", org_type="csp")
        opcc = Organisation(name="OPCC", org_type="opcc")
        db.session.add_all([csp, other, opcc])
        fund = Fund(name="Safer Communities Fund", funding_source="opcc", description="Swift local responses")
        db.session.add(fund)
        db.session.flush()
        this_year = financial_year_start(uk_today())
        opens, closes = financial_year_bounds(this_year)
        fund_year = FundYear(fund_id=fund.id, year_start=this_year, budget_pence=1_000_000_00,
                             per_bid_cap_pence=5_000_00, delegation_limit_pence=2_500_00, opens_on=opens,
                             closes_on=closes)
        p_opens, p_closes = financial_year_bounds(this_year - 1)
        closed = FundYear(fund_id=fund.id, year_start=this_year - 1, budget_pence=20_000_00,
                          per_bid_cap_pence=5_000_00, delegation_limit_pence=2_500_00, opens_on=p_opens,
                          closes_on=p_closes)
        db.session.add_all([fund_year, closed])
        db.session.flush()
        users = {
            "applicant": make_user("applicant@fenland.example", "applicant", csp, "Tom Hughes"),
            "other_applicant": make_user("applicant@hunts.example", "applicant", other, "Hana Hunts"),
            "spare": make_user("spare@fenland.example", "applicant", csp, "Sam Spare"),
        }
        for role in ROLES[1:]:
            users[role] = make_user(f"{role}@opcc.example", role, opcc, f"{role.title()} Person")
        for name, user in users.items():
            user.session_token = secrets.token_urlsafe(32)
            records.tokens[name] = user.session_token
            records.ids[f"user_{name}"] = user.id
        email = queue_email("applicant@fenland.example", "Welcome", "Your account is ready.")
        # One notification each, for the Notifications pages (each sees only its own).
        notifications = {name: queue_email(user.email, "Hello", "A notification", recipient=user)
                         for name, user in users.items() if name != "spare"}
        token = issue_reset_token(users["spare"], 2)
        db.session.commit()
        records.ids.update({f"notification_{name}": message.id for name, message in notifications.items()})
        records.ids.update(org_own=csp.id, org_other=other.id, org_opcc=opcc.id, fund=fund.id,
                           fund_year=fund_year.id, closed_year=closed.id, outbox_email=email.id, reset_token=token,
                           user=users["spare"].id, static_file="css/main.css")
        own_draft = start_bid(users["applicant"], fund_year, uk_today())
        other_draft = start_bid(users["other_applicant"], fund_year, uk_today())
        db.session.commit()
        records.ids.update(own_draft=own_draft.id, other_draft=other_draft.id)
        db.session.remove()
    for status in ("submitted", "in_review", "info_requested", "recommended", "approved"):
        records.ids[f"own_{status}"] = new_bid(app, records, status=status)
    records.ids["other_submitted"] = new_bid(app, records, org="other_applicant")
    records.ids["other_approved"] = new_bid(app, records, status="approved", org="other_applicant")
    for status in AGREEMENT_STEPS:
        records.ids[f"agreement_{status}"] = new_agreement(app, records, status=status)
    records.ids["agreement_other_active"] = new_agreement(app, records, org="other_applicant")
    records.ids["payment_scheduled"] = add_payment(app, records, records["agreement_active"])
    for status in ("offered", "awaiting_approval"):
        records.ids[f"variation_{status}"] = new_variation(app, records, status=status)
    records.ids["variation_other"] = new_variation(app, records, org="other_applicant")
    records.ids["open_data_all_years"] = "all-years"  # the name of the published file of every grant
    submitted, due, *_ = returns_of(app, records, records["agreement_active"], submit_first=True)
    other_return = returns_of(app, records, records["agreement_other_active"])[0]
    records.ids.update(return_submitted=submitted, return_due=due, return_other=other_return,
                       evidence_own=add_evidence_file(app, records, submitted, "applicant"),
                       evidence_other=add_evidence_file(app, records, other_return, "other_applicant"))
    # Supporting documents: on a bid the OPCC has asked about (staff see it), and on two drafts (they do not).
    records.ids.update(document_own=add_bid_document(app, records, "own_info_requested", "applicant"),
                       document_draft=add_bid_document(app, records, "own_draft", "applicant"),
                       document_other=add_bid_document(app, records, "other_draft", "other_applicant"))
    records.ids.update(this_year=financial_year_start(uk_today()), whole_year="FY", moj="moj")
    with app.app_context():
        measure_fund = Fund(name="Road Safety Fund", funding_source="home_office", reporting_frequency="quarterly")
        db.session.add(measure_fund)
        db.session.commit()
        records.ids["measure_fund"] = measure_fund.id
        db.session.remove()
    records.ids["measure"] = new_measure(app, records)
    with app.app_context():  # version 1 of the standard conditions, made when the first agreement was prepared
        records.ids["conditions_version"] = db.session.scalar(
            select(ConditionsVersion.id).where(ConditionsVersion.number == 1))
        db.session.remove()
    records.ids["conditions_future"] = new_conditions_version(app, records)
    records.ids["repayment_due"] = add_repayment(app, records, paid_agreement(app, records))
    return records


AWAITING_CODE = " awaiting code"


def sign_in_as(client: FlaskClient, records: Records, name: str | None) -> None:
    """Give the client the session `login_user` would give that user (None: signed out; "<name> awaiting
    code": the session of someone who gave the right password and owes the second factor)."""
    with client.session_transaction() as session:
        session.clear()
        if name is not None and name.endswith(AWAITING_CODE):
            session.update(pending_user=records[f"user_{name.removesuffix(AWAITING_CODE)}"], pending_at=time.time())
        elif name is not None:
            now = time.time()
            session.update({"_user_id": records.tokens[name], "_fresh": True, "signed_in_at": now, "last_seen": now})


def paid_agreement(app: Flask, records: Records) -> int:
    """A new active agreement with £200 of it paid (nothing asked back yet); returns its id."""
    from grants.payments.rules import record_paid

    agreement_id = new_agreement(app, records)
    with app.app_context():
        finance = db.session.get(User, records["user_finance"])
        payment, problems = schedule_payment(db.session.get(GrantAgreement, agreement_id), finance, 200_00,
                                             uk_today(), today=uk_today())
        assert payment is not None, problems
        assert record_paid(payment, finance, uk_today(), "AP-PAID-1", uk_today()) == {}
        db.session.commit()
        db.session.remove()
    return agreement_id


def add_repayment(app: Flask, records: Records, agreement_id: int) -> int:
    """£50 asked back, by an officer, from an agreement with money paid; returns the repayment's id."""
    from grants.repayments.rules import RepaymentRequest, ask_repayment

    with app.app_context():
        officer = db.session.get(User, records["user_officer"])
        repayment, problems = ask_repayment(db.session.get(GrantAgreement, agreement_id), officer,
                                            RepaymentRequest(50_00, "Unspent grant", None), uk_today())
        assert repayment is not None, problems
        db.session.commit()
        repayment_id = repayment.id
        db.session.remove()
        return repayment_id
