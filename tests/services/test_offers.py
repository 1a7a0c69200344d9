"""The offer rules, called directly: who may do what, status changes, what publishing needs,
validation, locations and contacts, sessions and series, staleness and what a viewer sees."""
from datetime import date, datetime, timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, ExpertProfile, Offer, OfferSession
from app.services import offers
from app.services.errors import Conflict, NotAllowed, NotFound
from tests.conftest import category, term

TODAY = date.today()
NOW = datetime.now().replace(microsecond=0)


@pytest.fixture
def school_a(make_school):
    return make_school("Alder Primary", postcode="GL1 2AB", address="1 School Lane", easting=383000, northing=218000)


@pytest.fixture
def lead_a(make_user, school_a):
    return make_user("school_lead", organisation=school_a, name="Lena Lead")


@pytest.fixture
def lead_b(make_user, make_school):
    return make_user("school_lead", organisation=make_school("Birch Academy", easting=390000, northing=222000))


@pytest.fixture
def coordinator(make_user):
    return make_user("coordinator")


def expert(make_user, organisation, **kwargs):
    person = make_user("teacher", organisation=organisation, **kwargs)
    db.session.add(ExpertProfile(user_id=person.id, headline="Phonics lead"))
    db.session.commit()
    return person


def valid(**overrides) -> dict:
    data = {
        "title": "Phonics for new Year 1 teachers",
        "summary": "Three twilights on systematic synthetic phonics.",
        "description": "We share **our** approach.",
        "category_id": category("early-reading-phonics").id,
        "terms": {"phase": [term("phase", "primary").id], "format": [term("format", "twilight-session").id]},
        "booking_mode": "sessions",
        "price_credits": 3,
        "price_unit": "place",
        "capacity": 20,
        "cancellation_days": 7,
        "location_name": "",
        "address": "",
        "postcode": "",
        "contact_user_id": None,
        "review_on": None,
    }
    data.update(overrides)
    return data


def count(model=Offer) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions(offer) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditLog.action).where(AuditLog.object_type == "Offer", AuditLog.object_id == offer.id).order_by(AuditLog.id)
        )
    )


def snapshot(offer) -> tuple:
    db.session.expire_all()
    fresh = db.session.get(Offer, offer.id)
    return (fresh.title, fresh.status, fresh.assured_on, fresh.price_credits, len(fresh.sessions),
            [s.cancelled_at for s in fresh.sessions])


# --- Creating --------------------------------------------------------------------------


def test_a_lead_creates_a_draft_located_at_their_school(taxonomy, lead_a, school_a):
    offer = offers.create_offer(lead_a, valid(), today=TODAY)
    db.session.commit()
    assert offer.organisation_id == school_a.id
    assert offer.status == "draft" and offer.published_at is None
    assert offer.created_by_id == lead_a.id
    assert offer.assured_on == TODAY
    # A blank location is the provider's site, coordinates included, so distances work.
    assert (offer.location_name, offer.address, offer.postcode) == ("Alder Primary", "1 School Lane", "GL1 2AB")
    assert (offer.easting, offer.northing) == (383000, 218000)
    assert {t.slug for t in offer.terms} == {"primary", "twilight-session"}
    assert audit_actions(offer) == ["offer.create"]


def test_a_lead_always_creates_for_their_own_school(taxonomy, lead_a, school_a, make_school):
    other = make_school("Somewhere Else")
    offer = offers.create_offer(lead_a, valid(organisation_id=other.id), today=TODAY)
    assert offer.organisation_id == school_a.id


def test_publishing_at_creation_needs_a_phase_and_a_format(taxonomy, lead_a):
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.create_offer(lead_a, valid(terms={"subject": [term("subject", "maths").id]}), publish=True, today=TODAY)
    assert set(caught.value.errors) == {"phase", "format"}
    db.session.rollback()
    assert count() == 0


def test_a_draft_needs_no_phase_or_format(taxonomy, lead_a):
    offer = offers.create_offer(lead_a, valid(terms={}), today=TODAY)
    assert offer.status == "draft" and offer.terms == []


