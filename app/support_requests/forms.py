"""Forms for support requests: the list filter, the request itself, and the actions on a
request's page (close, respond, broker). Field names are plain (`note`, `outcome`); ids
are prefixed where two forms share a page, so every label still points at one input."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.requests import OUTCOMES, URGENCIES, VISIBILITIES
from app.services.support_requests import MAX_DESCRIPTION, MAX_MESSAGE, MAX_NOTE, MAX_TITLE, STATUS_FILTERS


def strip(value):
    # NUL is refused by PostgreSQL text columns; nobody means to type it.
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def one_line(value):
    """Titles are one line: pasted line breaks and runs of spaces become single spaces."""
    return " ".join(value.replace("\x00", "").split()) if isinstance(value, str) else value


def optional_int(value):
    """Coerce a choice to an int id, with the blank choice as None."""
    if value is None or value == "":
        return None
    return int(value)


def max_length(n: int, label: str) -> Length:
    return Length(max=n, message=f"{label} must be {n:,} characters or fewer")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(pairs, blank: str | None = None) -> list[SelectChoice]:
    first = [SelectChoice(value="", label=blank)] if blank is not None else []
    return first + [SelectChoice(value=value, label=label) for value, label in pairs]


# --- The list --------------------------------------------------------------------------


class RequestFilterForm(FlaskForm):
    """A GET form: no CSRF token, never validated (the service ignores unknown values)."""

    class Meta:
        csrf = False

    category = SelectField("Kind of support", id="requests-category", choices=[], validate_choice=False)
    phase = SelectField("Phase", id="requests-phase", choices=[], validate_choice=False)
    status = SelectField("Status", id="requests-status", choices=[], validate_choice=False)
    mine = BooleanField("Only my school's requests", id="requests-mine")

    def raw_filters(self) -> dict:
        return {
            "category": self.category.data,
            "phase": self.phase.data,
            "status": self.status.data,
            "mine": "1" if self.mine.data else "",
        }

    def show(self, filters, options, *, has_school: bool) -> None:
        """Set the choices and show exactly the filters that were applied."""
        categories = [SelectChoice(value="", label="All kinds of support")]
        for group in options.categories:
            # An area's first option selects the whole area.
            categories.append(SelectChoice(value=group.slug, label=f"All of {group.name}", optgroup=group.name))
            categories += [SelectChoice(value=slug, label=name, optgroup=group.name) for _, slug, name in group.children]
        self.category.choices = categories
        self.phase.choices = _choices(((t.slug, t.label) for t in options.phases), "All phases")
        statuses = [(k, v) for k, v in STATUS_FILTERS.items() if k != "draft" or has_school]
        self.status.choices = _choices(statuses, "Open and closed")
        self.category.data = filters.category or ""
        self.phase.data = filters.phase or ""
        self.status.data = filters.status or ""
        self.mine.data = filters.mine


# --- Drafting and editing --------------------------------------------------------------


class RequestForm(FlaskForm):
    title = StringField(
        "Title",
        id="request-title",
        filters=[one_line],
        validators=[DataRequired("Enter a title for the request"), max_length(MAX_TITLE, "The title")],
    )
    description = TextAreaField(
        "What you need, and why",
        id="request-description",
        filters=[strip],
        validators=[max_length(MAX_DESCRIPTION, "The description")],
    )
    category_id = SelectField(
        "Kind of support",
        id="request-category",
        coerce=optional_int,
        choices=[],
        validators=[InputRequired("Choose the kind of support you need")],
        invalid_value_message="Choose the kind of support you need from the list",
        invalid_choice_message="Choose the kind of support you need from the list",
    )
    phases = MultiCheckboxField(
        "Phases",
        id="request-phases",
        coerce=int,
        choices=[],
        invalid_value_message="Choose phases from the list",
        invalid_choice_message="Choose phases from the list",
    )
    subjects = MultiCheckboxField(
        "Subjects",
        id="request-subjects",
        coerce=int,
        choices=[],
        invalid_value_message="Choose subjects from the list",
        invalid_choice_message="Choose subjects from the list",
    )
    urgency = RadioField(
        "How urgent is it?",
        id="request-urgency",
        choices=_choices(URGENCIES.items()),
        default="medium",
        invalid_choice_message="Choose how urgent this is",
    )
    visibility = RadioField(
        "Who can see it?",
        id="request-visibility",
        choices=_choices(VISIBILITIES.items()),
        default="partnership",
        invalid_choice_message="Choose who can see this request",
    )
    # Set by the button pressed: save as a draft, or (school leads) publish now.
    action = StringField(validators=[Optional(), AnyOf(["draft", "publish"], message="Choose to save a draft or publish")])

    def set_choices(self, options) -> None:
        categories = [SelectChoice(value="", label="Choose the kind of support")]
        for group in options.categories:
            categories += [SelectChoice(value=cid, label=name, optgroup=group.name) for cid, _, name in group.children]
        self.category_id.choices = categories
        self.phases.choices = _choices((t.id, t.label) for t in options.phases)
        self.subjects.choices = _choices((t.id, t.label) for t in options.subjects)

    @staticmethod
    def initial(req) -> dict:
        return {
            "title": req.title,
            "description": req.description,
            "category_id": req.category_id,
            "phases": [t.id for t in req.terms if t.facet == "phase"],
            "subjects": [t.id for t in req.terms if t.facet == "subject"],
            "urgency": req.urgency,
            "visibility": req.visibility,
        }

    def request_data(self) -> dict:
        return {name: self[name].data for name in ("title", "description", "category_id", "phases", "subjects", "urgency", "visibility")}

    @property
    def publish(self) -> bool:
        return self.action.data == "publish"


# --- Actions on a request ---------------------------------------------------------------


class PublishForm(FlaskForm):
    """Only the CSRF token: publishing takes no input."""


class CloseForm(FlaskForm):
    outcome = RadioField(
        "What happened?",
        id="close-outcome",
        choices=_choices(OUTCOMES.items()),
        invalid_choice_message="Choose what happened to this request",
    )
    note = TextAreaField(
        "Note (optional)", id="close-note", filters=[strip], validators=[max_length(MAX_NOTE, "The note")]
    )


class RespondForm(FlaskForm):
    message = TextAreaField(
        "Your message",
        id="respond-message",
        filters=[strip],
        validators=[DataRequired("Enter a message"), max_length(MAX_MESSAGE, "The message")],
    )
    offer_id = SelectField(
        "Suggest one of your offers (optional)",
        id="respond-offer",
        coerce=optional_int,
        choices=[],
        invalid_value_message="Choose one of your organisation's published offers, or none",
        invalid_choice_message="Choose one of your organisation's published offers, or none",
    )

    def set_choices(self, offers) -> None:
        self.offer_id.choices = _choices(((o.id, o.title) for o in offers), "No offer: just the message")


class BrokerForm(FlaskForm):
    provider_id = SelectField(
        "Provider",
        id="broker-provider",
        coerce=optional_int,
        choices=[],
        invalid_value_message="Choose a provider from the list",
        invalid_choice_message="Choose a provider from the list",
    )
    offer_id = SelectField(
        "Offer (optional)",
        id="broker-offer",
        coerce=optional_int,
        choices=[],
        invalid_value_message="Choose an offer from the list",
        invalid_choice_message="Choose an offer from the list",
    )
    note = TextAreaField(
        "Note to both schools", id="broker-note", filters=[strip], validators=[max_length(MAX_NOTE, "The note")]
    )

    def set_choices(self, providers, offers) -> None:
        self.provider_id.choices = _choices(((o.id, o.name) for o in providers), "Choose a provider (or just an offer)")
        self.offer_id.choices = [SelectChoice(value="", label="No particular offer")] + [
            SelectChoice(value=o.id, label=o.title, optgroup=o.organisation.name) for o in offers
        ]
