"""Every list page pages its rows and runs the same number of SQL statements whatever the amount of data.

Each page is read with a small set of records (3 of each kind), then again after the set has grown to 60 of each
kind (funds, measures, organisations, users, outbox emails, the audit events of one bid, agreement and return, and
twice as many bids, awards, agreements, payments and returns: half the world's CSP's, half other organisations'): the number of statements must not change, and at the larger size
there must be a second page (or, for the finance page's bounded lists, an "and N more" line). Records are made
directly with the models, as in test_exports."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from grants.core.audit import HISTORY_SHOWN
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.mail import queue_email
from grants.core.models import (
    AuditEvent,
    Fund,
    GrantAgreement,
    MeasureValue,
    MonitoringReturn,
    Organisation,
    OutcomeMeasure,
)
from tests.conftest import World, make_user, page
from tests.test_exports import Grants

SMALL = 3
LARGE = 60


@dataclass
class Scale:
    """Records that grow together: `grow(n)` adds to each kind until there are n of it."""

    world: World
    made: int = 0
    grants: Grants = field(init=False)
    measure_fund: Fund = field(init=False)
    agreements: list[GrantAgreement] = field(default_factory=list)
    returns: list[MonitoringReturn] = field(default_factory=list)
    people: list[int] = field(default_factory=list)  # the users made, each the actor of some events
    events: int = 0
    # Events are dated from here a minute apart, so those added as the set grows are the newest.
    since: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=30))

    def __post_init__(self) -> None:
        self.grants = Grants(self.world)
        self.measure_fund = Fund(name="Measured Fund", funding_source="home_office")
        db.session.add(self.measure_fund)
        db.session.flush()

    @property
    def bid_id(self) -> int:
        """The bid (and below, the agreement and return) whose history grows."""
        return self.agreements[0].bid_id

    @property
    def agreement_id(self) -> int:
        return self.agreements[0].id

    @property
    def return_id(self) -> int:
        return self.returns[0].id

    def grow(self, count: int) -> None:
        for k in range(self.made, count):
            self._one_of_each(k)
        self._events(count)
        db.session.commit()
        self.made = count

    def _one_of_each(self, k: int) -> None:
        """An organisation with a user; a fund (with a year) awarding a grant to the world's CSP and one to the new
        organisation (so staff lists show many organisations), each with its bid, award, agreement, a payment due
        soon, a repayment owed and an overdue return; an outcome measure (every other one answered); an email."""
        g, world, today = self.grants, self.world, uk_today()
        org = Organisation(name=f"Scale Organisation {k:03d}", org_type="other")
        fund = Fund(name=f"Scale Fund {k:03d}", funding_source="opcc")
        db.session.add_all([org, fund])
        db.session.flush()
        self.people.append(make_user(f"scale{k}@example.org", "applicant", org, f"Scale Person {k:03d}").id)
        fund_year = g.fund_year(f"scale{k}", fund)
        for key, grantee in ((f"scale{k}", world.csp), (f"scale{k}-other", org)):
            award = g.award(key, grantee, fund_year, amount=1_000_00 + k,
                            approved_at=datetime.now(UTC) - timedelta(minutes=k), title=f"Scale project {key}")
            agreement = g.agreement(key, award, status="active", start=today - timedelta(days=200),
                                    end=today + timedelta(days=200), repayment_pence=10_00 + k)
            g.payment(key, agreement, 100_00, today + timedelta(days=5))
            ret = g.monitoring_return(agreement, "H1", status="due", due_on=today - timedelta(days=10))
            if grantee is world.csp:
                self.agreements.append(agreement)
                self.returns.append(ret)
        measure = OutcomeMeasure(fund_id=self.measure_fund.id, name=f"Measure {k:03d}", unit="count", position=k)
        db.session.add(measure)
        db.session.flush()
        if k % 2:  # answered in a return (not the one whose page is read), so it can only be retired
            db.session.add(MeasureValue(return_id=self.returns[-1].id, measure_id=measure.id, value=k))
        queue_email(f"scale{k}@example.org", f"Message {k:03d}", "Hello")

    def _events(self, count: int) -> None:
        """Events on the bid, agreement (and its payment) and return, each by a different person (so a page that
        looked up each event's actor would run more statements as the history grows)."""
        payment_id = self.grants.payments["scale0"].id
        for k in range(self.events, count):
            for object_type, object_id, action in (
                ("bid", self.bid_id, "bid.saved"), ("grant_agreement", self.agreement_id, "grant_agreement.issued"),
                ("payment", payment_id, "payment.scheduled"), ("monitoring_return", self.return_id, "monitoring_return.saved"),
            ):
                db.session.add(AuditEvent(actor_id=self.people[k], action=action, object_type=object_type,
                                          object_id=object_id, note=f"Event {k:03d}",
                                          occurred_at=self.since + timedelta(minutes=k)))
        self.events = count


@pytest.fixture()
def scale(world: World) -> Scale:
    records = Scale(world)
    records.grow(SMALL)
    return records


@dataclass(frozen=True)
class ListPage:
    name: str
    role: str
    path: Callable[[Scale], str]
    kind: str = "paged"  # "paged": a next page at the larger size; "history": older events counted; "finance"


PAGES = [
    ListPage("monitoring.index (staff)", "officer", lambda s: "/monitoring/"),
    ListPage("monitoring.index (staff, overdue)", "officer", lambda s: "/monitoring/?status=overdue"),
    ListPage("monitoring.index (applicant)", "applicant", lambda s: "/monitoring/"),
    ListPage("agreements.index (staff)", "officer", lambda s: "/agreements/"),
    ListPage("agreements.index (staff, active)", "finance", lambda s: "/agreements/?status=active"),
    ListPage("agreements.index (applicant)", "applicant", lambda s: "/agreements/"),
    ListPage("bids.index", "applicant", lambda s: "/bids/"),
    ListPage("assessment.index", "officer", lambda s: "/assess/"),
    ListPage("assessment.index (filtered)", "approver", lambda s: f"/assess/?status=approved&organisation={s.world.csp.id}"),
    ListPage("admin.users", "admin", lambda s: "/admin/users"),
    ListPage("admin.users (applicants)", "admin", lambda s: "/admin/users?role=applicant"),
    ListPage("admin.organisations", "admin", lambda s: "/admin/organisations"),
    ListPage("admin.funds", "admin", lambda s: "/admin/funds"),
    ListPage("admin.measures", "admin", lambda s: f"/admin/funds/{s.measure_fund.id}/measures"),
    ListPage("admin.outbox", "admin", lambda s: "/admin/outbox"),
    ListPage("finance.index", "finance", lambda s: "/finance/", kind="finance"),
    ListPage("bid history (staff)", "officer", lambda s: f"/assess/bids/{s.bid_id}", kind="history"),
    ListPage("bid history (applicant)", "applicant", lambda s: f"/bids/{s.bid_id}", kind="history"),
    ListPage("agreement history", "officer", lambda s: f"/agreements/{s.agreement_id}", kind="history"),
    ListPage("return history", "officer", lambda s: f"/monitoring/{s.return_id}", kind="history"),
]


def statements(client: FlaskClient, path: str) -> tuple[int, Any]:
    """The SQL statements one request runs, and its response."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, (path, response.status_code)
    return len(seen), response


def _check_more(client: FlaskClient, spec: ListPage, path: str, response: Any) -> None:
    """At the larger size: a second page with rows on it (its link keeping the filters), or what is left out."""
    soup = page(response)
    if spec.kind == "history":
        assert len(soup.select("[data-testid=history] tbody tr")) == HISTORY_SHOWN
        older = soup.select_one("[data-testid=history-older]").get_text(" ", strip=True)
        assert re.search(r"Showing the newest 50 events\. \d+ older events are not shown", older), older
        return
    if spec.kind == "finance":
        assert "And 70 more payments due later" in soup.select_one("[data-testid=payments-due-more]").get_text()
        assert "And 10 more funds" in soup.select_one("[data-testid=overdue-returns-more]").get_text()
        assert "And 70 more repayments owed" in soup.select_one("[data-testid=repayments-owed-more]").get_text()
        assert len(soup.select("[data-testid=repayments-owed] tbody tr")) == 50
        assert len(soup.select("[data-testid=payments-due] tbody tr")) == 50
        assert len(soup.select("[data-testid=overdue-returns] tbody tr")) == 50
        return
    nav = soup.select_one("nav.govuk-pagination")
    assert nav is not None and re.search(r"Page 1 of [23]\b", nav.get_text(" ", strip=True)), spec.name
    assert nav.select_one("a[rel=prev]") is None
    following = nav.select_one("a[rel=next]")["href"]
    for kept in re.findall(r"[?&](\w+=[^&]*)", path):
        assert kept in following, (kept, following)
    second = client.get(following)
    assert second.status_code == 200
    nav = page(second).select_one("nav.govuk-pagination")
    assert re.search(r"Page 2 of [23]\b", nav.get_text(" ", strip=True)) and nav.select_one("a[rel=prev]")
    assert page(second).select("tbody tr, section[data-testid^=fund-]"), f"{spec.name}: nothing on page 2"


@pytest.mark.parametrize("spec", PAGES, ids=[p.name for p in PAGES])
def test_statements_per_page_do_not_grow_with_the_data(as_role: Any, scale: Scale, spec: ListPage) -> None:
    client = as_role(spec.role)
    small, _ = statements(client, spec.path(scale))
    scale.grow(LARGE)
    large, response = statements(client, spec.path(scale))
    assert large == small, f"{spec.name}: {small} statements with {SMALL} of each record, {large} with {LARGE}"
    _check_more(client, spec, spec.path(scale), response)


LISTS = [p for p in PAGES if p.kind == "paged"]


@pytest.mark.parametrize("spec", LISTS, ids=[p.name for p in LISTS])
def test_bad_page_numbers_never_fail(as_role: Any, scale: Scale, spec: ListPage) -> None:
    client = as_role(spec.role)
    path = spec.path(scale)
    joiner = "&" if "?" in path else "?"
    for bad in ("0", "-1", "abc", "2.5", "", "%00", "99999999999999999999", "100001"):
        response = client.get(f"{path}{joiner}page={bad}")
        assert response.status_code == 200, (path, bad)
    past_the_end = client.get(f"{path}{joiner}page=7")
    assert past_the_end.status_code == 200
    assert "on this page" in page(past_the_end).get_text(" ", strip=True), spec.name


def test_history_shows_everything_while_it_is_short(as_role: Any, scale: Scale) -> None:
    soup = page(as_role("officer").get(f"/monitoring/{scale.return_id}"))
    notes = [row.select("td")[3].get_text(strip=True) for row in soup.select("[data-testid=history] tbody tr")]
    assert notes == [f"Event {k:03d}" for k in range(SMALL)]  # oldest first
    assert soup.select_one("[data-testid=history-older]") is None
    scale.grow(LARGE)
    soup = page(as_role("officer").get(f"/monitoring/{scale.return_id}"))
    notes = [row.select("td")[3].get_text(strip=True) for row in soup.select("[data-testid=history] tbody tr")]
    assert notes == [f"Event {k:03d}" for k in range(LARGE - HISTORY_SHOWN, LARGE)]  # the newest, oldest first
    assert "10 older events are not shown" in soup.select_one("[data-testid=history-older]").get_text()


def test_the_applicant_sees_only_their_own_bid_events_and_none_are_lost_to_the_limit(as_role: Any,
                                                                                    scale: Scale) -> None:
    scale.grow(LARGE)
    officer = scale.world.user("officer")
    for k in range(HISTORY_SHOWN + 5):  # newer internal events: the applicant's 50 newest are still theirs
        db.session.add(AuditEvent(actor_id=officer.id, action="bid.assessed", object_type="bid",
                                  object_id=scale.bid_id, note=f"Internal {k}", occurred_at=datetime.now(UTC)))
    db.session.commit()
    soup = page(as_role("applicant").get(f"/bids/{scale.bid_id}"))
    history = soup.select_one("[data-testid=history]").get_text(" ", strip=True)
    assert "Internal" not in history and f"Event {LARGE - 1:03d}" in history
    assert "10 older events are not shown" in soup.select_one("[data-testid=history-older]").get_text()
    staff = page(as_role("officer").get(f"/assess/bids/{scale.bid_id}"))
    assert "Internal" in staff.select_one("[data-testid=history]").get_text()


def test_finance_lists_total_everything_they_do_not_show(as_role: Any, scale: Scale) -> None:
    scale.grow(LARGE)
    soup = page(as_role("finance").get("/finance/"))
    assert len(scale.grants.payments) == 2 * LARGE  # each £100, due in five days
    assert soup.select_one("[data-testid=payments-due-total]").get_text(strip=True) == "£12,000.00"
    assert soup.select_one("[data-testid=overdue-total]").get_text(strip=True) == str(2 * LARGE)
    link = soup.select_one("[data-testid=overdue-returns-more] a")["href"]
    assert link == "/monitoring/?status=overdue"


def test_filter_choices_load_only_what_they_show(as_role: Any, scale: Scale) -> None:
    seen: list[str] = []
    listener = lambda conn, cursor, statement, *args: seen.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        as_role("officer").get("/assess/")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    # No list of every organisation (the search finds one by name); the fund-year choices are ids and names.
    assert not [s for s in seen if re.search(r"FROM organisation\s+ORDER BY", s)], seen
    years = [s for s in seen if re.search(r"FROM fund_year JOIN fund", s)]
    assert years and all(re.match(r"SELECT fund_year.id, fund_year.year_start, fund.name\s+FROM", s) for s in years)
