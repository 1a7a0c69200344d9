"""Forms for the credits pages: the statement filters, the coordinator's credit tools and the
scheme's settings. The tools carry a one-time request key so that a form sent twice (a double
click, a retry, the back button) makes one transfer."""
import re
import uuid
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.bookings import POLICIES
from app.models.ledger import TRANSFER_KINDS
from app.services.credits import MAX_BAND_CREDITS, MAX_BANDS, MAX_OFFER_HOURS, MAX_PUPILS, MAX_TOOL_AMOUNT

WHOLE = re.compile(r"[+-]?[0-9]{1,12}")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value):
    """Trim, and drop control characters (PostgreSQL refuses NUL in text)."""
    return CONTROL.sub("", value).strip() if isinstance(value, str) else value


class WholeNumberField(IntegerField):
    """A whole number, ASCII digits only, with a message that says what is wanted."""

    def __init__(self, label=None, validators=None, invalid_message="Enter a whole number of credits, like 10.", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip().replace(",", "")
        if text == "":
            self.data = None
            return
        if not WHOLE.fullmatch(text):
            self.data = None
            raise ValueError(self.invalid_message)
        self.data = int(text)

    def pre_validate(self, form):
        # Not a number: that message alone says it; range checks would only repeat it.
        if self.process_errors:
            raise StopValidation()


class PlainDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a date like 2026-09-01.") from None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        if self.data:
            values = {str(value) for value, *_ in self.iter_choices()}
            if any(str(item) not in values for item in self.data):
                raise ValidationError(self.gettext("Choose from the list."))


class PickField(SelectField):
    """A select of ids whose 'not in the list' message says what to do."""

    def __init__(self, label=None, validators=None, message="Choose from the list.", **kwargs):
        kwargs.setdefault("coerce", _coerce_int)
        super().__init__(label, validators, **kwargs)
        self.message = message

    def pre_validate(self, form):
        valid = {self.coerce(value) for value, *_ in self.iter_choices() if value != ""}
        if self.data not in valid:
            raise ValidationError(self.message)


def _coerce_int(value):
    # Junk in a choice is not a crash: it becomes a value that matches no choice.
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _new_key() -> str:
    return uuid.uuid4().hex


# --- the statement --------------------------------------------------------------------------


class StatementFilterForm(FlaskForm):
    """Read from the query string (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    date_from = PlainDateField("From", validators=[Optional()])
    date_to = PlainDateField("To", validators=[Optional()])
    kind = MultiCheckboxField("Kind of transfer", choices=choices(TRANSFER_KINDS.items()), validators=[Optional()])
    organisation = IntegerField("Organisation", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1)])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must be on or after the start date.")


class OrganisationPickForm(FlaskForm):
    class Meta:
        csrf = False

    organisation = SelectField("School or organisation", coerce=_coerce_int, validators=[Optional()])


# --- coordinator tools ---------------------------------------------------------------------


class ToolForm(FlaskForm):
    # Made when the form is drawn; sent back with it, so the same form sent twice is one transfer.
    request_key = HiddenField(default=_new_key, filters=[clean_text], validators=[
        InputRequired("This form has expired. Reload the page and try again."),
        Regexp(r"^[0-9a-f]{32}$", message="This form has expired. Reload the page and try again."),
    ])


def _amount_field(label, **kwargs):
    return WholeNumberField(label, validators=[
        InputRequired("Enter the number of credits."),
        NumberRange(min=1, max=MAX_TOOL_AMOUNT, message=f"Enter a number of credits from 1 to {MAX_TOOL_AMOUNT:,}."),
    ], **kwargs)


class PurchaseForm(ToolForm):
    organisation = PickField("School or organisation", message="Choose a school or organisation from the list.",
                             validators=[InputRequired("Choose the school that bought credits.")])
    amount = _amount_field("Credits bought")
    invoice_reference = StringField("Invoice reference", filters=[clean_text], validators=[
        InputRequired("Enter the invoice reference."), Length(max=100, message="Use at most 100 characters."),
    ])
    note = TextAreaField("Note (optional)", filters=[clean_text], validators=[
        Optional(), Length(max=500, message="Use at most 500 characters."),
    ])


class GrantForm(ToolForm):
    schools = MultiCheckboxField("Schools", coerce=_coerce_int, validators=[InputRequired("Choose at least one school.")])
    amount = _amount_field("Credits for each school")
    reason = TextAreaField("Reason", filters=[clean_text], validators=[
        InputRequired("Say why these schools get seed credits."), Length(max=500, message="Use at most 500 characters."),
    ])


class GrantSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search schools by name", filters=[clean_text], validators=[Optional(), Length(max=100)])
    la = SelectField("Local authority", validators=[Optional()])
    schools = SelectMultipleField(coerce=_coerce_int, validate_choice=False)


class AdjustmentForm(ToolForm):
    organisation = PickField("School or organisation", message="Choose a school or organisation from the list.",
                             validators=[InputRequired("Choose the school whose credits to adjust.")])
    amount = WholeNumberField(
        "Credits to add or take away",
        invalid_message="Enter a whole number of credits, like 5 or -5.",
        validators=[InputRequired("Enter the number of credits.")],
    )
    reason = TextAreaField("Reason", filters=[clean_text], validators=[
        InputRequired("Give the reason for the adjustment."), Length(max=500, message="Use at most 500 characters."),
    ])

    def validate_amount(self, field):
        if field.data is None:
            return
        if field.data == 0:
            raise ValidationError("Enter a number of credits to add, or a negative number to take away; not zero.")
        if abs(field.data) > MAX_TOOL_AMOUNT:
            raise ValidationError(f"Enter at most {MAX_TOOL_AMOUNT:,} credits either way.")


class ReverseForm(ToolForm):
    reason = TextAreaField("Reason for the reversal", filters=[clean_text], validators=[
        InputRequired("Give the reason for the reversal."), Length(max=500, message="Use at most 500 characters."),
    ])


class TransferFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("School or organisation", filters=[clean_text], validators=[Optional(), Length(max=100)])
    kind = SelectField("Kind", choices=choices([("", "Any kind"), *TRANSFER_KINDS.items()]), validators=[Optional()])
    organisation = IntegerField("Organisation", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1)])


class AllocationPreviewForm(FlaskForm):
    class Meta:
        csrf = False

    year = StringField("School year", filters=[clean_text], validators=[
        InputRequired("Enter the school year, like 2026-27."),
        Regexp(r"^[0-9]{4}[-/][0-9]{2}$", message="Enter the school year like 2026-27."),
    ])
    la = SelectField("Schools", validators=[Optional()])


class AllocationPostForm(FlaskForm):
    year = HiddenField(filters=[clean_text], validators=[InputRequired("The school year is missing. Preview again.")])
    la = HiddenField(filters=[clean_text])
    fingerprint = HiddenField(filters=[clean_text], validators=[InputRequired("Preview the allocation before posting it.")])


# --- settings --------------------------------------------------------------------------------


class BandForm(Form):
    low = WholeNumberField("Pupils from", invalid_message="Enter a whole number of pupils.", validators=[
        Optional(), NumberRange(min=0, max=MAX_PUPILS, message=f"Enter a number from 0 to {MAX_PUPILS:,}."),
    ])
    high = WholeNumberField("Pupils to", invalid_message="Enter a whole number of pupils, or leave blank.", validators=[
        Optional(), NumberRange(min=0, max=MAX_PUPILS, message=f"Enter a number from 0 to {MAX_PUPILS:,}."),
    ])
    credits = WholeNumberField("Credits", validators=[
        Optional(), NumberRange(min=0, max=MAX_BAND_CREDITS, message=f"Enter a number from 0 to {MAX_BAND_CREDITS:,}."),
    ])


POLICY_CHOICES = choices(POLICIES.items())


class SettingsForm(FlaskForm):
    late_cancellation_policy = RadioField("After the cancellation deadline", choices=POLICY_CHOICES,
                                          validators=[InputRequired("Choose what happens to the credits.")])
    no_show_policy = RadioField("When a school does not attend", choices=POLICY_CHOICES,
                                validators=[InputRequired("Choose what happens to the credits.")])
    waitlist_offer_hours = WholeNumberField(
        "Hours a school has to accept a place from the waiting list",
        invalid_message="Enter a whole number of hours.",
        validators=[InputRequired("Enter a number of hours."),
                    NumberRange(min=1, max=MAX_OFFER_HOURS, message=f"Enter from 1 to {MAX_OFFER_HOURS} hours.")],
    )
    bands = FieldList(FormField(BandForm), min_entries=MAX_BANDS, max_entries=MAX_BANDS)
    cap = WholeNumberField("Most credits any school is allocated in a year", invalid_message="Enter a whole number of credits.",
                           validators=[Optional(), NumberRange(min=0, max=MAX_BAND_CREDITS,
                                                               message=f"Enter a number from 0 to {MAX_BAND_CREDITS:,}.")])

    def band_values(self) -> list:
        """The filled-in rows as [from, to, credits]; a half-filled row is an error on that row."""
        values = []
        for number, entry in enumerate(self.bands.entries, start=1):
            band = entry.form
            low, high, credits = band.low.data, band.high.data, band.credits.data
            if low is None and high is None and credits is None:
                continue
            if low is None or credits is None:
                missing = band.low if low is None else band.credits
                missing.errors = list(missing.errors) + [f"Band {number} needs ‘pupils from’ and credits."]
                raise ValueError
            values.append([low, high, credits])
        return values


def settings_initial(values: dict) -> dict:
    bands = [{"low": low, "high": high, "credits": credits} for low, high, credits in values["allocation_bands"]]
    return {
        "late_cancellation_policy": values["late_cancellation_policy"],
        "no_show_policy": values["no_show_policy"],
        "waitlist_offer_hours": values["waitlist_offer_hours"],
        "bands": bands,
        "cap": values["allocation_cap"],
    }
