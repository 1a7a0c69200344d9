"""Forms for booking: places on a session, the waiting list, bespoke support, and the actions on
a booking (cancel with a reason, delivery with attendance). Ranges and lengths are checked here
so each field has its own message; who may do what is decided by app.services.bookings."""
import uuid
from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length, Optional, Regexp, StopValidation, ValidationError

from app.models.bookings import BOOKING_STATUSES
from app.services.bookings import MAX_DAYS, MAX_PLACES

MAX_NOTE = 1000
MAX_OBJECTIVES = 5000
MAX_REASON = 1000


def clean_text(value):
    # NUL is refused by PostgreSQL text columns; nobody types it on purpose.
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def int_or_none(value):
    """Coerce a choice or a typed number; anything unreadable becomes None (and "required" says so)."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def max_length(n: int, label: str) -> Length:
    return Length(max=n, message=f"{label} must be {n:,} characters or fewer")


class WholeNumber:
    """A whole number in a range, with one plain message for missing, unreadable or out of range."""

    def __init__(self, low: int, high: int, message: str):
        self.low, self.high, self.message = low, high, message

    def __call__(self, form, field):
        value = field.data
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            field.errors[:] = []
            raise StopValidation(self.message)


def places_choices(most: int, price: int | None = None):
    """1..most places, with what each would cost when credits are on (price per place)."""
    choices = []
    for n in range(1, max(1, most) + 1):
        label = f"{n} place{'s' if n != 1 else ''}"
        if price:
            label += f" ({n * price} credit{'s' if n * price != 1 else ''})"
        choices.append(SelectChoice(value=n, label=label))
    return choices


def request_key_field():
    """A one-time key sent with a booking form: the same form sent twice books once."""
    return HiddenField(default=lambda: uuid.uuid4().hex, validators=[
        Optional(), Regexp(r"^[0-9a-f]{32}$", message="This form has expired. Reload the page and try again.")])


class BookPlacesForm(FlaskForm):
    """Places on one session (the id prefix keeps several on one page apart)."""

    request_key = request_key_field()
    places = SelectField("Places", coerce=int_or_none, validate_choice=False,
                         validators=[WholeNumber(1, MAX_PLACES, f"Choose between 1 and {MAX_PLACES} places")])
    note = TextAreaField("Note for the provider (optional)", filters=[clean_text],
                         validators=[Optional(), max_length(MAX_NOTE, "The note")])


class WaitlistForm(FlaskForm):
    places = SelectField("Places wanted", coerce=int_or_none, validate_choice=False,
                         validators=[WholeNumber(1, MAX_PLACES, f"Choose between 1 and {MAX_PLACES} places")])


class BespokeForm(FlaskForm):
    request_key = request_key_field()
    days = IntegerField("Days of support", validators=[WholeNumber(1, MAX_DAYS, f"Enter a whole number of days from 1 to {MAX_DAYS}")])
    objectives = TextAreaField("What should the support achieve?", filters=[clean_text],
                               validators=[max_length(MAX_OBJECTIVES, "The objectives")])
    review_on = DateField("Review date (optional)", validators=[Optional()],
                          render_kw={"type": "date"})
    note = TextAreaField("Note for the provider (optional)", filters=[clean_text],
                         validators=[Optional(), max_length(MAX_NOTE, "The note")])

    def validate_objectives(self, field):
        if not field.data:
            raise ValidationError("Say what the support should achieve")

    def validate_review_on(self, field):
        if field.data is not None and field.data <= date.today():
            raise ValidationError("Choose a review date after today")


class ActionForm(FlaskForm):
    """Confirm, no-show, take a waiting-list place, mark all read: nothing to fill in but the CSRF token."""


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", filters=[clean_text],
                           validators=[Optional(), max_length(MAX_REASON, "The reason")])


class DeliverForm(FlaskForm):
    attended = IntegerField("How many attended?", validators=[Optional()])

    def __init__(self, *args, places: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.places_booked = places
        self.attended.validators = [WholeNumber(0, places, f"Enter a number from 0 to {places}")]


class BookingFilterForm(FlaskForm):
    """A GET form: no CSRF token; unknown values are ignored by the service."""

    class Meta:
        csrf = False

    status = SelectField("Status", id="bookings-status", validate_choice=False,
                         choices=[SelectChoice(value="", label="Any status")]
                         + [SelectChoice(value=key, label=label) for key, label in BOOKING_STATUSES.items()])
    school = SelectField("School", id="bookings-school", validate_choice=False, coerce=int_or_none, choices=[])
