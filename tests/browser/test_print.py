"""Bids, grant agreements and monitoring returns printed: the print stylesheet leaves the record only (no header,
menu, buttons, back link, filters or footer), in black with no background colours, its reference and title at the
top; and headless Chromium prints each to a PDF whose text is read back."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from grants.core.extensions import db
from grants.core.models import GrantAgreement, MonitoringReturn, Organisation
from tests.browser.conftest import APPLICANT, OFFICER, LiveServer, sign_in

pytestmark = pytest.mark.browser

# Screen furniture that must not reach the paper.
NOT_PRINTED = [".app-header", ".govuk-skip-link", ".govuk-service-navigation", ".govuk-back-link", ".govuk-button",
               ".govuk-footer", "form:has(.app-filter)"]
TRANSPARENT = "rgba(0, 0, 0, 0)"
BLACK = "rgb(0, 0, 0)"


def records(live_server: LiveServer) -> dict[str, Any]:
    """A running grant of the demo applicant's organisation (Fenland CSP): its bid, its agreement and one of its
    returns (an answered one if there is one), with the references and title the pages show."""
    with live_server.app.app_context():
        agreement = db.session.scalars(
            select(GrantAgreement).join(Organisation).where(GrantAgreement.status == "active",
                                                            Organisation.name == "Fenland CSP")
            .order_by(GrantAgreement.id)).first()
        assert agreement is not None, "the demo data has a running grant for Fenland CSP"
        ret = db.session.scalars(select(MonitoringReturn).where(MonitoringReturn.agreement_id == agreement.id)
                                 .order_by(MonitoringReturn.status != "accepted", MonitoringReturn.id)).first()
        assert ret is not None
        found = {"bid": agreement.bid.id, "bid_ref": agreement.bid.reference, "title": agreement.bid.title,
                 "agreement": agreement.id, "agreement_ref": agreement.reference, "return": ret.id}
        db.session.remove()
    return found


def printed(pg: Any) -> dict[str, Any]:
    """What print media shows of the page: which furniture is visible, colours, the first lines of text."""
    pg.emulate_media(media="print")
    return dict(pg.evaluate(
        """(selectors) => {
            const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
            const visible = {};
            for (const s of selectors) visible[s] = [...document.querySelectorAll(s)].filter(shown).length;
            const main = document.querySelector("main");
            const style = el => el ? getComputedStyle(el) : null;
            const tag = document.querySelector("main .govuk-tag");
            const tableLink = document.querySelector("main .govuk-table a.govuk-link");
            const row = document.querySelector("main .govuk-summary-list__row, main .govuk-table__body .govuk-table__row");
            return {
                visible,
                top: main.innerText.trim().split("\\n").slice(0, 2).map(t => t.trim()),
                h1: shown(document.querySelector("h1")),
                colours: [...main.querySelectorAll("h1, p, a, dt, dd, td, th, .govuk-tag")].map(el => style(el).color),
                backgrounds: [...main.querySelectorAll("*")].map(el => style(el).backgroundColor)
                    .filter(c => c !== "rgba(0, 0, 0, 0)"),
                tagBorder: tag ? style(tag).borderTopStyle : null,
                tableLinkAfter: tableLink ? getComputedStyle(tableLink, "::after").content : null,
                rowBreak: row ? style(row).breakInside : null,
                width: main.getBoundingClientRect().width,
                pageWidth: document.documentElement.clientWidth,
            };
        }""",
        NOT_PRINTED,
    ))


def pdf_text(pg: Any) -> tuple[int, str]:
    """The page printed to PDF by headless Chromium: its number of pages and its text (spaces and line ends as one
    space)."""
    reader = PdfReader(io.BytesIO(pg.pdf(format="A4", print_background=True)))
    return len(reader.pages), " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def check_printed(pg: Any, reference: str, title: str, where: str) -> None:
    shown = printed(pg)
    assert not any(shown["visible"].values()), f"{where}: printed furniture {shown['visible']}"
    assert shown["h1"], where
    # The record's reference (the caption over the heading) and its title open the page.
    assert reference in shown["top"][0] and title in shown["top"][1], f"{where}: begins {shown['top']}"
    assert set(shown["colours"]) == {BLACK}, f"{where}: text colours {set(shown['colours'])}"
    assert not shown["backgrounds"], f"{where}: background colours {set(shown['backgrounds'])}"
    assert shown["tagBorder"] in (None, "solid"), where  # a status is drawn by a line instead of a colour
    assert shown["tableLinkAfter"] in (None, "none"), where  # a table's record links print no address
    assert shown["rowBreak"] in (None, "avoid"), where
    assert shown["width"] >= shown["pageWidth"] * 0.9, f"{where}: content {shown['width']} of {shown['pageWidth']} px"

    pages, text = pdf_text(pg)
    assert pages >= 1
    assert reference in text and title in text, f"{where}: the PDF reads {text[:300]!r}"
    for furniture in ("Skip to main content", "Sign out", "Your account", "Accessibility statement"):
        assert furniture not in text, f"{where}: the PDF shows {furniture!r}"
    pg.emulate_media(media="screen")


def test_an_officer_prints_a_bid_an_agreement_and_a_return(page: Any, live_server: LiveServer) -> None:
    found = records(live_server)
    sign_in(page, OFFICER)

    page.goto(f"/assess/bids/{found['bid']}")
    # On screen the furniture is there, so the checks below are not passing by accident.
    expect(page.locator(".govuk-service-navigation")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    check_printed(page, found["bid_ref"], found["title"], "the officer's bid page")

    page.goto(f"/agreements/{found['agreement']}")
    expect(page.get_by_test_id("actions")).to_be_visible()
    check_printed(page, found["agreement_ref"], found["title"], "the agreement page")

    page.goto(f"/monitoring/{found['return']}")
    check_printed(page, found["agreement_ref"], found["title"], "the monitoring return page")


def test_a_grantee_prints_their_bid_and_links_show_where_they_go(page: Any, live_server: LiveServer) -> None:
    found = records(live_server)
    sign_in(page, APPLICANT)
    page.goto(f"/bids/{found['bid']}")
    check_printed(page, found["bid_ref"], found["title"], "the grantee's bid page")

    # The link to the grant agreement, in a sentence, prints where it goes (GOV.UK's print style for links).
    page.emulate_media(media="print")
    _, text = pdf_text(page)
    assert re.search(rf"\(\s*/agreements/{found['agreement']}\s*\)", text), text


def test_lists_print_without_their_filters(page: Any) -> None:
    sign_in(page, APPLICANT)
    page.goto("/monitoring/")
    expect(page.locator("form:has(.app-filter)")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("form:has(.app-filter)")).to_be_hidden()
    expect(page.get_by_test_id("return-list")).to_be_visible()
    expect(page.locator("h1")).to_have_text(re.compile("Monitoring returns"))
