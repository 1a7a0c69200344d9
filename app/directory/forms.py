"""Forms for the directory: the filter form, profile editing, people and expert profiles."""
import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.organisations import OFSTED_GRADES, PHASES
from app.models.people import ROLES
from app.services.directory import MAX_CAPACITY_DAYS, MAX_PUPILS, SCHOOL_ROLES, normalise_postcode


def strip(value):
    return value.strip() if isinstance(value, str) else value


def max_length(n: int, label: str) -> Length:
    return Length(max=n, message=f"{label} must be {n:,} characters or fewer")


class WholeNumberField(IntegerField):
    """An IntegerField whose 'not a number' message says what is wanted."""

    def __init__(self, label=None, validators=None, invalid_message="Enter a whole number", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = int(valuelist[0])
        except ValueError:
            # Also raised for absurdly long digit strings (Python's int() digit limit).
            self.data = None
            raise ValueError(self.invalid_message) from None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def add_scheme(value):
    """People type 'www.school.org.uk': assume https:// when no scheme is given."""
    if isinstance(value, str) and value and "://" not in value:
        return "https://" + value
    return value


_HOST = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)


def website_url(form, field):
    message = "Enter a website address, like https://www.school.org.uk"
    try:
        parts = urlsplit(field.data)
        parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise ValidationError(message) from None
    # Only http(s): the address becomes a link, and javascript: links run script.
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not _HOST.fullmatch(parts.hostname):
        raise ValidationError(message)
    if any(ch.isspace() for ch in field.data):
        raise ValidationError(message)


def email_address(form, field):
    try:
        # test_environment allows the reserved .test domain that demo and test data use;
        # it also implies no DNS lookups (check_deliverability=False).
        result = validate_email(field.data, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise ValidationError("Enter an email address in the correct format, like office@school.org.uk") from None
    field.data = result.normalized


def phone_number(form, field):
    digits = sum(ch.isdigit() for ch in field.data)
    if not re.fullmatch(r"\+?[0-9() \-]+", field.data) or not 6 <= digits <= 15:
        raise ValidationError("Enter a phone number, like 01632 960 001 or +44 1632 960 001")


def uk_postcode(form, field):
    postcode = normalise_postcode(field.data)
    if postcode is None:
        raise ValidationError("Enter a real UK postcode, like GL1 2AB")
    field.data = postcode


def urn_format(form, field):
    value = field.data or ""
    if not re.fullmatch(r"[0-9]{6}", value):
        raise ValidationError("URN must be six digits")
    if value.startswith("0"):
        raise ValidationError("URN must be six digits, from 100000 to 999999")


def _choices(pairs, blank: str | None = "Not set") -> list[SelectChoice]:
    """(value, label) pairs as choices, after a blank first choice unless blank is None."""
    first = [SelectChoice(value="", label=blank)] if blank is not None else []
    return first + [SelectChoice(value=value, label=label) for value, label in pairs]


# --- Browsing ---------------------------------------------------------------------------


class DirectoryFilterForm(FlaskForm):
    """A GET form: no CSRF token, and never validated (unknown values are ignored by the service)."""

    class Meta:
        csrf = False

    q = StringField("Name contains", id="directory-q", filters=[strip])
    kind = SelectField("Kind of organisation", id="directory-kind", choices=[], validate_choice=False)
    phase = SelectField("Phase", id="directory-phase", choices=[], validate_choice=False)
    la = SelectField("Local authority", id="directory-la", choices=[], validate_choice=False)
    network = SelectField("Network", id="directory-network", choices=[], validate_choice=False)

    def raw_filters(self) -> dict:
        return {name: self[name].data for name in ("q", "kind", "phase", "la", "network")}

    def show(self, filters, options) -> None:
        """Set the choices, and show only the filters that were applied."""
        self.kind.choices = _choices(options.kinds, "All kinds")
        self.phase.choices = _choices(options.phases, "All phases")
        self.la.choices = _choices(options.las, "All local authorities")
        self.network.choices = _choices(options.networks, "All networks")
        for name in ("kind", "phase", "la", "network"):
            self[name].data = getattr(filters, name) or ""
        self.q.data = filters.q or ""


# --- Organisation profile ---------------------------------------------------------------

PROFILE_FIELDS = ("name", "summary", "website", "email", "phone", "address", "postcode")
SCHOOL_FIELDS = ("urn", "phase", "school_type", "pupils", "ofsted_grade", "urban_rural")


class OrganisationProfileForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip],
        validators=[DataRequired("Enter the organisation's name"), max_length(200, "Name")],
    )
    summary = TextAreaField("Summary", filters=[strip], validators=[max_length(5000, "Summary")])
    website = StringField(
        "Website",
        filters=[strip, add_scheme],
        validators=[Optional(), max_length(300, "Website address"), website_url],
    )
    email = StringField(
        "Email address", filters=[strip], validators=[Optional(), max_length(254, "Email address"), email_address]
    )
    phone = StringField("Phone", filters=[strip], validators=[Optional(), max_length(40, "Phone number"), phone_number])
    address = TextAreaField("Address", filters=[strip], validators=[max_length(300, "Address")])
    postcode = StringField("Postcode", filters=[strip], validators=[Optional(), uk_postcode])

    field_names = PROFILE_FIELDS

    def profile_data(self) -> dict:
        return {name: self[name].data for name in self.field_names}

    @classmethod
    def initial(cls, organisation) -> dict:
        data = {name: getattr(organisation, name) or "" for name in PROFILE_FIELDS}
        school = organisation.school
        if school is not None:
            data.update(
                urn=str(school.urn) if school.urn else "",
                phase=school.phase or "",
                school_type=school.school_type or "",
                pupils=school.pupils,
                ofsted_grade=school.ofsted_grade or "",
                urban_rural=school.urban_rural or "",
            )
        return data


