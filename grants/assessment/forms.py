from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovSubmitInput
from wtforms import BooleanField, HiddenField, RadioField, SubmitField

from grants.assessment.rules import CRITERIA, MAX_SCORE
from grants.core.forms import MoneyField
from grants.core.forms import text_area as _text
from grants.core.models import FRAUD_RISKS


def _choice(label: str, choices: list[tuple[str, str]], hint: str = "") -> RadioField:
    # The rules in grants.assessment.rules say what is missing or wrong, so the field itself accepts any value.
    return RadioField(label, choices=choices, description=hint, widget=GovRadioInput(), validate_choice=False)


class DecisionForm(FlaskForm):
    """Every decision form carries the bid's version, so a second officer is told of the first one's change."""

    version = HiddenField()


class AssessmentForm(DecisionForm):
    comments = _text("Comments", "Strengths, weaknesses and anything the decision maker should know.")
    # Optional here: the rule says it is missing, together with every other problem on the page.
    recommended_pence = MoneyField("Amount you recommend", optional=True,
                                   description="This may be less than was asked for.")
    conflict_of_interest = _choice("Do you have a conflict of interest with this organisation or bid?",
                                   [("no", "No"), ("yes", "Yes")],
                                   "For example a personal, financial or family link to the organisation or the people involved.")
    conflict_details = _text("Conflict of interest details", "Only if you answered yes.")
    organisation_checked = BooleanField(
        "I have checked the organisation: it is the partnership it says it is, and its contact and bank details "
        "match our records", widget=GovCheckboxInput())
    due_diligence_notes = _text("Due diligence notes", "What you checked, and what you found.")
    fraud_risk = _choice("Fraud risk", list(FRAUD_RISKS.items()))
    fraud_risk_reasons = _text("Reasons for the fraud risk rating")
    submit = SubmitField("Save assessment", widget=GovSubmitInput())


SCORE_CHOICES = [(str(n), str(n)) for n in range(MAX_SCORE + 1)]
for _key, _label in CRITERIA.items():
    setattr(AssessmentForm, f"score_{_key}", _choice(_label, SCORE_CHOICES, f"0 means no evidence, {MAX_SCORE} excellent."))

SCORE_FIELDS = [f"score_{key}" for key in CRITERIA]


class InformationRequestForm(DecisionForm):
    message = _text("What information do you need?", "This is sent to the organisation as written.")
    submit = SubmitField("Send request", widget=GovSubmitInput())


class RejectForm(DecisionForm):
    reasons = _text("Reasons for rejecting the bid", "These are sent to the organisation as written.")
    submit = SubmitField("Reject bid", widget=GovSubmitInput())


class ConflictForm(FlaskForm):
    """No version: a declaration is about the person, so a change to the bid meanwhile does not stop it."""

    details = _text("What is the conflict of interest?",
                    "For example a personal, financial or family link to the organisation or the people involved.")
    submit = SubmitField("Declare a conflict of interest", widget=GovSubmitInput())


class AwardForm(DecisionForm):
    amount_pence = MoneyField("Amount to award", optional=True,
                              description="This may be less than was asked for.")
    reasons = _text(
        "Why this grant will secure or contribute to crime and disorder reduction",
        "The commissioner publishes these reasons, as written, with the recipient and purpose of the grant.")
    public_summary = _text(
        "Summary of what the grant is for, to publish",
        "Published with the grant on the public register and in the open data, in place of the applicant's own "
        "words. Say in a sentence or two what the grant pays for and where. Do not name anyone.")
    submit = SubmitField("Decide award", widget=GovSubmitInput())
