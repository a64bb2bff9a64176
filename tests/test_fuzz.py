"""Hostile input to every form: never a server error, and nothing typed is ever rendered as markup.

Each line of FORMS names a form, who sends it, how to make a fresh record for it when a post can use one
up (a bid that gets submitted, rejected or awarded), the values to send, and the pages that show what
was stored. Every answer, and each of those pages after every post, must be below 500 and must not hold
a planted "<script>alert(1)</script>" or "<img src=x onerror=...>" as raw markup.
test_planted_markup_is_shown_escaped then proves that those pages really show the stored text.
"""

from __future__ import annotations

import io
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select

from grants import create_app
from grants.assessment.rules import CRITERIA
from grants.auth.rules import issue_reset_token
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import (
    AgreementVariation,
    Bid,
    BudgetLine,
    ConditionsVersion,
    Fund,
    GrantAgreement,
    MonitoringReturn,
    OutboxEmail,
    Payment,
    Repayment,
    User,
)
from tests.conftest import PASSWORD
from tests.records import (
    Records,
    add_bid_document,
    add_payment,
    add_repayment,
    build_records,
    empty_database,
    module_app,
    new_agreement,
    new_bid,
    new_conditions_version,
    new_measure,
    new_variation,
    paid_agreement,
    returns_of,
    sign_in_as,
)

pytestmark = pytest.mark.slow

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
MARKERS = (SCRIPT, IMG)
RAW = ("<script>alert(1)", "<img src=x onerror")  # what would run if a marker were not escaped

NASTY_TEXT = [
    *MARKERS, f"Bike marking {SCRIPT}", f"x{IMG}y",
    "'; DROP TABLE bid; --", "' OR '1'='1' --", '" OR ""="', "1); DELETE FROM \"user\"; --",
    "%' UNION SELECT password_hash FROM \"user\" --", "\\", "%", "_", "\\x00",
    "\u202eevil\u202c", "\u200f\u0645\u0631\u062d\u0628\u0627\u200f", "\u05e9\u05dc\u05d5\u05dd", "👮‍♀️🚓💷🏳️‍🌈",
    "\x00", "nul\x00inside", "\x01\x02\x1b[31m\x7f", "\r\n\r\n", "\t", "\u2028\u2029", "\ufeff", "\u0301\u0301",
    "{{ 7*7 }}", "{% raw %}", "${7*7}", "%(x)s %s %n", "../../../etc/passwd", "javascript:alert(1)",
    "A" * 6000, "ß" * 300, "𝕏" * 201, " " * 50, "",
]
NASTY_MONEY = [
    "£1e9", "1e9", "5,000.555", "5000.555", "-5", "-£5", "£-5", "0", "0.00", "0.001", "5,00", "5,000,00", "£",
    "£ 5 000", ".5", "5.", "NaN", "inf", "Infinity", "٥٠٠٠", "５０００", "9" * 30, "9" * 5000, "10000000000.01",
    "10000000000.00", "99999999999", "5000\x00", "£5,000.50", "2,500", "2500.01", "1000", "999.99", "0x10",
    "1_000", "+5", "€5", "$5", "5 000", "5\u00a0000",
]
NASTY_NUMBER = ["0", "-1", "31", "365", "366", "2026", "1999", "2100", "999999999", "9999999999", "9" * 5000, "1e3",
                "1.5", "٣١", "３１", "0x1F", " 31 ", "3,1", "", "abc"]
DATE_PARTS = ["31", "30", "29", "2", "13", "0", "00", "-1", "2026", "0000", "0", "10000", "99999999999999999999",
              "9" * 5000, "abc", "", " ", "٣١", "３１", "1e3", "2.5", "Feb"]


def text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_TEXT),
        st.text(max_size=300),
        st.builds(operator.add, st.text(max_size=20), st.sampled_from(MARKERS)),
    )


def money() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_MONEY), st.integers(-10**30, 10**30).map(str),
                     st.decimals(allow_nan=True, allow_infinity=True).map(str), text())


def number() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_NUMBER), st.integers(-10**30, 10**30).map(str), text())


def a_date() -> st.SearchStrategy[list[str]]:
    """Day, month and year boxes: 31 February, year 0, letters, too few or too many parts."""
    part = st.one_of(st.sampled_from(DATE_PARTS), st.integers(-10**25, 10**25).map(str), text())
    return st.one_of(st.sampled_from([["31", "2", "2026"], ["29", "2", "2025"], ["1", "1", "0"], ["1", "13", "2026"]]),
                     st.lists(part, min_size=0, max_size=4))


def choice(*valid: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(valid), text())


