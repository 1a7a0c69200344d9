"""Helpers shared by the views that handle forms."""
from flask_login import current_user

from app.extensions import db
from app.services.errors import DomainError


def current_actor():
    """The signed-in user (or the anonymous user) as a real object, not Flask-Login's proxy."""
    return current_user._get_current_object()


def show_service_error(form, error: DomainError) -> None:
    """Undo the failed change and put the service's message(s) on their fields, or on the form.

    A service may name one field (error.field) or several (error.errors, a dict of field to
    message); anything not naming a field of this form is shown for the form as a whole.
    """
    db.session.rollback()
    errors = getattr(error, "errors", None) or {error.field: error.message}
    for name, message in errors.items():
        if name and name in form:
            form[name].errors = list(form[name].errors) + [message]
        else:
            form.form_errors.append(message)
