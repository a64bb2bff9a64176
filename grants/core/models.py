"""Database models. Money is integer pence; dates are real dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    cast,
    event,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from grants.core.dates import Period, financial_year_start, period_named
from grants.core.extensions import Model


def utcnow() -> datetime:
    return datetime.now(UTC)


# Money in pence, 64-bit: a budget above £21 million does not fit 32 bits. SQLite's INTEGER is 64-bit already.
Money = BigInteger().with_variant(Integer(), "sqlite")


def bid_reference(bid_id: int) -> str:
    """A record's reference as people quote it; the models' `reference` properties and every list and export
    that has only the id use these."""
    return f"BID-{bid_id:05d}"


def agreement_reference(agreement_id: int | None) -> str | None:
    return None if agreement_id is None else f"GA-{agreement_id:05d}"


@lru_cache(maxsize=1024)  # a few periods a year; lists and returns ask for the same ones row after row
def return_period(period_start: date, period_name: str) -> Period:
    """A monitoring return's reporting period, from its start and name (H1, Q3 ...)."""
    return period_named(financial_year_start(period_start), period_name)  # type: ignore[return-value]


def payment_reference(payment_id: int) -> str:
    return f"PAY-{payment_id:05d}"


def repayment_reference(repayment_id: int) -> str:
    return f"REP-{repayment_id:05d}"


def summed(expression: Any) -> ColumnElement[int]:
    """SUM(expression), 0 when there are no rows, as a 64-bit integer: PostgreSQL sums bigint columns as
    numeric, which would otherwise reach Python as Decimal."""
    return cast(func.coalesce(func.sum(expression), 0), BigInteger)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


ROLES = ("applicant", "officer", "approver", "finance", "admin")
ROLE_NAMES = {
    "applicant": "Applicant (grantee organisation)",
    "officer": "Commissioning officer",
    "approver": "Approver",
    "finance": "Finance",
    "admin": "Administrator",
}
FUNDING_SOURCES = {"opcc": "OPCC", "moj": "Ministry of Justice", "home_office": "Home Office"}
REPORTING_FREQUENCIES = {"half_yearly": "Six-monthly (H1, H2)", "quarterly": "Quarterly (Q1 to Q4)"}
# The Home Office asks for quarterly monitoring; the others six-monthly, unless an admin says otherwise.
DEFAULT_FREQUENCY = {"opcc": "half_yearly", "moj": "half_yearly", "home_office": "quarterly"}
BUDGET_KINDS = {"revenue": "Revenue", "capital": "Capital"}
MEASURE_UNITS = {"count": "Number", "percentage": "Percentage", "money": "Money", "yes_no": "Yes or no"}
RAG_RATINGS = {"green": "Green", "amber": "Amber", "red": "Red"}
ORG_TYPES = {"csp": "Community Safety Partnership", "opcc": "OPCC", "other": "Other organisation"}


