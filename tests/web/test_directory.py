"""The directory as people use it: browsing with and without htmx, profiles, contact
details, editing by the school's own lead only, people management, and user Markdown."""
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import AuditLog, Designation, ExpertProfile, Membership, Network, Organisation, Specialism, User
from tests.support.html import XSS_CORPUS, dangerous_markup, user_content_blocks

HX = {"HX-Request": "true", "HX-Target": "directory-results", "HX-Current-URL": "http://localhost/directory"}


@pytest.fixture
def network_of(app):
    def factory(name, *members, kind="cluster", description=""):
        network = Network(name=name, slug=name.lower().replace(" ", "-"), kind=kind, description=description)
        db.session.add(network)
        for org, role in members:
            db.session.add(Membership(network=network, organisation=org, role=role, start_date=date(2020, 9, 1)))
        db.session.commit()
        return network

    return factory


@pytest.fixture
def school_with_lead(make_school, make_user):
    school = make_school("Alder Primary", urn=123456, slug="alder-primary", postcode="GL1 2AB", address="1 School Lane")
    lead = make_user("school_lead", organisation=school, name="Lena Lead", email="lena@alder.test")
    return school, lead


def card_names(html: str) -> list[str]:
    """The organisation names in the result cards, in order."""

    class Cards(HTMLParser):
        def __init__(self):
            super().__init__()
            self.in_heading = False
            self.names: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "h3":
                self.in_heading = True

        def handle_endtag(self, tag):
            if tag == "h3":
                self.in_heading = False

        def handle_data(self, data):
            if self.in_heading and data.strip():
                self.names.append(data.strip())

    parser = Cards()
    parser.feed(html)
    return parser.names


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- Browsing --------------------------------------------------------------------------


@pytest.fixture
def directory_data(make_school, make_org, network_of):
    alder = make_school("Alder Primary", phase="primary", la_code="916", la_name="Gloucestershire")
    birch = make_school("Birch Academy", phase="secondary", la_code="916", la_name="Gloucestershire")
    cedar = make_school("Cedar Primary", phase="primary", la_code="938", la_name="West Sussex")
    make_org(kind="teaching_school_hub", name="Severn Hub", la_code="916", la_name="Gloucestershire")
    network_of("Forest Cluster", (alder, "lead"), (birch, "member"))
    return alder, birch, cedar


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", ["Alder Primary", "Birch Academy", "Cedar Primary", "Severn Hub"]),
        ("kind=school", ["Alder Primary", "Birch Academy", "Cedar Primary"]),
        ("kind=teaching_school_hub", ["Severn Hub"]),
        ("phase=primary", ["Alder Primary", "Cedar Primary"]),
        ("la=938", ["Cedar Primary"]),
        ("network=forest-cluster", ["Alder Primary", "Birch Academy"]),
        ("q=prim", ["Alder Primary", "Cedar Primary"]),
        ("q=BIRCH", ["Birch Academy"]),
        ("phase=primary&la=916", ["Alder Primary"]),
        ("q=nothing-like-this", []),
    ],
)
def test_filters_narrow_the_directory(client, directory_data, query, expected):
    response = client.get(f"/directory?{query}")
    assert response.status_code == 200
    html = text_of(response)
    assert card_names(html) == expected
    noun = "organisation" if len(expected) == 1 else "organisations"
    assert f"<strong>{len(expected)}</strong> {noun}" in html


def test_filter_form_works_without_javascript_and_with_htmx(client, directory_data):
    html = text_of(client.get("/directory"))
    assert '<form class="filters directory-filters" method="get" action="/directory"' in html
    assert 'hx-get="/directory"' in html
    assert 'hx-trigger="change, keyup changed delay:300ms from:#directory-q, submit"' in html
    assert 'hx-target="#directory-results"' in html and 'hx-push-url="true"' in html
    assert 'id="directory-q"' in html and '<button type="submit">Apply filters</button>' in html
    # Options for local authorities and networks come from the data.
    assert '<option value="938">West Sussex</option>' in html
    assert '<option value="forest-cluster">Forest Cluster</option>' in html
    # The CSP bars inline script and handlers: none here.
    assert "hx-on" not in html and " style=" not in html and "<script>" not in html


def test_a_chosen_filter_stays_selected(client, directory_data):
    html = text_of(client.get("/directory?la=938&q=ced"))
    assert '<option selected value="938">West Sussex</option>' in html
    assert 'value="ced"' in html


