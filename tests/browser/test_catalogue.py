"""The catalogue in Chromium: the htmx active filter, the same filter without JavaScript,
and axe-core on the catalogue and the home page at desktop and phone widths."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageChecker

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def offers(make_offer, make_school, make_user):
    home = make_school(name="Ashcombe Primary School", easting=400000, northing=200000)
    make_user(role="school_lead", organisation=home, email="lead@ashcombe.test", password=PASSWORD)
    provider = make_school(name="Brookfield High School", phase="secondary", easting=404000, northing=203000)
    make_offer(organisation=provider, title="Secondary maths mastery", category_slug="maths-mastery", sessions=3,
               terms={"phase": ["secondary"], "format": ["course"], "delivery": ["in-person"]})
    make_offer(organisation=home, title="Phonics for reception", category_slug="early-reading-phonics", sessions=2,
               terms={"phase": ["primary"], "format": ["twilight-session"], "delivery": ["online"]})
    make_offer(organisation=home, title="SEND outreach, an unusually long title that has to wrap on a narrow phone screen",
               category_slug="send-outreach", booking_mode="bespoke", assured_on=None,
               terms={"phase": ["primary", "special"], "format": ["bespoke-support"], "delivery": ["hybrid"]})


def checkbox(page, label):
    return page.get_by_role("checkbox", name=re.compile(rf"^{label} \("))


def results(page):
    return page.locator("#offer-results")


def test_catalogue_filters_with_htmx(page, live_server, check, offers):
    page.goto(f"{live_server}/offers")
    check.accessible("catalogue")
    expect(results(page)).to_contain_text("3 offers")
    # A marker on window survives an htmx swap but not a page load.
    page.evaluate("window.__stillHere = true")

    page.locator("summary", has_text="Phase").click()
    check.accessible("catalogue with the phase filter open")
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        checkbox(page, "Secondary").check()
    expect(results(page)).to_contain_text("Secondary maths mastery")
    expect(results(page)).not_to_contain_text("Phonics for reception")
    expect(results(page)).to_contain_text("1 offer match these filters")
    expect(page).to_have_url(re.compile(r"/offers\?.*phase=secondary"))
    assert page.evaluate("window.__stillHere") is True
    # The counts beside other facets followed the results, out of band.
    expect(page.locator("#offers-delivery-online-count")).to_have_text("(0)")
    expect(page.locator("#offers-delivery-in-person-count")).to_have_text("(1)")
    expect(page.locator("#offer-status")).to_have_text("1 offer match these filters")
    expect(checkbox(page, "Secondary")).to_be_focused()

    # Typing in the search box filters as you type.
    checkbox(page, "Secondary").uncheck()
    expect(results(page)).to_contain_text("3 offers")
    page.get_by_label("Search offers").press_sequentially("phonics")
    expect(results(page)).to_contain_text("Phonics for reception")
    expect(results(page)).not_to_contain_text("Secondary maths mastery")
    expect(page).to_have_url(re.compile(r"q=phonics"))
    check.accessible("catalogue after filtering")

    # The category list's counts follow the results too, and the choice stays chosen.
    page.get_by_label("Search offers").fill("")
    page.get_by_label("Category").select_option("cpd-professional-learning")
    expect(results(page)).to_contain_text("2 offers match these filters")
    expect(page.get_by_label("Category")).to_have_value("cpd-professional-learning")
    page.locator("summary", has_text="Delivery").click()
    checkbox(page, "Online").check()
    expect(results(page)).to_contain_text("1 offer match these filters")
    expect(page.locator("#offers-category-maths-mastery")).to_have_text("Maths mastery (0)")
    expect(page.locator("#offers-category-cpd-professional-learning")).to_have_text("All of CPD and professional learning (1)")
    expect(page.get_by_label("Category")).to_have_value("cpd-professional-learning")
    expect(page).to_have_url(re.compile(r"category=cpd-professional-learning.*delivery=online"))
    assert page.evaluate("window.__stillHere") is True


def test_catalogue_filters_without_javascript(browser, live_server, offers):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/offers")
    page.locator("summary", has_text="Phase").click()
    checkbox(page, "Secondary").check()
    page.get_by_label("Sort by").select_option("newest")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"phase=secondary"))
    expect(page).to_have_url(re.compile(r"sort=newest"))
    expect(results(page)).to_contain_text("Secondary maths mastery")
    expect(results(page)).not_to_contain_text("Phonics for reception")
    # The choice is kept on the new page, its group open.
    expect(checkbox(page, "Secondary")).to_be_checked()
    context.close()


def sign_in(page, live_server):
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill("lead@ashcombe.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "signed-in"])
@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("path", ["/", "/offers", "/offers?sort=nearest&phase=primary&category=cpd-professional-learning"])
def test_catalogue_and_home_are_accessible_at_desktop_and_phone_widths(browser, live_server, offers, path, width, signed_in):
    context = browser.new_context(viewport={"width": width, "height": 800}, is_mobile=width < 400)
    page = context.new_page()
    checker = PageChecker(page)
    if signed_in:
        sign_in(page, live_server)
    page.goto(f"{live_server}{path}")
    if path.startswith("/offers"):
        # Open every filter group, so axe sees the checkboxes too.
        for summary in page.locator("summary").all():
            summary.click()
    checker.accessible(f"{path} at {width}px ({'signed in' if signed_in else 'visitor'})")
    if width == 375:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
