"""Verified peer feedback: who may leave it, the reply, reports and moderation, who reads
what, the shrunk-mean scores and the impact follow-up."""
from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Booking, Feedback, ImpactFollowUp, ModerationEvent, Notification, QualityScore
from app.models.base import utcnow
from app.services import feedback
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound

COMMENT = "The phonics modelling was practical and our Year 1 team used the sound mats the next day."
WRITTEN = (Feedback, ImpactFollowUp, ModerationEvent, AuditLog, Notification, QualityScore)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def snapshot() -> dict:
    db.session.expire_all()
    return {model.__name__: count(model) for model in WRITTEN}


@pytest.fixture
def world(make_school, make_user, make_offer):
    provider = make_school(name="Provider School")
    buyer = make_school(name="Buyer School")
    other = make_school(name="Other School")
    people = {
        "coordinator": make_user(role="coordinator", name="Cora Coordinator"),
        "admin": make_user(role="admin", name="Ada Admin"),
        "provider_lead": make_user(role="school_lead", organisation=provider, name="Pat Provider"),
        "provider_teacher": make_user(role="teacher", organisation=provider, name="Pip Provider"),
        "lead": make_user(role="school_lead", organisation=buyer, name="Lee Lead"),
        "teacher": make_user(role="teacher", organisation=buyer, name="Tess Teacher"),
        "colleague": make_user(role="teacher", organisation=buyer, name="Cole Colleague"),
        "governor": make_user(role="governor", organisation=buyer, name="Gil Governor"),
        "other_lead": make_user(role="school_lead", organisation=other, name="Olly Other"),
        "other_teacher": make_user(role="teacher", organisation=other, name="Otto Other"),
    }
    offer = make_offer(organisation=provider, sessions=1, places=30, title="Phonics in practice")
    return {"provider": provider, "buyer": buyer, "other": other, "offer": offer, "session": offer.sessions[0],
            **people}


@pytest.fixture
def make_booking(world):
    """A booking row in a given state (the booking service is tested elsewhere)."""

    def factory(school="buyer", requester="teacher", status="delivered", delivered_ago=timedelta(days=2),
                offer=None):
        offer = offer or world["offer"]
        now = utcnow()
        booking = Booking(offer_id=offer.id, session_id=offer.sessions[0].id if offer.sessions else None,
                          organisation_id=world[school].id, requested_by_id=world[requester].id, places=1,
                          status=status, credits=0, confirmed_at=now - timedelta(days=30),
                          delivered_at=now - delivered_ago if status == "delivered" else None,
                          attended=1 if status == "delivered" else None)
        db.session.add(booking)
        db.session.commit()
        return booking

    return factory


def leave(actor, booking, **changes):
    values = dict(objectives_met="yes", quality=4, impact=4, would_recommend=True, comment=COMMENT)
    values.update(changes)
    item = feedback.leave(actor, booking.id, **values)
    db.session.commit()
    return item


def notes_for(user, kind=None) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return db.session.scalars(stmt.order_by(Notification.id)).all()


# --- leaving feedback -------------------------------------------------------------------


def test_the_colleague_who_booked_leaves_feedback_and_the_provider_hears(world, make_booking):
    booking = make_booking()
    item = leave(world["teacher"], booking, objectives_met="partly", quality=5, impact=3, would_recommend=False,
                 comment="  " + COMMENT + "  ")
    assert (item.booking_id, item.offer_id, item.provider_id, item.organisation_id, item.author_id) == (
        booking.id, world["offer"].id, world["provider"].id, world["buyer"].id, world["teacher"].id)
    assert (item.objectives_met, item.quality, item.impact, item.would_recommend) == ("partly", 5, 3, False)
    assert item.comment == COMMENT, "trimmed"
    [note] = notes_for(world["provider_lead"], "feedback_received")
    assert note.link == f"/offers/{world['offer'].id}" and "Buyer School" in note.message
    assert not notes_for(world["provider_teacher"]), "the provider's leads are told, not every member"
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "feedback.left"))
    assert audit.actor_id == world["teacher"].id and audit.object_id == item.id
    for subject, subject_id in (("offer", world["offer"].id), ("provider", world["provider"].id)):
        score = feedback.summary(subject, subject_id)
        assert score.count == 1
        assert score.quality_mean == pytest.approx((15 + 5) / 6)
        assert score.impact_mean == pytest.approx((15 + 3) / 6)
        assert score.objectives_mean == pytest.approx((2.5 + 0.5) / 6)
        assert score.recommend_share == 0.0


