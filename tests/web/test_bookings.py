"""Booking pages: the offer page's panel, /bookings, one booking and its actions, for every role,
with the denials changing nothing, credits moving exactly once, and htmx answers."""
import re
import threading
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import Booking, Notification, Setting, WaitlistEntry
from app.services import bookings, ledger
from tests.support.booking_world import build_world, confirmed, move_into_past, requested, status_of, transfers
from tests.support.html import XSS_CORPUS, dangerous_markup, user_content_blocks

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(make_school, make_user, make_offer):
    return build_world(make_school, make_user, make_offer)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def book_url(world, session=None):
    session = session or world["session"]
    return f"/offers/{world['offer'].id}/sessions/{session.id}/book"


def book_data(session, places="2", note=""):
    return {f"book-{session.id}-places": places, f"book-{session.id}-note": note}


def count_bookings() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


class _Forms(HTMLParser):
    """The action of every form on a page."""

    def __init__(self):
        super().__init__()
        self.actions = []

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.actions.append(dict(attrs).get("action"))


def form_actions(html: str) -> list[str]:
    parser = _Forms()
    parser.feed(html)
    return parser.actions


def panel_of(html: str) -> str:
    match = re.search(r'<section id="booking-panel".*?</section>', html, re.S)
    assert match, "the offer page has no booking panel"
    return match.group(0)


# --- the booking panel on the offer page ---------------------------------------------------------


def test_visitors_are_asked_to_sign_in_to_book(client, world):
    page = text_of(client.get(f"/offers/{world['offer'].id}"))
    panel = panel_of(page)
    assert "Sign in to book" in panel
    assert not [a for a in form_actions(panel) if "/book" in (a or "")]


def test_a_teacher_of_another_school_sees_a_booking_form_with_prices(client, login, world):
    login(world["teacher"])
    panel = panel_of(text_of(client.get(f"/offers/{world['offer'].id}")))
    assert book_url(world) in form_actions(panel)
    assert "provisional" in panel
    # Places up to those left, each with what it will hold.
    options = re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>', panel)
    assert [value for value, _ in options] == ["1", "2", "3"]
    assert options[2][1].strip() == "3 places (12 credits)"
    assert "This will hold the credits shown when your school lead confirms" in panel


def test_prices_are_hidden_when_credits_are_off(app, client, login, world):
    app.config["CREDITS_ENABLED"] = False
    login(world["teacher"])
    panel = panel_of(text_of(client.get(f"/offers/{world['offer'].id}")))
    assert book_url(world) in form_actions(panel)
    assert "credit" not in panel.lower()


@pytest.mark.parametrize("who", ["provider_lead", "provider_teacher"])
def test_the_providers_own_people_see_no_booking_form(client, login, world, who):
    login(world[who])
    panel = panel_of(text_of(client.get(f"/offers/{world['offer'].id}")))
    assert "Your school provides this offer" in panel
    assert form_actions(panel) == []


def test_a_full_session_offers_the_waiting_list(client, login, world):
    requested(world, places=3, who="other_teacher")
    login(world["teacher"])
    panel = panel_of(text_of(client.get(f"/offers/{world['offer'].id}")))
    assert "Full" in panel
    assert f"/offers/{world['offer'].id}/sessions/{world['session'].id}/waitlist" in form_actions(panel)
    assert book_url(world) not in form_actions(panel)


def test_places_left_on_the_offer_page_count_bookings(client, login, world):
    requested(world, places=2, who="other_teacher")
    login(world["teacher"])
    page = text_of(client.get(f"/offers/{world['offer'].id}"))
    assert re.search(r'<td class="numeric">1<span class="visually-hidden"> of 3</span>', page)


def test_a_bespoke_offer_asks_for_days_and_objectives(client, login, world, make_offer):
    offer = make_offer(organisation=world["provider"], booking_mode="bespoke", price_credits=3,
                       terms={"phase": ["primary"], "format": ["bespoke-support"]})
    login(world["teacher"])
    panel = panel_of(text_of(client.get(f"/offers/{offer.id}")))
    assert f"/offers/{offer.id}/request" in form_actions(panel)
    for label in ("Days of support", "What should the support achieve?", "Review date"):
        assert label in panel
    assert "3 credits a day: this will hold 3 credits a day when your school lead confirms" in panel


def _count_queries(client, url):
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return len(statements)


