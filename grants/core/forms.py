"""Form fields shared by every area: money in pounds stored as pence, and GOV.UK date inputs."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextArea, GovTextInput
from wtforms import Field, FieldList, HiddenField, StringField
from wtforms.validators import Length, StopValidation

from grants.core.money import MoneyError, money_input_value, parse_money

TEXT_LIMIT = 5000

T = TypeVar("T")


def required(value: T | None) -> T:
    """A required field's value, read after the form has validated (the field itself refuses it empty)."""
    if value is None:
        raise ValueError("a required field was read before its form was validated")
    return value


def text_area(label: str, hint: str = "", limit: int = TEXT_LIMIT) -> StringField:
    """A GOV.UK textarea whose only own check is its length; the business rules say what is missing."""
    return StringField(label, description=hint, widget=GovTextArea(),
                       validators=[Length(max=limit, message=f"{label} must be {limit:,} characters or fewer")])


def text_line(label: str, hint: str = "", limit: int = 200) -> StringField:
    return StringField(label, description=hint, widget=GovTextInput(),
                       validators=[Length(max=limit, message=f"{label} must be {limit:,} characters or fewer")])


class ParsedTextField(StringField):
    """A number typed into a text box: read in process_formdata, which sets parse_error on nonsense; the
    error (or the required message) is shown beside the field, and what was typed is shown back."""

    widget = GovTextInput()

    def __init__(self, label: str | None = None, validators: Any = None, *, required_message: str,
                 optional: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.required_message = required_message
        self.optional = optional
        self.parse_error: str | None = None

    def pre_validate(self, form: Any) -> None:
        if self.parse_error:
            raise StopValidation(self.parse_error)
        if self.data is None and not self.optional:
            raise StopValidation(self.required_message)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else self.shown(self.data)

    def shown(self, value: Any) -> str:
        return str(value)


class MoneyField(ParsedTextField):
    """Typed as pounds ("£5,000.50"), held as integer pence in .data; errors are shown beside the field."""

    def __init__(self, label: str | None = None, validators: Any = None, *, required_message: str | None = None,
                 optional: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, required_message=required_message or f"Enter {str(label).lower()}",
                         optional=optional, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw_text = valuelist[0] if valuelist else ""
        self.parse_error = None
        if not self.raw_text.strip():
            self.data = None
            return
        try:
            self.data = parse_money(self.raw_text)
        except MoneyError as exc:
            self.data = None
            self.parse_error = str(exc)

    def shown(self, value: Any) -> str:
        return money_input_value(value)


class WholeNumberField(ParsedTextField):
    """A whole number typed into a text box; a clear message instead of WTForms' "Not a valid integer"."""

    def __init__(self, label: str | None = None, validators: Any = None, *, required_message: str,
                 invalid_message: str, optional: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, required_message=required_message, optional=optional, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip().replace(",", "")
        self.parse_error = None
        if not text:
            self.data = None
        elif text.isascii() and text.isdigit() and len(text) <= 9:
            self.data = int(text)
        else:
            self.data = None
            self.parse_error = self.invalid_message


class GovDateField(Field):
    """Three boxes (day, month, year) as GOV.UK asks; messages say which part is wrong."""

    widget = GovDateInput()

    def __init__(self, label: str | None = None, validators: Any = None, *, optional: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.optional = optional
        self.parse_error: str | None = None
        self.name_text = str(label).lower() if label else "date"

    def process_formdata(self, valuelist: list[str]) -> None:
        self.parse_error = None
        parts = [v.strip() for v in valuelist[:3]] + [""] * (3 - len(valuelist[:3]))
        self.raw_data = parts  # the widget unpacks exactly three boxes, whatever was posted
        if not any(parts):
            self.data = None
            return
        missing = [name for name, value in zip(("day", "month", "year"), parts, strict=True) if not value]
        if missing:
            self.data = None
            self.parse_error = f"The {self.name_text} must include a {' and '.join(missing)}"
            return
        try:
            day, month, year = (int(p) for p in parts)
            if not 1000 <= year <= 9999:
                raise ValueError
            self.data = date(year, month, day)
        except (ValueError, OverflowError):  # a day or month too large for C's int overflows rather than fails
            self.data = None
            self.parse_error = f"The {self.name_text} must be a real date, like 27 3 2026"

    def pre_validate(self, form: Any) -> None:
        if self.parse_error:
            raise StopValidation(self.parse_error)
        if self.data is None and not self.optional:
            raise StopValidation(f"Enter the {self.name_text}")

    def _value(self) -> str:
        return ""


class IndexedList(FieldList):
    """A FieldList that reads only ASCII digits as entry numbers: str.isdigit() also accepts "²", which int()
    then refuses, so a hostile field name would otherwise be a server error."""

    def _extract_indices(self, prefix: str, formdata: Any) -> Any:
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isascii() and index.isdigit():
                    yield int(index)


FORM_PROBLEM = "form-problem"  # the error summary's anchor for a problem that belongs to no single field


def show_problems(form: Any, problems: dict[str, str], anchors: dict[str, str] | None = None) -> dict[str, str]:
    """Put each rule's problem beside its field; return the rest (anchor -> message) for the error summary.

    `anchors` maps problem keys that are not form fields (a budget total, say) to the id shown on the page."""
    extra: dict[str, str] = {}
    for name, message in problems.items():
        if anchors and name in anchors:
            extra[anchors[name]] = message
            continue
        field = getattr(form, name, None)
        if isinstance(field, Field):
            field.errors = [message]
        else:
            extra[FORM_PROBLEM] = message
    return extra


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a button that confirms a change the page names (its template draws the button)."""


class VersionedForm(FlaskForm):
    """Carries the record's version, so a second person is told of the first one's change."""

    version = HiddenField()