def form(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Each field sent or left out, plus a few stray fields with odd names."""
    stray = st.dictionaries(st.one_of(st.text(max_size=30), st.sampled_from(
        ["budget_lines-99999999999999999999-item", "budget_lines--1-amount", "csrf_token", "version", "submit"])),
        text(), max_size=2)
    return st.builds(lambda sent, extra: {**extra, **sent},
                     st.fixed_dictionaries({}, optional=fields), stray)


class Version:
    """Stands for the record's current version in a generated form (most posts should get past that check)."""


def version() -> st.SearchStrategy[Any]:
    return st.one_of(st.just(Version()), st.just(Version()), st.just(Version()), text())


def bid_fields() -> st.SearchStrategy[dict[str, Any]]:
    lines = {f"budget_lines-{i}-{part}": (text() if part == "item" else money())
             for i in range(4) for part in ("item", "amount")}
    return form(version=version(), title=text(), local_issue=text(), activities=text(), location=text(),
                theme=choice("asb", "road_safety", "bike_theft", "fly_tipping", "youth_diversion", "other"),
                start_date=a_date(), end_date=a_date(), outputs=text(), outcomes=text(), other_funding=text(),
                other_funding_pence=money(), declaration=choice("y"),
                save=st.just("Save as draft"), submit=st.just("Submit bid"), add_line=st.just("Add"), **lines)


# Files as people send them: what they say they are, what they are not, and anything at all.
FILE_CONTENTS = [b"%PDF-1.4\n%%EOF\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"MZ\x90\x00", b"", b"PK\x03\x04junk",
                 b"<script>alert(1)</script>", b"%PDF-" + b"\x00" * 5000]


def upload() -> st.SearchStrategy[tuple[io.BytesIO, str]]:
    content = st.one_of(st.sampled_from(FILE_CONTENTS), st.binary(max_size=2000))
    name = st.one_of(st.sampled_from(["quote.pdf", "../../etc/passwd", "a\\b\\c.docx", ".pdf", "x" * 300 + ".pdf",
                                      f"{SCRIPT}.pdf", f"{IMG}.png"]), text())
    return st.builds(lambda data, filename: (io.BytesIO(data), filename), content, name)


def document_fields() -> st.SearchStrategy[dict[str, Any]]:
    return form(document=upload(), description=text(), submit=st.just("Add document"))


def assessment_fields() -> st.SearchStrategy[dict[str, Any]]:
    scores = {f"score_{key}": choice("0", "3", "5", "6", "-1", "٣", "10") for key in CRITERIA}
    return form(version=version(), comments=text(), recommended_pence=money(),
                conflict_of_interest=choice("no", "yes"), conflict_details=text(), organisation_checked=choice("y"),
                due_diligence_notes=text(), fraud_risk=choice("low", "medium", "high"), fraud_risk_reasons=text(),
                **scores)


def fund_fields() -> st.SearchStrategy[dict[str, Any]]:
    return form(name=text(), description=text(), funding_source=choice("opcc", "moj", "home_office"),
                monitoring_due_days=number())


def fund_year_fields() -> st.SearchStrategy[dict[str, Any]]:
    return form(year_start=number(), budget_pence=money(), per_bid_cap_pence=money(),
                per_applicant_cap_pence=money(), delegation_limit_pence=money(), opens_on=a_date(),
                closes_on=a_date())


def organisation_fields(**more: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return form(name=text(), org_type=choice("csp", "opcc", "other"),
                org_identifier=st.one_of(st.sampled_from(["GB-LAE-CAB", "360G-opcccambs-X", "gb-chc-1",
                                                          "CN-11-CR-1", "XI-GRID-x"]), text()),
                charity_number=st.one_of(st.sampled_from(["1234567", "SC012345", "12"]), text()),
                company_number=st.one_of(st.sampled_from(["1234567", "SC123456"]), text()),
                postcode=st.one_of(st.sampled_from(["pe158nq", "PE15 8NQ", "PE15"]), text()),
                district_code=st.one_of(st.sampled_from(["E07000010", "e07000010", "X1"]), text()),
                district_name=text(), **more)


def email() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(["spare@fenland.example", "SPARE@FENLAND.EXAMPLE ", "nobody@example.com",
                                      f"a{SCRIPT}@example.com", "x@" + "a" * 300 + ".com", "@", "a@b"]),
                     st.emails().map(str), text())


def password() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([PASSWORD, "short", "x" * 129, "correct horse battery staple 2025"]), text())