class Organisation(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    org_type: Mapped[str] = mapped_column(String(20), default="csp")
    # org-id code (e.g. GB-LAE-CAB) used in open data.
    org_identifier: Mapped[str | None] = mapped_column(String(100))
    charity_number: Mapped[str | None] = mapped_column(String(20))
    company_number: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(10))
    # The local authority district the organisation serves (a CSP's area is its district), as ONS codes it.
    district_code: Mapped[str | None] = mapped_column(String(9))
    district_name: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(UserMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Rotated at sign-in, cleared at sign-out, password change and disable, so an
    # old session cookie stops working (see Flask-Login "alternative tokens").
    session_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Time-based one-time passwords (RFC 6238): the shared secret (base32), when the user proved their
    # authenticator holds it, and the last time step accepted, so no code is accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")

    __table_args__ = (CheckConstraint("role in ('applicant','officer','approver','finance','admin')", name="role"),)

    def get_id(self) -> str:
        return self.session_token or ""

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[self.role]


class PasswordResetToken(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class RecoveryCode(Model):
    """A single-use code to sign in without the authenticator; only its hash is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThrottleCounter(Model):
    """Failed attempts counted against one key (a client address, an account, or both), shared by every
    worker and server because it lives in the database."""

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    blocks: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResetRequest(Model):
    """An address someone typed into the forgot-password page. The mail sender turns it into a reset email
    (or nothing, for an unknown address), so the page does the same work either way."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class Fund(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    funding_source: Mapped[str] = mapped_column(String(20), default="opcc")
    # Days after a monitoring period ends that its return is due.
    monitoring_due_days: Mapped[int] = mapped_column(Integer, default=31)
    # Six-monthly (H1, H2) or quarterly (Q1 to Q4) monitoring returns.
    reporting_frequency: Mapped[str] = mapped_column(String(20), default="half_yearly", server_default="half_yearly")
    # Days before a return is due that the grantee is reminded.
    reminder_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    years: Mapped[list[FundYear]] = relationship(
        back_populates="fund", order_by="FundYear.year_start.desc()"
    )
    measures: Mapped[list[OutcomeMeasure]] = relationship(
        back_populates="fund", order_by="OutcomeMeasure.position, OutcomeMeasure.id"
    )

    __table_args__ = (
        CheckConstraint("funding_source in ('opcc','moj','home_office')", name="funding_source"),
        CheckConstraint("monitoring_due_days >= 0", name="due_days"),
        CheckConstraint("reporting_frequency in ('half_yearly','quarterly')", name="reporting_frequency"),
        CheckConstraint("reminder_days >= 0", name="reminder_days"),
    )

    @property
    def frequency_name(self) -> str:
        return REPORTING_FREQUENCIES[self.reporting_frequency]

    @property
    def funding_source_name(self) -> str:
        return FUNDING_SOURCES[self.funding_source]


class FundYear(Model):
    """A fund's money and rules for one financial year (1 April to 31 March)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"))
    year_start: Mapped[int] = mapped_column(Integer)  # 2025 means 2025-26
    budget_pence: Mapped[int] = mapped_column(Money)
    per_bid_cap_pence: Mapped[int] = mapped_column(Money)
    per_applicant_cap_pence: Mapped[int | None] = mapped_column(Money)
    delegation_limit_pence: Mapped[int] = mapped_column(Money)
    # Sum of approved awards; only ever changed by the guarded update in grants.assessment.caps.
    committed_pence: Mapped[int] = mapped_column(Money, default=0)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)

    fund: Mapped[Fund] = relationship(back_populates="years")

    __table_args__ = (
        UniqueConstraint("fund_id", "year_start", name="uq_fund_year_fund_id_year_start"),
        CheckConstraint("budget_pence >= 0", name="budget"),
        CheckConstraint("per_bid_cap_pence > 0", name="per_bid_cap"),
        CheckConstraint("per_applicant_cap_pence IS NULL OR per_applicant_cap_pence > 0", name="per_applicant_cap"),
        CheckConstraint("delegation_limit_pence >= 0", name="delegation_limit"),
        CheckConstraint("committed_pence >= 0 AND committed_pence <= budget_pence", name="committed"),
        CheckConstraint("closes_on >= opens_on", name="dates"),
    )

    @property
    def label(self) -> str:
        return f"{self.year_start}-{(self.year_start + 1) % 100:02d}"

    @property
    def remaining_pence(self) -> int:
        return self.budget_pence - self.committed_pence

    def is_open(self, on: date) -> bool:
        return self.opens_on <= on <= self.closes_on


class Bid(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    fund_year_id: Mapped[int] = mapped_column(ForeignKey("fund_year.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    local_issue: Mapped[str] = mapped_column(Text, default="")
    activities: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    theme: Mapped[str] = mapped_column(String(30), default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    outputs: Mapped[str] = mapped_column(Text, default="")
    outcomes: Mapped[str] = mapped_column(Text, default="")
    other_funding: Mapped[str] = mapped_column(Text, default="")
    other_funding_pence: Mapped[int] = mapped_column(Money, default=0)
    declaration: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_by: Mapped[str] = mapped_column(String(200), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic lock: two people saving the same bid cannot silently overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    organisation: Mapped[Organisation] = relationship()
    fund_year: Mapped[FundYear] = relationship()
    created_by: Mapped[User] = relationship()
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="bid", order_by="BudgetLine.position", cascade="all, delete-orphan"
    )
    # The grant agreement made from the bid's award, once there is one (a bid has at most one).
    agreement: Mapped[GrantAgreement | None] = relationship(back_populates="bid", uselist=False, viewonly=True)
    # Supporting documents (quotes, letters of support), oldest first.
    documents: Mapped[list[BidDocument]] = relationship(back_populates="bid", order_by="BidDocument.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(
            "status in ('draft','submitted','in_review','info_requested','recommended',"
            "'approved','rejected','withdrawn')",
            name="status",
        ),
        CheckConstraint("other_funding_pence >= 0", name="other_funding"),
    )

    @property
    def reference(self) -> str:
        return bid_reference(self.id)

    @property
    def requested_pence(self) -> int:
        return sum(line.amount_pence for line in self.budget_lines)


class BudgetLine(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(200))
    amount_pence: Mapped[int] = mapped_column(Money)
    # Capital (equipment, works) or revenue (staff, running costs): departments report them apart.
    kind: Mapped[str] = mapped_column(String(10), default="revenue", server_default="revenue")

    bid: Mapped[Bid] = relationship(back_populates="budget_lines")

    __table_args__ = (
        CheckConstraint("amount_pence >= 0", name="amount"),
        CheckConstraint("kind in ('capital','revenue')", name="kind"),
    )


class AuditEvent(Model):
    """Append-only record of every change of state."""

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()

    # A record's history, newest first.
    __table_args__ = (Index("ix_audit_event_object_time", "object_type", "object_id", "occurred_at", "id"),)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise RuntimeError("audit events are never edited or deleted")


class OutboxEmail(Model):
    """Every email the system sends; kept even when no mail server is configured."""

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")
    # The user the message was written to, so they can read it in the app (Notifications); None for an address
    # that is no user's. When they first opened it there.
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BidSnapshot(Model):
    """Key facts of a bid as submitted, kept for each submission so resubmissions keep history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    submission_number: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("bid_id", "submission_number", name="uq_bid_snapshot_bid_id_number"),)


FRAUD_RISKS = {"low": "Low", "medium": "Medium", "high": "High"}


class Assessment(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    criteria_scores: Mapped[dict[str, int]] = mapped_column(JSON)
    total_score: Mapped[int] = mapped_column(Integer)
    comments: Mapped[str] = mapped_column(Text, default="")
    recommended_pence: Mapped[int] = mapped_column(Money)
    conflict_of_interest: Mapped[bool] = mapped_column(Boolean, default=False)
    conflict_details: Mapped[str] = mapped_column(Text, default="")
    organisation_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    due_diligence_notes: Mapped[str] = mapped_column(Text, default="")
    fraud_risk: Mapped[str] = mapped_column(String(10))
    fraud_risk_reasons: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bid: Mapped[Bid] = relationship()
    assessor: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("fraud_risk in ('low','medium','high')", name="fraud_risk"),
        CheckConstraint("recommended_pence >= 0", name="recommended"),
    )


class ConflictDeclaration(Model):
    """A person's declared conflict of interest in a bid: it bars them from that bid for good."""

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    details: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("bid_id", "user_id", name="uq_conflict_declaration_bid_user"),)


