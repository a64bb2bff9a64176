"""Finding agreements a user may see."""

from __future__ import annotations

from grants.agreements.lifecycle import VISIBLE_TO_GRANTEE
from grants.core.access import STAFF_ROLES, visible_or_404
from grants.core.models import Bid, GrantAgreement, User


def can_see_agreement(user: User, agreement: GrantAgreement) -> bool:
    """Staff see every agreement; a grantee sees its own once issued (a draft is the OPCC's own until then)."""
    if user.role == "applicant":
        return agreement.organisation_id == user.organisation_id and agreement.status in VISIBLE_TO_GRANTEE
    return user.role in STAFF_ROLES


def agreement_or_404(agreement_id: int, user: User) -> GrantAgreement:
    return visible_or_404(GrantAgreement, agreement_id, user, can_see_agreement)


def paid_pence(agreement: GrantAgreement) -> int:
    """What has been paid to the grantee so far."""
    return sum(p.amount_pence for p in agreement.payments if p.status == "paid")


def agreement_for_bid(bid: Bid) -> GrantAgreement | None:
    return bid.agreement