def user_fields(**more: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return form(name=text(), role=choice("applicant", "officer", "approver", "finance", "admin"),
                organisation_id=st.one_of(st.sampled_from(["", "1", "-1", "999999999999999999999"]), text()),
                **more)


# --- the forms --------------------------------------------------------------------------------------------------

Page = tuple[str | None, str, dict[str, Any]]  # (who looks, endpoint, URL values)
Prepare = Callable[[Flask, Records], dict[str, Any]]
Shows = Callable[[dict[str, Any]], list[Page]]  # called in an app context, after the post


def record(name: str, param: str) -> Prepare:
    return lambda app, records: {param: records[name]}


def fresh_bid(status: str) -> Prepare:
    """A new bid per example: a post may submit, withdraw, reject or award the one it is given."""
    return lambda app, records: {"bid_id": new_bid(app, records, status=status)}


def fresh_agreement(status: str) -> Prepare:
    return lambda app, records: {"agreement_id": new_agreement(app, records, status=status)}


def fresh_variation(status: str) -> Prepare:
    return lambda app, records: {"variation_id": new_variation(app, records, status=status)}


def variation_pages(values: dict[str, Any]) -> list[Page]:
    variation = {"variation_id": values["variation_id"]}
    return [("officer", "variations.view", variation), ("applicant", "variations.view", variation)]


def fresh_payment(app: Flask, records: Records) -> dict[str, Any]:
    return {"payment_id": add_payment(app, records, new_agreement(app, records))}


def fresh_paid_agreement(app: Flask, records: Records) -> dict[str, Any]:
    """An agreement with money paid, so a repayment can be asked for (and use some of it up)."""
    return {"agreement_id": paid_agreement(app, records)}


def fresh_repayment(app: Flask, records: Records) -> dict[str, Any]:
    return {"repayment_id": add_repayment(app, records, paid_agreement(app, records))}


def fresh_return(*, submitted: bool) -> Prepare:
    return lambda app, records: {"return_id": returns_of(app, records, new_agreement(app, records),
                                                         submit_first=submitted)[0]}


def fresh_reset_token(app: Flask, records: Records) -> dict[str, Any]:
    with app.app_context():
        token = issue_reset_token(db.session.get(User, records["user_spare"]), 2)
        db.session.commit()
        db.session.remove()
    return {"token": token}


def bid_pages(values: dict[str, Any]) -> list[Page]:
    bid = {"bid_id": values["bid_id"]}
    agreement_id = db.session.scalar(select(GrantAgreement.id).where(GrantAgreement.bid_id == values["bid_id"]))
    agreement = [("officer", "agreements.view", {"agreement_id": agreement_id})] if agreement_id else []
    return [("applicant", "bids.view", bid), ("applicant", "bids.edit", bid), ("officer", "assessment.bid", bid),
            ("officer", "assessment.index", {}), (None, "public.grants_awarded", {}), *agreement]


def document_pages(values: dict[str, Any]) -> list[Page]:
    bid = {"bid_id": values["bid_id"]}
    return [("applicant", "bids.documents", bid), ("applicant", "bids.view", bid), ("applicant", "bids.edit", bid)]


def fresh_document(app: Flask, records: Records) -> dict[str, Any]:
    """A draft with a document on it, so a removal can use it up."""
    records.ids["fuzz_draft"] = new_bid(app, records, status="draft")
    return {"bid_id": records["fuzz_draft"], "document_id": add_bid_document(app, records, "fuzz_draft", "applicant")}


def agreement_pages(values: dict[str, Any]) -> list[Page]:
    if "payment_id" in values:
        agreement_id = db.session.get(Payment, values["payment_id"]).agreement_id
    elif "repayment_id" in values:
        agreement_id = db.session.get(Repayment, values["repayment_id"]).agreement_id
    else:
        agreement_id = values["agreement_id"]
    agreement = {"agreement_id": agreement_id}
    return [("officer", "agreements.view", agreement), ("applicant", "agreements.view", agreement),
            ("applicant", "agreements.index", {}), ("finance", "finance.index", {})]


def return_pages(values: dict[str, Any]) -> list[Page]:
    ret = {"return_id": values["return_id"]}
    agreement = {"agreement_id": db.session.get(MonitoringReturn, values["return_id"]).agreement_id}
    return [("applicant", "monitoring.view", ret), ("applicant", "monitoring.edit", ret),
            ("officer", "monitoring.index", {}), ("officer", "agreements.view", agreement)]


def admin_pages(*endpoints: str) -> Shows:
    return lambda values: [("admin", endpoint, {}) for endpoint in endpoints]


def no_pages(values: dict[str, Any]) -> list[Page]:
    return []


def latest_outbox(values: dict[str, Any]) -> list[Page]:
    message_id = db.session.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id.desc()))
    return [("admin", "admin.outbox", {}), ("admin", "admin.outbox_message", {"message_id": message_id})]


def latest_conditions_pages() -> list[Page]:
    """The list of versions of the standard conditions, and the newest version's own page."""
    newest = db.session.scalar(select(ConditionsVersion.id).order_by(ConditionsVersion.number.desc()))
    return [("admin", "admin.conditions", {}), ("admin", "admin.conditions_version", {"version_id": newest})]


def agreement_fields() -> st.SearchStrategy[dict[str, Any]]:
    return form(version=version(), start_date=a_date(), end_date=a_date(), special_conditions=text())


def export_query() -> st.SearchStrategy[dict[str, Any]]:
    return form(year=st.one_of(st.sampled_from(["2025", "2026", "1999", "2100"]), number()),
                period=choice("FY", "H1", "H2", "Q1", "Q4", "fy"), source=choice("moj", "home_office", "opcc"))


@dataclass(frozen=True)
class Form:
    endpoint: str
    who: str | None  # the role that sends it; None: signed out
    fields: Callable[[], st.SearchStrategy[dict[str, Any]]]
    prepare: Prepare = field(default=lambda app, records: {})
    shows: Shows = no_pages
    method: str = "POST"
    examples: int = 25


