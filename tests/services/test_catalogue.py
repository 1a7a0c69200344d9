"""The catalogue service: filters, facet counts, sorts, paging, the search hook, and the
home page's lists."""
from datetime import datetime, timedelta

import pytest

from app.extensions import db
from app.models import OfferSession, QualityScore
from app.services import catalogue
from app.services.errors import NotFound

NOW = datetime(2026, 10, 1, 9, 0)
TODAY = NOW.date()


def browse(args=None, viewer=None, **kwargs):
    return catalogue.browse(args or {}, viewer, now=NOW, today=TODAY, **kwargs)


def titles(result) -> list[str]:
    return [card.offer.title for card in result.results.items]


def add_session(offer, starts_at, cancelled=False):
    session = OfferSession(offer_id=offer.id, starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), places=10,
                           cancelled_at=NOW if cancelled else None)
    db.session.add(session)
    db.session.commit()
    return session


def counts(result, facet) -> dict[str, int]:
    group = next(g for g in result.facets if g.name == facet)
    return {option.slug: option.count for option in group.options}


# --- What is listed ---------------------------------------------------------------------


def test_only_published_offers_are_listed(make_offer):
    make_offer(title="Live", status="published")
    for status in ("draft", "paused", "archived"):
        make_offer(title=f"Not {status}", status=status)
    result = browse()
    assert titles(result) == ["Live"]
    assert result.results.total == 1
    # Nor do they count towards the facets or categories.
    assert counts(result, "phase")["primary"] == 1
    assert sum(g.top.count for g in result.categories) == 1


@pytest.fixture
def spread(make_offer):
    """Five offers over two categories of one area, one of another, and several facets."""
    return {
        "phonics": make_offer(title="Phonics course", category_slug="early-reading-phonics",
                              terms={"phase": ["primary"], "format": ["course"], "delivery": ["in-person"]}),
        "maths": make_offer(title="Maths mastery twilights", category_slug="maths-mastery",
                            terms={"phase": ["primary", "secondary"], "format": ["twilight-session"], "delivery": ["online"]}),
        "area": make_offer(title="Professional learning in general", category_slug="cpd-professional-learning",
                           terms={"phase": ["secondary"], "format": ["course"], "delivery": ["hybrid"]}),
        "send": make_offer(title="SEND outreach visits", category_slug="send-outreach", summary="Outreach from a special school",
                           terms={"phase": ["special"], "format": ["bespoke-support"], "delivery": ["in-person"], "audience": ["senco"]}),
        "governors": make_offer(title="Governor induction", category_slug="governor-training",
                                terms={"audience": ["governor"], "format": ["course"], "delivery": ["online"]}),
    }


@pytest.mark.parametrize(
    "args,expected",
    [
        ({}, {"phonics", "maths", "area", "send", "governors"}),
        ({"category": "maths-mastery"}, {"maths"}),
        # A top-level category includes its sub-categories (and offers filed at the top).
        ({"category": "cpd-professional-learning"}, {"phonics", "maths", "area"}),
        ({"phase": ["primary"]}, {"phonics", "maths"}),
        # Values within one facet are OR'd...
        ({"phase": ["primary", "special"]}, {"phonics", "maths", "send"}),
        # ...facets are AND'd.
        ({"phase": ["primary", "secondary"], "format": ["course"]}, {"phonics", "area"}),
        ({"delivery": ["online"], "format": ["course"]}, {"governors"}),
        ({"audience": ["senco"]}, {"send"}),
        ({"category": "cpd-professional-learning", "delivery": ["online", "hybrid"]}, {"maths", "area"}),
        ({"q": "MATHS"}, {"maths"}),
        ({"q": "special school"}, {"send"}),  # the summary is searched too
        ({"q": "100%"}, set()),  # LIKE wildcards are matched literally
        ({"q": "_"}, set()),
        ({"subject": ["maths"]}, set()),
    ],
)
def test_filters_narrow_the_results(spread, args, expected):
    assert set(titles(browse(args))) == {spread[key].title for key in expected}


