"""Journeys a person makes, in Chromium, with axe-core on every page visited."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Organisation

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_config():
    # The browser sends real forms: keep CSRF protection on, as in production.
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def school_lead(make_school, make_user):
    school = make_school(name="Ashcombe Primary School", urn=123456, phase="primary")
    make_school(name="Brookfield High School", urn=123457, phase="secondary")
    return make_user(role="school_lead", organisation=school, email="lead@ashcombe.test", password=PASSWORD, name="Sam Lead")


def sign_in(page, live_server, check, email, password):
    page.goto(f"{live_server}/auth/login")
    check.accessible("sign-in page")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def test_school_lead_edits_the_school_profile_through_the_htmx_form(page, live_server, check, school_lead):
    sign_in(page, live_server, check, "lead@ashcombe.test", PASSWORD)
    check.accessible("home page, signed in")

    page.get_by_role("link", name="My school").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ashcombe Primary School")
    check.accessible("school page")

    page.get_by_role("link", name="Edit profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit profile")
    check.accessible("edit profile form")

    # A bad value comes back inside the form, swapped in by htmx, without leaving the page.
    page.get_by_label("URN (unique reference number)").fill("12ab")
    with page.expect_request(lambda r: r.method == "POST" and r.headers.get("hx-request") == "true"):
        page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#profile-form .error-summary")).to_contain_text("six digits")
    assert page.url.endswith("/directory/123456/edit")
    check.accessible("edit profile form with errors")

    page.get_by_label("URN (unique reference number)").fill("123456")
    page.get_by_label("Name", exact=True).fill("Ashcombe Church of England Primary School")
    page.get_by_label("Summary").fill("We can share our **phonics** approach.")
    page.get_by_role("button", name="Save profile").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ashcombe Church of England Primary School")
    expect(page.locator(".user-content strong")).to_have_text("phonics")
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    check.accessible("school page after the edit")

    db.session.expire_all()
    assert db.session.query(Organisation).filter_by(name="Ashcombe Church of England Primary School").count() == 1


def test_directory_filters_with_htmx(page, live_server, check, school_lead):
    page.goto(f"{live_server}/directory")
    check.accessible("directory")
    page.get_by_label("Phase").select_option("secondary")
    results = page.locator("#directory-results")
    expect(results).to_contain_text("Brookfield High School")
    expect(results).not_to_contain_text("Ashcombe Primary School")
    expect(page).to_have_url(re.compile(r"phase=secondary"))


def test_directory_filters_without_javascript(browser, live_server, school_lead):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/directory")
    page.get_by_label("Phase").select_option("secondary")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"phase=secondary"))
    expect(page.locator("#directory-results")).to_contain_text("Brookfield High School")
    expect(page.locator("#directory-results")).not_to_contain_text("Ashcombe Primary School")
    context.close()


@pytest.mark.parametrize("path", ["/", "/directory", "/directory/123456", "/pages/how-credits-work", "/auth/reset"])
def test_public_pages_are_accessible_on_a_phone(browser, live_server, school_lead, path):
    from tests.browser.conftest import PageChecker

    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    checker = PageChecker(page)
    page.goto(f"{live_server}{path}")
    checker.accessible(f"{path} at 375px")
    # Nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