def test_the_offer_page_queries_do_not_grow_with_its_sessions(client, login, world, make_offer):
    few = make_offer(organisation=world["provider"], sessions=1)
    many = make_offer(organisation=world["provider"], sessions=8)
    for offer in (few, many):
        for session in offer.sessions:
            session.joining_link = "https://meet.example.test/room"
    db.session.commit()
    bookings.request_places(world["teacher"], many.sessions[3].id, 1)
    bookings.request_places(world["other_teacher"], many.sessions[5].id, 2)
    db.session.commit()
    login(world["teacher"])
    assert _count_queries(client, f"/offers/{few.id}") == _count_queries(client, f"/offers/{many.id}")


def test_the_joining_link_shows_once_the_school_has_a_confirmed_booking(client, login, world):
    world["session"].joining_link = "https://meet.example.test/secret-room"
    db.session.commit()
    booking = requested(world)
    login(world["teacher"])
    assert "secret-room" not in text_of(client.get(f"/offers/{world['offer'].id}"))
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    assert "secret-room" in text_of(client.get(f"/offers/{world['offer'].id}"))
    assert "secret-room" in text_of(client.get(f"/bookings/{booking.id}"))
    login(world["other_teacher"])
    assert "secret-room" not in text_of(client.get(f"/offers/{world['offer'].id}"))


# --- requesting places -----------------------------------------------------------------------------


def test_a_teacher_books_places_provisionally(client, login, world):
    login(world["teacher"])
    response = client.post(book_url(world), data=book_data(world["session"], "2", "Two of our Year 1 team"))
    booking = db.session.scalars(select(Booking)).one()
    assert response.status_code == 303 and response.headers["Location"] == f"/bookings/{booking.id}"
    assert (booking.status, booking.places, booking.organisation_id) == ("requested", 2, world["buyer"].id)
    assert booking.note == "Two of our Year 1 team"
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert "provisional" in page and "your school lead has been asked to confirm" in page
    assert ledger.balance_of(world["buyer"].id).held == 0


def request_key_on(page_html: str, prefix: str) -> str:
    match = re.search(rf'name="{prefix}-request_key" type="hidden" value="([0-9a-f]{{32}})"', page_html)
    assert match, f"the {prefix} form carries a one-time request key"
    return match.group(1)


def test_the_same_booking_form_sent_twice_books_once(client, login, world):
    # Without JavaScript nothing stops a double click: the form's one-time key does.
    login(world["teacher"])
    sid = world["session"].id
    key = request_key_on(client.get(f"/offers/{world['offer'].id}").get_data(as_text=True), f"book-{sid}")
    data = {**book_data(world["session"], "1"), f"book-{sid}-request_key": key}
    first = client.post(book_url(world), data=data)
    second = client.post(book_url(world), data=data)
    booking = db.session.scalars(select(Booking)).one()
    assert first.headers["Location"] == second.headers["Location"] == f"/bookings/{booking.id}"
    assert len([n for n in db.session.scalars(select(Notification)) if n.kind == "booking_requested"]) == 1
    # A fresh page gives a fresh key, so booking again on purpose still works.
    again = request_key_on(client.get(f"/offers/{world['offer'].id}").get_data(as_text=True), f"book-{sid}")
    assert again != key
    client.post(book_url(world), data={**book_data(world["session"], "1"), f"book-{sid}-request_key": again})
    assert count_bookings() == 2


def test_a_used_request_key_cannot_book_something_else(client, login, world):
    login(world["teacher"])
    sid = world["session"].id
    key = "0123456789abcdef0123456789abcdef"
    client.post(book_url(world), data={**book_data(world["session"], "1"), f"book-{sid}-request_key": key})
    response = client.post(book_url(world), data={**book_data(world["session"], "2"), f"book-{sid}-request_key": key})
    assert response.status_code == 200
    assert "already used for another booking" in text_of(response)
    assert count_bookings() == 1
    login(world["other_teacher"])  # nor can someone else replay it
    response = client.post(book_url(world), data={**book_data(world["session"], "1"), f"book-{sid}-request_key": key})
    assert "already used for another booking" in text_of(response)
    assert count_bookings() == 1


def test_a_malformed_request_key_is_refused_politely(client, login, world):
    login(world["teacher"])
    sid = world["session"].id
    response = client.post(book_url(world), data={**book_data(world["session"], "1"), f"book-{sid}-request_key": "x" * 500})
    assert response.status_code == 200 and "This form has expired" in text_of(response)
    assert count_bookings() == 0


def test_booking_with_htmx_redirects_with_hx_redirect(client, login, world):
    login(world["teacher"])
    response = client.post(book_url(world), data=book_data(world["session"]), headers=HTMX)
    booking = db.session.scalars(select(Booking)).one()
    assert response.headers["HX-Redirect"] == f"/bookings/{booking.id}"


