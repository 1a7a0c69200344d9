"""`flask reminders`: sends what is due, prints the counts, and is safe to run every hour."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Notification, OfferSession
from app.models.base import utcnow
from app.services.offers import local_now
from tests.support.accounts import outbox


def _notifications() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def test_reminders_sends_each_reminder_once(runner, app, make_school, make_user, make_offer):
    provider, buyer = make_school(name="Provider School"), make_school(name="Buyer School")
    make_user(role="school_lead", organisation=provider)
    lead = make_user(role="school_lead", organisation=buyer)
    teacher = make_user(role="teacher", organisation=buyer)
    offer = make_offer(organisation=provider, title="Phonics in practice")
    make_offer(organisation=provider, title="Old offer", assured_on=date.today() - timedelta(days=400))
    tomorrow = datetime.combine(local_now().date() + timedelta(days=1), time(12, 0))
    session = OfferSession(offer_id=offer.id, starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=2), places=5)
    db.session.add(session)
    db.session.flush()
    db.session.add_all([
        Booking(offer_id=offer.id, organisation_id=buyer.id, requested_by_id=teacher.id, status="delivered",
                places=1, credits=0, delivered_at=utcnow() - timedelta(weeks=9)),
        Booking(offer_id=offer.id, session_id=session.id, organisation_id=buyer.id, requested_by_id=teacher.id,
                status="confirmed", places=1, credits=0),
    ])
    db.session.commit()

    result = runner.invoke(args=["reminders"])
    assert result.exit_code == 0, result.output
    assert ("Sent 1 impact follow-up request(s), 1 freshness reminder(s) and 2 booking reminder(s); "
            "0 waiting-list offer(s) lapsed.") in result.output
    db.session.expire_all()
    assert _notifications() == 4
    assert len(outbox(app)) == 4
    assert {m["To"] for m in outbox(app)} >= {lead.email, teacher.email}

    again = runner.invoke(args=["reminders"])
    assert again.exit_code == 0, again.output
    assert "Sent 0 impact follow-up request(s), 0 freshness reminder(s) and 0 booking reminder(s)" in again.output
    db.session.expire_all()
    assert _notifications() == 4
    assert len(outbox(app)) == 4


def test_reminders_is_listed_with_its_help(runner):
    result = runner.invoke(args=["reminders", "--help"])
    assert result.exit_code == 0
    assert "safe to run from cron every hour" in " ".join(result.output.split())
