"""Rules for bids: what a complete bid needs, starting, saving, submitting and withdrawing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from grants.assessment.caps import per_applicant_cap_problem, per_bid_cap_problem
from grants.bids.lifecycle import BID
from grants.core import dates
from grants.core.audit import record_event
from grants.core.dates import format_date
from grants.core.extensions import db
from grants.core.lifecycle import changed_fields
from grants.core.models import Bid, BidSnapshot, BudgetLine, FundYear, User, utcnow
from grants.core.refusals import Refused
from grants.notifications.rules import bid_submitted

THEMES = {
    "asb": "Anti-social behaviour",
    "road_safety": "Road safety",
    "bike_theft": "Bike theft",
    "fly_tipping": "Fly tipping",
    "youth_diversion": "Youth diversion",
    "other": "Other",
}

# Text fields a bid needs before it can be submitted, with the message when empty.
REQUIRED_TEXT = {
    "title": "Enter a title for the bid",
    "local_issue": "Describe the local issue the bid answers",
    "activities": "Describe what will be done",
    "location": "Enter where the work will happen (area or ward)",
    "outputs": "Enter the expected outputs",
    "outcomes": "Enter the expected outcomes",
}
EDITABLE_FIELDS = (
    "title", "local_issue", "activities", "location", "theme", "start_date", "end_date",
    "outputs", "outcomes", "other_funding", "other_funding_pence", "declaration",
)
BUDGET = "budget_lines"  # key for problems with the costed budget as a whole
FUND = "fund"  # key for problems with the fund itself (closed)


@dataclass
class BudgetLineInput:
    item: str
    amount_pence: int
    kind: str = "revenue"  # or "capital"


def open_fund_years(today: date) -> list[FundYear]:
    return list(
        db.session.scalars(
            select(FundYear).where(FundYear.opens_on <= today, FundYear.closes_on >= today).order_by(FundYear.fund_id)
        )
    )


def fund_closed_problem(fund_year: FundYear, today: date) -> str | None:
    name = f"The {fund_year.fund.name} {fund_year.label}"
    if today < fund_year.opens_on:
        return f"{name} is not open for bids yet: it opens on {format_date(fund_year.opens_on)}"
    if today > fund_year.closes_on:
        return f"{name} is closed: it closed to bids on {format_date(fund_year.closes_on)}"
    return None


def start_bid(user: User, fund_year: FundYear, today: date) -> Bid:
    problem = fund_closed_problem(fund_year, today)
    if problem:
        raise Refused(problem)
    bid = Bid(organisation_id=user.organisation_id, fund_year_id=fund_year.id, created_by_id=user.id)
    db.session.add(bid)
    record_event(user, "bid.created", bid, to_state="draft", note=f"{fund_year.fund.name} {fund_year.label}")
    return bid


def edit_action(bid: Bid) -> str:
    """Changing a draft, or revising a bid the OPCC has asked more information about."""
    return "revise" if bid.status == "info_requested" else "edit"


def save_bid(bid: Bid, user: User, values: dict[str, Any], lines: list[BudgetLineInput],
             today: date | None = None) -> list[str]:
    """Store the applicant's answers; returns the names of the fields that changed."""
    action = edit_action(bid)
    BID.check(action, user, bid, today or dates.today())
    changed = [name for name in EDITABLE_FIELDS if name in values and getattr(bid, name) != values[name]]
    for name in changed:
        setattr(bid, name, values[name])
    old_lines = [(line.item, line.amount_pence, line.kind) for line in bid.budget_lines]
    new_lines = [(line.item, line.amount_pence, line.kind) for line in lines]
    if old_lines != new_lines:
        bid.budget_lines = [BudgetLine(position=i, item=item, amount_pence=amount, kind=kind)
                            for i, (item, amount, kind) in enumerate(new_lines)]
        changed.append("budget_lines")
    if changed:
        bid.declared_by = user.name if bid.declaration else ""
        # The note in the form's words, for history; the field names for anything that reads the details.
        BID.apply(action, user, bid, today or dates.today(), note=changed_fields(BID, changed),
                  details={"changed": changed})
    return changed


def submission_problems(bid: Bid, today: date) -> dict[str, str]:
    """Every reason the bid cannot be submitted yet, keyed by the field it belongs to."""
    problems: dict[str, str] = {}
    fund_year = bid.fund_year
    closed = fund_closed_problem(fund_year, today)
    if closed:
        problems[FUND] = closed
    for name, message in REQUIRED_TEXT.items():
        if not (getattr(bid, name) or "").strip():
            problems[name] = message
    if bid.theme not in THEMES:
        problems["theme"] = "Select the theme the bid addresses"
    if bid.start_date is None:
        problems["start_date"] = "Enter the start date"
    if bid.end_date is None:
        problems["end_date"] = "Enter the end date"
    elif bid.start_date and bid.end_date < bid.start_date:
        problems["end_date"] = "The end date must be the same as or after the start date"
    total = bid.requested_pence
    if not bid.budget_lines:
        problems[BUDGET] = "Add at least one costed item to the budget"
    elif total <= 0:
        problems[BUDGET] = "The budget total must be more than £0.00"
    else:
        cap = (per_bid_cap_problem(fund_year, total, reader="applicant")
               or per_applicant_cap_problem(fund_year, bid.organisation_id, total, reader="applicant"))
        if cap:
            problems[BUDGET] = cap
    if not bid.declaration:
        problems["declaration"] = "Confirm the declaration to submit the bid"
    return problems


def key_facts(bid: Bid) -> dict[str, Any]:
    """What a submission said, kept so later versions can be compared."""
    return {
        "title": bid.title,
        "requested_pence": bid.requested_pence,
        "start_date": bid.start_date.isoformat() if bid.start_date else None,
        "end_date": bid.end_date.isoformat() if bid.end_date else None,
        "location": bid.location,
        "theme": bid.theme,
        "budget_lines": [{"item": line.item, "amount_pence": line.amount_pence, "kind": line.kind}
                         for line in bid.budget_lines],
        "activities": bid.activities,
        "outcomes": bid.outcomes,
    }


def submit_bid(bid: Bid, user: User, today: date) -> dict[str, str]:
    """Submit if every rule passes; otherwise return the problems and change nothing."""
    action = "resubmit" if bid.status == "info_requested" else "submit"
    BID.check(action, user, bid, today)
    problems = submission_problems(bid, today)
    if problems:
        return problems
    BID.apply(action, user, bid, today)
    bid.submitted_at = utcnow()
    number = (db.session.scalar(select(func.max(BidSnapshot.submission_number)).where(BidSnapshot.bid_id == bid.id)) or 0) + 1
    db.session.add(BidSnapshot(bid_id=bid.id, submission_number=number, facts=key_facts(bid)))
    bid_submitted(bid, user, today, resubmitted=action == "resubmit")
    return {}


def withdraw_bid(bid: Bid, user: User, reason: str, today: date) -> None:
    if BID.refusal("withdraw", user, bid, today):
        raise Refused("A decision has been made on this bid, so it cannot be withdrawn")
    BID.apply("withdraw", user, bid, today, note=reason)
