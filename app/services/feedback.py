"""Verified peer feedback: who may leave it, the provider's reply, reports and moderation,
the impact follow-up eight weeks on, and the cached quality scores that rank offers.

Only the receiving school of a delivered booking may leave feedback (its lead, a governor or
the colleague who booked), once per booking. The provider's lead may reply once and may
report an item to the coordinators, who hide or restore it with a recorded reason. Hidden
items stay in the database and in the moderation log but no longer count in the scores.
Every function takes the acting user, raises a DomainError and never commits.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import flag_modified

from app.extensions import db
from app.models import Booking, Feedback, ImpactFollowUp, ModerationEvent, QualityScore, User
from app.models.base import utcnow
from app.models.feedback import OBJECTIVES_MET
from app.models.people import COORDINATOR_ROLES
from app.services import audit
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound
from app.services.notify import leads_of, notify

# Who of the receiving school may speak for it (besides the colleague who made the booking).
AUTHOR_ROLES = frozenset({"school_lead", "governor"})
COMMENT_MIN = 40
COMMENT_MAX = 5000
REPLY_MAX = 3000
REASON_MAX = 2000
WHAT_CHANGED_MIN = 20
WHAT_CHANGED_MAX = 5000
# The receiving school is asked what changed this long after delivery, and not before.
FOLLOW_UP_AFTER = timedelta(weeks=8)
MODERATION_VIEWS = ("reported", "hidden", "all")
MODERATION_LIMIT = 200
SUBJECTS = ("offer", "provider")

# The shrunk mean's prior: the midpoint of the 1-5 scale, worth five reviews.
PRIOR_MEAN = 3.0
PRIOR_WEIGHT = 5
# Shares (objectives met, would recommend) are shrunk toward an even split.
PRIOR_SHARE = 0.5
# The combined score: the two ratings count twice as much as the two shares.
SCORE_WEIGHTS = {"quality": 2, "impact": 2, "objectives": 1, "recommend": 1}
_OBJECTIVE_VALUE = {"yes": 1.0, "partly": 0.5, "no": 0.0}
_MAX_ID = 2**63 - 1


class FeedbackInvalid(Invalid):
    """Invalid input with a message per field, so a form can show every problem at once."""

    def __init__(self, errors: dict[str, str]):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = dict(errors)


# --- the arithmetic ------------------------------------------------------------------------


def shrunk_mean(total: float, count: int, prior: float = PRIOR_MEAN, weight: int = PRIOR_WEIGHT) -> float | None:
    """A Bayesian average: (prior * weight + total) / (weight + count), None with no reviews.

    It counts `weight` imaginary reviews at the neutral `prior` (the scale's midpoint, 3.0,
    worth five reviews) alongside the real ones. A few reviews move the mean only a little
    from neutral; many reviews outweigh the prior and the mean approaches their own average.
    So twenty 4-star reviews ((15 + 80) / 25 = 3.8) outrank one 5-star review
    ((15 + 5) / 6 = 3.33), as a partnership would expect.
    """
    if not count:
        return None
    return (prior * weight + total) / (weight + count)


def combined_score(quality: float | None, impact: float | None, objectives: float | None,
                   recommend: float | None) -> float | None:
    """The one number "best rated" sorts by, on the 1-5 scale of the ratings.

    A weighted mean of the four shrunk dimensions: quality and impact (already 1-5) count
    twice; the shrunk shares of "objectives met" and "would recommend" (0-1, each shrunk
    toward 0.5 with the same weight of five) count once each, mapped onto 1-5 as 1 + 4 * share.
    Every part is shrunk, so a single enthusiastic review cannot top the list.
    """
    parts = {"quality": quality, "impact": impact,
             "objectives": None if objectives is None else 1 + 4 * objectives,
             "recommend": None if recommend is None else 1 + 4 * recommend}
    if any(value is None for value in parts.values()):
        return None
    total_weight = sum(SCORE_WEIGHTS.values())
    return sum(SCORE_WEIGHTS[name] * value for name, value in parts.items()) / total_weight


# --- who may do what ----------------------------------------------------------------------


def _signed_in(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "active", False))


def _is_coordinator(actor) -> bool:
    return _signed_in(actor) and actor.is_coordinator


def _is_lead_of(actor, organisation_id: int) -> bool:
    return _signed_in(actor) and actor.role == "school_lead" and actor.organisation_id == organisation_id


def _check_receiving_person(actor, booking: Booking, what: str) -> None:
    """The people who speak for the receiving school: its lead, a governor, or who booked."""
    if not _signed_in(actor):
        raise NotAllowed(f"Sign in as a member of the school that received this support to {what}.")
    provider_id = booking.offer.organisation_id
    if booking.organisation_id == provider_id:
        raise NotAllowed(f"A school cannot {what} on support it provided itself.")
    if actor.organisation_id == provider_id:
        raise NotAllowed(f"The provider cannot {what} on its own support.")
    if actor.organisation_id is None or actor.organisation_id != booking.organisation_id:
        raise NotAllowed(f"Only the school that received this support can {what}.")
    if actor.role not in AUTHOR_ROLES and booking.requested_by_id != actor.id:
        raise NotAllowed(f"Only the school lead, a governor or the colleague who booked can {what}.")


def check_can_leave(actor, booking: Booking) -> None:
    """Raises NotAllowed or Conflict when this person may not leave feedback on this booking."""
    _check_receiving_person(actor, booking, "leave feedback")
    if booking.status != "delivered":
        raise Conflict("Feedback can be left once the support has been delivered.")
    if db.session.scalar(select(Feedback.id).where(Feedback.booking_id == booking.id)) is not None:
        raise Conflict("Your school has already left feedback on this booking.")


def can_leave(actor, booking: Booking) -> bool:
    try:
        check_can_leave(actor, booking)
    except (NotAllowed, Conflict, Invalid):
        return False
    return True


def follow_up_due_at(booking: Booking) -> datetime | None:
    return booking.delivered_at + FOLLOW_UP_AFTER if booking.delivered_at is not None else None


def check_can_follow_up(actor, booking: Booking, now: datetime | None = None) -> None:
    """Raises when this person may not record the impact follow-up now."""
    _check_receiving_person(actor, booking, "record what changed")
    if booking.status != "delivered" or booking.delivered_at is None:
        raise Conflict("The impact follow-up comes after the support has been delivered.")
    if db.session.scalar(select(ImpactFollowUp.id).where(ImpactFollowUp.booking_id == booking.id)) is not None:
        raise Conflict("Your school has already said what changed after this support.")
    due = follow_up_due_at(booking)
    if (now or utcnow()) < due:
        raise Invalid(f"The impact follow-up is not due yet: it opens on {due:%d %B %Y}, "
                      f"eight weeks after delivery.")


def can_follow_up(actor, booking: Booking, now: datetime | None = None) -> bool:
    try:
        check_can_follow_up(actor, booking, now)
    except (NotAllowed, Conflict, Invalid):
        return False
    return True


def can_see_comments(viewer) -> bool:
    """Feedback text is for signed-in members; visitors see the figures only."""
    return _signed_in(viewer)


def can_reply(actor, feedback: Feedback) -> bool:
    return _is_lead_of(actor, feedback.provider_id) and feedback.reply is None and feedback.hidden_at is None


def can_report(actor, feedback: Feedback) -> bool:
    return _is_lead_of(actor, feedback.provider_id) and feedback.reported_at is None and feedback.hidden_at is None


def can_moderate(actor) -> bool:
    return _is_coordinator(actor)


def can_see_hidden(viewer, feedback: Feedback) -> bool:
    """Coordinators, the author's school and the provider's people may read a hidden item
    (and the reason it was hidden); nobody else learns it exists."""
    if not _signed_in(viewer):
        return False
    return viewer.is_coordinator or (
        viewer.organisation_id is not None
        and viewer.organisation_id in (feedback.organisation_id, feedback.provider_id)
    )


# --- reading ------------------------------------------------------------------------------


def _get_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id) if isinstance(booking_id, int) and 0 < booking_id <= _MAX_ID else None
    if booking is None:
        raise NotFound("That booking could not be found.")
    return booking


def get_feedback(feedback_id: int) -> Feedback:
    item = (db.session.get(Feedback, feedback_id)
            if isinstance(feedback_id, int) and 0 < feedback_id <= _MAX_ID else None)
    if item is None:
        raise NotFound("That feedback could not be found.")
    return item


def _lock_feedback(feedback_id: int) -> Feedback:
    """Re-read under a row lock (PostgreSQL) so two coordinators or two tabs act once."""
    if not (isinstance(feedback_id, int) and 0 < feedback_id <= _MAX_ID):
        raise NotFound("That feedback could not be found.")
    item = db.session.scalar(select(Feedback).where(Feedback.id == feedback_id).with_for_update()
                             .execution_options(populate_existing=True))
    if item is None:
        raise NotFound("That feedback could not be found.")
    return item


def feedback_for_booking(booking_id: int) -> Feedback | None:
    return db.session.scalar(select(Feedback).where(Feedback.booking_id == booking_id))


def follow_up_for(booking_id: int) -> ImpactFollowUp | None:
    return db.session.scalar(select(ImpactFollowUp).where(ImpactFollowUp.booking_id == booking_id))


def follow_ups_for(booking_ids) -> dict[int, ImpactFollowUp]:
    ids = sorted({i for i in booking_ids if i is not None})
    found: dict[int, ImpactFollowUp] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update({f.booking_id: f for f in db.session.scalars(
            select(ImpactFollowUp).where(ImpactFollowUp.booking_id.in_(chunk))
            .options(joinedload(ImpactFollowUp.author)))})
    return found


def _feedback_options():
    return (joinedload(Feedback.author), joinedload(Feedback.organisation), joinedload(Feedback.provider),
            joinedload(Feedback.offer), joinedload(Feedback.replied_by))


def _attach_follow_ups(items: list[Feedback]) -> list[Feedback]:
    # Feedback has no mapped link to its follow-up (both hang off the booking): each item
    # returned here carries it as a plain attribute, `item.follow_up`, for the templates.
    follow_ups = follow_ups_for([item.booking_id for item in items])
    for item in items:
        item.follow_up = follow_ups.get(item.booking_id)
    return items


def visible_feedback(viewer, *, offer_id: int | None = None, provider_id: int | None = None,
                     limit: int | None = 5) -> list[Feedback]:
    """Feedback this viewer may read, newest first, each with `.follow_up` attached.

    Visitors get nothing (they see the figures only). Hidden items are left out, except for
    coordinators, the author's school and the provider's people, who see them with the reason.
    """
    if not can_see_comments(viewer):
        return []
    stmt = select(Feedback)
    if offer_id is not None:
        stmt = stmt.where(Feedback.offer_id == offer_id)
    if provider_id is not None:
        stmt = stmt.where(Feedback.provider_id == provider_id)
    if not viewer.is_coordinator:
        own = [Feedback.hidden_at.is_(None)]
        if viewer.organisation_id is not None:
            own += [Feedback.organisation_id == viewer.organisation_id, Feedback.provider_id == viewer.organisation_id]
        stmt = stmt.where(or_(*own))
    stmt = stmt.order_by(Feedback.created_at.desc(), Feedback.id.desc()).options(*_feedback_options())
    if limit is not None:
        stmt = stmt.limit(max(0, int(limit)))
    return _attach_follow_ups(list(db.session.scalars(stmt).unique()))


def moderation_queue(actor, show: str = "reported", *, limit: int = MODERATION_LIMIT) -> list[Feedback]:
    """For coordinators: reported items waiting for a decision (oldest report first), hidden
    items (most recently hidden first), or all feedback (newest first). An unknown `show`
    means "reported", as junk in a URL is ignored elsewhere."""
    if not _is_coordinator(actor):
        raise NotAllowed("Only coordinators can moderate feedback.")
    show = show if show in MODERATION_VIEWS else "reported"
    stmt = select(Feedback).options(*_feedback_options(), joinedload(Feedback.booking),
                                    joinedload(Feedback.moderation))
    if show == "reported":
        stmt = stmt.where(Feedback.reported_at.is_not(None), Feedback.hidden_at.is_(None)) \
            .order_by(Feedback.reported_at, Feedback.id)
    elif show == "hidden":
        stmt = stmt.where(Feedback.hidden_at.is_not(None)).order_by(Feedback.hidden_at.desc(), Feedback.id.desc())
    else:
        stmt = stmt.order_by(Feedback.created_at.desc(), Feedback.id.desc())
    return _attach_follow_ups(list(db.session.scalars(stmt.limit(limit)).unique()))


def moderation_counts(actor) -> dict[str, int]:
    """How many items wait in each view of the queue (for the coordinator's tabs)."""
    if not _is_coordinator(actor):
        raise NotAllowed("Only coordinators can moderate feedback.")
    reported, hidden, total = db.session.execute(select(
        func.count(case((and_(Feedback.reported_at.is_not(None), Feedback.hidden_at.is_(None)), 1))),
        func.count(Feedback.hidden_at),
        func.count(Feedback.id),
    )).one()
    return {"reported": reported or 0, "hidden": hidden or 0, "all": total or 0}


def summary(subject: str, subject_id: int) -> QualityScore | None:
    """The cached scores of one offer or provider; None when no visible feedback counts."""
    if subject not in SUBJECTS:
        raise ValueError(f"Unknown subject {subject!r}")
    return db.session.scalar(select(QualityScore).where(
        QualityScore.subject == subject, QualityScore.subject_id == subject_id, QualityScore.count > 0))


def summaries(subject: str, ids) -> dict[int, QualityScore]:
    """summary() for many ids at once (a list of cards); ids without feedback are absent."""
    if subject not in SUBJECTS:
        raise ValueError(f"Unknown subject {subject!r}")
    wanted = sorted({i for i in ids if i is not None})
    found: dict[int, QualityScore] = {}
    for start in range(0, len(wanted), 500):
        found.update({row.subject_id: row for row in db.session.scalars(select(QualityScore).where(
            QualityScore.subject == subject, QualityScore.subject_id.in_(wanted[start:start + 500]),
            QualityScore.count > 0))})
    return found


# --- validation ---------------------------------------------------------------------------


def _rating(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5


def _clean_text(value) -> str:
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def _validate_feedback(objectives_met, quality, impact, would_recommend, comment) -> str:
    errors: dict[str, str] = {}
    if objectives_met not in OBJECTIVES_MET:
        errors["objectives_met"] = "Say whether the support met its objectives: yes, partly or no."
    if not _rating(quality):
        errors["quality"] = "Rate the quality of the support from 1 to 5."
    if not _rating(impact):
        errors["impact"] = "Rate the impact on practice from 1 to 5."
    if not isinstance(would_recommend, bool):
        errors["would_recommend"] = "Say whether you would recommend it to another school."
    text = _clean_text(comment)
    if not text:
        errors["comment"] = "Write a comment: what worked, what could be better, what you will do next."
    elif len(text) < COMMENT_MIN:
        errors["comment"] = (f"Please be specific: write at least {COMMENT_MIN} characters about what "
                             f"worked and what could be better.")
    elif len(text) > COMMENT_MAX:
        errors["comment"] = f"Keep the comment to {COMMENT_MAX:,} characters or fewer."
    if errors:
        raise FeedbackInvalid(errors)
    return text


def _required_reason(reason, what: str) -> str:
    text = _clean_text(reason)
    if not text:
        raise Invalid(f"Give a reason {what}.", field="reason")
    if len(text) > REASON_MAX:
        raise Invalid(f"Keep the reason to {REASON_MAX:,} characters or fewer.", field="reason")
    return text


# --- leaving feedback and the follow-up ------------------------------------------------------


def leave(actor, booking_id: int, *, objectives_met: str, quality: int, impact: int, would_recommend: bool,
          comment: str, now: datetime | None = None) -> Feedback:
    """The receiving school's verdict on delivered support: once per booking."""
    booking = _get_booking(booking_id)
    check_can_leave(actor, booking)
    text = _validate_feedback(objectives_met, quality, impact, would_recommend, comment)
    offer = booking.offer
    item = Feedback(booking_id=booking.id, offer_id=offer.id, provider_id=offer.organisation_id,
                    organisation_id=booking.organisation_id, author_id=actor.id, objectives_met=objectives_met,
                    quality=quality, impact=impact, would_recommend=would_recommend, comment=text,
                    created_at=now or utcnow())
    try:
        # A second tab or a double click that passed the check above meets the unique
        # constraint: only the savepoint rolls back, and the caller gets a clear Conflict.
        with db.session.begin_nested():
            db.session.add(item)
            db.session.flush()
    except IntegrityError as error:
        raise Conflict("Your school has already left feedback on this booking.") from error
    audit.record(actor, "feedback.left", item, booking_id=booking.id, offer_id=offer.id,
                 objectives_met=objectives_met, quality=quality, impact=impact, would_recommend=would_recommend)
    recompute(offer.id, offer.organisation_id, now=now)
    _tell(leads_of(offer.organisation_id), "feedback_received",
          f"{booking.organisation.name} left feedback on {offer.title}: quality {quality}/5, "
          f"impact {impact}/5. You can reply once.",
          link=f"/offers/{offer.id}", subject=f"New feedback on {offer.title}")
    return item


def follow_up(actor, booking_id: int, *, what_changed: str, impact: int, now: datetime | None = None) -> ImpactFollowUp:
    """Eight weeks or more after delivery, the receiving school says what changed."""
    now = now or utcnow()
    booking = _get_booking(booking_id)
    check_can_follow_up(actor, booking, now)
    errors: dict[str, str] = {}
    text = _clean_text(what_changed)
    if not text:
        errors["what_changed"] = "Say what has changed in your school since the support."
    elif len(text) < WHAT_CHANGED_MIN:
        errors["what_changed"] = f"Please be specific: write at least {WHAT_CHANGED_MIN} characters."
    elif len(text) > WHAT_CHANGED_MAX:
        errors["what_changed"] = f"Keep it to {WHAT_CHANGED_MAX:,} characters or fewer."
    if not _rating(impact):
        errors["impact"] = "Rate the lasting impact from 1 to 5."
    if errors:
        raise FeedbackInvalid(errors)
    item = ImpactFollowUp(booking_id=booking.id, organisation_id=booking.organisation_id, author_id=actor.id,
                          what_changed=text, impact=impact, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(item)
            db.session.flush()
    except IntegrityError as error:
        raise Conflict("Your school has already said what changed after this support.") from error
    audit.record(actor, "feedback.follow_up", item, booking_id=booking.id, impact=impact)
    offer = booking.offer
    _tell(leads_of(offer.organisation_id), "feedback_follow_up",
          f"{booking.organisation.name} said what changed after {offer.title} (lasting impact {impact}/5).",
          link=f"/offers/{offer.id}", subject=f"Impact follow-up on {offer.title}")
    return item


# --- the provider's reply and report -----------------------------------------------------------


def reply(actor, feedback_id: int, text: str, *, now: datetime | None = None) -> Feedback:
    """The provider's lead answers, once."""
    item = _lock_feedback(feedback_id)
    if not _is_lead_of(actor, item.provider_id):
        raise NotAllowed("Only the providing school's lead can reply to this feedback.")
    if item.reply is not None:
        raise Conflict("Your school has already replied to this feedback.")
    if item.hidden_at is not None:
        raise Conflict("This feedback has been hidden by a coordinator, so it cannot be replied to.")
    body = _clean_text(text)
    if not body:
        raise Invalid("Write your reply.", field="text")
    if len(body) > REPLY_MAX:
        raise Invalid(f"Keep the reply to {REPLY_MAX:,} characters or fewer.", field="text")
    item.reply = body
    item.replied_at = now or utcnow()
    item.replied_by_id = actor.id
    audit.record(actor, "feedback.reply", item)
    _tell([item.author], "feedback_reply",
          f"{item.provider.name} replied to your school's feedback on {item.offer.title}.",
          link=f"/offers/{item.offer_id}", subject=f"A reply to your feedback on {item.offer.title}")
    return item


def report(actor, feedback_id: int, reason: str, *, now: datetime | None = None) -> Feedback:
    """The provider's lead asks the coordinators to look at an item.

    One report at a time: while an item waits for a coordinator, a second report is a
    Conflict (nothing changes), as is reporting an item already hidden. After a coordinator
    restores an item the report is cleared, and it may be reported again.
    """
    item = _lock_feedback(feedback_id)
    if not _is_lead_of(actor, item.provider_id):
        raise NotAllowed("Only the providing school's lead can report this feedback.")
    if item.hidden_at is not None:
        raise Conflict("This feedback is already hidden.")
    if item.reported_at is not None:
        raise Conflict("This feedback has already been reported and is waiting for a coordinator.")
    text = _required_reason(reason, "for reporting this feedback")
    item.reported_at = now or utcnow()
    item.reported_by_id = actor.id
    item.report_reason = text
    audit.record(actor, "feedback.report", item, reason=text)
    _tell(coordinators(), "feedback_reported",
          f"{item.provider.name} reported feedback on {item.offer.title} for moderation.",
          link="/admin/moderation", subject="Feedback reported for moderation")
    return item


def _tell(users, kind: str, message: str, link: str, subject: str) -> None:
    # Titles, names and reasons are long enough together to overflow a notification's 500.
    if len(message) > 500:
        message = message[:499].rstrip() + "…"
    notify(users, kind, message, link=link, subject=subject[:200])


def coordinators() -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role.in_(sorted(COORDINATOR_ROLES)), User.active.is_(True)).order_by(User.id)))