@pytest.mark.parametrize("who", ["lead", "governor", "teacher"])
def test_the_lead_a_governor_or_the_requester_may_leave_it(world, make_booking, who):
    booking = make_booking(requester="teacher")
    assert feedback.can_leave(world[who], booking)
    assert leave(world[who], booking).author_id == world[who].id


@pytest.mark.parametrize("who,status,error", [
    ("teacher", "confirmed", Conflict),         # not delivered yet
    ("teacher", "no_show", Conflict),
    ("lead", "cancelled", Conflict),
    ("provider_lead", "delivered", NotAllowed),  # the provider's own people
    ("provider_teacher", "delivered", NotAllowed),
    ("other_lead", "delivered", NotAllowed),     # another school
    ("other_teacher", "delivered", NotAllowed),
    ("colleague", "delivered", NotAllowed),      # a teacher of the school who did not book
    ("coordinator", "delivered", NotAllowed),
    ("admin", "delivered", NotAllowed),
    (None, "delivered", NotAllowed),             # a visitor
])
def test_refusals_write_nothing(world, make_booking, who, status, error):
    booking = make_booking(status=status)
    actor = world[who] if who else None
    before = snapshot()
    assert not feedback.can_leave(actor, booking)
    with pytest.raises(error):
        leave(actor, booking)
    db.session.rollback()
    assert snapshot() == before


def test_an_anonymous_visitor_and_an_inactive_account_are_refused(world, make_booking):
    booking = make_booking()
    world["teacher"].active = False
    db.session.commit()
    before = snapshot()
    for actor in (AnonymousUserMixin(), world["teacher"]):
        with pytest.raises(NotAllowed):
            leave(actor, booking)
        db.session.rollback()
    assert snapshot() == before


def test_once_per_booking(world, make_booking):
    booking = make_booking()
    leave(world["teacher"], booking)
    before = snapshot()
    assert not feedback.can_leave(world["lead"], booking)
    with pytest.raises(Conflict):
        leave(world["lead"], booking)
    db.session.rollback()
    assert snapshot() == before


def test_a_race_past_the_check_meets_the_unique_constraint(world, make_booking, monkeypatch):
    booking = make_booking()
    first = leave(world["teacher"], booking)
    # As if a second tab passed the check before the first tab committed.
    monkeypatch.setattr(feedback, "check_can_leave", lambda actor, booking: None)
    before = snapshot()
    with pytest.raises(Conflict):
        feedback.leave(world["lead"], booking.id, objectives_met="no", quality=1, impact=1, would_recommend=False,
                       comment=COMMENT)
    # Only the savepoint rolled back: the session is usable and nothing else was written.
    db.session.commit()
    assert snapshot() == before
    assert db.session.scalars(select(Feedback)).all() == [first] and first.quality == 4


def test_a_school_cannot_review_support_it_provided_itself(world, make_booking, make_offer):
    own = make_offer(organisation=world["buyer"], sessions=1, title="Our own course")
    booking = make_booking(offer=own, requester="teacher")
    before = snapshot()
    with pytest.raises(NotAllowed, match="provided itself"):
        leave(world["lead"], booking)
    db.session.rollback()
    assert snapshot() == before


