"""Demo data: the six CSPs, the OPCC, two funds, one user per role, a few bids. Safe to run again."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from grants.agreements import conditions
from grants.agreements.rules import AgreementTerms, accept, activate, end_agreement, issue, prepare_agreement
from grants.assessment.rules import (
    CRITERIA,
    AssessmentInput,
    award_for,
    decide_award,
    record_assessment,
    request_information,
)
from grants.bids.lifecycle import BID
from grants.bids.rules import submit_bid
from grants.core import dates
from grants.core.access import STAFF_ROLES
from grants.core.audit import record_event
from grants.core.dates import LONDON, financial_year_bounds, financial_year_start, quarters
from grants.core.extensions import db
from grants.core.models import (
    DEFAULT_FREQUENCY,
    Bid,
    BudgetLine,
    Fund,
    FundYear,
    GrantAgreement,
    MonitoringReturn,
    Organisation,
    OutcomeMeasure,
    Repayment,
    User,
    utcnow,
)
from grants.core.passwords import hash_password
from grants.monitoring.measures import load_standard_set
from grants.monitoring.rules import ReturnAnswers, review
from grants.monitoring.rules import submit as submit_return
from grants.payments.rules import record_paid, schedule_payment
from grants.repayments.rules import Receipt, record_receipt

DEMO_PASSWORD = "demo-password-2025"
# Staff sign in with a second factor: every demo staff user shares this published authenticator key
# (base32), so a tester can add it to any authenticator app or run `oathtool --totp -b <key>`.
DEMO_TOTP_SECRET = "OPCCGRANTSDEMOSTAFFTWOSTEPCODES2"

# A CSP holds its grants through its lead council, so it is published under the council's org-id
# (Local Authorities in England register), at the council's postcode, serving the council's district.
CSPS = [
    ("Cambridge City Community Safety Partnership", "GB-LAE-CAB", "CB2 1BY", "E07000008", "Cambridge"),
    ("East Cambridgeshire CSP", "GB-LAE-ECA", "CB7 4EE", "E07000009", "East Cambridgeshire"),
    ("Fenland CSP", "GB-LAE-FEN", "PE15 8NQ", "E07000010", "Fenland"),
    ("Huntingdonshire CSP", "GB-LAE-HUN", "PE29 3TN", "E07000011", "Huntingdonshire"),
    ("Safer Peterborough Partnership", "GB-LAE-PTE", "PE2 8TY", "E06000031", "Peterborough"),
    ("South Cambridgeshire CSP", "GB-LAE-SCA", "CB23 6EA", "E07000012", "South Cambridgeshire"),
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
    {
        "name": "Victims' Services Fund",
        "description": "Ministry of Justice victims' services grant: support for victims to cope and recover.",
        "funding_source": "moj",
        "budget": 150_000_00,
        "per_bid_cap": 50_000_00,
        "per_applicant_cap": None,
        "delegation_limit": 50_000_00,
        "measures": "moj-victims",
    },
    {
        "name": "Safer Streets Fund",
        "description": "Home Office Safer Streets: crime prevention in neighbourhoods, reported quarterly.",
        "funding_source": "home_office",
        "budget": 200_000_00,
        "per_bid_cap": 60_000_00,
        "per_applicant_cap": None,
        "delegation_limit": 60_000_00,
        "measures": "home-office-crime",
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


def _get_or_create(model: type[Any], defaults: dict[str, Any], **keys: object) -> Any:
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
        name: _get_or_create(Organisation, {"org_type": "csp", "org_identifier": code, "postcode": postcode,
                                            "district_code": district, "district_name": district_name}, name=name)
        for name, code, postcode, district, district_name in CSPS
    }
    orgs[OPCC] = _get_or_create(Organisation, {"org_type": "opcc", "org_identifier": None}, name=OPCC)
    # The standard conditions' version 1 (the migrations add it; a schema built without them gets it here).
    conditions.for_new_agreement(today)

    current = financial_year_start(today)
    monitored = financial_year_start(today - timedelta(days=120))  # a year with returns already due
    years = sorted({2025, monitored, current})
    fund_years: dict[tuple[str, int], FundYear] = {}
    for spec in FUNDS:
        source = str(spec["funding_source"])
        fund = _get_or_create(
            Fund, {"description": spec["description"], "funding_source": source,
                   "reporting_frequency": DEFAULT_FREQUENCY[source]}, name=spec["name"]
        )
        if spec.get("measures"):
            load_standard_set(fund, str(spec["measures"]), None)
        for year in years:
            opens, closes = financial_year_bounds(year)
            fund_years[(str(spec["name"]), year)] = _get_or_create(
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
        if role in STAFF_ROLES and not users[email].totp_secret:
            users[email].totp_secret = DEMO_TOTP_SECRET
            users[email].totp_confirmed_at = utcnow()

    if db.session.scalar(select(Bid.id).limit(1)) is None:
        scf = fund_years[("Safer Communities Fund", current)]
        youth = fund_years[("Youth Fund", current)]
        funded = _demo_bid(users["applicant@cambridge-csp.example"], scf, "Cycle-marking kits for Mill Road",
                           "Bike theft around Mill Road and the station", "Petersfield", "bike_theft",
                           [("Cycle-marking kits (40)", 1_600_00), ("Event staff", 400_00)], today, submit=True)
        cameras = _demo_bid(users["applicant@fenland-csp.example"], scf, "Fly-tipping cameras in Wisbech",
                            "Repeated fly tipping on rural lanes", "Wisbech North", "fly_tipping",
                            [("Two deployable cameras", 3_200_00), ("Signage", 450_00)], today, submit=True)
        winter = _demo_bid(users["applicant@fenland-csp.example"], youth, "Winter evening youth sessions",
                  "Anti-social behaviour by young people in March town centre", "March East", "youth_diversion",
                  [("Portable outdoor lights", 1_200_00), ("Youth worker hours", 2_300_00)], today, submit=True)
        _demo_bid(users["applicant@cambridge-csp.example"], youth, "Street-based youth work (draft)",
                  "ASB at Arbury Court", "Arbury", "youth_diversion", [("Youth worker hours", 2_000_00)], today, submit=False)
        _demo_grant(funded, users, today)
        _demo_dashboard_work(users, scf, cameras, winter, today)
        _demo_government_grants(fund_years, monitored, users, today)
        _demo_ended_grant(fund_years[("Youth Fund", monitored)], users, today)
    db.session.commit()


def _demo_dashboard_work(users: dict[str, User], scf: FundYear, cameras: Bid, winter: Bid, today: date) -> None:
    """Something on each dashboard: a bid that came back with the information asked for (the officer's), one still
    waiting for an answer and a draft (the applicant's), and an award recommended above the delegation limit (the
    approver's)."""
    officer, applicant = users["officer@opcc.example"], users["applicant@fenland-csp.example"]
    db.session.flush()
    assert request_information(cameras, officer, "Where will the cameras be placed, and who reviews the footage?",
                               today) == {}
    assert submit_bid(cameras, applicant, today) == {}
    taxis = _demo_bid(applicant, scf, "Taxi marshals in Wisbech", "Disorder at the taxi rank late on Saturdays",
                      "Wisbech town centre", "asb", [("Marshal hours", 1_800_00)], today, submit=True)
    db.session.flush()
    assert request_information(taxis, officer, "Which nights would the marshals work?", today) == {}
    _demo_bid(applicant, scf, "Shop-watch radios for March (draft)", "Shoplifting in March town centre",
              "March", "asb", [("Radios (10)", 1_200_00)], today, submit=False)
    record_assessment(winter, officer, AssessmentInput(
        scores={key: 4 for key in CRITERIA}, comments="Strong local support.", recommended_pence=winter.requested_pence,
        conflict_of_interest=False, conflict_details="", organisation_checked=True,
        due_diligence_notes="Statutory partnership.", fraud_risk="low", fraud_risk_reasons="Known partner."), today)
    outcome, problems = decide_award(winter, officer, winter.requested_pence, "Lit, supervised sessions give young "
                                     "people somewhere to go on winter evenings.", today,
                                     public_summary="Winter evening youth sessions in March town centre.")
    assert outcome is not None and winter.status == "recommended", problems


def _demo_grant(bid: Bid, users: dict[str, User], today: date) -> None:
    """Take one bid through the whole life cycle with the same rules the pages use: assessed, awarded,
    agreement issued, accepted and started, a first payment made."""
    finance = users["finance@opcc.example"]
    agreement = _take_through_award(
        bid, users, today, "Marked bikes are less attractive to thieves and easier to return to their owners, so "
        "cycle marking reduces bike theft around Mill Road.",
        "Security marking and registration of 200 bicycles at community events around Mill Road, Cambridge.",
        "Mark at least 200 bikes by the end date.")
    half = agreement.amount_pence // 2
    payment, _ = schedule_payment(agreement, finance, half, today, "First half on acceptance", today=today)
    if payment is not None:
        record_paid(payment, finance, today, "AP-DEMO-0001", today)
    schedule_payment(agreement, finance, agreement.amount_pence - half, agreement.end_date,
                     "Second half after the first monitoring return", today=today)


def _demo_ended_grant(fund_year: FundYear, users: dict[str, User], today: date) -> None:
    """A grant that ran for the first four months of the fund-year, paid in full and reported on, then closed
    with its underspend to be repaid, part of which has come back."""
    officer, finance = users["officer@opcc.example"], users["finance@opcc.example"]
    applicant = users["applicant@fenland-csp.example"]
    start = fund_year.opens_on
    end = start + timedelta(days=119)  # before today: the fund-year began at least 120 days ago
    lines = [("Football coaching sessions", 1_500_00, "revenue"), ("Kit and portable goals", 900_00, "capital")]
    bid = _demo_bid(applicant, fund_year, "Friday night football in Whittlesey",
                    "Anti-social behaviour by young people on Friday evenings", "Whittlesey", "youth_diversion",
                    [(item, pence) for item, pence, _kind in lines], start, submit=True)
    for line, (_item, _pence, kind) in zip(bid.budget_lines, lines, strict=True):
        line.kind = kind
    bid.start_date, bid.end_date = start, end
    agreement = _take_through_award(bid, users, start, "Coached sessions give young people somewhere to be on the "
                                    "evenings when anti-social behaviour peaks.",
                                    "Friday night football sessions for young people in Whittlesey.")
    half = agreement.amount_pence // 2
    for n, (amount, due) in enumerate(((half, start), (agreement.amount_pence - half, start + timedelta(days=30)))):
        payment, problems = schedule_payment(agreement, finance, amount, due, f"Instalment {n + 1}", today=start)
        assert payment is not None, problems
        record_paid(payment, finance, due, f"AP-DEMO-{agreement.id:03d}-{n + 1}", today)
    # The grantee reports £300 of the coaching budget unspent; the officer accepts the return.
    ret = agreement.returns[0]
    on = min(ret.period_end + timedelta(days=10), today)
    spend = {line.id: f"{(line.amount_pence - (300_00 if line.kind == 'revenue' else 0)) // 100}"
             for line in bid.budget_lines}
    answers = ReturnAnswers(progress="Sixteen Friday sessions held, 35 young people on average.",
                            challenges="Two sessions lost to the weather; their coaching was not needed.",
                            rag="green", measures={}, spend=spend)
    assert submit_return(ret, applicant, answers, on) == {}
    review(ret, officer, "accepted", "Thank you: the unspent £300.00 is to be repaid.", on, "green")
    problems = end_agreement(agreement, officer, "closed", "Sessions finished; £300.00 of the coaching budget was "
                             "not spent and is to be repaid.", 300_00, today)
    assert problems == {}, problems
    repayment = db.session.scalar(select(Repayment).where(Repayment.agreement_id == agreement.id))
    assert repayment is not None
    assert record_receipt(repayment, finance, Receipt(100_00, today, "AR-DEMO-0001"), today) == {}


def _take_through_award(bid: Bid, users: dict[str, User], on: date, reasons: str, summary: str,
                        special: str = "") -> GrantAgreement:
    """Assessed, awarded in full, agreement prepared, issued, accepted and started, all on the day `on`."""
    officer = users["officer@opcc.example"]
    applicant = bid.created_by
    db.session.flush()
    record_assessment(bid, officer, AssessmentInput(
        scores={key: 4 for key in CRITERIA}, comments="Clear plan with the neighbourhood policing team.",
        recommended_pence=bid.requested_pence, conflict_of_interest=False, conflict_details="",
        organisation_checked=True, due_diligence_notes="Statutory partnership; bank details match our records.",
        fraud_risk="low", fraud_risk_reasons="Long-standing partner with a good record of delivery.",
    ), on)
    outcome, problems = decide_award(bid, officer, bid.requested_pence, reasons, on, public_summary=summary)
    assert outcome is not None, problems
    award = award_for(bid)
    assert award is not None
    agreement, _ = prepare_agreement(award, officer, AgreementTerms(bid.start_date, bid.end_date, special))
    assert agreement is not None
    issue(agreement, officer, on)
    accept(agreement, applicant, applicant.name, "Community Safety Manager", True, on)
    activate(agreement, officer, on)
    # The demo tells a story that started on `on`: the agreement's times say so too.
    agreement.accepted_at = agreement.activated_at = award.approved_at = datetime.combine(on, time(9, 0), tzinfo=LONDON)
    return agreement


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


# Grants paid for by government departments, with a year of monitoring so the returns have figures in them.
GOVERNMENT_GRANTS = [
    # fund, applicant, title, issue, area, theme, budget lines (item, pence, kind), returns left undone, summary
    ("Victims' Services Fund", "applicant@cambridge-csp.example", "Independent victim advocates",
     "Victims of domestic abuse and stalking wait weeks for specialist support", "Cambridge", "other",
     [("Advocate salaries", 20_000_00, "revenue"), ("Secure case-management laptops", 4_000_00, "capital")], 0,
     "Independent advocates giving specialist support to victims of domestic abuse and stalking in Cambridge."),
    ("Safer Streets Fund", "applicant@fenland-csp.example", "Wisbech town-centre safety",
     "Burglary and theft from vehicles around Wisbech town centre", "Wisbech", "asb",
     [("Alley gates and lighting", 24_000_00, "capital"), ("Target-hardening visits", 16_000_00, "revenue")], 0,
     "Alley gates, street lighting and home security visits against burglary and vehicle crime in Wisbech."),
    ("Safer Streets Fund", "applicant@cambridge-csp.example", "Mill Road cycle security",
     "Cycle theft and vehicle crime along Mill Road", "Petersfield", "bike_theft",
     [("Secure cycle parking", 10_000_00, "capital"), ("Crime prevention officer hours", 8_000_00, "revenue")], 1,
     "Secure cycle parking and crime prevention patrols against cycle theft along Mill Road, Cambridge."),
]


def _demo_government_grants(fund_years: dict[tuple[str, int], FundYear], year: int, users: dict[str, User],
                            today: date) -> None:
    """Each grant runs for the financial year `year`; every return already past its due date is submitted and
    accepted, except the last `undone` of them, left overdue for the reminders to find."""
    officer = users["officer@opcc.example"]
    start, end = financial_year_bounds(year)
    for fund_name, email, title, issue_text, area, theme, lines, undone, summary in GOVERNMENT_GRANTS:
        applicant = users[email]
        bid = _demo_bid(applicant, fund_years[(fund_name, year)], title, issue_text, area, theme,
                        [(item, pence) for item, pence, _kind in lines], start, submit=True)
        for line, (_item, _pence, kind) in zip(bid.budget_lines, lines, strict=True):
            line.kind = kind
        bid.start_date, bid.end_date = start, end
        agreement = _take_through_award(bid, users, start, f"{title} reduces harm to victims and crime in {area}.",
                                        summary)
        _pay_quarterly(agreement, users["finance@opcc.example"], start, today)
        past = [ret for ret in agreement.returns if ret.due_on < today]
        for number, ret in enumerate(past[:len(past) - undone] if undone else past):
            _demo_return(ret, applicant, officer, number)


def _pay_quarterly(agreement: GrantAgreement, finance: User, start: date, today: date) -> None:
    """A payment due at the start of each quarter (not in advance of need); those already due are paid."""
    quarter = agreement.amount_pence // 4
    for n, period in enumerate(quarters(financial_year_start(start))):
        due = period.start
        amount = quarter if n < 3 else agreement.amount_pence - 3 * quarter
        payment, _ = schedule_payment(agreement, finance, amount, due, f"Quarter {n + 1}", today=start)
        if payment is not None and due <= today:
            record_paid(payment, finance, due, f"AP-DEMO-{agreement.id:03d}-{n + 1}", today)


# Plausible figures for a period: more referred than supported, each need a part of those supported.
DEMO_COUNTS = {"Victims referred": 48, "Victims supported": 36,
               "Victims who report being better able to cope and recover": 22,
               "People reached by interventions": 140, "Homes or places made safer": 30, "Sessions delivered": 12}


def _demo_value(measure: OutcomeMeasure, number: int) -> str:
    if measure.unit == "yes_no":
        return "yes"
    if measure.unit == "percentage":
        return str(62 + 6 * number)
    if measure.unit == "money":
        return "250"
    return str(DEMO_COUNTS.get(measure.name, 4 + 2 * (measure.position % 5)) + 3 * number)


def _demo_return(ret: MonitoringReturn, applicant: User, officer: User, number: int) -> None:
    """Answers with figures for each measure and spend against each budget line, submitted then accepted."""
    on = ret.period_end + timedelta(days=10)
    measures = {m.id: _demo_value(m, number) for m in ret.agreement.bid.fund_year.fund.measures}
    share = 4 if ret.period_name.startswith("Q") else 2
    spend = {line.id: f"{line.amount_pence // share // 100}" for line in ret.agreement.bid.budget_lines}
    answers = ReturnAnswers(progress="Delivered as planned with the neighbourhood policing team.",
                            challenges="Recruitment took a month longer than planned." if number == 0 else "",
                            rag="green" if number else "amber", measures=measures, spend=spend)
    problems = submit_return(ret, applicant, answers, on)
    assert not problems, problems
    review(ret, officer, "accepted", "Thank you: figures checked against the case records.", on, "green")
