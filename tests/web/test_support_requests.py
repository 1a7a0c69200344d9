"""Support requests as people use them: the list and its filters, drafting and publishing,
editing, closing, responding and brokering, for every role; coordinator-only requests and
drafts kept from everyone else; emails in the outbox; user text rendered harmlessly; and
no form input that gives a 500 or writes half a request."""
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import AuditLog, Brokerage, RequestResponse, SupportRequest
from tests.conftest import category, term
from tests.support.accounts import outbox
from tests.support.html import XSS_CORPUS, dangerous_markup, user_content_blocks

HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/requests"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def text_of(response) -> str:
    return response.get_data(as_text=True)


def card_titles(html: str) -> list[str]:
    """The request titles in the result cards (h3 links), in order."""

    class Cards(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth = 0
            self.titles: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "h3":
                self.depth += 1
                self.titles.append("")

        def handle_endtag(self, tag):
            if tag == "h3":
                self.depth -= 1

        def handle_data(self, data):
            if self.depth:
                self.titles[-1] += data

    parser = Cards()
    parser.feed(html.split('id="request-results"', 1)[-1])
    return [t.strip() for t in parser.titles]


@pytest.fixture
def world(make_school, make_user, taxonomy):
    class W:
        pass

    w = W()
    w.a = make_school("Alder Primary")
    w.b = make_school("Birch Academy", phase="secondary")
    w.c = make_school("Cedar Primary")
    w.a_teacher = make_user("teacher", organisation=w.a, name="Ann Teacher")
    w.a_governor = make_user("governor", organisation=w.a)
    w.a_lead = make_user("school_lead", organisation=w.a, name="Ada Lead", email="ada@alder.test")
    w.b_teacher = make_user("teacher", organisation=w.b)
    w.b_governor = make_user("governor", organisation=w.b)
    w.b_lead = make_user("school_lead", organisation=w.b, name="Bea Lead", email="bea@birch.test")
    w.c_lead = make_user("school_lead", organisation=w.c, name="Cal Lead", email="cal@cedar.test")
    w.coordinator = make_user("coordinator", name="Cora Coordinator", email="cora@partnership.test")
    w.admin = make_user("admin")
    return w


def form_data(**overrides) -> dict:
    data = {
        "title": "Phonics coaching for two new Year 1 teachers",
        "description": "We changed scheme in September.",
        "category_id": str(category("early-reading-phonics").id),
        "phases": [str(term("phase", "primary").id)],
        "subjects": [],
        "urgency": "medium",
        "visibility": "partnership",
        "action": "draft",
    }
    data.update(overrides)
    return data


# --- Visitors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/requests"),
        ("GET", "/requests/new"),
        ("POST", "/requests/new"),
        ("GET", "/requests/{id}"),
        ("GET", "/requests/{id}/edit"),
        ("POST", "/requests/{id}/edit"),
        ("POST", "/requests/{id}/publish"),
        ("POST", "/requests/{id}/close"),
        ("POST", "/requests/{id}/respond"),
        ("POST", "/requests/{id}/broker"),
    ],
)
def test_visitors_are_sent_to_sign_in_and_nothing_changes(client, world, make_request, method, path):
    req = make_request(organisation=world.a)
    url = path.format(id=req.id)
    response = client.open(url, method=method, data={**form_data(), "outcome": "not_met", "message": "hi", "provider_id": str(world.b.id)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    htmx = client.open(url, method=method, headers=HX)
    assert htmx.headers["HX-Redirect"].startswith("/auth/login")
    assert count(SupportRequest) == 1 and count(RequestResponse) == 0 and count(Brokerage) == 0
    db.session.refresh(req)
    assert req.status == "published"


# --- Who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["b_teacher", "b_governor", "b_lead"])
def test_a_coordinator_only_request_never_reaches_another_school(client, world, make_request, login, who):
    shared = make_request(organisation=world.a, title="Shared need")
    private = make_request(organisation=world.a, title="Quiet need", visibility="coordinators")
    shared.terms = private.terms = [term("phase", "primary")]
    db.session.commit()
    login(getattr(world, who))
    for url in ("/requests", "/requests?status=open", "/requests?category=early-reading-phonics", "/requests?phase=primary"):
        html = text_of(client.get(url))
        assert "Quiet need" not in html
        assert "<strong>1</strong> request" in html, url
    assert card_titles(text_of(client.get("/requests"))) == ["Shared need"]
    assert "Quiet need" not in text_of(client.get("/requests", headers=HX))
    for method, path in (("GET", ""), ("GET", "/edit"), ("POST", "/respond"), ("POST", "/close"), ("POST", "/publish")):
        response = client.open(f"/requests/{private.id}{path}", method=method, data={"message": "hi", "outcome": "not_met"})
        assert response.status_code == 404, path
        assert "Quiet need" not in text_of(response)
    assert count(RequestResponse) == 0
    db.session.refresh(private)
    assert private.status == "published"


@pytest.mark.parametrize("who", ["coordinator", "admin", "a_teacher", "a_governor", "a_lead"])
def test_coordinators_and_the_requesting_school_see_a_coordinator_only_request(client, world, make_request, login, who):
    private = make_request(organisation=world.a, title="Quiet need", visibility="coordinators")
    login(getattr(world, who))
    assert card_titles(text_of(client.get("/requests"))) == ["Quiet need"]
    page = client.get(f"/requests/{private.id}")
    assert page.status_code == 200
    assert "Coordinators only" in text_of(page)


@pytest.mark.parametrize("who,status", [("a_teacher", 200), ("a_lead", 200), ("b_lead", 404), ("b_teacher", 404), ("coordinator", 404), ("admin", 404)])
def test_a_draft_is_visible_only_to_its_school(client, world, make_request, login, who, status):
    draft = make_request(organisation=world.a, title="Draft need", status="draft")
    login(getattr(world, who))
    assert client.get(f"/requests/{draft.id}").status_code == status
    assert ("Draft need" in card_titles(text_of(client.get("/requests")))) is (status == 200)


def test_the_list_filters_with_and_without_htmx(client, world, make_request, login):
    make_request(organisation=world.a, title="Phonics", category_slug="early-reading-phonics")
    maths = make_request(organisation=world.b, title="Maths", category_slug="maths-mastery")
    maths.terms = [term("phase", "secondary")]
    make_request(organisation=world.c, title="Review", category_slug="peer-review", status="closed")
    db.session.commit()
    login(world.a_lead)
    html = text_of(client.get("/requests"))
    # Open before closed; newest first (equal dates: the later request first).
    assert card_titles(html) == ["Maths", "Phonics", "Review"]
    assert 'hx-get="/requests"' in html and 'hx-target="#request-results"' in html and 'hx-push-url="true"' in html
    assert '<button type="submit">Apply filters</button>' in html
    assert "hx-on" not in html and " style=" not in html
    # Categories come grouped by area, and an area can be chosen whole.
    assert '<optgroup label="CPD and professional learning">' in html
    assert card_titles(text_of(client.get("/requests?category=cpd-professional-learning"))) == ["Maths", "Phonics"]
    assert card_titles(text_of(client.get("/requests?phase=secondary"))) == ["Maths"]
    assert card_titles(text_of(client.get("/requests?status=closed"))) == ["Review"]
    assert card_titles(text_of(client.get("/requests?mine=1"))) == ["Phonics"]
    chosen = text_of(client.get("/requests?status=closed&phase=secondary"))
    assert '<option selected value="closed">Closed</option>' in chosen
    fragment = client.get("/requests?status=closed", headers={**HX, "HX-Target": "request-results"})
    assert "<html" not in text_of(fragment) and card_titles(text_of(fragment)) == ["Review"]
    assert '<p id="request-status" hx-swap-oob="innerHTML">1 request match these filters</p>' in text_of(fragment)
    assert "HX-Request" in fragment.headers["Vary"]


def test_unknown_filters_and_pages_never_break_the_list(client, world, make_request, login):
    make_request(organisation=world.a)
    login(world.b_teacher)
    for query in ("category=%3Cscript%3E", "phase=nope&status=all&mine=x", "page=abc", "page=-3", "page=99999999999999999999999"):
        response = client.get(f"/requests?{query}")
        assert response.status_code == 200, query
        assert "<script>" not in text_of(response).split("</head>", 1)[1]


def test_paging_keeps_the_filters(client, app, world, make_request, login):
    app.config["REQUESTS_PAGE_SIZE"] = 2
    for n in range(3):
        make_request(organisation=world.a, title=f"Open {n}")
    login(world.b_lead)
    html = text_of(client.get("/requests?status=open"))
    assert len(card_titles(html)) == 2 and 'href="/requests?page=2&amp;status=open"' in html
    assert len(card_titles(text_of(client.get("/requests?page=2&status=open")))) == 1


def test_queries_per_list_page_do_not_grow_with_requests_shown(client, app, world, make_request, login):
    app.config["REQUESTS_PAGE_SIZE"] = 50
    login(world.a_lead)

    def queries():
        statements = []

        def listener(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = client.get("/requests")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert response.status_code == 200
        return len(statements), len(card_titles(text_of(response)))

    for n in range(3):
        make_request(organisation=[world.a, world.b, world.c][n])
    few, shown = queries()
    assert shown == 3
    for n in range(30):
        r = make_request(organisation=[world.a, world.b, world.c][n % 3], category_slug=["maths-mastery", "peer-review"][n % 2])
        r.terms = [term("phase", "primary"), term("subject", "maths")]
    db.session.commit()
    many, shown = queries()
    assert shown == 33 and many == few


# --- Drafting and publishing -----------------------------------------------------------


def test_a_teacher_drafts_and_cannot_publish(client, world, login):
    login(world.a_teacher)
    page = text_of(client.get("/requests/new"))
    assert 'value="draft"' in page and 'value="publish"' not in page
    # Both choices of who can see it are explained.
    assert "Only your school and the partnership coordinators can read it" in page
    assert "Every signed-in member of the partnership can read it" in page
    assert '<optgroup label="CPD and professional learning">' in page and "<legend>Phases</legend>" in page

    refused = client.post("/requests/new", data=form_data(action="publish"))
    assert refused.status_code == 403 and count(SupportRequest) == 0

    response = client.post("/requests/new", data=form_data())
    assert response.status_code == 303
    req = db.session.scalars(select(SupportRequest)).one()
    assert response.headers["Location"] == f"/requests/{req.id}"
    assert (req.status, req.created_by_id, req.organisation_id) == ("draft", world.a_teacher.id, world.a.id)
    shown = text_of(client.get(f"/requests/{req.id}"))
    assert "This is a draft" in shown and "Your school lead can publish it." in shown
    assert "Publish request" not in shown
    assert client.post(f"/requests/{req.id}/publish").status_code == 403
    db.session.refresh(req)
    assert req.status == "draft"


def test_the_lead_publishes_the_teachers_draft(client, world, login):
    login(world.a_teacher)
    client.post("/requests/new", data=form_data(title="Help with phonics"))
    req = db.session.scalars(select(SupportRequest)).one()
    login(world.a_lead)
    assert "Publish request" in text_of(client.get(f"/requests/{req.id}"))
    assert "1 draft request is waiting for you to publish" in text_of(client.get("/requests"))
    response = client.post(f"/requests/{req.id}/publish")
    assert response.status_code == 303 and response.headers["Location"] == f"/requests/{req.id}"
    db.session.refresh(req)
    assert (req.status, req.published_by_id) == ("published", world.a_lead.id) and req.published_at is not None
    assert client.post(f"/requests/{req.id}/publish").status_code == 409
    # Now the partnership sees it.
    login(world.b_teacher)
    assert card_titles(text_of(client.get("/requests"))) == ["Help with phonics"]


def test_a_lead_may_publish_straight_away(client, world, login):
    login(world.a_lead)
    page = text_of(client.get("/requests/new"))
    assert 'value="publish"' in page and 'value="draft"' in page
    response = client.post("/requests/new", data=form_data(action="publish", visibility="coordinators"), headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"].startswith("/requests/")
    req = db.session.scalars(select(SupportRequest)).one()
    assert (req.status, req.visibility, req.published_by_id) == ("published", "coordinators", world.a_lead.id)
    assert count(AuditLog, AuditLog.action == "request.published") == 1


@pytest.mark.parametrize("who", ["b_lead", "coordinator"])
def test_others_cannot_publish_a_schools_draft(client, world, make_request, login, who):
    draft = make_request(organisation=world.a, status="draft")
    login(getattr(world, who))
    assert client.post(f"/requests/{draft.id}/publish").status_code == 404
    db.session.refresh(draft)
    assert draft.status == "draft" and draft.published_by_id is None


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_people_without_a_school_cannot_open_the_new_request_form(client, world, login, who):
    login(getattr(world, who))
    assert client.get("/requests/new").status_code == 403
    assert client.post("/requests/new", data=form_data()).status_code == 403
    assert count(SupportRequest) == 0
    assert "Ask for support" not in text_of(client.get("/requests"))


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"title": "  "}, "Enter a title for the request"),
        ({"title": "x" * 201}, "The title must be 200 characters or fewer"),
        ({"description": "x" * 5001}, "The description must be 5,000 characters or fewer"),
        ({"category_id": ""}, "Choose the kind of support you need"),
        ({"category_id": "abc"}, "Choose the kind of support you need from the list"),
        ({"category_id": "999999"}, "Choose the kind of support you need from the list"),
        ({"phases": ["999999"]}, "Choose phases from the list"),
        ({"subjects": ["x"]}, "Choose subjects from the list"),
        ({"urgency": "yesterday"}, "Choose how urgent this is"),
        ({"visibility": "public"}, "Choose who can see this request"),
        ({"action": "delete"}, "Choose to save a draft or publish"),
    ],
)
def test_bad_input_is_explained_field_by_field_and_nothing_is_written(client, world, login, overrides, message):
    login(world.a_lead)
    response = client.post("/requests/new", data=form_data(**overrides))
    assert response.status_code == 200
    html = text_of(response)
    assert "There is a problem" in html and message in html
    assert count(SupportRequest) == 0 and count(AuditLog) == 0
    fragment = client.post("/requests/new", data=form_data(**overrides), headers={**HX, "HX-Target": "request-form"})
    assert fragment.status_code == 200 and "<html" not in text_of(fragment) and message in text_of(fragment)
    assert text_of(fragment).lstrip().startswith('<form id="request-form"')