FORMS = [
    # Signing in and passwords.
    Form("auth.sign_in", None, lambda: form(email=email(), password=password()), examples=15),
    Form("auth.forgot_password", None, lambda: form(email=email()), shows=latest_outbox),
    Form("auth.reset_password", None, lambda: form(password=password(), confirm=password()),
         prepare=fresh_reset_token, examples=15),
    # The second factor, asked for after the right password, and each person's own account.
    Form("auth.sign_in_code", "officer awaiting code", lambda: form(code=text()), examples=15),
    Form("auth.sign_in_recovery", "officer awaiting code", lambda: form(code=text()), examples=15),
    Form("auth.sign_in_set_up", "spare awaiting code", lambda: form(code=text()), examples=15),
    Form("auth.set_up_two_step", "spare", lambda: form(code=text()), examples=15),
    Form("auth.new_recovery_codes", "officer", lambda: form(code=text()), examples=15),
    Form("auth.change_password", "spare", lambda: form(current=password(), password=password(), confirm=password()),
         examples=15),
    # Bids.
    Form("bids.start", "applicant", lambda: form(fund_year_id=number(), submit=text()),
         shows=lambda values: [("applicant", "bids.index", {})]),
    Form("bids.edit", "applicant", bid_fields, prepare=fresh_bid("draft"), shows=bid_pages, examples=40),
    Form("bids.edit", "applicant", bid_fields, prepare=fresh_bid("info_requested"), shows=bid_pages, examples=15),
    Form("bids.withdraw", "applicant", lambda: form(reason=text()), prepare=fresh_bid("submitted"), shows=bid_pages,
         examples=15),
    # Supporting documents: a multipart form with a file (its name and content both hostile) and a description.
    Form("bids.documents", "applicant", document_fields, prepare=fresh_bid("draft"), shows=document_pages,
         examples=40),
    Form("bids.documents", "applicant", document_fields, prepare=fresh_bid("info_requested"), shows=document_pages,
         examples=10),
    Form("bids.remove", "applicant", lambda: form(), prepare=fresh_document, shows=document_pages, examples=8),
    # Assessment and decisions.
    Form("assessment.assess", "officer", assessment_fields, prepare=fresh_bid("submitted"), shows=bid_pages),
    Form("assessment.request_information", "officer", lambda: form(version=version(), message=text()),
         prepare=fresh_bid("submitted"), shows=lambda values: bid_pages(values) + latest_outbox(values),
         examples=20),
    Form("assessment.reject", "officer", lambda: form(version=version(), reasons=text()),
         prepare=fresh_bid("submitted"), shows=bid_pages, examples=20),
    Form("assessment.declare_conflict", "officer", lambda: form(details=text()), prepare=fresh_bid("submitted"),
         shows=bid_pages, examples=15),
    Form("assessment.award", "officer", lambda: form(version=version(), amount_pence=money(), reasons=text(),
                                                     public_summary=text()),
         prepare=fresh_bid("in_review"), shows=bid_pages),
    Form("assessment.award", "approver", lambda: form(version=version(), amount_pence=money(), reasons=text(),
                                                      public_summary=text()),
         prepare=fresh_bid("recommended"), shows=bid_pages, examples=15),
    # Agreements and payments.
    Form("agreements.prepare", "officer", agreement_fields, prepare=fresh_bid("approved"), shows=bid_pages,
         examples=20),
    # Variations.
    Form("variations.propose", "officer", lambda: form(version=version(), amount_pence=money(), end_date=a_date(),
                                                       special_conditions=text(), reasons=text()),
         prepare=fresh_agreement("active"), shows=agreement_pages, examples=15),
    Form("variations.approve", "approver", lambda: form(version=version(), note=text()),
         prepare=fresh_variation("awaiting_approval"), shows=variation_pages, examples=10),
    Form("variations.refuse", "approver", lambda: form(version=version(), note=text()),
         prepare=fresh_variation("awaiting_approval"), shows=variation_pages, examples=10),
    Form("variations.withdraw", "officer", lambda: form(version=version(), note=text()),
         prepare=fresh_variation("offered"), shows=variation_pages, examples=10),
    Form("variations.decline", "applicant", lambda: form(version=version(), note=text()),
         prepare=fresh_variation("offered"), shows=variation_pages, examples=10),
    Form("variations.accept", "applicant", lambda: form(version=version(), accepted_name=text(), accepted_role=text(),
                                                        confirm=choice("y", "")),
         prepare=fresh_variation("offered"), shows=variation_pages, examples=10),
    Form("agreements.edit", "officer", agreement_fields, prepare=fresh_agreement("draft"), shows=agreement_pages,
         examples=20),
    Form("agreements.issue", "officer", lambda: form(version=version()), prepare=fresh_agreement("draft"),
         shows=agreement_pages, examples=8),
    Form("agreements.activate", "officer", lambda: form(version=version()), prepare=fresh_agreement("accepted"),
         shows=agreement_pages, examples=8),
    Form("agreements.accept", "applicant", lambda: form(version=version(), accepted_name=text(),
                                                        accepted_role=text(), confirm=choice("y")),
         prepare=fresh_agreement("issued"), shows=agreement_pages, examples=20),
    Form("agreements.end", "officer", lambda: form(version=version(), outcome=choice("closed", "terminated"),
                                                   reason=text(), repayment_pence=money()),
         prepare=fresh_agreement("active"), shows=agreement_pages, examples=20),
    Form("payments.new", "finance", lambda: form(amount_pence=money(), due_on=a_date(), note=text()),
         prepare=record("agreement_active", "agreement_id"), shows=agreement_pages),
    Form("payments.paid", "finance", lambda: form(version=version(), paid_on=a_date(),
                                                              finance_reference=text()),
         prepare=fresh_payment, shows=agreement_pages, examples=20),
    Form("payments.cancel", "finance", lambda: form(version=version(), reason=text()), prepare=fresh_payment,
         shows=agreement_pages, examples=15),
    # Repayments.
    Form("repayments.new", "officer", lambda: form(version=version(), amount_pence=money(), reason=text(),
                                                   due_on=a_date()),
         prepare=fresh_paid_agreement, shows=lambda values: agreement_pages(values) + latest_outbox(values),
         examples=20),
    Form("repayments.receive", "finance", lambda: form(amount_pence=money(), received_on=a_date(), reference=text()),
         prepare=fresh_repayment, shows=agreement_pages, examples=20),
    Form("repayments.write_off", "finance", lambda: form(version=version(), reason=text()), prepare=fresh_repayment,
         shows=agreement_pages, examples=15),
    # Monitoring returns.
    Form("monitoring.edit", "applicant", lambda: form(
        version=version(), progress=text(), challenges=text(), rag=choice("green", "amber", "red"),
        **{"measure-1": number(), "measure-2": text(), "spend-1": money(), "spend-2": money()},
        save=st.just("Save"), submit=st.just("Submit")), prepare=fresh_return(submitted=False), shows=return_pages),
    Form("monitoring.review", "officer", lambda: form(version=version(), outcome=choice("accepted", "returned"),
                                                      officer_rag=choice("green", "amber", "red"), note=text()),
         prepare=fresh_return(submitted=True), shows=return_pages, examples=20),
    # Administration.
    Form("admin.new_fund", "admin", lambda: st.builds(operator.or_, fund_fields(), form(
        reporting_frequency=choice("half_yearly", "quarterly"), reminder_days=number())),
         shows=lambda values: [
             ("admin", "admin.funds", {}), ("applicant", "bids.start", {}), (None, "public.grants_awarded", {})]),
    Form("admin.edit_fund", "admin", lambda: st.builds(operator.or_, fund_fields(), form(
        reporting_frequency=choice("half_yearly", "quarterly"), reminder_days=number())),
         prepare=record("fund", "fund_id"),
         shows=lambda values: [("admin", "admin.funds", {}), ("admin", "admin.edit_fund", values),
                               ("officer", "assessment.index", {}), ("finance", "finance.index", {})]),
    Form("admin.new_fund_year", "admin", fund_year_fields, prepare=record("fund", "fund_id"),
         shows=admin_pages("admin.funds")),
    Form("admin.edit_fund_year", "admin", fund_year_fields, prepare=record("closed_year", "fund_year_id"),
         shows=lambda values: [("admin", "admin.funds", {}), ("admin", "admin.edit_fund_year", values),
                               ("applicant", "bids.start", {})]),
    Form("admin.new_measure", "admin", lambda: form(
        name=text(), guidance=text(), unit=choice("count", "percentage", "money", "yes_no"),
        required=choice("yes", "no"), category=text()), prepare=record("measure_fund", "fund_id"),
         shows=lambda values: [("admin", "admin.measures", values), ("admin", "admin.funds", {})]),
    Form("admin.edit_measure", "admin", lambda: form(
        name=text(), guidance=text(), unit=choice("count", "percentage", "money", "yes_no"),
        required=choice("yes", "no"), category=text()),
         prepare=lambda app, records: {"fund_id": records["measure_fund"], "measure_id": new_measure(app, records)},
         shows=lambda values: [("admin", "admin.measures", {"fund_id": values["fund_id"]}),
                               ("admin", "admin.edit_measure", values)]),
    Form("admin.retire_measure", "admin", lambda: form(),
         prepare=lambda app, records: {"fund_id": records["measure_fund"], "measure_id": new_measure(app, records)},
         shows=lambda values: [("admin", "admin.measures", {"fund_id": values["fund_id"]}),
                               ("admin", "admin.retire_measure", values)], examples=8),
    Form("admin.delete_measure", "admin", lambda: form(),
         prepare=lambda app, records: {"fund_id": records["measure_fund"], "measure_id": new_measure(app, records)},
         shows=lambda values: [("admin", "admin.measures", {"fund_id": values["fund_id"]})], examples=8),
    Form("admin.load_measures", "admin", lambda: form(set_key=choice("moj-victims", "home-office-crime")),
         prepare=record("measure_fund", "fund_id"),
         shows=lambda values: [("admin", "admin.measures", values)], examples=10),
    # Versions of the standard conditions.
    Form("admin.new_conditions", "admin", lambda: form(text=text(), effective_from=a_date()),
         shows=lambda values: latest_conditions_pages(), examples=20),
    Form("admin.edit_conditions", "admin", lambda: form(text=text(), effective_from=a_date()),
         prepare=lambda app, records: {"version_id": new_conditions_version(app, records)},
         shows=lambda values: [("admin", "admin.conditions", {}), ("admin", "admin.conditions_version", values),
                               ("admin", "admin.edit_conditions", values)], examples=20),
    Form("admin.new_organisation", "admin", organisation_fields, shows=admin_pages("admin.organisations", "admin.users")),
    Form("admin.edit_organisation", "admin", lambda: organisation_fields(active=choice("y")),
         prepare=record("org_other", "organisation_id"),
         shows=lambda values: [("admin", "admin.organisations", {}), ("admin", "admin.edit_organisation", values),
                               ("officer", "assessment.index", {}), (None, "public.grants_awarded", {})]),
    Form("admin.new_user", "admin", lambda: user_fields(email=email(), password=password()),
         shows=admin_pages("admin.users"), examples=20),
    Form("admin.edit_user", "admin", lambda: user_fields(active=choice("y")), prepare=record("user_spare", "user_id"),
         shows=lambda values: [("admin", "admin.users", {}), ("admin", "admin.edit_user", values)]),
    Form("admin.user_password", "admin", lambda: form(password=password(), confirm=password()),
         prepare=record("user_spare", "user_id"), examples=15),
    # Filters and choices read from the query string.
    Form("assessment.index", "officer", lambda: form(fund=number(), status=choice("submitted", "approved"),
                                                     organisation=number(), page=number()), method="GET"),
    Form("admin.users", "admin", lambda: form(role=choice("admin", "applicant"), organisation=number()),
         method="GET", examples=15),
    Form("admin.outbox", "admin", lambda: form(page=number()), method="GET", examples=15),
    Form("agreements.index", "officer", lambda: form(status=choice("draft", "active")), method="GET", examples=15),
    Form("monitoring.index", "applicant", lambda: form(status=choice("overdue", "due")), method="GET", examples=15),
    Form("finance.grants_register", "finance", export_query, method="GET", examples=15),
    Form("finance.government_return", "finance", export_query, method="GET", examples=15),
    Form("finance.payments", "finance", export_query, method="GET", examples=10),
    Form("public.grants_awarded", None, lambda: form(year=number(), month=number(), fund=number(), page=number()),
         method="GET", examples=15),
    Form("spending.index", None, lambda: form(year=number(), month=number(), page=number()), method="GET",
         examples=15),
]
# The record whose version a form carries, by the URL parameter that names it.
VERSIONED = {"bid_id": Bid, "agreement_id": GrantAgreement, "payment_id": Payment, "repayment_id": Repayment,
             "variation_id": AgreementVariation,
             "return_id": MonitoringReturn}


