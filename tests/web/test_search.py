"""/search as people use it: results grouped by kind with counts, who sees which support
requests, drafts and hidden profiles kept out, the htmx active search and its plain GET form,
odd and over-long input, the log of searches that found nothing, and the catalogue's search
(/offers?q=) ranked by the same engine."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ExpertProfile, SearchMiss
from tests.conftest import TEST_DATABASE_URL, category
from tests.support.html import XSS_CORPUS, dangerous_markup

HX = {"HX-Request": "true", "HX-Target": "search-results", "HX-Current-URL": "http://localhost/search"}
HX_SUBMIT = {**HX, "X-Search-Submit": "true"}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def misses() -> list[SearchMiss]:
    db.session.expire_all()
    return list(db.session.scalars(select(SearchMiss).order_by(SearchMiss.id)))


def result_titles(html: str, kind: str | None = None) -> list[str]:
    """Titles of the search results (h4 ids search-<kind>-<id>-title), in order."""
    pattern = rf'<h4 id="search-{kind or "[a-z]+"}-\d+-title"><a [^>]*>(.*?)</a></h4>'
    return [re.sub(r"<[^>]+>", "", title) for title in re.findall(pattern, html)]


def kind_counts(html: str) -> dict[str, int]:
    """The counts in the kinds navigation: {"offer": 2, ...} (and "all")."""
    counts = {kind: int(n.replace(",", "")) for kind, n in re.findall(
        r'<a id="search-kind-([a-z]+)" href="[^"]*"(?: aria-current="page")?>[^<]+<span class="muted">\(([\d,]+)\)</span>', html)}
    total = re.search(r'>All <span class="muted">\(([\d,]+)\)</span>', html)
    if total:
        counts["all"] = int(total.group(1).replace(",", ""))
    return counts


# On PostgreSQL the pages are tested with its own search engine; on SQLite with Whoosh.
ENGINE = "postgres" if (TEST_DATABASE_URL or "").startswith("postgres") else "whoosh"


@pytest.fixture
def app_config():
    return {"SEARCH_BACKEND": ENGINE}


@pytest.fixture(autouse=True)
def _fresh_postgres_index(app):
    """The PostgreSQL engine's tables live beside the data, which every test empties: so must they be."""
    if ENGINE != "postgres":
        yield
        return
    from app.search import get_backend

    get_backend().drop()
    yield
    db.session.rollback()
    get_backend().drop()


@pytest.fixture
def make_expert(make_user):
    def factory(name, headline, organisation=None, public=True, active=True, bio=""):
        user = make_user(role="teacher", name=name, organisation=organisation, active=active)
        profile = ExpertProfile(user_id=user.id, headline=headline, bio=bio, public=public)
        db.session.add(profile)
        db.session.commit()
        return profile

    return factory


@pytest.fixture
def world(make_school, make_org, make_offer, make_request, make_expert, make_user):
    """Something of every kind about phonics, plus what must never be found."""

    class W:
        pass

    w = W()
    w.home = make_school(name="Hollybank Primary School", easting=400000, northing=200000)
    w.asker = make_school(name="Asking Primary School", easting=430000, northing=200000)
    w.hub = make_org(kind="research_hub", name="Brookside English Hub", summary="Support for phonics and early reading.")
    w.offer = make_offer(organisation=w.hub, title="Phonics coaching for teaching assistants",
                         summary="In-school coaching for the staff who run phonics groups.")
    w.other_offer = make_offer(organisation=w.home, title="Early reading leaders network",
                               summary="Termly meetings on phonics and reading for pleasure.")
    w.draft = make_offer(organisation=w.hub, title="Phonics draft offer", status="draft")
    w.paused = make_offer(organisation=w.hub, title="Phonics paused offer", status="paused")
    w.expert = make_expert("Ursula Reid", "Specialist leader of education: early reading and phonics", organisation=w.hub)
    w.hidden_expert = make_expert("Hidden Hannah", "Phonics lead (profile hidden)", organisation=w.hub, public=False)
    w.shared = make_request(organisation=w.asker, title="Phonics screening results dropped",
                            description="Help with keep-up phonics sessions, please.")
    w.secret = make_request(organisation=w.asker, title="Phonics lead off sick: confidential",
                            description="A confidential phonics staffing problem.", visibility="coordinators")
    w.teacher = make_user(role="teacher", organisation=w.home)
    w.asker_lead = make_user(role="school_lead", organisation=w.asker)
    w.coordinator = make_user(role="coordinator")
    return w