def test_publishing_at_creation(taxonomy, lead_a):
    offer = offers.create_offer(lead_a, valid(price_credits=0), publish=True, today=TODAY, now=datetime(2026, 1, 5, 9))
    assert offer.status == "published"
    assert offer.published_at == datetime(2026, 1, 5, 9)


def test_a_sessions_offer_may_be_published_before_it_has_dates(taxonomy, lead_a):
    offer = offers.create_offer(lead_a, valid(), publish=True, today=TODAY)
    assert offer.status == "published" and offer.sessions == []


@pytest.mark.parametrize("role", ["teacher", "governor"])
def test_teachers_and_governors_cannot_create(taxonomy, make_user, school_a, role):
    with pytest.raises(NotAllowed):
        offers.create_offer(make_user(role, organisation=school_a), valid(), today=TODAY)
    with pytest.raises(NotAllowed):
        offers.form_context(make_user(role, organisation=school_a))
    assert count() == 0


def test_visitors_and_deactivated_leads_cannot_create(taxonomy, make_user, school_a):
    with pytest.raises(NotAllowed):
        offers.create_offer(AnonymousUserMixin(), valid(), today=TODAY)
    with pytest.raises(NotAllowed):
        offers.create_offer(make_user("school_lead", organisation=school_a, active=False), valid(), today=TODAY)


def test_a_coordinator_chooses_the_organisation(taxonomy, coordinator, school_a):
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.create_offer(coordinator, valid(), today=TODAY)
    assert set(caught.value.errors) == {"organisation_id"}
    offer = offers.create_offer(coordinator, valid(organisation_id=school_a.id), today=TODAY)
    assert offer.organisation_id == school_a.id and offer.created_by_id == coordinator.id


def test_the_coordinators_form_lists_organisations_and_every_expert(taxonomy, coordinator, school_a, make_school, make_user):
    mine = expert(make_user, school_a, name="Ann Expert")
    theirs = expert(make_user, make_school("Birch"), name="Bob Expert")
    make_user("teacher", organisation=school_a, name="No Profile")
    context = offers.form_context(coordinator)
    assert context.chooses_organisation
    assert school_a in context.organisations
    assert {p.id for p in context.contacts} == {mine.id, theirs.id}


def test_a_leads_form_lists_only_their_own_experts(taxonomy, lead_a, school_a, make_school, make_user):
    mine = expert(make_user, school_a)
    expert(make_user, make_school("Birch"))
    context = offers.form_context(lead_a)
    assert not context.chooses_organisation and context.organisation.id == school_a.id
    assert [p.id for p in context.contacts] == [mine.id]
    assert {c.slug for c in context.categories} >= {"cpd-professional-learning"}
    assert "early-reading-phonics" in {child.slug for c in context.categories for child in c.children}


# --- Validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"summary": "x" * 301}, "summary"),
        ({"description": "x" * 10_001}, "description"),
        ({"category_id": None}, "category_id"),
        ({"category_id": 10**30}, "category_id"),
        ({"booking_mode": "weekly"}, "booking_mode"),
        ({"price_credits": -1}, "price_credits"),
        ({"price_credits": 1001}, "price_credits"),
        ({"price_credits": None}, "price_credits"),
        ({"price_credits": True}, "price_credits"),
        ({"price_unit": "hour"}, "price_unit"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 501}, "capacity"),
        ({"cancellation_days": 91}, "cancellation_days"),
        ({"postcode": "not a postcode"}, "postcode"),
        ({"location_name": "x" * 201}, "location_name"),
        ({"contact_user_id": 999999}, "contact_user_id"),
        ({"review_on": "tomorrow"}, "review_on"),
    ],
)
def test_bad_values_are_refused_with_a_message_on_their_field(taxonomy, lead_a, overrides, field):
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.create_offer(lead_a, valid(**overrides), today=TODAY)
    assert field in caught.value.errors
    assert caught.value.errors[field]
    assert count() == 0


def test_a_top_level_category_is_not_enough(taxonomy, lead_a):
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.create_offer(lead_a, valid(category_id=category("cpd-professional-learning").id), today=TODAY)
    assert "category_id" in caught.value.errors


