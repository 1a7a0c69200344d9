"""Domain errors. One error handler maps each to its HTTP status and a clear message."""


class DomainError(Exception):
    status_code = 400
    default_message = "That could not be done."

    def __init__(self, message: str | None = None, *, field: str | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.field = field


class NotAllowed(DomainError):
    status_code = 403
    default_message = "You are not allowed to do that."


class NotFound(DomainError):
    status_code = 404
    default_message = "That could not be found."


class Conflict(DomainError):
    status_code = 409
    default_message = "That clashes with something that already exists."


class Invalid(DomainError):
    status_code = 422
    default_message = "Some of what was sent is not valid."