# --- Results by kind, and who sees what ------------------------------------------------------


def test_a_visitor_sees_offers_organisations_and_experts_grouped_with_counts(client, world):
    response = client.get("/search?q=phonics")
    html = text_of(response)
    assert response.status_code == 200
    assert kind_counts(html) == {"offer": 2, "organisation": 1, "expert": 1, "all": 4}
    assert "request" not in kind_counts(html)
    assert set(result_titles(html, "offer")) == {"Phonics coaching for teaching assistants", "Early reading leaders network"}
    # The title match ranks above the summary match.
    assert result_titles(html, "offer")[0] == "Phonics coaching for teaching assistants"
    assert result_titles(html, "organisation") == ["Brookside English Hub"]
    assert result_titles(html, "expert") == ["Ursula Reid"]
    assert result_titles(html, "request") == []
    assert '<h3 id="search-offer-heading">Offers <span class="muted">(2)</span></h3>' in html
    assert "<strong>4</strong> results for “phonics”" in html
    assert "Sign in</a> to search them too" in html
    # Drafts, paused offers, hidden profiles and every support request stay out.
    for hidden in ("draft offer", "paused offer", "Hidden Hannah", "screening results", "confidential"):
        assert hidden not in html


def test_a_teacher_sees_shared_requests_but_never_a_coordinator_only_one(client, login, world):
    login(world.teacher)
    html = text_of(client.get("/search?q=phonics"))
    assert kind_counts(html)["request"] == 1
    assert result_titles(html, "request") == ["Phonics screening results dropped"]
    assert "confidential" not in html.lower()
    # Not in a count, not on the requests tab, not by its own words.
    html = text_of(client.get("/search?q=confidential+sick"))
    assert "confidential" not in " ".join(result_titles(html)).lower()
    assert kind_counts(html).get("request") == 0
    html = text_of(client.get("/search?q=phonics&kind=request"))
    assert result_titles(html) == ["Phonics screening results dropped"]


def test_the_coordinator_and_the_asking_school_see_the_coordinator_only_request(client, login, world):
    for who in (world.coordinator, world.asker_lead):
        login(who)
        html = text_of(client.get("/search?q=phonics&kind=request"))
        assert set(result_titles(html, "request")) == {"Phonics screening results dropped", "Phonics lead off sick: confidential"}
        assert kind_counts(html)["request"] == 2
        assert "Coordinators only" in html


def test_a_visitor_asking_for_requests_gets_no_requests(client, world):
    html = text_of(client.get("/search?q=sick&kind=request"))
    assert result_titles(html) == [] and "off sick" not in html
    assert kind_counts(html).get("request") is None
    html = text_of(client.get("/search?q=screening"))
    assert result_titles(html) == [] and "Phonics screening results dropped" not in html


def test_a_published_offer_that_becomes_a_draft_disappears(client, world):
    assert "Phonics coaching for teaching assistants" in result_titles(text_of(client.get("/search?q=coaching")))
    world.offer.status = "draft"
    db.session.commit()
    assert result_titles(text_of(client.get("/search?q=coaching"))) == []


def test_closed_schools_and_inactive_experts_are_not_found(client, world, make_school, make_expert):
    closed = make_school(name="Phonicsfield Closed Primary")
    closed.school.status = "closed"
    db.session.commit()
    make_expert("Gone Gareth", "Phonics coach", organisation=world.hub, active=False)
    html = text_of(client.get("/search?q=phonics"))
    assert "Phonicsfield Closed Primary" not in html and "Gone Gareth" not in html