def test_a_top_level_area_is_not_a_kind_of_support(client, world, login):
    login(world.a_lead)
    response = client.post("/requests/new", data=form_data(category_id=str(category("cpd-professional-learning").id)))
    assert response.status_code == 200 and "Choose the kind of support you need from the list" in text_of(response)
    assert count(SupportRequest) == 0


# --- Editing ---------------------------------------------------------------------------


def test_the_author_edits_their_draft_then_only_the_lead_may(client, world, login):
    login(world.a_teacher)
    client.post("/requests/new", data=form_data(title="First title"))
    req = db.session.scalars(select(SupportRequest)).one()
    form = text_of(client.get(f"/requests/{req.id}/edit"))
    assert 'value="First title"' in form
    assert client.post(f"/requests/{req.id}/edit", data=form_data(title="Second title")).status_code == 303
    db.session.refresh(req)
    assert req.title == "Second title"

    login(world.a_lead)
    client.post(f"/requests/{req.id}/publish")
    login(world.a_teacher)
    assert client.get(f"/requests/{req.id}/edit").status_code == 403
    assert client.post(f"/requests/{req.id}/edit", data=form_data(title="Teacher after publishing")).status_code == 403
    login(world.a_lead)
    assert client.post(f"/requests/{req.id}/edit", data=form_data(title="Lead after publishing")).status_code == 303
    db.session.refresh(req)
    assert req.title == "Lead after publishing"


