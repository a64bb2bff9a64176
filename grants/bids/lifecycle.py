"""A bid's life, declared once: draft -> submitted -> in review -> (more information -> submitted) ->
recommended (above the delegation limit) -> approved | rejected; withdrawn by the applicant before a decision."""

from __future__ import annotations

from datetime import date
from typing import Any

from grants.core.lifecycle import Action, Lifecycle, State


def _not_own_recommendation(user: Any, bid: Any, today: date) -> str | None:
    if user is None:  # the rules' own moves
        return None
    # Imported here: the assessment rules read this lifecycle.
    from grants.assessment.rules import latest_assessment, recommender

    made_by = recommender(bid)
    if made_by is not None and made_by.id == user.id:
        return "You recommended this award, so another approver must decide it."
    assessment = latest_assessment(bid)
    if assessment is not None and assessment.assessor_id == user.id:
        return "You assessed this bid, so another approver must decide it."
    return None


def conflict_of_interest(user: Any, bid: Any, today: date) -> str | None:
    """Why this person takes no part in assessing or deciding this bid, or None: it is their own organisation's,
    or they have declared a conflict of interest in it. Either bars them for good; nothing they answer later
    (a reassessment saying "No", say) clears it."""
    if user is None:  # the rules' own moves
        return None
    if user.organisation_id is not None and user.organisation_id == bid.organisation_id:
        return f"You belong to the organisation that made this bid, so another {user.role} must assess and decide it."
    # Imported here: the assessment rules read this lifecycle.
    from grants.assessment.rules import conflict_declared

    if conflict_declared(bid, user):
        return (f"You have declared a conflict of interest in this bid, so you cannot assess, recommend or decide it: "
                f"another {user.role} must.")
    return None


def _not_declared_yet(user: Any, bid: Any, today: date) -> str | None:
    from grants.assessment.rules import conflict_declared

    if user is not None and conflict_declared(bid, user):
        return "You have already declared a conflict of interest in this bid."
    return None


def _no_agreement_yet(user: Any, bid: Any, today: date) -> str | None:
    from grants.agreements.queries import agreement_for_bid

    return "This award already has an agreement." if agreement_for_bid(bid) is not None else None


UNDECIDED = ("draft", "submitted", "in_review", "info_requested")
# While the applicant may change the bid: a draft, or when the OPCC has asked for more information.
CHANGEABLE = ("draft", "info_requested")
ASSESSABLE = ("submitted", "in_review")
# Until the bid is decided, anyone at the OPCC may declare a conflict of interest in it.
DECLARABLE = ("submitted", "in_review", "info_requested", "recommended")
# Every part in assessing and deciding a bid: refused to whoever has a conflict of interest in it.
IMPARTIAL = (conflict_of_interest,)

# A bid's answers as the bid form labels them (grants.bids.forms reads them from here), so history says what an
# applicant changed in the words they answered.
FIELDS = {
    "title": "Bid title",
    "local_issue": "The local issue this bid answers",
    "activities": "What will be done",
    "location": "Where",
    "theme": "Theme",
    "start_date": "Start date",
    "end_date": "End date",
    "outputs": "Expected outputs",
    "outcomes": "Expected outcomes",
    "budget_lines": "Costed budget",
    "other_funding": "Other funding",
    "other_funding_pence": "Amount of other funding",
    "declaration": "Declaration",
}

BID = Lifecycle(
    record="bid",
    noun="bid",
    id_arg="bid_id",
    fields=FIELDS,
    fields_event="bid.saved",
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
        # Supporting documents (quotes, letters of support): added while the applicant may change the bid, and
        # removed then too, except those already sent with a submission (grants.bids.documents says which).
        Action("attach", "Add supporting documents", CHANGEABLE, None, ("applicant",), event="bid.document_added",
               event_label="Supporting document added", endpoint="bids.documents", style="secondary"),
        Action("remove_document", "Remove a supporting document", CHANGEABLE, None, ("applicant",),
               event="bid.document_removed", event_label="Supporting document removed"),
        # The OPCC's
        Action("assess", "Assess", ("submitted",), None, ("officer",), event="bid.assessed",
               event_label="Assessment recorded", endpoint="assessment.assess", guards=IMPARTIAL),
        Action("reassess", "Reassess", ("in_review",), None, ("officer",), event="bid.assessed",
               endpoint="assessment.assess", guards=IMPARTIAL),
        Action("start_review", "Start the review", ("submitted",), "in_review", ("officer",), event="bid.in_review",
               event_label="Review started", guards=IMPARTIAL),
        Action("decide", "Decide award", ("in_review",), None, ("officer",), endpoint="assessment.award",
               guards=IMPARTIAL),
        Action("decide_recommendation", "Decide award", ("recommended",), None, ("approver",),
               endpoint="assessment.award", guards=(*IMPARTIAL, _not_own_recommendation)),
        Action("approve", "Approve the award", ("in_review",), "approved", ("officer",), guards=IMPARTIAL),
        Action("approve_recommendation", "Approve the award", ("recommended",), "approved", ("approver",),
               guards=(*IMPARTIAL, _not_own_recommendation)),
        Action("recommend", "Recommend the award", ("in_review",), "recommended", ("officer",), guards=IMPARTIAL),
        Action("request_information", "Ask for more information", ASSESSABLE, "info_requested", ("officer",),
               endpoint="assessment.request_information", style="secondary", guards=IMPARTIAL),
        Action("reject", "Reject", ASSESSABLE, "rejected", ("officer",), endpoint="assessment.reject",
               style="warning", guards=IMPARTIAL),
        # Rejecting a recommendation decides it as approving does: never by whoever recommended or assessed it.
        Action("reject_recommendation", "Reject", ("recommended",), "rejected", ("approver",),
               endpoint="assessment.reject", style="warning", guards=(*IMPARTIAL, _not_own_recommendation)),
        # Stored as a ConflictDeclaration too (grants.assessment.rules.declare_conflict): from then on the
        # guards above refuse this person every part in the bid.
        Action("declare_conflict", "Declare a conflict of interest", DECLARABLE, None, ("officer", "approver"),
               event="bid.conflict_declared", event_label="Conflict of interest declared",
               endpoint="assessment.declare_conflict", style="secondary", guards=(_not_declared_yet,)),
        Action("prepare_agreement", "Prepare grant agreement", ("approved",), None, ("officer",),
               endpoint="agreements.prepare", guards=(_no_agreement_yet,)),
    ),
    events={
        "bid.created": "Bid started",
        "fund_year.committed": "Money committed",
    },
)

# The events on a bid its applicant sees; assessments, recommendations and declarations stay internal.
APPLICANT_EVENTS = frozenset({
    "bid.created", "bid.saved", "bid.submitted", "bid.resubmitted", "bid.withdrawn", "bid.in_review",
    "bid.info_requested", "bid.rejected", "bid.approved", "bid.document_added", "bid.document_removed",
})
# Officers see bids once submitted; drafts belong to the applicant alone.
VISIBLE_TO_STAFF = tuple(key for key in BID.stored_keys if key != "draft")
