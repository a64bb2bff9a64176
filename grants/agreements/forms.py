from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
)
from wtforms import BooleanField, RadioField, SubmitField

from grants.core.forms import GovDateField, MoneyField, VersionedForm
from grants.core.forms import text_area as _text
from grants.core.forms import text_line as _line


class AgreementForm(VersionedForm):
    start_date = GovDateField("Start date", description="For example, 1 4 2026")
    end_date = GovDateField("End date", description="For example, 31 3 2027")
    special_conditions = _text("Special conditions", "Conditions for this grant only, on top of the standard "
                                                     "conditions. Leave empty if there are none.")
    submit = SubmitField("Save draft agreement", widget=GovSubmitInput())


class ConfirmForm(VersionedForm):
    """A button that changes state (issue, activate): only the token and the version travel."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class AcceptForm(VersionedForm):
    accepted_name = _line("Your full name")
    accepted_role = _line("Your role in the organisation", "For example, Community Safety Manager")
    confirm = BooleanField("I have read the conditions and accept them on behalf of my organisation",
                           widget=GovCheckboxInput())
    submit = SubmitField("Accept agreement", widget=GovSubmitInput())


class EndForm(VersionedForm):
    outcome = RadioField("How does the grant end?", widget=GovRadioInput(), validate_choice=False,
                         choices=[("closed", "Closed: the work is finished"),
                                  ("terminated", "Terminated: funding is stopped early")])
    reason = _text("Reason", "Kept with the agreement and its history.")
    repayment_pence = MoneyField("Amount to be repaid (optional)", optional=True,
                                 description="Money the grantee must pay back, for example unspent grant. The "
                                             "grantee is emailed it, with the reason above, due in 30 days.")
    submit = SubmitField("End grant", widget=GovSubmitInput())
