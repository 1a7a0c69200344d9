"""Forms for offers and their sessions. Formats and ranges are checked here so that each
field gets its own message (on submit, and one field at a time for inline validation);
the rules about who, which contact and what publishing needs live in app.services.offers."""
from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Length, NumberRange, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput, TextInput

from app.models.offers import BOOKING_MODES, PRICE_UNITS
from app.models.taxonomy import FACETS
from app.services import offers as rules
from app.services.directory import normalise_postcode


def clean_text(value):
    # NUL is refused by PostgreSQL text columns; nobody types it on purpose.
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def optional_int(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return int(value)


def max_length(n: int, label: str) -> Length:
    return Length(max=n, message=f"{label} must be {n:,} characters or fewer")


class Required:
    """Stops with a message when the field is empty (None, or blank text)."""

    field_flags = {"required": True}

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        raw = field.raw_data[0] if field.raw_data else None
        if isinstance(raw, str) and not raw.strip():
            raw = None
        if raw is not None and field.process_errors:
            # Something was typed but could not be read: its own message says why.
            raise StopValidation()
        data = field.data
        if data is None or (isinstance(data, str) and not data.strip()):
            field.errors[:] = []
            raise StopValidation(self.message)


class WholeNumberField(IntegerField):
    """A whole number with one clear message for anything that is not one in range."""

    def __init__(self, label=None, validators=None, *, low: int, high: int, message: str, required: bool = True, **kwargs):
        chain = [Required(message) if required else Optional(), NumberRange(min=low, max=high, message=message)]
        kwargs.setdefault("widget", NumberInput(step=1, min=low, max=high))
        super().__init__(label, chain + list(validators or []), **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            # Also raised for absurdly long digit strings (Python's int() digit limit).
            self.data = None
            raise ValueError(self.message) from None

    def pre_validate(self, form):
        if self.process_errors:
            # One message, not the same one again from NumberRange.
            raise StopValidation()


class CheckboxGroupField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def https_link(form, field):
    problem = rules.https_link_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


def uk_postcode(form, field):
    postcode = normalise_postcode(field.data)
    if postcode is None:
        raise ValidationError("Enter a real UK postcode, like GL1 2AB")
    field.data = postcode


def kebab_ids(form, prefix: str) -> None:
    """DOM ids in the house style (offer-category-id), keeping the plain field names."""
    for f in form:
        if f.name == "csrf_token":
            continue
        f.id = f"{prefix}-{f.name.replace('_', '-')}"
        if f.label.field_id:
            f.label.field_id = f.id


def _facet_field(facet: str, label: str) -> CheckboxGroupField:
    message = f"Choose {label.lower()} options from the list"
    return CheckboxGroupField(
        {"phase": "Phases", "subject": "Subjects", "audience": "Audiences", "format": "Formats"}.get(facet, label),
        coerce=int,
        choices=[],
        invalid_value_message=message,
        invalid_choice_message=message,
    )


class OfferForm(FlaskForm):
    organisation_id = SelectField(
        "Provider",
        coerce=optional_int,
        choices=[],
        validators=[Required("Choose the organisation that provides this offer")],
        invalid_value_message="Choose an organisation from the list",
        invalid_choice_message="Choose an organisation from the list",
        description="The school or organisation that provides this offer.",
    )
    title = StringField(
        "Title",
        filters=[clean_text],
        validators=[Required("Enter a title"), max_length(rules.MAX_TITLE, "Title")],
        description="What a teacher would search for, like 'Phonics for new Year 1 teachers'.",
        render_kw={"maxlength": rules.MAX_TITLE},
    )
    summary = TextAreaField(
        "Summary",
        filters=[clean_text],
        validators=[max_length(rules.MAX_SUMMARY, "Summary")],
        description=f"One or two sentences shown in the catalogue. Up to {rules.MAX_SUMMARY} characters.",
        render_kw={"rows": 3},
    )
    description = TextAreaField(
        "Description",
        filters=[clean_text],
        validators=[max_length(rules.MAX_DESCRIPTION, "Description")],
        description="Who it is for, what happens and what changes afterwards. You can use Markdown: "
        f"**bold**, *italic*, lists and links. Up to {rules.MAX_DESCRIPTION:,} characters.",
        render_kw={"rows": 12},
    )
    category_id = SelectField(
        "Category",
        coerce=optional_int,
        choices=[],
        validators=[Required("Choose a category")],
        invalid_value_message="Choose a category from the list",
        invalid_choice_message="Choose a category from the list",
    )
    phase = _facet_field("phase", FACETS["phase"])
    subject = _facet_field("subject", FACETS["subject"])
    audience = _facet_field("audience", FACETS["audience"])
    format = _facet_field("format", FACETS["format"])
    delivery = _facet_field("delivery", FACETS["delivery"])
    time_of_day = _facet_field("time_of_day", FACETS["time_of_day"])
    booking_mode = RadioField(
        "How schools take it up",
        choices=[SelectChoice(value=value, label=label) for value, label in BOOKING_MODES.items()],
        default="sessions",
        invalid_choice_message="Choose how schools take this offer up",
    )
    price_credits = WholeNumberField(
        "Price in credits",
        low=0,
        high=rules.MAX_PRICE,
        message=f"Enter a price from 0 to {rules.MAX_PRICE:,} credits (0 if it is free)",
        description="0 if it is free.",
        render_kw={"inputmode": "numeric", "class": "input-short"},
    )
    price_unit = RadioField(
        "The price is",
        choices=[SelectChoice(value=value, label=label) for value, label in PRICE_UNITS.items()],
        default="place",
        invalid_choice_message="Choose whether the price is per place or per day",
    )
    capacity = WholeNumberField(
        "Places",
        low=1,
        high=rules.MAX_PLACES,
        required=False,
        message=f"Places must be a whole number from 1 to {rules.MAX_PLACES}",
        description="Places on each session, or days a term for bespoke support. Leave blank if there is no limit.",
        render_kw={"inputmode": "numeric", "class": "input-short"},
    )
    cancellation_days = WholeNumberField(
        "Free cancellation notice, in days",
        low=0,
        high=rules.MAX_CANCELLATION_DAYS,
        default=7,
        message=f"Cancellation notice must be a whole number of days from 0 to {rules.MAX_CANCELLATION_DAYS}",
        description="A school cancelling later than this many days before is a late cancellation.",
        render_kw={"inputmode": "numeric", "class": "input-short"},
    )
    location_name = StringField("Place name", filters=[clean_text], validators=[max_length(200, "Place name")])
    address = TextAreaField("Address", filters=[clean_text], validators=[max_length(300, "Address")], render_kw={"rows": 3})
    postcode = StringField(
        "Postcode",
        filters=[clean_text],
        validators=[Optional(), uk_postcode],
        render_kw={"class": "input-short", "autocomplete": "postal-code"},
    )
    contact_user_id = SelectField(
        "Provider contact",
        coerce=optional_int,
        choices=[],
        invalid_value_message="Choose a contact from the list",
        invalid_choice_message="Choose a contact from the list",
        description="Someone with an expert profile. Signed-in members see their name, email and phone.",
    )
    review_on = DateField(
        "Review date",
        validators=[Optional()],
        invalid_value_message="Enter a review date, like 2027-07-31",
        description="Optional: when you plan to look at this offer again.",
        render_kw={"class": "input-short"},
    )
    save = SubmitField("Save")
    publish = SubmitField("Publish")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kebab_ids(self, "offer")

    # Fields that inline validation may check one at a time.
    def checkable(self) -> list[str]:
        return [name for name in self._fields if name not in ("csrf_token", "save", "publish")]

    def setup(self, context) -> None:
        """Choices from the database, and the provider field only when one must be chosen."""
        if not context.chooses_organisation:
            del self.organisation_id
        else:
            self.organisation_id.choices = [SelectChoice(value="", label="Choose an organisation")] + [
                SelectChoice(value=str(org.id), label=org.name) for org in context.organisations
            ]
        self.category_id.choices = [SelectChoice(value="", label="Choose a category")] + [
            SelectChoice(value=str(child.id), label=child.name, optgroup=top.name)
            for top in context.categories
            for child in top.children
        ]
        for facet in FACETS:
            self[facet].choices = [SelectChoice(value=str(t.id), label=t.label) for t in context.terms.get(facet, [])]
        self.contact_user_id.choices = [SelectChoice(value="", label="No named contact")] + [
            SelectChoice(
                value=str(person.id),
                label=person.name + (f", {person.job_title}" if person.job_title else ""),
                optgroup=person.organisation.name if context.chooses_organisation and person.organisation else None,
            )
            for person in context.contacts
        ]
        where = context.organisation.name if context.organisation else "the provider"
        self.location_name.description = f"Leave the place name, address and postcode blank to use {where}'s own address."

    @staticmethod
    def initial(offer) -> dict:
        if offer is None:
            return {}
        data = {
            name: getattr(offer, name)
            for name in (
                "title", "summary", "description", "category_id", "booking_mode", "price_credits", "price_unit",
                "capacity", "cancellation_days", "location_name", "address", "postcode", "contact_user_id", "review_on",
            )
        }
        for facet in FACETS:
            data[facet] = [t.id for t in offer.terms if t.facet == facet]
        return data

    def offer_data(self) -> dict:
        data = {
            name: self[name].data
            for name in (
                "title", "summary", "description", "category_id", "booking_mode", "price_credits", "price_unit",
                "capacity", "cancellation_days", "location_name", "address", "postcode", "contact_user_id", "review_on",
            )
        }
        data["terms"] = {facet: list(self[facet].data or []) for facet in FACETS}
        if "organisation_id" in self:
            data["organisation_id"] = self.organisation_id.data
        return data


class SessionsForm(FlaskForm):
    start_date = DateField(
        "Date",
        validators=[Required("Enter the date of the session")],
        invalid_value_message="Enter a real date, like 2026-10-14",
        description="For a series, the date of the first session.",
        render_kw={"class": "input-short"},
    )
    start_time = TimeField(
        "Starts at",
        format=["%H:%M", "%H:%M:%S"],
        validators=[Required("Enter the time the session starts")],
        invalid_value_message="Enter a time, like 15:45",
        render_kw={"class": "input-short"},
    )
    end_time = TimeField(
        "Ends at",
        format=["%H:%M", "%H:%M:%S"],
        validators=[Required("Enter the time the session ends")],
        invalid_value_message="Enter a time, like 17:30",
        render_kw={"class": "input-short"},
    )
    end_date = DateField(
        "End date",
        validators=[Optional()],
        invalid_value_message="Enter a real date, like 2026-10-15",
        description="Only if the session ends on a later day than it starts.",
        render_kw={"class": "input-short"},
    )
    places = WholeNumberField(
        "Places",
        low=1,
        high=rules.MAX_PLACES,
        message=f"Places must be a whole number from 1 to {rules.MAX_PLACES}",
        render_kw={"inputmode": "numeric", "class": "input-short"},
    )
    joining_link = StringField(
        "Online joining link",
        filters=[clean_text],
        validators=[Optional(), https_link],
        widget=TextInput(),
        description="Optional, https:// only. Shown only to your school's people and coordinators for now, "
        "and to schools with a booking once booking opens.",
        render_kw={"inputmode": "url", "spellcheck": "false"},
    )
    note = StringField(
        "Note",
        filters=[clean_text],
        validators=[max_length(rules.MAX_NOTE, "The note")],
        description="Optional, like 'Bring your phonics tracker' or 'Room 4, main building'.",
        render_kw={"maxlength": rules.MAX_NOTE},
    )
    repeat = RadioField(
        "Repeat",
        choices=[
            SelectChoice(value="once", label="Just this one session"),
            SelectChoice(value="weekly", label="Weekly"),
            SelectChoice(value="fortnightly", label="Fortnightly"),
        ],
        default="once",
        invalid_choice_message="Choose once, weekly or fortnightly",
    )
    count = WholeNumberField(
        "Number of sessions in the series",
        low=1,
        high=rules.MAX_SERIES,
        default=1,
        required=False,
        message=f"A series has from 1 to {rules.MAX_SERIES} sessions",
        description=f"For example 6 for six twilights. Up to {rules.MAX_SERIES}.",
        render_kw={"inputmode": "numeric", "class": "input-short"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kebab_ids(self, "session")

    def sessions_data(self) -> dict:
        start_date, end_date = self.start_date.data, self.end_date.data or self.start_date.data
        return {
            "starts_at": datetime.combine(start_date, self.start_time.data),
            "ends_at": datetime.combine(end_date, self.end_time.data),
            "places": self.places.data,
            "joining_link": self.joining_link.data,
            "note": self.note.data,
            "repeat": self.repeat.data,
            "count": self.count.data if self.repeat.data != "once" else 1,
        }