# --- running them ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, database_uri_base: str | None) -> Iterator[Flask]:
    yield from module_app(tmp_path_factory, database_uri_base, "fuzz")


@pytest.fixture(scope="module")
def records(fuzz_app: Flask) -> Records:
    """Built once for the module, to keep it fast: a post that uses a record up gets a fresh one per example
    (see `prepare`), and nothing here depends on what another test left behind beyond "no server error"."""
    empty_database(fuzz_app)
    return build_records(fuzz_app)


def dialect(app: Flask) -> str:
    with app.app_context():
        return db.engine.dialect.name


def url(app: Flask, endpoint: str, values: Mapping[str, Any]) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def assert_safe(response: Any, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if response.mimetype != "text/html":
        return
    body = response.get_data(as_text=True)
    for raw in RAW:
        assert raw not in body, f"{where}: {raw!r} is in the page unescaped"


def send(client: FlaskClient, method: str, path: str, data: dict[str, Any]) -> Any:
    if method == "GET":
        return client.get(path, query_string=data)
    return client.open(path, method=method, data=data)


def version_of(app: Flask, values: Mapping[str, Any]) -> str:
    with app.app_context():
        for name, model in VERSIONED.items():
            if name in values:
                found = db.session.get(model, values[name])
                db.session.remove()
                return str(found.version) if found is not None else ""
    return ""


@pytest.mark.parametrize("spec", FORMS, ids=[f"{spec.endpoint}-{spec.who}-{i}" for i, spec in enumerate(FORMS)])
def test_hostile_input(fuzz_app: Flask, records: Records, spec: Form) -> None:
    client = fuzz_app.test_client()
    viewer = fuzz_app.test_client()

    # No shrinking: each step of it replays requests, and it could run for minutes; the failing example and
    # the page's traceback are reported as found.
    @settings(max_examples=spec.examples, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=spec.fields())
    def run(data: dict[str, Any]) -> None:
        values = spec.prepare(fuzz_app, records)
        current = version_of(fuzz_app, values)
        data = {name: current if isinstance(value, Version) else value for name, value in data.items()}
        sign_in_as(client, records, spec.who)
        path = url(fuzz_app, spec.endpoint, values)
        assert_safe(send(client, spec.method, path, data), f"{spec.method} {path} {data!r}"[:2000])
        with fuzz_app.app_context():
            pages = spec.shows(values)
            db.session.remove()
        for who, endpoint, page_values in pages:
            sign_in_as(viewer, records, who)
            page_url = url(fuzz_app, endpoint, page_values)
            assert_safe(viewer.get(page_url), f"GET {page_url} as {who} after {spec.endpoint} {data!r}"[:2000])

    run()


def test_every_post_form_is_fuzzed() -> None:
    """A form added later fails here until it has a line in FORMS."""
    app = create_app("testing")
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or set())}
    not_forms = {"auth.sign_out", "auth.turn_off_two_step", "admin.reset_two_step",  # buttons with nothing to type
                 "notifications.read_all"}
    assert sorted(posts - not_forms - {spec.endpoint for spec in FORMS}) == []