# --- moderation -----------------------------------------------------------------------------


def hide(actor, feedback_id: int, reason: str, *, now: datetime | None = None) -> Feedback:
    """A coordinator hides an item, with a reason its author and the provider are told."""
    if not _is_coordinator(actor):
        raise NotAllowed("Only coordinators can hide feedback.")
    item = _lock_feedback(feedback_id)
    if item.hidden_at is not None:
        raise Conflict("This feedback is already hidden.")
    text = _required_reason(reason, "for hiding this feedback")
    now = now or utcnow()
    report_reason = item.report_reason
    item.hidden_at, item.hidden_by_id, item.hidden_reason = now, actor.id, text
    _clear_report(item)
    db.session.add(ModerationEvent(feedback_id=item.id, action="hide", reason=text, actor_id=actor.id, at=now))
    audit.record(actor, "feedback.hide", item, reason=text, report_reason=report_reason)
    recompute(item.offer_id, item.provider_id, now=now)
    message = f"A coordinator hid feedback on {item.offer.title}. Reason: {text}"
    _tell(_people_to_tell(item), "feedback_hidden", message, link=f"/offers/{item.offer_id}",
          subject=f"Feedback on {item.offer.title} was hidden")
    return item


def unhide(actor, feedback_id: int, reason: str, *, now: datetime | None = None) -> Feedback:
    """A coordinator restores a hidden item, or keeps a reported one (dismissing the report).

    Either way the report is cleared and the decision is logged with its reason. Restoring a
    hidden item tells its author and the provider; dismissing a report tells the provider.
    """
    if not _is_coordinator(actor):
        raise NotAllowed("Only coordinators can restore feedback.")
    item = _lock_feedback(feedback_id)
    if item.hidden_at is None and item.reported_at is None:
        raise Conflict("This feedback is neither hidden nor reported: there is nothing to restore.")
    text = _required_reason(reason, "for restoring this feedback")
    now = now or utcnow()
    was_hidden = item.hidden_at is not None
    item.hidden_at = item.hidden_by_id = item.hidden_reason = None
    _clear_report(item)
    db.session.add(ModerationEvent(feedback_id=item.id, action="unhide", reason=text, actor_id=actor.id, at=now))
    audit.record(actor, "feedback.unhide", item, reason=text, was_hidden=was_hidden)
    title = item.offer.title
    if was_hidden:
        recompute(item.offer_id, item.provider_id, now=now)
        people, subject = _people_to_tell(item), f"Feedback on {title} was restored"
        message = f"A coordinator restored feedback on {title}. Reason: {text}"
    else:
        people, subject = leads_of(item.provider_id), f"Feedback on {title} stays visible"
        message = f"A coordinator kept the feedback you reported on {title}. Reason: {text}"
    _tell(people, "feedback_restored", message, link=f"/offers/{item.offer_id}", subject=subject)
    return item


