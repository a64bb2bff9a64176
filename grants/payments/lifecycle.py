"""A payment's life, declared once: scheduled -> paid (date and finance reference) | cancelled."""

from __future__ import annotations

from datetime import date
from typing import Any

from grants.agreements.lifecycle import AGREEMENT, NOT_PAYABLE, PAYABLE
from grants.core.lifecycle import Action, Lifecycle, State


def _agreement_payable(user: Any, payment: Any, today: date) -> str | None:
    agreement = payment.agreement
    if agreement.status not in PAYABLE:
        return f"This agreement is {AGREEMENT.name(agreement.status).lower()}: {NOT_PAYABLE}"
    return None


PAYMENT = Lifecycle(
    record="payment",
    noun="payment",
    id_arg="payment_id",
    states=(
        State("scheduled", "Scheduled", "blue"),
        State("paid", "Paid", "green"),
        State("cancelled", "Cancelled", "grey"),
    ),
    actions=(
        Action("pay", "Record as paid", ("scheduled",), "paid", ("finance",), event_label="Payment made",
               endpoint="payments.paid", guards=(_agreement_payable,)),
        Action("cancel", "Cancel", ("scheduled",), "cancelled", ("finance",), event_label="Payment cancelled",
               endpoint="payments.cancel"),
    ),
    events={"payment.scheduled": "Payment scheduled"},
)