def test_htmx_request_gets_only_the_results_block(client, directory_data):
    response = client.get("/directory?phase=primary", headers=HX)
    html = text_of(response)
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html and "<h1" not in html
    assert card_names(html) == ["Alder Primary", "Cedar Primary"]
    assert "<strong>2</strong> organisations match these filters" in html
    # The count is also announced through the live region that stays in the page.
    assert '<p id="directory-status" hx-swap-oob="innerHTML">2 organisations match these filters</p>' in html
    assert "HX-Request" in response.headers.get("Vary", "")

    page = client.get("/directory?phase=primary")
    full = text_of(page)
    assert "<html" in full and 'id="directory-results"' in full and "<h1>Directory</h1>" in full
    assert 'role="status" aria-live="polite"' in full
    assert "hx-swap-oob" not in full
    assert "HX-Request" in page.headers.get("Vary", "")


def test_boosted_and_history_restore_requests_get_the_whole_page(client, directory_data):
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        html = text_of(client.get("/directory", headers={**HX, **extra}))
        assert "<html" in html


def test_unknown_filter_values_never_break_the_page(client, directory_data):
    response = client.get("/directory?kind=castle&phase=%3Cscript%3E&la=999&network=nope&q=%25%27%22--&page=abc")
    assert response.status_code == 200
    assert "<script>" not in text_of(response).split("</head>", 1)[1]


@pytest.mark.parametrize("page,status", [("abc", 200), ("0", 200), ("-5", 200), ("1.5", 200), ("3", 200), ("4", 404), ("99999999999999999999999999", 404)])
def test_paging(client, app, make_school, page, status):
    app.config["DIRECTORY_PAGE_SIZE"] = 2
    for letter in "ABCDE":
        make_school(f"{letter} School")
    response = client.get(f"/directory?page={page}")
    assert response.status_code == status
    if page == "3":
        assert card_names(text_of(response)) == ["E School"]
        assert 'rel="prev"' in text_of(response) and 'rel="next"' not in text_of(response)
    elif status == 200:
        assert card_names(text_of(response)) == ["A School", "B School"]


def test_page_links_keep_the_filters(client, app, make_school):
    app.config["DIRECTORY_PAGE_SIZE"] = 2
    for letter in "ABC":
        make_school(f"{letter} Primary", phase="primary", la_code="916")
    make_school("Z Secondary", phase="secondary")
    html = text_of(client.get("/directory?phase=primary&la=916"))
    assert 'href="/directory?page=2&amp;phase=primary&amp;la=916"' in html
    assert card_names(text_of(client.get("/directory?page=2&phase=primary&la=916"))) == ["C Primary"]


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
    return len(statements), response


def test_queries_per_page_do_not_grow_with_rows_shown(client, app, make_school, network_of, login_as):
    app.config["DIRECTORY_PAGE_SIZE"] = 50
    login_as("teacher")
    schools = [make_school(f"School {n:02d}") for n in range(5)]
    network_of("Cluster One", *[(s, "member") for s in schools])
    few, response = _count_queries(client, "/directory")
    assert len(card_names(text_of(response))) == 6  # five schools and the teacher's own
    more = [make_school(f"Extra {n:02d}") for n in range(35)]
    network_of("Cluster Two", *[(s, "lead") for s in more])
    many, response = _count_queries(client, "/directory")
    assert len(card_names(text_of(response))) == 41
    assert "Cluster Two (lead)" in text_of(response)
    assert many == few


def test_school_page_queries_do_not_grow_with_people(client, school_with_lead, make_user, network_of):
    school, lead = school_with_lead
    network_of("Forest Cluster", (school, "lead"))
    for n in range(2):
        user = make_user("teacher", organisation=school)
        db.session.add(ExpertProfile(user_id=user.id, headline=f"Expert {n}", public=True))
    db.session.commit()
    few, _ = _count_queries(client, "/directory/123456")
    for n in range(15):
        user = make_user("teacher", organisation=school)
        db.session.add(ExpertProfile(user_id=user.id, headline=f"Expert more {n}", public=True))
    db.session.commit()
    many, response = _count_queries(client, "/directory/123456")
    assert "Expert more 14" in text_of(response)
    assert many == few


# --- Organisation pages ----------------------------------------------------------------


