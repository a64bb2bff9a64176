from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from wtforms import HiddenField, RadioField, SubmitField

from grants.core.forms import MoneyField, WholeNumberField, text_area


class ReturnForm(FlaskForm):
    version = HiddenField()
    progress = text_area("Progress in this period", "What was done, against the plan in the bid.")
    outputs_achieved = text_area("Outputs delivered", "For example: 120 bikes marked, 4 cameras installed.")
    outcomes_achieved = text_area("Outcomes achieved", "What changed for the area or the people: evidence if you have it.")
    people_reached = WholeNumberField("How many people did the work reach?", optional=True,
                                      required_message="Enter how many people the work reached, or 0",
                                      invalid_message="The number of people must be a whole number, like 45")
    spent_pence = MoneyField("Grant spent in this period", optional=True, description="In pounds, for example £1,250.00")
    challenges = text_area("Problems or changes (optional)", "Anything that went differently from the plan.")
    save = SubmitField("Save and come back later", widget=GovSubmitInput())
    submit = SubmitField("Submit return", widget=GovSubmitInput())


class ReviewForm(FlaskForm):
    version = HiddenField()
    outcome = RadioField("Your decision", widget=GovRadioInput(), validate_choice=False,
                         choices=[("accepted", "Accept the return"), ("returned", "Send it back for changes")])
    note = text_area("Note to the grantee", "Required when sending it back: say what needs to change.")
    submit = SubmitField("Save decision", widget=GovSubmitInput())