def test_one_kind_at_a_time_is_paged(client, make_offer, app):
    for n in range(23):
        make_offer(title=f"Oracy workshop {n:02d}")
    html = text_of(client.get("/search?q=oracy"))
    assert len(result_titles(html, "offer")) == 5
    assert re.search(r'<a href="/search\?q=oracy&amp;kind=offer">See all 23 offers</a>', html)
    html = text_of(client.get("/search?q=oracy&kind=offer"))
    assert len(result_titles(html, "offer")) == 20 and 'aria-current="page">Offers' in html
    assert 'href="/search?q=oracy&amp;kind=offer&amp;page=2" rel="next"' in html
    html = text_of(client.get("/search?q=oracy&kind=offer&page=2"))
    assert len(result_titles(html, "offer")) == 3
    assert client.get("/search?q=oracy&kind=offer&page=3").status_code == 404
    assert client.get("/search?q=oracy&kind=offer&page=99999999999999999999999").status_code == 404


def test_snippets_highlight_the_words_and_escape_user_text(client, make_offer):
    make_offer(title="Reading <b>bold</b> & more", summary="Help with <script>alert(1)</script> phonics groups & 1 < 2.")
    html = text_of(client.get("/search?q=phonics"))
    snippet = re.search(r'<p class="search-snippet">(.*?)</p>', html, re.S).group(1)
    assert "<mark>phonics</mark>" in snippet.lower()
    assert "&amp; 1 &lt; 2" in snippet
    assert "<script>" not in html.split('id="search-results"', 1)[1]
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0
    assert "Reading &lt;b&gt;bold&lt;/b&gt; &amp; more" in html


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_user_text_in_results_is_harmless(client, make_offer, make_org, payload):
    make_org(name=f"Hub {payload}", summary=f"Zebrafinch {payload}")
    make_offer(title=f"Zebrafinch {payload}", summary=f"Zebrafinch {payload}", description=f"Zebrafinch {payload}")
    baseline = dangerous_markup(text_of(client.get("/search?q=nothingmatcheshere")))
    html = text_of(client.get("/search?q=zebrafinch"))
    assert result_titles(html), "the payload's offer was not found"
    assert dangerous_markup(html) == baseline


def test_a_misspelt_word_is_corrected_with_did_you_mean(client, world):
    html = text_of(client.get("/search?q=phonix"))
    assert "Phonics coaching for teaching assistants" in result_titles(html)
    assert re.search(r'Did you mean <a href="/search\?q=phonics">phonics</a>\?', html)


# --- htmx and the plain form ---------------------------------------------------------------


def test_the_page_is_a_get_form_that_works_without_javascript(client, world):
    html = text_of(client.get("/search"))
    form = re.search(r'<form class="filters offer-filters search-filters" method="get" action="/search" role="search"(.*?)</form>',
                     html, re.S)
    assert form, "no GET search form"
    attrs, body = form.group(1), form.group(0)
    assert 'hx-get="/search"' in attrs and 'hx-target="#search-results"' in attrs and 'hx-push-url="true"' in attrs
    # Debounced typing; a newer request replaces one still in flight.
    assert 'hx-trigger="input changed delay:300ms from:#search-q, change, submit"' in attrs
    assert 'hx-sync="this:replace"' in attrs
    assert '<label for="search-q">What are you looking for?</label>' in body
    assert re.search(r'<input aria-describedby="search-q-hint" autocomplete="off" id="search-q" name="q" [^>]*type="search" value="">', body)
    assert '<button type="submit">Search</button>' in body
    assert " style=" not in html and "hx-on" not in html
    assert '<script src="/static/js/search.js" defer></script>' in html
    assert "Type what you are looking for" in html
    # The same address without htmx is a whole page with the results in it.
    page = text_of(client.get("/search?q=phonics&phase=primary"))
    assert "<html" in page and re.search(r'id="search-q" name="q" [^>]*type="search" value="phonics"', page)
    assert 'id="search-phase-primary" name="phase" value="primary" checked' in page
    assert result_titles(page, "offer")