def test_unknown_values_are_ignored(spread):
    result = browse({"category": "no-such-thing", "phase": ["primary", "castle"], "delivery": ["<script>"], "sort": "sideways",
                     "within_km": "nan", "page": "abc", "q": "   "})
    assert set(titles(result)) == {"Phonics course", "Maths mastery twilights"}
    assert result.query.category is None and result.query.facets["delivery"] == ()
    assert result.query.sort == "soonest" and not result.query.sort_chosen
    assert result.query.within_km is None and result.query.page == 1 and result.query.q is None
    assert result.query.as_args() == {"phase": ["primary"]}


@pytest.mark.parametrize("raw,km", [("5", 5), (" 12.5 ", 12.5), ("0", None), ("-3", None), ("inf", None), ("1e400", None),
                                    ("99999", catalogue.MAX_WITHIN_KM), ("ten", None), ("", None)])
def test_within_km_parsing(raw, km):
    assert catalogue._clean_km(raw) == km


@pytest.mark.parametrize("raw,page", [("2", 2), ("0", 1), ("-1", 1), ("1.5", 1), ("x", 1), ("", 1), ("٣", 1), ("9" * 5000, 2**63)])
def test_page_parsing(raw, page):
    assert catalogue._clean_page(raw) == page


# --- Facet counts -----------------------------------------------------------------------


def test_facet_counts_count_the_current_results_ignoring_their_own_facet(spread):
    result = browse({"phase": ["primary"], "delivery": ["online"]})
    assert titles(result) == ["Maths mastery twilights"]
    # Phase counts ignore the phase choice but respect the delivery choice: online offers.
    assert counts(result, "phase") == {**{slug: 0 for slug in counts(result, "phase")}, "primary": 1, "secondary": 1}
    # Delivery counts ignore the delivery choice but respect phase: primary offers.
    assert counts(result, "delivery") == {"in-person": 1, "online": 1, "hybrid": 0}
    # Facets with nothing chosen count within the results themselves.
    assert counts(result, "format")["twilight-session"] == 1 and counts(result, "format")["course"] == 0
    chosen = {g.name: [o.slug for o in g.options if o.selected] for g in result.facets}
    assert chosen["phase"] == ["primary"] and chosen["delivery"] == ["online"] and chosen["format"] == []


def test_facet_counts_with_nothing_chosen(spread):
    result = browse()
    assert counts(result, "format")["course"] == 3
    assert counts(result, "delivery") == {"in-person": 2, "online": 2, "hybrid": 1}
    assert counts(result, "phase")["primary"] == 2 and counts(result, "phase")["early-years"] == 0
    # Every term is listed, zero or not.
    assert len(counts(result, "subject")) == 20


def test_category_counts_roll_up_and_ignore_the_category_choice(spread):
    result = browse({"category": "maths-mastery", "delivery": ["in-person", "online"]})
    groups = {g.top.slug: g for g in result.categories}
    cpd = groups["cpd-professional-learning"]
    # In-person or online offers: phonics and maths (the hybrid one at the top is excluded).
    assert cpd.top.count == 2 and not cpd.top.selected
    children = {c.slug: c for c in cpd.children}
    assert children["maths-mastery"].count == 1 and children["maths-mastery"].selected
    assert children["early-reading-phonics"].count == 1
    assert groups["send-inclusion"].top.count == 1 and groups["governance"].top.count == 1
    assert groups["business-services"].top.count == 0


# --- Sorting ----------------------------------------------------------------------------


