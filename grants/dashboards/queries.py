"""What each role's dashboard counts, and the first few of each: aggregate, bounded queries, so a dashboard runs
the same number of statements however many records there are.

What counts as "to assess", "to accept", "overdue" and so on is read from the lifecycles: an item counts the
records in the states the lifecycle's action may be taken from (`sources`), narrowed by that action's guards
where a guard is about the record itself (the grant is running, the period has started). The approver's list also
narrows by the guards about the person (their own organisation, a declared conflict, their own recommendation or
assessment, their own proposal): those guards are Python, read per record, so they are said here again as
conditions of a query, and tests/test_dashboards.py checks the two agree on every record it makes.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select
from sqlalchemy.orm import joinedload

from grants.agreements.lifecycle import AGREEMENT, ENDED
from grants.auth.throttle import sign_in_keys
from grants.bids.lifecycle import BID
from grants.core.extensions import db
from grants.core.models import (
    ROLE_NAMES,
    AgreementVariation,
    Assessment,
    AuditEvent,
    Award,
    Bid,
    ConflictDeclaration,
    Decision,
    Fund,
    FundYear,
    GrantAgreement,
    MonitoringReturn,
    Organisation,
    Payment,
    Repayment,
    ThrottleCounter,
    User,
    bid_reference,
    summed,
    utcnow,
)
from grants.finance.queries import PaymentsDue, payments_due
from grants.monitoring.lifecycle import RETURN
from grants.monitoring.rules import overdue_condition
from grants.payments.lifecycle import PAYMENT
from grants.repayments.lifecycle import OWED
from grants.repayments.queries import RepaymentsOwed, outstanding_pence, repayments_owed
from grants.variations.lifecycle import VARIABLE, VARIATION

# The first few records shown under each count; the count links to the whole list.
SHOWN = 5
# Fund-years on the finance dashboard: the newest, enough for every fund this year and last.
FUND_YEARS_SHOWN = 12


def _sources(lifecycle: Any, action: str) -> tuple[str, ...]:
    return tuple(lifecycle.action(action).sources)


# The states each item counts, from the lifecycles.
DRAFTS = _sources(BID, "edit")
TO_ANSWER = _sources(BID, "resubmit")
TO_ASSESS = _sources(BID, "assess")
TO_DECIDE = _sources(BID, "decide")
RECOMMENDED = _sources(BID, "approve_recommendation")
AWARDED = _sources(BID, "prepare_agreement")
RESUBMITTED_EVENT = BID.event_name(BID.action("resubmit"))
AGREEMENTS_TO_ACCEPT = _sources(AGREEMENT, "accept")
AGREEMENTS_TO_ISSUE = _sources(AGREEMENT, "issue")
VARIATIONS_TO_ACCEPT = _sources(VARIATION, "accept")
VARIATIONS_TO_DECIDE = _sources(VARIATION, "approve")
RETURNS_TO_COMPLETE = _sources(RETURN, "complete")
RETURNS_TO_REVIEW = _sources(RETURN, "review")
PAID = PAYMENT.action("pay").target or "paid"
# The returns guards' "the grant is running": the agreement state monitoring runs in (activating schedules it).
RUNNING = AGREEMENT.action("activate").target or "active"


@dataclass(frozen=True)
class Row:
    """One record under a count: what it is called, a detail (who, when, how much), and its page."""

    text: str
    endpoint: str
    args: Mapping[str, Any]
    detail: str = ""


@dataclass(frozen=True)
class Item:
    """One count on a dashboard, the list it links to (filtered where the list can be), and the first few."""

    key: str  # its data-testid
    label: str
    count: int
    endpoint: str
    args: Mapping[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    total_pence: int | None = None  # money, where the item is money owed or due

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


def _counts(**queries: Select[Any]) -> dict[str, int]:
    """Several counts in one statement, each a scalar subquery."""
    row = db.session.execute(select(*(q.scalar_subquery().label(k) for k, q in queries.items()))).one()
    return {k: int(getattr(row, k) or 0) for k in queries}


def _count(model: Any, *where: Any) -> Select[Any]:
    return select(func.count(model.id)).where(*where)


def _bid_rows(*where: Any, oldest_first: bool = False) -> list[Row]:
    order = (Bid.submitted_at, Bid.id) if oldest_first else (Bid.updated_at.desc(), Bid.id.desc())
    rows = db.session.execute(
        select(Bid.id, Bid.title, Organisation.name.label("organisation"))
        .join(Organisation, Bid.organisation_id == Organisation.id)
        .where(*where).order_by(*order).limit(SHOWN))
    return [Row(f"{bid_reference(r.id)} {r.title or 'Untitled bid'}", "", {"bid_id": r.id}, r.organisation) for r in rows]


def _with_endpoint(rows: list[Row], endpoint: str) -> list[Row]:
    return [Row(r.text, endpoint, r.args, r.detail) for r in rows]


def _return_rows(*where: Any) -> list[Row]:
    rows = db.session.execute(
        select(MonitoringReturn.id, MonitoringReturn.period_name, MonitoringReturn.due_on, Bid.title,
               Organisation.name.label("organisation"))
        .join(GrantAgreement, MonitoringReturn.agreement_id == GrantAgreement.id)
        .join(Bid, GrantAgreement.bid_id == Bid.id)
        .join(Organisation, GrantAgreement.organisation_id == Organisation.id)
        .where(*where).order_by(MonitoringReturn.due_on, MonitoringReturn.id).limit(SHOWN))
    return [Row(f"{r.title}: {r.period_name}", "monitoring.view", {"return_id": r.id},
                f"{r.organisation}, due {r.due_on:%-d %B %Y}") for r in rows]


def _agreement_rows(*where: Any) -> list[Row]:
    rows = db.session.execute(
        select(GrantAgreement.id, GrantAgreement.amount_pence, Bid.title, Organisation.name.label("organisation"))
        .join(Bid, GrantAgreement.bid_id == Bid.id)
        .join(Organisation, GrantAgreement.organisation_id == Organisation.id)
        .where(*where).order_by(GrantAgreement.created_at, GrantAgreement.id).limit(SHOWN))
    return [Row(f"GA-{r.id:05d} {r.title}", "agreements.view", {"agreement_id": r.id}, r.organisation) for r in rows]


def _variation_rows(*where: Any) -> list[Row]:
    rows = db.session.execute(
        select(AgreementVariation.id, AgreementVariation.number, AgreementVariation.agreement_id,
               AgreementVariation.new_amount_pence, Organisation.name.label("organisation"))
        .join(GrantAgreement, AgreementVariation.agreement_id == GrantAgreement.id)
        .join(Organisation, GrantAgreement.organisation_id == Organisation.id)
        .where(*where).order_by(AgreementVariation.created_at, AgreementVariation.id).limit(SHOWN))
    return [Row(f"GA-{r.agreement_id:05d}-V{r.number}", "variations.view", {"variation_id": r.id},
                r.organisation) for r in rows]


# --- Applicant --------------------------------------------------------------------------------------------


def _returns_to_complete(today: date) -> ColumnElement[bool]:
    """Returns the grantee can complete now: waiting for it, its grant running, its period begun (the complete
    and submit actions' guards)."""
    return and_(MonitoringReturn.status.in_(RETURNS_TO_COMPLETE), GrantAgreement.status == RUNNING,
                MonitoringReturn.period_start <= today)


def _org_returns(organisation_id: int, *where: Any) -> Select[Any]:
    return (select(func.count(MonitoringReturn.id))
            .join(GrantAgreement, MonitoringReturn.agreement_id == GrantAgreement.id)
            .where(GrantAgreement.organisation_id == organisation_id, *where))


def _variations_to_accept(organisation_id: int) -> tuple[ColumnElement[bool], ...]:
    return (GrantAgreement.organisation_id == organisation_id,
            AgreementVariation.status.in_(VARIATIONS_TO_ACCEPT), GrantAgreement.status.in_(VARIABLE))


def applicant_dashboard(organisation_id: int, today: date) -> list[Item]:
    """An applicant organisation's work: drafts, questions to answer, agreements and variations to accept,
    returns to complete and overdue, repayments owed."""
    own_bid = Bid.organisation_id == organisation_id
    own_agreement = GrantAgreement.organisation_id == organisation_id
    owed = Repayment.status.in_(OWED)
    counts = _counts(
        drafts=_count(Bid, own_bid, Bid.status.in_(DRAFTS)),
        to_answer=_count(Bid, own_bid, Bid.status.in_(TO_ANSWER)),
        agreements=_count(GrantAgreement, own_agreement, GrantAgreement.status.in_(AGREEMENTS_TO_ACCEPT)),
        variations=select(func.count(AgreementVariation.id))
        .join(GrantAgreement, AgreementVariation.agreement_id == GrantAgreement.id)
        .where(*_variations_to_accept(organisation_id)),
        returns=_org_returns(organisation_id, _returns_to_complete(today)),
        overdue=_org_returns(organisation_id, overdue_condition(today)),
        repayments=select(func.count(Repayment.id))
        .join(GrantAgreement, Repayment.agreement_id == GrantAgreement.id).where(own_agreement, owed),
        repayments_pence=select(summed(outstanding_pence()))
        .join(GrantAgreement, Repayment.agreement_id == GrantAgreement.id).where(own_agreement, owed),
    )
    repayments = db.session.execute(
        select(Repayment.id, Repayment.agreement_id, Repayment.due_on,
               (Repayment.amount_pence - Repayment.received_pence).label("owed"))
        .join(GrantAgreement, Repayment.agreement_id == GrantAgreement.id)
        .where(own_agreement, owed).order_by(Repayment.due_on, Repayment.id).limit(SHOWN))
    return [
        Item("drafts", "Draft bids", counts["drafts"], "bids.index",
             rows=_with_endpoint(_bid_rows(own_bid, Bid.status.in_(DRAFTS)), "bids.edit")),
        Item("information-requests", "Bids where the OPCC has asked for more information", counts["to_answer"],
             "bids.index", rows=_with_endpoint(_bid_rows(own_bid, Bid.status.in_(TO_ANSWER)), "bids.view")),
        Item("agreements-to-accept", "Grant agreements to accept", counts["agreements"], "agreements.index",
             {"status": AGREEMENTS_TO_ACCEPT[0]},
             rows=_agreement_rows(own_agreement, GrantAgreement.status.in_(AGREEMENTS_TO_ACCEPT))),
        Item("variations-to-accept", "Variations to accept", counts["variations"], "agreements.index",
             rows=_variation_rows(*_variations_to_accept(organisation_id))),
        Item("returns-due", "Monitoring returns to complete now", counts["returns"], "monitoring.index",
             {"status": RETURNS_TO_COMPLETE[0]},
             rows=_return_rows(own_agreement, _returns_to_complete(today))),
        Item("returns-overdue", "Monitoring returns overdue", counts["overdue"], "monitoring.index",
             {"status": "overdue"}, rows=_return_rows(own_agreement, overdue_condition(today))),
        Item("repayments-owed", "Repayments owed to the OPCC", counts["repayments"], "agreements.index",
             rows=[Row(f"REP-{r.id:05d}", "agreements.view", {"agreement_id": r.agreement_id, "_anchor": "repayments"},
                       f"due {r.due_on:%-d %B %Y}") for r in repayments],
             total_pence=counts["repayments_pence"]),
    ]


# --- Officer ----------------------------------------------------------------------------------------------


def _resubmitted() -> ColumnElement[bool]:
    """A bid to assess that came back with the more information asked for: it has been resubmitted."""
    return and_(Bid.status.in_(TO_ASSESS), exists().where(
        AuditEvent.object_type == BID.record, AuditEvent.object_id == Bid.id, AuditEvent.action == RESUBMITTED_EVENT))


def _no_agreement() -> ColumnElement[bool]:
    return and_(Bid.status.in_(AWARDED), ~exists().where(GrantAgreement.bid_id == Bid.id))


def _reviewable() -> tuple[ColumnElement[bool], ...]:
    return (MonitoringReturn.status.in_(RETURNS_TO_REVIEW), GrantAgreement.status == RUNNING)


def officer_dashboard(today: date) -> list[Item]:
    """Bids to assess (and which came back with more information), to decide, awards waiting for an agreement,
    drafts to issue, returns to review and overdue."""
    counts = _counts(
        to_assess=_count(Bid, Bid.status.in_(TO_ASSESS)),
        resubmitted=_count(Bid, _resubmitted()),
        to_decide=_count(Bid, Bid.status.in_(TO_DECIDE)),
        no_agreement=_count(Bid, _no_agreement()),
        to_issue=_count(GrantAgreement, GrantAgreement.status.in_(AGREEMENTS_TO_ISSUE)),
        to_review=select(func.count(MonitoringReturn.id))
        .join(GrantAgreement, MonitoringReturn.agreement_id == GrantAgreement.id).where(*_reviewable()),
        overdue=_count(MonitoringReturn, overdue_condition(today)),
    )
    return [
        Item("bids-to-assess", "Bids to assess", counts["to_assess"], "assessment.index", {"status": TO_ASSESS[0]},
             rows=_with_endpoint(_bid_rows(Bid.status.in_(TO_ASSESS), oldest_first=True), "assessment.bid")),
        Item("bids-resubmitted", "Bids resubmitted with more information", counts["resubmitted"], "assessment.index",
             {"status": TO_ASSESS[0]},
             rows=_with_endpoint(_bid_rows(_resubmitted(), oldest_first=True), "assessment.bid")),
        Item("bids-to-decide", "Bids in review, to decide", counts["to_decide"], "assessment.index",
             {"status": TO_DECIDE[0]},
             rows=_with_endpoint(_bid_rows(Bid.status.in_(TO_DECIDE), oldest_first=True), "assessment.bid")),
        Item("awards-without-agreement", "Awards with no agreement prepared yet", counts["no_agreement"],
             "assessment.index", {"status": AWARDED[0]},
             rows=_with_endpoint(_bid_rows(_no_agreement(), oldest_first=True), "assessment.bid")),
        Item("agreements-to-issue", "Draft agreements to issue", counts["to_issue"], "agreements.index",
             {"status": AGREEMENTS_TO_ISSUE[0]},
             rows=_agreement_rows(GrantAgreement.status.in_(AGREEMENTS_TO_ISSUE))),
        Item("returns-to-review", "Monitoring returns to review", counts["to_review"], "monitoring.index",
             {"status": RETURNS_TO_REVIEW[0]}, rows=_return_rows(*_reviewable())),
        Item("returns-overdue", "Monitoring returns overdue", counts["overdue"], "monitoring.index",
             {"status": "overdue"}, rows=_return_rows(overdue_condition(today))),
    ]


# --- Approver ---------------------------------------------------------------------------------------------


def _latest(column: Any, model: Any, *where: Any) -> Any:
    """The column of a bid's latest row of `model` (by time, then id), as a correlated subquery."""
    return (select(column).where(model.bid_id == Bid.id, *where)
            .order_by(model.created_at.desc(), model.id.desc()).limit(1).correlate(Bid).scalar_subquery())


def decidable_by(user: User) -> ColumnElement[bool]:
    """Recommended bids this approver may decide: BID's approve_recommendation sources and guards (not their own
    organisation's, no conflict declared, not their own recommendation or assessment)."""
    conditions: list[ColumnElement[bool]] = [
        Bid.status.in_(RECOMMENDED),
        ~exists().where(ConflictDeclaration.bid_id == Bid.id, ConflictDeclaration.user_id == user.id),
        func.coalesce(_latest(Decision.decided_by_id, Decision, Decision.kind == "recommended"), 0) != user.id,
        func.coalesce(_latest(Assessment.assessor_id, Assessment), 0) != user.id,
    ]
    if user.organisation_id is not None:
        conditions.append(Bid.organisation_id != user.organisation_id)
    return and_(*conditions)


def variations_decidable_by(user: User) -> tuple[ColumnElement[bool], ...]:
    """Variations this approver may approve: VARIATION's approve sources and guards (the agreement may still be
    varied; not their own proposal)."""
    return (AgreementVariation.status.in_(VARIATIONS_TO_DECIDE), GrantAgreement.status.in_(VARIABLE),
            AgreementVariation.proposed_by_id != user.id)


def approver_dashboard(user: User) -> list[Item]:
    counts = _counts(
        awards=_count(Bid, decidable_by(user)),
        variations=select(func.count(AgreementVariation.id))
        .join(GrantAgreement, AgreementVariation.agreement_id == GrantAgreement.id)
        .where(*variations_decidable_by(user)),
    )
    return [
        Item("awards-to-decide", "Recommended awards to decide", counts["awards"], "assessment.index",
             {"status": RECOMMENDED[0]},
             rows=_with_endpoint(_bid_rows(decidable_by(user), oldest_first=True), "assessment.bid")),
        Item("variations-to-decide", "Variations awaiting your approval", counts["variations"], "agreements.index",
             rows=_variation_rows(*variations_decidable_by(user))),
    ]


# --- Finance ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundYearMoney:
    fund: str
    label: str
    budget_pence: int
    committed_pence: int
    paid_pence: int
    outstanding_pence: int  # awarded on grants not ended, not yet paid
    repayments_owed_pence: int

    @property
    def name(self) -> str:
        return f"{self.fund} {self.label}"


@dataclass(frozen=True)
class FinanceDashboard:
    fund_years: list[FundYearMoney]
    fund_years_total: int
    payments_due: PaymentsDue
    month_end: date
    repayments: RepaymentsOwed


def _by_fund_year(value: Any, *where: Any) -> Any:
    """SUM(value) per fund-year over the fund-year's awards, their agreements and `where`, as a subquery."""
    return (select(Award.fund_year_id, summed(value).label("total"))
            .select_from(Award).outerjoin(GrantAgreement, GrantAgreement.award_id == Award.id)
            .where(*where).group_by(Award.fund_year_id).subquery())


def fund_year_money(shown: int = FUND_YEARS_SHOWN) -> tuple[list[FundYearMoney], int]:
    """The newest `shown` fund-years' money, with the number of all fund-years: two statements."""
    paid = (select(Award.fund_year_id, summed(Payment.amount_pence).label("total"))
            .select_from(Payment).join(GrantAgreement, Payment.agreement_id == GrantAgreement.id)
            .join(Award, GrantAgreement.award_id == Award.id)
            .where(Payment.status == PAID).group_by(Award.fund_year_id).subquery())
    paid_per_agreement = (select(func.coalesce(func.sum(Payment.amount_pence), 0))
                          .where(Payment.agreement_id == GrantAgreement.id, Payment.status == PAID)
                          .correlate(GrantAgreement).scalar_subquery())
    # A grant not ended still owes what it is for (the agreement's amount, varied or not; the award's until there
    # is an agreement) less what has been paid.
    to_pay = _by_fund_year(func.coalesce(GrantAgreement.amount_pence, Award.amount_pence)
                           - func.coalesce(paid_per_agreement, 0),
                           or_(GrantAgreement.id.is_(None), GrantAgreement.status.not_in(ENDED)))
    owed = (select(Award.fund_year_id, summed(outstanding_pence()).label("total"))
            .select_from(Repayment).join(GrantAgreement, Repayment.agreement_id == GrantAgreement.id)
            .join(Award, GrantAgreement.award_id == Award.id)
            .where(Repayment.status.in_(OWED)).group_by(Award.fund_year_id).subquery())
    rows = db.session.execute(
        select(FundYear.year_start, FundYear.budget_pence, FundYear.committed_pence, Fund.name,
               func.coalesce(paid.c.total, 0).label("paid"), func.coalesce(to_pay.c.total, 0).label("to_pay"),
               func.coalesce(owed.c.total, 0).label("owed"))
        .join(Fund, FundYear.fund_id == Fund.id)
        .outerjoin(paid, paid.c.fund_year_id == FundYear.id)
        .outerjoin(to_pay, to_pay.c.fund_year_id == FundYear.id)
        .outerjoin(owed, owed.c.fund_year_id == FundYear.id)
        .order_by(FundYear.year_start.desc(), Fund.name, FundYear.id).limit(shown))
    total = db.session.scalar(select(func.count(FundYear.id))) or 0
    return [FundYearMoney(r.name, f"{r.year_start}-{(r.year_start + 1) % 100:02d}", r.budget_pence,
                          r.committed_pence, int(r.paid), max(0, int(r.to_pay)), int(r.owed)) for r in rows], total


def finance_dashboard(today: date) -> FinanceDashboard:
    """Money per fund-year, payments due by the end of this month (and any past due), repayments owed: the finance
    page's own queries, fewer rows shown."""
    month_end = today.replace(day=monthrange(today.year, today.month)[1])
    fund_years, total = fund_year_money()
    return FinanceDashboard(fund_years, total, payments_due(today, (month_end - today).days, shown=SHOWN), month_end,
                            repayments_owed(shown=SHOWN))


# --- Admin ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleCount:
    role: str
    name: str
    active: int
    inactive: int


@dataclass(frozen=True)
class AdminDashboard:
    roles: list[RoleCount]
    locked: int
    funds: int
    fund_years: int
    open_fund_years: int
    recent: list[AuditEvent]

    @property
    def inactive(self) -> int:
        return sum(r.inactive for r in self.roles)

    @property
    def users(self) -> int:
        return sum(r.active + r.inactive for r in self.roles)


def admin_dashboard(today: date, config: Mapping[str, Any]) -> AdminDashboard:
    """Users by role (active and not), accounts locked out of signing in now, funds and fund-years, the newest audit
    events: four statements."""
    per_role = {(r.role, bool(r.active)): r.n for r in db.session.execute(
        select(User.role, User.active, func.count(User.id).label("n")).group_by(User.role, User.active))}
    roles = [RoleCount(role, name, per_role.get((role, True), 0), per_role.get((role, False), 0))
             for role, name in ROLE_NAMES.items()]
    # The throttle's per-account key (grants.auth.throttle), whatever the address: blocked now means locked out.
    account_key = sign_in_keys(config, "", "")[2][1]
    counts = _counts(
        locked=select(func.count(func.distinct(User.id))).join(
            ThrottleCounter, ThrottleCounter.key == literal(account_key) + User.email)
        .where(ThrottleCounter.blocked_until > utcnow()),
        funds=select(func.count(Fund.id)),
        fund_years=select(func.count(FundYear.id)),
        open_fund_years=_count(FundYear, FundYear.opens_on <= today, FundYear.closes_on >= today),
    )
    recent = list(db.session.scalars(
        select(AuditEvent).options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(SHOWN)))
    return AdminDashboard(roles, counts["locked"], counts["funds"], counts["fund_years"], counts["open_fund_years"],
                          recent)
