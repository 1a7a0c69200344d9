"""The application factory: config, extensions, blueprints, CLI, error pages."""
import os

from flask import Flask, g, request
from flask_login import current_user

from app import config as config_module
from app.extensions import csrf, db, limiter, login_manager, migrate


class ConfigurationError(RuntimeError):
    pass


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_module.Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.from_environment())
    if test_config is not None:
        app.config.update(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    _check_secret_key(app)
    _cookie_security(app)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", None)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = config_module.database_uri(
            app.config.get("DATABASE_URL"), app.instance_path
        )
    app.config.setdefault("OUTBOX_DIR", os.path.join(app.instance_path, "outbox"))
    app.config["CREDITS_ENABLED"] = str(app.config.get("WAYMARK_CREDITS", "on")).lower() not in ("off", "0", "false", "no")
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    _setup_login(app)

    from app.web.markdown import render_user_markdown
    from app.web import filters

    app.jinja_env.filters["md"] = render_user_markdown
    filters.register(app)

    _register_blueprints(app)

    from app.errors import register_error_handlers

    register_error_handlers(app)

    from app import cli

    cli.register(app)

    app.after_request(_security_headers)
    from app.services.notify import deliver_after_response

    app.after_request(deliver_after_response)
    from app.search import init_app as init_search

    init_search(app)
    app.context_processor(_template_globals)
    return app


def _check_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.debug or app.testing:
        # Debug and tests only: a throwaway key. Sessions do not survive a restart.
        app.config["SECRET_KEY"] = os.urandom(32).hex()
        return
    raise ConfigurationError(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable or put "
        "SECRET_KEY = '...' in instance/config.py (make run creates one for local use)."
    )


def _cookie_security(app: Flask) -> None:
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        value = app.config.get(key)
        if isinstance(value, str):
            value = value.lower() in ("1", "true", "yes", "on")
        if value is None:
            # Secure cookies everywhere but local debugging and tests over plain http.
            value = not (app.debug or app.testing)
        app.config[key] = value


def _setup_login(app: Flask) -> None:
    from app.models import User

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_key: str):
        try:
            user_id, version = (int(part) for part in user_key.split(":", 1))
        except (ValueError, AttributeError):
            return None
        user = db.session.get(User, user_id)
        if user is None or not user.active or user.session_version != version:
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import abort

        abort(401)


def _register_blueprints(app: Flask) -> None:
    from app.account import bp as account_bp
    from app.admin import bp as admin_bp
    from app.auth import bp as auth_bp
    from app.bookings import bp as bookings_bp
    from app.credits import bp as credits_bp
    from app.directory import bp as directory_bp
    from app.feedback import bp as feedback_bp
    from app.main import bp as main_bp
    from app.offers import bp as offers_bp
    from app.pages import bp as pages_bp
    from app.searching import bp as search_bp
    from app.support_requests import bp as requests_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(directory_bp)
    app.register_blueprint(offers_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(requests_bp)
    app.register_blueprint(pages_bp, url_prefix="/pages")
    app.register_blueprint(credits_bp)
    app.register_blueprint(bookings_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user and current_user.is_authenticated:
        # Pages for members carry contact details: never keep them in shared caches.
        headers.setdefault("Cache-Control", "private, no-store")
    return response


def _template_globals():
    from app.web.nav import navigation

    return {
        "nav_items": navigation(current_user),
        "credits_enabled": _credits_enabled(),
        "site_name": "Waymark",
    }


def _credits_enabled() -> bool:
    from flask import current_app

    return bool(current_app.config.get("CREDITS_ENABLED"))