def test_a_term_of_another_facet_is_refused(taxonomy, lead_a):
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.create_offer(lead_a, valid(terms={"phase": [term("format", "course").id]}), today=TODAY)
    assert set(caught.value.errors) == {"phase"}


def test_every_problem_is_reported_at_once(taxonomy, lead_a):
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.create_offer(lead_a, valid(title="", price_credits=-5, postcode="??"), today=TODAY)
    assert set(caught.value.errors) == {"title", "price_credits", "postcode"}


def test_the_contact_must_be_an_expert_at_the_providing_organisation(taxonomy, lead_a, school_a, make_school, make_user):
    elsewhere = expert(make_user, make_school("Birch"))
    no_profile = make_user("teacher", organisation=school_a)
    ours = expert(make_user, school_a, name="Pat Phonics")
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.create_offer(lead_a, valid(contact_user_id=elsewhere.id), today=TODAY)
    assert "Alder Primary" in caught.value.errors["contact_user_id"]
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.create_offer(lead_a, valid(contact_user_id=no_profile.id), today=TODAY)
    assert "expert profile" in caught.value.errors["contact_user_id"]
    offer = offers.create_offer(lead_a, valid(contact_user_id=ours.id), today=TODAY)
    assert offer.contact_user_id == ours.id


def test_a_coordinator_cannot_name_another_organisations_expert(taxonomy, coordinator, school_a, make_school, make_user):
    elsewhere = expert(make_user, make_school("Birch"))
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.create_offer(coordinator, valid(organisation_id=school_a.id, contact_user_id=elsewhere.id), today=TODAY)
    assert "contact_user_id" in caught.value.errors


def test_a_location_elsewhere_takes_coordinates_from_a_known_postcode(taxonomy, lead_a, make_school):
    make_school("Hall School", postcode="GL5 1AA", easting=385000, northing=205000)
    offer = offers.create_offer(lead_a, valid(location_name="Hall", postcode="gl51aa"), today=TODAY)
    assert offer.postcode == "GL5 1AA"
    assert (offer.easting, offer.northing) == (385000, 205000)


def test_an_unknown_postcode_gives_no_distance(taxonomy, lead_a):
    offer = offers.create_offer(lead_a, valid(location_name="Town hall", postcode="GL7 9ZZ"), today=TODAY)
    assert (offer.easting, offer.northing) == (None, None)


def test_a_place_name_alone_stays_at_the_providers_site(taxonomy, lead_a):
    offer = offers.create_offer(lead_a, valid(location_name="Main hall"), today=TODAY)
    assert offer.location_name == "Main hall" and offer.address is None
    assert (offer.easting, offer.northing) == (383000, 218000)


# --- Changing and status ---------------------------------------------------------------


@pytest.fixture
def offer_a(make_offer, school_a):
    return make_offer(organisation=school_a, title="Alder phonics", status="published", sessions=2,
                      assured_on=TODAY - timedelta(days=400))


def test_the_lead_edits_their_offer(offer_a, lead_a):
    offers.update_offer(lead_a, offer_a.id, valid(title="Alder phonics, revised"), today=TODAY)
    db.session.commit()
    db.session.expire_all()
    fresh = db.session.get(Offer, offer_a.id)
    assert fresh.title == "Alder phonics, revised"
    assert fresh.assured_on == TODAY  # saving counts as confirming it is current
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "offer.update"))
    assert "title" in entry.detail["changed"] and entry.object_id == offer_a.id


def test_a_published_offer_must_keep_what_publishing_needs(offer_a, lead_a):
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.update_offer(lead_a, offer_a.id, valid(terms={"phase": [term("phase", "primary").id]}), today=TODAY)
    assert set(caught.value.errors) == {"format"}


def test_saving_a_draft_and_publishing_it(make_offer, school_a, lead_a):
    draft = make_offer(organisation=school_a, status="draft")
    offer = offers.update_offer(lead_a, draft.id, valid(), publish=True, today=TODAY, now=datetime(2026, 2, 1))
    assert offer.status == "published" and offer.published_at == datetime(2026, 2, 1)