@pytest.mark.parametrize("places,message", [
    ("0", "Choose between 1 and 50 places"),
    ("abc", "Choose between 1 and 50 places"),
    ("", "Choose between 1 and 50 places"),
    ("4", "Only 3 places left on this session"),
    ("9" * 40, "Choose between 1 and 50 places"),
])
def test_bad_place_counts_come_back_on_the_form(client, login, world, places, message):
    login(world["teacher"])
    response = client.post(book_url(world), data=book_data(world["session"], places))
    assert response.status_code == 200
    assert message in panel_of(text_of(response))
    assert count_bookings() == 0


def test_a_failed_htmx_booking_answers_with_the_panel_only(client, login, world):
    login(world["teacher"])
    response = client.post(book_url(world), data=book_data(world["session"], "0"), headers=HTMX)
    html = text_of(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="booking-panel"') and "<html" not in html
    assert 'id="booking-panel"' in html and "Choose between 1 and 50 places" in html


def test_a_note_too_long_is_refused(client, login, world):
    login(world["teacher"])
    response = client.post(book_url(world), data=book_data(world["session"], "1", "x" * 1001))
    assert response.status_code == 200 and "The note must be 1,000 characters or fewer" in text_of(response)
    assert count_bookings() == 0


def test_a_session_of_another_offer_is_not_found(client, login, world, make_offer):
    elsewhere = make_offer(organisation=world["provider"], sessions=1)
    login(world["teacher"])
    response = client.post(book_url(world, elsewhere.sessions[0]), data=book_data(elsewhere.sessions[0]))
    assert response.status_code == 404
    assert client.post(f"/offers/{world['offer'].id}/sessions/{2**70}/book").status_code == 404
    assert count_bookings() == 0


def test_visitors_are_sent_to_sign_in_and_nothing_is_booked(client, world):
    response = client.post(book_url(world), data=book_data(world["session"]))
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert count_bookings() == 0


def test_the_provider_cannot_book_its_own_offer(client, login, world):
    login(world["provider_lead"])
    response = client.post(book_url(world), data=book_data(world["session"]))
    assert response.status_code == 200 and "Your school provides this offer" in text_of(response)
    assert count_bookings() == 0


def test_a_coordinator_cannot_book(client, login, world):
    login(world["coordinator"])
    assert client.post(book_url(world), data=book_data(world["session"])).status_code == 403
    assert count_bookings() == 0


def test_a_session_that_has_started_cannot_be_booked(client, login, world):
    move_into_past(world["session"], hours=1)
    login(world["teacher"])
    response = client.post(book_url(world), data=book_data(world["session"]))
    assert response.status_code == 200 and "already started" in text_of(response)
    assert count_bookings() == 0


# --- the waiting list -----------------------------------------------------------------------------


def wait_url(world):
    return f"/offers/{world['offer'].id}/sessions/{world['session'].id}/waitlist"


def test_joining_the_waiting_list_of_a_full_session(client, login, world):
    requested(world, places=3, who="other_teacher")
    login(world["teacher"])
    response = client.post(wait_url(world), data={f"wait-{world['session'].id}-places": "1"})
    assert response.status_code == 303
    entry = db.session.scalars(select(WaitlistEntry)).one()
    assert (entry.organisation_id, entry.status, entry.places) == (world["buyer"].id, "waiting", 1)
    panel = panel_of(text_of(client.get(f"/offers/{world['offer'].id}")))
    assert "Your school is on the waiting list" in panel
    # Twice is refused with a message, not a second entry.
    again = client.post(wait_url(world), data={f"wait-{world['session'].id}-places": "1"})
    assert again.status_code == 200 and "already on the waiting list" in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(WaitlistEntry)) == 1


def test_the_waiting_list_is_refused_while_places_are_left(client, login, world):
    login(world["teacher"])
    response = client.post(wait_url(world), data={f"wait-{world['session'].id}-places": "1"})
    assert response.status_code == 200 and "There are places left" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(WaitlistEntry)) == 0


def test_an_offered_place_is_shown_with_its_expiry_and_can_be_taken(client, login, world):
    first = requested(world, places=3, who="other_teacher")
    entry = bookings.join_waitlist(world["teacher"], world["session"].id, 1)
    db.session.commit()
    bookings.cancel(world["other_teacher"], first.id, "plans changed")
    db.session.commit()
    db.session.refresh(entry)
    assert entry.status == "offered"
    login(world["lead"])
    page = text_of(client.get("/bookings"))
    assert "Take this place" in page and "It is kept until" in page
    assert f"/waitlist/{entry.id}/accept" in form_actions(page)
    response = client.post(f"/waitlist/{entry.id}/accept")
    booking = db.session.scalars(select(Booking).where(Booking.organisation_id == world["buyer"].id)).one()
    assert response.status_code == 303 and response.headers["Location"] == f"/bookings/{booking.id}"
    assert booking.status == "requested"


