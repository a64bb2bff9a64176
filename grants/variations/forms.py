from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput
from wtforms import BooleanField, SubmitField

from grants.agreements.forms import AcceptForm
from grants.core.forms import GovDateField, MoneyField, VersionedForm
from grants.core.forms import text_area as _text


class VariationForm(VersionedForm):
    amount_pence = MoneyField("Grant amount", description="The whole grant after the variation, in pounds")
    end_date = GovDateField("End date", description="For example, 31 3 2027")
    special_conditions = _text("Special conditions", "Conditions for this grant only, on top of the standard "
                                                     "conditions. Leave empty if there are none.")
    reasons = _text("Reasons for the variation", "Sent to the grantee and kept with the agreement's history.")
    submit = SubmitField("Propose variation", widget=GovSubmitInput())


class NoteForm(VersionedForm):
    """A decision on a variation, with words for the record."""

    note = _text("Reasons")
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class AcceptVariationForm(AcceptForm):
    confirm = BooleanField("I accept this variation on behalf of my organisation", widget=GovCheckboxInput())
    submit = SubmitField("Accept variation", widget=GovSubmitInput())
