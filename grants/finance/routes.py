"""Finance: the exports page, one download per export, and what is coming up (payments due, overdue returns)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from grants.core import dates
from grants.core.access import STAFF_ROLES, roles_required
from grants.core.dates import financial_year_start
from grants.core.downloads import made_by, send_workbook
from grants.finance.catalogue import EXPORTS, Settings, build, check_choices
from grants.finance.forms import ExportForm
from grants.finance.queries import overdue_returns, payments_due
from grants.finance.reports import export_years
from grants.repayments.lifecycle import REPAYMENT
from grants.repayments.queries import repayments_owed

bp = Blueprint("finance", __name__, url_prefix="/finance")

UPCOMING_DAYS = 30
# Export name -> endpoint of its download, one route per export.
ENDPOINTS = {
    "grants-register": "grants_register",
    "government-return": "government_return",
    "payments": "payments",
}


def _page(failed: ExportForm | None = None, status: int = 200) -> tuple[str, int]:
    today = dates.today()
    current = financial_year_start(today)
    owed = repayments_owed()
    forms = [failed if failed is not None and failed.spec is spec else ExportForm.blank(spec, current)
             for spec in EXPORTS.values()]
    return render_template(
        "finance/index.html", export_forms=forms, endpoints=ENDPOINTS, years=export_years(today), today=today,
        upcoming=payments_due(today, UPCOMING_DAYS), upcoming_days=UPCOMING_DAYS, overdue=overdue_returns(today),
        owed=owed,
        owed_actions={row.repayment.id: REPAYMENT.allowed(current_user, row.repayment, today) for row in owed.shown},
        extra_errors=failed.error_summary() if failed is not None else None,
    ), status


@bp.route("/")
@roles_required(*STAFF_ROLES)
def index() -> tuple[str, int]:
    return _page()


def _download(name: str) -> Response | tuple[str, int]:
    spec = EXPORTS[name]
    years = export_years(dates.today())
    args = request.args
    chosen, problems = check_choices(spec, args.get("year"), args.get("period"), args.get("source"), years)
    if chosen is None:
        # Bad or missing choices: the page again, each problem beside its field (never a 500).
        return _page(ExportForm.from_args(spec, args, problems), 400)
    return send_workbook(
        lambda out: build(chosen, out, settings=Settings.from_config(current_app.config), made_by=made_by()),
        chosen.filename, note=f"{spec.title} {chosen.period_label}", details=chosen.audit_details())


@bp.route("/exports/grants-register.xlsx")
@roles_required(*STAFF_ROLES)
def grants_register() -> Response | tuple[str, int]:
    return _download("grants-register")


@bp.route("/exports/government-return.xlsx")
@roles_required(*STAFF_ROLES)
def government_return() -> Response | tuple[str, int]:
    return _download("government-return")


@bp.route("/exports/payments.xlsx")
@roles_required(*STAFF_ROLES)
def payments() -> Response | tuple[str, int]:
    return _download("payments")