def test_the_offer_page_offers_a_kept_place_until_it_lapses(client, login, world):
    first = requested(world, places=3, who="other_teacher")
    entry = bookings.join_waitlist(world["teacher"], world["session"].id, 1)
    db.session.commit()
    bookings.cancel(world["other_teacher"], first.id)
    db.session.commit()
    login(world["teacher"])
    panel = panel_of(text_of(client.get(f"/offers/{world['offer'].id}")))
    assert "A place has come free for your school" in panel
    assert f"/waitlist/{entry.id}/accept" in form_actions(panel)
    db.session.refresh(entry)
    entry.offer_expires_at = entry.offered_at - timedelta(minutes=1)
    db.session.commit()
    panel = panel_of(text_of(client.get(f"/offers/{world['offer'].id}")))
    assert f"/waitlist/{entry.id}/accept" not in form_actions(panel)
    response = client.post(f"/waitlist/{entry.id}/accept")
    assert response.status_code == 303 and response.headers["Location"] == "/bookings"
    assert "The time to take this place has passed." in text_of(client.get("/bookings"))
    assert db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.organisation_id == world["buyer"].id)) == 0


def test_another_schools_waiting_list_place_cannot_be_taken(client, login, world):
    first = requested(world, places=3, who="teacher")
    entry = bookings.join_waitlist(world["other_teacher"], world["session"].id, 1)
    db.session.commit()
    bookings.cancel(world["teacher"], first.id)
    db.session.commit()
    login(world["lead"])
    assert client.post(f"/waitlist/{entry.id}/accept").status_code == 404
    db.session.refresh(entry)
    assert entry.status == "offered"


# --- bespoke support ------------------------------------------------------------------------------


@pytest.fixture
def bespoke(world, make_offer):
    return make_offer(organisation=world["provider"], booking_mode="bespoke", price_credits=3,
                      terms={"phase": ["primary"], "format": ["bespoke-support"]})


def test_requesting_bespoke_support(client, login, world, bespoke):
    login(world["teacher"])
    response = client.post(f"/offers/{bespoke.id}/request", data={
        "bespoke-days": "2", "bespoke-objectives": "Raise Year 1 phonics outcomes", "bespoke-review_on": "2099-03-01",
        "bespoke-note": ""})
    booking = db.session.scalars(select(Booking)).one()
    assert response.status_code == 303 and response.headers["Location"] == f"/bookings/{booking.id}"
    assert (booking.days, booking.objectives, str(booking.review_on)) == (2, "Raise Year 1 phonics outcomes", "2099-03-01")
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert "Raise Year 1 phonics outcomes" in page and "confirming holds 6 credits" in page


