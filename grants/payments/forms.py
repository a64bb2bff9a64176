"""Forms for scheduling, recording and cancelling payments."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from grants.core.forms import GovDateField, MoneyField, VersionedForm
from grants.core.forms import text_area as _text
from grants.core.forms import text_line as _line


class PaymentForm(FlaskForm):
    amount_pence = MoneyField("Amount", required_message="Enter the amount to pay")
    due_on = GovDateField("Date due", description="Pay as the work needs it, not in advance of need.")
    note = _text("Note (optional)")
    submit = SubmitField("Schedule payment", widget=GovSubmitInput())


class PaidForm(VersionedForm):
    paid_on = GovDateField("Date paid", description="For example, 27 3 2026")
    finance_reference = _line("Finance system reference", limit=100)
    submit = SubmitField("Record payment", widget=GovSubmitInput())


class CancelPaymentForm(VersionedForm):
    reason = _text("Reason for cancelling")
    submit = SubmitField("Cancel payment", widget=GovSubmitInput())