def test_school_page_by_urn_and_by_slug(client, school_with_lead, network_of):
    school, lead = school_with_lead
    network_of("Forest Cluster", (school, "lead"))
    for url in ("/directory/123456", "/directory/alder-primary"):
        response = client.get(url)
        assert response.status_code == 200
        html = text_of(response)
        assert "<h1>Alder Primary</h1>" in html
        assert "Lena Lead" in html and "School lead" in html
        assert 'href="/networks/forest-cluster"' in html and "lead organisation" in html
        assert "GL1 2AB" in html  # the postcode is a fact, not a contact detail


@pytest.mark.parametrize("key", ["999999", "12345", "no-such-school", "99999999999999999999999999", "%C2%B2", "x" * 400])
def test_unknown_keys_are_404(client, key):
    assert client.get(f"/directory/{key}").status_code == 404


def test_contact_details_are_hidden_from_visitors_and_shown_to_members(client, school_with_lead, make_user, login):
    school, lead = school_with_lead
    html = text_of(client.get("/directory/123456"))
    assert "Sign in to see contact details" in html
    assert school.email not in html and "lena@alder.test" not in html and "1 School Lane" not in html
    assert school.phone not in html

    login(make_user("teacher"))  # a member of another school
    html = text_of(client.get("/directory/123456"))
    assert "Sign in to see contact details" not in html
    assert f'href="mailto:{school.email}"' in html and "lena@alder.test" in html and "1 School Lane" in html


def test_edit_and_manage_links_only_for_the_schools_own_lead(client, school_with_lead, make_user, login):
    school, lead = school_with_lead
    for user in (None, make_user("teacher", organisation=school), make_user("school_lead"), make_user("coordinator")):
        if user is not None:
            login(user)
        html = text_of(client.get("/directory/123456"))
        assert "Edit profile" not in html and "Manage people" not in html
    login(lead)
    html = text_of(client.get("/directory/123456"))
    assert 'href="/directory/123456/edit"' in html and 'href="/directory/123456/people"' in html


def test_invite_link_appears_only_when_the_invitation_page_exists(client, app, school_with_lead, login):
    school, lead = school_with_lead
    login(lead)
    html = text_of(client.get("/directory/123456/people"))
    assert ("Invite staff" in html) == ("account.invite" in app.view_functions)


# --- Editing a profile -----------------------------------------------------------------

FORM = {
    "name": "Alder Primary School",
    "summary": "We run **phonics** training.",
    "website": "www.alder.example.org",
    "email": "Office@Alder.example.org",
    "phone": "01452 000000",
    "address": "2 New Road",
    "postcode": "gl1 3ab",
    "urn": "123456",
    "phase": "primary",
    "school_type": "Academy converter",
    "pupils": "320",
    "ofsted_grade": "Outstanding",
    "urban_rural": "rural",
}


def test_the_schools_lead_edits_the_profile(client, school_with_lead, login):
    school, lead = school_with_lead
    login(lead)
    form = text_of(client.get("/directory/123456/edit"))
    assert 'value="Alder Primary"' in form and 'hx-post="/directory/123456/edit"' in form
    assert 'hx-target="#profile-form"' in form and 'hx-swap="outerHTML"' in form
    response = client.post("/directory/123456/edit", data=FORM)
    assert response.status_code == 303
    assert response.headers["Location"] == "/directory/123456"
    page = text_of(client.get("/directory/123456"))
    assert "<h1>Alder Primary School</h1>" in page and "Profile saved." in page
    assert "<strong>phonics</strong>" in page and "https://www.alder.example.org" in page
    db.session.expire_all()
    org = db.session.get(Organisation, school.id)
    assert (org.email, org.postcode, org.school.pupils, org.school.ofsted_grade) == ("Office@alder.example.org", "GL1 3AB", 320, "Outstanding")


