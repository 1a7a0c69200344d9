"""Feedback pages: leaving feedback on a delivered booking, the provider's reply and report, the
impact follow-up, and what offer pages, profiles, bookings and catalogue cards show to each role.
Every refusal is checked to have written nothing."""
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Feedback, ImpactFollowUp, OfferSession
from app.services import bookings
from app.services import feedback as service
from app.services.offers import local_now
from tests.support.booking_world import build_world, confirmed, move_into_past
from tests.support.html import XSS_CORPUS, dangerous_markup, user_content_blocks

HTMX = {"HX-Request": "true"}
COMMENT = ("We ran the phonics sessions with our Year 1 team: decoding checks rose from 61% to 78% "
           "in six weeks, and staff now model blending daily.")
GOOD = {"objectives_met": "partly", "quality": "4", "impact": "5", "would_recommend": "yes", "comment": COMMENT}
CHANGED = "Blending is now taught daily in every Key Stage 1 class, and the phonics check pass rate rose."


@pytest.fixture
def world(make_school, make_user, make_offer):
    return build_world(make_school, make_user, make_offer)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def delivered(world, *, who="teacher", session=None) -> Booking:
    """A booking of the buyer school: asked by `who`, confirmed by its lead, delivered by the provider."""
    session = session or world["session"]
    booking = bookings.request_places(world[who], session.id, 1)
    db.session.commit()
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    move_into_past(session)
    bookings.deliver(world["provider_lead"], booking.id, 1)
    db.session.commit()
    return booking


def fresh_session(offer) -> OfferSession:
    """Another session of the offer, a month ahead (a delivered booking moves its session into the past)."""
    start = local_now().replace(microsecond=0) + timedelta(days=30)
    session = OfferSession(offer_id=offer.id, starts_at=start, ends_at=start + timedelta(hours=2), places=20)
    db.session.add(session)
    db.session.commit()
    return session


def left(world, booking, *, comment=COMMENT, who="lead", quality=4) -> Feedback:
    item = service.leave(world[who], booking.id, objectives_met="yes", quality=quality, impact=4,
                         would_recommend=True, comment=comment)
    db.session.commit()
    return item


def follow_up_due(booking, weeks=9):
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    booking.delivered_at = booking.delivered_at - timedelta(weeks=weeks)
    db.session.commit()