# --- planted markup is shown, escaped --------------------------------------------------------------------------


def mark(tag: str) -> str:
    return f"{tag}{SCRIPT}{IMG}"


def test_planted_markup_is_shown_escaped(fuzz_app: Flask, records: Records) -> None:
    """Store markup through each form's success path, then find it on the pages that show it, escaped."""
    client = fuzz_app.test_client()
    today = uk_today()

    def post(who: str, endpoint: str, data: dict[str, Any], **values: Any) -> None:
        sign_in_as(client, records, who)
        response = client.post(url(fuzz_app, endpoint, values), data={"version": version_of(fuzz_app, values), **data})
        assert response.status_code == 302, f"{endpoint}: {response.status_code}"

    def shows(who: str | None, endpoint: str, tags: list[str], **values: Any) -> None:
        sign_in_as(client, records, who)
        response = client.get(url(fuzz_app, endpoint, values))
        assert response.status_code == 200, f"{endpoint}: {response.status_code}"
        body = response.get_data(as_text=True)
        for tag in tags:
            assert str(escape(mark(tag))) in body, f"{endpoint} as {who} does not show {tag}"
        for raw in RAW:
            assert raw not in body, f"{endpoint} as {who}: {raw!r} is in the page unescaped"

    def boxes(day: date) -> list[str]:
        return [str(day.day), str(day.month), str(day.year)]

    post("admin", "admin.new_fund", {"name": mark("fund"), "description": mark("about"), "funding_source": "opcc",
                                     "monitoring_due_days": "31"})
    shows("admin", "admin.funds", ["fund"])
    future = new_conditions_version(fuzz_app, records)
    with fuzz_app.app_context():
        starts = db.session.get(ConditionsVersion, future).effective_from
        db.session.remove()
    post("admin", "admin.edit_conditions", {"text": mark("wording"), "effective_from": boxes(starts)}, version_id=future)
    shows("admin", "admin.conditions_version", ["wording"], version_id=future)
    post("admin", "admin.new_organisation", {"name": mark("org"), "org_type": "other"})
    shows("admin", "admin.organisations", ["org"])
    post("admin", "admin.edit_user", {"name": mark("person"), "role": "applicant",
                                      "organisation_id": str(records["org_own"]), "active": "y"},
         user_id=records["user_spare"])
    shows("admin", "admin.users", ["person"])
    shows("admin", "admin.edit_user", ["person"], user_id=records["user_spare"])

    bid_id = new_bid(fuzz_app, records, status="draft")
    post("applicant", "bids.documents", {"document": (io.BytesIO(b"%PDF-1.4\n"), "quote.pdf"),
                                         "description": mark("about")}, bid_id=bid_id)
    shows("applicant", "bids.documents", ["about"], bid_id=bid_id)
    text_fields = ["title", "local_issue", "activities", "location", "outputs", "outcomes", "other_funding"]
    post("applicant", "bids.edit", {
        **{name: mark(name) for name in text_fields}, "theme": "asb",
        "start_date": boxes(today + timedelta(days=30)), "end_date": boxes(today + timedelta(days=90)),
        "budget_lines-0-item": mark("item"), "budget_lines-0-amount": "500", "declaration": "y", "submit": "Submit"},
        bid_id=bid_id)
    shows("applicant", "bids.view", [*text_fields, "item", "about"], bid_id=bid_id)
    shows("officer", "assessment.bid", [*text_fields, "item", "about"], bid_id=bid_id)
    shows("officer", "assessment.index", ["title"])
    shows("applicant", "bids.index", ["title"])

    post("officer", "assessment.request_information", {"message": mark("question")}, bid_id=bid_id)
    shows("applicant", "bids.view", ["question"], bid_id=bid_id)
    shows("applicant", "bids.edit", ["question"], bid_id=bid_id)
    with fuzz_app.app_context():
        message_id = db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.body.contains(mark("question"))))
        db.session.remove()
    shows("admin", "admin.outbox_message", ["question"], message_id=message_id)

    rejected = new_bid(fuzz_app, records, status="submitted")
    post("officer", "assessment.reject", {"reasons": mark("no")}, bid_id=rejected)
    shows("applicant", "bids.view", ["no"], bid_id=rejected)

    awarded = new_bid(fuzz_app, records, status="in_review")
    post("officer", "assessment.award", {"amount_pence": "1000", "reasons": mark("because"),
                                         "public_summary": mark("summary")}, bid_id=awarded)
    shows(None, "public.grants_awarded", ["summary"])
    shows(None, "public.grant", ["because", "summary"], bid_id=awarded)
    shows("applicant", "bids.view", ["because"], bid_id=awarded)

    # The award's agreement, its payments and its monitoring returns.
    post("officer", "agreements.prepare", {"start_date": boxes(today - timedelta(days=60)),
                                           "end_date": boxes(today + timedelta(days=300)),
                                           "special_conditions": mark("condition")}, bid_id=awarded)
    with fuzz_app.app_context():
        agreement_id = db.session.scalar(select(GrantAgreement.id).where(GrantAgreement.bid_id == awarded))
        db.session.remove()
    shows("officer", "agreements.view", ["condition"], agreement_id=agreement_id)
    post("officer", "agreements.issue", {}, agreement_id=agreement_id)
    post("applicant", "agreements.accept", {"accepted_name": mark("signed"), "accepted_role": mark("role"),
                                            "confirm": "y"}, agreement_id=agreement_id)
    shows("applicant", "agreements.view", ["condition", "signed", "role"], agreement_id=agreement_id)
    post("officer", "agreements.activate", {}, agreement_id=agreement_id)
    post("finance", "payments.new", {"amount_pence": "100", "due_on": boxes(today), "note": mark("note")},
         agreement_id=agreement_id)
    post("finance", "payments.new", {"amount_pence": "50", "due_on": boxes(today), "note": "second"},
         agreement_id=agreement_id)
    with fuzz_app.app_context():
        paid, cancelled = db.session.scalars(select(Payment.id).where(Payment.agreement_id == agreement_id)
                                             .order_by(Payment.id)).all()
        first_return = db.session.scalar(select(MonitoringReturn.id).where(MonitoringReturn.agreement_id == agreement_id)
                                         .order_by(MonitoringReturn.period_start))
        lines = db.session.scalars(select(BudgetLine.id).where(BudgetLine.bid_id == awarded)).all()
        db.session.remove()
    post("finance", "payments.paid", {"paid_on": boxes(today), "finance_reference": mark("ref")},
         payment_id=paid)
    post("finance", "payments.cancel", {"reason": mark("cancel")}, payment_id=cancelled)
    shows("finance", "agreements.view", ["condition", "ref"], agreement_id=agreement_id)
    post("officer", "repayments.new", {"amount_pence": "40", "reason": mark("clawback")}, agreement_id=agreement_id)
    with fuzz_app.app_context():
        repayment_id = db.session.scalar(select(Repayment.id).where(Repayment.agreement_id == agreement_id))
        db.session.remove()
    post("finance", "repayments.receive", {"amount_pence": "10", "received_on": boxes(today),
                                           "reference": mark("receipt")}, repayment_id=repayment_id)
    shows("applicant", "agreements.view", ["clawback", "receipt"], agreement_id=agreement_id)
    shows("finance", "agreements.view", ["clawback", "receipt"], agreement_id=agreement_id)

    answers = ["progress", "challenges"]
    post("applicant", "monitoring.edit", {**{name: mark(name) for name in answers}, "rag": "green",
                                          **{f"spend-{line}": "10" for line in lines}, "submit": "Submit"},
         return_id=first_return)
    shows("officer", "monitoring.view", answers, return_id=first_return)
    post("officer", "monitoring.review", {"outcome": "returned", "officer_rag": "amber", "note": mark("change")},
         return_id=first_return)
    shows("applicant", "monitoring.view", [*answers, "change"], return_id=first_return)
    shows("applicant", "monitoring.edit", ["change"], return_id=first_return)

    post("officer", "agreements.end", {"outcome": "terminated", "reason": mark("ended")}, agreement_id=agreement_id)
    shows("officer", "agreements.view", ["condition", "ended"], agreement_id=agreement_id)


