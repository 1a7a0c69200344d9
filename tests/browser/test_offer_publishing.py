"""A school lead publishes an offer with a series of sessions, in Chromium, as a new user
would: inline validation catches a bad field first, then the offer is saved, dated and
published. axe-core runs on every page visited."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Offer

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_config():
    # The browser sends real forms: keep CSRF protection on, as in production.
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def lead(make_school, make_user, taxonomy):
    school = make_school(name="Ashcombe Primary School", urn=123456, phase="primary", postcode="GL1 2AB")
    return make_user(role="school_lead", organisation=school, email="lead@ashcombe.test", password=PASSWORD, name="Sam Lead")


def sign_in(page, live_server, check):
    page.goto(f"{live_server}/auth/login")
    check.accessible("sign-in page")
    page.get_by_label("Email").fill("lead@ashcombe.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def test_a_school_lead_publishes_an_offer_with_a_series_of_sessions(page, live_server, check, lead, make_school, make_user):
    sign_in(page, live_server, check)

    page.goto(f"{live_server}/offers/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("New offer")
    check.accessible("new offer form")

    # A bad value is caught as soon as the person leaves the field, before they submit.
    price = page.get_by_label("Price in credits")
    with page.expect_response(lambda r: "/offers/validate?field=price_credits" in r.url):
        price.fill("5000")
        price.press("Tab")
    message = page.locator("#offer-price-credits-error")
    expect(message).to_contain_text("Enter a price from 0 to 1,000 credits")
    check.accessible("new offer form with an inline error")

    with page.expect_response(lambda r: "/offers/validate?field=price_credits" in r.url):
        price.fill("2")
        price.press("Tab")
    expect(message).to_be_empty()

    page.get_by_label("Title").fill("Phonics twilights for Year 1 teachers")
    page.get_by_label("Summary").fill("Six twilights on teaching phonics well, with classroom visits between them.")
    page.get_by_label("Description").fill("We share **our** approach to *systematic synthetic phonics*.")
    page.get_by_label("Category").select_option(label="Early reading and phonics")
    # Ticking two boxes quickly keeps both ticked while each checks itself.
    page.locator("#offer-phase-field").get_by_label("Primary", exact=True).check()
    page.locator("#offer-phase-field").get_by_label("Early years").check()
    page.locator("#offer-format-field").get_by_label("Twilight session").check()
    page.get_by_label("Places", exact=True).fill("24")
    page.get_by_role("button", name="Save as draft").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Add dates")
    expect(page.get_by_text("is saved as a draft. Now add its dates.")).to_be_visible()
    check.accessible("add dates form")

    first = date.today() + timedelta(days=14)
    page.get_by_label("Date", exact=True).fill(first.isoformat())
    page.get_by_label("Starts at").fill("15:45")
    page.get_by_label("Ends at").fill("17:15")
    page.get_by_label("Weekly").check()
    page.get_by_label("Number of sessions in the series").fill("6")
    page.get_by_label("Note").fill("Bring your phonics tracker")
    page.get_by_role("button", name="Add dates").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Phonics twilights for Year 1 teachers")
    expect(page.get_by_text("Added 6 sessions")).to_be_visible()
    expect(page.get_by_text("Draft.")).to_be_visible()
    rows = page.locator("#offer-sessions tbody tr")
    expect(rows).to_have_count(6)
    check.accessible("draft offer page")

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("is published: everyone can see it.")).to_be_visible()
    expect(page.get_by_text("Draft.")).to_have_count(0)
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text(first.strftime("%-d %b %Y"))
    expect(rows.first).to_contain_text("15:45 to 17:15")
    expect(page.locator(".user-content strong")).to_have_text("our")
    check.accessible("published offer page")

    db.session.expire_all()
    offer = db.session.query(Offer).one()
    assert offer.status == "published"
    assert {t.slug for t in offer.terms} == {"primary", "early-years", "twilight-session"}
    assert offer.price_credits == 2 and offer.capacity == 24
    assert len(offer.sessions) == 6 and len({s.series_key for s in offer.sessions}) == 1

    # A lead at a school nearby finds it in the catalogue by facet and by distance.
    from tests.browser.conftest import PageChecker
    from tests.browser.test_journeys import sign_in as sign_in_as

    neighbour = make_school(name="Brookfield Primary School", easting=lead.organisation.easting + 3000,
                            northing=lead.organisation.northing)
    make_user(role="school_lead", organisation=neighbour, email="lead@brookfield.test", password=PASSWORD)
    far = make_school(name="Faraway Primary School", easting=lead.organisation.easting + 90000,
                      northing=lead.organisation.northing)
    make_user(role="school_lead", organisation=far, email="lead@faraway.test", password=PASSWORD)
    for email, visible in (("lead@brookfield.test", True), ("lead@faraway.test", False)):
        context = page.context.browser.new_context()
        other = context.new_page()
        other_check = PageChecker(other)
        sign_in_as(other, live_server, other_check, email, PASSWORD)
        other.goto(f"{live_server}/offers")
        other.locator("summary", has_text="Format").click()
        other.get_by_label("Twilight session").check()
        results = other.locator("#offer-results")
        expect(results).to_contain_text("Phonics twilights for Year 1 teachers")
        other.get_by_label("Distance from your school").select_option("10")
        if visible:
            expect(results).to_contain_text("Phonics twilights for Year 1 teachers")
            expect(results).to_contain_text("3.0 km")
        else:
            expect(results).not_to_contain_text("Phonics twilights for Year 1 teachers")
        other_check.accessible(f"catalogue filtered by {email}")
        context.close()