TRANSITIONS = [
    ("draft", "publish", "published"),
    ("paused", "publish", "published"),
    ("published", "pause", "paused"),
    ("draft", "archive", "archived"),
    ("published", "archive", "archived"),
    ("paused", "archive", "archived"),
]


def _do(action, actor, offer_id):
    return {
        "publish": lambda: offers.publish_offer(actor, offer_id),
        "pause": lambda: offers.pause_offer(actor, offer_id),
        "archive": lambda: offers.archive_offer(actor, offer_id),
        "assure": lambda: offers.assure_offer(actor, offer_id, today=TODAY),
        "edit": lambda: offers.update_offer(actor, offer_id, valid(), today=TODAY),
        "add_sessions": lambda: offers.add_sessions(actor, offer_id, session_data(), now=NOW),
    }[action]()


@pytest.mark.parametrize("before,action,after", TRANSITIONS)
def test_allowed_status_changes(make_offer, school_a, lead_a, before, action, after):
    offer = make_offer(organisation=school_a, status=before, published_at=None)
    _do(action, lead_a, offer.id)
    db.session.commit()
    assert db.session.get(Offer, offer.id).status == after
    assert audit_actions(offer)[-1] == f"offer.{action}"
    if after == "published":
        assert offer.published_at is not None


@pytest.mark.parametrize(
    "before,action,message",
    [
        ("draft", "pause", "Only a published offer"),
        ("paused", "pause", "Only a published offer"),
        ("published", "publish", "already published"),
        ("archived", "publish", "archived"),
        ("archived", "pause", "archived"),
        ("archived", "archive", "archived"),
        ("archived", "assure", "archived"),
        ("archived", "edit", "archived"),
        ("archived", "add_sessions", "archived"),
    ],
)
def test_refused_status_changes_say_why_and_change_nothing(make_offer, school_a, lead_a, before, action, message):
    offer = make_offer(organisation=school_a, status=before, sessions=1)
    before_state = snapshot(offer)
    with pytest.raises(Conflict) as caught:
        _do(action, lead_a, offer.id)
    assert message in caught.value.message
    db.session.rollback()
    assert snapshot(offer) == before_state


def test_publishing_a_draft_that_lacks_a_format_is_refused(make_offer, school_a, lead_a):
    offer = make_offer(organisation=school_a, status="draft", terms={"phase": ["primary"]})
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.publish_offer(lead_a, offer.id)
    assert set(caught.value.errors) == {"format"}


@pytest.mark.parametrize("action", ["publish", "pause", "archive", "assure", "edit", "add_sessions"])
def test_another_schools_lead_changes_nothing(offer_a, lead_b, action):
    if action == "publish":
        offer_a.status = "paused"
        db.session.commit()
    before_state = snapshot(offer_a)
    with pytest.raises(NotAllowed):
        _do(action, lead_b, offer_a.id)
    db.session.rollback()
    assert snapshot(offer_a) == before_state
    assert audit_actions(offer_a) == []


@pytest.mark.parametrize("role", ["teacher", "governor"])
@pytest.mark.parametrize("action", ["pause", "archive", "assure", "edit", "add_sessions"])
def test_the_providers_own_teachers_and_governors_change_nothing(offer_a, make_user, school_a, role, action):
    before_state = snapshot(offer_a)
    with pytest.raises(NotAllowed):
        _do(action, make_user(role, organisation=school_a), offer_a.id)
    db.session.rollback()
    assert snapshot(offer_a) == before_state


@pytest.mark.parametrize("action", ["pause", "archive", "assure", "edit", "add_sessions"])
def test_a_coordinator_may_change_any_offer(offer_a, coordinator, action):
    _do(action, coordinator, offer_a.id)
    db.session.commit()
    assert audit_actions(offer_a)


def test_unknown_offers_are_not_found(taxonomy, lead_a):
    for offer_id in (12345, 0, -1, 2**70):
        with pytest.raises(NotFound):
            offers.pause_offer(lead_a, offer_id)


