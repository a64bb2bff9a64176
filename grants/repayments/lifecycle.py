"""A repayment's life, declared once: due -> part received -> received, or written off (cancelled) while
something is still owed. Overdue is not kept: it is a repayment still owed past its due date."""

from __future__ import annotations

from datetime import date
from typing import Any

from grants.core.lifecycle import Action, Lifecycle, State

OWED = ("due", "part_received")  # something is still to be received
OVERDUE = "overdue"


def _overdue(repayment: Any, today: date) -> str | None:
    return OVERDUE if repayment.status in OWED and repayment.due_on < today else None


REPAYMENT = Lifecycle(
    record="repayment",
    noun="repayment",
    id_arg="repayment_id",
    states=(
        State("due", "Due", "blue"),
        State("part_received", "Part received", "yellow"),
        State("received", "Received", "green"),
        State("cancelled", "Written off", "grey"),
        State(OVERDUE, "Overdue", "red", stored=False),
    ),
    actions=(
        # Finance records money as it arrives; the amount received decides which move (if any) follows.
        Action("receive", "Record money received", OWED, None, ("finance",), event="repayment.receipt_recorded",
               event_label="Money received", endpoint="repayments.receive"),
        Action("part_receive", "Record part of the repayment received", ("due",), "part_received", ("finance",),
               event_label="Part repaid"),
        Action("receive_all", "Record the repayment received in full", OWED, "received", ("finance",),
               event_label="Repaid in full"),
        Action("write_off", "Write off what is still owed", OWED, "cancelled", ("finance",),
               event_label="Written off", endpoint="repayments.write_off", style="warning"),
    ),
    events={"repayment.due": "Repayment asked for"},
    calendar=_overdue,
)