def test_a_bespoke_request_sent_twice_is_one_booking(client, login, world, bespoke):
    login(world["teacher"])
    key = request_key_on(client.get(f"/offers/{bespoke.id}").get_data(as_text=True), "bespoke")
    data = {"bespoke-days": "2", "bespoke-objectives": "Raise Year 1 phonics outcomes", "bespoke-request_key": key}
    first, second = client.post(f"/offers/{bespoke.id}/request", data=data), client.post(f"/offers/{bespoke.id}/request", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert count_bookings() == 1


@pytest.mark.parametrize("data,message", [
    ({"bespoke-days": "2", "bespoke-objectives": "  "}, "Say what the support should achieve"),
    ({"bespoke-days": "0", "bespoke-objectives": "x"}, "Enter a whole number of days from 1 to 60"),
    ({"bespoke-days": "two", "bespoke-objectives": "x"}, "Enter a whole number of days from 1 to 60"),
    ({"bespoke-days": "1", "bespoke-objectives": "x", "bespoke-review_on": "2001-01-01"}, "Choose a review date after today"),
    ({"bespoke-days": "1", "bespoke-objectives": "x", "bespoke-review_on": "soon"}, "Not a valid date value"),
])
def test_bespoke_requests_need_days_and_objectives(client, login, world, bespoke, data, message):
    login(world["teacher"])
    response = client.post(f"/offers/{bespoke.id}/request", data=data)
    assert response.status_code == 200 and message in text_of(response)
    assert count_bookings() == 0


def test_a_sessions_offer_cannot_be_requested_as_bespoke(client, login, world):
    login(world["teacher"])
    response = client.post(f"/offers/{world['offer'].id}/request",
                           data={"bespoke-days": "1", "bespoke-objectives": "x"})
    assert response.status_code == 200 and "Choose a session" in text_of(response)
    assert count_bookings() == 0


# --- /bookings ------------------------------------------------------------------------------------


def test_the_list_shows_each_side_to_its_school(client, login, world):
    booking = requested(world)
    login(world["teacher"])
    page = text_of(client.get("/bookings"))
    assert f"/bookings/{booking.id}" in page and "We booked" in page and "With Provider School" in page
    assert f"/bookings/{booking.id}" not in text_of(client.get("/bookings?side=provided"))
    login(world["provider_teacher"])
    assert f"/bookings/{booking.id}" not in text_of(client.get("/bookings"))
    provided = text_of(client.get("/bookings?side=provided"))
    assert f"/bookings/{booking.id}" in provided and "For Buyer School" in provided


@pytest.mark.parametrize("who", ["other_lead", "other_teacher"])
def test_another_school_does_not_see_the_booking_in_its_lists(client, login, world, who):
    booking = requested(world)
    login(world[who])
    for side in ("received", "provided"):
        assert f"/bookings/{booking.id}" not in text_of(client.get(f"/bookings?side={side}"))


def test_the_lead_sees_requests_to_confirm_first(client, login, world):
    booking = requested(world)
    login(world["lead"])
    page = text_of(client.get("/bookings"))
    needs = page.split('id="needs-heading"')[1].split("</section>")[0]
    assert "Requests to confirm" in needs and f"/bookings/{booking.id}" in needs
    login(world["teacher"])
    assert 'id="needs-heading"' not in text_of(client.get("/bookings"))


def test_the_provider_lead_sees_sessions_to_mark_delivered(client, login, world):
    booking = confirmed(world)
    login(world["provider_lead"])
    assert 'id="needs-heading"' not in text_of(client.get("/bookings"))  # not happened yet
    move_into_past(world["session"])
    page = text_of(client.get("/bookings"))
    needs = page.split('id="needs-heading"')[1].split("</section>")[0]
    assert "mark delivered" in needs and f"/bookings/{booking.id}" in needs


def test_the_status_filter_and_paging(client, login, world, make_offer):
    offer = make_offer(organisation=world["provider"], sessions=1, places=50)
    ids = [bookings.request_places(world["teacher"], offer.sessions[0].id, 1).id for _ in range(23)]
    db.session.commit()
    bookings.confirm(world["lead"], ids[0])
    db.session.commit()
    login(world["teacher"])
    first = text_of(client.get("/bookings"))
    assert "<strong>23</strong> bookings" in first and "Page 1 of 2" in first
    second = text_of(client.get("/bookings?page=2"))
    assert f"/bookings/{ids[0]}\"" in second
    only_confirmed = text_of(client.get("/bookings?status=confirmed"))
    assert "<strong>1</strong> booking match" in only_confirmed and f"/bookings/{ids[0]}\"" in only_confirmed
    assert client.get("/bookings?status=nonsense&page=99999999999999999999").status_code == 200


def test_the_htmx_filter_answers_with_the_results_only(client, login, world):
    requested(world)
    login(world["teacher"])
    response = client.get("/bookings?status=requested", headers=HTMX)
    html = text_of(response)
    assert response.status_code == 200 and "<html" not in html and "<strong>1</strong> booking" in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_coordinators_see_every_booking_with_a_school_filter(client, login, world, make_school, make_user, make_offer):
    booking = requested(world)
    elsewhere = make_offer(organisation=make_school(name="Far School"), sessions=1)
    other = bookings.request_places(world["other_teacher"], elsewhere.sessions[0].id, 1)
    db.session.commit()
    login(world["coordinator"])
    page = text_of(client.get("/bookings"))
    assert f"/bookings/{booking.id}\"" in page and f"/bookings/{other.id}\"" in page
    assert 'id="bookings-school"' in page
    filtered = text_of(client.get(f"/bookings?school={world['provider'].id}"))
    assert f"/bookings/{booking.id}\"" in filtered and f"/bookings/{other.id}\"" not in filtered
    # A school with no bookings (or no such school) is no filter at all, not an error.
    assert client.get("/bookings?school=999999").status_code == 200


def test_visitors_are_sent_to_sign_in_from_the_list(client):
    response = client.get("/bookings")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


# --- one booking ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher", "governor", "lead", "provider_lead", "provider_teacher", "coordinator"])
def test_both_schools_and_coordinators_see_a_booking(client, login, world, who):
    booking = requested(world, note="Please bring the *slides*")
    login(world[who])
    response = client.get(f"/bookings/{booking.id}")
    page = text_of(response)
    assert response.status_code == 200
    assert "Requested" in page and "Buyer School" in page and "Provider School" in page
    assert "<em>slides</em>" in page and "Tess Teacher" in page


@pytest.mark.parametrize("who", ["other_lead", "other_teacher"])
def test_another_schools_booking_is_not_found(client, login, world, who):
    booking = requested(world)
    login(world[who])
    assert client.get(f"/bookings/{booking.id}").status_code == 404
    assert client.get(f"/bookings/{2**70}").status_code == 404


def test_visitors_are_sent_to_sign_in_from_a_booking(client, world):
    booking = requested(world)
    response = client.get(f"/bookings/{booking.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize("who,expected", [
    ("lead", {"confirm", "cancel"}),
    ("teacher", {"cancel"}),  # the person who asked may withdraw the request
    ("governor", set()),
    ("provider_lead", {"cancel"}),
    ("provider_teacher", set()),
    ("coordinator", {"cancel"}),
])
def test_each_viewer_sees_the_actions_they_may_take(client, login, world, who, expected):
    booking = requested(world)
    login(world[who])
    actions = {a.rsplit("/", 1)[1] for a in form_actions(text_of(client.get(f"/bookings/{booking.id}")))
               if a and a.startswith(f"/bookings/{booking.id}/")}
    assert actions == expected


