"""Demo data: the six CSPs, the OPCC, two funds, one user per role, a few bids. Safe to run again."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from grants.agreements.rules import AgreementTerms, accept, activate, issue, prepare_agreement
from grants.assessment.rules import CRITERIA, AssessmentInput, award_for, decide_award, record_assessment
from grants.bids.lifecycle import BID
from grants.core import dates
from grants.core.audit import record_event
from grants.core.dates import financial_year_bounds, financial_year_start
from grants.core.extensions import db
from grants.core.models import Bid, BudgetLine, Fund, FundYear, Organisation, User, utcnow
from grants.core.passwords import hash_password
from grants.payments.rules import record_paid, schedule_payment

DEMO_PASSWORD = "demo-password-2025"

CSPS = [
    ("Cambridge City Community Safety Partnership", "360G-opcccambs-CSP-CAMBRIDGE"),
    ("East Cambridgeshire CSP", "360G-opcccambs-CSP-EASTCAMBS"),
    ("Fenland CSP", "360G-opcccambs-CSP-FENLAND"),
    ("Huntingdonshire CSP", "360G-opcccambs-CSP-HUNTS"),
    ("Safer Peterborough Partnership", "360G-opcccambs-CSP-PETERBOROUGH"),
    ("South Cambridgeshire CSP", "360G-opcccambs-CSP-SOUTHCAMBS"),
]
OPCC = "Office of the Police and Crime Commissioner for Cambridgeshire and Peterborough"

FUNDS = [
    {
        "name": "Safer Communities Fund",
        "description": "Up to £5,000 per bid for initiatives giving a swift response to local issues: "
        "anti-social behaviour, road safety, bike theft and fly tipping.",
        "funding_source": "opcc",
        "budget": 60_000_00,
        "per_bid_cap": 5_000_00,
        "per_applicant_cap": None,
        "delegation_limit": 2_500_00,
    },
    {
        "name": "Youth Fund",
        "description": "Grass-roots funding so young people can contribute positively to their communities.",
        "funding_source": "opcc",
        "budget": 65_000_00,
        "per_bid_cap": 5_000_00,
        "per_applicant_cap": 15_000_00,
        "delegation_limit": 2_500_00,
    },
]

USERS = [
    ("applicant@cambridge-csp.example", "Priya Shah", "applicant", CSPS[0][0]),
    ("applicant@fenland-csp.example", "Tom Hughes", "applicant", CSPS[2][0]),
    ("officer@opcc.example", "Olivia Officer", "officer", OPCC),
    ("approver@opcc.example", "Alex Approver", "approver", OPCC),
    ("finance@opcc.example", "Fay Finance", "finance", OPCC),
    ("admin@opcc.example", "Adam Admin", "admin", OPCC),
]


def _get_or_create(model: type, defaults: dict, **keys: object):  # type: ignore[no-untyped-def]
    row = db.session.scalar(select(model).filter_by(**keys))
    if row is None:
        row = model(**keys, **defaults)
        db.session.add(row)
        db.session.flush()
        record_event(None, f"{model.__tablename__}.created", row, note="demo data")
    return row


def seed_demo(today: date | None = None) -> None:
    today = today or dates.today()
    orgs = {
        name: _get_or_create(Organisation, {"org_type": "csp", "org_identifier": code}, name=name) for name, code in CSPS
    }
    orgs[OPCC] = _get_or_create(Organisation, {"org_type": "opcc", "org_identifier": None}, name=OPCC)

    current = financial_year_start(today)
    years = sorted({2025, current})
    fund_years: dict[tuple[str, int], FundYear] = {}
    for spec in FUNDS:
        fund = _get_or_create(
            Fund, {"description": spec["description"], "funding_source": spec["funding_source"]}, name=spec["name"]
        )
        for year in years:
            opens, closes = financial_year_bounds(year)
            fund_years[(spec["name"], year)] = _get_or_create(
                FundYear,
                {
                    "budget_pence": spec["budget"],
                    "per_bid_cap_pence": spec["per_bid_cap"],
                    "per_applicant_cap_pence": spec["per_applicant_cap"],
                    "delegation_limit_pence": spec["delegation_limit"],
                    "opens_on": opens,
                    "closes_on": closes,
                },
                fund_id=fund.id,
                year_start=year,
            )

    users = {}
    for email, name, role, org_name in USERS:
        users[email] = _get_or_create(
            User,
            {"name": name, "role": role, "password_hash": hash_password(DEMO_PASSWORD), "organisation_id": orgs[org_name].id},
            email=email,
        )

    if db.session.scalar(select(Bid.id).limit(1)) is None:
        scf = fund_years[("Safer Communities Fund", current)]
        youth = fund_years[("Youth Fund", current)]
        funded = _demo_bid(users["applicant@cambridge-csp.example"], scf, "Cycle-marking kits for Mill Road",
                           "Bike theft around Mill Road and the station", "Petersfield", "bike_theft",
                           [("Cycle-marking kits (40)", 1_600_00), ("Event staff", 400_00)], today, submit=True)
        _demo_bid(users["applicant@fenland-csp.example"], scf, "Fly-tipping cameras in Wisbech",
                  "Repeated fly tipping on rural lanes", "Wisbech North", "fly_tipping",
                  [("Two deployable cameras", 3_200_00), ("Signage", 450_00)], today, submit=True)
        _demo_bid(users["applicant@fenland-csp.example"], youth, "Winter evening youth sessions",
                  "Anti-social behaviour by young people in March town centre", "March East", "youth_diversion",
                  [("Portable outdoor lights", 1_200_00), ("Youth worker hours", 2_300_00)], today, submit=True)
        _demo_bid(users["applicant@cambridge-csp.example"], youth, "Street-based youth work (draft)",
                  "ASB at Arbury Court", "Arbury", "youth_diversion", [("Youth worker hours", 2_000_00)], today, submit=False)
        _demo_grant(funded, users, today)
    db.session.commit()


def _demo_grant(bid: Bid, users: dict[str, User], today: date) -> None:
    """Take one bid through the whole life cycle with the same rules the pages use: assessed, awarded,
    agreement issued, accepted and started, a first payment made."""
    officer, finance = users["officer@opcc.example"], users["finance@opcc.example"]
    applicant = users["applicant@cambridge-csp.example"]
    db.session.flush()
    record_assessment(bid, officer, AssessmentInput(
        scores={key: 4 for key in CRITERIA}, comments="Clear plan with the neighbourhood policing team.",
        recommended_pence=bid.requested_pence, conflict_of_interest=False, conflict_details="",
        organisation_checked=True, due_diligence_notes="Statutory partnership; bank details match our records.",
        fraud_risk="low", fraud_risk_reasons="Long-standing partner with a good record of delivery.",
    ), today)
    decide_award(bid, officer, bid.requested_pence,
                 "Marked bikes are less attractive to thieves and easier to return to their owners, so cycle "
                 "marking reduces bike theft around Mill Road.", today)
    award = award_for(bid)
    assert award is not None
    agreement, _ = prepare_agreement(award, officer, AgreementTerms(bid.start_date, bid.end_date,
                                                                    "Mark at least 200 bikes by the end date."))
    assert agreement is not None
    issue(agreement, officer, today)
    accept(agreement, applicant, applicant.name, "Community Safety Manager", True, today)
    activate(agreement, officer, today)
    payment, _ = schedule_payment(agreement, finance, award.amount_pence // 2, today, "First half on acceptance",
                                  today=today)
    if payment is not None:
        record_paid(payment, finance, today, "AP-DEMO-0001", today)
    schedule_payment(agreement, finance, award.amount_pence - award.amount_pence // 2, agreement.end_date,
                     "Second half after the first monitoring return", today=today)


def _demo_bid(user: User, fund_year: FundYear, title: str, local_issue: str, where: str, theme: str,
              lines: list[tuple[str, int]], today: date, *, submit: bool) -> Bid:
    start = max(fund_year.opens_on, today)
    bid = Bid(
        organisation_id=user.organisation_id, fund_year_id=fund_year.id, created_by_id=user.id, title=title,
        local_issue=local_issue, activities=f"{title}: delivered with local police and partners.", location=where,
        theme=theme, start_date=start, end_date=fund_year.closes_on, outputs="Activities delivered as costed.",
        outcomes="Fewer reports of the issue in the area over the following six months.",
        other_funding="None", declaration=submit, declared_by=user.name if submit else "",
    )
    bid.budget_lines = [BudgetLine(position=i, item=item, amount_pence=amount) for i, (item, amount) in enumerate(lines)]
    db.session.add(bid)
    record_event(user, "bid.created", bid, to_state="draft", note="demo data")
    if submit:
        BID.apply("submit", user, bid, today, note="demo data")
        bid.submitted_at = utcnow()
    return bid
