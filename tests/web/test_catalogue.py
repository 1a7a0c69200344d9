"""The catalogue at /offers as people use it: filters in the URL, counts, sorts, paging,
the htmx active filter and its plain-form fallback, prices, and bad input."""
import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from app.extensions import db
from app.models import OfferSession
from app.services.catalogue import ARG_NAMES

HX = {"HX-Request": "true", "HX-Target": "offer-results", "HX-Current-URL": "http://localhost/offers"}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def card_titles(html: str) -> list[str]:
    """Offer titles in the result cards, in order."""

    class Cards(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth = 0
            self.titles: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "h3" and (dict(attrs).get("id") or "").endswith("-title"):
                self.depth = 1

        def handle_endtag(self, tag):
            if tag == "h3":
                self.depth = 0

        def handle_data(self, data):
            if self.depth and data.strip():
                self.titles.append(data.strip())

    parser = Cards()
    parser.feed(html)
    return parser.titles


def count_span(html: str, facet: str, slug: str) -> tuple[str, int]:
    """(class, number) of the count shown beside a facet checkbox."""
    match = re.search(rf'<span id="offers-{facet}-{slug}-count" class="([^"]+)"[^>]*>\((\d+)\)<', html)
    assert match, f"no count for {facet}={slug}"
    return match.group(1), int(match.group(2))


@pytest.fixture
def spread(make_offer):
    make_offer(title="Phonics course", category_slug="early-reading-phonics",
               terms={"phase": ["primary"], "format": ["course"], "delivery": ["in-person"]})
    make_offer(title="Maths mastery twilights", category_slug="maths-mastery",
               terms={"phase": ["primary", "secondary"], "format": ["twilight-session"], "delivery": ["online"]})
    make_offer(title="SEND outreach visits", category_slug="send-outreach",
               terms={"phase": ["special"], "format": ["bespoke-support"], "delivery": ["in-person"]})
    make_offer(title="Governor induction", category_slug="governor-training",
               terms={"audience": ["governor"], "format": ["course"], "delivery": ["online"]})
    for status in ("draft", "paused", "archived"):
        make_offer(title=f"Hidden {status}", status=status, category_slug="maths-mastery",
                   terms={"phase": ["primary"], "format": ["course"], "delivery": ["online"]})


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", {"Phonics course", "Maths mastery twilights", "SEND outreach visits", "Governor induction"}),
        ("category=cpd-professional-learning", {"Phonics course", "Maths mastery twilights"}),
        ("category=maths-mastery", {"Maths mastery twilights"}),
        ("phase=primary", {"Phonics course", "Maths mastery twilights"}),
        ("phase=primary&phase=special", {"Phonics course", "Maths mastery twilights", "SEND outreach visits"}),
        ("phase=primary&delivery=online", {"Maths mastery twilights"}),
        ("format=course&delivery=online&delivery=in-person", {"Phonics course", "Governor induction"}),
        ("audience=governor", {"Governor induction"}),
        ("q=outreach", {"SEND outreach visits"}),
        ("q=nothing+like+this", set()),
    ],
)
def test_filters_narrow_the_catalogue_and_hidden_offers_never_show(client, spread, query, expected):
    response = client.get(f"/offers?{query}")
    assert response.status_code == 200
    html = text_of(response)
    assert set(card_titles(html)) == expected
    assert "Hidden" not in html
    noun = "offer" if len(expected) == 1 else "offers"
    assert f"<strong>{len(expected)}</strong> {noun}" in html


def test_counts_are_shown_beside_each_filter_value(client, spread):
    html = text_of(client.get("/offers?phase=primary&delivery=online"))
    assert card_titles(html) == ["Maths mastery twilights"]
    # Phase counts ignore the phase choice (online offers: maths is primary and secondary).
    assert count_span(html, "phase", "primary") == ("facet-count", 1)
    assert count_span(html, "phase", "secondary") == ("facet-count", 1)
    # Zero-count values are still listed, marked.
    assert count_span(html, "phase", "special") == ("facet-count is-zero", 0)
    assert 'id="offers-phase-special"' in html
    # Delivery counts ignore the delivery choice (primary offers: one in person, one online).
    assert count_span(html, "delivery", "in-person") == ("facet-count", 1)
    assert count_span(html, "format", "twilight-session") == ("facet-count", 1)
    # Chosen values stay checked, and their groups open.
    assert re.search(r'id="offers-phase-primary" name="phase" value="primary" checked', html)
    assert not re.search(r'id="offers-phase-secondary" name="phase" value="secondary" checked', html)
    assert html.count('<details class="facet-group" open>') == 2
    # Category counts ignore the category choice and roll children up to their area.
    assert 'value="cpd-professional-learning">All of CPD and professional learning (1)</option>' in html
    assert 'value="maths-mastery">Maths mastery (1)</option>' in html