def test_delivery_actions_appear_once_the_session_has_started(client, login, world):
    booking = confirmed(world)
    login(world["provider_lead"])
    actions = form_actions(text_of(client.get(f"/bookings/{booking.id}")))
    assert f"/bookings/{booking.id}/deliver" not in actions
    move_into_past(world["session"])
    actions = form_actions(text_of(client.get(f"/bookings/{booking.id}")))
    assert f"/bookings/{booking.id}/deliver" in actions and f"/bookings/{booking.id}/no-show" in actions


def test_xss_through_note_objectives_and_reason_is_harmless(client, login, world, make_offer):
    offer = make_offer(organisation=world["provider"], booking_mode="bespoke", price_credits=1,
                       terms={"phase": ["primary"], "format": ["bespoke-support"]})
    login(world["teacher"])
    for payload in XSS_CORPUS:
        booking = bookings.request_bespoke(world["teacher"], offer.id, 1, payload, None, payload)
        db.session.commit()
        bookings.cancel(world["lead"], booking.id, payload)
        db.session.commit()
        page = text_of(client.get(f"/bookings/{booking.id}"))
        blocks = user_content_blocks(page)
        assert len(blocks) == 3, payload
        for block in blocks:
            assert dangerous_markup(block) == [], (payload, block)
        assert "<script>alert" not in page and "onerror=" not in page.replace("onerror=alert(1)&gt;", "")


# --- confirming -----------------------------------------------------------------------------------


def test_the_lead_confirms_and_credits_are_held(client, login, world):
    booking = requested(world)
    login(world["lead"])
    response = client.post(f"/bookings/{booking.id}/confirm")
    assert response.status_code == 303 and response.headers["Location"] == f"/bookings/{booking.id}"
    assert status_of(booking.id) == "confirmed"
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=12, held=8)
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert "Booking confirmed: 8 credits are held" in page and "8 credits held" in page


def test_confirming_with_htmx_swaps_the_block_and_tells_the_header(client, login, world):
    booking = requested(world)
    login(world["lead"])
    response = client.post(f"/bookings/{booking.id}/confirm", headers=HTMX)
    html = text_of(response)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "credits-changed"
    assert html.lstrip().startswith('<div id="booking-detail"') and "<html" not in html
    assert "Confirmed" in html and "8 credits held" in html


def test_confirming_twice_holds_once_and_answers_the_same(client, login, world):
    booking = requested(world)
    login(world["lead"])
    first = client.post(f"/bookings/{booking.id}/confirm", headers=HTMX)
    second = client.post(f"/bookings/{booking.id}/confirm", headers=HTMX)
    assert first.status_code == second.status_code == 200
    assert "Booking confirmed: 8 credits are held" in text_of(second)
    assert transfers("hold") == 1 and ledger.verify() == []


@pytest.mark.parametrize("who", ["teacher", "governor", "provider_lead", "coordinator"])
def test_only_the_booking_schools_lead_may_confirm(client, login, world, who):
    booking = requested(world)
    login(world[who])
    assert client.post(f"/bookings/{booking.id}/confirm").status_code == 403
    assert status_of(booking.id) == "requested" and transfers("hold") == 0


