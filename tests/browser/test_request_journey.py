"""A teacher drafts a support request; the school lead publishes it; another school sees it."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import sign_in

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_teacher_drafts_a_request_and_the_lead_publishes_it(browser, live_server, taxonomy, make_school, make_user):
    from tests.browser.conftest import PageChecker

    school = make_school(name="Ashcombe Primary School", urn=123456)
    make_user(role="teacher", organisation=school, email="teacher@ashcombe.test", password=PASSWORD, name="Tara Teacher")
    make_user(role="school_lead", organisation=school, email="lead@ashcombe.test", password=PASSWORD, name="Lee Lead")
    make_user(role="teacher", organisation=make_school(name="Brookfield High School"), email="t@brookfield.test",
              password=PASSWORD, name="Bo Teacher")

    def person(email):
        context = browser.new_context()
        page = context.new_page()
        check = PageChecker(page)
        sign_in(page, live_server, check, email, PASSWORD)
        return context, page, check

    context, page, check = person("teacher@ashcombe.test")
    page.goto(f"{live_server}/requests/new")
    check.accessible("new request form")
    page.get_by_label("Title").fill("Help with early reading in Year 1")
    page.get_by_label("What you need, and why").fill("Our *phonics* screening results fell this year.")
    page.get_by_label("Kind of support").select_option(label="Early reading and phonics")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Help with early reading in Year 1")
    expect(page.get_by_text("This is a draft")).to_be_visible()
    expect(page.get_by_role("button", name="Publish request")).to_have_count(0)  # teachers cannot publish
    check.accessible("draft request, teacher")
    request_url = page.url
    context.close()

    # Another school cannot see the draft.
    context, page, check = person("t@brookfield.test")
    response = page.goto(request_url)
    assert response.status == 404
    context.close()

    context, page, check = person("lead@ashcombe.test")
    page.goto(request_url)
    check.accessible("draft request, lead")
    page.get_by_role("button", name="Publish request").click()
    expect(page.get_by_text("This is a draft")).to_have_count(0)
    context.close()

    context, page, check = person("t@brookfield.test")
    page.goto(f"{live_server}/requests")
    expect(page.get_by_role("link", name="Help with early reading in Year 1")).to_be_visible()
    check.accessible("requests list, another school")
    context.close()
