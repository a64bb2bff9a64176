"""Who may reach what: role checks for views and record scoping for applicants."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from grants.agreement_rules import VISIBLE_TO_GRANTEE
from grants.extensions import db
from grants.models import Bid, GrantAgreement, MonitoringReturn, Payment, User

F = TypeVar("F", bound=Callable[..., Any])

STAFF_ROLES = ("officer", "approver", "finance", "admin")


def roles_required(*roles: str) -> Callable[[F], F]:
    """Signed-out users go to sign in; signed-in users of another role get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def can_see_bid(user: User, bid: Bid) -> bool:
    if user.role == "applicant":
        return user.organisation_id is not None and bid.organisation_id == user.organisation_id
    return user.role in STAFF_ROLES


def bid_or_404(bid_id: int, user: User) -> Bid:
    """The bid if this user may see it; otherwise 404, so other organisations' bids are not even confirmed to exist."""
    bid = db.session.get(Bid, bid_id)
    if bid is None or not can_see_bid(user, bid):
        abort(404)
    return bid


def can_see_agreement(user: User, agreement: GrantAgreement) -> bool:
    """Staff see every agreement; a grantee sees its own once issued (a draft is the OPCC's own until then)."""
    if user.role == "applicant":
        return agreement.organisation_id == user.organisation_id and agreement.status in VISIBLE_TO_GRANTEE
    return user.role in STAFF_ROLES


def agreement_or_404(agreement_id: int, user: User) -> GrantAgreement:
    agreement = db.session.get(GrantAgreement, agreement_id)
    if agreement is None or not can_see_agreement(user, agreement):
        abort(404)
    return agreement


def payment_or_404(payment_id: int, user: User) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None or user.role not in STAFF_ROLES:
        abort(404)
    return payment


def return_or_404(return_id: int, user: User) -> MonitoringReturn:
    ret = db.session.get(MonitoringReturn, return_id)
    if ret is None:
        abort(404)
    agreement_or_404(ret.agreement_id, user)
    return ret