@pytest.mark.parametrize("who", ["other_lead", "other_teacher"])
def test_another_school_cannot_confirm_or_even_see(client, login, world, who):
    booking = requested(world)
    login(world[who])
    assert client.post(f"/bookings/{booking.id}/confirm").status_code == 404
    assert status_of(booking.id) == "requested" and transfers("hold") == 0


def test_not_enough_credits_says_the_balance_and_links_to_credits(client, login, world):
    booking = requested(world, places=3)
    ledger.adjust(world["coordinator"], organisation_id=world["buyer"].id, amount=-15, key="adj", reason="test")
    db.session.commit()
    before = transfers()
    login(world["lead"])
    for headers in ({}, HTMX):
        response = client.post(f"/bookings/{booking.id}/confirm", headers=headers)
        html = text_of(response)
        assert response.status_code == 200
        assert "Not enough credits: this needs 12 but only 5 are available." in html
        assert "5 credits available" in html
        assert 'href="/credits"' in html
        assert "HX-Trigger" not in response.headers
    assert status_of(booking.id) == "requested" and transfers() == before
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=5, held=0)


def test_confirming_a_cancelled_booking_says_why_and_changes_nothing(client, login, world):
    booking = requested(world)
    bookings.cancel(world["teacher"], booking.id)
    db.session.commit()
    login(world["lead"])
    response = client.post(f"/bookings/{booking.id}/confirm")
    assert response.status_code == 303
    assert "cannot be confirmed" in text_of(client.get(f"/bookings/{booking.id}"))
    assert status_of(booking.id) == "cancelled" and transfers("hold") == 0


def test_two_concurrent_confirmations_make_one_hold(app, world, login):
    booking = requested(world)
    lead_key = world["lead"].get_id()
    barrier = threading.Barrier(2)
    results = []

    def post():
        with app.app_context():
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = lead_key
                session["_fresh"] = True
            barrier.wait()
            response = client.post(f"/bookings/{booking.id}/confirm")
            # Each sees the same success (the second finds it already done), never an error.
            said = "Booking confirmed: 8 credits are held" in text_of(client.get(f"/bookings/{booking.id}"))
            results.append((response.status_code, response.headers.get("Location"), said))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [(303, f"/bookings/{booking.id}", True)] * 2
    db.session.rollback()  # end this test's read snapshot: see what the two requests wrote
    assert transfers("hold") == 1
    assert ledger.verify() == []
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=12, held=8)


# --- cancelling -----------------------------------------------------------------------------------


def test_the_requester_withdraws_a_request(client, login, world):
    booking = requested(world)
    login(world["teacher"])
    response = client.post(f"/bookings/{booking.id}/cancel", data={"cancel-reason": "Cover fell through"})
    assert response.status_code == 303
    assert status_of(booking.id) == "cancelled"
    assert db.session.get(Booking, booking.id).cancellation_reason == "Cover fell through"


def test_cancelling_before_the_deadline_releases_the_hold(client, login, world):
    booking = confirmed(world)
    login(world["lead"])
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert "you are before it" in page and "the 8 held credits go back to Buyer School" in page
    response = client.post(f"/bookings/{booking.id}/cancel", data={"cancel-reason": "illness"}, headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "credits-changed"
    assert "The 8 held credits went back to Buyer School" in text_of(response)
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=20, held=0)


def test_a_late_cancellation_says_so_and_follows_the_policy(client, login, world):
    db.session.add(Setting(key="late_cancellation_policy", value="forfeit_provider"))
    booking = confirmed(world)
    world["session"].starts_at = bookings.session_clock() + timedelta(days=2)  # the deadline is 7 days before
    world["session"].ends_at = world["session"].starts_at + timedelta(hours=2)
    db.session.commit()
    login(world["lead"])
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert "it has passed" in page and "the 8 held credits go to Provider School" in page
    response = client.post(f"/bookings/{booking.id}/cancel", data={"cancel-reason": "snow"})
    assert response.status_code == 303
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=12, held=0)
    assert ledger.balance_of(world["provider"].id).available == 8
    assert ledger.verify() == []


def test_the_provider_may_cancel_and_the_school_is_refunded(client, login, world):
    booking = confirmed(world)
    login(world["provider_lead"])
    assert "as the provider you can cancel at any time" in text_of(client.get(f"/bookings/{booking.id}"))
    assert client.post(f"/bookings/{booking.id}/cancel", data={"cancel-reason": "trainer ill"}).status_code == 303
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=20, held=0)


