"""Fixtures in the style of Flask's tutorial: app, client, runner, login_as and factories.

The database is SQLite in a temporary file by default. Set TEST_DATABASE_URL (for example
postgresql://postgres@127.0.0.1:5432/test) to run the same suite on PostgreSQL.
"""
import itertools
import os
import shutil

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.models import Organisation, SchoolProfile, User

IN_CI = bool(os.environ.get("CI"))
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def need(condition: bool, reason: str):
    """Skip locally when a dependency (PostgreSQL, Chromium) is missing; fail in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI is set, so this cannot be skipped)")
    pytest.skip(reason)


def _pg_uri(url: str) -> str:
    from app.config import database_uri

    return database_uri(url, "/nonexistent")


BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    # Cheap password hashing in tests; the real parameters are tested on their own.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "ARGON2_PARALLELISM": 1,
    "SERVER_NAME_FOR_MAIL": "http://localhost",
}


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory):
    """Build the schema once; each test copies the file (SQLite) or truncates (PostgreSQL)."""
    if TEST_DATABASE_URL:
        if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
            pytest.exit("The PostgreSQL suite shares one database: run it with -n 0.", returncode=2)
        uri = _pg_uri(TEST_DATABASE_URL)
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": uri})
        with app.app_context():
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
            db.create_all()
            db.engine.dispose()
        return uri
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    return path


def _truncate_all():
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    The test itself holds an app context for its factories. Without this, every request
    would share the test's `g` (Flask-Login's cached user, the CSRF token) and its
    database session, so a view that forgot to commit, or a session that should have
    been refused, could still pass.
    """

    def open(self, *args, **kwargs):
        db.session.commit()  # the request sees what the test wrote
        # Buffered, as a server reads the whole answer: that runs the response's close
        # callbacks (mail is delivered there, after the response has gone).
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.commit()  # end the test's snapshot: it then sees what the request wrote
        db.session.expire_all()
        return response


@pytest.fixture
def app_config():
    """Override in a module to change the app's configuration for its tests."""
    return {}


@pytest.fixture
def app(_template_db, tmp_path, app_config):
    config = {**BASE_CONFIG, "OUTBOX_DIR": str(tmp_path / "outbox"), **app_config}
    if TEST_DATABASE_URL:
        config["SQLALCHEMY_DATABASE_URI"] = _template_db
    else:
        path = tmp_path / "app.sqlite"
        shutil.copy(_template_db, path)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app = create_app(config)
    app.test_client_class = IsolatedClient
    app.instance_path = str(tmp_path / "instance")
    os.makedirs(app.instance_path, exist_ok=True)
    with app.app_context():
        if TEST_DATABASE_URL:
            _truncate_all()
        yield app
        db.session.remove()
        if TEST_DATABASE_URL:
            _truncate_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_counter = itertools.count(1)


@pytest.fixture
def make_school(app):
    def factory(name=None, urn=None, phase="primary", la_code="916", la_name="Gloucestershire", pupils=210, **extra):
        n = next(_counter)
        name = name or f"Test School {n}"
        org = Organisation(
            kind="school",
            name=name,
            slug=extra.pop("slug", None) or f"test-school-{n}",
            la_code=la_code,
            la_name=la_name,
            easting=extra.pop("easting", 380000 + n * 100),
            northing=extra.pop("northing", 220000 + n * 100),
            email=extra.pop("email", f"office{n}@school.test"),
            phone=extra.pop("phone", "01234 567890"),
            **extra,
        )
        org.school = SchoolProfile(
            urn=urn or (100000 + n),
            phase=phase,
            school_type="Community school",
            pupils=pupils,
            ofsted_grade="Good",
            urban_rural="urban",
            status="open",
        )
        db.session.add(org)
        db.session.commit()
        return org

    return factory


@pytest.fixture
def make_org(app):
    def factory(kind="teaching_school_hub", name=None, **extra):
        n = next(_counter)
        org = Organisation(kind=kind, name=name or f"Test Hub {n}", slug=extra.pop("slug", None) or f"test-org-{n}", **extra)
        db.session.add(org)
        db.session.commit()
        return org

    return factory