def test_an_htmx_save_navigates_with_hx_redirect(client, school_with_lead, login):
    school, lead = school_with_lead
    login(lead)
    response = client.post("/directory/123456/edit", data={**FORM, "urn": "234567"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/directory/234567"
    assert client.get("/directory/234567").status_code == 200


@pytest.mark.parametrize("who", ["other_lead", "teacher", "governor", "coordinator", "admin"])
def test_nobody_else_may_edit_the_profile(client, school_with_lead, make_user, login, who):
    school, lead = school_with_lead
    if who == "other_lead":
        login(make_user("school_lead"))
    elif who in ("teacher", "governor"):
        login(make_user(who, organisation=school))
    else:
        login(make_user(who))
    assert client.get("/directory/123456/edit").status_code == 403
    response = client.post("/directory/123456/edit", data=FORM)
    assert response.status_code == 403
    response = client.post("/directory/123456/edit", data=FORM, headers={"HX-Request": "true"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Organisation, school.id).name == "Alder Primary"


def test_visitors_are_sent_to_sign_in_and_nothing_changes(client, school_with_lead):
    school, lead = school_with_lead
    for method in ("get", "post"):
        response = getattr(client, method)("/directory/123456/edit", data=FORM)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")
    response = client.post("/directory/123456/edit", data=FORM, headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/auth/login")
    db.session.expire_all()
    assert db.session.get(Organisation, school.id).name == "Alder Primary"


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"urn": "12345"}, "URN must be six digits"),
        ({"urn": "12a456"}, "URN must be six digits"),
        ({"urn": "012345"}, "URN must be six digits, from 100000 to 999999"),
        ({"name": "x" * 201}, "Name must be 200 characters or fewer"),
        ({"name": "   "}, "Enter the organisation&#39;s name"),
        ({"email": "not-an-email"}, "Enter an email address in the correct format"),
        ({"email": "office@school"}, "Enter an email address in the correct format"),
        ({"postcode": "ZZ99"}, "Enter a real UK postcode"),
        ({"website": "javascript:alert(1)"}, "Enter a website address"),
        ({"website": "ftp://files.example.org"}, "Enter a website address"),
        ({"pupils": "lots"}, "Pupils must be a whole number from 0 to 5,000"),
        ({"pupils": "5001"}, "Pupils must be a whole number from 0 to 5,000"),
        ({"pupils": "9" * 5000}, "Pupils must be a whole number from 0 to 5,000"),
        ({"phase": "university"}, "Choose a phase from the list"),
        ({"summary": "x" * 5001}, "Summary must be 5,000 characters or fewer"),
        ({"phone": "call me"}, "Enter a phone number"),
    ],
)
def test_invalid_input_gets_a_clear_message_and_writes_nothing(client, school_with_lead, login, changes, message):
    school, lead = school_with_lead
    login(lead)
    response = client.post("/directory/123456/edit", data={**FORM, **changes})
    assert response.status_code == 200
    html = text_of(response)
    assert message in html
    assert "There is a problem" in html and 'aria-invalid="true"' in html
    db.session.expire_all()
    org = db.session.get(Organisation, school.id)
    assert (org.name, org.school.urn, org.postcode) == ("Alder Primary", 123456, "GL1 2AB")
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_a_urn_already_used_by_another_school_is_a_clear_error(client, school_with_lead, make_school, login):
    school, lead = school_with_lead
    make_school("Birch Academy", urn=654321)
    login(lead)
    response = client.post("/directory/123456/edit", data={**FORM, "urn": "654321"})
    assert response.status_code == 200
    html = text_of(response)
    assert "URN 654321 is already used by Birch Academy" in html
    assert 'href="#urn"' in html  # the error summary links to the field
    db.session.expire_all()
    org = db.session.get(Organisation, school.id)
    assert (org.name, org.school.urn) == ("Alder Primary", 123456)


def test_an_invalid_htmx_post_gets_the_form_block_with_errors(client, school_with_lead, login):
    school, lead = school_with_lead
    login(lead)
    response = client.post("/directory/123456/edit", data={**FORM, "urn": "12"}, headers={"HX-Request": "true", "HX-Target": "profile-form"})
    assert response.status_code == 200
    html = text_of(response)
    assert html.lstrip().startswith('<form id="profile-form"')
    assert "<html" not in html and "URN must be six digits" in html


def test_a_non_school_organisation_has_no_school_fields(client, make_org, make_user, login):
    hub = make_org(kind="teaching_school_hub", name="Severn Hub", slug="severn-hub")
    login(make_user("school_lead", organisation=hub))
    html = text_of(client.get("/directory/severn-hub/edit"))
    assert 'name="urn"' not in html and "School facts" not in html
    response = client.post("/directory/severn-hub/edit", data={"name": "Severn Teaching School Hub", "postcode": "GL1 2AB"})
    assert response.headers["Location"] == "/directory/severn-hub"


# --- XSS -------------------------------------------------------------------------------


