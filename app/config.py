"""Configuration defaults. Secrets come from instance/config.py or the environment."""
import os

ENV_KEYS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "SEARCH_BACKEND",
    "SEARCH_INDEX_DIR",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_FROM",
    "RATELIMIT_STORAGE_URI",
    "WAYMARK_CREDITS",
    "SERVER_NAME_FOR_MAIL",
    "SESSION_COOKIE_SECURE",
    "REMEMBER_COOKIE_SECURE",
)


class Defaults:
    SECRET_KEY = None
    DATABASE_URL = None  # None: SQLite file in the instance folder
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SEARCH_BACKEND = "whoosh"  # or "postgres" (needs a PostgreSQL DATABASE_URL)
    SEARCH_INDEX_DIR = None  # the Whoosh index; None: <instance>/search
    # A missing, old-version or corrupt index is rebuilt when first needed; meanwhile search
    # answers from the database. None: in the background, except in tests (at once).
    SEARCH_AUTO_REBUILD = True
    SEARCH_BACKGROUND_REBUILD = None
    SEARCH_APPLY_ON_COMMIT = True
    SEARCH_LOCK_WAIT = 2.0  # seconds a writer waits for another before leaving its changes queued
    SEARCH_REBUILD_LOCK_WAIT = 60.0
    SEARCH_PG_TRIGRAM = "auto"  # "off": typo correction without the pg_trgm extension
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = False
    MAIL_FROM = "Waymark <no-reply@waymark.test>"
    # Base URL written into emailed links when no request is in progress (CLI).
    SERVER_NAME_FOR_MAIL = "http://127.0.0.1:5000"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    WAYMARK_CREDITS = "on"
    WAYMARK_NAME = "Waymark"

    # Sessions and cookies. SESSION_COOKIE_SECURE is switched on outside debug and tests
    # (see create_app) so local http://127.0.0.1 development still works.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = None
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = None
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Accounts
    PASSWORD_MIN_LENGTH = 12
    PASSWORD_MAX_LENGTH = 128
    INVITATION_DAYS = 14
    RESET_TOKEN_MINUTES = 60
    # Sign-in throttling (ASVS 2.2.1): failures per account and per address in a window.
    LOGIN_WINDOW_MINUTES = 15
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 10
    LOGIN_MAX_FAILURES_PER_IP = 50

    DIRECTORY_PAGE_SIZE = 24
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024


def from_environment() -> dict:
    values = {}
    for key in ENV_KEYS:
        if key in os.environ and os.environ[key] != "":
            values[key] = os.environ[key]
    if "MAIL_PORT" in values:
        values["MAIL_PORT"] = int(values["MAIL_PORT"])
    if "MAIL_USE_TLS" in values:
        values["MAIL_USE_TLS"] = values["MAIL_USE_TLS"].lower() in ("1", "true", "yes", "on")
    return values


def database_uri(database_url: str | None, instance_path: str) -> str:
    if not database_url:
        return "sqlite:///" + os.path.join(instance_path, "app.sqlite")
    # Accept the common postgres:// and postgresql:// spellings and use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    return database_url
