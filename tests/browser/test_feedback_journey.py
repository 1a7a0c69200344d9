"""Feedback in Chromium, as the people involved would give and moderate it: the school lead leaves
feedback on delivered support (after a first try with nothing filled in), the provider's lead
replies in place, a coordinator hides it and restores it, and the offer's figures follow. axe-core
runs on every page visited, at desktop width and on a phone."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Feedback
from app.services import bookings, ledger
from tests.browser.conftest import PageChecker
from tests.support.booking_world import move_into_past

PASSWORD = "correct horse battery staple"
COMMENT = ("We ran the twilight sessions with our Year 1 team. Decoding checks rose from 61% to 78% in six "
           "weeks, and staff now model blending every day.")


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
        "coordinator": make_user(role="coordinator", email="cora@partnership.test", password=PASSWORD,
                                 name="Cora Coordinator"),
    }
    offer = make_offer(organisation=provider, title="Phonics twilights", sessions=1, places=10, price_credits=3)
    ledger.issue(people["coordinator"], kind="allocation", organisation_id=buyer.id, amount=20, key="alloc-fb",
                 reason="year")
    booking = bookings.request_places(people["lead"], offer.sessions[0].id, 2)
    db.session.commit()
    bookings.confirm(people["lead"], booking.id)
    db.session.commit()
    move_into_past(offer.sessions[0])
    bookings.deliver(people["provider_lead"], booking.id, 2)
    db.session.commit()
    return {"offer": offer, "booking": booking, **people}


def sign_in(page, live_server, email):
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def figures(page):
    return page.locator("#offer-feedback .feedback-summary")


def test_feedback_from_delivery_to_moderation(page, live_server, check, journey):
    offer, booking = journey["offer"], journey["booking"]
    offer_url = f"{live_server}/offers/{offer.id}"

    # The school lead is asked for feedback on the delivered booking.
    sign_in(page, live_server, "lead@fennelbrook.test")
    page.goto(f"{live_server}/bookings/{booking.id}")
    check.accessible("delivered booking, feedback to leave")
    page.get_by_role("link", name="Leave feedback").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback on Phonics twilights")
    check.accessible("feedback form")

    # Sent with nothing filled in: every problem is listed, linked to its field.
    page.get_by_role("button", name="Publish feedback").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Say whether the support met its objectives")
    expect(summary).to_contain_text("Choose a rating for quality from 1 to 5")
    check.accessible("feedback form with errors")

    objectives = page.get_by_role("group", name="Did the support meet the objectives you agreed?")
    objectives.get_by_label("Partly").check()
    page.get_by_role("group", name="How good was the support?").get_by_label("5 (excellent)").check()
    page.get_by_role("group", name="How much has it changed practice in your school?").get_by_label("4").check()
    page.get_by_role("group", name="Would you recommend it to another school?").get_by_label("Yes").check()
    page.get_by_label("Your feedback").fill(COMMENT)
    page.get_by_role("button", name="Publish feedback").click()
    expect(page).to_have_url(re.compile(rf"/bookings/{booking.id}#booking-feedback$"))
    expect(page.get_by_role("status").filter(has_text="your feedback on “Phonics twilights” is published")).to_be_visible()
    expect(page.locator("#booking-feedback")).to_contain_text("Decoding checks rose from 61% to 78%")
    expect(page.get_by_role("link", name="Leave feedback")).to_have_count(0)
    check.accessible("booking with its feedback")
    sign_out(page)

    # The provider's lead replies on the offer page; htmx swaps the item in place.
    sign_in(page, live_server, "lead@linnetford.test")
    page.goto(offer_url)
    expect(figures(page)).to_contain_text("1 review")
    item = page.locator(".feedback-item").first
    item.locator("summary", has_text="Reply").click()
    check.accessible("offer page, reply form open")
    item.get_by_role("button", name="Publish reply").click()
    expect(page.locator(".feedback-item .error-summary")).to_contain_text("Write your reply")
    page.locator(".feedback-item").get_by_label("Your reply").fill("Thank you: we will send the **blending** routine.")
    with page.expect_response(lambda r: r.url.endswith("/reply")) as answer:
        page.locator(".feedback-item").get_by_role("button", name="Publish reply").click()
    assert answer.value.status == 200  # swapped in place, not a new page
    item = page.locator(".feedback-item").first
    expect(item.get_by_role("status")).to_contain_text("Your reply is published")
    expect(item.locator(".feedback-reply")).to_contain_text("Thank you: we will send the blending routine.")
    expect(item.locator(".feedback-reply strong", has_text="blending")).to_be_visible()
    expect(item.locator("summary", has_text="Reply")).to_have_count(0)  # once only
    check.accessible("offer page after the reply")
    sign_out(page)

    # A coordinator hides it with a reason; the figures no longer count it.
    sign_in(page, live_server, "cora@partnership.test")
    page.goto(f"{live_server}/admin")
    page.get_by_role("link", name="Feedback moderation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback moderation")
    page.get_by_role("link", name=re.compile(r"^All feedback")).click()
    check.accessible("moderation, all feedback")
    entry = page.locator(".moderation-item").first
    expect(entry).to_contain_text("Reply from Linnetford High School")
    entry.get_by_role("button", name=re.compile("^Hide")).click()
    expect(entry.locator(".error-summary")).to_contain_text("Give a reason")
    page.locator(".moderation-item").first.get_by_label("Why hide it?").fill("It names a member of staff.")
    page.locator(".moderation-item").first.get_by_role("button", name=re.compile("^Hide")).click()
    entry = page.locator(".moderation-item").first
    expect(entry.get_by_role("status")).to_contain_text("Hidden: it no longer counts in the figures")
    expect(entry).to_contain_text("Hidden by a coordinator: It names a member of staff.")
    check.accessible("moderation, after hiding")
    page.goto(offer_url)
    expect(figures(page)).to_contain_text("No feedback yet.")
    expect(page.locator(".feedback-item .moderation-note")).to_contain_text("Hidden by a coordinator: It names a member of staff.")
    check.accessible("offer page, hidden item (coordinator)")

    # ...and restores it: the figures count it again.
    page.goto(f"{live_server}/admin/moderation?show=hidden")
    entry = page.locator(".moderation-item").first
    entry.get_by_label("Why restore it?").fill("The school removed the name; it is fair feedback.")
    entry.get_by_role("button", name=re.compile("^Restore")).click()
    expect(page.locator(".moderation-item").first.get_by_role("status")).to_contain_text("Restored")
    expect(page.locator(".moderation-item").first).to_contain_text("Restored or kept visible by Cora Coordinator")
    check.accessible("moderation, after restoring")
    page.goto(offer_url)
    expect(figures(page)).to_contain_text("1 review")
    expect(page.locator(".feedback-item .moderation-note")).to_have_count(0)
    sign_out(page)

    db.session.rollback()  # end the test's read snapshot: see what the server wrote
    item = db.session.scalars(select(Feedback)).one()
    assert item.hidden_at is None and item.reply.startswith("Thank you")
    assert [event.action for event in item.moderation] == ["hide", "unhide"]


def test_feedback_pages_on_a_phone(browser, live_server, journey):
    offer, booking = journey["offer"], journey["booking"]
    db.session.rollback()
    from app.services import feedback

    item = feedback.leave(journey["lead"], booking.id, objectives_met="yes", quality=4, impact=4,
                          would_recommend=True, comment=COMMENT)
    feedback.reply(journey["provider_lead"], item.id, "Thank you for such specific feedback.")
    feedback.report(journey["provider_lead"], item.id, "Checking a detail with the school.")
    db.session.commit()

    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    checker = PageChecker(page)

    # A visitor sees the figures only.
    page.goto(f"{live_server}/offers/{offer.id}")
    expect(figures(page)).to_contain_text("1 review")
    expect(page.get_by_role("link", name="Sign in to read what schools said")).to_be_visible()
    expect(page.locator(".feedback-item")).to_have_count(0)
    checker.accessible("offer page at 375px (visitor)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # Members read the comment and the reply; a coordinator moderates.
    sign_in(page, live_server, "cora@partnership.test")
    for path in (f"/offers/{offer.id}", f"/bookings/{booking.id}", "/admin/moderation",
                 f"/directory/{offer.organisation.directory_key}"):
        page.goto(f"{live_server}{path}")
        expect(page.locator("main")).to_contain_text("Thank you for such specific feedback.")
        checker.accessible(f"{path} at 375px (coordinator)")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    context.close()
