"""Each role's dashboard: where they land after signing in, what it counts (against records made here through the
rules), that an applicant sees only their own organisation's, that the approver sees only what they may decide,
and that the number of statements does not grow with the data. The chart builder is tested on its own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from grants.assessment.rules import decide_award, declare_conflict, request_information
from grants.bids.lifecycle import BID
from grants.bids.rules import start_bid, submit_bid
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import AgreementVariation, Bid, ThrottleCounter
from grants.dashboards.charts import BLUE, GREEN, Group, Series, bar_chart, describe
from grants.dashboards.queries import decidable_by, variations_decidable_by
from grants.payments.rules import record_paid, schedule_payment
from grants.repayments.rules import RepaymentRequest, ask_repayment
from grants.variations.lifecycle import VARIATION
from grants.variations.rules import VariationInput, propose
from tests.conftest import World, make_submitted_bid, make_user, page, sign_in
from tests.records import _assess
from tests.test_agreements import approved_award, make_agreement
from tests.test_list_scale import LARGE, SMALL, Scale, statements

ROLES = ("applicant", "officer", "approver", "finance", "admin")


def count(soup: Any, key: str) -> int:
    node = soup.select_one(f"[data-testid={key}-count]")
    assert node is not None, f"no count for {key}"
    return int(re.match(r"\d+", node.get_text(strip=True)).group())  # type: ignore[union-attr]


def rows(soup: Any, key: str) -> list[str]:
    return [a.get_text(strip=True) for a in soup.select(f"[data-testid={key}] ul a")]


def dashboard(as_role: Any, role: str) -> Any:
    response = as_role(role).get("/dashboard/")
    assert response.status_code == 200
    return page(response)


def recommended_bid(world: World, title: str, *, org: str = "applicant") -> Bid:
    """A bid above the delegation limit, assessed and recommended by the officer: for an approver to decide."""
    bid = make_submitted_bid(world.user(org), world.scf_year, 3_000_00, title=title)
    officer = world.user("officer")
    _assess(bid, officer)
    outcome, problems = decide_award(bid, officer, 3_000_00, "Needed", uk_today(), public_summary="Summary")
    assert outcome is not None and bid.status == "recommended", problems
    db.session.commit()
    return bid


# Landing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_on_its_dashboard(client, world: World, role: str) -> None:
    sign_in(client, world.user(role))
    assert client.get("/").headers["Location"] == "/dashboard/"
    soup = page(client.get("/dashboard/"))
    assert soup.select_one("h1").get_text(strip=True) == "Home"
    first_nav = soup.select_one("nav .govuk-service-navigation__link")
    assert first_nav.get_text(strip=True) == "Home" and first_nav.get("aria-current") == "page"


def test_signed_out_people_are_sent_to_sign_in(client, world: World) -> None:
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


# Applicant ----------------------------------------------------------------------------------------------


def test_applicant_sees_only_their_organisations_work(as_role, world: World) -> None:
    applicant, other = world.user("applicant"), world.user("other_applicant")
    start_bid(applicant, world.scf_year, uk_today())
    start_bid(other, world.scf_year, uk_today())
    start_bid(other, world.scf_year, uk_today())
    asked = make_submitted_bid(applicant, world.scf_year, 1_000_00, title="Asked about")
    other_asked = make_submitted_bid(other, world.scf_year, 1_000_00, title="Other asked about")
    for bid in (asked, other_asked):
        assert request_information(bid, world.user("officer"), "Which streets?", uk_today()) == {}
    db.session.commit()

    soup = dashboard(as_role, "applicant")
    assert count(soup, "drafts") == 1
    assert count(soup, "information-requests") == 1
    assert rows(soup, "information-requests") == [f"{asked.reference} Asked about"]
    assert soup.select_one("[data-testid=information-requests-count]")["href"] == "/bids/"
    assert "Other asked about" not in soup.get_text()

    soup = dashboard(as_role, "other_applicant")
    assert count(soup, "drafts") == 2 and count(soup, "information-requests") == 1


def test_applicant_counts_agreements_variations_returns_and_repayments(as_role, world: World) -> None:
    make_agreement(world, "issued", title="To accept")
    active = make_agreement(world, "active", title="Running")
    officer, finance = world.user("officer"), world.user("finance")
    variation, problems = propose(active, officer, VariationInput(1_500_00, active.end_date, "", "Less needed"),
                                  uk_today())
    assert variation is not None and variation.status == "offered", problems
    payment, problems = schedule_payment(active, finance, 500_00, uk_today(), today=uk_today())
    assert payment is not None, problems
    assert record_paid(payment, finance, uk_today(), "AP-1", uk_today()) == {}
    repayment, problems = ask_repayment(active, officer, RepaymentRequest(120_00, "Unspent", None), uk_today())
    assert repayment is not None, problems
    db.session.commit()

    soup = dashboard(as_role, "applicant")
    assert count(soup, "agreements-to-accept") == 1
    assert soup.select_one("[data-testid=agreements-to-accept-count]")["href"] == "/agreements/?status=issued"
    assert count(soup, "variations-to-accept") == 1
    assert rows(soup, "variations-to-accept") == [variation.reference]
    # The running grant's current half-year has begun: its return can be completed now; none is overdue yet.
    assert count(soup, "returns-due") == 1 and count(soup, "returns-overdue") == 0
    assert count(soup, "repayments-owed") == 1
    assert soup.select_one("[data-testid=repayments-owed-total]").get_text(strip=True).startswith("£120.00")

    # None of it is the other organisation's.
    soup = dashboard(as_role, "other_applicant")
    assert [count(soup, key) for key in ("agreements-to-accept", "variations-to-accept", "returns-due",
                                         "repayments-owed")] == [0, 0, 0, 0]


def test_an_overdue_return_is_counted_as_overdue(as_role, world: World) -> None:
    agreement = make_agreement(world, "active")
    ret = agreement.returns[0]
    ret.due_on = uk_today() - timedelta(days=1)
    db.session.commit()
    soup = dashboard(as_role, "applicant")
    assert count(soup, "returns-overdue") == 1
    assert soup.select_one("[data-testid=returns-overdue-count]")["href"] == "/monitoring/?status=overdue"
    assert count(dashboard(as_role, "officer"), "returns-overdue") == 1


# Officer ------------------------------------------------------------------------------------------------


def test_officer_counts_a_resubmitted_bid_among_those_to_assess(as_role, world: World) -> None:
    applicant, officer = world.user("applicant"), world.user("officer")
    make_submitted_bid(applicant, world.scf_year, 1_000_00, title="First time")
    answered = make_submitted_bid(applicant, world.scf_year, 1_000_00, title="Answered")
    waiting = make_submitted_bid(world.user("other_applicant"), world.scf_year, 1_000_00, title="Not answered")
    for bid in (answered, waiting):
        assert request_information(bid, officer, "Which streets?", uk_today()) == {}
    db.session.commit()
    assert submit_bid(answered, applicant, uk_today()) == {}
    db.session.commit()
    assert answered.status in BID.action("assess").sources

    soup = dashboard(as_role, "officer")
    assert count(soup, "bids-to-assess") == 2
    assert count(soup, "bids-resubmitted") == 1
    assert rows(soup, "bids-resubmitted") == [f"{answered.reference} Answered"]
    assert soup.select_one("[data-testid=bids-to-assess-count]")["href"] == "/assess/?status=submitted"


def test_officer_counts_awards_without_agreements_drafts_and_returns_to_review(as_role, world: World) -> None:
    award = approved_award(world, title="No agreement yet")
    make_agreement(world, "draft", title="Draft to issue")
    soup = dashboard(as_role, "officer")
    assert count(soup, "awards-without-agreement") == 1
    assert rows(soup, "awards-without-agreement") == [f"BID-{award.bid_id:05d} No agreement yet"]
    assert count(soup, "agreements-to-issue") == 1
    assert count(soup, "returns-to-review") == 0


# Approver -----------------------------------------------------------------------------------------------


def test_approver_sees_only_recommendations_they_may_decide(as_role, world: World) -> None:
    second = make_user("approver2@opcc.example", "approver", world.opcc, "Second Approver")
    db.session.commit()
    open_to_both = recommended_bid(world, "Open to both")
    conflicted = recommended_bid(world, "Second has a conflict")
    assert declare_conflict(conflicted, second, "My brother runs it", uk_today())
    db.session.commit()

    soup = dashboard(as_role, "approver")
    assert count(soup, "awards-to-decide") == 2
    assert soup.select_one("[data-testid=awards-to-decide-count]")["href"] == "/assess/?status=recommended"

    for approver in (world.user("approver"), second):
        listed = set(db.session.scalars(select(Bid.id).where(decidable_by(approver))))
        by_lifecycle = {bid.id for bid in db.session.scalars(select(Bid).where(Bid.status == "recommended"))
                        if BID.refusal("approve_recommendation", approver, bid, uk_today()) is None}
        assert listed == by_lifecycle, approver.name
    assert set(db.session.scalars(select(Bid.id).where(decidable_by(second)))) == {open_to_both.id}


def test_approver_of_the_bidding_organisation_does_not_see_it(world: World) -> None:
    bid = recommended_bid(world, "Own organisation's")
    insider = world.user("approver")
    insider.organisation_id = bid.organisation_id
    db.session.commit()
    assert db.session.scalar(select(Bid.id).where(decidable_by(insider))) is None
    assert BID.refusal("approve_recommendation", insider, bid, uk_today()) is not None


def test_a_variation_is_only_for_the_approver_who_may_decide_it(as_role, world: World) -> None:
    agreement = make_agreement(world, "active")
    proposer = world.user("officer2")
    variation, problems = propose(agreement, proposer, VariationInput(4_000_00, agreement.end_date, "", "More events"),
                                  uk_today())
    assert variation is not None and variation.status == "awaiting_approval", problems
    # The officer who proposed it has since become an approver: they still may not approve their own proposal.
    proposer.role = "approver"
    db.session.commit()

    assert count(dashboard(as_role, "approver"), "variations-to-decide") == 1
    assert rows(dashboard(as_role, "approver"), "variations-to-decide") == [variation.reference]
    assert count(dashboard(as_role, "officer2"), "variations-to-decide") == 0
    for approver in (world.user("approver"), proposer):
        listed = set(db.session.scalars(select(AgreementVariation.id).join(AgreementVariation.agreement)
                                        .where(*variations_decidable_by(approver))))
        allowed = {variation.id} if VARIATION.refusal("approve", approver, variation, uk_today()) is None else set()
        assert listed == allowed, approver.name


# Finance ------------------------------------------------------------------------------------------------


def test_finance_shows_each_fund_years_money_in_a_chart_and_a_table(as_role, world: World) -> None:
    agreement = make_agreement(world, "active")  # £2,000 awarded from this year's Safer Communities Fund
    finance = world.user("finance")
    paid, problems = schedule_payment(agreement, finance, 800_00, uk_today(), today=uk_today())
    assert paid is not None, problems
    assert record_paid(paid, finance, uk_today(), "AP-1", uk_today()) == {}
    due, problems = schedule_payment(agreement, finance, 300_00, uk_today(), today=uk_today())
    assert due is not None, problems
    repayment, problems = ask_repayment(agreement, world.user("officer"), RepaymentRequest(50_00, "Unspent", None),
                                        uk_today())
    assert repayment is not None, problems
    db.session.commit()

    soup = dashboard(as_role, "finance")
    table = {row.select_one("th").get_text(strip=True): [td.get_text(strip=True) for td in row.select("td")]
             for row in soup.select("[data-testid=fund-year-money] tbody tr")}
    this_year = f"Safer Communities Fund {world.scf_year.label}"
    # Budget, committed, paid, still to pay (awarded less paid), repayments owed.
    assert table[this_year] == ["£20,000.00", "£2,000.00", "£800.00", "£1,200.00", "£50.00"]
    assert table[f"Safer Communities Fund {world.closed_year.label}"] == ["£20,000.00", "£0.00", "£0.00", "£0.00",
                                                                          "£0.00"]
    svg = soup.select_one("[data-testid=fund-year-chart] svg")
    assert svg["role"] == "img" and svg.select_one("title").get_text() == "Budget, committed and paid by fund-year"
    assert f"{this_year}: Budget £20,000.00, Committed £2,000.00, Paid £800.00." in svg.select_one("desc").get_text()
    assert count(soup, "payments-due-month") == 1
    assert soup.select_one("[data-testid=payments-due-month-total]").get_text(strip=True).startswith("£300.00")
    assert count(soup, "repayments-owed") == 1


# Admin --------------------------------------------------------------------------------------------------


def test_admin_sees_users_by_role_locked_accounts_funds_and_recent_events(as_role, world: World) -> None:
    spare = world.user("other_applicant")
    spare.active = False
    db.session.add(ThrottleCounter(key=f"sign-in account {world.user('applicant').email}", attempts=9, blocks=1,
                                   blocked_until=datetime.now(UTC) + timedelta(minutes=5)))
    db.session.add(ThrottleCounter(key=f"sign-in account {world.user('finance').email}", attempts=9, blocks=1,
                                   blocked_until=datetime.now(UTC) - timedelta(minutes=5)))  # the wait is over
    db.session.commit()

    soup = dashboard(as_role, "admin")
    by_role = {row.select_one("th").get_text(strip=True): [td.get_text(strip=True) for td in row.select("td")]
               for row in soup.select("[data-testid=users-by-role] tbody tr")}
    assert by_role["Applicant (grantee organisation)"] == ["1", "1"]
    assert by_role["Commissioning officer"] == ["2", "0"]
    assert soup.select_one("[data-testid=users-inactive]").get_text(" ", strip=True).startswith("1 deactivated account")
    assert soup.select_one("[data-testid=users-locked]").get_text(" ", strip=True).startswith("1 account locked")
    funds = soup.select_one("[data-testid=funds]").get_text(" ", strip=True)
    assert "1 fund with 2 financial years" in funds and "1 fund-year is open" in funds
    assert soup.select("[data-testid=recent-events] tbody tr")  # the sign-ins at least
    assert soup.select_one("[data-testid=audit-link]")["href"] == "/admin/audit"
    assert soup.select_one("[data-testid=users-chart] svg[role=img] title").get_text() == "Active users by role"


# Scale --------------------------------------------------------------------------------------------------


@pytest.fixture()
def scale(world: World) -> Scale:
    records = Scale(world)
    records.grow(SMALL)
    return records


@pytest.mark.parametrize("role", ROLES)
def test_statements_per_dashboard_do_not_grow_with_the_data(as_role, scale: Scale, role: str) -> None:
    client = as_role(role)
    small, _ = statements(client, "/dashboard/")
    scale.grow(LARGE)
    large, response = statements(client, "/dashboard/")
    assert large == small, f"{role}: {small} statements with {SMALL} of each record, {large} with {LARGE}"
    soup = page(response)
    if role == "applicant":  # the world's CSP has a grant from every scale fund, each with an overdue return
        assert count(soup, "returns-overdue") == LARGE and count(soup, "repayments-owed") == LARGE
        assert soup.select_one("[data-testid=returns-overdue-more]").get_text(" ", strip=True).startswith(
            f"And {LARGE - 5} more")
    if role == "finance":
        assert len(soup.select("[data-testid=fund-year-money] tbody tr")) == 12
        assert count(soup, "repayments-owed") == 2 * LARGE
    if role == "officer":
        assert count(soup, "returns-overdue") == 2 * LARGE


# Charts -------------------------------------------------------------------------------------------------


SERIES = (Series("Budget", BLUE), Series("Paid", GREEN))


def test_a_chart_is_an_image_named_and_described_for_screen_readers() -> None:
    svg = str(bar_chart("money", "Money by year", "Fund A: Budget 10, Paid 5.", SERIES,
                        [Group("Fund A", (10, 5)), Group("Fund B", (20, 0))]))
    assert re.match(r'<svg [^>]*role="img"[^>]*aria-labelledby="money-title money-desc"', svg)
    assert '<title id="money-title">Money by year</title>' in svg
    assert '<desc id="money-desc">Fund A: Budget 10, Paid 5.</desc>' in svg
    assert "style=" not in svg and "<script" not in svg


def test_bars_share_one_scale_and_are_labelled_with_their_values() -> None:
    svg = str(bar_chart("c", "t", "d", SERIES, [Group("A", (10, 5)), Group("B", (20, 0))], lambda v: f"£{v}"))
    bars = [float(w) for w in re.findall(r'<rect x="0" y="[\d.]+" width="([\d.]+)" height="16"', svg)]
    assert bars[0] == pytest.approx(bars[2] / 2) and bars[1] == pytest.approx(bars[2] / 4) and bars[3] == 0
    assert [re.sub("<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>[^<]*</text>", svg)] == [
        "Budget", "Paid", "A", "£10", "£5", "B", "£20", "£0"]


def test_one_series_needs_no_key_and_nothing_at_all_draws_empty_bars() -> None:
    svg = str(bar_chart("c", "t", "d", SERIES[:1], [Group("A", (0,)), Group("B", (-3,))]))
    assert 'width="14"' not in svg  # no key swatches
    assert re.findall(r'<rect x="0" y="[\d.]+" width="([\d.]+)" height="16"', svg) == ["0.0", "0.0"]


def test_names_are_escaped_and_a_group_must_match_its_series() -> None:
    svg = str(bar_chart("c", "<b>", "d & e", SERIES, [Group("Fund <script>", (1, 2))]))
    assert "<script>" not in svg and "Fund &lt;script&gt;" in svg and "<title id=\"c-title\">&lt;b&gt;</title>" in svg
    with pytest.raises(ValueError):
        bar_chart("c", "t", "d", SERIES, [Group("A", (1,))])


def test_describe_says_every_figure() -> None:
    assert describe(SERIES, [Group("A", (1, 2)), Group("B", (3, 4))], str) == "A: Budget 1, Paid 2. B: Budget 3, Paid 4."