@pytest.mark.parametrize("who,status", [("b_lead", 403), ("b_teacher", 403), ("coordinator", 403), ("a_governor", 403)])
def test_others_cannot_edit_a_published_request(client, world, make_request, login, who, status):
    req = make_request(organisation=world.a, title="Original")
    login(getattr(world, who))
    assert client.get(f"/requests/{req.id}/edit").status_code == status
    assert client.post(f"/requests/{req.id}/edit", data=form_data(title="Hijacked")).status_code == status
    db.session.refresh(req)
    assert req.title == "Original"
    assert "Edit request" not in text_of(client.get(f"/requests/{req.id}"))


def test_a_closed_request_cannot_be_edited(client, world, make_request, login):
    req = make_request(organisation=world.a, title="Original", status="closed")
    login(world.a_lead)
    assert client.get(f"/requests/{req.id}/edit").status_code == 409
    assert client.post(f"/requests/{req.id}/edit", data=form_data(title="Changed")).status_code == 409
    db.session.refresh(req)
    assert req.title == "Original"


def test_invalid_edit_changes_nothing(client, world, make_request, login):
    req = make_request(organisation=world.a, title="Original")
    login(world.a_lead)
    response = client.post(f"/requests/{req.id}/edit", data=form_data(title="New", urgency="whenever"))
    assert response.status_code == 200 and "Choose how urgent this is" in text_of(response)
    db.session.refresh(req)
    assert req.title == "Original"