@pytest.mark.parametrize("who,status", [
    ("governor", 403), ("teacher", 403), ("provider_teacher", 403), ("other_lead", 404), ("other_teacher", 404),
])
def test_others_cannot_cancel_a_confirmed_booking(client, login, world, who, status):
    booking = confirmed(world)
    login(world[who])
    assert client.post(f"/bookings/{booking.id}/cancel", data={"cancel-reason": "x"}).status_code == status
    assert status_of(booking.id) == "confirmed"
    assert ledger.balance_of(world["buyer"].id).held == 8


def test_a_reason_too_long_comes_back_on_the_form(client, login, world):
    booking = confirmed(world)
    login(world["lead"])
    response = client.post(f"/bookings/{booking.id}/cancel", data={"cancel-reason": "x" * 1001}, headers=HTMX)
    assert response.status_code == 200 and "The reason must be 1,000 characters or fewer" in text_of(response)
    assert "HX-Trigger" not in response.headers
    assert status_of(booking.id) == "confirmed"


# --- delivery and no-shows ------------------------------------------------------------------------


def test_delivery_before_the_session_is_refused_with_a_message(client, login, world):
    booking = confirmed(world)
    login(world["provider_lead"])
    response = client.post(f"/bookings/{booking.id}/deliver", data={"deliver-attended": "2"})
    assert response.status_code == 200 and "This session has not happened yet." in text_of(response)
    assert status_of(booking.id) == "confirmed" and transfers("settle") == 0


def test_the_provider_marks_it_delivered_with_attendance(client, login, world):
    booking = confirmed(world)
    move_into_past(world["session"])
    login(world["provider_lead"])
    response = client.post(f"/bookings/{booking.id}/deliver", data={"deliver-attended": "1"}, headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "credits-changed"
    html = text_of(response)
    assert "Marked delivered, with 1 attending. 8 credits went to Provider School." in html
    assert "Delivered" in html and "(1 attended)" in html
    assert ledger.balance_of(world["provider"].id).available == 8
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=12, held=0)
    login(world["teacher"])
    assert "8 credits settled: paid to Provider School" in text_of(client.get(f"/bookings/{booking.id}"))


@pytest.mark.parametrize("attended", ["3", "-1", "lots", ""])
def test_attendance_must_be_within_the_places_booked(client, login, world, attended):
    booking = confirmed(world)
    move_into_past(world["session"])
    login(world["provider_lead"])
    response = client.post(f"/bookings/{booking.id}/deliver", data={"deliver-attended": attended})
    assert response.status_code == 200 and "Enter a number from 0 to 2" in text_of(response)
    assert status_of(booking.id) == "confirmed"


@pytest.mark.parametrize("who,status", [("lead", 403), ("teacher", 403), ("provider_teacher", 403), ("other_lead", 404)])
def test_only_the_provider_marks_delivery(client, login, world, who, status):
    booking = confirmed(world)
    move_into_past(world["session"])
    login(world[who])
    assert client.post(f"/bookings/{booking.id}/deliver", data={"deliver-attended": "2"}).status_code == status
    assert client.post(f"/bookings/{booking.id}/no-show").status_code == status
    assert status_of(booking.id) == "confirmed" and transfers("settle") == transfers("forfeit") == 0


def test_a_coordinator_may_mark_delivery(client, login, world):
    booking = confirmed(world)
    move_into_past(world["session"])
    login(world["coordinator"])
    assert client.post(f"/bookings/{booking.id}/deliver", data={"deliver-attended": "2"}).status_code == 303
    assert status_of(booking.id) == "delivered"


def test_a_no_show_follows_the_policy_and_tells_the_header(client, login, world):
    db.session.add(Setting(key="no_show_policy", value="forfeit_scheme"))
    booking = confirmed(world)
    move_into_past(world["session"])
    login(world["provider_lead"])
    assert "go back to the scheme" in text_of(client.get(f"/bookings/{booking.id}"))
    response = client.post(f"/bookings/{booking.id}/no-show", headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "credits-changed"
    assert "Did not attend" in text_of(response)
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=12, held=0)
    assert ledger.verify() == []


def test_with_credits_off_actions_work_without_prices_or_triggers(app, client, login, world):
    app.config["CREDITS_ENABLED"] = False
    booking = requested(world)
    login(world["lead"])
    response = client.post(f"/bookings/{booking.id}/confirm", headers=HTMX)
    assert response.status_code == 200 and "HX-Trigger" not in response.headers
    assert "credit" not in text_of(response).lower()
    assert status_of(booking.id) == "confirmed" and transfers("hold") == 0