# --- inputs that once gave server errors -------------------------------------------------------------------------


def answer(app: Flask, records: Records, who: str | None, method: str, path: str, data: Any = None) -> int:
    client = app.test_client()
    sign_in_as(client, records, who)
    return int(send(client, method, path, data or {}).status_code)


def test_a_unicode_digit_in_a_budget_line_name_is_ignored(fuzz_app: Flask, records: Records) -> None:
    bid_id = new_bid(fuzz_app, records, status="draft")
    data = {"version": version_of(fuzz_app, {"bid_id": bid_id}), "budget_lines-²-item": "Kit", "save": "Save"}
    assert answer(fuzz_app, records, "applicant", "POST", f"/bids/{bid_id}/edit", data) == 302  # saved


def test_an_outbox_page_beyond_64_bits_is_the_last_page(fuzz_app: Flask, records: Records) -> None:
    assert answer(fuzz_app, records, "admin", "GET", "/admin/outbox", {"page": str(10**19)}) == 200


def test_nul_characters_in_text_are_dropped(fuzz_app: Flask, records: Records) -> None:
    bid_id = new_bid(fuzz_app, records, status="draft")
    sent = [
        (None, "/sign-in", {"email": "a\x00@example.com", "password": "x"}),
        (None, "/forgot-password", {"email": "a\x00@example.com"}),
        ("admin", "/admin/funds/new", {"name": "Fund\x00", "funding_source": "opcc", "monitoring_due_days": "31"}),
        ("applicant", f"/bids/{bid_id}/edit", {"version": version_of(fuzz_app, {"bid_id": bid_id}),
                                               "title": "Title\x00", "save": "Save"}),
    ]
    failed = [path for who, path, data in sent if answer(fuzz_app, records, who, "POST", path, data) >= 500]
    assert failed == []
    with fuzz_app.app_context():
        assert db.session.get(Bid, bid_id).title == "Title"
        assert db.session.scalar(select(Fund.name).where(Fund.name.like("Fund%"))) == "Fund"


