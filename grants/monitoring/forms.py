"""The return form's fixed fields; the measure and spend fields depend on the grant, so the page draws them
and the rules read and check them (grants.monitoring.rules)."""

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from wtforms import RadioField, SubmitField

from grants.core.forms import VersionedForm, text_area
from grants.core.models import RAG_RATINGS

RAG_CHOICES = [(key, name) for key, name in RAG_RATINGS.items()]


class ReturnForm(VersionedForm):
    progress = text_area("Progress in this period", "What was done, against the plan in the bid.")
    challenges = text_area("Problems or changes (optional)", "Anything that went differently from the plan.")
    rag = RadioField("How is the work going overall?", widget=GovRadioInput(), validate_choice=False,
                     choices=RAG_CHOICES,
                     description="Green: on track. Amber: some problems you are managing. Red: serious problems.")
    save = SubmitField("Save and come back later", widget=GovSubmitInput())
    submit = SubmitField("Submit return", widget=GovSubmitInput())


class ReviewForm(VersionedForm):
    outcome = RadioField("Your decision", widget=GovRadioInput(), validate_choice=False,
                         choices=[("accepted", "Accept the return"), ("returned", "Send it back for changes")])
    officer_rag = RadioField("Your rating of the work", widget=GovRadioInput(), validate_choice=False,
                             choices=RAG_CHOICES, description="Kept with the return and shown in the Home Office return.")
    note = text_area("Note to the grantee", "Required when sending it back: say what needs to change.")
    submit = SubmitField("Save decision", widget=GovSubmitInput())