# --- Closing ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["a_lead", "coordinator"])
def test_closing_records_the_outcome_and_stops_responses(client, world, make_request, login, who):
    req = make_request(organisation=world.a)
    login(getattr(world, who))
    assert "Close this request" in text_of(client.get(f"/requests/{req.id}"))
    response = client.post(f"/requests/{req.id}/close", data={"outcome": "met_by_offer", "note": "Birch coached us."})
    assert response.status_code == 303
    db.session.refresh(req)
    assert (req.status, req.outcome, req.outcome_note) == ("closed", "met_by_offer", "Birch coached us.")
    page = text_of(client.get(f"/requests/{req.id}"))
    assert "Met by support found here" in page and "Birch coached us." in page and "Close this request" not in page
    assert client.post(f"/requests/{req.id}/close", data={"outcome": "not_met"}).status_code == 409

    login(world.b_lead)
    assert 'id="respond-form"' not in text_of(client.get(f"/requests/{req.id}"))
    assert client.post(f"/requests/{req.id}/respond", data={"message": "Too late?"}).status_code == 409
    assert count(RequestResponse) == 0 and outbox(client.application) == []


@pytest.mark.parametrize("who", ["a_teacher", "a_governor", "b_lead", "b_teacher"])
def test_others_cannot_close(client, world, make_request, login, who):
    req = make_request(organisation=world.a)
    login(getattr(world, who))
    assert "Close this request" not in text_of(client.get(f"/requests/{req.id}"))
    assert client.post(f"/requests/{req.id}/close", data={"outcome": "not_met"}).status_code == 403
    # Even a bad outcome is refused for who they are, not for what they sent.
    assert client.post(f"/requests/{req.id}/close", data={"outcome": "nope"}).status_code == 403
    db.session.refresh(req)
    assert req.status == "published" and req.outcome is None


