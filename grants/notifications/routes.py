"""Notifications: each signed-in user's own emails, newest first, and one at a time.

Opening a notification (GET) marks it read. That GET is idempotent: one conditional UPDATE of the viewer's own
row sets read_at only while it is empty, so reloading, prefetching or a link followed from another site can do no
more than the person opening it would, and changes no grant record. Marking them all read is a POST (a form
with its CSRF token), since it changes rows the person has not looked at."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from grants.core.extensions import db
from grants.core.paging import page_number
from grants.notifications.queries import notification_or_404, notifications_page, unread_count
from grants.notifications.rules import mark_all_read, mark_read

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def unread_notifications() -> dict[str, Callable[[], int]]:
    """The header's count, as a function: the query runs only when a page shows it, and once a request however
    often it is shown (kept on `g`)."""
    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        if "unread_notifications" not in g:
            g.unread_notifications = unread_count(current_user)
        return int(g.unread_notifications)
    return {"unread_notifications": count}


@bp.route("/")
@login_required
def index() -> str:
    return render_template("notifications/index.html", page=notifications_page(current_user, page_number(request.args)))


@bp.route("/<int:message_id>")
@login_required
def view(message_id: int) -> str:
    message = notification_or_404(message_id, current_user)
    mark_read(message, current_user)
    db.session.commit()
    return render_template("notifications/view.html", message=message)


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all() -> Response:
    marked = mark_all_read(current_user)
    db.session.commit()
    if marked:
        flash(f"{marked} notification{'' if marked == 1 else 's'} marked as read.", "success")
    else:
        flash("You have no unread notifications.", "info")
    return redirect(url_for("notifications.index"))
