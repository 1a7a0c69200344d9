"""Reminders: impact follow-ups eight weeks on, offers about to go stale, sessions tomorrow;
each sent once however often the sender runs."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, ImpactFollowUp, Notification, OfferSession
from app.services import offers, reminders
from app.services.reminders import _local
from tests.support.accounts import outbox

# A Tuesday morning in term, in UTC (09:00 in London: summer time).
NOW = datetime(2026, 6, 16, 8, 0)
TODAY = NOW.date()


@pytest.fixture
def world(make_school, make_user, make_offer):
    provider = make_school(name="Provider School")
    buyer = make_school(name="Buyer School")
    people = {
        "provider_lead": make_user(role="school_lead", organisation=provider, name="Pat Provider"),
        "provider_teacher": make_user(role="teacher", organisation=provider),
        "lead": make_user(role="school_lead", organisation=buyer, name="Lee Lead"),
        "deputy": make_user(role="school_lead", organisation=buyer, name="Dee Deputy"),
        "teacher": make_user(role="teacher", organisation=buyer, name="Tess Teacher"),
        "governor": make_user(role="governor", organisation=buyer),
    }
    offer = make_offer(organisation=provider, sessions=1, title="Phonics in practice", assured_on=TODAY)
    return {"provider": provider, "buyer": buyer, "offer": offer, **people}


def booking(world, status="delivered", delivered_at=None, session=None, requester="teacher") -> Booking:
    row = Booking(offer_id=world["offer"].id, session_id=session.id if session else None,
                  organisation_id=world["buyer"].id, requested_by_id=world[requester].id, places=2, status=status,
                  credits=0, delivered_at=delivered_at)
    db.session.add(row)
    db.session.commit()
    return row


def sent(kind=None) -> list[Notification]:
    stmt = select(Notification).order_by(Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return db.session.scalars(stmt).all()


def run(now=NOW) -> dict:
    counts = reminders.send_due(now)
    db.session.commit()  # the commit sends the email
    return counts


def test_nothing_due_sends_nothing(world, app):
    assert run() == {"follow_ups": 0, "freshness": 0, "booking_reminders": 0, "waitlist_expired": 0}
    assert sent() == [] and outbox(app) == []


# --- impact follow-ups ---------------------------------------------------------------------


def test_follow_up_requests_go_once_to_the_receiving_leads_after_eight_weeks(world, app):
    due = booking(world, delivered_at=NOW - timedelta(weeks=8, hours=1))
    booking(world, delivered_at=NOW - timedelta(weeks=8) + timedelta(hours=1))  # not yet
    booking(world, status="confirmed")
    assert run()["follow_ups"] == 2
    notes = sent("follow_up_due")
    assert {n.user_id for n in notes} == {world["lead"].id, world["deputy"].id}
    assert {n.link for n in notes} == {f"/feedback/follow-up/{due.id}"}
    assert "Phonics in practice" in notes[0].message
    mail = outbox(app)
    assert sorted(m["To"] for m in mail) == sorted([world["lead"].email, world["deputy"].email])
    assert f"/feedback/follow-up/{due.id}" in mail[0].get_content()

    # Again, and half an hour later: nothing new.
    assert run()["follow_ups"] == 0
    assert run(NOW + timedelta(minutes=30))["follow_ups"] == 0
    assert len(sent("follow_up_due")) == 2 and len(outbox(app)) == 2
    # The one not due yet is asked once its eight weeks are up.
    assert run(NOW + timedelta(hours=2))["follow_ups"] == 2
    assert len(sent("follow_up_due")) == 4 and len(outbox(app)) == 4


def test_no_request_once_the_follow_up_is_given(world):
    done = booking(world, delivered_at=NOW - timedelta(weeks=9))
    db.session.add(ImpactFollowUp(booking_id=done.id, organisation_id=world["buyer"].id, author_id=world["lead"].id,
                                  what_changed="Phonics is taught daily now.", impact=4))
    db.session.commit()
    assert run()["follow_ups"] == 0 and sent() == []


def test_an_inactive_lead_is_not_asked(world):
    world["deputy"].active = False
    db.session.commit()
    booking(world, delivered_at=NOW - timedelta(weeks=9))
    assert run()["follow_ups"] == 1
    assert [n.user_id for n in sent()] == [world["lead"].id]


# --- freshness -------------------------------------------------------------------------------


def test_offers_about_to_go_stale_are_flagged_once_to_their_provider(world, make_offer, app):
    old = make_offer(organisation=world["provider"], title="Assured 340 days ago", assured_on=TODAY - timedelta(days=340))
    never = make_offer(organisation=world["provider"], title="Never assured", assured_on=None)
    make_offer(organisation=world["provider"], title="Assured 300 days ago", assured_on=TODAY - timedelta(days=300))
    make_offer(organisation=world["provider"], title="Paused and old", assured_on=TODAY - timedelta(days=400),
               status="paused")
    assert run()["freshness"] == 2
    notes = sent("offer_freshness")
    assert {(n.user_id, n.link) for n in notes} == {
        (world["provider_lead"].id, f"/offers/{old.id}"), (world["provider_lead"].id, f"/offers/{never.id}")}
    assert any("never been confirmed" in n.message for n in notes)
    assert len(outbox(app)) == 2

    assert run()["freshness"] == 0
    assert run(NOW + timedelta(days=3))["freshness"] == 0
    assert len(sent("offer_freshness")) == 2 and len(outbox(app)) == 2


def test_a_reassured_offer_is_not_reminded_until_a_year_on(world, make_offer):
    old = make_offer(organisation=world["provider"], title="Old", assured_on=TODAY - timedelta(days=350))
    world["offer"].status = "paused"  # only the one offer in this story
    db.session.commit()
    assert run()["freshness"] == 1
    offers.assure_offer(world["provider_lead"], old.id, today=TODAY + timedelta(days=1))
    db.session.commit()
    for days in (2, 30, 200, 330):
        assert run(NOW + timedelta(days=days))["freshness"] == 0, days
    # Eleven months and more after the new date: one new reminder, about that date.
    assert run(NOW + timedelta(days=1 + 340))["freshness"] == 1
    assert run(NOW + timedelta(days=1 + 341))["freshness"] == 0
    assert [n.dedupe_key.rsplit(":", 1)[0] for n in sent("offer_freshness")] == [
        f"freshness:{old.id}:{(TODAY - timedelta(days=350)).isoformat()}",
        f"freshness:{old.id}:{(TODAY + timedelta(days=1)).isoformat()}"]


# --- booking reminders ---------------------------------------------------------------------------


def session_at(world, when: datetime, cancelled=False) -> OfferSession:
    row = OfferSession(offer_id=world["offer"].id, starts_at=when, ends_at=when + timedelta(hours=2), places=10,
                       cancelled_at=NOW if cancelled else None)
    db.session.add(row)
    db.session.commit()
    return row


def test_the_day_before_a_confirmed_session_the_school_is_reminded_once(world, app):
    local = _local(NOW)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), datetime.min.time()).replace(hour=16)
    due = booking(world, status="confirmed", session=session_at(world, tomorrow))
    booking(world, status="confirmed", session=session_at(world, tomorrow + timedelta(days=2)))  # too early
    booking(world, status="requested", session=session_at(world, tomorrow))                     # not confirmed
    booking(world, status="cancelled", session=session_at(world, tomorrow))
    booking(world, status="confirmed", session=session_at(world, tomorrow, cancelled=True))
    booking(world, status="confirmed", session=session_at(world, local - timedelta(hours=1)))      # started
    assert run()["booking_reminders"] == 3
    notes = sent("booking_reminder")
    assert {n.user_id for n in notes} == {world["lead"].id, world["deputy"].id, world["teacher"].id}
    assert {n.link for n in notes} == {f"/bookings/{due.id}"}
    assert "tomorrow" in notes[0].message and "2 places" in notes[0].message
    assert len(outbox(app)) == 3
    assert run(NOW + timedelta(hours=1))["booking_reminders"] == 0
    assert run(NOW + timedelta(hours=20))["booking_reminders"] == 0
    assert len(sent("booking_reminder")) == 3 and len(outbox(app)) == 3


def test_a_lead_who_booked_is_reminded_once_not_twice(world):
    local = _local(NOW)
    booking(world, status="confirmed", requester="lead",
            session=session_at(world, local.replace(hour=0, minute=0) + timedelta(days=1, hours=10)))
    assert run()["booking_reminders"] == 2
    assert sorted(n.user_id for n in sent()) == sorted([world["lead"].id, world["deputy"].id])


def test_local_time_follows_british_summer_time():
    assert _local(datetime(2026, 6, 16, 8, 0)) == datetime(2026, 6, 16, 9, 0)
    assert _local(datetime(2026, 12, 16, 8, 0)) == datetime(2026, 12, 16, 8, 0)


def test_every_kind_at_once_and_twice_is_the_same(world, make_offer, app):
    booking(world, delivered_at=NOW - timedelta(weeks=12))
    make_offer(organisation=world["provider"], assured_on=date(2020, 1, 1))
    local = _local(NOW)
    booking(world, status="confirmed", session=session_at(world, local + timedelta(hours=20)))
    first = run()
    assert first == {"follow_ups": 2, "freshness": 1, "booking_reminders": 3, "waitlist_expired": 0}
    rows = db.session.scalar(select(func.count()).select_from(Notification))
    files = len(outbox(app))
    assert rows == files == 6
    assert run() == {"follow_ups": 0, "freshness": 0, "booking_reminders": 0, "waitlist_expired": 0}
    assert db.session.scalar(select(func.count()).select_from(Notification)) == rows
    assert len(outbox(app)) == files


def test_a_lapsed_waiting_list_offer_is_passed_on(world):
    from app.models import WaitlistEntry

    session = session_at(world, _local(NOW) + timedelta(days=10))
    lapsed = WaitlistEntry(session_id=session.id, organisation_id=world["buyer"].id, requested_by_id=world["teacher"].id,
                           places=1, status="offered", offered_at=NOW - timedelta(hours=50),
                           offer_expires_at=NOW - timedelta(hours=2))
    db.session.add(lapsed)
    db.session.commit()
    assert run()["waitlist_expired"] == 1
    assert lapsed.status == "expired"
    assert run()["waitlist_expired"] == 0