def test_the_form_is_a_shareable_get_form_with_an_htmx_active_filter(client, spread):
    html = text_of(client.get("/offers?category=maths-mastery&sort=newest&q=maths"))
    assert '<form class="filters offer-filters" method="get" action="/offers"' in html
    assert 'hx-get="/offers"' in html and 'hx-target="#offer-results"' in html and 'hx-push-url="true"' in html
    assert 'hx-trigger="change, keyup changed delay:300ms from:#offers-q, submit"' in html
    assert '<button type="submit">Apply filters</button>' in html
    assert '<option id="offers-category-maths-mastery" value="maths-mastery" selected>' in html
    assert '<option value="newest" selected>' in html
    assert 'id="offers-q" name="q" type="search" value="maths"' in html
    # Each facet is a fieldset with a legend, inside a collapsible <details>.
    for label in ("Phase", "Subject", "Audience", "Format", "Delivery"):
        assert f'<summary>{label}' in html and f'<legend class="visually-hidden">{label}</legend>' in html
    assert "hx-on" not in html and " style=" not in html


def test_htmx_request_gets_only_the_results_block(client, spread):
    response = client.get("/offers?phase=primary", headers=HX)
    html = text_of(response)
    assert response.status_code == 200 and "HX-Request" in response.headers.get("Vary", "")
    assert "<html" not in html and "<form" not in html and "<h1" not in html
    assert set(card_titles(html)) == {"Phonics course", "Maths mastery twilights"}
    # The live region hears the new count; the form's counts are refreshed out of band.
    assert '<p id="offer-status" hx-swap-oob="innerHTML">2 offers match these filters</p>' in html
    assert re.search(r'<span id="offers-delivery-online-count" class="facet-count" hx-swap-oob="true">\(1\)<', html)
    assert '<option id="offers-category-maths-mastery" value="maths-mastery" hx-swap-oob="true">Maths mastery (1)</option>' in html

    full = client.get("/offers?phase=primary")
    page = text_of(full)
    assert "<html" in page and "<h1>Offers of support</h1>" in page and 'id="offer-results"' in page
    assert 'role="status" aria-live="polite"' in page and "hx-swap-oob" not in page
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        assert "<html" in text_of(client.get("/offers", headers={**HX, **extra}))


def _add_session(offer, starts_at):
    db.session.add(OfferSession(offer_id=offer.id, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1), places=5))
    db.session.commit()


def test_sorts(client, make_offer, make_school, make_user, login):
    soon = datetime.combine(date.today() + timedelta(days=3), datetime.min.time())
    near = make_offer(title="Near, later", easting=400500, northing=200000, published_at=datetime(2026, 1, 1))
    _add_session(near, soon + timedelta(days=10))
    far = make_offer(title="Far, sooner", easting=430000, northing=200000, published_at=datetime(2026, 3, 1))
    _add_session(far, soon)
    stale = make_offer(title="Stale, soonest", easting=410000, northing=200000, assured_on=date.today() - timedelta(days=400),
                       published_at=datetime(2026, 2, 1))
    _add_session(stale, soon - timedelta(days=1))
    assert card_titles(text_of(client.get("/offers"))) == ["Far, sooner", "Near, later", "Stale, soonest"]
    assert card_titles(text_of(client.get("/offers?sort=newest"))) == ["Far, sooner", "Stale, soonest", "Near, later"]
    html = text_of(client.get("/offers?sort=best_rated"))
    assert card_titles(html) == ["Far, sooner", "Stale, soonest", "Near, later"]
    assert "None of these offers has feedback yet" in html
    html = text_of(client.get("/offers?sort=nearest"))
    assert card_titles(html)[0] == "Far, sooner" and "Sign in to sort by distance" in html
    assert "Possibly out of date" in html

    login(make_user(role="teacher", organisation=make_school(easting=400000, northing=200000)))
    html = text_of(client.get("/offers?sort=nearest"))
    assert card_titles(html) == ["Near, later", "Stale, soonest", "Far, sooner"]
    assert "0.5 km from you" in html and "30.0 km from you" in html
    assert "Sign in to sort" not in html


def test_distance_filter_needs_a_located_school(client, make_offer, make_school, make_user, make_org, login):
    make_offer(title="Close", easting=401000, northing=200000)
    make_offer(title="Distant", easting=460000, northing=200000)
    html = text_of(client.get("/offers?within_km=10"))
    assert set(card_titles(html)) == {"Close", "Distant"}
    assert 'name="within_km"' not in html
    assert re.search(r'<a href="/auth/login\?next=[^"]+">Sign in to filter by distance from your school</a>', html)

    login(make_user(role="teacher", organisation=make_org(easting=None, northing=None)))
    html = text_of(client.get("/offers?within_km=10"))
    assert set(card_titles(html)) == {"Close", "Distant"} and "location is not recorded" in html

    login(make_user(role="teacher", organisation=make_school(easting=400000, northing=200000)))
    html = text_of(client.get("/offers?within_km=10"))
    assert card_titles(html) == ["Close"]
    assert '<option value="10" selected>Within 10 km</option>' in html
    html = text_of(client.get("/offers?within_km=7.5"))
    assert '<option value="7.5" selected>Within 7.5 km</option>' in html