class Decision(Model):
    """One decision step on a bid: a request for information, a rejection, a recommendation, an approval."""

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_pence: Mapped[int | None] = mapped_column(Money)
    reasons: Mapped[str] = mapped_column(Text)
    # The summary to publish, for a recommendation or an approval (the approver may reword it).
    public_summary: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bid: Mapped[Bid] = relationship()
    decided_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(
            "kind in ('info_requested','rejected','recommended','approved')", name="kind"
        ),
    )


class Award(Model):
    """An approved award: the money committed against a fund-year's budget."""

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), unique=True)
    fund_year_id: Mapped[int] = mapped_column(ForeignKey("fund_year.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(Money)
    # Why the grant will secure or contribute to crime and disorder reduction
    # (Specified Information Order 2011, Schedule para 3(f)); published as written.
    reasons: Mapped[str] = mapped_column(Text)
    # What the grant is for, in the OPCC's words, as published (the applicant's own text is not).
    public_summary: Mapped[str] = mapped_column(Text)
    recommended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bid: Mapped[Bid] = relationship()
    fund_year: Mapped[FundYear] = relationship()
    organisation: Mapped[Organisation] = relationship()
    recommended_by: Mapped[User | None] = relationship(foreign_keys=[recommended_by_id])
    approved_by: Mapped[User] = relationship(foreign_keys=[approved_by_id])

    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount"),)


class GrantAgreement(Model):
    """The agreement made from an approved award: its conditions, the grantee's acceptance, and its end."""

    __tablename__ = "grant_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"), unique=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    amount_pence: Mapped[int] = mapped_column(Money)
    # Sum of scheduled and paid payments; only ever changed by the guarded update in grants.payments.
    scheduled_pence: Mapped[int] = mapped_column(Money, default=0)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    # Kept as issued, so later changes to the standard wording never rewrite a signed agreement.
    standard_conditions: Mapped[str] = mapped_column(Text)
    special_conditions: Mapped[str] = mapped_column(Text, default="")
    prepared_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    accepted_name: Mapped[str] = mapped_column(String(200), default="")
    accepted_role: Mapped[str] = mapped_column(String(200), default="")
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(Text, default="")
    # The version of the standard conditions it was issued with (their text is kept above as issued).
    conditions_version: Mapped[int | None] = mapped_column(Integer)
    # Close-out figures, fixed when the grant ends: spend the grantee reported, and the commitment given
    # back to the fund-year (awarded less paid, plus anything to be repaid) so it can be awarded again.
    final_spent_pence: Mapped[int | None] = mapped_column(Money)
    released_pence: Mapped[int | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    award: Mapped[Award] = relationship()
    bid: Mapped[Bid] = relationship(back_populates="agreement")
    organisation: Mapped[Organisation] = relationship()
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    payments: Mapped[list[Payment]] = relationship(back_populates="agreement", order_by="Payment.due_on, Payment.id")
    returns: Mapped[list[MonitoringReturn]] = relationship(
        back_populates="agreement", order_by="MonitoringReturn.period_start"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(
            "status in ('draft','issued','accepted','active','closed','terminated')", name="status"
        ),
        CheckConstraint("amount_pence > 0", name="amount"),
        CheckConstraint("scheduled_pence >= 0 AND scheduled_pence <= amount_pence", name="scheduled"),
        CheckConstraint("end_date >= start_date", name="dates"),
        CheckConstraint("released_pence IS NULL OR released_pence >= 0", name="released"),
    )

    @property
    def reference(self) -> str:
        return agreement_reference(self.id) or ""


class ConditionsVersion(Model):
    """A version of the standard conditions of grant, in force for agreements prepared from its date."""

    __tablename__ = "conditions_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    text: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgreementVariation(Model):
    """A change to an agreement after it is issued (amount, end date, special conditions), proposed by an
    officer, approved above their delegation, and accepted by the grantee before it applies."""

    __tablename__ = "agreement_variation"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("grant_agreement.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="awaiting_approval")
    old_amount_pence: Mapped[int] = mapped_column(Money)
    new_amount_pence: Mapped[int] = mapped_column(Money)
    old_end_date: Mapped[date] = mapped_column(Date)
    new_end_date: Mapped[date] = mapped_column(Date)
    old_special_conditions: Mapped[str] = mapped_column(Text, default="")
    new_special_conditions: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[str] = mapped_column(Text)
    # An increase holds its extra money in the fund-year from when it is offered until declined or withdrawn.
    committed_pence: Mapped[int] = mapped_column(Money, default=0)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    accepted_name: Mapped[str] = mapped_column(String(200), default="")
    accepted_role: Mapped[str] = mapped_column(String(200), default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    agreement: Mapped[GrantAgreement] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("agreement_id", "number", name="uq_agreement_variation_number"),
        CheckConstraint(
            "status in ('awaiting_approval','offered','accepted','declined','withdrawn','refused')", name="status"
        ),
        CheckConstraint("new_amount_pence > 0", name="amount"),
        CheckConstraint("committed_pence >= 0", name="committed"),
    )

    @property
    def reference(self) -> str:
        return f"{self.agreement.reference}-V{self.number}"


class Repayment(Model):
    """Money a grantee owes back (unspent or misused grant), and how much of it has been received."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("grant_agreement.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(Money)
    # Only ever changed by a guarded update, so receipts never add up to more than is owed.
    received_pence: Mapped[int] = mapped_column(Money, default=0)
    status: Mapped[str] = mapped_column(String(20), default="due", index=True)
    reason: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    agreement: Mapped[GrantAgreement] = relationship()
    receipts: Mapped[list[RepaymentReceipt]] = relationship(
        back_populates="repayment", order_by="RepaymentReceipt.received_on, RepaymentReceipt.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("status in ('due','part_received','received','cancelled')", name="status"),
        CheckConstraint("amount_pence > 0", name="amount"),
        CheckConstraint("received_pence >= 0 AND received_pence <= amount_pence", name="received"),
    )

    @property
    def reference(self) -> str:
        return repayment_reference(self.id)


class RepaymentReceipt(Model):
    """Money received against a repayment: the date, the amount and finance's reference."""

    __tablename__ = "repayment_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    repayment_id: Mapped[int] = mapped_column(ForeignKey("repayment.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(Money)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    repayment: Mapped[Repayment] = relationship(back_populates="receipts")

    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount"),)


class BidDocument(Model):
    """A supporting document attached to a bid (a quote, a letter of support), stored like return evidence."""

    __tablename__ = "bid_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))  # as the applicant named it, for display only
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bid: Mapped[Bid] = relationship(back_populates="documents")
    uploaded_by: Mapped[User] = relationship()


class Payment(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("grant_agreement.id"))
    amount_pence: Mapped[int] = mapped_column(Money)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    paid_on: Mapped[date | None] = mapped_column(Date)
    finance_reference: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    agreement: Mapped[GrantAgreement] = relationship(back_populates="payments")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("status in ('scheduled','paid','cancelled')", name="status"),
        CheckConstraint("amount_pence > 0", name="amount"),
        CheckConstraint("status != 'paid' OR paid_on IS NOT NULL", name="paid_on"),
    )

    @property
    def reference(self) -> str:
        return payment_reference(self.id)


class MonitoringReturn(Model):
    """One outcome return for one grant and one reporting period (half-year or quarter) the grant overlaps."""

    __tablename__ = "monitoring_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("grant_agreement.id"), index=True)
    period_name: Mapped[str] = mapped_column(String(2))  # "H1", "Q3"
    period_start: Mapped[date] = mapped_column(Date)
    # The period's end, or the grant's end date when it ends first.
    period_end: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default="due")
    progress: Mapped[str] = mapped_column(Text, default="")
    challenges: Mapped[str] = mapped_column(Text, default="")
    rag: Mapped[str | None] = mapped_column(String(5))  # the grantee's own red/amber/green rating
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submission_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_note: Mapped[str] = mapped_column(Text, default="")
    officer_rag: Mapped[str | None] = mapped_column(String(5))
    version: Mapped[int] = mapped_column(Integer, default=1)

    agreement: Mapped[GrantAgreement] = relationship(back_populates="returns")
    values: Mapped[list[MeasureValue]] = relationship(back_populates="monitoring_return",
                                                      cascade="all, delete-orphan")
    spend: Mapped[list[ReturnSpend]] = relationship(back_populates="monitoring_return", cascade="all, delete-orphan")
    evidence: Mapped[list[ReturnEvidence]] = relationship(
        back_populates="monitoring_return", order_by="ReturnEvidence.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("agreement_id", "period_start", name="uq_monitoring_return_agreement_period"),
        CheckConstraint(
            "status in ('due','submitted','accepted','returned','resubmitted','not_required')", name="status"
        ),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint("rag IS NULL OR rag in ('green','amber','red')", name="rag"),
        CheckConstraint("officer_rag IS NULL OR officer_rag in ('green','amber','red')", name="officer_rag"),
        CheckConstraint("period_name in ('H1','H2','Q1','Q2','Q3','Q4')", name="period_name"),
    )

    @property
    def period(self) -> Period:
        return return_period(self.period_start, self.period_name)

    @property
    def period_label(self) -> str:
        return self.period.label


class OutcomeMeasure(Model):
    """One thing a fund's grantees report each period: a number, a percentage, money or yes/no.

    Kept once answered: an admin may retire a measure (no longer asked) but never change or delete it."""

    __tablename__ = "outcome_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    guidance: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    category: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fund: Mapped[Fund] = relationship(back_populates="measures")

    __table_args__ = (
        UniqueConstraint("fund_id", "name", name="uq_outcome_measure_fund_name"),
        CheckConstraint("unit in ('count','percentage','money','yes_no')", name="unit"),
    )

    @property
    def unit_name(self) -> str:
        return MEASURE_UNITS[self.unit]


class MeasureValue(Model):
    """A return's answer to one measure, in the measure's unit: a count, a whole percentage, pence, or 1/0."""

    __tablename__ = "measure_value"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("monitoring_return.id"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("outcome_measure.id"), index=True)
    value: Mapped[int] = mapped_column(Money)  # a count, a percentage, pence, or 1/0 for yes/no

    monitoring_return: Mapped[MonitoringReturn] = relationship(back_populates="values")
    measure: Mapped[OutcomeMeasure] = relationship()

    __table_args__ = (
        UniqueConstraint("return_id", "measure_id", name="uq_measure_value_return_measure"),
        CheckConstraint("value >= 0", name="value"),
    )


class ReturnSpend(Model):
    """Money spent in a return's period against one approved budget line."""

    __tablename__ = "return_spend"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("monitoring_return.id"), index=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"), index=True)
    spent_pence: Mapped[int] = mapped_column(Money)

    monitoring_return: Mapped[MonitoringReturn] = relationship(back_populates="spend")
    budget_line: Mapped[BudgetLine] = relationship()

    __table_args__ = (
        UniqueConstraint("return_id", "budget_line_id", name="uq_return_spend_return_line"),
        CheckConstraint("spent_pence >= 0", name="spent"),
    )


class ReturnEvidence(Model):
    """A file sent with a return, stored outside the web root; kept with the submission it went in."""

    __tablename__ = "return_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("monitoring_return.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))  # as the grantee named it, for display only
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Which submission of the return it went with; None until the return is next submitted.
    submission_number: Mapped[int | None] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    monitoring_return: Mapped[MonitoringReturn] = relationship(back_populates="evidence")


