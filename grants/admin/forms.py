"""Forms for the admin area. They parse what was typed; the rules live in grants.admin.rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from grants.core.forms import GovDateField, MoneyField, WholeNumberField
from grants.core.models import FUNDING_SOURCES, MEASURE_UNITS, ORG_TYPES, REPORTING_FREQUENCIES, ROLE_NAMES
from grants.monitoring.measures import STANDARD_SETS


def _choices(mapping: dict[str, str]) -> list[tuple[str, str]]:
    return list(mapping.items())


class FundForm(FlaskForm):
    name = StringField("Name", widget=GovTextInput(), validators=[
        InputRequired("Enter the name of the fund"),
        Length(max=200, message="The name must be 200 characters or fewer"),
    ])
    description = StringField("Description (optional)", widget=GovTextArea(),
                              description="What the fund is for and who may bid. Applicants see this.",
                              validators=[Length(max=5000, message="The description must be 5,000 characters or fewer")])
    funding_source = RadioField("Where does the money come from?", choices=_choices(FUNDING_SOURCES),
                                description="This decides which government returns the fund's grants appear in.",
                                widget=GovRadioInput(), validate_choice=False,
                                validators=[InputRequired("Select where the fund's money comes from")])
    monitoring_due_days = WholeNumberField(
        "Monitoring returns are due how many days after each period ends?",
        description="Usually 31. Between 0 and 365.",
        default=31,
        required_message="Enter how many days after each period monitoring returns are due",
        invalid_message="Monitoring due days must be a whole number, like 31",
    )
    # Checked by the rules (grants.admin.rules.fund_problems): on a new fund, not choosing is allowed.
    reporting_frequency = RadioField(
        "How often grantees report", choices=_choices(REPORTING_FREQUENCIES), widget=GovRadioInput(),
        validate_choice=False,
        description="If you do not choose, a new Home Office fund reports quarterly and the others six-monthly.",
    )
    reminder_days = WholeNumberField(
        "Reminder days",
        description="How many days before a return is due the grantee is reminded. Usually 14. Between 0 and 365.",
        default=14, optional=True,
        required_message="Enter how many days before a return is due the grantee is reminded",
        invalid_message="Reminder days must be a whole number, like 14",
    )
    submit = SubmitField("Save fund", widget=GovSubmitInput())

    def validate_funding_source(self, field: RadioField) -> None:
        if field.data not in FUNDING_SOURCES:
            raise ValidationError("Select where the fund's money comes from")


REQUIRED_CHOICES = [("yes", "Yes, grantees must answer it"), ("no", "No, it is optional")]


class MeasureForm(FlaskForm):
    """An outcome measure; every check is in the rules (grants.admin.rules, grants.monitoring.measures), so all
    the problems with what was typed are shown at once."""

    name = StringField("Name", widget=GovTextInput(),
                       description="What grantees report, like Victims supported. 200 characters or fewer.")
    guidance = StringField("Guidance for grantees (optional)", widget=GovTextArea(),
                           description="Shown with the question in each return: what to count, and how.")
    unit = RadioField("Unit", choices=_choices(MEASURE_UNITS), widget=GovRadioInput(), validate_choice=False,
                      description="What kind of answer grantees give.")
    required = RadioField("Must grantees answer it?", choices=REQUIRED_CHOICES, widget=GovRadioInput(),
                          validate_choice=False)
    category = StringField("Category (optional)", widget=GovTextInput(),
                           description="Groups measures together, like Outcomes or Support by need.")
    submit = SubmitField("Save measure", widget=GovSubmitInput())

    @property
    def required_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.required.data or "")


class StandardSetForm(FlaskForm):
    set_key = RadioField(
        "Which standard set?", widget=GovRadioInput(), validate_choice=False,
        choices=[(key, f"{title} ({len(measures)} measures)") for key, (title, measures) in STANDARD_SETS.items()],
        description="Adds the set's measures the fund does not already have (by name). You can change them after.",
    )
    submit = SubmitField("Add standard set", widget=GovSubmitInput())

    def validate_set_key(self, field: RadioField) -> None:
        if field.data not in STANDARD_SETS:
            raise ValidationError("Select a standard set")


class FundYearForm(FlaskForm):
    year_start = WholeNumberField(
        "Financial year",
        description="The year it starts in: for example 2026 for 2026-27 (1 April 2026 to 31 March 2027).",
        required_message="Enter the year the financial year starts, like 2026",
        invalid_message="Enter the year the financial year starts as 4 digits, like 2026",
    )
    budget_pence = MoneyField("Budget", required_message="Enter the budget",
                              description="The most that can be awarded from this fund in the year.")
    per_bid_cap_pence = MoneyField("Per-bid cap", required_message="Enter the per-bid cap",
                                   description="The most one bid can ask for, for example £5,000.")
    per_applicant_cap_pence = MoneyField("Per-applicant cap (optional)", optional=True,
                                         description="The most one organisation can be awarded in the year. "
                                                     "Leave empty for no limit.")
    delegation_limit_pence = MoneyField("Delegation limit", required_message="Enter the delegation limit",
                                        description="Officers can approve awards up to this amount; "
                                                    "above it an approver decides. £0 means every award "
                                                    "needs an approver.")
    opens_on = GovDateField("Opening date", description="The first day bids can be submitted. For example, 1 4 2026")
    closes_on = GovDateField("Closing date", description="The last day bids can be submitted. For example, 31 1 2027")
    submit = SubmitField("Save financial year", widget=GovSubmitInput())


class OrganisationForm(FlaskForm):
    name = StringField("Name", widget=GovTextInput(), validators=[
        InputRequired("Enter the name of the organisation"),
        Length(max=200, message="The name must be 200 characters or fewer"),
    ])
    org_type = RadioField("Type of organisation", choices=_choices(ORG_TYPES), widget=GovRadioInput(),
                          validate_choice=False, validators=[InputRequired("Select the type of organisation")])
    org_identifier = StringField(
        "Organisation identifier (optional)",
        description="The org-id.guide code published in open data: GB-LAE- and the council code for a council, "
                    "GB-CHC- and the number for a charity, GB-COH- for a company, for example GB-LAE-CAB.",
        widget=GovTextInput(),
        validators=[Length(max=100, message="The organisation identifier must be 100 characters or fewer")],
    )
    charity_number = StringField("Charity number (optional)", widget=GovTextInput(),
                                 validators=[Length(max=20, message="The charity number must be 20 characters or fewer")])
    company_number = StringField("Company number (optional)", widget=GovTextInput(),
                                 validators=[Length(max=20, message="The company number must be 20 characters or fewer")])
    postcode = StringField("Postcode (optional)", widget=GovTextInput(),
                           validators=[Length(max=10, message="The postcode must be 10 characters or fewer")])
    district_code = StringField(
        "District code (optional)", widget=GovTextInput(),
        description="The ONS code of the local authority district the organisation serves; a Community Safety "
                    "Partnership's area is its district. For example, E07000010 for Fenland.",
        validators=[Length(max=9, message="The district code must be 9 characters or fewer")])
    district_name = StringField("District name (optional)", widget=GovTextInput(),
                                validators=[Length(max=100, message="The district name must be 100 characters or fewer")])
    submit = SubmitField("Save organisation", widget=GovSubmitInput())

    def validate_org_type(self, field: RadioField) -> None:
        if field.data not in ORG_TYPES:
            raise ValidationError("Select the type of organisation")


class EditOrganisationForm(OrganisationForm):
    active = BooleanField("Active", description="Inactive organisations cannot be given new users.",
                          widget=GovCheckboxInput())


def _role_field() -> RadioField:
    return RadioField("Role", choices=_choices(ROLE_NAMES), widget=GovRadioInput(), validate_choice=False,
                      validators=[InputRequired("Select a role")])


def _organisation_field() -> SelectField:
    return SelectField("Organisation", widget=GovSelect(), validate_choice=False,
                       description="Required for applicants: they can only see their organisation's bids.")


class _UserFormBase(FlaskForm):
    def validate_role(self, field: RadioField) -> None:
        if field.data not in ROLE_NAMES:
            raise ValidationError("Select a role")

    def validate_organisation_id(self, field: SelectField) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError("Select an organisation from the list")

    @property
    def organisation_value(self) -> int | None:
        data = self.organisation_id.data
        return int(data) if data else None


class NewUserForm(_UserFormBase):
    email = StringField("Email address", widget=GovTextInput(), validators=[
        InputRequired("Enter an email address"),
        Length(max=254, message="The email address must be 254 characters or fewer"),
        Email("Enter an email address in the correct format, like name@example.com"),
    ])
    name = StringField("Full name", widget=GovTextInput(), validators=[
        InputRequired("Enter the person's full name"),
        Length(max=200, message="The name must be 200 characters or fewer"),
    ])
    role = _role_field()
    organisation_id = _organisation_field()
    password = PasswordField(
        "Initial password", widget=GovPasswordInput(),
        description="At least 12 characters. Give it to the person privately; they can change it with "
                    "'I have forgotten my password'.",
        validators=[InputRequired("Enter an initial password")],
    )
    submit = SubmitField("Create user", widget=GovSubmitInput())


class EditUserForm(_UserFormBase):
    name = StringField("Full name", widget=GovTextInput(), validators=[
        InputRequired("Enter the person's full name"),
        Length(max=200, message="The name must be 200 characters or fewer"),
    ])
    role = _role_field()
    organisation_id = _organisation_field()
    active = BooleanField("Active", description="A deactivated user cannot sign in, and is signed out at once.",
                          widget=GovCheckboxInput())
    submit = SubmitField("Save user", widget=GovSubmitInput())


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", widget=GovPasswordInput(),
                             description="At least 12 characters. A few unrelated words make a strong password.",
                             validators=[InputRequired("Enter a new password")])
    confirm = PasswordField("Confirm new password", widget=GovPasswordInput(),
                            validators=[InputRequired("Confirm the new password")])
    submit = SubmitField("Set password", widget=GovSubmitInput())

    def validate_confirm(self, field: PasswordField) -> None:
        if self.password.data and field.data != self.password.data:
            raise ValidationError("The passwords do not match")


class UserFilterForm(FlaskForm):
    """Filters for the user list, read from the query string."""

    class Meta:
        csrf = False

    q = StringField("Name, email or organisation", widget=GovTextInput())
    role = SelectField("Role", widget=GovSelect(), validate_choice=False)


class ConditionsForm(FlaskForm):
    """A version of the standard conditions; every check is in the rules (grants.agreements.conditions), so all the
    problems with what was typed are shown at once."""

    text = StringField("Text of the standard conditions", widget=GovTextArea(),
                       description="Number each condition. Condition 1 binds the grant to the budget approved with "
                                   "the bid; agreements show that budget beside it.")
    effective_from = GovDateField("Date it comes into force", optional=True,
                                  description="Agreements prepared on or after this day take this version. Today "
                                              "or later. For example, 1 4 2027")
    submit = SubmitField("Save version", widget=GovSubmitInput())


class AuditFilterForm(FlaskForm):
    """Filters for the audit page, read from the query string; the choices are filled in by the view."""

    class Meta:
        csrf = False

    object_type = SelectField("Record type", widget=GovSelect(), validate_choice=False)
    action = SelectField("Action", widget=GovSelect(), validate_choice=False)
    who = StringField("Who", widget=GovTextInput(), description="Part of their name or email address")
    date_from = GovDateField("From", optional=True, description="For example, 1 4 2025")
    date_to = GovDateField("To", optional=True, description="For example, 31 3 2026")

    def validate_date_to(self, field: GovDateField) -> None:
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("The to date must be the same as or after the from date")
