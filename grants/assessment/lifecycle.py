"""The decisions recorded on a bid, declared once: each kind's name as people read it."""

from __future__ import annotations

from grants.core.lifecycle import State, check_in

DECISION_KINDS = {
    state.key: state
    for state in (
        State("info_requested", "More information requested", "yellow"),
        State("rejected", "Rejected", "red"),
        State("recommended", "Recommended for approval", "purple"),
        State("approved", "Award approved", "green"),
    )
}
DECISION_NAMES = {key: state.name for key, state in DECISION_KINDS.items()}
DECISION_CHECK = check_in("kind", DECISION_KINDS)