class _Text(HTMLParser):
    """The visible text of a page (script and style left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def flashes(client) -> str:
    return visible_text(text_of(client.get("/")))


# --- leaving feedback ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead", "governor", "teacher"])
def test_the_receiving_school_leaves_feedback(client, login, world, who):
    booking = delivered(world)  # asked for by the teacher
    login(world[who])
    page = text_of(client.get(f"/feedback/new/{booking.id}"))
    assert "<h1>Feedback on Phonics in practice</h1>" in page
    for legend in ("Did the support meet the objectives you agreed?", "How good was the support?",
                   "How much has it changed practice in your school?", "Would you recommend it to another school?"):
        assert f"<legend>{legend}</legend>" in page
    assert "1 (poor)" in page and "5 (excellent)" in page
    assert "what changed for pupils or staff" in page

    response = client.post(f"/feedback/new/{booking.id}", data=GOOD)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/bookings/{booking.id}#booking-feedback"
    item = db.session.scalars(select(Feedback)).one()
    assert (item.objectives_met, item.quality, item.impact, item.would_recommend) == ("partly", 4, 5, True)
    assert item.author_id == world[who].id and item.organisation_id == world["buyer"].id

    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert "your feedback on “Phonics in practice” is published" in page
    assert "decoding checks rose from 61% to 78%" in page
    assert "Leave feedback" not in page


def test_htmx_success_answers_with_hx_redirect(client, login, world):
    booking = delivered(world)
    login(world["lead"])
    response = client.post(f"/feedback/new/{booking.id}", data=GOOD, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/bookings/{booking.id}#booking-feedback"
    assert count(Feedback) == 1


@pytest.mark.parametrize("who,status", [
    ("other_lead", 404),        # another school's booking is not acknowledged to exist
    ("other_teacher", 404),
    ("provider_lead", 403),     # the provider cannot review its own support
    ("provider_teacher", 403),
    ("coordinator", 403),
])
def test_people_outside_the_receiving_school_cannot_leave_feedback(client, login, world, who, status):
    booking = delivered(world)
    login(world[who])
    assert client.get(f"/feedback/new/{booking.id}").status_code == status
    response = client.post(f"/feedback/new/{booking.id}", data=GOOD)
    assert response.status_code == status
    if status == 403:
        assert "feedback" in text_of(response)
    assert count(Feedback) == 0


def test_a_teacher_who_did_not_book_cannot_leave_feedback(client, login, world):
    booking = delivered(world, who="lead")
    login(world["teacher"])
    response = client.get(f"/feedback/new/{booking.id}")
    assert response.status_code == 403
    assert "Only the school lead, a governor or the colleague who booked can leave feedback" in text_of(response)
    assert client.post(f"/feedback/new/{booking.id}", data=GOOD).status_code == 403
    assert count(Feedback) == 0


def test_visitors_are_sent_to_sign_in(client, world):
    booking = delivered(world)
    for response in (client.get(f"/feedback/new/{booking.id}"), client.post(f"/feedback/new/{booking.id}", data=GOOD)):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")
    assert count(Feedback) == 0


def test_feedback_is_left_once(client, login, world):
    booking = delivered(world)
    left(world, booking, comment="The first word on it, long enough to count as specific feedback.")
    login(world["governor"])
    response = client.get(f"/feedback/new/{booking.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/bookings/{booking.id}"
    assert "already left feedback on this booking" in flashes(client)
    response = client.post(f"/feedback/new/{booking.id}", data=GOOD)
    assert response.status_code == 303
    assert count(Feedback) == 1
    assert db.session.scalars(select(Feedback)).one().comment.startswith("The first word")


def test_no_feedback_before_delivery(client, login, world):
    booking = confirmed(world)
    login(world["lead"])
    response = client.get(f"/feedback/new/{booking.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/bookings/{booking.id}"
    assert "once the support has been delivered" in flashes(client)
    assert client.post(f"/feedback/new/{booking.id}", data=GOOD).status_code == 303
    assert count(Feedback) == 0


@pytest.mark.parametrize("booking_id", [999, 2**63, 2**80])
def test_unknown_bookings_are_not_found(client, login, world, booking_id):
    login(world["lead"])
    assert client.get(f"/feedback/new/{booking_id}").status_code == 404


def test_every_problem_is_shown_at_once_and_nothing_is_saved(client, login, world):
    booking = delivered(world)
    login(world["lead"])
    response = client.post(f"/feedback/new/{booking.id}", data={"quality": "9", "impact": "x", "comment": "  "})
    assert response.status_code == 200
    page = text_of(response)
    assert "There is a problem" in page
    for message in ("Say whether the support met its objectives: yes, partly or no",
                    "Choose a rating for quality from 1 to 5",
                    "Choose a rating for impact on practice from 1 to 5",
                    "Say whether you would recommend it",
                    "Write your feedback: what you did, what changed and how you know"):
        assert message in page
    # Each message links to its field, and the radio groups are marked as in error.
    assert '<a href="#objectives_met">' in page and '<a href="#comment">' in page
    assert 'id="quality" class="checkbox-group radio-group rating-scale field-error"' in page
    assert count(Feedback) == 0


def test_a_vague_comment_is_refused_and_the_answers_are_kept(client, login, world):
    booking = delivered(world)
    login(world["lead"])
    response = client.post(f"/feedback/new/{booking.id}", data={**GOOD, "comment": "Great, thanks!"})
    assert response.status_code == 200
    page = text_of(response)
    assert f"Please be specific: write at least {service.COMMENT_MIN} characters" in page
    assert "Great, thanks!</textarea>" in page
    assert re.search(r'<input checked[^>]*value="partly"|<input[^>]*value="partly"[^>]*checked', page)
    long = client.post(f"/feedback/new/{booking.id}", data={**GOOD, "comment": "x" * (service.COMMENT_MAX + 1)})
    assert f"Your feedback must be {service.COMMENT_MAX:,} characters or fewer" in text_of(long)
    assert count(Feedback) == 0


def test_htmx_validation_answers_with_the_form_alone(client, login, world):
    booking = delivered(world)
    login(world["lead"])
    response = client.post(f"/feedback/new/{booking.id}", data={**GOOD, "would_recommend": "maybe"}, headers=HTMX)
    assert response.status_code == 200
    page = text_of(response)
    assert page.lstrip().startswith('<form id="feedback-form"')
    assert "<html" not in page
    assert "Say whether you would recommend it" in page
    assert count(Feedback) == 0


# --- the booking page ------------------------------------------------------------------------------


def test_the_booking_page_offers_feedback_to_the_receiving_school_only(client, login, world):
    booking = delivered(world)
    login(world["lead"])
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert f'href="/feedback/new/{booking.id}"' in page
    assert "Leave feedback" in page
    login(world["provider_lead"])
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert f"/feedback/new/{booking.id}" not in page
    assert "No feedback on this booking." in page


def test_no_feedback_button_before_delivery(client, login, world):
    booking = confirmed(world)
    login(world["lead"])
    assert f"/feedback/new/{booking.id}" not in text_of(client.get(f"/bookings/{booking.id}"))


def test_the_provider_sees_the_feedback_on_its_booking_with_a_reply_form(client, login, world):
    booking = delivered(world)
    item = left(world, booking)
    login(world["provider_lead"])
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert "decoding checks rose" in page
    assert f'action="/feedback/{item.id}/reply"' in page
    assert f'action="/feedback/{item.id}/report"' in page


# --- what offer pages, profiles and cards show ----------------------------------------------------------


def test_no_feedback_yet(client, world):
    page = text_of(client.get(f"/offers/{world['offer'].id}"))
    assert "No feedback yet." in page
    assert "Sign in to read what schools said" not in page


def test_visitors_see_the_figures_but_not_what_schools_said(client, world):
    booking = delivered(world)
    left(world, booking)
    for url in (f"/offers/{world['offer'].id}", f"/directory/{world['provider'].directory_key}"):
        page = text_of(client.get(url))
        text = visible_text(page)
        assert "1 review from schools that received" in text
        assert "Quality 3.2 out of 5" in text  # (3 x 5 + 4) / 6: one review barely moves the mean
        assert "Would recommend 100%" in text
        assert "Sign in to read what schools said" in text
        assert "decoding checks" not in page
        section = text.split("Feedback from schools", 1)[1].split("Schools like", 1)[0]
        assert "Buyer School" not in section, "nor who wrote it"


def test_members_read_the_comments_with_replies_and_follow_ups(client, login, world):
    booking = delivered(world)
    item = left(world, booking)
    service.reply(world["provider_lead"], item.id, "Thank you: we will share the **blending** routine.")
    follow_up_due(booking)
    service.follow_up(world["lead"], booking.id, what_changed=CHANGED, impact=5)
    db.session.commit()
    login(world["other_teacher"])
    for url in (f"/offers/{world['offer'].id}", f"/directory/{world['provider'].directory_key}"):
        page = text_of(client.get(url))
        text = visible_text(page)
        assert "From Buyer School" in text
        assert "decoding checks rose from 61% to 78%" in text
        assert "Reply from Provider School" in text and "<strong>blending</strong>" in page
        assert "What changed, eight weeks on · lasting impact 5 out of 5" in text
        assert "phonics check pass rate rose" in text
        assert "Sign in to read" not in text
        # Only the provider's lead may reply or report.
        assert f"/feedback/{item.id}/reply" not in page and f"/feedback/{item.id}/report" not in page
    # The profile names the offer each item is about.
    page = text_of(client.get(f"/directory/{world['provider'].directory_key}"))
    assert f'on <a href="/offers/{world["offer"].id}">Phonics in practice</a>' in page


def test_the_latest_five_are_shown(client, login, world, make_offer):
    for n in range(6):
        offer = make_offer(organisation=world["provider"], sessions=1, title=f"Offer {n}")
        left(world, delivered(world, session=offer.sessions[0]), comment=f"Comment number {n}: " + COMMENT)
    login(world["other_teacher"])
    page = text_of(client.get(f"/directory/{world['provider'].directory_key}"))
    assert "6 reviews" in visible_text(page)
    assert page.count('class="feedback-item') == 5
    assert "Comment number 5" in page and "Comment number 0" not in page


def test_catalogue_cards_show_a_small_rating(client, world, make_offer):
    left(world, delivered(world))
    make_offer(organisation=world["provider"], title="Unreviewed offer")
    page = text_of(client.get("/offers"))
    cards = dict(re.findall(r'<h3 id="offer-\d+-title"><a href="[^"]+">([^<]+)</a></h3>(.*?)</article>', page, re.S))
    assert "★ 3.2" in visible_text(cards["Phonics in practice"])
    assert "(1 review)" in visible_text(cards["Phonics in practice"])
    assert "★" not in cards["Unreviewed offer"]


@pytest.mark.parametrize("viewer,sees", [
    ("coordinator", True),
    ("lead", True),            # the school that wrote it
    ("teacher", True),
    ("provider_teacher", True),  # the provider
    ("other_lead", False),
    (None, False),
])
def test_hidden_feedback_is_shown_marked_only_to_those_concerned(client, login, world, viewer, sees):
    booking = delivered(world)
    item = left(world, booking)
    service.hide(world["coordinator"], item.id, "Names a member of staff.")
    db.session.commit()
    if viewer:
        login(world[viewer])
    for url in (f"/offers/{world['offer'].id}", f"/directory/{world['provider'].directory_key}"):
        text = visible_text(text_of(client.get(url)))
        # Hidden items no longer count, for everyone.
        assert "No feedback yet." in text
        assert ("decoding checks rose" in text) is sees
        assert ("Hidden by a coordinator: Names a member of staff." in text) is sees


# --- the provider's reply --------------------------------------------------------------------------


def test_the_providers_lead_replies_once(client, login, world):
    item = left(world, delivered(world))
    login(world["provider_lead"])
    offer_url = f"/offers/{world['offer'].id}"
    page = text_of(client.get(offer_url))
    assert f'name="reply-{item.id}-next" type="hidden" value="{offer_url}"' in page
    response = client.post(f"/feedback/{item.id}/reply",
                           data={f"reply-{item.id}-text": "Thank you for the kind words.", f"reply-{item.id}-next": offer_url})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{offer_url}#feedback-{item.id}"
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).reply == "Thank you for the kind words."
    page = text_of(client.get(offer_url))
    assert "Your reply is published" in page and "Thank you for the kind words." in page
    assert f"/feedback/{item.id}/reply" not in page  # once

    again = client.post(f"/feedback/{item.id}/reply", data={f"reply-{item.id}-text": "A second reply."})
    assert again.status_code == 303
    assert "already replied" in flashes(client)
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).reply == "Thank you for the kind words."


def test_a_reply_goes_back_to_a_safe_page_only(client, login, world):
    item = left(world, delivered(world))
    login(world["provider_lead"])
    response = client.post(f"/feedback/{item.id}/reply",
                           data={f"reply-{item.id}-text": "Thanks.", f"reply-{item.id}-next": "//evil.test/x"})
    assert response.headers["Location"] == f"/offers/{world['offer'].id}#feedback-{item.id}"


@pytest.mark.parametrize("who,status", [
    ("provider_teacher", 403), ("lead", 403), ("other_lead", 403), ("coordinator", 403),
])
def test_only_the_providers_lead_may_reply(client, login, world, who, status):
    item = left(world, delivered(world))
    login(world[who])
    for text in ("A reply.", ""):
        response = client.post(f"/feedback/{item.id}/reply", data={f"reply-{item.id}-text": text})
        assert response.status_code == status
        # An empty form from someone who may not reply does not show them the item either.
        assert "decoding checks" not in text_of(response)
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).reply is None


def test_an_empty_reply_is_sent_back_with_its_message(client, login, world):
    item = left(world, delivered(world))
    login(world["provider_lead"])
    response = client.post(f"/feedback/{item.id}/reply", data={f"reply-{item.id}-text": "   "})
    assert response.status_code == 200
    page = text_of(response)
    assert "Write your reply" in page and "There is a problem" in page
    assert "<h1>Feedback on Phonics in practice</h1>" in page
    assert f'<details class="feedback-action" open>' in page
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).reply is None


def test_htmx_reply_swaps_the_item_in_place(client, login, world):
    item = left(world, delivered(world))
    login(world["provider_lead"])
    bad = client.post(f"/feedback/{item.id}/reply", data={f"reply-{item.id}-text": ""}, headers=HTMX)
    assert bad.status_code == 200
    assert text_of(bad).lstrip().startswith(f'<article id="feedback-{item.id}"')
    assert "Write your reply" in text_of(bad)
    good = client.post(f"/feedback/{item.id}/reply", data={f"reply-{item.id}-text": "We are glad it helped."}, headers=HTMX)
    assert good.status_code == 200
    page = text_of(good)
    assert page.lstrip().startswith(f'<article id="feedback-{item.id}"')
    assert "<html" not in page
    assert "Your reply is published" in page and "We are glad it helped." in page
    assert f'<h3 id="feedback-{item.id}-title"' in page  # back into a list under an h2
    assert f"/feedback/{item.id}/reply" not in page


def test_a_hidden_item_cannot_be_replied_to(client, login, world):
    item = left(world, delivered(world))
    service.hide(world["coordinator"], item.id, "Off topic.")
    db.session.commit()
    login(world["provider_lead"])
    response = client.post(f"/feedback/{item.id}/reply", data={f"reply-{item.id}-text": "A reply."})
    assert response.status_code == 303
    assert "hidden by a coordinator" in flashes(client)
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).reply is None


def test_unknown_feedback_is_not_found(client, login, world):
    login(world["provider_lead"])
    assert client.post("/feedback/999/reply", data={"reply-999-text": "x"}).status_code == 404
    assert client.post(f"/feedback/{2**64}/report", data={}).status_code == 404


# --- the provider's report ----------------------------------------------------------------------------


def test_the_providers_lead_reports_an_item(client, login, world):
    item = left(world, delivered(world))
    login(world["provider_lead"])
    response = client.post(f"/feedback/{item.id}/report",
                           data={f"report-{item.id}-reason": "This describes a different course."})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).report_reason == "This describes a different course."
    page = visible_text(text_of(client.get(f"/offers/{world['offer'].id}")))
    assert "Reported: a coordinator will look at it" in page
    assert "Reported to the coordinators on" in page
    # Still visible to everyone meanwhile, and the report is not shown to others.
    login(world["other_teacher"])
    page = visible_text(text_of(client.get(f"/offers/{world['offer'].id}")))
    assert "decoding checks rose" in page and "Reported" not in page

    login(world["provider_lead"])
    again = client.post(f"/feedback/{item.id}/report", data={f"report-{item.id}-reason": "Again."})
    assert again.status_code == 303
    assert "already been reported" in flashes(client)
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).report_reason == "This describes a different course."


@pytest.mark.parametrize("who", ["provider_teacher", "lead", "other_lead"])
def test_only_the_providers_lead_may_report(client, login, world, who):
    item = left(world, delivered(world))
    login(world[who])
    assert client.post(f"/feedback/{item.id}/report", data={f"report-{item.id}-reason": "No."}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).reported_at is None


def test_a_report_needs_a_reason(client, login, world):
    item = left(world, delivered(world))
    login(world["provider_lead"])
    response = client.post(f"/feedback/{item.id}/report", data={f"report-{item.id}-reason": ""})
    assert response.status_code == 200
    assert "Say why you are reporting this feedback" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).reported_at is None


def test_reply_and_report_need_a_signed_in_user(client, world):
    item = left(world, delivered(world))
    for url in (f"/feedback/{item.id}/reply", f"/feedback/{item.id}/report"):
        response = client.post(url, data={f"reply-{item.id}-text": "x", f"report-{item.id}-reason": "x"})
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    db.session.expire_all()
    fresh = db.session.get(Feedback, item.id)
    assert fresh.reply is None and fresh.reported_at is None


# --- the impact follow-up -----------------------------------------------------------------------


def test_the_follow_up_opens_eight_weeks_after_delivery(client, login, world):
    booking = delivered(world)
    left(world, booking)
    login(world["lead"])
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert f"/feedback/follow-up/{booking.id}" not in page
    assert "eight weeks after delivery, your school will be asked what has changed" in page
    response = client.get(f"/feedback/follow-up/{booking.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/bookings/{booking.id}"
    assert "not due yet" in flashes(client)
    assert client.post(f"/feedback/follow-up/{booking.id}", data={"what_changed": CHANGED, "impact": "4"}).status_code == 303
    assert count(ImpactFollowUp) == 0

    follow_up_due(booking)
    page = text_of(client.get(f"/bookings/{booking.id}"))
    assert f'href="/feedback/follow-up/{booking.id}"' in page
    form = text_of(client.get(f"/feedback/follow-up/{booking.id}"))
    assert "<legend>How much has it changed practice now?</legend>" in form
    response = client.post(f"/feedback/follow-up/{booking.id}", data={"what_changed": CHANGED, "impact": "4"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/bookings/{booking.id}#booking-feedback"
    row = db.session.scalars(select(ImpactFollowUp)).one()
    assert (row.impact, row.what_changed) == (4, CHANGED)
    page = visible_text(text_of(client.get(f"/bookings/{booking.id}")))
    assert "What changed, eight weeks on · lasting impact 4 out of 5" in page
    assert client.get(f"/feedback/follow-up/{booking.id}").status_code == 303  # once
    assert count(ImpactFollowUp) == 1


def test_follow_up_validation(client, login, world):
    booking = delivered(world)
    follow_up_due(booking)
    login(world["lead"])
    response = client.post(f"/feedback/follow-up/{booking.id}", data={"what_changed": "Better.", "impact": "0"})
    assert response.status_code == 200
    page = text_of(response)
    assert f"Please be specific: write at least {service.WHAT_CHANGED_MIN} characters" in page
    assert "Choose a rating for impact on practice from 1 to 5" in page
    assert count(ImpactFollowUp) == 0


@pytest.mark.parametrize("who,status", [("provider_lead", 403), ("other_lead", 404), ("coordinator", 403)])
def test_only_the_receiving_school_records_what_changed(client, login, world, who, status):
    booking = delivered(world)
    follow_up_due(booking)
    login(world[who])
    assert client.get(f"/feedback/follow-up/{booking.id}").status_code == status
    assert client.post(f"/feedback/follow-up/{booking.id}", data={"what_changed": CHANGED, "impact": "4"}).status_code == status
    assert count(ImpactFollowUp) == 0


# --- user text never runs script ----------------------------------------------------------------------


def test_xss_through_comment_reply_and_follow_up_is_harmless(client, login, world, make_offer):
    def reviewed(text):
        """An offer with one delivered booking, its feedback, reply and follow-up all saying `text`."""
        offer = make_offer(organisation=world["provider"], sessions=0, title="Reviewed", price_credits=0)
        booking = delivered(world, session=fresh_session(offer))
        item = left(world, booking, comment=text + " " + COMMENT)
        service.reply(world["provider_lead"], item.id, text)
        follow_up_due(booking)
        service.follow_up(world["lead"], booking.id, what_changed=text + " " + CHANGED, impact=3)
        db.session.commit()
        return offer, booking

    for payload in XSS_CORPUS:
        plain_offer, plain_booking = reviewed("Plain words.")
        offer, booking = reviewed(payload)
        for who in ("coordinator", "provider_lead", "lead"):
            login(world[who])
            for url, plain_url in ((f"/offers/{offer.id}", f"/offers/{plain_offer.id}"),
                                   (f"/bookings/{booking.id}", f"/bookings/{plain_booking.id}")):
                html = text_of(client.get(url))
                # Comment, reply and follow-up are each sanitised inside an hx-disable container...
                blocks = user_content_blocks(html)
                assert len(blocks) >= 3, (who, url, payload)
                for block in blocks:
                    assert dangerous_markup(block) == [], (who, url, payload, block)
                # ...and add nothing that runs or fires requests anywhere on the page.
                assert dangerous_markup(html) == dangerous_markup(text_of(client.get(plain_url))), (who, url, payload)
        login(world["coordinator"])
        for url in (f"/directory/{world['provider'].directory_key}", "/admin/moderation?show=all"):
            html = text_of(client.get(url))
            for block in user_content_blocks(html):
                assert dangerous_markup(block) == [], (url, payload, block)
            assert "<script>alert" not in html, (url, payload)