def _clear_report(item: Feedback) -> None:
    item.reported_at = item.reported_by_id = item.report_reason = None


def _people_to_tell(item: Feedback) -> list[User]:
    people = leads_of(item.provider_id)
    if item.author is not None and item.author not in people:
        people.append(item.author)
    return people


# --- the cached scores ------------------------------------------------------------------------


def _objective_value():
    return case(*((Feedback.objectives_met == key, value) for key, value in _OBJECTIVE_VALUE.items()), else_=0.0)


def _sums(where=None) -> tuple:
    """count, and the sums of quality, impact, objectives (yes=1, partly=0.5, no=0) and
    recommendations, over visible feedback (only where `where` holds, when given)."""

    def only(value, otherwise=0):
        return value if where is None else case((where, value), else_=otherwise)

    return (
        func.count(only(Feedback.id, None)),
        func.coalesce(func.sum(only(Feedback.quality)), 0),
        func.coalesce(func.sum(only(Feedback.impact)), 0),
        func.coalesce(func.sum(only(_objective_value(), 0.0)), 0.0),
        func.coalesce(func.sum(only(case((Feedback.would_recommend.is_(True), 1), else_=0))), 0),
    )


def _apply(row: QualityScore, count: int, quality: float, impact: float, objectives: float, recommend: float,
           now: datetime) -> None:
    row.count = int(count)
    row.quality_mean = shrunk_mean(quality, count)
    row.impact_mean = shrunk_mean(impact, count)
    row.objectives_mean = shrunk_mean(objectives, count, prior=PRIOR_SHARE)
    row.recommend_share = recommend / count if count else None
    row.score = combined_score(row.quality_mean, row.impact_mean, row.objectives_mean,
                               shrunk_mean(recommend, count, prior=PRIOR_SHARE))
    row.updated_at = now
    # Even when unchanged: otherwise the column's onupdate stamps the wall clock over `now`.
    flag_modified(row, "updated_at")