def test_htmx_gets_only_the_results_block(client, world):
    response = client.get("/search?q=phonics", headers=HX)
    html = text_of(response)
    assert response.status_code == 200 and "HX-Request" in response.headers.get("Vary", "")
    assert "<html" not in html and "<form" not in html and "<h1" not in html
    assert result_titles(html, "offer")
    assert '<p id="search-status" hx-swap-oob="innerHTML">4 results for phonics</p>' in html
    assert re.search(r'<span id="search-phase-primary-count" class="facet-count" hx-swap-oob="true">\(2\)</span>', html)
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        assert "<html" in text_of(client.get("/search?q=phonics", headers={**HX, **extra}))


def test_offer_facets_narrow_the_offers_only(client, make_offer, make_org):
    make_offer(title="Maths mastery for primary", terms={"phase": ["primary"], "format": ["course"], "delivery": ["online"]})
    make_offer(title="Maths mastery for secondary", terms={"phase": ["secondary"], "format": ["course"], "delivery": ["online"]})
    make_org(name="Maths Mastery Hub")
    html = text_of(client.get("/search?q=maths+mastery&phase=secondary"))
    assert result_titles(html, "offer") == ["Maths mastery for secondary"]
    assert result_titles(html, "organisation") == ["Maths Mastery Hub"]
    assert kind_counts(html) == {"offer": 1, "organisation": 1, "expert": 0, "all": 2}
    # Counts beside the phase choices ignore the phase choice itself.
    assert re.search(r'id="search-phase-primary-count" class="facet-count">\(1\)', html)
    assert 'href="/search?q=maths+mastery&amp;phase=secondary&amp;kind=offer"' in html


def test_distance_narrows_offers_for_a_located_school(client, login, make_offer, make_school, make_user):
    make_offer(title="Near phonics", easting=401000, northing=200000)
    make_offer(title="Far phonics", easting=460000, northing=200000)
    html = text_of(client.get("/search?q=phonics&within_km=10"))
    assert set(result_titles(html, "offer")) == {"Near phonics", "Far phonics"}
    assert "Sign in to filter by distance" in html
    login(make_user(role="teacher", organisation=make_school(easting=400000, northing=200000)))
    html = text_of(client.get("/search?q=phonics&within_km=10"))
    assert result_titles(html, "offer") == ["Near phonics"] and "1.0 km from you" in html
    assert '<option value="10" selected>Within 10 km</option>' in html


# --- Odd input -------------------------------------------------------------------------------

ODD = [
    "", " ", "\t\n", "a", '"', '"unbalanced phrase', "''", "'; DROP TABLE offers; --", "phonics\x00", "\x00",
    "\x01\x02\x7f", "ünïcödé 漢字 🙂 مرحبا", "<script>alert(1)</script>", "OR", "NOT", "- -", "-phonics",
    "AND OR NOT", "*", "?", "phon*", "title:phonics", "%", "_", "\\", "\\\\'", "(((", ")", "{}", "[]", "~2", "^3",
    "a" * 2048, "é" * 1024, "phonics " * 200, "0", "-1", "1e999", "NaN", "null", "../../etc/passwd", "%00", "&amp;",
]


@pytest.mark.parametrize("q", ODD)
def test_odd_input_never_errors(client, login, world, q):
    for headers in ({}, HX):
        response = client.get("/search", query_string={"q": q, "kind": q, "page": q, "phase": q, "within_km": q,
                                                        "sort": q, "category": q}, headers=headers)
        assert response.status_code in (200, 404), (q, response.status_code)
        assert "<script>alert(1)</script>" not in text_of(response)
    login(world.teacher)
    assert client.get("/search", query_string={"q": q}).status_code == 200