def test_money_beyond_the_columns_is_refused_beside_the_field(fuzz_app: Flask, records: Records) -> None:
    bid_id = new_bid(fuzz_app, records, status="draft")
    data = {"version": version_of(fuzz_app, {"bid_id": bid_id}), "budget_lines-0-item": "Kit",
            "budget_lines-0-amount": "£5,000,000,000", "save": "Save"}
    client = fuzz_app.test_client()
    sign_in_as(client, records, "applicant")
    response = send(client, "POST", f"/bids/{bid_id}/edit", data)
    assert response.status_code == 200
    assert "Amount must be £1,000,000,000.00 or less" in response.get_data(as_text=True)


def _record_routes() -> list[tuple[str, str, list[str]]]:
    """(rule, method, integer parameters) for every route with an integer in its path."""
    app = create_app("testing")
    found = []
    for rule in app.url_map.iter_rules():
        ints = re.findall(r"<int:(\w+)>", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}) if ints else ():
            found.append((rule.rule, method, ints))
    return found


def _out_of_range(app: Flask, records: Records, number: int) -> list[str]:
    """Routes where some role gets anything but 404 for a record id this large."""
    failed = []
    for rule, method, ints in _record_routes():
        path = rule
        for name in ints:
            path = path.replace(f"<int:{name}>", str(number))
        for who in ("applicant", "officer", "approver", "finance", "admin"):
            if answer(app, records, who, method, path) != 404:
                failed.append(f"{method} {path} as {who}")
                break
    return failed


def test_record_ids_beyond_32_bits_are_not_found(fuzz_app: Flask, records: Records) -> None:
    assert _out_of_range(fuzz_app, records, 2**31) == []


def test_record_ids_beyond_64_bits_are_not_found(fuzz_app: Flask, records: Records) -> None:
    assert _out_of_range(fuzz_app, records, 2**63) == []
