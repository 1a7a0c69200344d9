"""SQLite runs in WAL mode with foreign keys, a busy timeout, and IMMEDIATE writers."""
import sqlite3

import pytest
from sqlalchemy import text

from app.extensions import db, write_transaction
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite-specific behaviour")


def test_pragmas(app):
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_foreign_keys_are_enforced(app):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.execute(
            text("INSERT INTO memberships (network_id, organisation_id, role, start_date) VALUES (999, 999, 'member', '2026-01-01')")
        )
        db.session.flush()
    db.session.rollback()


def _db_path(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def _other_writer_is_blocked(path: str) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return True
    finally:
        other.close()


def test_a_state_changing_request_begins_immediate(app):
    with app.test_request_context("/x", method="POST"):
        db.session.execute(text("SELECT 1"))
        # The transaction already holds the write lock although it has only read.
        assert _other_writer_is_blocked(_db_path(app))
        db.session.rollback()
    assert not _other_writer_is_blocked(_db_path(app))


def test_a_page_view_reads_in_a_deferred_transaction(app):
    with app.test_request_context("/x", method="GET"):
        db.session.execute(text("SELECT 1"))
        assert not _other_writer_is_blocked(_db_path(app))
        db.session.rollback()


def test_write_transaction_marks_cli_work_as_a_writer(app):
    with write_transaction():
        db.session.execute(text("SELECT 1"))
        assert _other_writer_is_blocked(_db_path(app))
        db.session.rollback()


def test_sign_in_does_not_hold_the_write_lock_while_hashing(app, client, make_user, monkeypatch):
    # A password check takes a tenth of a second; holding SQLite's one write lock through it
    # would make every booking in the partnership wait behind each sign-in.
    from app.services import passwords

    user = make_user(role="teacher", password="correct horse battery")
    db.session.commit()
    seen = []
    real_verify = passwords.verify_password

    def verify_and_look(stored, given):
        seen.append(_other_writer_is_blocked(_db_path(app)))
        return real_verify(stored, given)

    monkeypatch.setattr(passwords, "verify_password", verify_and_look)
    response = client.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code in (302, 303)
    assert seen == [False]
    response = client.post("/auth/login", data={"email": user.email, "password": "wrong horse battery"})
    assert seen == [False, False]