def test_closing_without_an_outcome_is_a_form_error(client, world, make_request, login):
    req = make_request(organisation=world.a)
    login(world.a_lead)
    response = client.post(f"/requests/{req.id}/close", data={"note": "x"})
    assert response.status_code == 200 and "Choose what happened to this request" in text_of(response)
    fragment = client.post(f"/requests/{req.id}/close", data={"outcome": "sorted"}, headers=HX)
    assert text_of(fragment).lstrip().startswith('<form id="close-form"') and "Choose what happened" in text_of(fragment)
    db.session.refresh(req)
    assert req.status == "published"


# --- Responding ------------------------------------------------------------------------


def test_a_provider_responds_and_the_requesting_lead_is_emailed(client, app, world, make_request, make_offer, login):
    req = make_request(organisation=world.a, title="Help with phonics")
    mine = make_offer(organisation=world.b, title="Phonics for new teachers")
    theirs = make_offer(organisation=world.c, title="Cedar's course")
    make_offer(organisation=world.b, title="Birch draft", status="draft")
    login(world.b_lead)
    page = text_of(client.get(f"/requests/{req.id}"))
    # Only their own published offers are offered.
    assert "Phonics for new teachers" in page and "Cedar&#39;s course" not in page and "Birch draft" not in page

    response = client.post(f"/requests/{req.id}/respond", data={"message": "We run this **every** term.", "offer_id": str(mine.id)})
    assert response.status_code == 303 and response.headers["Location"].startswith(f"/requests/{req.id}")
    response_row = db.session.scalars(select(RequestResponse)).one()
    assert (response_row.organisation_id, response_row.offer_id) == (world.b.id, mine.id)
    [mail] = outbox(app)
    assert mail["To"] == "ada@alder.test"
    body = mail.get_content()
    assert "Birch Academy" in body and "We run this **every** term." in body and f"http://localhost/requests/{req.id}" in body
    assert theirs