@pytest.mark.parametrize("credits_on", [True, False])
def test_prices_are_hidden_when_credits_are_off(client, app, make_offer, credits_on):
    app.config["CREDITS_ENABLED"] = credits_on
    make_offer(title="Priced", price_credits=3)
    make_offer(title="Free one", price_credits=0)
    html = text_of(client.get("/offers"))
    assert set(card_titles(html)) == {"Priced", "Free one"}
    assert ("3 credits per place" in html) is credits_on
    assert ('<dd class="offer-price">Free</dd>' in html) is credits_on
    assert ("<dt>Price</dt>" in html) is credits_on


def test_card_shows_provider_category_next_date_and_links(client, make_offer, make_school):
    school = make_school("Alder Primary", urn=123456)
    offer = make_offer(organisation=school, title="Phonics <b>course</b>", category_slug="maths-mastery", sessions=1)
    html = text_of(client.get("/offers"))
    assert f'<a href="/offers/{offer.id}">Phonics &lt;b&gt;course&lt;/b&gt;</a>' in html
    assert '<a href="/directory/123456">Alder Primary</a>' in html and "· Maths mastery" in html
    first = offer.sessions[0].starts_at
    assert f'<time datetime="{first:%Y-%m-%dT%H:%M}">' in html


@pytest.mark.parametrize("page,status,count", [("1", 200, 20), ("2", 200, 5), ("abc", 200, 20), ("0", 200, 20), ("-2", 200, 20),
                                               ("3", 404, 0), ("99999999999999999999999", 404, 0)])
def test_pagination(client, make_offer, page, status, count):
    for n in range(25):
        make_offer(title=f"Offer {n:02d}", published_at=datetime(2026, 1, 1) + timedelta(days=n),
                   terms={"phase": ["primary"]})
    response = client.get(f"/offers?sort=newest&phase=primary&page={page}")
    assert response.status_code == status
    if status == 200:
        html = text_of(response)
        assert len(card_titles(html)) == count
        if page == "2":
            assert card_titles(html)[0] == "Offer 04"
            assert 'href="/offers?phase=primary&amp;sort=newest&amp;page=1" rel="prev"' in html
        else:
            assert card_titles(html)[0] == "Offer 24"
            assert 'href="/offers?phase=primary&amp;sort=newest&amp;page=2" rel="next"' in html


def test_unknown_values_never_break_the_page(client, spread):
    response = client.get("/offers?category=castle&phase=%3Cscript%3E&delivery=&within_km=1e999&sort=%27--&page=x&subject=a&subject=b")
    assert response.status_code == 200
    assert len(card_titles(text_of(response))) == 4
    response = client.get("/offers?q=%25%27%22--%3Cscript%3E")
    assert response.status_code == 200 and card_titles(text_of(response)) == []
    assert 'value="%&#39;&#34;--&lt;script&gt;"' in text_of(response)


_junk = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["primary", "maths-mastery", "cpd-professional-learning", "nearest", "best_rated", "5", "-1", "1e309",
                     "nan", "2", "999999999999999999999", "%", "_", "\x00", "online"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(ARG_NAMES), st.one_of(_junk, st.lists(_junk, max_size=3))))
def test_generated_query_strings_never_give_a_500(client, spread, args):
    response = client.get("/offers?" + urlencode(args, doseq=True))
    assert response.status_code in (200, 404), args
    response = client.get("/offers?" + urlencode(args, doseq=True), headers=HX)
    assert response.status_code in (200, 404), args


# --- Queries per page ----------------------------------------------------------------------


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
    return len(statements), text_of(response)


URLS = [
    "/offers",
    "/offers?phase=primary&phase=secondary&delivery=online&delivery=in-person&category=cpd-professional-learning&sort=nearest&within_km=500",
]


def test_query_count_does_not_grow(client, make_offer, make_school, make_user, login, capsys):
    login(make_user(role="school_lead", organisation=make_school(easting=400000, northing=200000)))
    terms = {"phase": ["primary", "secondary"], "delivery": ["online"], "format": ["course"], "audience": ["teacher"]}

    # A provider within the 500 km filter, whatever the factories' running counter has reached.
    near = make_school(easting=401000, northing=201000)

    def add(n):
        for i in range(n):
            make_offer(organisation=near, category_slug="maths-mastery", terms=terms, sessions=2,
                       assured_on=None if i % 2 else date.today())

    add(3)
    few = [_count_queries(client, url) for url in URLS]
    assert [len(card_titles(html)) for _, html in few] == [3, 3]
    add(17)
    many = [_count_queries(client, url) for url in URLS]
    assert [len(card_titles(html)) for _, html in many] == [20, 20]
    assert [n for n, _ in many] == [n for n, _ in few]
    with capsys.disabled():
        print(f"\nqueries per catalogue page (signed in): plain {few[0][0]}, three facets chosen + nearest + distance {few[1][0]}")