def test_still_current_refreshes_assured_on_and_clears_the_stale_label(offer_a, lead_a):
    assert offer_a.is_stale(TODAY)
    offers.assure_offer(lead_a, offer_a.id, today=TODAY)
    db.session.commit()
    assert db.session.get(Offer, offer_a.id).assured_on == TODAY
    assert not db.session.get(Offer, offer_a.id).is_stale(TODAY)
    assert audit_actions(offer_a) == ["offer.assure"]


@pytest.mark.parametrize(
    "assured_days_ago,stale", [(None, True), (0, False), (365, False), (366, True), (800, True)]
)
def test_stale_after_twelve_months_without_confirmation(make_offer, lead_a, school_a, assured_days_ago, stale):
    assured = None if assured_days_ago is None else TODAY - timedelta(days=assured_days_ago)
    offer = make_offer(organisation=school_a, assured_on=assured)
    page = offers.offer_page(lead_a, offer.id, today=TODAY, now=NOW)
    assert page.stale is stale


# --- Sessions --------------------------------------------------------------------------


def session_data(**overrides) -> dict:
    start = datetime.combine(TODAY + timedelta(days=10), datetime.min.time()).replace(hour=15, minute=45)
    data = {
        "starts_at": start,
        "ends_at": start + timedelta(hours=1, minutes=45),
        "places": 24,
        "joining_link": "",
        "note": "",
        "repeat": "once",
        "count": 1,
    }
    data.update(overrides)
    return data


def test_one_session(offer_a, lead_a):
    created = offers.add_sessions(lead_a, offer_a.id, session_data(note="Room 4"), now=NOW)
    db.session.commit()
    assert len(created) == 1 and created[0].series_key is None
    assert created[0].note == "Room 4" and created[0].places == 24
    assert audit_actions(offer_a) == ["offer.sessions_add"]


@pytest.mark.parametrize("repeat,days", [("weekly", 7), ("fortnightly", 14)])
def test_a_series_shares_a_key_and_keeps_its_rhythm(offer_a, lead_a, repeat, days):
    created = offers.add_sessions(lead_a, offer_a.id, session_data(repeat=repeat, count=6), now=NOW)
    db.session.commit()
    assert len(created) == 6
    assert len({s.series_key for s in created}) == 1 and created[0].series_key
    starts = [s.starts_at for s in created]
    assert all(b - a == timedelta(days=days) for a, b in zip(starts, starts[1:]))
    assert all(s.ends_at - s.starts_at == timedelta(hours=1, minutes=45) for s in created)
    assert db.session.scalar(select(func.count()).where(OfferSession.series_key == created[0].series_key)) == 6


def test_once_ignores_the_series_count(offer_a, lead_a):
    created = offers.add_sessions(lead_a, offer_a.id, session_data(repeat="once", count=99), now=NOW)
    assert len(created) == 1


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"starts_at": NOW - timedelta(hours=1)}, "start_date"),
        ({"starts_at": NOW + timedelta(days=4 * 365), "ends_at": NOW + timedelta(days=4 * 365, hours=2)}, "start_date"),
        ({"ends_at": datetime.combine(TODAY + timedelta(days=10), datetime.min.time()).replace(hour=15)}, "end_time"),
        ({"ends_at": datetime.combine(TODAY + timedelta(days=40), datetime.min.time())}, "end_date"),
        ({"starts_at": None}, "start_date"),
        ({"places": 0}, "places"),
        ({"places": 501}, "places"),
        ({"places": None}, "places"),
        ({"repeat": "weekly", "count": 0}, "count"),
        ({"repeat": "weekly", "count": 21}, "count"),
        ({"repeat": "daily"}, "repeat"),
        ({"joining_link": "http://meet.example.test/x"}, "joining_link"),
        ({"joining_link": "javascript:alert(1)"}, "joining_link"),
        ({"joining_link": "https://"}, "joining_link"),
        ({"note": "x" * 201}, "note"),
    ],
)
def test_bad_sessions_are_refused_and_none_are_written(offer_a, lead_a, overrides, field):
    with pytest.raises(offers.OfferInvalid) as caught:
        offers.add_sessions(lead_a, offer_a.id, session_data(**overrides), now=NOW)
    assert field in caught.value.errors
    db.session.rollback()
    assert count(OfferSession) == 2