def _assert_harmless(html: str):
    blocks = user_content_blocks(html)
    assert blocks, "expected user content on the page"
    for block in blocks:
        assert dangerous_markup(block) == [], block
    # Only the two vendored scripts, both from files.
    tail = html.split("</head>", 1)[1]
    assert "<script" not in tail


def test_user_markdown_cannot_run_script_or_fire_htmx(client, school_with_lead, make_user, network_of, login):
    school, lead = school_with_lead
    payload = "\n\n".join(XSS_CORPUS)
    school.summary = payload
    expert = make_user("teacher", organisation=school)
    db.session.add(ExpertProfile(user_id=expert.id, headline="<b>hi</b>", bio=payload, public=True))
    network_of("Forest Cluster", (school, "lead"), description=payload)
    db.session.commit()
    for url in ("/directory/123456", f"/people/{expert.id}", "/networks/forest-cluster"):
        html = text_of(client.get(url))
        _assert_harmless(html)
    # The headline is plain text: escaped, not rendered.
    assert "&lt;b&gt;hi&lt;/b&gt;" in text_of(client.get(f"/people/{expert.id}"))


def test_markdown_saved_through_the_form_is_rendered_safely(client, school_with_lead, login):
    school, lead = school_with_lead
    login(lead)
    summary = '<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>\n\n<div hx-get="/x" hx-trigger="load">d</div>\n\n<span data-hx-post="/x">s</span>'
    assert client.post("/directory/123456/edit", data={**FORM, "summary": summary}).status_code == 303
    html = text_of(client.get("/directory/123456"))
    _assert_harmless(html)
    block = user_content_blocks(html)[0]
    assert "javascript:" not in block and "<script" not in block
    assert "onerror" not in block and "hx-get" not in block and "data-hx-post" not in block
    assert "<p>s</p>" in block and ">x</a>" in block  # the text survives, the attributes do not


# --- Networks --------------------------------------------------------------------------


def test_networks_list_and_network_page(client, make_school, network_of):
    a = make_school("Aa School", urn=111111)
    z = make_school("Zz School", urn=222222)
    network_of("Forest Cluster", (a, "member"), (z, "lead"), description="We meet **termly**.")
    network_of("Empty Network")
    html = text_of(client.get("/networks"))
    assert 'href="/networks/forest-cluster"' in html
    assert '<th scope="col">Network</th>' in html
    rows = html.split("<tbody>", 1)[1]
    assert rows.index("Empty Network") < rows.index("Forest Cluster")
    html = text_of(client.get("/networks/forest-cluster"))
    assert "<h1>Forest Cluster</h1>" in html and "<strong>termly</strong>" in html
    assert html.index("Zz School") < html.index("Aa School")  # lead first
    assert 'href="/directory/222222"' in html
    assert client.get("/networks/nope").status_code == 404


# --- People pages ----------------------------------------------------------------------


@pytest.fixture
def taxonomy(app):
    items = {
        "nle": Designation(code="NLE", name="National leader of education", current=True),
        "sle": Designation(code="SLE", name="Specialist leader of education", current=True),
        "ast": Designation(code="AST", name="Advanced skills teacher", current=False),
        "maths": Specialism(slug="maths", name="Maths"),
        "send": Specialism(slug="send", name="SEND"),
    }
    db.session.add_all(items.values())
    db.session.commit()
    return items


def test_expert_profile_page(client, school_with_lead, make_user, taxonomy, login):
    school, lead = school_with_lead
    expert = make_user("teacher", organisation=school, name="Ann Expert", phone="07700 900123", job_title="Maths lead")
    db.session.add(
        ExpertProfile(
            user_id=expert.id, headline="Maths mastery", bio="I *love* fractions.", availability="Tuesdays",
            capacity_days=4, public=True, designations=[taxonomy["sle"]], specialisms=[taxonomy["maths"]],
        )
    )
    db.session.commit()
    html = text_of(client.get(f"/people/{expert.id}"))
    assert "<h1>Ann Expert</h1>" in html and "Maths mastery" in html and "<em>love</em>" in html
    assert "Specialist leader of education" in html and "Maths" in html and "Tuesdays" in html
    assert 'href="/directory/123456"' in html
    assert "Sign in to see contact details" in html and expert.email not in html and "07700" not in html
    assert "Edit expert profile" not in html
    login(make_user("governor"))
    html = text_of(client.get(f"/people/{expert.id}"))
    assert expert.email in html and "07700 900123" in html
    # The school page links to the expert.
    assert f'href="/people/{expert.id}"' in text_of(client.get("/directory/123456"))


