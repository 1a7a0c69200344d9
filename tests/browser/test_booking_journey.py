"""A booking from request to delivery, in Chromium, as the three people involved would make it:
a teacher books two places, the school lead confirms (credits are held), the provider's lead
marks it delivered after the session, and both schools see it as delivered. axe-core runs on
every page visited."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from playwright.sync_api import expect

from app.extensions import db
from app.models import Booking
from app.services import ledger
from app.services.offers import local_now

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_config():
    # The browser sends real forms: keep CSRF protection on, as in production.
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def journey(taxonomy, make_school, make_user, make_offer):
    provider = make_school(name="Linnetford High School", phase="secondary")
    buyer = make_school(name="Fennelbrook Primary School")
    people = {
        "provider_lead": make_user(role="school_lead", organisation=provider, email="lead@linnetford.test",
                                   password=PASSWORD, name="Pat Provider"),
        "lead": make_user(role="school_lead", organisation=buyer, email="lead@fennelbrook.test",
                          password=PASSWORD, name="Lee Lead"),
        "teacher": make_user(role="teacher", organisation=buyer, email="teacher@fennelbrook.test",
                             password=PASSWORD, name="Tess Teacher"),
    }
    coordinator = make_user(role="coordinator")
    offer = make_offer(organisation=provider, title="Phonics twilights", sessions=1, places=10, price_credits=3)
    ledger.issue(coordinator, kind="allocation", organisation_id=buyer.id, amount=20, key="alloc-journey", reason="year")
    db.session.commit()
    return {"offer": offer, "session": offer.sessions[0], **people}


def sign_in(page, live_server, check, email):
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def test_a_booking_from_request_to_delivery(page, live_server, check, journey):
    offer, session = journey["offer"], journey["session"]

    # The teacher books two places: provisional until the lead confirms.
    sign_in(page, live_server, check, "teacher@fennelbrook.test")
    page.goto(f"{live_server}/offers/{offer.id}")
    panel = page.locator("#booking-panel")
    expect(panel).to_contain_text("provisional")
    check.accessible("offer page with the booking panel")
    panel.get_by_label("Places").select_option("2")
    expect(panel.get_by_label("Places").locator("option:checked")).to_have_text("2 places (6 credits)")
    panel.get_by_text("Add a note for the provider").click()
    panel.get_by_label("Note for the provider (optional)").fill("Two of our Year 1 team")
    panel.get_by_role("button", name=re.compile("^Book places")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phonics twilights")
    expect(page.locator(".booking-status")).to_contain_text("Requested")
    expect(page.get_by_text("your school lead has been asked to confirm it")).to_be_visible()
    check.accessible("booking page, requested")
    db.session.rollback()  # end the test's read snapshot: see what the server wrote
    booking = db.session.scalars(select(Booking)).one()
    sign_out(page)

    # The lead sees it waiting, and confirms it: the credits are held.
    sign_in(page, live_server, check, "lead@fennelbrook.test")
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_text("Tess Teacher asked to book Phonics twilights")).to_be_visible()
    check.accessible("notifications")
    page.goto(f"{live_server}/bookings")
    needs = page.locator(".needs-action")
    expect(needs).to_contain_text("Requests to confirm")
    check.accessible("bookings list with a request to confirm")
    needs.get_by_role("link", name="Phonics twilights").click()
    expect(page.locator("#confirm-form")).to_contain_text("Confirming holds 6 credits")
    check.accessible("booking page for the lead")
    with page.expect_response(lambda r: r.url.endswith(f"/bookings/{booking.id}/confirm")) as answer:
        page.get_by_role("button", name="Confirm booking").click()
    assert answer.value.headers.get("hx-trigger") == "credits-changed"
    expect(page.locator(".booking-status")).to_contain_text("Confirmed")
    expect(page.locator(".booking-credits")).to_contain_text("6 credits held")
    expect(page.get_by_role("status").filter(has_text="Booking confirmed")).to_be_visible()
    check.accessible("booking page, confirmed")
    sign_out(page)

    # The session happens.
    db.session.rollback()
    now = local_now()
    session.starts_at, session.ends_at = now - timedelta(hours=3), now - timedelta(hours=1)
    db.session.commit()

    # The provider's lead marks it delivered, with attendance.
    sign_in(page, live_server, check, "lead@linnetford.test")
    page.goto(f"{live_server}/bookings?side=provided")
    expect(page.locator(".needs-action")).to_contain_text("mark delivered")
    check.accessible("bookings with us, to mark delivered")
    page.locator(".needs-action").get_by_role("link", name="Phonics twilights").click()
    page.get_by_label("How many attended?").fill("2")
    page.get_by_role("button", name="Mark delivered").click()
    expect(page.locator(".booking-status")).to_contain_text("Delivered")
    expect(page.locator(".booking-credits")).to_contain_text("6 credits settled")
    check.accessible("booking page, delivered (provider)")
    sign_out(page)

    # The school that booked sees it delivered too.
    sign_in(page, live_server, check, "lead@fennelbrook.test")
    page.goto(f"{live_server}/bookings/{booking.id}")
    expect(page.locator(".booking-status")).to_contain_text("Delivered")
    expect(page.get_by_text("(2 attended)")).to_be_visible()
    check.accessible("booking page, delivered (school)")

    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "delivered"
    assert ledger.balance_of(journey["offer"].organisation_id).available == 6
    assert ledger.verify() == []
