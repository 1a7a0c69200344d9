"""Offers over HTTP: the offer page for each kind of viewer, the provider's forms (with and
without htmx, field by field), every state-changing endpoint for every role, user text
that tries to run script, and generated form input that must never give a 500."""
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import ExpertProfile, Offer, OfferSession
from tests.conftest import category, term
from tests.support.html import XSS_CORPUS, dangerous_markup, user_content_blocks

TODAY = date.today()


def text_of(response) -> str:
    return response.get_data(as_text=True)


def offer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Offer))


def row(offer_id) -> tuple:
    """What a refused request must leave alone."""
    db.session.expire_all()
    offer = db.session.get(Offer, offer_id)
    return (offer.title, offer.status, offer.assured_on, offer.price_credits, offer.updated_at,
            [(s.starts_at, s.cancelled_at) for s in offer.sessions])


class Elements(HTMLParser):
    """Collects the text of elements with a given id or tag."""

    def __init__(self, tag=None, id_=None, class_=None):
        super().__init__(convert_charrefs=True)
        self.tag, self.id_, self.class_ = tag, id_, class_
        self.depth = 0
        self.texts: list[str] = []
        self.children: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
            self.children.append(tag)
        elif (
            (self.tag and tag == self.tag)
            or (self.id_ and dict(attrs).get("id") == self.id_)
            or (self.class_ and self.class_ in (dict(attrs).get("class") or "").split())
        ):
            self.depth = 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.texts[-1] += data


def element_text(html: str, tag=None, id_=None, class_=None) -> list[str]:
    parser = Elements(tag, id_, class_)
    parser.feed(html)
    return [" ".join(t.split()) for t in parser.texts]


@pytest.fixture
def school_a(make_school):
    return make_school("Alder Primary", urn=123456, postcode="GL1 2AB", address="1 School Lane",
                       easting=383000, northing=218000)


@pytest.fixture
def school_b(make_school):
    return make_school("Birch Academy", urn=123457, easting=386000, northing=222000)


@pytest.fixture
def lead_a(make_user, school_a):
    return make_user("school_lead", organisation=school_a, name="Lena Lead")


@pytest.fixture
def offer_a(make_offer, school_a):
    return make_offer(organisation=school_a, title="Alder phonics", status="published", sessions=2, price_credits=3)