def test_a_response_cannot_target_another_organisations_offer(client, app, world, make_request, make_offer, login):
    req = make_request(organisation=world.a)
    theirs = make_offer(organisation=world.c)
    login(world.b_lead)
    response = client.post(f"/requests/{req.id}/respond", data={"message": "Try Cedar's", "offer_id": str(theirs.id)})
    assert response.status_code == 200
    assert "Choose one of your organisation&#39;s published offers, or none" in text_of(response)
    assert count(RequestResponse) == 0 and outbox(app) == []


def test_an_empty_response_is_a_form_error(client, app, world, make_request, login):
    req = make_request(organisation=world.a)
    login(world.b_lead)
    fragment = client.post(f"/requests/{req.id}/respond", data={"message": "   "}, headers=HX)
    assert fragment.status_code == 200 and text_of(fragment).lstrip().startswith('<form id="respond-form"')
    assert "Enter a message" in text_of(fragment)
    assert count(RequestResponse) == 0 and outbox(app) == []


@pytest.mark.parametrize("who", ["b_teacher", "b_governor", "a_lead", "a_teacher", "coordinator"])
def test_only_another_schools_lead_may_respond(client, app, world, make_request, login, who):
    req = make_request(organisation=world.a)
    login(getattr(world, who))
    assert 'id="respond-form"' not in text_of(client.get(f"/requests/{req.id}"))
    assert client.post(f"/requests/{req.id}/respond", data={"message": "Hello"}).status_code == 403
    assert count(RequestResponse) == 0 and outbox(app) == []


def test_who_sees_which_responses(client, world, make_request, login):
    req = make_request(organisation=world.a)
    login(world.b_lead)
    client.post(f"/requests/{req.id}/respond", data={"message": "Birch can help"})
    login(world.c_lead)
    client.post(f"/requests/{req.id}/respond", data={"message": "Cedar can help"})
    for who, expected in (
        ("a_teacher", {"Birch can help", "Cedar can help"}),
        ("a_lead", {"Birch can help", "Cedar can help"}),
        ("coordinator", {"Birch can help", "Cedar can help"}),
        ("b_teacher", {"Birch can help"}),
        ("c_lead", {"Cedar can help"}),
    ):
        login(getattr(world, who))
        html = text_of(client.get(f"/requests/{req.id}"))
        seen = {m for m in ("Birch can help", "Cedar can help") if m in html}
        assert seen == expected, who


