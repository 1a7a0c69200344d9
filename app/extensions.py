"""Extensions, created once at module level and bound to the app in create_app."""
import contextlib
import contextvars
import sqlite3

from flask import has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


# --- SQLite: WAL, foreign keys, busy timeout, and IMMEDIATE write transactions ---------
#
# A deferred SQLite transaction that reads and then writes cannot wait for the write
# lock: it fails at once with "database is locked" whatever the busy timeout. So every
# transaction that may write begins IMMEDIATE. Requests that change state (anything but
# GET/HEAD/OPTIONS) and code run inside write_transaction() are writers; page views read
# in deferred transactions so readers never queue behind one another.

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@contextlib.contextmanager
def write_transaction():
    """Mark the transactions begun inside this block as writers (used by CLI commands)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


@contextlib.contextmanager
def read_phase():
    """Reads that come before slow work in a writing request, in a deferred transaction that
    ends when the block does, so that SQLite's single write lock is not held during the slow
    part (sign-in hashes a password for a tenth of a second). Code in the block must only
    read; what it loaded is expired on leaving and reloads in the writing transaction."""
    token = _read_intent.set(True)
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    else:
        db.session.commit()
    finally:
        _read_intent.reset(token)


_read_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("read_intent", default=False)


def _wants_immediate() -> bool:
    if _read_intent.get():
        return False
    if _write_intent.get():
        return True
    return has_request_context() and request.method not in SAFE_METHODS


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Take BEGIN out of pysqlite's hands so that the "begin" listener decides its kind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The busy timeout first: even switching to WAL may have to wait for another connection.
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection):
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_immediate() else "BEGIN")
