from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, Form, FormField, HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from grants.bids.lifecycle import FIELDS
from grants.bids.rules import THEMES
from grants.core.forms import GovDateField, IndexedList, MoneyField
from grants.core.forms import text_area as _text
from grants.core.models import BUDGET_KINDS


class StartBidForm(FlaskForm):
    fund_year_id = RadioField("Which fund are you bidding to?", coerce=int, widget=GovRadioInput(),
                              validators=[InputRequired("Select a fund")], validate_choice=False)
    submit = SubmitField("Start bid", widget=GovSubmitInput())

    def validate_fund_year_id(self, field: RadioField) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError("Select a fund that is open for bids")


class BudgetLineForm(Form):
    item = StringField("Item", widget=GovTextInput(), validators=[Length(max=200, message="Item must be 200 characters or fewer")])
    amount = MoneyField("Cost", optional=True)
    # Capital (equipment, works) or revenue (staff, running costs): government returns report them apart.
    kind = SelectField("Type", choices=list(BUDGET_KINDS.items()), default="revenue", widget=GovSelect(),
                       validate_choice=False)

    def validate(self, extra_validators: Any = None) -> bool:
        ok: bool = super().validate(extra_validators)
        item = (self.item.data or "").strip()
        if item and self.amount.data is None and not self.amount.errors:
            self.amount.errors.append(f"Enter the cost of {item}")
            ok = False
        if self.kind.data not in BUDGET_KINDS:
            self.kind.errors = [*self.kind.errors, "Select capital or revenue"]
            ok = False
        if not item and self.amount.data is not None:
            self.item.errors = [*self.item.errors, "Enter what this cost is for"]
            ok = False
        return ok


class BidForm(FlaskForm):
    version = HiddenField()
    title = StringField(FIELDS["title"], widget=GovTextInput(),
                        validators=[Length(max=200, message="Bid title must be 200 characters or fewer")])
    local_issue = _text(FIELDS["local_issue"], "What is happening, where, and how you know (for example police or council data).")
    activities = _text(FIELDS["activities"], "The activities, who will deliver them, and when.")
    location = StringField(FIELDS["location"], description="The area or ward.", widget=GovTextInput(),
                           validators=[Length(max=300, message="Where must be 300 characters or fewer")])
    # Checked by validate_theme, not WTForms' own "Not a valid choice".
    theme = RadioField(FIELDS["theme"], choices=list(THEMES.items()), widget=GovRadioInput(), validators=[Optional()],
                       validate_choice=False)
    start_date = GovDateField(FIELDS["start_date"], optional=True, description="For example, 1 6 2026")
    end_date = GovDateField(FIELDS["end_date"], optional=True, description="For example, 31 3 2027")
    outputs = _text(FIELDS["outputs"], "What the work will produce: for example 40 bikes marked, 2 cameras installed.")
    outcomes = _text(FIELDS["outcomes"], "The difference it will make, and how you will measure it.")
    budget_lines = IndexedList(FormField(BudgetLineForm), FIELDS["budget_lines"], min_entries=3, max_entries=30)
    other_funding = _text(FIELDS["other_funding"], "Other money for this work, where from, and whether it is confirmed. Write 'None' if there is none.", 2000)
    other_funding_pence = MoneyField(FIELDS["other_funding_pence"], optional=True)
    declaration = BooleanField(
        "I confirm that the information in this bid is correct and that I am authorised to submit it for my organisation",
        widget=GovCheckboxInput(),
    )
    save = SubmitField("Save as draft", widget=GovSubmitInput())
    add_line = SubmitField("Add another budget line", widget=GovSubmitInput())
    submit = SubmitField("Submit bid", widget=GovSubmitInput())
    documents = SubmitField("Save and add supporting documents", widget=GovSubmitInput())

    def validate_theme(self, field: RadioField) -> None:
        if field.data and field.data not in THEMES:
            raise ValidationError("Select a theme from the list")


class WithdrawForm(FlaskForm):
    reason = StringField("Why are you withdrawing this bid? (optional)", widget=GovTextArea(),
                         validators=[Length(max=2000, message="Reason must be 2,000 characters or fewer")])
    submit = SubmitField("Withdraw bid", widget=GovSubmitInput())


class DocumentForm(FlaskForm):
    """One supporting document: the file, a description and the button. The rules (grants.bids.documents) check
    the file by its content and the description's length, so every problem is said at once."""

    document = FileField("Choose the file", widget=GovFileInput(),
                         description="One file at a time. Its type is read from what is in it, not from its name.")
    description = StringField("Describe the document (optional)", widget=GovTextInput(),
                              description="For example: quote for the marking kits, letter of support from the "
                                          "parish council. Up to 200 characters.")
    submit = SubmitField("Add document", widget=GovSubmitInput())