# --- Brokering -------------------------------------------------------------------------


def test_a_coordinator_brokers_and_both_schools_are_told(client, app, world, make_request, make_offer, login):
    req = make_request(organisation=world.a, title="Help with phonics")
    offer = make_offer(organisation=world.b, title="Phonics for new teachers")
    login(world.coordinator)
    page = text_of(client.get(f"/requests/{req.id}"))
    assert 'id="broker-form"' in page and '<optgroup label="Birch Academy">' in page
    response = client.post(f"/requests/{req.id}/broker", data={"provider_id": str(world.b.id), "offer_id": str(offer.id), "note": "Bea ran this last year."})
    assert response.status_code == 303
    brokerage = db.session.scalars(select(Brokerage)).one()
    assert (brokerage.provider_organisation_id, brokerage.offer_id, brokerage.coordinator_id) == (world.b.id, offer.id, world.coordinator.id)
    assert sorted(m["To"] for m in outbox(app)) == ["ada@alder.test", "bea@birch.test"]
    assert count(AuditLog, AuditLog.action == "request.brokered") == 1

    for who, sees in (("a_teacher", True), ("a_lead", True), ("b_teacher", True), ("b_lead", True), ("coordinator", True), ("c_lead", False)):
        login(getattr(world, who))
        html = text_of(client.get(f"/requests/{req.id}"))
        assert ("Bea ran this last year." in html) is sees, who


@pytest.mark.parametrize("who", ["a_lead", "b_lead", "a_teacher"])
def test_only_coordinators_broker(client, app, world, make_request, login, who):
    req = make_request(organisation=world.a)
    login(getattr(world, who))
    assert 'id="broker-form"' not in text_of(client.get(f"/requests/{req.id}"))
    assert client.post(f"/requests/{req.id}/broker", data={"provider_id": str(world.c.id)}).status_code == 403
    assert count(Brokerage) == 0 and outbox(app) == []


def test_a_brokerage_with_a_mismatched_offer_is_a_form_error(client, app, world, make_request, make_offer, login):
    req = make_request(organisation=world.a)
    cedar_offer = make_offer(organisation=world.c)
    login(world.coordinator)
    response = client.post(f"/requests/{req.id}/broker", data={"provider_id": str(world.b.id), "offer_id": str(cedar_offer.id)})
    assert response.status_code == 200 and "not one of Birch Academy" in text_of(response)
    nothing = client.post(f"/requests/{req.id}/broker", data={"note": "?"})
    assert nothing.status_code == 200 and "Choose a provider, an offer, or both" in text_of(nothing)
    assert count(Brokerage) == 0 and outbox(app) == []


def test_brokering_a_coordinator_only_request_keeps_it_from_the_provider(client, app, world, make_request, login):
    req = make_request(organisation=world.a, title="Confidential need", visibility="coordinators")
    login(world.coordinator)
    assert client.post(f"/requests/{req.id}/broker", data={"provider_id": str(world.b.id), "note": "Call me"}).status_code == 303
    provider_mail = next(m for m in outbox(app) if m["To"] == "bea@birch.test")
    assert "Confidential need" not in provider_mail.get_content() and "/requests/" not in provider_mail.get_content()
    login(world.b_lead)
    assert client.get(f"/requests/{req.id}").status_code == 404
    assert "Confidential need" not in text_of(client.get("/requests"))


# --- User text is harmless -------------------------------------------------------------