def form_data(**overrides) -> dict:
    data = {
        "title": "Phonics for new Year 1 teachers",
        "summary": "Three twilights on phonics.",
        "description": "We share **our** approach.",
        "category_id": str(category("early-reading-phonics").id),
        "phase": [str(term("phase", "primary").id)],
        "format": [str(term("format", "twilight-session").id)],
        "booking_mode": "sessions",
        "price_credits": "3",
        "price_unit": "place",
        "capacity": "20",
        "cancellation_days": "7",
        "location_name": "",
        "address": "",
        "postcode": "",
        "contact_user_id": "",
        "review_on": "",
        "save": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def session_form(**overrides) -> dict:
    data = {
        "start_date": (TODAY + timedelta(days=14)).isoformat(),
        "start_time": "15:45",
        "end_time": "17:30",
        "end_date": "",
        "places": "24",
        "joining_link": "",
        "note": "",
        "repeat": "once",
        "count": "1",
    }
    data.update(overrides)
    return data


# --- Creating --------------------------------------------------------------------------


def test_the_new_offer_form_for_a_lead(client, login, lead_a, taxonomy):
    login(lead_a)
    response = client.get("/offers/new")
    assert response.status_code == 200
    html = text_of(response)
    assert "<h1>New offer</h1>" in html
    assert '<optgroup label="CPD and professional learning">' in html
    assert 'name="organisation_id"' not in html  # a lead's offers are always their own school's
    assert element_text(html, tag="legend")[:2] == ["Phases", "Formats"]
    # Each field checks itself with htmx when it changes; no inline script or hx-on.
    assert 'id="offer-title-field" class="field offer-field" hx-post="/offers/validate?field=title" hx-trigger="change"' in html
    assert "hx-on" not in html and "hx-trigger=\"change[" not in html
    assert "Save as draft" in html and ">Publish<" in html


def test_a_coordinator_chooses_the_provider(client, login_as, school_a, taxonomy):
    login_as("coordinator")
    html = text_of(client.get("/offers/new"))
    assert 'name="organisation_id"' in html and "Alder Primary" in html
    response = client.post("/offers/new", data=form_data())
    assert response.status_code == 200
    assert "Choose the organisation that provides this offer" in text_of(response)
    assert offer_count() == 0
    response = client.post("/offers/new", data=form_data(organisation_id=str(school_a.id)))
    assert response.status_code == 303
    assert db.session.scalar(select(Offer)).organisation_id == school_a.id


@pytest.mark.parametrize("role", ["teacher", "governor"])
def test_teachers_and_governors_cannot_create(client, login_as, school_a, taxonomy, role):
    login_as(role, organisation=school_a)
    assert client.get("/offers/new").status_code == 403
    assert client.post("/offers/new", data=form_data()).status_code == 403
    assert client.post("/offers/validate?field=title", data=form_data()).status_code == 403
    assert offer_count() == 0


def test_visitors_are_sent_to_sign_in(client, taxonomy):
    for response in (client.get("/offers/new"), client.post("/offers/new", data=form_data())):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")
    assert offer_count() == 0


def test_saving_a_draft_then_adding_dates(client, login, lead_a, taxonomy):
    login(lead_a)
    response = client.post("/offers/new", data=form_data())
    assert response.status_code == 303
    offer = db.session.scalar(select(Offer))
    assert offer.status == "draft" and offer.organisation_id == lead_a.organisation_id
    assert offer.location_name == "Alder Primary" and offer.easting == 383000
    assert response.headers["Location"] == f"/offers/{offer.id}/sessions/new"
    page = client.get(response.headers["Location"])
    assert "is saved as a draft. Now add its dates." in text_of(page)


def test_publishing_at_once(client, login, lead_a, taxonomy):
    login(lead_a)
    data = form_data(booking_mode="bespoke", price_unit="day")
    data.pop("save")
    data["publish"] = "y"
    response = client.post("/offers/new", data=data)
    offer = db.session.scalar(select(Offer))
    assert response.status_code == 303 and response.headers["Location"] == f"/offers/{offer.id}"
    assert offer.status == "published" and offer.published_at is not None


def test_an_invalid_form_shows_every_problem_and_writes_nothing(client, login, lead_a, taxonomy):
    login(lead_a)
    response = client.post(
        "/offers/new",
        data=form_data(title="  ", price_credits="lots", capacity="0", postcode="nowhere", phase=["999999"], review_on="31/02/2027"),
    )
    assert response.status_code == 200
    html = text_of(response)
    assert 'class="error-summary"' in html
    summary = element_text(html, class_="error-summary")[0]
    for message in ("Enter a title", "Enter a price from 0 to 1,000 credits", "Places must be a whole number from 1 to 500",
                    "Enter a real UK postcode", "Choose phase options from the list", "Enter a review date"):
        assert message in summary
    # Each message also sits at its field, and the summary links to it.
    assert "Enter a title" in element_text(html, id_="offer-title-field")[0]
    assert 'href="#offer-title"' in html and 'id="offer-title"' in html
    assert offer_count() == 0


def test_publishing_without_a_phase_or_format_says_so_at_those_fields(client, login, lead_a, taxonomy):
    login(lead_a)
    data = form_data(phase=[], format=[], publish="y")
    data.pop("save")
    response = client.post("/offers/new", data=data)
    assert response.status_code == 200
    html = text_of(response)
    assert "Choose at least one phase" in element_text(html, id_="offer-phase-field")[0]
    assert "Choose at least one format" in element_text(html, id_="offer-format-field")[0]
    assert offer_count() == 0


def test_the_htmx_form_redirects_with_hx_redirect(client, login, lead_a, taxonomy):
    login(lead_a)
    response = client.post("/offers/new", data=form_data(), headers={"HX-Request": "true", "HX-Target": "offer-form"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].endswith("/sessions/new")
    bad = client.post("/offers/new", data=form_data(title=""), headers={"HX-Request": "true", "HX-Target": "offer-form"})
    html = text_of(bad)
    assert bad.status_code == 200 and html.lstrip().startswith('<form id="offer-form"')
    assert "Enter a title" in html and "<h1>" not in html


# --- Inline validation -----------------------------------------------------------------


HX = {"HX-Request": "true"}


def test_inline_validation_answers_with_one_fields_errors(client, login, lead_a, taxonomy):
    login(lead_a)
    response = client.post("/offers/validate?field=price_credits", data=form_data(price_credits="5000", title=""), headers=HX)
    assert response.status_code == 200
    html = text_of(response).strip()
    assert html.startswith('<p class="error-message">')
    assert "Enter a price from 0 to 1,000 credits" in html
    assert "Enter a title" not in html  # only the field asked about
    assert "<input" not in html  # the input the person is using is never replaced
    ok = client.post("/offers/validate?field=price_credits", data=form_data(price_credits="0"), headers=HX)
    assert ok.status_code == 200 and text_of(ok).strip() == ""
    assert offer_count() == 0


def test_each_field_has_a_live_message_slot_that_its_wrapper_fills(client, login, lead_a, taxonomy):
    login(lead_a)
    html = text_of(client.get("/offers/new"))
    assert (
        '<div id="offer-title-field" class="field offer-field" hx-post="/offers/validate?field=title" '
        'hx-trigger="change" hx-target="find .field-messages" hx-swap="innerHTML" hx-sync="this:replace">'
    ) in html
    assert '<div class="field-messages" id="offer-title-error" aria-live="polite">' in html
    assert 'aria-describedby="offer-title-hint offer-title-error"' in html


def test_inline_validation_of_a_checkbox_group(client, login, lead_a, taxonomy):
    login(lead_a)
    html = text_of(client.post("/offers/validate?field=phase", data=form_data(phase=["abc"]), headers=HX))
    assert "Choose phase options from the list" in html


def test_inline_validation_refuses_unknown_fields_and_other_schools(client, login, lead_a, make_offer, school_b, taxonomy):
    login(lead_a)
    assert client.post("/offers/validate?field=csrf_token", data=form_data(), headers=HX).status_code == 400
    assert client.post("/offers/validate?field=nonsense", data=form_data(), headers=HX).status_code == 400
    theirs = make_offer(organisation=school_b)
    assert client.post(f"/offers/{theirs.id}/validate?field=title", data=form_data(), headers=HX).status_code == 403


def test_inline_validation_on_the_edit_form(client, login, lead_a, offer_a):
    login(lead_a)
    html = text_of(client.get(f"/offers/{offer_a.id}/edit"))
    assert f'hx-post="/offers/{offer_a.id}/validate?field=title"' in html
    answer = client.post(f"/offers/{offer_a.id}/validate?field=postcode", data=form_data(postcode="nope"), headers=HX)
    assert "Enter a real UK postcode" in text_of(answer)


# --- Editing and status changes, for every role -----------------------------------------


def test_the_edit_form_is_filled_in(client, login, lead_a, offer_a):
    login(lead_a)
    html = text_of(client.get(f"/offers/{offer_a.id}/edit"))
    assert 'value="Alder phonics"' in html
    assert f'value="{term("phase", "primary").id}" checked' in html or f'checked id="offer-phase-1"' in html
    assert "Save changes" in html and "Save and publish" not in html


def test_the_lead_edits_their_offer(client, login, lead_a, offer_a):
    login(lead_a)
    response = client.post(f"/offers/{offer_a.id}/edit", data=form_data(title="Alder phonics, revised", price_credits="0"))
    assert response.status_code == 303 and response.headers["Location"] == f"/offers/{offer_a.id}"
    db.session.expire_all()
    offer = db.session.get(Offer, offer_a.id)
    assert offer.title == "Alder phonics, revised" and offer.price_credits == 0 and offer.status == "published"


def _post_edit(client, offer):
    return client.post(f"/offers/{offer.id}/edit", data=form_data(title="Taken over"))


def _post_sessions(client, offer):
    return client.post(f"/offers/{offer.id}/sessions/new", data=session_form())


def _post_cancel(client, offer):
    return client.post(f"/offers/{offer.id}/sessions/{offer.sessions[0].id}/cancel")


ACTIONS = {
    "edit": _post_edit,
    "publish": lambda client, offer: client.post(f"/offers/{offer.id}/publish"),
    "pause": lambda client, offer: client.post(f"/offers/{offer.id}/pause"),
    "archive": lambda client, offer: client.post(f"/offers/{offer.id}/archive"),
    "assure": lambda client, offer: client.post(f"/offers/{offer.id}/assure"),
    "add_sessions": _post_sessions,
    "cancel_session": _post_cancel,
}


@pytest.fixture
def target(make_offer, school_a):
    """A's offer in a state from which the action is allowed."""

    def factory(action):
        status = "paused" if action == "publish" else "published"
        return make_offer(organisation=school_a, title="Alder phonics", status=status, sessions=2,
                          assured_on=TODAY - timedelta(days=30))

    return factory


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_another_schools_lead_is_refused_and_nothing_changes(client, login_as, school_b, target, action):
    offer = target(action)
    before = row(offer.id)
    login_as("school_lead", organisation=school_b)
    assert ACTIONS[action](client, offer).status_code == 403
    assert row(offer.id) == before


@pytest.mark.parametrize("role", ["teacher", "governor"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_the_providers_teachers_and_governors_are_refused(client, login_as, school_a, target, role, action):
    offer = target(action)
    before = row(offer.id)
    login_as(role, organisation=school_a)
    assert ACTIONS[action](client, offer).status_code == 403
    assert row(offer.id) == before


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_visitors_are_sent_to_sign_in_and_nothing_changes(client, target, action):
    offer = target(action)
    before = row(offer.id)
    response = ACTIONS[action](client, offer)
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert row(offer.id) == before


EXPECTED = {
    "edit": lambda o: o.title == "Taken over",
    "publish": lambda o: o.status == "published",
    "pause": lambda o: o.status == "paused",
    "archive": lambda o: o.status == "archived",
    "assure": lambda o: o.assured_on == TODAY,
    "add_sessions": lambda o: len(o.sessions) == 3,
    "cancel_session": lambda o: o.sessions[0].cancelled_at is not None,
}


@pytest.mark.parametrize("who", ["lead", "coordinator", "admin"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_the_lead_and_coordinators_may(client, login_as, lead_a, login, school_a, target, who, action):
    offer = target(action)
    if who == "lead":
        login(lead_a)
    else:
        login_as(who)
    response = ACTIONS[action](client, offer)
    assert response.status_code == 303, text_of(response)
    assert response.headers["Location"].startswith(f"/offers/{offer.id}")
    db.session.expire_all()
    assert EXPECTED[action](db.session.get(Offer, offer.id))


def test_a_refused_status_change_is_explained(client, login, lead_a, make_offer, school_a):
    draft = make_offer(organisation=school_a, status="draft")
    login(lead_a)
    response = client.post(f"/offers/{draft.id}/pause", follow_redirects=True)
    assert "Only a published offer can be paused." in text_of(response)
    assert db.session.get(Offer, draft.id).status == "draft"


def test_archived_is_final(client, login, lead_a, make_offer, school_a):
    archived = make_offer(organisation=school_a, status="archived")
    login(lead_a)
    response = client.post(f"/offers/{archived.id}/publish", follow_redirects=True)
    assert "Archived offers are final" in text_of(response)
    assert client.get(f"/offers/{archived.id}/edit").status_code == 409
    assert client.post(f"/offers/{archived.id}/edit", data=form_data()).status_code == 409
    db.session.expire_all()
    assert db.session.get(Offer, archived.id).status == "archived"
    page = text_of(client.get(f"/offers/{archived.id}"))
    assert "Archived." in page and "Edit offer" not in page


def test_publishing_a_draft_without_a_format_from_its_page(client, login, lead_a, make_offer, school_a):
    draft = make_offer(organisation=school_a, status="draft", terms={"phase": ["primary"]})
    login(lead_a)
    response = client.post(f"/offers/{draft.id}/publish", follow_redirects=True)
    assert "To publish this offer, first: choose at least one format." in text_of(response)
    assert db.session.get(Offer, draft.id).status == "draft"


def test_unknown_offers_and_sessions_are_404(client, login, lead_a, offer_a):
    login(lead_a)
    assert client.get("/offers/999999").status_code == 404
    assert client.get("/offers/99999999999999999999999").status_code == 404
    assert client.post("/offers/999999/pause").status_code == 404
    assert client.post(f"/offers/{offer_a.id}/sessions/999999/cancel").status_code == 404


# --- Sessions --------------------------------------------------------------------------


def test_adding_a_series_of_six_twilights(client, login, lead_a, offer_a):
    login(lead_a)
    page = client.get(f"/offers/{offer_a.id}/sessions/new")
    assert page.status_code == 200 and 'value="20"' in text_of(page)  # places default to the offer's capacity
    response = client.post(
        f"/offers/{offer_a.id}/sessions/new",
        data=session_form(repeat="weekly", count="6", note="Bring your tracker", joining_link="https://meet.example.test/abc"),
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/offers/{offer_a.id}#offer-sessions"
    series = db.session.scalars(select(OfferSession).where(OfferSession.series_key.is_not(None))).all()
    assert len(series) == 6 and len({s.series_key for s in series}) == 1
    html = text_of(client.get(f"/offers/{offer_a.id}"))
    assert html.count("Bring your tracker") == 6
    assert "Added 6 sessions" in html


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"start_date": (TODAY - timedelta(days=1)).isoformat()}, "must start in the future"),
        ({"end_time": "15:00"}, "must end after it starts"),
        ({"places": "0"}, "Places must be a whole number from 1 to 500"),
        ({"places": "9" * 5000}, "Places must be a whole number from 1 to 500"),
        ({"repeat": "weekly", "count": "21"}, "A series has from 1 to 20 sessions"),
        ({"joining_link": "http://meet.example.test"}, "starts with https://"),
        ({"start_date": "2026-02-30"}, "Enter a real date"),
        ({"start_time": ""}, "Enter the time the session starts"),
    ],
)
def test_bad_dates_are_explained_and_nothing_is_added(client, login, lead_a, offer_a, overrides, message):
    login(lead_a)
    response = client.post(f"/offers/{offer_a.id}/sessions/new", data=session_form(**overrides))
    assert response.status_code == 200
    assert message in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(OfferSession)) == 2


# --- The offer page --------------------------------------------------------------------


def test_the_offer_page_for_a_visitor(client, make_offer, school_a, taxonomy):
    offer = make_offer(organisation=school_a, title="Maths mastery walk", category_slug="maths-mastery", sessions=2,
                       price_credits=3, terms={"phase": ["primary"], "format": ["course"]})
    response = client.get(f"/offers/{offer.id}")
    assert response.status_code == 200
    html = text_of(response)
    assert element_text(html, tag="h1") == ["Maths mastery walk"]
    assert '<a href="/directory/123456">Alder Primary</a>' in html
    assert "CPD and professional learning: Maths mastery" in html
    assert "3 credits per place" in html
    assert {"Primary", "Course"} <= {t.split(": ")[-1] for t in element_text(html, tag="li")}
    assert "Sign in</a> to see who to contact" in html
    assert "km from your school" not in html
    assert "Edit offer" not in html and "/publish" not in html and "Still current" not in html
    table = element_text(html, id_="offer-sessions")[0]
    assert "Places left" in table and "20" in table


def test_free_offers_and_prices_when_credits_are_off(client, app, make_offer, school_a):
    offer = make_offer(organisation=school_a, price_credits=0)
    assert "Free" in element_text(text_of(client.get(f"/offers/{offer.id}")), tag="dd")
    paid = make_offer(organisation=school_a, price_credits=1, price_unit="day", booking_mode="bespoke")
    assert "1 credit per day" in text_of(client.get(f"/offers/{paid.id}"))
    app.config["CREDITS_ENABLED"] = False
    html = text_of(client.get(f"/offers/{paid.id}"))
    assert "1 credit per day" not in html and "Price" not in element_text(html, tag="dt")


def test_contact_distance_and_no_dates_for_a_signed_in_member(client, login_as, make_user, make_offer, school_a, school_b):
    contact = make_user("teacher", organisation=school_a, name="Pat Phonics", email="pat@alder.test", phone="01632 960001")
    db.session.add(ExpertProfile(user_id=contact.id))
    db.session.commit()
    offer = make_offer(organisation=school_a, contact_user_id=contact.id, sessions=0)
    login_as("teacher", organisation=school_b)
    html = text_of(client.get(f"/offers/{offer.id}"))
    assert "Pat Phonics" in html and "mailto:pat@alder.test" in html and "01632 960001" in html
    assert "5.0 km from your school" in html  # 3 km east, 4 km north
    assert "No dates yet." in html


def test_a_visitor_does_not_see_the_contact(client, make_user, make_offer, school_a):
    contact = make_user("teacher", organisation=school_a, name="Pat Phonics", email="pat@alder.test")
    db.session.add(ExpertProfile(user_id=contact.id))
    db.session.commit()
    offer = make_offer(organisation=school_a, contact_user_id=contact.id)
    html = text_of(client.get(f"/offers/{offer.id}"))
    assert "pat@alder.test" not in html and "Pat Phonics" not in html


def test_stale_offers_are_labelled(client, make_offer, school_a):
    stale = make_offer(organisation=school_a, assured_on=TODAY - timedelta(days=400))
    fresh = make_offer(organisation=school_a, assured_on=TODAY - timedelta(days=10))
    assert "Possibly out of date" in text_of(client.get(f"/offers/{stale.id}"))
    assert "Possibly out of date" not in text_of(client.get(f"/offers/{fresh.id}"))


def test_the_provider_sees_their_actions(client, login, lead_a, offer_a):
    login(lead_a)
    html = text_of(client.get(f"/offers/{offer_a.id}"))
    for label in ("Edit offer", "Add dates", "Pause", "Still current", "Archive"):
        assert label in html
    assert f'action="/offers/{offer_a.id}/publish"' not in html
    assert html.count("/cancel") == 2  # a cancel button per session


@pytest.mark.parametrize("status", ["draft", "paused", "archived"])
def test_unpublished_offers_are_404_to_others(client, login_as, make_offer, school_a, school_b, status):
    offer = make_offer(organisation=school_a, status=status)
    assert client.get(f"/offers/{offer.id}").status_code == 404
    login_as("school_lead", organisation=school_b)
    assert client.get(f"/offers/{offer.id}").status_code == 404
    login_as("teacher", organisation=school_a)
    assert client.get(f"/offers/{offer.id}").status_code == 200
    login_as("coordinator")
    assert client.get(f"/offers/{offer.id}").status_code == 200


def test_joining_links_are_hidden_from_other_schools_and_visitors(client, login_as, make_offer, school_a, school_b):
    offer = make_offer(organisation=school_a, sessions=1)
    offer.sessions[0].joining_link = "https://meet.example.test/secret-room"
    db.session.commit()
    assert "secret-room" not in text_of(client.get(f"/offers/{offer.id}"))
    login_as("school_lead", organisation=school_b)
    assert "secret-room" not in text_of(client.get(f"/offers/{offer.id}"))
    login_as("teacher", organisation=school_a)
    assert "secret-room" in text_of(client.get(f"/offers/{offer.id}"))
    login_as("coordinator")
    assert "secret-room" in text_of(client.get(f"/offers/{offer.id}"))


# --- User text that tries to run script ------------------------------------------------


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_user_text_never_runs_script(client, make_offer, school_a, payload):
    plain = make_offer(organisation=school_a, title="Plain", summary="Plain", description="Plain", sessions=1)
    plain.sessions[0].note = "Plain"
    hostile = make_offer(organisation=school_a, title=payload, summary=payload, description=payload, sessions=1)
    hostile.sessions[0].note = payload[:200]
    db.session.commit()
    baseline = dangerous_markup(text_of(client.get(f"/offers/{plain.id}")))
    html = text_of(client.get(f"/offers/{hostile.id}"))
    # The payload adds nothing that runs or fires requests, anywhere on the page...
    assert dangerous_markup(html) == baseline
    # ...its description is sanitised inside an hx-disable container...
    blocks = user_content_blocks(html)
    assert len(blocks) == 1 and dangerous_markup(blocks[0]) == []
    # ...and the title is shown as the text that was typed.
    assert element_text(html, tag="h1") == [" ".join(payload.split())]


# --- Generated input never gives a 500 or half an offer ---------------------------------

_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", " ", "0", "1000", "1001", "-1", "9" * 5000, "1e3", "٣", "0x10", "nan"]),
)
_texts = st.one_of(st.text(max_size=300), st.sampled_from(["", "x" * 10_001, "\x00", "<script>alert(1)</script>"]))
_ids = st.one_of(_numbers, st.sampled_from(["1", "2", "3", "12", "40"]))


def _offer_input():
    fields = {
        "title": _texts,
        "summary": _texts,
        "description": _texts,
        "category_id": _ids,
        "phase": st.lists(_ids, max_size=3),
        "format": st.lists(_ids, max_size=3),
        "subject": st.lists(_ids, max_size=3),
        "booking_mode": st.sampled_from(["sessions", "bespoke", "", "other"]) | st.text(max_size=10),
        "price_credits": _numbers,
        "price_unit": st.sampled_from(["place", "day", "", "hour"]),
        "capacity": _numbers,
        "cancellation_days": _numbers,
        "location_name": _texts,
        "address": _texts,
        "postcode": st.sampled_from(["", "GL1 2AB", "gl12ab", "nowhere"]) | st.text(max_size=12),
        "contact_user_id": _ids,
        "review_on": st.sampled_from(["", "2027-07-31", "0001-01-01", "9999-12-31", "31/12/2027"]) | st.text(max_size=12),
        "organisation_id": _ids,
        "publish": st.sampled_from(["y", ""]),
    }
    return st.fixed_dictionaries({}, optional=fields)


ALLOWED = {200, 302, 303, 400, 403, 404, 422}
HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@HYPOTHESIS
@given(data=_offer_input(), start_valid=st.booleans())
def test_generated_input_to_the_new_offer_form(client, login, lead_a, taxonomy, data, start_valid):
    login(lead_a)
    before = offer_count()
    # Half the time, generated values replace some fields of a valid form, so saves happen too.
    response = client.post("/offers/new", data={**form_data(), **data} if start_valid else data)
    assert response.status_code in ALLOWED
    event(f"status {response.status_code}")
    assert response.status_code != 500
    if response.status_code in (302, 303):
        assert offer_count() == before + 1
        offer = db.session.scalar(select(Offer).order_by(Offer.id.desc()))
        assert offer.title.strip() and offer.category_id and offer.organisation_id == lead_a.organisation_id
    else:
        assert offer_count() == before


@HYPOTHESIS
@given(data=_offer_input(), start_valid=st.booleans())
def test_generated_input_to_the_edit_form(client, login, lead_a, offer_a, data, start_valid):
    login(lead_a)
    before = row(offer_a.id)
    response = client.post(f"/offers/{offer_a.id}/edit", data={**form_data(), **data} if start_valid else data)
    assert response.status_code in ALLOWED
    event(f"status {response.status_code}")
    assert offer_count() == 1
    if response.status_code not in (302, 303):
        assert row(offer_a.id) == before


@HYPOTHESIS
@given(data=_offer_input(), field=st.sampled_from(["title", "price_credits", "phase", "review_on", "category_id", "x"]))
def test_generated_input_to_inline_validation(client, login, lead_a, taxonomy, data, field):
    login(lead_a)
    response = client.post(f"/offers/validate?field={field}", data=data, headers=HX)
    assert response.status_code in (200, 400)
    assert offer_count() == 0


@HYPOTHESIS
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "start_date": st.sampled_from(["", (TODAY + timedelta(days=3)).isoformat(), "9999-12-31", "0001-01-01"]) | st.text(max_size=12),
            "start_time": st.sampled_from(["", "09:00", "23:59", "24:00", "9am"]) | st.text(max_size=8),
            "end_time": st.sampled_from(["", "10:00", "00:00", "25:61"]) | st.text(max_size=8),
            "end_date": st.sampled_from(["", (TODAY + timedelta(days=4)).isoformat(), "9999-12-31"]) | st.text(max_size=12),
            "places": _numbers,
            "joining_link": st.sampled_from(["", "https://meet.example.test", "javascript:alert(1)"]) | st.text(max_size=40),
            "note": _texts,
            "repeat": st.sampled_from(["once", "weekly", "fortnightly", ""]) | st.text(max_size=8),
            "count": _numbers,
        },
    ),
    start_valid=st.booleans(),
)
def test_generated_input_to_the_sessions_form(client, login, lead_a, offer_a, data, start_valid):
    login(lead_a)
    before = db.session.scalar(select(func.count()).select_from(OfferSession))
    response = client.post(f"/offers/{offer_a.id}/sessions/new", data={**session_form(), **data} if start_valid else data)
    assert response.status_code in ALLOWED
    event(f"status {response.status_code}")
    after = db.session.scalar(select(func.count()).select_from(OfferSession))
    if response.status_code not in (302, 303):
        assert after == before
    else:
        assert 1 <= after - before <= 20