def test_a_booking_that_does_not_exist_is_not_found(world):
    for booking_id in (999_999, 2**70, -1):
        with pytest.raises(NotFound):
            feedback.leave(world["lead"], booking_id, objectives_met="yes", quality=4, impact=4,
                           would_recommend=True, comment=COMMENT)


@pytest.mark.parametrize("field,value", [
    ("objectives_met", "mostly"), ("objectives_met", None),
    ("quality", 0), ("quality", 6), ("quality", "4"), ("quality", True), ("quality", 4.5),
    ("impact", 0), ("impact", None),
    ("would_recommend", "yes"), ("would_recommend", None),
    ("comment", ""), ("comment", "   "), ("comment", "Great, thanks!"), ("comment", "x" * 39),
    ("comment", "x" * 5001), ("comment", None),
])
def test_bad_input_names_its_field_and_writes_nothing(world, make_booking, field, value):
    booking = make_booking()
    before = snapshot()
    with pytest.raises(Invalid) as raised:
        leave(world["teacher"], booking, **{field: value})
    assert raised.value.field == field and field in raised.value.errors
    db.session.rollback()
    assert snapshot() == before


def test_every_problem_is_reported_at_once(world, make_booking):
    with pytest.raises(feedback.FeedbackInvalid) as raised:
        leave(world["teacher"], make_booking(), objectives_met="", quality=9, impact=-1, would_recommend=None,
              comment="")
    assert set(raised.value.errors) == {"objectives_met", "quality", "impact", "would_recommend", "comment"}


def test_forty_characters_is_specific_enough(world, make_booking):
    assert leave(world["teacher"], make_booking(), comment="y" * 40).comment == "y" * 40


# --- the provider's reply ------------------------------------------------------------------


def test_the_providers_lead_replies_once_and_the_author_hears(world, make_booking):
    item = leave(world["teacher"], make_booking())
    assert feedback.can_reply(world["provider_lead"], item)
    feedback.reply(world["provider_lead"], item.id, "  Thank you: we will share the sound mats as a download.  ")
    db.session.commit()
    assert item.reply == "Thank you: we will share the sound mats as a download."
    assert item.replied_by_id == world["provider_lead"].id and item.replied_at is not None
    [note] = notes_for(world["teacher"], "feedback_reply")
    assert note.link == f"/offers/{world['offer'].id}"
    assert not feedback.can_reply(world["provider_lead"], item)
    before = snapshot()
    with pytest.raises(Conflict):
        feedback.reply(world["provider_lead"], item.id, "A second thought.")
    db.session.rollback()
    assert snapshot() == before and item.reply.startswith("Thank you")


@pytest.mark.parametrize("who", ["provider_teacher", "lead", "teacher", "other_lead", "coordinator", "admin"])
def test_only_the_providers_lead_may_reply(world, make_booking, who):
    item = leave(world["teacher"], make_booking())
    before = snapshot()
    assert not feedback.can_reply(world[who], item)
    with pytest.raises(NotAllowed):
        feedback.reply(world[who], item.id, "We disagree.")
    db.session.rollback()
    assert snapshot() == before and db.session.get(Feedback, item.id).reply is None


@pytest.mark.parametrize("text", ["", "   ", None, "z" * 3001])
def test_a_reply_needs_text_of_sensible_length(world, make_booking, text):
    item = leave(world["teacher"], make_booking())
    with pytest.raises(Invalid) as raised:
        feedback.reply(world["provider_lead"], item.id, text)
    assert raised.value.field == "text"
    db.session.rollback()
    assert db.session.get(Feedback, item.id).reply is None


# --- reports and moderation ------------------------------------------------------------------