def _markers(html: str) -> list[str]:
    """Everything on the page that could run script or fire a request, outside user content too."""
    return sorted(dangerous_markup(html.split("</head>", 1)[1]))


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_user_text_cannot_run_script_or_fire_htmx(client, world, make_request, make_offer, login, payload):
    req = make_request(organisation=world.a, title="Plain title", description="Plain description")
    login(world.b_lead)
    client.post(f"/requests/{req.id}/respond", data={"message": "Plain message"})
    login(world.coordinator)
    client.post(f"/requests/{req.id}/broker", data={"provider_id": str(world.b.id), "note": "Plain note"})
    login(world.a_lead)
    baseline_page = _markers(text_of(client.get(f"/requests/{req.id}")))
    baseline_list = _markers(text_of(client.get("/requests")))

    # The same page with the payload in every user-written field.
    req.title = payload[:200]
    req.description = payload
    db.session.scalars(select(RequestResponse)).one().message = payload
    db.session.scalars(select(Brokerage)).one().note = payload
    db.session.commit()
    for url, baseline in ((f"/requests/{req.id}", baseline_page), ("/requests", baseline_list)):
        html = text_of(client.get(url))
        # Nothing new that could run or fire: the payload changed only text.
        assert _markers(html) == baseline, url
        assert "<script" not in html.split("</head>", 1)[1]
        for block in user_content_blocks(html):
            assert dangerous_markup(block) == [], block
    assert len(user_content_blocks(text_of(client.get(f"/requests/{req.id}")))) == 3


def test_markdown_sent_through_the_forms_is_rendered_safely(client, world, login):
    payload = "\n\n".join(XSS_CORPUS)
    login(world.a_lead)
    client.post("/requests/new", data=form_data(title="<img src=x onerror=alert(1)>", description=payload, action="publish"))
    req = db.session.scalars(select(SupportRequest)).one()
    login(world.b_lead)
    client.post(f"/requests/{req.id}/respond", data={"message": payload})
    login(world.coordinator)
    client.post(f"/requests/{req.id}/broker", data={"provider_id": str(world.b.id), "note": payload})
    login(world.a_lead)
    html = text_of(client.get(f"/requests/{req.id}"))
    blocks = user_content_blocks(html)
    assert len(blocks) == 3
    for block in blocks:
        assert dangerous_markup(block) == []
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert not re.search(r"<img[^>]*onerror", html)


# --- Any input to the new-request form ---------------------------------------------------

_text = st.one_of(
    st.text(max_size=30),
    st.text(min_size=190, max_size=260),
    st.sampled_from(["", " ", "\x00", "0", "-1", "1e9", "99999999999999999999999", "draft", "publish", "high", "coordinators", "<script>"]),
)
_values = st.one_of(_text, st.lists(_text, max_size=3))
_fields = st.fixed_dictionaries(
    {},
    optional={
        name: _values
        for name in ("title", "description", "category_id", "phases", "subjects", "urgency", "visibility", "action", "csrf_token", "extra")
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(fields=_fields, real_category=st.booleans(), real_phase=st.booleans())
def test_no_form_input_gives_a_500_or_writes_when_invalid(client, world, login, fields, real_category, real_phase):
    login(world.a_lead)
    data = dict(fields)
    if real_category:
        data["category_id"] = str(category("maths-mastery").id)
    if real_phase:
        data["phases"] = [str(term("phase", "primary").id)]
    before = count(SupportRequest), count(AuditLog)
    response = client.post("/requests/new", data=data)
    assert response.status_code in (200, 303), response.status_code
    after = count(SupportRequest), count(AuditLog)
    if response.status_code == 200:
        assert after == before
        assert "There is a problem" in text_of(response)
    else:
        assert after[0] == before[0] + 1
        req = db.session.scalars(select(SupportRequest).order_by(SupportRequest.id.desc())).first()
        assert 0 < len(req.title) <= 200 and "\x00" not in req.title + req.description