def test_soonest_puts_the_next_session_first_and_undated_offers_after(make_offer):
    later = make_offer(title="Later")
    add_session(later, NOW + timedelta(days=20))
    sooner = make_offer(title="Sooner")
    add_session(sooner, NOW + timedelta(days=40))
    add_session(sooner, NOW + timedelta(days=3))
    make_offer(title="No dates", booking_mode="bespoke")
    past = make_offer(title="Only past and cancelled")
    add_session(past, NOW - timedelta(days=1))
    add_session(past, NOW + timedelta(days=1), cancelled=True)
    result = browse({"sort": "soonest"})
    assert titles(result)[:2] == ["Sooner", "Later"]
    assert set(titles(result)[2:]) == {"No dates", "Only past and cancelled"}
    cards = {card.offer.title: card for card in result.results.items}
    assert cards["Sooner"].next_at == NOW + timedelta(days=3)
    assert cards["Only past and cancelled"].next_at is None
    assert titles(browse()) == titles(result)  # soonest is the default


def test_stale_offers_sink_below_fresh_ones_in_soonest(make_offer):
    stale = make_offer(title="Stale but soon", assured_on=TODAY - timedelta(days=366))
    add_session(stale, NOW + timedelta(days=1))
    never = make_offer(title="Never assured", assured_on=None)
    add_session(never, NOW + timedelta(days=2))
    make_offer(title="Fresh, no dates", assured_on=TODAY - timedelta(days=365))
    fresh = make_offer(title="Fresh and later", assured_on=TODAY)
    add_session(fresh, NOW + timedelta(days=30))
    result = browse({"sort": "soonest"})
    assert titles(result) == ["Fresh and later", "Fresh, no dates", "Stale but soon", "Never assured"]
    assert [card.stale for card in result.results.items] == [False, False, True, True]


def test_newest_sorts_by_publication(make_offer):
    make_offer(title="Middle", published_at=datetime(2026, 5, 1))
    make_offer(title="Newest", published_at=datetime(2026, 9, 1))
    make_offer(title="Oldest", published_at=datetime(2025, 1, 1))
    result = browse({"sort": "newest"})
    assert titles(result) == ["Newest", "Middle", "Oldest"]
    assert result.sort_used == "newest" and result.notes == []


def test_nearest_uses_the_viewers_school(make_offer, make_school, make_user):
    home = make_school(easting=400000, northing=200000)
    viewer = make_user(role="teacher", organisation=home)
    make_offer(title="Far", easting=450000, northing=200000)
    make_offer(title="Near", easting=401000, northing=200500)
    make_offer(title="Middle", easting=400000, northing=210000)
    make_offer(title="Online only", easting=None, northing=None)
    result = browse({"sort": "nearest"}, viewer)
    assert titles(result) == ["Near", "Middle", "Far", "Online only"]
    assert result.sort_used == "nearest" and result.located
    kms = [card.km for card in result.results.items]
    assert kms[:3] == pytest.approx([1.118, 10.0, 50.0], abs=0.001) and kms[3] is None


def test_nearest_without_a_location_falls_back_to_soonest_with_a_note(make_offer, make_org, make_user):
    soon = make_offer(title="Soon", easting=900000, northing=900000)
    add_session(soon, NOW + timedelta(days=1))
    make_offer(title="Undated", easting=1, northing=1)
    visitor = browse({"sort": "nearest"})
    assert titles(visitor) == ["Soon", "Undated"] and visitor.sort_used == "soonest"
    assert "Sign in to sort by distance" in visitor.notes[0]
    unlocated = make_user(role="teacher", organisation=make_org(easting=None, northing=None))
    member = browse({"sort": "nearest"}, unlocated)
    assert member.sort_used == "soonest" and "location is not recorded" in member.notes[0]
    assert not member.located and all(card.km is None for card in member.results.items)


def test_best_rated_without_any_feedback_falls_back_to_newest_with_a_note(make_offer):
    make_offer(title="Old", published_at=datetime(2025, 1, 1))
    make_offer(title="New", published_at=datetime(2026, 1, 1))
    result = browse({"sort": "best_rated"})
    assert titles(result) == ["New", "Old"]
    assert result.query.sort == "best_rated" and result.sort_used == "newest"
    assert result.notes == ["None of these offers has feedback yet, so they are sorted newest first."]