@pytest.mark.parametrize("raw", ["%ED%A0%80", "%FF%FE%00", "%C0%AF", "%E2%80%AE%E2%80%8B", "%", "%%", "%ZZ"])
def test_bytes_that_are_not_utf8_never_error(client, raw):
    for name in ("q", "kind", "page", "phase", "category"):
        response = client.get(f"/search?{name}={raw}&q=phonics{raw}")
        assert response.status_code == 200, (name, raw, response.status_code)


def test_a_query_over_2_kb_is_refused_politely(client, world):
    too_long = "a" * 2049
    response = client.get("/search", query_string={"q": too_long})
    html = text_of(response)
    assert response.status_code == 400
    assert "That search is too long to look up" in html and "<html" in html
    assert too_long not in html
    response = client.get("/search", query_string={"q": too_long}, headers=HX)
    assert response.status_code == 200 and "That search is too long to look up" in text_of(response)
    # Two-byte characters count as two: 1,025 of them are over the limit too.
    assert client.get("/search", query_string={"q": "é" * 1025}).status_code == 400
    # Measured as typed: spaces that cleaning would squeeze out still count.
    assert client.get("/search", query_string={"q": "a" + " " * 2048}).status_code == 400
    # A refused search is not searched, so it is not logged as finding nothing.
    assert misses() == []
    assert client.get("/search", query_string={"q": "é" * 1024}).status_code == 200


# --- Searches that found nothing ----------------------------------------------------------------


def test_a_submitted_search_that_finds_nothing_is_logged_once_with_the_organisation(client, login, world):
    login(world.teacher)
    # Typing: the active search's requests are never logged.
    for partial in ("xyl", "xylo", "xylophone"):
        client.get("/search", query_string={"q": partial}, headers=HX)
    assert misses() == []
    # Submitting (Enter through htmx, or the plain form) logs it once.
    client.get("/search", query_string={"q": "xylophone"}, headers=HX_SUBMIT)
    client.get("/search", query_string={"q": "xylophone"})  # a reload straight after
    [miss] = misses()
    assert miss.query == "xylophone" and miss.organisation_id == world.home.id and miss.user_id == world.teacher.id
    assert miss.filters == {"source": "search", "kind": "all"} and miss.category_id is None
    # A different search is a new row; one that finds something is not logged.
    client.get("/search", query_string={"q": "xylophone", "phase": "primary"})
    client.get("/search", query_string={"q": "phonics"})
    assert [m.filters for m in misses()] == [{"source": "search", "kind": "all"},
                                             {"source": "search", "kind": "all", "phase": ["primary"]}]
    # Going back through history does not count again.
    client.get("/search", query_string={"q": "zzzzqqq"}, headers={**HX, "HX-History-Restore-Request": "true"})
    assert len(misses()) == 2


def test_a_visitors_miss_has_no_organisation(client, world):
    client.get("/search?q=glockenspiel")
    [miss] = misses()
    assert miss.query == "glockenspiel" and miss.organisation_id is None and miss.user_id is None


def test_a_catalogue_search_that_finds_nothing_is_logged_with_its_category(client, login, world):
    login(world.teacher)
    client.get("/offers?q=glockenspiel&category=maths-mastery", headers={"HX-Request": "true", "HX-Target": "offer-results"})
    assert misses() == []
    client.get("/offers?q=glockenspiel&category=maths-mastery")
    [miss] = misses()
    assert miss.category_id == category("maths-mastery").id and miss.organisation_id == world.home.id
    assert miss.filters == {"source": "catalogue", "category": "maths-mastery"}
    # Filters without words are browsing, not searching.
    client.get("/offers?category=governance-reviews")
    assert len(misses()) == 1


# --- The catalogue ranked by the engine -------------------------------------------------------