def test_the_provider_reports_and_the_coordinators_hear(world, make_booking, make_user):
    item = leave(world["teacher"], make_booking(), quality=1)
    retired = make_user(role="coordinator", active=False)
    feedback.report(world["provider_lead"], item.id, "It names our trainee, who was not the presenter.")
    db.session.commit()
    assert item.reported_by_id == world["provider_lead"].id and item.reported_at is not None
    assert item.report_reason == "It names our trainee, who was not the presenter."
    for who in ("coordinator", "admin"):
        [note] = notes_for(world[who], "feedback_reported")
        assert note.link == "/admin/moderation"
    assert not notes_for(retired)
    assert item.hidden_at is None, "a report alone hides nothing"
    # A second report while the first waits: refused, nothing changes.
    before = snapshot()
    with pytest.raises(Conflict):
        feedback.report(world["provider_lead"], item.id, "Again.")
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize("who", ["provider_teacher", "lead", "other_lead", "coordinator"])
def test_only_the_providers_lead_may_report(world, make_booking, who):
    item = leave(world["teacher"], make_booking())
    before = snapshot()
    with pytest.raises(NotAllowed):
        feedback.report(world[who], item.id, "Unfair.")
    db.session.rollback()
    assert snapshot() == before


def test_a_report_needs_a_reason(world, make_booking):
    item = leave(world["teacher"], make_booking())
    with pytest.raises(Invalid) as raised:
        feedback.report(world["provider_lead"], item.id, "  ")
    assert raised.value.field == "reason"
    db.session.rollback()
    assert db.session.get(Feedback, item.id).reported_at is None


def test_hide_and_unhide_by_a_coordinator_with_reasons_logged(world, make_booking):
    item = leave(world["teacher"], make_booking(), quality=1, impact=1, objectives_met="no", would_recommend=False)
    feedback.report(world["provider_lead"], item.id, "Names a member of our staff.")
    db.session.commit()
    feedback.hide(world["coordinator"], item.id, "Feedback is about the support, not a named person.")
    db.session.commit()
    assert item.hidden_at is not None and item.hidden_by_id == world["coordinator"].id
    assert item.hidden_reason == "Feedback is about the support, not a named person."
    assert item.reported_at is None and item.report_reason is None, "hiding settles the report"
    for who in ("teacher", "provider_lead"):
        [note] = notes_for(world[who], "feedback_hidden")
        assert "not a named person" in note.message
    assert feedback.moderation_queue(world["coordinator"], "reported") == []
    assert feedback.moderation_queue(world["coordinator"], "hidden") == [item]

    feedback.unhide(world["admin"], item.id, "The school rewrote it without the name.")
    db.session.commit()
    assert item.hidden_at is None and item.hidden_reason is None
    events = db.session.scalars(select(ModerationEvent).order_by(ModerationEvent.id)).all()
    assert [(e.action, e.actor_id, e.feedback_id) for e in events] == [
        ("hide", world["coordinator"].id, item.id), ("unhide", world["admin"].id, item.id)]
    assert events[1].reason == "The school rewrote it without the name."
    assert [n.kind for n in notes_for(world["teacher"])][-1] == "feedback_restored"
    assert feedback.moderation_queue(world["coordinator"], "hidden") == []


@pytest.mark.parametrize("who", ["provider_lead", "lead", "teacher", "other_lead", None])
def test_only_coordinators_hide_or_unhide(world, make_booking, who):
    item = leave(world["teacher"], make_booking())
    actor = world[who] if who else None
    before = snapshot()
    for action in (feedback.hide, feedback.unhide):
        with pytest.raises(NotAllowed):
            action(actor, item.id, "Because.")
        db.session.rollback()
    assert snapshot() == before
    with pytest.raises(NotAllowed):
        feedback.moderation_queue(actor)


def test_moderation_needs_a_reason_and_something_to_do(world, make_booking):
    item = leave(world["teacher"], make_booking())
    before = snapshot()
    with pytest.raises(Invalid):
        feedback.hide(world["coordinator"], item.id, "")
    db.session.rollback()
    with pytest.raises(Conflict):
        feedback.unhide(world["coordinator"], item.id, "Nothing to restore.")
    db.session.rollback()
    assert snapshot() == before
    feedback.hide(world["coordinator"], item.id, "Off topic.")
    db.session.commit()
    before = snapshot()
    with pytest.raises(Conflict):
        feedback.hide(world["coordinator"], item.id, "Again.")
    db.session.rollback()
    with pytest.raises(Invalid):
        feedback.unhide(world["coordinator"], item.id, " ")
    db.session.rollback()
    assert snapshot() == before


