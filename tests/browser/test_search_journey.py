"""A teacher looks for phonics support in Chromium: a misspelt search from the home page, then
narrowing by phase and distance with the htmx active search, while a coordinator-only request
never shows up; the same search without JavaScript; axe-core on every step."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import SearchMiss

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def phonics_world(make_school, make_user, make_offer, make_request, make_org):
    home = make_school(name="Ashcombe Primary School", easting=400000, northing=200000)
    make_user(role="teacher", organisation=home, email="teacher@ashcombe.test", password=PASSWORD)
    near = make_school(name="Brookfield Primary School", easting=403000, northing=200000)
    far = make_school(name="Farleigh Primary School", easting=440000, northing=200000)
    secondary = make_school(name="Hillcrest High School", phase="secondary", easting=402000, northing=200000)
    hub = make_org(kind="research_hub", name="Riverside English Hub", easting=401000, northing=200000)
    primary = {"phase": ["primary"], "format": ["coaching"], "delivery": ["in-person"]}
    make_offer(organisation=near, title="Phonics coaching for teaching assistants", sessions=2, terms=primary)
    make_offer(organisation=far, title="Phonics for new Reception teachers", sessions=2, terms=primary)
    make_offer(organisation=secondary, title="Phonics catch-up for Year 7 readers", sessions=1,
               terms={"phase": ["secondary"], "format": ["course"], "delivery": ["in-person"]})
    make_offer(organisation=hub, title="Maths mastery network", category_slug="maths-mastery",
               terms={"phase": ["primary"], "format": ["network"], "delivery": ["online"]})
    make_request(organisation=near, title="Phonics screening support for Year 1")
    make_request(organisation=secondary, title="Phonics lead off sick: confidential staffing help",
                 visibility="coordinators")


def results(page):
    return page.locator("#search-results")


def sign_in(page, live_server):
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill("teacher@ashcombe.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def misses() -> list[str]:
    db.session.commit()
    return list(db.session.scalars(select(SearchMiss.query).order_by(SearchMiss.id)))


def test_a_teacher_finds_phonics_support_and_narrows_it(page, live_server, check, phonics_world):
    sign_in(page, live_server)
    page.goto(f"{live_server}/")
    page.get_by_label("Search offers, schools and experts").fill("phonix")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"/search\?q=phonix$"))
    expect(page.locator(".search-suggestion")).to_contain_text("Did you mean phonics?")
    expect(results(page)).to_contain_text("Phonics coaching for teaching assistants")
    expect(results(page)).to_contain_text("Phonics catch-up for Year 7 readers")
    # The shared request is there; the coordinator-only one is not, anywhere on the page.
    expect(results(page)).to_contain_text("Phonics screening support for Year 1")
    expect(page.locator("body")).not_to_contain_text("confidential")
    check.accessible("search results for a misspelt word")
    # A marker on window survives an htmx swap but not a page load.
    page.evaluate("window.__stillHere = true")

    page.locator("summary", has_text="Phase").click()
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.get_by_role("checkbox", name=re.compile(r"^Primary \(")).check()
    expect(results(page)).not_to_contain_text("Phonics catch-up for Year 7 readers")
    expect(results(page)).to_contain_text("Phonics for new Reception teachers")
    expect(page).to_have_url(re.compile(r"phase=primary"))

    page.get_by_label("Distance from your school").select_option("10")
    expect(results(page)).not_to_contain_text("Phonics for new Reception teachers")
    expect(results(page)).to_contain_text("Phonics coaching for teaching assistants")
    expect(results(page)).to_contain_text("3.0 km from you")
    expect(page).to_have_url(re.compile(r"within_km=10"))
    expect(page.locator("#search-status")).to_contain_text("results for phonix")
    assert page.evaluate("window.__stillHere") is True
    check.accessible("search narrowed by phase and distance")

    # The requests tab: still only the shared request.
    page.locator(".search-kinds").get_by_role("link", name=re.compile("^Support requests")).click()
    expect(results(page)).to_contain_text("Phonics screening support for Year 1")
    expect(page.locator("body")).not_to_contain_text("confidential")
    check.accessible("support requests found")


def test_typing_searches_as_you_go_and_only_a_submitted_miss_is_logged(page, live_server, check, phonics_world):
    page.goto(f"{live_server}/search")
    check.accessible("the empty search page")
    page.evaluate("window.__stillHere = true")
    box = page.get_by_label("What are you looking for?")
    box.press_sequentially("maths mastery")
    expect(results(page)).to_contain_text("Maths mastery network")
    expect(page).to_have_url(re.compile(r"q=maths(\+|%20)mastery"))
    box.fill("")
    box.press_sequentially("glockenspiel")
    expect(results(page)).to_contain_text("Nothing matched “glockenspiel”")
    assert misses() == []
    with page.expect_response(lambda r: "/search" in r.url and r.request.headers.get("x-search-submit") == "true"):
        box.press("Enter")
    expect(results(page)).to_contain_text("Nothing matched “glockenspiel”")
    assert misses() == ["glockenspiel"]
    assert page.evaluate("window.__stillHere") is True
    check.accessible("a search that found nothing")


def test_the_search_works_without_javascript(browser, live_server, phonics_world):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/search")
    page.get_by_label("What are you looking for?").fill("phonics")
    page.locator("summary", has_text="Phase").click()
    page.get_by_role("checkbox", name=re.compile(r"^Secondary \(")).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"q=phonics.*phase=secondary"))
    expect(results(page)).to_contain_text("Phonics catch-up for Year 7 readers")
    expect(results(page)).not_to_contain_text("Phonics coaching for teaching assistants")
    # A visitor gets no support requests, and is told why.
    expect(results(page)).not_to_contain_text("Phonics screening support")
    expect(results(page)).to_contain_text("Sign in to search them too")
    page.locator(".search-kinds").get_by_role("link", name=re.compile("^Schools and organisations")).click()
    expect(page).to_have_url(re.compile(r"kind=organisation"))
    context.close()
