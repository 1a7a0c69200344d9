"""The home page: search box, categories with counts, what is coming up, offers near my
school, how credits work, and the partnership in numbers, in a few queries."""
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import OfferSession


def text_of(response) -> str:
    return response.get_data(as_text=True)


def section(html: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by this heading id."""
    match = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(1)


def add_session(offer, starts_at, cancelled=False):
    db.session.add(OfferSession(offer_id=offer.id, starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), places=8,
                                cancelled_at=datetime(2026, 1, 1) if cancelled else None))
    db.session.commit()


def soon(days: int) -> datetime:
    return datetime.combine(date.today() + timedelta(days=days), datetime.min.time()).replace(hour=15, minute=30)


def test_search_box_sends_a_query_to_the_search_page(client):
    html = text_of(client.get("/"))
    form = re.search(r'<form class="search-form" method="get" action="([^"]+)" role="search">(.*?)</form>', html, re.S)
    assert form and form.group(1) == "/search"
    assert '<label for="home-q">Search offers, schools and experts</label>' in form.group(2)
    assert '<input id="home-q" name="q" type="search"' in form.group(2)


def test_categories_with_counts_of_published_offers(client, make_offer):
    make_offer(category_slug="maths-mastery")
    make_offer(category_slug="early-reading-phonics")
    make_offer(category_slug="cpd-professional-learning")
    make_offer(category_slug="governor-training")
    make_offer(category_slug="maths-mastery", status="draft")
    make_offer(category_slug="send-outreach", status="archived")
    html = section(text_of(client.get("/")), "categories-heading")
    assert re.search(r'<a href="/offers\?category=cpd-professional-learning">CPD and professional learning</a>\s*'
                     r'<span class="muted">3 offers</span>', html)
    assert re.search(r'category=governance">Governance</a>\s*<span class="muted">1 offer</span>', html)
    assert re.search(r'category=send-inclusion">SEND, inclusion and vulnerable pupils</a>\s*<span class="muted">No offers yet</span>', html)
    assert html.count("<li") == 12  # top level only


def test_upcoming_sessions(client, make_offer):
    series = make_offer(title="Twilight series")
    for week in range(4):
        add_session(series, soon(7 * week + 2))
    early = make_offer(title="Early one")
    add_session(early, soon(1))
    cancelled = make_offer(title="Called off")
    add_session(cancelled, soon(1), cancelled=True)
    past = make_offer(title="Already happened")
    add_session(past, soon(-3))
    hidden = make_offer(title="Paused offer", status="paused")
    add_session(hidden, soon(1))
    for n in range(6):
        add_session(make_offer(title=f"Later {n}"), soon(40 + n))
    html = section(text_of(client.get("/")), "upcoming-heading")
    titles = re.findall(r'<a href="/offers/\d+">([^<]+)</a>', html)
    # The next six offers by date, each once, however many sessions it has.
    assert titles == ["Early one", "Twilight series", "Later 0", "Later 1", "Later 2", "Later 3"]
    assert f'<time datetime="{soon(1):%Y-%m-%dT%H:%M}">' in html


def test_upcoming_when_nothing_is_planned(client, taxonomy):
    html = section(text_of(client.get("/")), "upcoming-heading")
    assert "No sessions are planned yet." in html


def test_offers_near_my_school(client, make_offer, make_school, make_user, login):
    home = make_school(easting=400000, northing=200000)
    for n, km in enumerate([30, 2, 9, 1, 50, 4, 7]):
        make_offer(title=f"{km} km away", easting=400000 + km * 1000, northing=200000)
    make_offer(title="Draft nearby", status="draft", easting=400000, northing=200000)

    visitor = section(text_of(client.get("/")), "near-heading")
    assert '<a href="/auth/login?next=/">Sign in</a> to see offers near your school' in visitor
    assert "km away" not in visitor

    login(make_user(role="teacher", organisation=home))
    html = section(text_of(client.get("/")), "near-heading")
    titles = re.findall(r'<a href="/offers/\d+">([^<]+)</a>', html)
    assert titles == ["1 km away", "2 km away", "4 km away", "7 km away", "9 km away", "30 km away"]
    assert "1.0 km from you" in html
    assert 'href="/offers?sort=nearest"' in html


def test_offers_near_me_without_a_location(client, make_offer, make_org, make_user, login):
    make_offer(title="Somewhere")
    login(make_user(role="school_lead", organisation=make_org(easting=None, northing=None)))
    html = section(text_of(client.get("/")), "near-heading")
    assert "location is not recorded" in html and "Somewhere" not in html


@pytest.mark.parametrize("credits_on", [True, False])
def test_how_credits_work_only_when_credits_are_on(client, app, credits_on):
    app.config["CREDITS_ENABLED"] = credits_on
    html = text_of(client.get("/"))
    assert ('<h2 id="credits-heading">How credits work</h2>' in html) is credits_on
    assert ("No money changes hands between schools." in html) is credits_on
    assert ('href="/pages/how-credits-work">Read how credits work</a>' in html) is credits_on


def test_partnership_facts(client, make_school, make_org, make_offer):
    make_school()
    make_org(kind="trust")
    make_offer()  # its provider is one more school
    make_offer(status="draft")  # and one more
    html = section(text_of(client.get("/")), "facts-heading")
    assert "<strong>3</strong> schools" in html
    assert "<strong>4</strong> organisations in all" in html
    assert "<strong>1</strong> offers of support" in html


def _count(client, url):
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_home_page_queries_do_not_grow_with_offers(client, make_offer, make_school, make_user, login):
    login(make_user(role="teacher", organisation=make_school(easting=400000, northing=200000)))
    make_offer(sessions=1)
    few = _count(client, "/")
    for _ in range(8):
        make_offer(sessions=2, terms={"phase": ["primary"], "delivery": ["online"]})
    assert _count(client, "/") == few
    assert few <= 11  # incl. one query each for the header's credits and unread-notifications badges