def test_a_joining_link_that_is_not_https_is_never_a_link(client, login_as, make_offer, school_a):
    offer = make_offer(organisation=school_a, sessions=1)
    offer.sessions[0].joining_link = "javascript:alert(1)"
    db.session.commit()
    login_as("teacher", organisation=school_a)
    html = text_of(client.get(f"/offers/{offer.id}"))
    assert "javascript:" not in html and "Joining link" not in html


def test_leads_find_the_new_offer_form_from_the_catalogue_and_their_school_page(client, login, make_school, make_user, make_offer):
    school = make_school()
    make_offer(organisation=school, title="Our phonics twilight", status="draft")
    login(make_user(role="school_lead", organisation=school))
    assert 'href="/offers/new"' in client.get("/offers").get_data(as_text=True)
    page = client.get(f"/directory/{school.directory_key}").get_data(as_text=True)
    assert 'href="/offers/new"' in page
    assert "Our phonics twilight" in page  # its own draft, listed for its own people


def test_visitors_and_teachers_see_no_new_offer_link_nor_drafts(client, login, make_school, make_user, make_offer):
    school = make_school()
    make_offer(organisation=school, title="Secret draft", status="draft")
    make_offer(organisation=school, title="Public course", status="published")
    page = client.get(f"/directory/{school.directory_key}").get_data(as_text=True)
    assert "Public course" in page and "Secret draft" not in page
    assert 'href="/offers/new"' not in client.get("/offers").get_data(as_text=True)
    login(make_user(role="teacher", organisation=make_school()))
    assert 'href="/offers/new"' not in client.get("/offers").get_data(as_text=True)
    assert "Secret draft" not in client.get(f"/directory/{school.directory_key}").get_data(as_text=True)