def test_the_catalogue_orders_a_search_by_relevance_and_keeps_its_facets(client, make_offer):
    make_offer(title="Leadership network", summary="Termly meetings; sometimes about phonics.",
               terms={"phase": ["primary"], "format": ["network"], "delivery": ["online"]})
    make_offer(title="Phonics for new Reception teachers", summary="Phonics, phonics and more phonics.",
               terms={"phase": ["primary"], "format": ["course"], "delivery": ["in-person"]})
    make_offer(title="Maths mastery", summary="Number sense.", category_slug="maths-mastery",
               terms={"phase": ["secondary"], "format": ["course"], "delivery": ["online"]})
    html = text_of(client.get("/offers?q=phonics"))
    titles = re.findall(r'<h3 id="offer-\d+-title"><a [^>]*>(.*?)</a>', html)
    assert titles == ["Phonics for new Reception teachers", "Leadership network"]
    assert '<option value="relevance" selected>Best match</option>' in html
    assert re.search(r'<span id="offers-format-course-count" class="facet-count">\(1\)</span>', html)
    assert re.search(r'<span id="offers-phase-secondary-count" class="facet-count is-zero">\(0\)</span>', html)
    # The engine tolerates a typo where a LIKE match would find nothing.
    html = text_of(client.get("/offers?q=phonix"))
    assert re.findall(r'<h3 id="offer-\d+-title"><a [^>]*>(.*?)</a>', html)[0] == "Phonics for new Reception teachers"
    assert "Did you mean" in html
    # A chosen sort orders the same matches its own way.
    html = text_of(client.get("/offers?q=phonics&sort=newest"))
    assert re.findall(r'<h3 id="offer-\d+-title"><a [^>]*>(.*?)</a>', html) == ["Phonics for new Reception teachers", "Leadership network"]
    assert '<option value="newest" selected>' in html
    # Facets narrow the engine's matches.
    html = text_of(client.get("/offers?q=phonics&format=network"))
    assert re.findall(r'<h3 id="offer-\d+-title"><a [^>]*>(.*?)</a>', html) == ["Leadership network"]


def test_more_matches_than_the_engine_gives_are_said_to_be_the_best_ones(client, make_offer, monkeypatch):
    from app.services import search_results

    for n in range(4):
        make_offer(title=f"Debating club {n}")
    assert "These are the best" not in text_of(client.get("/search?q=debating"))
    monkeypatch.setattr(search_results, "ENGINE_LIMIT", 3)
    html = text_of(client.get("/search?q=debating"))
    assert kind_counts(html)["offer"] == 3
    assert "These are the best 3 matches of each kind." in html
    assert "These are the best 3 matches for your words." in text_of(client.get("/offers?q=debating"))


def test_the_same_miss_a_minute_later_is_logged_again(app, make_user):
    from datetime import datetime, timedelta

    from app.services.search_results import log_miss

    teacher = make_user(role="teacher")
    at = datetime(2026, 11, 23, 9, 0)
    assert log_miss(teacher, "  glockenspiel\x00 lessons ", filters={"source": "search"}, now=at) is not None
    assert log_miss(teacher, "glockenspiel lessons", filters={"source": "search"}, now=at + timedelta(seconds=59)) is None
    # Other filters, or someone else, are another search.
    assert log_miss(teacher, "glockenspiel lessons", filters={"source": "catalogue"}, now=at + timedelta(seconds=59))
    assert log_miss(None, "glockenspiel lessons", filters={"source": "search"}, now=at + timedelta(seconds=59))
    assert log_miss(teacher, "glockenspiel lessons", filters={"source": "search"}, now=at + timedelta(seconds=61))
    assert log_miss(teacher, " \x00 ", filters={}, now=at) is None
    db.session.commit()
    assert [m.query for m in misses()] == ["glockenspiel lessons"] * 4
    assert {m.organisation_id for m in misses() if m.user_id} == {teacher.organisation_id}