def test_hidden_or_missing_expert_profiles(client, school_with_lead, make_user, login):
    school, lead = school_with_lead
    hidden = make_user("teacher", organisation=school)
    db.session.add(ExpertProfile(user_id=hidden.id, headline="Secret", public=False))
    db.session.commit()
    bare = make_user("teacher", organisation=school)
    for person in (hidden, bare):
        assert client.get(f"/people/{person.id}").status_code == 404
    login(make_user("teacher", organisation=school))
    for person in (hidden, bare):
        assert client.get(f"/people/{person.id}").status_code == 404
    login(hidden)
    assert "This expert profile is hidden" in text_of(client.get(f"/people/{hidden.id}"))
    login(bare)
    assert "Create expert profile" in text_of(client.get(f"/people/{bare.id}"))
    login(lead)
    assert client.get(f"/people/{hidden.id}").status_code == 200
    assert client.get("/people/99999999999999999999999").status_code == 404
    assert client.get("/people/abc").status_code == 404


def test_a_person_edits_their_expert_profile(client, make_user, taxonomy, login):
    teacher = login(make_user("teacher"))
    html = text_of(client.get(f"/people/{teacher.id}/edit"))
    assert "<legend>Designations</legend>" in html and "<legend>Specialisms</legend>" in html
    assert "National leader of education" in html
    assert "Advanced skills teacher" not in html  # no longer awarded: not offered
    data = {
        "headline": "Phonics lead",
        "bio": "Trained 30 schools.",
        "availability": "Mornings",
        "capacity_days": "6",
        "designations": [str(taxonomy["nle"].id)],
        "specialisms": [str(taxonomy["maths"].id), str(taxonomy["send"].id)],
        "public": "y",
    }
    response = client.post(f"/people/{teacher.id}/edit", data=data)
    assert response.status_code == 303 and response.headers["Location"] == f"/people/{teacher.id}"
    html = text_of(client.get(f"/people/{teacher.id}"))
    assert "Phonics lead" in html and "National leader of education" in html and "SEND" in html
    # Unticking public hides it from others.
    data.pop("public")
    client.post(f"/people/{teacher.id}/edit", data=data)
    db.session.expire_all()
    assert db.session.get(User, teacher.id).expert_profile.public is False


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"capacity_days": "lots"}, "Days a term must be a whole number from 0 to 100"),
        ({"capacity_days": "101"}, "Days a term must be a whole number from 0 to 100"),
        ({"headline": "x" * 201}, "Headline must be 200 characters or fewer"),
        ({"designations": ["abc"]}, "Choose designations from the list"),
        ({"designations": ["999999"]}, "Choose designations from the list (999999 is not one of them)"),
    ],
)
def test_invalid_expert_profile_input(client, make_user, taxonomy, login, changes, message):
    teacher = login(make_user("teacher"))
    response = client.post(f"/people/{teacher.id}/edit", data={"headline": "ok", **changes})
    assert response.status_code == 200
    assert message in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(ExpertProfile)) == 0


def test_expert_profile_edit_permissions(client, school_with_lead, make_user, login):
    school, lead = school_with_lead
    teacher = make_user("teacher", organisation=school)
    login(lead)
    assert client.get(f"/people/{teacher.id}/edit").status_code == 200
    assert client.post(f"/people/{teacher.id}/edit", data={"headline": "Set by lead", "public": "y"}).status_code == 303
    for other in (make_user("teacher", organisation=school), make_user("school_lead"), make_user("coordinator")):
        login(other)
        assert client.get(f"/people/{teacher.id}/edit").status_code == 403
        assert client.post(f"/people/{teacher.id}/edit", data={"headline": "Hijack"}).status_code == 403
    client.post("/auth/logout")
    with client.session_transaction() as session:
        session.clear()
    assert client.get(f"/people/{teacher.id}/edit").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, teacher.id).expert_profile.headline == "Set by lead"


# --- People management -----------------------------------------------------------------


