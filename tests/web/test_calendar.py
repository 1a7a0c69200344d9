"""The school's calendar feed: only its confirmed and delivered sessions, behind a token the lead replaces."""
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Organisation
from app.services import bookings
from tests.support.booking_world import build_world, move_into_past


@pytest.fixture
def world(make_school, make_user, make_offer):
    return build_world(make_school, make_user, make_offer, places=10, sessions=3)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def token_of(organisation) -> str | None:
    db.session.expire_all()
    return db.session.get(Organisation, organisation.id).calendar_token


def feed_url(client) -> str:
    """The address the lead sees on /bookings."""
    match = re.search(r'id="calendar-url" type="text" readonly value="([^"]+)"', text_of(client.get("/bookings")))
    assert match, "no calendar address on the page"
    return match.group(1)


def events(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data).walk("VEVENT")


@pytest.fixture
def booked(world):
    """Buyer School: one confirmed, one delivered, one requested, one cancelled; Other School: one confirmed."""
    s1, s2, s3 = world["offer"].sessions
    s1.joining_link = "https://meet.example.test/room-1"
    db.session.commit()
    first = bookings.request_places(world["teacher"], s1.id, 2)
    second = bookings.request_places(world["teacher"], s2.id, 1)
    waiting = bookings.request_places(world["teacher"], s3.id, 1)
    dropped = bookings.request_places(world["lead"], s3.id, 1)
    theirs = bookings.request_places(world["other_teacher"], s1.id, 1)
    db.session.commit()
    for b, lead in ((first, "lead"), (second, "lead"), (dropped, "lead"), (theirs, "other_lead")):
        bookings.confirm(world[lead], b.id)
    db.session.commit()
    bookings.cancel(world["lead"], dropped.id, "no cover")
    db.session.commit()
    return {"first": first, "second": second, "waiting": waiting, "dropped": dropped, "theirs": theirs}


def test_the_lead_gets_an_address_and_the_feed_has_only_confirmed_sessions(client, login, world, booked):
    login(world["lead"])
    page = text_of(client.get("/bookings"))
    assert "Get a calendar address" in page and 'id="calendar-url"' not in page
    response = client.post("/bookings/calendar-link")
    assert response.status_code == 303
    token = token_of(world["buyer"])
    assert token and len(token) >= 40
    url = feed_url(client)
    assert url.endswith(f"/calendar/{token}.ics") and url.startswith("http")

    client.post("/auth/logout")  # the feed needs no sign-in: calendar apps cannot sign in
    found = events(client.get(f"/calendar/{token}.ics"))
    assert sorted(str(e["UID"]) for e in found) == sorted(
        f"booking-{booked[k].id}@localhost" for k in ("first", "second"))
    first = next(e for e in found if str(e["UID"]) == f"booking-{booked['first'].id}@localhost")
    session = booked["first"].session
    london = ZoneInfo("Europe/London")
    assert first.decoded("DTSTART") == session.starts_at.replace(tzinfo=london)
    assert first.decoded("DTEND") == session.ends_at.replace(tzinfo=london)
    assert first.decoded("DTSTART").utcoffset() == timedelta(0)  # written as UTC instants
    assert str(first["SUMMARY"]) == "Phonics in practice"
    description = str(first["DESCRIPTION"])
    assert "Joining link: https://meet.example.test/room-1" in description
    assert "Provider School: 2 places" in description
    assert str(first["URL"]) == f"http://localhost/bookings/{booked['first'].id}"
    second = next(e for e in found if e is not first)
    assert "Joining link" not in str(second["DESCRIPTION"])


def test_delivered_sessions_stay_in_the_feed(client, login, world, booked):
    move_into_past(booked["first"].session)
    bookings.deliver(world["provider_lead"], booked["first"].id, 2)
    db.session.commit()
    login(world["lead"])
    client.post("/bookings/calendar-link")
    uids = {str(e["UID"]) for e in events(client.get(f"/calendar/{token_of(world['buyer'])}.ics"))}
    assert f"booking-{booked['first'].id}@localhost" in uids


def test_the_location_is_the_offers_address(client, login, world, booked):
    offer = world["offer"]
    offer.location_name, offer.address, offer.postcode = "Main hall", "1 School Lane\nTown", "GL1 1AA"
    db.session.commit()
    login(world["lead"])
    client.post("/bookings/calendar-link")
    found = events(client.get(f"/calendar/{token_of(world['buyer'])}.ics"))
    assert {str(e["LOCATION"]) for e in found} == {"Main hall, 1 School Lane Town, GL1 1AA"}


def test_replacing_the_address_retires_the_old_one(client, login, world, booked):
    login(world["lead"])
    client.post("/bookings/calendar-link")
    old = token_of(world["buyer"])
    response = client.post("/bookings/calendar-link")
    assert response.status_code == 303
    new = token_of(world["buyer"])
    assert new != old
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    assert feed_url(client).endswith(f"/calendar/{new}.ics")
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("calendar.%"))).all()
    assert sorted(actions) == ["calendar.token_created", "calendar.token_replaced"]


@pytest.mark.parametrize("token", ["nope", "x" * 43, "a" * 200, "%00", "..%2F..%2Fetc"])
def test_an_unknown_token_is_not_found(client, world, token):
    world["buyer"].calendar_token = "a" * 43
    db.session.commit()
    assert client.get(f"/calendar/{token}.ics").status_code == 404


@pytest.mark.parametrize("who", ["teacher", "governor", "coordinator"])
def test_only_a_school_lead_gets_or_replaces_the_address(client, login, world, booked, who):
    world["buyer"].calendar_token = "k" * 43
    db.session.commit()
    login(world[who])
    assert "calendar-url" not in text_of(client.get("/bookings"))
    assert client.post("/bookings/calendar-link").status_code == 403
    assert token_of(world["buyer"]) == "k" * 43


def test_each_schools_lead_manages_only_its_own_feed(client, login, world, booked):
    login(world["other_lead"])
    client.post("/bookings/calendar-link")
    assert token_of(world["buyer"]) is None
    uids = {str(e["UID"]) for e in events(client.get(f"/calendar/{token_of(world['other'])}.ics"))}
    assert uids == {f"booking-{booked['theirs'].id}@localhost"}


def test_visitors_cannot_make_an_address(client, world):
    response = client.post("/bookings/calendar-link")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert token_of(world["buyer"]) is None


def test_an_empty_feed_is_still_a_calendar(client, world):
    world["buyer"].calendar_token = "e" * 43
    db.session.commit()
    response = client.get(f"/calendar/{'e' * 43}.ics")
    assert events(response) == []
    assert Calendar.from_ical(response.data)["X-WR-CALNAME"] == "Waymark: Buyer School"
