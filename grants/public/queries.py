"""What the commissioner publishes about each grant (Specified Information Order 2011, Schedule para 3(f))."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from grants.core.extensions import db
from grants.core.models import Award, Bid, FundYear


@dataclass
class PublishedGrant:
    reference: str
    recipient: str
    fund: str
    year: str
    purpose: str
    amount_pence: int
    awarded_at: datetime
    reasons: str


def published_grants() -> list[PublishedGrant]:
    """Every approved award, newest first: recipient, purpose, amount and the reasons, as written."""
    awards = db.session.scalars(
        select(Award)
        .options(joinedload(Award.bid), joinedload(Award.organisation),
                 joinedload(Award.fund_year).joinedload(FundYear.fund))
        .join(Bid, Award.bid_id == Bid.id)
        .where(Bid.status == "approved")
        .order_by(Award.approved_at.desc(), Award.id.desc())
    )
    return [
        PublishedGrant(
            reference=award.bid.reference, recipient=award.organisation.name, fund=award.fund_year.fund.name,
            year=award.fund_year.label, purpose=f"{award.bid.title}: {award.bid.activities}",
            amount_pence=award.amount_pence, awarded_at=award.approved_at, reasons=award.reasons,
        )
        for award in awards
    ]