def test_a_bespoke_offer_has_no_sessions(make_offer, school_a, lead_a):
    offer = make_offer(organisation=school_a, booking_mode="bespoke")
    with pytest.raises(Conflict):
        offers.add_sessions(lead_a, offer.id, session_data(), now=NOW)
    with pytest.raises(Conflict):
        offers.session_form_offer(lead_a, offer.id)


def test_cancelling_a_session(offer_a, lead_a, lead_b):
    session = offer_a.sessions[0]
    with pytest.raises(NotAllowed):
        offers.cancel_session(lead_b, offer_a.id, session.id, now=NOW)
    db.session.rollback()
    offers.cancel_session(lead_a, offer_a.id, session.id, now=NOW)
    db.session.commit()
    assert db.session.get(OfferSession, session.id).cancelled_at == NOW
    with pytest.raises(Conflict):
        offers.cancel_session(lead_a, offer_a.id, session.id, now=NOW)
    page = offers.offer_page(lead_a, offer_a.id, today=TODAY, now=NOW)
    assert [row.session.id for row in page.sessions] == [offer_a.sessions[1].id]
    assert [s.id for s in page.cancelled] == [session.id]


def test_a_session_of_another_offer_is_not_found(offer_a, make_offer, school_a, lead_a):
    other = make_offer(organisation=school_a, sessions=1)
    with pytest.raises(NotFound):
        offers.cancel_session(lead_a, offer_a.id, other.sessions[0].id, now=NOW)


# --- What a viewer sees ----------------------------------------------------------------


def test_joining_links_only_for_the_provider_and_coordinators(offer_a, make_user, school_a, lead_b, coordinator):
    session = offer_a.sessions[0]
    assert offers.can_see_joining_link(make_user("teacher", organisation=school_a), session)
    assert offers.can_see_joining_link(coordinator, session)
    assert not offers.can_see_joining_link(lead_b, session)
    assert not offers.can_see_joining_link(AnonymousUserMixin(), session)


def test_places_left_is_the_sessions_places_for_now(offer_a):
    assert offers.places_left(offer_a.sessions[0]) == 20


@pytest.mark.parametrize("status", ["draft", "paused", "archived"])
def test_unpublished_offers_are_seen_only_by_the_provider_and_coordinators(make_offer, school_a, make_user, lead_b, coordinator, status):
    offer = make_offer(organisation=school_a, status=status)
    for viewer in (make_user("teacher", organisation=school_a), coordinator):
        assert offers.offer_page(viewer, offer.id, today=TODAY, now=NOW).offer.id == offer.id
    for viewer in (lead_b, AnonymousUserMixin()):
        with pytest.raises(NotFound):
            offers.offer_page(viewer, offer.id, today=TODAY, now=NOW)


def test_the_page_gives_distance_actions_and_contact_by_viewer(offer_a, lead_a, lead_b, make_user, school_a):
    mine = offers.offer_page(lead_a, offer_a.id, today=TODAY, now=NOW)
    assert mine.can_manage and {"edit", "pause", "archive", "assure", "add_sessions"} <= set(mine.actions)
    assert mine.distance_km is None  # not "0 km from your school" on its own offers
    theirs = offers.offer_page(lead_b, offer_a.id, today=TODAY, now=NOW)
    assert not theirs.can_manage and theirs.actions == [] and theirs.show_contact
    assert theirs.distance_km == pytest.approx(((390000 - 383000) ** 2 + (222000 - 218000) ** 2) ** 0.5 / 1000)
    teacher = offers.offer_page(make_user("teacher", organisation=school_a), offer_a.id, today=TODAY, now=NOW)
    assert teacher.actions == []
    visitor = offers.offer_page(AnonymousUserMixin(), offer_a.id, today=TODAY, now=NOW)
    assert not visitor.show_contact and visitor.distance_km is None