class SentReminder(Model):
    """One row per reminder sent; its unique key makes each reminder go exactly once, however often the
    command runs and even when two runs overlap."""

    __tablename__ = "sent_reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Each list's filter and sort, so a page reads only its own rows (tests/test_query_plans.py reads the plans).
Index("ix_bid_submitted", Bid.submitted_at, Bid.id)
Index("ix_bid_status_submitted", Bid.status, Bid.submitted_at, Bid.id)
Index("ix_bid_organisation_updated", Bid.organisation_id, Bid.updated_at, Bid.id)
Index("ix_award_approved", Award.approved_at, Award.id)
Index("ix_grant_agreement_created", GrantAgreement.created_at, GrantAgreement.id)
Index("ix_grant_agreement_status_created", GrantAgreement.status, GrantAgreement.created_at, GrantAgreement.id)
Index("ix_grant_agreement_organisation_created", GrantAgreement.organisation_id, GrantAgreement.created_at)
# Agreement -> award -> fund-year read from these two alone, not from the wide rows (an agreement keeps its
# conditions as issued): the overdue-returns count per fund joins every agreement with a return overdue. The
# award's one also serves the fund_year_id key, so that column has no index of its own.
Index("ix_award_fund_year_covering", Award.fund_year_id, Award.id)
Index("ix_grant_agreement_award_covering", GrantAgreement.award_id, GrantAgreement.id)
Index("ix_payment_status_due", Payment.status, Payment.due_on, Payment.id)
Index("ix_payment_status_paid", Payment.status, Payment.paid_on, Payment.id)
# A grant's payments and their sum by status, read from the index alone; it also serves the agreement_id key.
# Status alone is served by the two above, so neither column has an index of its own for a planner to prefer.
Index("ix_payment_agreement_status", Payment.agreement_id, Payment.status, Payment.amount_pence)
# Also serves status alone (so the column has no index of its own, which planners chose over this one for
# "overdue": not sent back and due before today).
Index("ix_monitoring_return_status_due", MonitoringReturn.status, MonitoringReturn.due_on, MonitoringReturn.id)
Index("ix_user_name", User.name, User.id)
Index("ix_user_role_name", User.role, User.name, User.id)
Index("ix_user_organisation_active", User.organisation_id, User.active)
Index("ix_outbox_email_created", OutboxEmail.created_at, OutboxEmail.id)
Index("ix_outbox_email_recipient_created", OutboxEmail.recipient_id, OutboxEmail.created_at, OutboxEmail.id)
# The audit page's filters, each with the newest-first order (grants.admin.queries.audit_list).
Index("ix_audit_event_type_time", AuditEvent.object_type, AuditEvent.occurred_at, AuditEvent.id)
Index("ix_audit_event_action_time", AuditEvent.action, AuditEvent.occurred_at, AuditEvent.id)
Index("ix_audit_event_actor_time", AuditEvent.actor_id, AuditEvent.occurred_at, AuditEvent.id)
