"""Search tests run on both engines: Whoosh always, PostgreSQL when the suite runs on it."""
import pytest

from app.extensions import db
from tests.conftest import TEST_DATABASE_URL

ON_POSTGRES = bool(TEST_DATABASE_URL) and TEST_DATABASE_URL.startswith("postgres")


@pytest.fixture(params=["whoosh", "postgres"])
def engine(request):
    if request.param == "postgres" and not ON_POSTGRES:
        # The CI run on PostgreSQL (TEST_DATABASE_URL=postgresql://...) covers this engine.
        pytest.skip("the PostgreSQL search backend runs when TEST_DATABASE_URL is PostgreSQL")
    return request.param


@pytest.fixture
def app_config(engine):
    return {"SEARCH_BACKEND": engine}


@pytest.fixture(autouse=True)
def _fresh_postgres_tables(app, engine):
    """The PostgreSQL engine's tables live beside the data, which every test empties: so
    must they be."""
    if engine != "postgres":
        yield
        return
    from app.search import get_backend

    get_backend().drop()
    yield
    db.session.rollback()
    get_backend().drop()


@pytest.fixture
def make_expert(app, make_user):
    from app.models import ExpertProfile

    def factory(name=None, headline="", bio="", public=True, organisation=None, **extra):
        user = make_user(role="teacher", name=name, organisation=organisation)
        profile = ExpertProfile(user_id=user.id, headline=headline, bio=bio, public=public, **extra)
        db.session.add(profile)
        db.session.commit()
        return profile

    return factory
