"""Who may reach what: role checks for views, and the one way a view loads a record a user may see."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from grants.core.extensions import db
from grants.core.models import User

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")

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


def visible_or_404(model: type[M], record_id: int, user: User, can_see: Callable[[User, M], bool]) -> M:
    """The record if this user may see it; otherwise 404, so other organisations' records are not even
    confirmed to exist."""
    record = db.session.get(model, record_id)
    if record is None or not can_see(user, record):
        abort(404)
    return record
