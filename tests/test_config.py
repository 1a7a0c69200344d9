"""Configuration: secrets, database URLs, instance config."""
import pytest

from app import ConfigurationError, create_app
from app.config import database_uri


def test_missing_secret_key_stops_the_app_outside_debug_and_tests(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})


def test_secret_key_from_environment_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["SECRET_KEY"] == "from-the-environment"
    # Outside debug and tests the cookies are Secure by default.
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_cookie_security_can_be_relaxed_for_local_http(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "false")
    app = create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_database_url_spellings():
    assert database_uri(None, "/srv/instance") == "sqlite:////srv/instance/app.sqlite"
    assert database_uri("postgres://u@h/db", "/i") == "postgresql+psycopg://u@h/db"
    assert database_uri("postgresql://u@h/db", "/i") == "postgresql+psycopg://u@h/db"
    assert database_uri("sqlite:////tmp/a.db", "/i") == "sqlite:////tmp/a.db"


def test_database_url_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.sqlite"


def test_credits_switch(monkeypatch, tmp_path):
    monkeypatch.setenv("WAYMARK_CREDITS", "off")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["CREDITS_ENABLED"] is False