def test_keeping_a_reported_item_dismisses_the_report(world, make_booking):
    item = leave(world["teacher"], make_booking())
    feedback.report(world["provider_lead"], item.id, "We think it is unfair.")
    db.session.commit()
    assert feedback.moderation_queue(world["coordinator"]) == [item]
    feedback.unhide(world["coordinator"], item.id, "Critical but fair, and about the support.")
    db.session.commit()
    assert item.reported_at is None and item.hidden_at is None
    assert feedback.moderation_queue(world["coordinator"]) == []
    [note] = notes_for(world["provider_lead"], "feedback_restored")
    assert "Critical but fair" in note.message
    assert not notes_for(world["teacher"], "feedback_restored"), "the author was never told of the report"
    assert db.session.scalar(select(ModerationEvent.action)) == "unhide"


def test_the_moderation_queue_views(world, make_booking):
    first, second, third = (leave(world["teacher"], make_booking()) for _ in range(3))
    feedback.report(world["provider_lead"], second.id, "Unfair.")
    feedback.hide(world["coordinator"], third.id, "Off topic.")
    db.session.commit()
    coordinator = world["coordinator"]
    assert feedback.moderation_queue(coordinator, "reported") == [second]
    assert feedback.moderation_queue(coordinator, "hidden") == [third]
    assert feedback.moderation_queue(coordinator, "all") == [third, second, first]
    assert feedback.moderation_queue(coordinator, "nonsense") == [second], "junk means the default"
    assert feedback.moderation_counts(coordinator) == {"reported": 1, "hidden": 1, "all": 3}


# --- who reads what ---------------------------------------------------------------------------


@pytest.fixture
def two_items(world, make_booking):
    shown = leave(world["teacher"], make_booking(), comment="Shown: " + COMMENT)
    hidden = leave(world["lead"], make_booking(requester="lead"), comment="Hidden: " + COMMENT)
    feedback.hide(world["coordinator"], hidden.id, "Names a pupil.")
    db.session.commit()
    return shown, hidden


def test_visitors_see_figures_but_no_comments(world, two_items):
    for visitor in (None, AnonymousUserMixin()):
        assert not feedback.can_see_comments(visitor)
        assert feedback.visible_feedback(visitor, offer_id=world["offer"].id) == []
    assert feedback.summary("offer", world["offer"].id).count == 1


@pytest.mark.parametrize("who,sees_hidden", [
    ("other_teacher", False), ("other_lead", False),
    ("teacher", True), ("governor", True),                     # the author's school
    ("provider_teacher", True), ("provider_lead", True),       # the provider's people
    ("coordinator", True), ("admin", True),
])
def test_hidden_items_are_seen_only_by_those_concerned(world, two_items, who, sees_hidden):
    shown, hidden = two_items
    items = feedback.visible_feedback(world[who], offer_id=world["offer"].id)
    assert items == ([hidden, shown] if sees_hidden else [shown]), "newest first"
    assert feedback.can_see_hidden(world[who], hidden) is sees_hidden
    assert feedback.visible_feedback(world[who], provider_id=world["provider"].id) == items


