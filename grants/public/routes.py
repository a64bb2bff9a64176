"""Pages and files anyone may read, signed in or not: the grants awarded, each grant, and the 360Giving data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file, stream_with_context
from sqlalchemy import select

from exports.threesixty_giving import OGL, OGL_NAME, PackageInfo, build_360giving, json_package
from exports.workbook import SPREADSHEET_MIME, PeriodLike
from grants.core.dates import FINANCIAL_MONTHS, financial_year_label, whole_year
from grants.core.downloads import built_file
from grants.core.extensions import db
from grants.core.models import Fund
from grants.core.page_cache import public_page
from grants.core.paging import ID_RANGE, page_number, query_number
from grants.public.publication import publisher
from grants.public.queries import (
    GrantFilters,
    award_span,
    award_years,
    count_published,
    iter_published,
    published_grant,
    published_page,
)

bp = Blueprint("public", __name__)

MONTHS = [(m, datetime(2000, m, 1).strftime("%B")) for m in FINANCIAL_MONTHS]
ALL_YEARS = "all-years"
_YEAR_NAME = re.compile(r"^(\d{4})-(\d{2})$")


def _filters(args: Mapping[str, str], years: list[int]) -> GrantFilters:
    """The filters asked for; anything malformed or unknown is left out rather than refused."""
    year = query_number(args, "year", range(years[-1], years[0] + 1)) if years else None
    month = query_number(args, "month", range(1, 13)) if year is not None else None
    return GrantFilters(year=year, month=month, fund_id=query_number(args, "fund", ID_RANGE))


@bp.route("/grants-awarded")
@public_page
def grants_awarded() -> str:
    years = award_years()
    filters = _filters(request.args, years)
    page = published_page(filters, page_number(request.args))
    funds = db.session.execute(select(Fund.id, Fund.name).order_by(Fund.name)).all()
    args = {k: v for k, v in (("year", filters.year), ("month", filters.month), ("fund", filters.fund_id)) if v}
    return render_template(
        "public/grants_awarded.html", page=page, filters=filters, args=args,
        year_options=[(y, financial_year_label(y)) for y in years], month_options=MONTHS,
        fund_options=[(f.id, f.name) for f in funds], downloads=[(financial_year_label(y), y) for y in years],
        licence=(OGL_NAME, OGL))


@bp.route("/grants-awarded/<int:bid_id>")
@public_page
def grant(bid_id: int) -> str:
    found = published_grant(bid_id)
    if found is None:
        abort(404)
    grant, conditions = found
    return render_template("public/grant.html", grant=grant, conditions=conditions)


def _open_data(name: str) -> tuple[GrantFilters, PeriodLike]:
    """The filters for a file's name ("2026-27" or "all-years") and the period it covers; 404 for any other
    name, and for a period with no grants (the standard asks for at least one grant in a file)."""
    span = award_span()
    match = _YEAR_NAME.match(name)
    filters: GrantFilters
    period: PeriodLike
    if span is not None and name == ALL_YEARS:
        filters, period = GrantFilters(), span
    elif span is not None and match and financial_year_label(int(match[1])) == name:
        filters, period = GrantFilters(year=int(match[1])), whole_year(int(match[1]))
    else:
        abort(404)
    if not count_published(filters):
        abort(404)
    return filters, period


@bp.route("/open-data/360giving/<name>.json")
def threesixty_json(name: str) -> Response:
    filters, period = _open_data(name)
    label = period.label.lower() if name == ALL_YEARS else period.label
    made_at = datetime.now(UTC)
    pub = publisher(current_app.config, request.host_url)
    info = PackageInfo(
        title=f"{pub.name}: grants awarded, {label}",
        description=f"Every grant the Police and Crime Commissioner awarded, {label}, in the 360Giving Data Standard.",
        identifier=f"{pub.prefix}-{name}", made_at=made_at, download_url=request.base_url,
        access_url=request.host_url.rstrip("/") + "/grants-awarded")
    chunks = json_package(iter_published(filters), pub, info)
    return Response(stream_with_context(chunks), mimetype="application/json",
                    headers={"Content-Disposition": f'inline; filename="360giving-{name}.json"'})


@bp.route("/open-data/360giving/<name>.xlsx")
def threesixty_xlsx(name: str) -> Response:
    filters, period = _open_data(name)
    out, _rows = built_file(lambda out: build_360giving(
        iter_published(filters), out, period=period, publisher=publisher(current_app.config, request.host_url),
        made_at=datetime.now(UTC)))
    return send_file(out, mimetype=SPREADSHEET_MIME, as_attachment=True, download_name=f"360giving-{name}.xlsx")
