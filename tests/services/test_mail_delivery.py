"""Email is written with the news in one transaction, delivered after commit, and retried when
the mail server is down: a booking never emails anyone if it rolled back, and a message the
server refused is not lost."""
import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, OutgoingMail
from app.models.base import utcnow
from app.services import bookings, mail
from tests.support.accounts import outbox
from tests.support.booking_world import build_world


@pytest.fixture
def world(app, make_school, make_user, make_offer):
    return build_world(make_school, make_user, make_offer)


def pending() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.sent_at.is_(None))))


def test_a_committed_booking_writes_and_delivers_its_email(app, world):
    bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.commit()
    rows = list(db.session.scalars(select(OutgoingMail)))
    assert [row.to_address for row in rows] == [world["lead"].email]
    assert rows[0].sent_at is not None and rows[0].attempts == 1
    assert [m["To"] for m in outbox(app)] == [world["lead"].email]


def test_a_rolled_back_booking_leaves_no_email_at_all(app, world):
    bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0
    assert outbox(app) == []


def test_in_a_request_mail_goes_after_the_response(app, client, login, world):
    login(world["teacher"])
    sid = world["session"].id
    response = client.post(f"/offers/{world['offer'].id}/sessions/{sid}/book", data={f"book-{sid}-places": 1})
    assert response.status_code in (302, 303), response.status_code
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    assert pending() == []
    assert [m["To"] for m in outbox(app)] == [world["lead"].email]


def refuse_connections(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(smtplib, "SMTP", down)


def test_a_mail_server_outage_keeps_the_booking_and_the_message(app, world, monkeypatch):
    app.config["MAIL_SERVER"] = "mail.invalid"
    refuse_connections(monkeypatch)
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.commit()
    assert db.session.get(Booking, booking.id).status == "requested"
    [row] = pending()
    assert row.attempts == 1 and "Connection refused" in row.last_error
    assert row.next_attempt_at > utcnow(), "not retried straight away"
    # Not due yet: a retry run leaves it alone.
    assert mail.deliver() == (0, 0)
    # The server is back and the retry is due: it goes, once.
    monkeypatch.undo()
    app.config["MAIL_SERVER"] = None
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert mail.deliver() == (1, 0)
    assert pending() == []
    assert mail.deliver() == (0, 0)
    assert [m["To"] for m in outbox(app)] == [world["lead"].email]


def test_flask_mail_send_retries_and_reports(app, runner, world, monkeypatch):
    app.config["MAIL_SERVER"] = "mail.invalid"
    refuse_connections(monkeypatch)
    bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.commit()
    [row] = pending()
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert "failed 1" in result.output and "1 pending" in result.output
    assert pending()[0].attempts == 2
    monkeypatch.undo()
    app.config["MAIL_SERVER"] = None
    pending()[0].next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 1, failed 0; 0 pending" in result.output


def test_a_new_message_is_left_to_the_request_that_wrote_it(app, world):
    # Until the handover time has passed, a retry run does not take a fresh message, so the
    # request delivering it after its response and a retry never send it twice.
    db.session.info[mail_key := "waymark_mail_pending"] = []
    bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.flush()
    db.session.info.pop(mail_key, None)  # as if the request's delivery had not run yet
    db.session.commit()
    [row] = pending()
    assert mail.deliver() == (0, 0)
    assert row.sent_at is None


def test_healthz_reports_the_mail_backlog(app, client, world, monkeypatch):
    app.config["MAIL_SERVER"] = "mail.invalid"
    refuse_connections(monkeypatch)
    bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.commit()
    body = client.get("/healthz").get_json()
    assert body["mail"] == {"pending": 1, "failing": 1}