def test_visible_feedback_is_limited_and_carries_its_follow_up(world, make_booking):
    old = make_booking(delivered_ago=timedelta(weeks=9))
    items = [leave(world["teacher"], old)] + [leave(world["teacher"], make_booking()) for _ in range(6)]
    feedback.follow_up(world["lead"], old.id, what_changed="Phonics screening practice is now weekly in Year 1.",
                       impact=4)
    db.session.commit()
    listed = feedback.visible_feedback(world["other_teacher"], offer_id=world["offer"].id, limit=None)
    assert listed == list(reversed(items))
    assert listed[-1].follow_up.what_changed.startswith("Phonics screening")
    assert all(item.follow_up is None for item in listed[:-1])
    assert len(feedback.visible_feedback(world["other_teacher"], offer_id=world["offer"].id)) == 5
    assert feedback.visible_feedback(world["other_teacher"], offer_id=world["offer"].id + 1) == []


# --- the scores ----------------------------------------------------------------------------------


def test_shrunk_mean_pulls_few_reviews_toward_the_prior():
    assert feedback.shrunk_mean(0, 0) is None
    assert feedback.shrunk_mean(5, 1) == pytest.approx(20 / 6)
    assert feedback.shrunk_mean(80, 20) == pytest.approx(3.8)
    assert feedback.shrunk_mean(80, 20) > feedback.shrunk_mean(5, 1)
    assert feedback.shrunk_mean(1, 1, prior=0.5) == pytest.approx(3.5 / 6)
    # Many reviews approach their own average.
    assert feedback.shrunk_mean(2 * 1000, 1000) == pytest.approx(2.0, abs=0.01)


def test_twenty_fours_outrank_a_single_five(world, make_booking, make_offer):
    single = make_offer(organisation=world["other"], sessions=1, title="One glowing review")
    leave(world["lead"], make_booking(offer=single, requester="lead"), quality=5, impact=5)
    for _ in range(20):
        leave(world["lead"], make_booking(requester="lead"), quality=4, impact=4)
    many, one = feedback.summary("offer", world["offer"].id), feedback.summary("offer", single.id)
    assert (many.count, one.count) == (20, 1)
    assert many.quality_mean == pytest.approx(3.8) and one.quality_mean == pytest.approx(20 / 6)
    assert many.score > one.score
    assert feedback.summaries("offer", [world["offer"].id, single.id, 12345]) == {
        world["offer"].id: many, single.id: one}
    assert feedback.summary("provider", world["provider"].id).count == 20


def test_hidden_feedback_does_not_count_and_scores_follow_moderation(world, make_booking):
    good = leave(world["teacher"], make_booking(), quality=5, impact=5)
    bad = leave(world["lead"], make_booking(requester="lead"), quality=1, impact=1, objectives_met="no",
                would_recommend=False)
    both = feedback.summary("offer", world["offer"].id)
    assert both.count == 2 and both.quality_mean == pytest.approx((15 + 6) / 7)
    assert both.recommend_share == 0.5
    score_with_both = both.score

    feedback.hide(world["coordinator"], bad.id, "Names a pupil.")
    db.session.commit()
    after = feedback.summary("offer", world["offer"].id)
    assert after.count == 1 and after.quality_mean == pytest.approx(20 / 6) and after.recommend_share == 1.0
    assert after.score > score_with_both
    assert feedback.summary("provider", world["provider"].id).count == 1

    feedback.hide(world["coordinator"], good.id, "Off topic.")
    db.session.commit()
    assert feedback.summary("offer", world["offer"].id) is None, "nothing visible left to summarise"
    assert feedback.summaries("offer", [world["offer"].id]) == {}

    feedback.unhide(world["coordinator"], bad.id, "Rewritten.")
    feedback.unhide(world["coordinator"], good.id, "Restored.")
    db.session.commit()
    restored = feedback.summary("offer", world["offer"].id)
    assert restored.count == 2 and restored.score == pytest.approx(score_with_both)


