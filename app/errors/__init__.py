"""Error pages for 400/401/403/404/405/413/422/429/500/503, following the htmx rules.

An htmx request that needs a sign-in gets HX-Redirect to the sign-in page (a 401 would not
be swapped). Other htmx errors answer with the status and a short message that the page's
script shows in its status area.
"""
from flask import current_app, jsonify, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import DomainError
from app.web.htmx import is_htmx, render

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    401: ("Please sign in", "You need to sign in to see that page."),
    403: ("Forbidden", "You do not have permission to see or do that."),
    404: ("Page not found", "There is no page at this address. It may have moved or been removed."),
    405: ("Not allowed", "That action is not available here."),
    409: ("Conflict", "That clashes with something that already exists."),
    413: ("Too large", "What you sent is too large."),
    422: ("Not valid", "Some of what was sent is not valid."),
    429: ("Too many requests", "You have made too many requests. Please wait a little and try again."),
    500: ("Something went wrong", "Something went wrong on our side. It has been logged; please try again later."),
    503: ("Temporarily unavailable", "Waymark is briefly unavailable, perhaps for maintenance. Please try again in a few minutes."),
}


def _login_url() -> str:
    next_path = request.full_path if request.method == "GET" else request.path
    if next_path.endswith("?"):
        next_path = next_path[:-1]
    return url_for("auth.login", next=next_path)


def error_response(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, MESSAGES[500])
    if request.path.startswith("/openreferral/") or request.path == "/healthz" or request.accept_mimetypes.best == "application/json":
        return jsonify(error=title, message=message or default), status
    if is_htmx():
        response = current_app.response_class(message or default, status=status, mimetype="text/plain")
        return response
    return render("errors/error.html", status=status, code=status, title=title, message=message or default)


def register_error_handlers(app):
    @app.errorhandler(401)
    def unauthorized(error):
        from app.web.htmx import hx_redirect

        if is_htmx():
            response = hx_redirect(_login_url())
            response.status_code = 401
            return response
        from flask import flash, redirect

        flash("Please sign in to see that page.", "info")
        return redirect(_login_url())

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(400, "Your form had expired or was sent from elsewhere. Please reload the page and try again.")

    @app.errorhandler(DomainError)
    def domain_error(error):
        db.session.rollback()
        return error_response(error.status_code, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 401:
            return unauthorized(error)
        response = error_response(error.code or 500)
        if error.code == 429:
            response = current_app.make_response(response)
            response.headers.setdefault("Retry-After", "60")
        return response

    @app.errorhandler(Exception)
    def server_error(error):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)
