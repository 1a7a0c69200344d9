"""Forms for signing in, password reset and accepting an invitation, and a helper that puts a
service's error message on the field it is about."""
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from app.services.errors import DomainError

# Long enough for any passphrase, short enough that hashing it costs nothing unusual.
PASSWORD_INPUT_MAX = 1024


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[InputRequired("Enter your email address."), Length(max=254, message="That email address is too long.")],
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password."), Length(max=PASSWORD_INPUT_MAX, message="That password is too long.")],
    )
    next = HiddenField()


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[InputRequired("Enter your email address."), Length(max=254, message="That email address is too long.")],
    )


def _new_password_fields(label: str = "New password"):
    password = PasswordField(
        label,
        validators=[InputRequired("Enter a new password."), Length(max=PASSWORD_INPUT_MAX, message="That password is too long.")],
    )
    confirm = PasswordField(
        "Confirm the new password",
        validators=[InputRequired("Enter the new password again."), EqualTo("password", message="The two passwords do not match.")],
    )
    return password, confirm


class ResetPasswordForm(FlaskForm):
    password, confirm = _new_password_fields()


class AcceptInvitationForm(FlaskForm):
    name = StringField(
        "Your name",
        validators=[InputRequired("Enter your name."), Length(max=120, message="Use at most 120 characters.")],
    )
    password, confirm = _new_password_fields("Choose a password")


class ConfirmForm(FlaskForm):
    """A button-only form (sign out, revoke): carries the CSRF token and nothing else."""


def add_error(form: FlaskForm, error: DomainError | str, field: str | None = None) -> None:
    """Show a message on a field (the service names it; otherwise the first visible field)."""
    message = error.message if isinstance(error, DomainError) else str(error)
    name = field or getattr(error, "field", None)
    if not name or name not in form:
        name = next((f.name for f in form if f.type not in ("HiddenField", "CSRFTokenField")), None)
    target = form[name]
    target.errors = [*target.errors, message]
