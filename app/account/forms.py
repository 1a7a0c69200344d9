"""Forms for your own account and for inviting people."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from app.auth.forms import PASSWORD_INPUT_MAX


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Enter your name."), Length(max=120, message="Use at most 120 characters.")])
    job_title = StringField("Job title", validators=[Optional(), Length(max=120, message="Use at most 120 characters.")])
    phone = StringField("Phone", validators=[Optional(), Length(max=40, message="Use at most 40 characters.")])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password."), Length(max=PASSWORD_INPUT_MAX, message="That password is too long.")],
    )
    new_password = PasswordField(
        "New password",
        validators=[InputRequired("Enter a new password."), Length(max=PASSWORD_INPUT_MAX, message="That password is too long.")],
    )
    confirm = PasswordField(
        "Confirm the new password",
        validators=[InputRequired("Enter the new password again."), EqualTo("new_password", message="The two new passwords do not match.")],
    )


def _optional_int(value):
    if value in (None, "", "0", 0):
        return 0
    return int(value)


class InviteForm(FlaskForm):
    email = EmailField("Email address", validators=[InputRequired("Enter their email address."), Length(max=254, message="That email address is too long.")])
    name = StringField("Their name (optional)", validators=[Optional(), Length(max=120, message="Use at most 120 characters.")])
    role = SelectField("Role", validators=[InputRequired("Choose a role.")])
    organisation_id = SelectField("School or organisation", coerce=_optional_int)

    def __init__(self, roles: list[tuple[str, str]], organisations: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(value, label) for value, label in roles]
        self.organisation_id.choices = [SelectChoice(value, label) for value, label in organisations]