def test_recompute_all_agrees_with_the_running_scores(world, make_booking, make_offer):
    second = make_offer(organisation=world["provider"], sessions=1)
    for quality, offer in ((5, None), (3, None), (2, second), (4, second)):
        leave(world["lead"], make_booking(requester="lead", offer=offer), quality=quality, impact=quality)
    feedback.hide(world["coordinator"], db.session.scalar(select(Feedback.id).where(Feedback.quality == 2)), "x")
    db.session.commit()
    before = {(r.subject, r.subject_id): (r.count, r.quality_mean, r.impact_mean, r.objectives_mean,
                                          r.recommend_share, r.score)
              for r in db.session.scalars(select(QualityScore))}
    # Spoil the cache, then rebuild it from the feedback.
    for row in db.session.scalars(select(QualityScore)):
        row.count, row.score = 99, 0.0
    db.session.commit()
    assert feedback.recompute_all() == 3
    db.session.commit()
    after = {(r.subject, r.subject_id): (r.count, r.quality_mean, r.impact_mean, r.objectives_mean,
                                         r.recommend_share, r.score)
             for r in db.session.scalars(select(QualityScore))}
    assert after.keys() == before.keys()
    for key, values in before.items():
        assert after[key] == pytest.approx(values), key
    assert after[("provider", world["provider"].id)][0] == 3


# --- the impact follow-up ---------------------------------------------------------------------


def test_the_follow_up_is_not_due_before_eight_weeks(world, make_booking):
    booking = make_booking(delivered_ago=timedelta(weeks=8) - timedelta(hours=1))
    before = snapshot()
    assert not feedback.can_follow_up(world["lead"], booking)
    with pytest.raises(Invalid, match="not due yet"):
        feedback.follow_up(world["lead"], booking.id, what_changed="Our phonics lessons are now daily.", impact=4)
    db.session.rollback()
    assert snapshot() == before
    # An hour later it is due.
    later = utcnow() + timedelta(hours=2)
    assert feedback.can_follow_up(world["lead"], booking, now=later)
    item = feedback.follow_up(world["lead"], booking.id, what_changed="Our phonics lessons are now daily.",
                              impact=4, now=later)
    db.session.commit()
    assert (item.booking_id, item.organisation_id, item.author_id, item.impact) == (
        booking.id, world["buyer"].id, world["lead"].id, 4)
    assert feedback.follow_up_for(booking.id) == item
    assert feedback.follow_ups_for([booking.id, 999]) == {booking.id: item}
    assert notes_for(world["provider_lead"], "feedback_follow_up")


def test_the_follow_up_once_by_the_same_people_as_feedback(world, make_booking):
    booking = make_booking(delivered_ago=timedelta(weeks=10))
    for who in ("provider_lead", "other_lead", "colleague", "coordinator"):
        assert not feedback.can_follow_up(world[who], booking)
        with pytest.raises(NotAllowed):
            feedback.follow_up(world[who], booking.id, what_changed="Something changed for the better.", impact=3)
        db.session.rollback()
    assert count(ImpactFollowUp) == 0
    feedback.follow_up(world["teacher"], booking.id, what_changed="Something changed for the better.", impact=3)
    db.session.commit()
    with pytest.raises(Conflict):
        feedback.follow_up(world["governor"], booking.id, what_changed="Something else changed as well.", impact=5)
    db.session.rollback()
    assert count(ImpactFollowUp) == 1


def test_the_follow_up_needs_a_delivered_booking_and_specific_text(world, make_booking):
    pending = make_booking(status="confirmed")
    with pytest.raises(Conflict):
        feedback.follow_up(world["lead"], pending.id, what_changed="Nothing yet, it has not happened.", impact=3)
    db.session.rollback()
    booking = make_booking(delivered_ago=timedelta(weeks=9))
    for text, impact, field in (("Better.", 3, "what_changed"), ("", 3, "what_changed"),
                                ("Phonics is now taught daily by all.", 0, "impact"),
                                ("w" * 5001, 3, "what_changed")):
        with pytest.raises(Invalid) as raised:
            feedback.follow_up(world["lead"], booking.id, what_changed=text, impact=impact)
        assert raised.value.field == field
        db.session.rollback()
    assert count(ImpactFollowUp) == 0
