"""The emails a bid's submission sends, and marking a user's notifications read.

Submitting (or resubmitting after an information request) tells the officers there is a bid to assess and gives
the applicant who submitted it a receipt of their answers. Reading a notification changes nothing of a grant's
record, so it writes no audit event: it only sets the message's read_at, once."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy import select, update

from grants.bids.lifecycle import conflict_of_interest
from grants.core.dates import format_date
from grants.core.extensions import db
from grants.core.mail import email_user
from grants.core.models import BUDGET_KINDS, Bid, OutboxEmail, User, utcnow
from grants.core.money import format_money


def page_link(endpoint: str, **values: Any) -> str:
    """A page's full address for an email: on the site's public address (config PUBLIC_BASE_URL) when set, else
    on the address the request came to; outside a request with neither, just the path."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base or not has_request_context():
        return base + current_app.url_map.bind("localhost").build(endpoint, values)
    return url_for(endpoint, _external=True, **values)


def officers_to_tell(bid: Bid, today: date) -> list[User]:
    """Every active officer who may assess the bid: not those of the bidding organisation nor those who have
    declared a conflict of interest in it (they take no further part, grants.bids.lifecycle)."""
    officers = db.session.scalars(select(User).where(User.role == "officer", User.active.is_(True))
                                  .order_by(User.email)).all()
    return [officer for officer in officers if conflict_of_interest(officer, bid, today) is None]


def _facts(bid: Bid) -> list[str]:
    fund_year = bid.fund_year
    return [
        f"Reference: {bid.reference}",
        f"Title: {bid.title}",
        f"Organisation: {bid.organisation.name}",
        f"Fund: {fund_year.fund.name} {fund_year.label}",
        f"Amount asked for: {format_money(bid.requested_pence)}",
    ]


def tell_officers(bid: Bid, today: date, *, resubmitted: bool) -> list[OutboxEmail]:
    """Email each officer who may assess the bid that it is waiting for them, with a link to its page."""
    organisation = bid.organisation.name
    if resubmitted:
        subject = f"{bid.reference}: more information from {organisation}"
        opening = f"{organisation} has sent the more information asked for and resubmitted its bid."
    else:
        subject = f"{bid.reference}: new bid from {organisation}"
        opening = f"{organisation} has sent a new bid to assess."
    body = "\n".join([opening, "", *_facts(bid), "", f"Assess it: {page_link('assessment.bid', bid_id=bid.id)}"])
    return [email_user(officer, subject, body) for officer in officers_to_tell(bid, today)]


def receipt_body(bid: Bid, *, resubmitted: bool) -> str:
    """The applicant's copy of what they sent: the key answers, the budget with its total, and what happens next."""
    fund_year = bid.fund_year
    lines = [
        ("Thank you: we have received the more information you sent and your bid is resubmitted."
         if resubmitted else "Thank you: we have received your bid."),
        "",
        "What you sent",
        "",
        f"Reference: {bid.reference}",
        f"Fund: {fund_year.fund.name} {fund_year.label}",
        f"Title: {bid.title}",
        f"Organisation: {bid.organisation.name}",
        f"Where: {bid.location}",
        f"Amount asked for: {format_money(bid.requested_pence)}",
        f"Start date: {format_date(bid.start_date)}",
        f"End date: {format_date(bid.end_date)}",
        "",
        "Budget",
        "",
        *[f"- {line.item} ({BUDGET_KINDS.get(line.kind, line.kind).lower()}): {format_money(line.amount_pence)}"
          for line in bid.budget_lines],
        f"Total: {format_money(bid.requested_pence)}",
        "",
        "What happens next",
        "",
        "A commissioning officer at the OPCC will assess your bid. They may ask you for more information; you will "
        "be emailed when they do, and when the bid is decided. You cannot change the bid while it is being "
        "assessed, but you can withdraw it until a decision is made.",
        "",
        f"See your bid: {page_link('bids.view', bid_id=bid.id)}",
    ]
    return "\n".join(lines)


def send_receipt(bid: Bid, user: User, *, resubmitted: bool) -> OutboxEmail:
    """The receipt goes to the person who submitted, whoever at the organisation that is."""
    subject = f"{bid.reference}: your {'updated ' if resubmitted else ''}bid has been received"
    return email_user(user, subject, receipt_body(bid, resubmitted=resubmitted))


def bid_submitted(bid: Bid, user: User, today: date, *, resubmitted: bool) -> None:
    """Everything a submission sends, in the caller's transaction (so nothing is sent if it rolls back)."""
    tell_officers(bid, today, resubmitted=resubmitted)
    send_receipt(bid, user, resubmitted=resubmitted)


def mark_read(message: OutboxEmail, user: User) -> bool:
    """Record that the recipient has opened the message; True the first time. One conditional UPDATE, so opening
    it again (or twice at once) keeps the first time and changes nothing."""
    done = db.session.execute(update(OutboxEmail).where(OutboxEmail.id == message.id,
                                                        OutboxEmail.recipient_id == user.id,
                                                        OutboxEmail.read_at.is_(None))
                              .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return bool(getattr(done, "rowcount", 0))


def mark_all_read(user: User) -> int:
    """Mark every unread notification of this user read; returns how many."""
    done = db.session.execute(update(OutboxEmail).where(OutboxEmail.recipient_id == user.id,
                                                        OutboxEmail.read_at.is_(None))
                              .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(getattr(done, "rowcount", 0))