@pytest.fixture
def make_user(app, make_school):
    def factory(role="teacher", organisation=None, email=None, password=None, name=None, **extra):
        from app.services import passwords

        n = next(_counter)
        if organisation is None and role not in ("admin", "coordinator"):
            organisation = make_school()
        user = User(
            email=email or f"{role}{n}@example.test",
            name=name or f"{role.replace('_', ' ').title()} {n}",
            role=role,
            organisation_id=organisation.id if organisation is not None else None,
            password_hash=passwords.hash_password(password) if password else None,
            **extra,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def taxonomy(app):
    """The seeded category tree and facet vocabularies."""
    from app.services.taxonomy import seed_taxonomy

    seed_taxonomy()
    db.session.commit()


def term(facet: str, slug: str):
    from app.models import FacetTerm

    return db.session.query(FacetTerm).filter_by(facet=facet, slug=slug).one()


def category(slug: str):
    from app.models import Category

    return db.session.query(Category).filter_by(slug=slug).one()


@pytest.fixture
def make_offer(app, taxonomy, make_school):
    """make_offer(organisation=..., status="published", terms={"phase": ["primary"]}, sessions=2)."""
    from datetime import date, datetime, timedelta

    from app.models import Offer, OfferSession

    def factory(organisation=None, title=None, category_slug="early-reading-phonics", status="published",
                terms=None, sessions=0, places=20, booking_mode="sessions", price_credits=2, **extra):
        n = next(_counter)
        organisation = organisation or make_school()
        offer = Offer(
            organisation_id=organisation.id,
            title=title or f"Test offer {n}",
            summary=extra.pop("summary", "A short summary."),
            description=extra.pop("description", "A **longer** description."),
            category_id=category(category_slug).id,
            booking_mode=booking_mode,
            price_credits=price_credits,
            price_unit=extra.pop("price_unit", "place" if booking_mode == "sessions" else "day"),
            capacity=extra.pop("capacity", places),
            status=status,
            easting=extra.pop("easting", organisation.easting),
            northing=extra.pop("northing", organisation.northing),
            postcode=extra.pop("postcode", organisation.postcode),
            assured_on=extra.pop("assured_on", date.today()),
            published_at=extra.pop("published_at", datetime(2026, 9, 1) + timedelta(minutes=n) if status != "draft" else None),
            **extra,
        )
        for facet, slugs in (terms or {"phase": ["primary"], "format": ["course"], "delivery": ["in-person"]}).items():
            offer.terms.extend(term(facet, slug) for slug in slugs)
        start = datetime.combine(date.today() + timedelta(days=30), datetime.min.time()).replace(hour=16)
        for i in range(sessions):
            offer.sessions.append(OfferSession(starts_at=start + timedelta(days=7 * i), ends_at=start + timedelta(days=7 * i, hours=2), places=places))
        db.session.add(offer)
        db.session.commit()
        return offer

    return factory


@pytest.fixture
def make_request(app, taxonomy, make_school):
    """make_request(organisation=..., status="published", visibility="partnership")."""
    from datetime import datetime

    from app.models import SupportRequest

    def factory(organisation=None, title=None, status="published", visibility="partnership", category_slug="early-reading-phonics", **extra):
        n = next(_counter)
        organisation = organisation or make_school()
        request = SupportRequest(
            organisation_id=organisation.id,
            title=title or f"Test request {n}",
            description=extra.pop("description", "We would like help with early reading."),
            category_id=category(category_slug).id if category_slug else None,
            status=status,
            visibility=visibility,
            urgency=extra.pop("urgency", "medium"),
            published_at=datetime(2026, 9, 1) if status != "draft" else None,
            **extra,
        )
        db.session.add(request)
        db.session.commit()
        return request

    return factory


@pytest.fixture
def login(client):
    """Sign a user in on the test client without going through the form."""

    def do_login(user):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return do_login


@pytest.fixture
def login_as(make_user, login):
    """login_as("school_lead") creates a user with that role and signs them in."""

    def do_login_as(role, **kwargs):
        return login(make_user(role=role, **kwargs))

    return do_login_as