def _score(offer, score, count=3):
    db.session.add(QualityScore(subject="offer", subject_id=offer.id, count=count, score=score, quality_mean=score,
                                impact_mean=score, objectives_mean=0.5, recommend_share=0.5))
    db.session.commit()


def test_best_rated_orders_by_score_then_unrated_newest_with_stale_offers_last(make_offer):
    good = make_offer(title="Good", published_at=datetime(2025, 1, 1))
    _score(good, 4.1)
    fair = make_offer(title="Fair", published_at=datetime(2026, 6, 1))
    _score(fair, 3.2)
    make_offer(title="Unrated, new", published_at=datetime(2026, 9, 1))
    make_offer(title="Unrated, old", published_at=datetime(2024, 9, 1))
    stale = make_offer(title="Stale but loved", assured_on=TODAY - timedelta(days=400))
    _score(stale, 4.9)
    # Feedback that no longer counts (all of it hidden) is no rating at all.
    all_hidden = make_offer(title="All hidden", published_at=datetime(2026, 8, 1))
    _score(all_hidden, None, count=0)
    result = browse({"sort": "best_rated"})
    assert titles(result) == ["Good", "Fair", "Unrated, new", "All hidden", "Unrated, old", "Stale but loved"]
    assert result.sort_used == "best_rated" and result.notes == []


def test_best_rated_keeps_the_note_when_only_offers_filtered_out_have_feedback(make_offer):
    rated = make_offer(title="Rated", category_slug="maths-mastery")
    _score(rated, 4.0)
    make_offer(title="Phonics, unrated")
    result = browse({"sort": "best_rated", "category": "early-reading-phonics"})
    assert titles(result) == ["Phonics, unrated"] and result.sort_used == "newest"
    assert "feedback yet" in result.notes[0]
    assert browse({"sort": "best_rated"}).notes == []


def test_twenty_fours_are_listed_above_a_single_five(make_offer, make_school, make_user):
    from app.models import Booking
    from app.services import feedback

    buyer = make_school()
    lead = make_user(role="school_lead", organisation=buyer)
    many = make_offer(title="Twenty fours", published_at=datetime(2025, 1, 1))
    one = make_offer(title="One five", published_at=datetime(2026, 9, 1))
    comment = "Practical, well paced and our team changed how we plan guided reading."
    for offer, quality, times in ((one, 5, 1), (many, 4, 20)):
        for _ in range(times):
            booking = Booking(offer_id=offer.id, organisation_id=buyer.id, requested_by_id=lead.id, places=1,
                              status="delivered", credits=0, delivered_at=NOW - timedelta(days=3))
            db.session.add(booking)
            db.session.flush()
            feedback.leave(lead, booking.id, objectives_met="yes", quality=quality, impact=quality,
                           would_recommend=True, comment=comment)
    db.session.commit()
    assert titles(browse({"sort": "best_rated"})) == ["Twenty fours", "One five"]
    assert titles(browse({"sort": "newest"})) == ["One five", "Twenty fours"]


# --- Distance -----------------------------------------------------------------------------


def test_within_km_filters_by_distance_from_the_viewers_school(make_offer, make_school, make_user):
    viewer = make_user(role="school_lead", organisation=make_school(easting=400000, northing=200000))
    make_offer(title="4 km", easting=404000, northing=200000)
    make_offer(title="5 km exactly", easting=400000, northing=205000)
    make_offer(title="6 km", easting=400000, northing=194000)
    make_offer(title="Nowhere", easting=None, northing=None)
    assert set(titles(browse({"within_km": "5"}, viewer))) == {"4 km", "5 km exactly"}
    # Counts respect the distance filter too.
    assert counts(browse({"within_km": "4.5"}, viewer), "phase")["primary"] == 1


