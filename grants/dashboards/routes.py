"""The dashboard each role lands on after signing in: one page, its figures chosen by the role."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from grants.admin.queries import audit_rows
from grants.core.access import roles_required
from grants.core.dates import today
from grants.core.models import ROLES
from grants.core.money import format_money
from grants.dashboards import queries
from grants.dashboards.charts import BLUE, GREEN, PURPLE, Group, Series, bar_chart, describe

bp = Blueprint("dashboards", __name__, url_prefix="/dashboard")

MONEY_SERIES = (Series("Budget", BLUE), Series("Committed", PURPLE), Series("Paid", GREEN))


def _finance_chart(dashboard: queries.FinanceDashboard) -> str:
    groups = [Group(row.name, (row.budget_pence, row.committed_pence, row.paid_pence)) for row in dashboard.fund_years]
    return bar_chart("fund-year-money", "Budget, committed and paid by fund-year",
                     describe(MONEY_SERIES, groups, format_money), MONEY_SERIES, groups, format_money)


def _users_chart(dashboard: queries.AdminDashboard) -> str:
    series = (Series("Active users", BLUE),)
    groups = [Group(row.name, (row.active,)) for row in dashboard.roles]
    return bar_chart("users-by-role", "Active users by role", describe(series, groups), series, groups)


@bp.route("/")
@roles_required(*ROLES)
def index() -> str:
    user = current_user
    on = today()
    if user.role == "applicant":
        items = queries.applicant_dashboard(user.organisation_id or 0, on)
        return render_template("dashboards/applicant.html", items=items)
    if user.role == "officer":
        return render_template("dashboards/officer.html", items=queries.officer_dashboard(on))
    if user.role == "approver":
        return render_template("dashboards/approver.html", items=queries.approver_dashboard(user))
    if user.role == "finance":
        finance = queries.finance_dashboard(on)
        return render_template("dashboards/finance.html", dashboard=finance, chart=_finance_chart(finance), today=on)
    admin = queries.admin_dashboard(on, current_app.config)
    return render_template("dashboards/admin.html", dashboard=admin, chart=_users_chart(admin),
                           recent=audit_rows(admin.recent))
