"""Forms for asking for a repayment, recording money received and writing off what is still owed."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from grants.core.forms import GovDateField, MoneyField, VersionedForm
from grants.core.forms import text_area as _text
from grants.core.forms import text_line as _line


class RepaymentForm(VersionedForm):
    """Carries the agreement's version: two officers asking at once are not both checked against the same amount."""

    amount_pence = MoneyField("Amount to be repaid", required_message="Enter the amount to be repaid")
    reason = _text("Reason", "Sent to the grantee and kept with the agreement, for example unspent grant or a "
                             "condition broken.")
    due_on = GovDateField("Date due", optional=True,
                          description="Optional: leave it empty for 30 days from today. For example, 27 3 2027")
    submit = SubmitField("Ask for the repayment", widget=GovSubmitInput())


class ReceiptForm(FlaskForm):
    """Money received adds to what has been received, guarded in the database, so it carries no version."""

    amount_pence = MoneyField("Amount received", required_message="Enter the amount received")
    received_on = GovDateField("Date received", description="For example, 27 3 2027")
    reference = _line("Finance system reference", limit=100)
    submit = SubmitField("Record money received", widget=GovSubmitInput())


class WriteOffForm(VersionedForm):
    reason = _text("Reason for writing it off")
    submit = SubmitField("Write off", widget=GovSubmitInput())
