"""Finding variations a user may see."""

from __future__ import annotations

from sqlalchemy import select

from grants.agreements.queries import can_see_agreement
from grants.core.access import visible_or_404
from grants.core.extensions import db
from grants.core.models import AgreementVariation, GrantAgreement, User
from grants.variations.lifecycle import VISIBLE_TO_GRANTEE


def can_see_variation(user: User, variation: AgreementVariation) -> bool:
    """Staff see every variation; a grantee sees those offered to it, and what became of them."""
    if not can_see_agreement(user, variation.agreement):
        return False
    return user.role != "applicant" or variation.status in VISIBLE_TO_GRANTEE


def variation_or_404(variation_id: int, user: User) -> AgreementVariation:
    return visible_or_404(AgreementVariation, variation_id, user, can_see_variation)


def visible_variations(user: User, agreement: GrantAgreement) -> list[AgreementVariation]:
    """The agreement's variations this user may see, in order."""
    found = db.session.scalars(select(AgreementVariation).where(AgreementVariation.agreement_id == agreement.id)
                               .order_by(AgreementVariation.number))
    return [variation for variation in found if can_see_variation(user, variation)]