class SchoolProfileForm(OrganisationProfileForm):
    urn = StringField("URN (unique reference number)", filters=[strip], validators=[Optional(), urn_format])
    phase = SelectField("Phase", choices=_choices(PHASES.items()), invalid_choice_message="Choose a phase from the list")
    school_type = StringField("Type of school", filters=[strip], validators=[max_length(100, "Type of school")])
    pupils = WholeNumberField(
        "Number of pupils",
        invalid_message=f"Pupils must be a whole number from 0 to {MAX_PUPILS:,}",
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_PUPILS, message=f"Pupils must be a whole number from 0 to {MAX_PUPILS:,}"),
        ],
    )
    ofsted_grade = SelectField(
        "Ofsted grade", choices=_choices((g, g) for g in OFSTED_GRADES), invalid_choice_message="Choose an Ofsted grade from the list"
    )
    urban_rural = SelectField(
        "Urban or rural",
        choices=_choices([("urban", "Urban"), ("rural", "Rural")]),
        invalid_choice_message="Choose urban or rural from the list",
    )

    field_names = PROFILE_FIELDS + SCHOOL_FIELDS

    def profile_data(self) -> dict:
        data = super().profile_data()
        data["urn"] = int(data["urn"]) if data["urn"] else None
        return data


def profile_form_for(organisation):
    form_class = SchoolProfileForm if organisation.kind == "school" else OrganisationProfileForm
    return form_class(data=form_class.initial(organisation))


# --- People ----------------------------------------------------------------------------


class MemberForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired("Enter the person's name"), max_length(120, "Name")])
    job_title = StringField("Job title", filters=[strip], validators=[max_length(120, "Job title")])
    phone = StringField("Phone", filters=[strip], validators=[Optional(), max_length(40, "Phone number"), phone_number])
    role = SelectField(
        "Role",
        choices=_choices(((role, ROLES[role]) for role in SCHOOL_ROLES), blank=None),
        invalid_choice_message="Choose teacher, governor or school lead",
    )

    def member_data(self) -> dict:
        return {"name": self.name.data, "job_title": self.job_title.data, "phone": self.phone.data, "role": self.role.data}


class MemberActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(["0", "1"], message="Choose deactivate or reactivate")])


class ExpertProfileForm(FlaskForm):
    headline = StringField(
        "Headline",
        filters=[strip],
        validators=[max_length(200, "Headline")],
        description="One line on what you can help with, like 'Maths mastery lead, KS2'",
    )
    bio = TextAreaField("About you", filters=[strip], validators=[max_length(5000, "About you")])
    availability = StringField(
        "Availability", filters=[strip], validators=[max_length(200, "Availability")], description="For example: Tuesday afternoons in term time"
    )
    capacity_days = WholeNumberField(
        "Days a term you can give to other schools",
        invalid_message=f"Days a term must be a whole number from 0 to {MAX_CAPACITY_DAYS}",
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_CAPACITY_DAYS, message=f"Days a term must be a whole number from 0 to {MAX_CAPACITY_DAYS}"),
        ],
    )
    designations = MultiCheckboxField(
        "Designations",
        coerce=int,
        choices=[],
        invalid_value_message="Choose designations from the list",
        invalid_choice_message="Choose designations from the list (%(value)s is not one of them)",
    )
    specialisms = MultiCheckboxField(
        "Specialisms",
        coerce=int,
        choices=[],
        invalid_value_message="Choose specialisms from the list",
        invalid_choice_message="Choose specialisms from the list (%(value)s is not one of them)",
    )
    public = BooleanField("Show this expert profile in the directory")

    def set_choices(self, designations, specialisms) -> None:
        self.designations.choices = _choices(
            ((d.id, d.name if d.current else f"{d.name} (no longer awarded)") for d in designations), blank=None
        )
        self.specialisms.choices = _choices(((s.id, s.name) for s in specialisms), blank=None)

    @staticmethod
    def initial(profile) -> dict:
        if profile is None:
            return {"public": True, "designations": [], "specialisms": []}
        return {
            "headline": profile.headline,
            "bio": profile.bio,
            "availability": profile.availability,
            "capacity_days": profile.capacity_days,
            "designations": [d.id for d in profile.designations],
            "specialisms": [s.id for s in profile.specialisms],
            "public": profile.public,
        }

    def profile_data(self) -> dict:
        return {
            name: self[name].data
            for name in ("headline", "bio", "availability", "capacity_days", "designations", "specialisms", "public")
        }