def test_within_km_is_ignored_with_a_note_when_the_viewer_has_no_location(make_offer):
    make_offer(title="Anywhere")
    result = browse({"within_km": "5"})
    assert titles(result) == ["Anywhere"]
    assert not result.located and "Sign in to filter by distance from your school" in result.notes[0]


# --- Paging and the search hook -------------------------------------------------------------


def test_paging(make_offer):
    for n in range(5):
        make_offer(title=f"Offer {n}", published_at=datetime(2026, 1, 1 + n))
    first = browse({"sort": "newest"}, per_page=2)
    assert titles(first) == ["Offer 4", "Offer 3"] and first.results.pages == 3
    assert titles(browse({"sort": "newest", "page": "3"}, per_page=2)) == ["Offer 0"]
    with pytest.raises(NotFound):
        browse({"page": "4"}, per_page=2)
    with pytest.raises(NotFound):
        browse({"page": "9" * 5000}, per_page=2)


def test_an_empty_catalogue_has_one_empty_page(taxonomy):
    result = browse({"page": "1"})
    assert result.results.items == [] and result.results.pages == 1


def test_ranked_ids_from_a_search_backend_filter_and_order_the_results(make_offer):
    a = make_offer(title="A")
    b = make_offer(title="B")
    make_offer(title="C")
    draft = make_offer(title="Draft", status="draft")
    result = browse({"q": "anything"}, ranked_ids=[b.id, draft.id, a.id])
    assert titles(result) == ["B", "A"] and result.sort_used == "relevance"
    # An explicit sort still wins over relevance, within the matches.
    assert titles(browse({"q": "x", "sort": "newest"}, ranked_ids=[a.id, b.id])) == ["B", "A"]
    assert titles(browse({"q": "x"}, ranked_ids=[])) == []


# --- Cards and the home page --------------------------------------------------------------


def test_card_for_an_offer_in_hand(make_offer, make_school):
    offer = make_offer(title="Card", easting=403000, northing=204000, assured_on=None)
    add_session(offer, NOW + timedelta(days=9))
    add_session(offer, NOW + timedelta(days=2), cancelled=True)
    card = catalogue.card_for(offer, origin=(400000, 200000), now=NOW, today=TODAY)
    assert card.next_at == NOW + timedelta(days=9) and card.km == pytest.approx(5.0) and card.stale


def test_home_page_lists(make_offer, make_school, make_user):
    home = make_school(easting=400000, northing=200000)
    viewer = make_user(role="teacher", organisation=home)
    make_offer(organisation=home, title="Our own offer", easting=400000, northing=200000)
    series = make_offer(title="Six twilights", easting=420000, northing=200000)
    for week in range(6):
        add_session(series, NOW + timedelta(days=7 * (week + 1)))
    soon = make_offer(title="Soon", easting=401000, northing=200000)
    add_session(soon, NOW + timedelta(days=1))
    hidden = make_offer(title="Paused", status="paused", easting=400000, northing=200000)
    add_session(hidden, NOW + timedelta(hours=1))
    make_offer(title="Bespoke", booking_mode="bespoke", category_slug="send-outreach", easting=410000, northing=200000)
    page = catalogue.home_page(viewer, now=NOW, today=TODAY)
    # One line per offer, soonest first; paused and undated offers are not "coming up".
    assert [card.offer.title for card in page.upcoming] == ["Soon", "Six twilights"]
    # Near my school: not my school's own offers.
    assert [card.offer.title for card in page.near] == ["Soon", "Bespoke", "Six twilights"]
    categories = {row.category.slug: row.count for row in page.categories}
    assert categories["cpd-professional-learning"] == 3 and categories["send-inclusion"] == 1
    assert categories["governance"] == 0 and len(categories) == 12
    assert page.facts["offers"] == 4 and page.facts["schools"] >= 1
    assert catalogue.home_page(None, now=NOW, today=TODAY).near is None
