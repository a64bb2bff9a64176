"""A bid's life, declared once: draft -> submitted -> in review -> (more information -> submitted) ->
recommended (above the delegation limit) -> approved | rejected; withdrawn by the applicant before a decision."""

from __future__ import annotations

from datetime import date
from typing import Any

from grants.core.lifecycle import Action, Lifecycle, State


def _not_own_recommendation(user: Any, bid: Any, today: date) -> str | None:
    # Imported here: the assessment rules read this lifecycle.
    from grants.assessment.rules import latest_assessment, recommender

    made_by = recommender(bid)
    if made_by is not None and made_by.id == user.id:
        return "You recommended this award, so another approver must decide it."
    assessment = latest_assessment(bid)
    if assessment is not None and assessment.assessor_id == user.id:
        return "You assessed this bid, so another approver must decide it."
    return None


def _no_agreement_yet(user: Any, bid: Any, today: date) -> str | None:
    from grants.agreements.queries import agreement_for_bid

    return "This award already has an agreement." if agreement_for_bid(bid) is not None else None


UNDECIDED = ("draft", "submitted", "in_review", "info_requested")
ASSESSABLE = ("submitted", "in_review")

BID = Lifecycle(
    record="bid",
    noun="bid",
    id_arg="bid_id",
    states=(
        State("draft", "Draft", "grey"),
        State("submitted", "Submitted", "blue"),
        State("in_review", "In review", "light-blue"),
        State("info_requested", "More information requested", "yellow"),
        State("recommended", "Recommended for approval", "purple"),
        State("approved", "Approved", "green"),
        State("rejected", "Rejected", "red"),
        State("withdrawn", "Withdrawn", "grey"),
    ),
    actions=(
        # The applicant's
        Action("edit", "Continue editing", ("draft",), None, ("applicant",), event="bid.saved",
               event_label="Draft saved", endpoint="bids.edit"),
        Action("revise", "Update and resubmit", ("info_requested",), None, ("applicant",), event="bid.saved",
               endpoint="bids.edit"),
        Action("submit", "Submit", ("draft",), "submitted", ("applicant",), event="bid.submitted"),
        Action("resubmit", "Resubmit", ("info_requested",), "submitted", ("applicant",), event="bid.resubmitted",
               event_label="Resubmitted with more information"),
        Action("withdraw", "Withdraw bid", UNDECIDED, "withdrawn", ("applicant",), endpoint="bids.withdraw",
               style="warning"),
        # The OPCC's
        Action("assess", "Assess", ("submitted",), None, ("officer",), event="bid.assessed",
               event_label="Assessment recorded", endpoint="assessment.assess"),
        Action("reassess", "Reassess", ("in_review",), None, ("officer",), event="bid.assessed",
               endpoint="assessment.assess"),
        Action("start_review", "Start the review", ("submitted",), "in_review", ("officer",), event="bid.in_review",
               event_label="Review started"),
        Action("decide", "Decide award", ("in_review",), None, ("officer",), endpoint="assessment.award"),
        Action("decide_recommendation", "Decide award", ("recommended",), None, ("approver",),
               endpoint="assessment.award", guards=(_not_own_recommendation,)),
        Action("approve", "Approve the award", ("in_review",), "approved", ("officer",)),
        Action("approve_recommendation", "Approve the award", ("recommended",), "approved", ("approver",),
               guards=(_not_own_recommendation,)),
        Action("recommend", "Recommend the award", ("in_review",), "recommended", ("officer",)),
        Action("request_information", "Ask for more information", ASSESSABLE, "info_requested", ("officer",),
               endpoint="assessment.request_information", style="secondary"),
        Action("reject", "Reject", ASSESSABLE, "rejected", ("officer",), endpoint="assessment.reject",
               style="warning"),
        Action("reject_recommendation", "Reject", ("recommended",), "rejected", ("approver",),
               endpoint="assessment.reject", style="warning"),
        Action("prepare_agreement", "Prepare grant agreement", ("approved",), None, ("officer",),
               endpoint="agreements.prepare", guards=(_no_agreement_yet,)),
    ),
    events={
        "bid.created": "Bid started",
        "bid.conflict_declared": "Conflict of interest declared",
        "fund_year.committed": "Money committed",
    },
)

# The events on a bid its applicant sees; assessments, recommendations and declarations stay internal.
APPLICANT_EVENTS = frozenset({
    "bid.created", "bid.saved", "bid.submitted", "bid.resubmitted", "bid.withdrawn", "bid.in_review",
    "bid.info_requested", "bid.rejected", "bid.approved",
})
# Officers see bids once submitted; drafts belong to the applicant alone.
VISIBLE_TO_STAFF = tuple(key for key in BID.stored_keys if key != "draft")