def _score_rows(subjects: list[tuple[str, int]], now: datetime) -> dict[tuple[str, int], QualityScore]:
    """The subjects' rows, created if missing, and locked for the rest of the transaction.

    On PostgreSQL each is inserted-or-touched first (in a fixed order): that waits for, then
    locks, a row another transaction is updating, so the sums read afterwards include that
    transaction's feedback once it commits and two schools' feedback cannot overwrite each
    other's count. On SQLite the write transaction already holds the whole database.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        for subject, subject_id in sorted(subjects):
            stmt = insert(QualityScore).values(subject=subject, subject_id=subject_id, count=0, updated_at=now)
            db.session.execute(stmt.on_conflict_do_update(index_elements=["subject", "subject_id"],
                                                          set_={"updated_at": stmt.excluded.updated_at}))
    wanted = or_(*(and_(QualityScore.subject == subject, QualityScore.subject_id == subject_id)
                   for subject, subject_id in subjects))
    rows = {(row.subject, row.subject_id): row for row in db.session.scalars(
        select(QualityScore).where(wanted).execution_options(populate_existing=True))}
    for key in subjects:
        if key not in rows:
            rows[key] = QualityScore(subject=key[0], subject_id=key[1], count=0, updated_at=now)
            db.session.add(rows[key])
    return rows


_RECOMPUTE_STATEMENT = None


def _recompute_statement():
    """Both subjects' sums in one pass over the provider's feedback (and the offer's, in case
    the offer changed hands since some of it was written). Built once: it runs on every
    feedback change, and building the expression costs more than running it."""
    global _RECOMPUTE_STATEMENT
    if _RECOMPUTE_STATEMENT is None:
        by_offer = Feedback.offer_id == bindparam("offer_id")
        by_provider = Feedback.provider_id == bindparam("provider_id")
        _RECOMPUTE_STATEMENT = select(*_sums(by_offer), *_sums(by_provider)).where(
            or_(by_offer, by_provider), Feedback.hidden_at.is_(None))
    return _RECOMPUTE_STATEMENT


def recompute(offer_id: int, provider_id: int, *, now: datetime | None = None) -> None:
    """Bring the offer's and the provider's cached scores up to date (same transaction)."""
    now = now or utcnow()
    db.session.flush()
    rows = _score_rows([("offer", offer_id), ("provider", provider_id)], now)
    values = db.session.execute(_recompute_statement(), {"offer_id": offer_id, "provider_id": provider_id}).one()
    _apply(rows[("offer", offer_id)], *values[:5], now=now)
    _apply(rows[("provider", provider_id)], *values[5:], now=now)
    db.session.flush()


def recompute_all(*, now: datetime | None = None) -> int:
    """Rebuild every cached score from the feedback (a repair tool); returns rows written."""
    now = now or utcnow()
    db.session.flush()
    written = 0
    for subject, column in (("offer", Feedback.offer_id), ("provider", Feedback.provider_id)):
        sums = {row[0]: row[1:] for row in db.session.execute(
            select(column, *_sums()).where(Feedback.hidden_at.is_(None)).group_by(column))}
        rows = {row.subject_id: row for row in db.session.scalars(
            select(QualityScore).where(QualityScore.subject == subject))}
        with_feedback = set(db.session.scalars(select(column).distinct()))
        for subject_id in sorted(set(sums) | set(rows) | with_feedback):
            row = rows.get(subject_id)
            if row is None:
                row = QualityScore(subject=subject, subject_id=subject_id)
                db.session.add(row)
            _apply(row, *sums.get(subject_id, (0, 0, 0, 0.0, 0)), now=now)
            written += 1
    db.session.flush()
    return written


def offer_scores(offer_ids) -> dict[int, float]:
    """Offer id → score, for search ranking or any list that wants the number alone."""
    return {offer_id: row.score for offer_id, row in summaries("offer", offer_ids).items() if row.score is not None}

