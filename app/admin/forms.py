"""Forms for the coordinator views of users."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, NumberRange, Optional

from app.models.people import ROLES

ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLES.items()]


class UserFilterForm(FlaskForm):
    """Filters read from the query string (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    role = SelectField("Role", choices=[SelectChoice("", "Any role"), *ROLE_CHOICES], validators=[Optional()])
    organisation = StringField("School or organisation", validators=[Optional()])
    q = StringField("Name or email", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[InputRequired("Choose a role.")])
    next = HiddenField()


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(["0", "1"], message="Choose whether the account is on or off.")])
    next = HiddenField()
