"""The migrations build, from nothing, exactly the schema the models describe, on both engines."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import BASE_CONFIG, need

PG_SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MIGRATIONS_DB = "waymark_migrations"


def _drift(app) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, db.metadata)


def _append_only_triggers() -> set[str]:
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return {row[0] for row in db.session.execute(text(sql))}


def test_sqlite_upgrade_from_empty_has_no_drift(tmp_path):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.sqlite"})
    with app.app_context():
        upgrade()
        assert _drift(app) == []
        assert _append_only_triggers() == {
            "ledger_entries_no_update", "ledger_entries_no_delete",
            "ledger_transfers_no_update", "ledger_transfers_no_delete",
        }
        # And the way back works too, so a bad release can be rolled back.
        downgrade(revision="base")
        upgrade()
        assert _drift(app) == []
        db.engine.dispose()


def _pg_admin_connection():
    import psycopg

    try:
        return psycopg.connect(PG_SERVER_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None


@pytest.mark.postgres
def test_postgresql_upgrade_from_empty_has_no_drift():
    admin = _pg_admin_connection()
    need(admin is not None, f"PostgreSQL is not reachable at {PG_SERVER_URL}")
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {MIGRATIONS_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {MIGRATIONS_DB}")
    base, _, _ = PG_SERVER_URL.rpartition("/")
    from app.config import database_uri

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_uri(f"{base}/{MIGRATIONS_DB}", "/")})
    try:
        with app.app_context():
            upgrade()
            assert _drift(app) == []
            assert _append_only_triggers() == {"ledger_entries_append_only", "ledger_transfers_append_only"}
            db.session.remove()
            db.engine.dispose()
    finally:
        admin = _pg_admin_connection()
        with admin:
            admin.execute(f"DROP DATABASE IF EXISTS {MIGRATIONS_DB} WITH (FORCE)")
