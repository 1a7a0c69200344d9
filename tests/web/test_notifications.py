"""In-app notifications: the list, opening one, marking all read, the header's unread count."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import Notification
from app.models.base import utcnow
from app.services import bookings
from app.services.notify import notify
from tests.support.booking_world import build_world


@pytest.fixture
def world(make_school, make_user, make_offer):
    return build_world(make_school, make_user, make_offer)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def note(user, message, link="/bookings", minutes_ago=0, read=False):
    row = Notification(user_id=user.id, kind="test", message=message, link=link,
                       created_at=utcnow() - timedelta(minutes=minutes_ago), read_at=utcnow() if read else None)
    db.session.add(row)
    db.session.commit()
    return row


def unread(user) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def badge(html: str) -> str | None:
    match = re.search(r'<a class="notifications-badge"[^>]*>(.*?)</a>', html, re.S)
    return match.group(1) if match else None


def test_booking_steps_notify_the_people_involved(client, login, world):
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.commit()
    login(world["lead"])
    page = text_of(client.get("/notifications"))
    assert "Tess Teacher asked to book Phonics in practice" in page
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    login(world["teacher"])
    assert "Booking confirmed: Phonics in practice" in text_of(client.get("/notifications"))
    login(world["provider_lead"])
    assert "Booking confirmed: Phonics in practice" in text_of(client.get("/notifications"))


def test_the_list_is_newest_first_with_unread_emphasised(client, login, world):
    user = world["teacher"]
    note(user, "Older and read", minutes_ago=30, read=True)
    note(user, "Newest and unread", minutes_ago=1)
    note(world["lead"], "Someone else's news")
    login(user)
    page = text_of(client.get("/notifications"))
    assert page.index("Newest and unread") < page.index("Older and read")
    assert "Someone else's news" not in page
    items = re.findall(r'<li class="notification([^"]*)">(.*?)</li>', page, re.S)
    assert [("is-unread" in cls, "<strong>" in body) for cls, body in items] == [(True, True), (False, False)]
    assert "Unread" in items[0][1] and "Unread" not in items[1][1]


def test_the_header_shows_the_unread_count_to_signed_in_people_only(client, login, world):
    assert badge(text_of(client.get("/"))) is None
    login(world["teacher"])
    assert "badge-count" not in badge(text_of(client.get("/")))
    note(world["teacher"], "One")
    note(world["teacher"], "Two")
    note(world["teacher"], "Read", read=True)
    shown = badge(text_of(client.get("/")))
    assert re.search(r'<span class="badge-count">2</span><span class="visually-hidden"> unread</span>', shown)


def test_the_badge_costs_one_query(client, login, world):
    note(world["teacher"], "One")
    login(world["teacher"])
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        client.get("/")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len([s for s in statements if "FROM notifications" in s]) == 1


def test_opening_one_marks_it_read_and_follows_its_link(client, login, world):
    row = note(world["teacher"], "Go there", link="/bookings?side=received")
    other = note(world["teacher"], "Still unread")
    login(world["teacher"])
    response = client.get(f"/notifications/{row.id}")
    assert response.status_code == 303 and response.headers["Location"] == "/bookings?side=received"
    db.session.expire_all()
    assert db.session.get(Notification, row.id).read_at is not None
    assert db.session.get(Notification, other.id).read_at is None


@pytest.mark.parametrize("link", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", None])
def test_a_link_that_leaves_the_site_is_not_followed(client, login, world, link):
    row = note(world["teacher"], "Odd link", link=link)
    login(world["teacher"])
    response = client.get(f"/notifications/{row.id}")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications"


def test_another_persons_notification_is_not_found_and_stays_unread(client, login, world):
    theirs = note(world["lead"], "Private to the lead")
    login(world["teacher"])
    assert client.get(f"/notifications/{theirs.id}").status_code == 404
    assert client.get(f"/notifications/{2**70}").status_code == 404
    assert unread(world["lead"]) == 1


def test_mark_all_as_read_touches_only_my_own(client, login, world):
    for n in range(3):
        note(world["teacher"], f"Mine {n}")
    note(world["lead"], "The lead's")
    login(world["teacher"])
    response = client.post("/notifications/read")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications"
    assert unread(world["teacher"]) == 0 and unread(world["lead"]) == 1
    page = text_of(client.get("/notifications"))
    assert "is-unread" not in page and "Mark all as read" not in page


def test_the_list_is_paged(client, login, world):
    for n in range(30):
        note(world["teacher"], f"Message number {n}", minutes_ago=100 - n)
    login(world["teacher"])
    first = text_of(client.get("/notifications"))
    assert "Message number 29" in first and "Message number 4<" not in first and "Page 1 of 2" in first
    assert "Message number 4<" in text_of(client.get("/notifications?page=2"))


def test_visitors_are_sent_to_sign_in(client, world):
    row = note(world["teacher"], "x")
    for method, url in (("GET", "/notifications"), ("GET", f"/notifications/{row.id}"), ("POST", "/notifications/read")):
        response = client.open(url, method=method)
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert unread(world["teacher"]) == 1


def test_notify_rows_appear_in_the_list(client, login, world):
    notify([world["teacher"]], "test", "Straight from notify", link="/offers")
    db.session.commit()
    login(world["teacher"])
    assert "Straight from notify" in text_of(client.get("/notifications"))
