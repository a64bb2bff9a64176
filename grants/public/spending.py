"""Public pages and downloads of grant payments over £500 (Specified Information Order 2011, Schedule para 3(g)).

Anyone may read them, signed in or not. Query values that make no sense are ignored (the page shows the
current financial year, all months, page 1), never an error.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file, stream_with_context

from exports.spending import build_spending, spending_csv
from exports.threesixty_giving import OGL, OGL_NAME
from exports.workbook import SPREADSHEET_MIME
from grants.core import dates
from grants.core.dates import financial_year_label, financial_year_start, format_month, months_of, whole_year
from grants.core.downloads import built_file
from grants.core.page_cache import public_page
from grants.core.paging import page_number, query_number
from grants.public.spending_queries import (
    PAGE_SIZE,
    YEAR_RANGE,
    spending_items,
    spending_page,
    spending_years,
)

bp = Blueprint("spending", __name__)


def chosen_year(args: Mapping[str, str], default: int) -> int:
    return query_number(args, "year", YEAR_RANGE) or default


def chosen_month(args: Mapping[str, str]) -> int | None:
    return query_number(args, "month", range(1, 13))


def _filename(year: int, extension: str) -> str:
    return f"spending-over-500-{financial_year_label(year)}.{extension}"


@bp.route("/spending-over-500")
@public_page
def index() -> str:
    today = dates.today()
    year = chosen_year(request.args, financial_year_start(today))
    month = chosen_month(request.args)
    years = spending_years(today)
    if year not in years:  # a year asked for by hand: still shown, and chosen in the list
        years = sorted({*years, year}, reverse=True)
    found = spending_page(year, month, page_number(request.args), PAGE_SIZE)
    months = months_of(year)
    month_name = next((format_month(first) for first in months if first.month == month), None)
    return render_template(
        "public/spending.html", page=found.page, total=found.total_pence, year=year, month=month,
        year_label=financial_year_label(year), month_name=month_name,
        year_options=[(y, financial_year_label(y)) for y in years],
        month_options=[(first.month, format_month(first)) for first in months],
        page_args={"year": year, **({"month": month} if month else {})},
        licence=(OGL_NAME, OGL),
    )


def _download_year(year: int) -> int:
    if year not in YEAR_RANGE:
        abort(404)
    return year


@bp.route("/open-data/spending-over-500/<int:year>.csv")
def download_csv(year: int) -> Response:
    year = _download_year(year)
    body = stream_with_context(spending_csv(spending_items(year)))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(year, "csv")}"'})


@bp.route("/open-data/spending-over-500/<int:year>.xlsx")
def download_xlsx(year: int) -> Response:
    year = _download_year(year)
    out, _rows = built_file(lambda out: build_spending(spending_items(year), out, period=whole_year(year),
                                                       publisher=current_app.config["PUBLISHER_NAME"]))
    return send_file(out, mimetype=SPREADSHEET_MIME, as_attachment=True, download_name=_filename(year, "xlsx"),
                     max_age=0)