def test_the_lead_sees_and_edits_the_schools_people(client, school_with_lead, make_user, login):
    school, lead = school_with_lead
    teacher = make_user("teacher", organisation=school, name="Tom Teacher")
    gone = make_user("governor", organisation=school, name="Gina Gone", active=False)
    make_user("teacher", name="Someone Elsewhere")
    login(lead)
    html = text_of(client.get("/directory/123456/people"))
    assert "Tom Teacher" in html and "Gina Gone" in html and "Deactivated" in html
    assert "Someone Elsewhere" not in html
    assert '<th scope="col">Role</th>' in html
    edit_url = f"/directory/123456/people/{teacher.id}/edit"
    assert 'value="Tom Teacher"' in text_of(client.get(edit_url))
    response = client.post(edit_url, data={"name": "Tom T. Teacher", "job_title": "Head of maths", "phone": "01452 222222", "role": "school_lead"})
    assert response.status_code == 303 and response.headers["Location"] == "/directory/123456/people"
    db.session.expire_all()
    teacher = db.session.get(User, teacher.id)
    assert (teacher.name, teacher.job_title, teacher.role) == ("Tom T. Teacher", "Head of maths", "school_lead")
    # Reactivate, then deactivate.
    client.post(f"/directory/123456/people/{gone.id}/active", data={"active": "1"})
    client.post(f"/directory/123456/people/{teacher.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, gone.id).active is True
    assert db.session.get(User, teacher.id).active is False


def test_the_only_lead_cannot_demote_or_deactivate_themself(client, school_with_lead, login):
    school, lead = school_with_lead
    login(lead)
    response = client.post(f"/directory/123456/people/{lead.id}/edit", data={"name": lead.name, "role": "teacher"})
    assert response.status_code == 200
    assert "You are the only active school lead" in text_of(response)
    response = client.post(f"/directory/123456/people/{lead.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "You cannot deactivate your own account" in text_of(response)
    db.session.expire_all()
    lead = db.session.get(User, lead.id)
    assert (lead.role, lead.active) == ("school_lead", True)


@pytest.mark.parametrize("who", ["teacher", "governor", "other_lead", "coordinator"])
def test_people_management_is_for_the_schools_lead_only(client, school_with_lead, make_user, login, who):
    school, lead = school_with_lead
    teacher = make_user("teacher", organisation=school, name="Tom Teacher")
    if who == "other_lead":
        login(make_user("school_lead"))
    elif who == "coordinator":
        login(make_user("coordinator"))
    else:
        login(make_user(who, organisation=school))
    assert client.get("/directory/123456/people").status_code == 403
    assert client.get(f"/directory/123456/people/{teacher.id}/edit").status_code == 403
    assert client.post(f"/directory/123456/people/{teacher.id}/edit", data={"name": "Hacked", "role": "school_lead"}).status_code == 403
    assert client.post(f"/directory/123456/people/{teacher.id}/active", data={"active": "0"}).status_code == 403
    db.session.expire_all()
    teacher = db.session.get(User, teacher.id)
    assert (teacher.name, teacher.role, teacher.active) == ("Tom Teacher", "teacher", True)


def test_a_lead_cannot_reach_another_schools_people_through_their_own_address(client, school_with_lead, make_user, login):
    school, lead = school_with_lead
    stranger = make_user("teacher", name="Sam Stranger")
    login(lead)
    assert client.get(f"/directory/123456/people/{stranger.id}/edit").status_code == 404
    assert client.post(f"/directory/123456/people/{stranger.id}/active", data={"active": "0"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, stranger.id).active is True


def test_people_management_bad_input(client, school_with_lead, make_user, login):
    school, lead = school_with_lead
    teacher = make_user("teacher", organisation=school, name="Tom Teacher")
    login(lead)
    url = f"/directory/123456/people/{teacher.id}/edit"
    for data, message in (
        ({"name": "", "role": "teacher"}, "Enter the person&#39;s name"),
        ({"name": "Tom", "role": "admin"}, "Choose teacher, governor or school lead"),
        ({"name": "x" * 121, "role": "teacher"}, "Name must be 120 characters or fewer"),
    ):
        response = client.post(url, data=data)
        assert response.status_code == 200 and message in text_of(response)
    response = client.post(f"/directory/123456/people/{teacher.id}/active", data={"active": "maybe"})
    assert response.status_code == 303
    db.session.expire_all()
    teacher = db.session.get(User, teacher.id)
    assert (teacher.name, teacher.role, teacher.active) == ("Tom Teacher", "teacher", True)
