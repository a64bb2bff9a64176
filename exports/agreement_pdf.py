"""A grant agreement as a PDF: its terms, special conditions, the standard conditions with their version, the
approved budget, the payment schedule and the record of its issue and acceptance.

Built from plain data (AgreementDocument), never the web request, by WeasyPrint from the Jinja template
templates/agreements/pdf.html and its stylesheet pdf.css beside it. Nothing is fetched over the network: the
stylesheet is read from disk and the URL fetcher refuses every http and https address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from exports.formats import format_date, format_datetime, format_money
from exports.text import clean_text

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE = "agreements/pdf.html"
STYLESHEET = TEMPLATES / "agreements" / "pdf.css"
PDF_MIME = "application/pdf"
# Only what is inside the document itself (data: URLs) may be loaded; never the network, never other files.
ALLOWED_PROTOCOLS = ("data",)


@dataclass(frozen=True)
class BudgetRow:
    item: str
    kind: str  # "Capital" or "Revenue"
    amount_pence: int


@dataclass(frozen=True)
class PaymentRow:
    reference: str
    due_on: date
    amount_pence: int
    status: str  # as the pages name it: "Scheduled", "Paid", "Cancelled"
    paid_on: date | None = None
    finance_reference: str = ""


@dataclass(frozen=True)
class AgreementDocument:
    """Everything the PDF shows, already read from the database."""

    reference: str
    status: str  # the lifecycle key: draft, issued, accepted, active, closed, terminated
    status_name: str
    grantor: str
    grantee: str
    bid_reference: str
    title: str
    purpose: str
    fund: str
    funding_source: str
    amount_pence: int
    start_date: date
    end_date: date
    special_conditions: str
    standard_conditions: str
    conditions_version: int | None
    conditions_effective_from: date | None
    budget: list[BudgetRow] = field(default_factory=list)
    payments: list[PaymentRow] = field(default_factory=list)
    prepared_at: datetime | None = None
    issued_at: datetime | None = None
    issued_by: str = ""
    accepted_at: datetime | None = None
    accepted_name: str = ""
    accepted_role: str = ""
    grantee_identifier: str = ""
    service_name: str = "OPCC Grants"

    @property
    def budget_total_pence(self) -> int:
        return sum(row.amount_pence for row in self.budget)

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=format_money, date=format_date, datetime=format_datetime, clean=clean_text)
    return env


def render_html(document: AgreementDocument, *, made_at: datetime) -> str:
    """The agreement as the HTML the PDF is drawn from."""
    return _environment().get_template(TEMPLATE).render(doc=document, made_at=made_at)


def url_fetcher() -> Any:
    """WeasyPrint's fetcher, allowed data: URLs only: an http(s) (or file) address in the document is refused."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS, timeout=1, allow_redirects=False)


def build_agreement_pdf(document: AgreementDocument, *, made_at: datetime) -> bytes:
    """The agreement as PDF bytes. WeasyPrint (and Pango, a system library) is loaded only when a PDF is made."""
    from weasyprint import CSS, HTML

    fetcher = url_fetcher()
    stylesheet = CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=fetcher)
    html = HTML(string=render_html(document, made_at=made_at), url_fetcher=fetcher)
    pdf: bytes = html.write_pdf(stylesheets=[stylesheet])
    return pdf


def filename(document: AgreementDocument) -> str:
    """"grant-agreement-GA-00012.pdf"."""
    return f"grant-agreement-{document.reference}.pdf"
