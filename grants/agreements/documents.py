"""What an agreement's page and its PDF show beside the agreement itself: the version of the standard conditions it
was issued with, and the approved budget that condition 1 binds the grant to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from exports.agreement_pdf import AgreementDocument, BudgetRow, PaymentRow
from grants.agreements import conditions
from grants.agreements.lifecycle import AGREEMENT
from grants.core.extensions import db
from grants.core.models import BUDGET_KINDS, GrantAgreement, User
from grants.payments.lifecycle import PAYMENT


@dataclass(frozen=True)
class ConditionsShown:
    """The standard conditions as an agreement holds them: the text as issued and, when known, its version."""

    text: str
    number: int | None
    effective_from: date | None


def conditions_of(agreement: GrantAgreement) -> ConditionsShown:
    """The agreement's own text, with its version's number and date (an agreement made before versions were kept,
    with other wording, has no number)."""
    version = conditions.by_number(agreement.conditions_version)
    return ConditionsShown(agreement.standard_conditions, agreement.conditions_version,
                           version.effective_from if version is not None else None)


def approved_budget(agreement: GrantAgreement) -> list[BudgetRow]:
    """The bid's budget lines, as approved with the award: item, capital or revenue, amount."""
    return [BudgetRow(line.item, BUDGET_KINDS.get(line.kind, line.kind), line.amount_pence)
            for line in agreement.bid.budget_lines]


def agreement_document(agreement: GrantAgreement, *, grantor: str, service_name: str) -> AgreementDocument:
    """Everything the agreement's PDF shows, read now."""
    bid = agreement.bid
    fund_year = bid.fund_year
    shown = conditions_of(agreement)
    issuer = db.session.get(User, agreement.issued_by_id) if agreement.issued_by_id else None
    return AgreementDocument(
        reference=agreement.reference, status=agreement.status, status_name=AGREEMENT.name(agreement.status),
        grantor=grantor, grantee=agreement.organisation.name,
        grantee_identifier=agreement.organisation.org_identifier or "",
        bid_reference=bid.reference, title=bid.title, purpose=agreement.award.public_summary,
        fund=f"{fund_year.fund.name} {fund_year.label}", funding_source=fund_year.fund.funding_source_name,
        amount_pence=agreement.amount_pence, start_date=agreement.start_date, end_date=agreement.end_date,
        special_conditions=agreement.special_conditions, standard_conditions=shown.text,
        conditions_version=shown.number, conditions_effective_from=shown.effective_from,
        budget=approved_budget(agreement),
        payments=[PaymentRow(p.reference, p.due_on, p.amount_pence, PAYMENT.name(p.status), p.paid_on,
                             p.finance_reference) for p in agreement.payments],
        prepared_at=agreement.created_at, issued_at=agreement.issued_at, issued_by=issuer.name if issuer else "",
        accepted_at=agreement.accepted_at, accepted_name=agreement.accepted_name,
        accepted_role=agreement.accepted_role, service_name=service_name,
    )
