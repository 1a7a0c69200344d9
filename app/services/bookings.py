"""The booking lifecycle: request → confirm (credits held) → deliver (credits settle) → feedback,
with cancellation, no-shows, capacity and the waiting list.

Who may do what is decided here, not in the views: a member of the receiving school requests;
its school lead confirms and cancels; the provider's lead (or a coordinator) marks delivery
or a no-show. Every credit movement goes through app.services.ledger with a key derived from
the booking, so a double click, a retry or a second tab can never hold credits twice.
"""
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Booking, Offer, OfferSession, Setting, User, WaitlistEntry
from app.models.base import utcnow
from app.models.bookings import OCCUPYING_STATUSES, POLICIES
from app.services import audit, ledger
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound
from app.services.notify import leads_of, notify

DEFAULT_SETTINGS = {
    "late_cancellation_policy": "forfeit_provider",
    "no_show_policy": "forfeit_provider",
    "waitlist_offer_hours": 48,
}
MAX_PLACES = 50
MAX_DAYS = 60


class SessionFull(Conflict):
    def __init__(self, places_left: int):
        super().__init__(
            "This session is full. You can join the waiting list and we will offer you a place if one comes free."
            if places_left <= 0 else
            f"Only {places_left} place{'s' if places_left != 1 else ''} left on this session."
        )
        self.places_left = places_left


def setting(key: str):
    row = db.session.scalar(select(Setting).where(Setting.key == key))
    return row.value if row is not None else DEFAULT_SETTINGS[key]


def credits_enabled() -> bool:
    return bool(current_app.config.get("CREDITS_ENABLED", True))


def session_clock() -> datetime:
    """Now on the clock that session times are typed and stored in (the partnership's wall clock).

    Timestamps such as confirmed_at are UTC; session times are not. Comparing a session with
    utcnow() would be an hour out all summer.
    """
    from app.services.offers import local_now

    return local_now()


# --- reading ----------------------------------------------------------------------------


def places_taken(session_id: int) -> int:
    booked = db.session.scalar(
        select(func.coalesce(func.sum(Booking.places), 0)).where(
            Booking.session_id == session_id, Booking.status.in_(OCCUPYING_STATUSES)
        )
    )
    # A place offered to a waiting school is kept for it until the offer expires.
    offered = db.session.scalar(
        select(func.coalesce(func.sum(WaitlistEntry.places), 0)).where(
            WaitlistEntry.session_id == session_id, WaitlistEntry.status == "offered"
        )
    )
    return int(booked or 0) + int(offered or 0)


def places_left(session: OfferSession) -> int:
    return max(0, session.places - places_taken(session.id))


def places_taken_by_session(session_ids: list[int]) -> dict[int, int]:
    """Places taken for many sessions in two queries (for offer pages and lists)."""
    if not session_ids:
        return {}
    taken = dict(db.session.execute(
        select(Booking.session_id, func.sum(Booking.places))
        .where(Booking.session_id.in_(session_ids), Booking.status.in_(OCCUPYING_STATUSES))
        .group_by(Booking.session_id)
    ).all())
    for session_id, places in db.session.execute(
        select(WaitlistEntry.session_id, func.sum(WaitlistEntry.places))
        .where(WaitlistEntry.session_id.in_(session_ids), WaitlistEntry.status == "offered")
        .group_by(WaitlistEntry.session_id)
    ).all():
        taken[session_id] = taken.get(session_id, 0) + places
    return {sid: int(taken.get(sid, 0) or 0) for sid in session_ids}


def get_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("That booking could not be found.")
    return booking


def can_view(viewer: User, booking: Booking) -> bool:
    if viewer is None or not viewer.is_authenticated:
        return False
    return (
        viewer.is_coordinator
        or viewer.organisation_id in (booking.organisation_id, booking.offer.organisation_id)
    )


def viewable_booking(viewer: User, booking_id: int) -> Booking:
    booking = get_booking(booking_id)
    if not can_view(viewer, booking):
        # Another school's booking is not acknowledged to exist.
        raise NotFound("That booking could not be found.")
    return booking


# --- guards -----------------------------------------------------------------------------


def _lock_booking(booking_id: int) -> Booking:
    """Re-read the booking under a row lock (PostgreSQL), so two tabs cannot both act on it.

    Locks are always taken in the order session, booking, ledger accounts, so that no two
    transactions can wait for each other. On SQLite the transaction holds the write lock.
    """
    booking = db.session.scalar(
        select(Booking).where(Booking.id == booking_id).with_for_update().execution_options(populate_existing=True)
    )
    if booking is None:
        raise NotFound("That booking could not be found.")
    return booking


def _lock_session(session_id: int) -> OfferSession:
    session = db.session.scalar(
        select(OfferSession).where(OfferSession.id == session_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFound("That session could not be found.")
    return session


def _is_lead_of(actor: User, organisation_id: int) -> bool:
    return actor.role == "school_lead" and actor.organisation_id == organisation_id


def _require_receiving_lead(actor: User, booking: Booking) -> None:
    if not _is_lead_of(actor, booking.organisation_id):
        raise NotAllowed("Only the school lead of the booking school can do that.")


def _require_provider(actor: User, booking: Booking) -> None:
    if not (actor.is_coordinator or _is_lead_of(actor, booking.offer.organisation_id)):
        raise NotAllowed("Only the providing school's lead or a coordinator can do that.")


def _require_member(actor: User) -> None:
    if actor is None or actor.organisation_id is None or actor.role not in ("teacher", "governor", "school_lead"):
        raise NotAllowed("Only staff and governors of a member school can book.")


def _bookable_offer(offer: Offer, actor: User) -> None:
    if offer.status != "published":
        raise Invalid("This offer is not open for booking.")
    if offer.organisation_id == actor.organisation_id:
        raise Invalid("Your school provides this offer, so it cannot book it.")


def price_for(offer: Offer, places: int, days: int | None) -> int:
    if not credits_enabled():
        return 0
    units = days if offer.price_unit == "day" and days else places
    return offer.price_credits * units


# --- requesting -------------------------------------------------------------------------


def _already_requested(actor: User, request_key: str | None, **same) -> Booking | None:
    """The booking an earlier submission of the same form made, if any.

    Each booking form carries a one-time key: a form sent twice (a double click without
    JavaScript, a retried POST) returns the first booking instead of making a second.
    """
    if not request_key:
        return None
    if len(request_key) > 64:
        raise Invalid("This form has expired. Reload the page and try again.")
    existing = db.session.scalar(select(Booking).where(Booking.request_key == request_key))
    if existing is None:
        return None
    if existing.requested_by_id != actor.id or any(getattr(existing, k) != v for k, v in same.items()):
        raise Conflict("This form was already used for another booking. Reload the page and try again.")
    return existing


def _add_booking(booking: Booking) -> Booking:
    """Insert a new booking. Returns it, or the twin that a concurrent submission of the same
    form (same request key) committed first."""
    db.session.add(booking)
    if booking.request_key is None:
        db.session.flush()
        return booking
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        if booking in db.session:
            db.session.expunge(booking)
        twin = db.session.scalar(select(Booking).where(Booking.request_key == booking.request_key))
        if twin is None:
            raise
        return twin
    return booking


def request_places(actor: User, session_id: int, places: int, note: str | None = None, *, now: datetime | None = None,
                   request_key: str | None = None) -> Booking:
    _require_member(actor)
    if not isinstance(places, int) or not 1 <= places <= MAX_PLACES:
        raise Invalid(f"Ask for between 1 and {MAX_PLACES} places.", field="places")
    session = _lock_session(session_id)
    earlier = _already_requested(actor, request_key, session_id=session_id, places=places)
    if earlier is not None:
        return earlier
    offer = session.offer
    _bookable_offer(offer, actor)
    if session.cancelled_at is not None:
        raise Invalid("This session has been cancelled.")
    if session.starts_at <= (now or session_clock()):
        raise Invalid("This session has already started.")
    left = places_left(session)
    if places > left:
        raise SessionFull(left)
    booking = Booking(offer_id=offer.id, session_id=session.id, organisation_id=actor.organisation_id,
                      requested_by_id=actor.id, places=places, note=(note or "").strip() or None,
                      status="requested", credits=0, request_key=request_key or None)
    saved = _add_booking(booking)
    if saved is not booking:  # the locked session row makes this all but impossible; kept for safety
        return saved
    audit.record(actor, "booking.requested", booking, places=places)
    _notify_requested(booking)
    return booking


def request_bespoke(actor: User, offer_id: int, days: int, objectives: str, review_on: date | None,
                    note: str | None = None, *, request_key: str | None = None) -> Booking:
    _require_member(actor)
    earlier = _already_requested(actor, request_key, offer_id=offer_id, days=days)
    if earlier is not None:
        return earlier
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("That offer could not be found.")
    _bookable_offer(offer, actor)
    if offer.booking_mode != "bespoke":
        raise Invalid("Choose a session to book places on this offer.")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise Invalid(f"Ask for between 1 and {MAX_DAYS} days.", field="days")
    if not (objectives or "").strip():
        raise Invalid("Say what the support should achieve.", field="objectives")
    booking = Booking(offer_id=offer.id, organisation_id=actor.organisation_id, requested_by_id=actor.id,
                      places=1, days=days, objectives=objectives.strip(), review_on=review_on,
                      note=(note or "").strip() or None, status="requested", credits=0,
                      request_key=request_key or None)
    saved = _add_booking(booking)
    if saved is not booking:  # two submissions of one form at the same moment (PostgreSQL)
        return saved
    audit.record(actor, "booking.requested", booking, days=days)
    _notify_requested(booking)
    return booking


# --- the lifecycle ----------------------------------------------------------------------


def confirm(actor: User, booking_id: int, *, now: datetime | None = None) -> Booking:
    """The booking school's lead confirms: the price is held in escrow. Repeating it is harmless."""
    booking = _lock_booking(booking_id)
    _require_receiving_lead(actor, booking)
    if booking.status == "confirmed":
        return booking  # a double click or a second tab: already done, nothing more happens
    if booking.status != "requested":
        raise Conflict(f"This booking is {booking.status_label.lower()}, so it cannot be confirmed.")
    cost = price_for(booking.offer, booking.places, booking.days)
    if cost > 0:
        ledger.hold(actor, organisation_id=booking.organisation_id, amount=cost, booking_id=booking.id,
                    key=ledger.new_key("booking", booking.id, "hold"))
    booking.credits = cost
    booking.status = "confirmed"
    booking.confirmed_at = now or utcnow()
    booking.confirmed_by_id = actor.id
    audit.record(actor, "booking.confirmed", booking, credits=cost)
    _notify_booking(booking, "confirmed", f"Booking confirmed: {booking.offer.title}",
                    to_provider=True, to_receiver=True)
    return booking


def deliver(actor: User, booking_id: int, attended: int | None = None, *, now: datetime | None = None) -> Booking:
    """The provider confirms delivery (with attendance): held credits move to the provider."""
    booking = _lock_booking(booking_id)
    _require_provider(actor, booking)
    if booking.status == "delivered":
        return booking
    if booking.status != "confirmed":
        raise Conflict("Only a confirmed booking can be marked delivered.")
    if attended is not None and (not isinstance(attended, int) or not 0 <= attended <= booking.places):
        raise Invalid(f"Attendance must be between 0 and {booking.places}.", field="attended")
    if booking.session is not None and booking.session.starts_at > (now or session_clock()):
        raise Invalid("This session has not happened yet.")
    if booking.credits > 0:
        ledger.settle(actor, organisation_id=booking.organisation_id, provider_id=booking.offer.organisation_id,
                      amount=booking.credits, booking_id=booking.id, key=ledger.new_key("booking", booking.id, "settle"))
    booking.status = "delivered"
    booking.attended = attended if attended is not None else booking.places
    booking.delivered_at = now or utcnow()
    booking.delivered_by_id = actor.id
    audit.record(actor, "booking.delivered", booking, attended=booking.attended)
    _notify_booking(booking, "delivered",
                    f"Delivered: {booking.offer.title}. Please tell other schools how it went.",
                    to_receiver=True, link=f"/feedback/new/{booking.id}")
    return booking


def cancellation_deadline(booking: Booking) -> datetime | None:
    if booking.session is None:
        return None
    return booking.session.starts_at - timedelta(days=booking.offer.cancellation_days)


def cancel(actor: User, booking_id: int, reason: str = "", *, now: datetime | None = None) -> Booking:
    """Cancel before the deadline: held credits come back. Later: the scheme's policy applies.

    The booking school's lead may cancel; the person who asked may withdraw a request not yet
    confirmed; the provider (or a coordinator) may cancel, and then the school is always refunded.
    """
    # Lock order everywhere: session, then booking, then the ledger (no deadlocks).
    session_id = db.session.scalar(select(Booking.session_id).where(Booking.id == booking_id))
    if session_id is not None:
        _lock_session(session_id)
    booking = _lock_booking(booking_id)
    clock = now or session_clock()
    now = now or utcnow()
    by_provider = actor.is_coordinator or _is_lead_of(actor, booking.offer.organisation_id)
    by_receiver = _is_lead_of(actor, booking.organisation_id) or (
        booking.status == "requested" and booking.requested_by_id == actor.id
    )
    if not (by_provider or by_receiver):
        raise NotAllowed("Only the booking school's lead or the provider can cancel this booking.")
    if booking.status == "cancelled":
        return booking
    if booking.status not in ("requested", "confirmed"):
        raise Conflict(f"This booking is {booking.status_label.lower()}, so it cannot be cancelled.")
    deadline = cancellation_deadline(booking)
    late = by_receiver and not by_provider and deadline is not None and clock > deadline
    policy = setting("late_cancellation_policy") if late else "refund"
    if booking.status == "confirmed":
        _apply_policy(actor, booking, policy, "cancel")
    booking.outcome_policy = policy if booking.status == "confirmed" else None
    booking.status = "cancelled"
    booking.cancelled_at = now
    booking.cancelled_by_id = actor.id
    booking.cancellation_reason = (reason or "").strip() or None
    audit.record(actor, "booking.cancelled", booking, late=late, policy=policy)
    _notify_booking(booking, "cancelled", f"Booking cancelled: {booking.offer.title}",
                    to_provider=True, to_receiver=True)
    if booking.session_id is not None:
        offer_released_places(booking.session_id, now=now)
    return booking


def no_show(actor: User, booking_id: int, *, now: datetime | None = None) -> Booking:
    booking = _lock_booking(booking_id)
    _require_provider(actor, booking)
    if booking.status == "no_show":
        return booking
    if booking.status != "confirmed":
        raise Conflict("Only a confirmed booking can be recorded as a no-show.")
    if booking.session is not None and booking.session.starts_at > (now or session_clock()):
        raise Invalid("This session has not happened yet.")
    policy = setting("no_show_policy")
    _apply_policy(actor, booking, policy, "no-show")
    booking.status = "no_show"
    booking.attended = 0
    booking.outcome_policy = policy
    audit.record(actor, "booking.no_show", booking, policy=policy)
    _notify_booking(booking, "no_show", f"Recorded as not attended: {booking.offer.title}", to_receiver=True)
    return booking


def _apply_policy(actor: User, booking: Booking, policy: str, step: str) -> None:
    if booking.credits <= 0:
        return
    if policy not in POLICIES:
        raise Invalid(f"Unknown policy {policy!r}.")
    key = ledger.new_key("booking", booking.id, step, policy)
    common = dict(organisation_id=booking.organisation_id, amount=booking.credits, booking_id=booking.id, key=key)
    if policy == "refund":
        ledger.release(actor, **common)
    elif policy == "forfeit_provider":
        ledger.forfeit(actor, provider_id=booking.offer.organisation_id, **common)
    else:
        ledger.forfeit(actor, **common)


# --- the waiting list -------------------------------------------------------------------


def join_waitlist(actor: User, session_id: int, places: int = 1) -> WaitlistEntry:
    _require_member(actor)
    if not isinstance(places, int) or not 1 <= places <= MAX_PLACES:
        raise Invalid(f"Ask for between 1 and {MAX_PLACES} places.", field="places")
    session = _lock_session(session_id)
    _bookable_offer(session.offer, actor)
    if places_left(session) >= places:
        raise Invalid("There are places left: book them instead.")
    existing = db.session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.session_id == session_id, WaitlistEntry.organisation_id == actor.organisation_id,
        WaitlistEntry.status.in_(("waiting", "offered"))))
    if existing is not None:
        raise Conflict("Your school is already on the waiting list for this session.")
    entry = WaitlistEntry(session_id=session_id, organisation_id=actor.organisation_id,
                          requested_by_id=actor.id, places=places, status="waiting")
    db.session.add(entry)
    db.session.flush()
    audit.record(actor, "waitlist.joined", entry, places=places)
    return entry


def cancel_session_bookings(actor: User, session_id: int, reason: str, *, now: datetime | None = None) -> int:
    """The provider cancelled a session: every live booking on it is cancelled (held credits go
    back to the school in full) and its waiting list is closed. Returns the bookings cancelled.
    Called by app.services.offers.cancel_session once the session is marked cancelled."""
    session = _lock_session(session_id)
    if session.cancelled_at is None:
        raise Conflict("Cancel the session first.")
    count = 0
    for booking_id in db.session.scalars(
            select(Booking.id).where(Booking.session_id == session_id, Booking.status.in_(("requested", "confirmed")))
            .order_by(Booking.id)).all():
        cancel(actor, booking_id, reason, now=now)
        count += 1
    for entry in db.session.scalars(select(WaitlistEntry).where(
            WaitlistEntry.session_id == session_id, WaitlistEntry.status.in_(("waiting", "offered")))).all():
        entry.status = "withdrawn"
        notify(leads_of(entry.organisation_id) + ([entry.requested_by] if entry.requested_by else []),
               "waitlist_closed",
               f"The session of {session.offer.title} on {session.starts_at:%d %b %Y} you were waiting for "
               f"has been cancelled by the provider.", link=f"/offers/{session.offer_id}")
    return count


def offer_released_places(session_id: int, *, now: datetime | None = None) -> list[WaitlistEntry]:
    """Offer freed places to waiting schools, first come first served, for a limited time."""
    now = now or utcnow()
    session = _lock_session(session_id)
    offered = []
    if session.cancelled_at is not None:
        return offered  # nothing to offer on a cancelled session
    hours = int(setting("waitlist_offer_hours"))
    for entry in db.session.scalars(select(WaitlistEntry).where(
            WaitlistEntry.session_id == session_id, WaitlistEntry.status == "waiting")
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)):
        if entry.places > places_left(session):
            break  # keep the queue's order: nobody jumps ahead of the first waiting school
        entry.status = "offered"
        entry.offered_at = now
        entry.offer_expires_at = now + timedelta(hours=hours)
        db.session.flush()
        offered.append(entry)
        notify(leads_of(entry.organisation_id) + ([entry.requested_by] if entry.requested_by else []),
               "waitlist_offer",
               f"A place has come free on {session.offer.title} ({session.starts_at:%d %b %Y}). "
               f"It is kept for your school until {entry.offer_expires_at:%d %b %H:%M}.",
               link=f"/offers/{session.offer_id}")
    return offered


def accept_waitlist_place(actor: User, entry_id: int, *, now: datetime | None = None) -> Booking:
    now = now or utcnow()
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None or entry.organisation_id != actor.organisation_id:
        raise NotFound("That waiting-list place could not be found.")
    _require_member(actor)
    if entry.status != "offered":
        raise Conflict("This place is no longer offered to your school.")
    if entry.offer_expires_at is not None and entry.offer_expires_at < now:
        raise Conflict("The time to take this place has passed.")
    # The kept place becomes a requested booking; the lead then confirms it as usual.
    entry.status = "accepted"
    db.session.flush()
    booking = request_places(actor, entry.session_id, entry.places, now=now)
    entry.booking_id = booking.id
    return booking


def expire_waitlist_offers(*, now: datetime | None = None) -> int:
    """Offers not taken in time lapse, and the place goes to the next school (run by reminders)."""
    now = now or utcnow()
    expired = list(db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at < now)))
    for entry in expired:
        entry.status = "expired"
    db.session.flush()
    for session_id in sorted({entry.session_id for entry in expired}):
        offer_released_places(session_id, now=now)
    return len(expired)


# --- notifications ----------------------------------------------------------------------


def _notify_requested(booking: Booking) -> None:
    who = booking.requested_by.name if booking.requested_by else "Someone"
    notify(leads_of(booking.organisation_id), "booking_requested",
           f"{who} asked to book {booking.offer.title}. Please confirm or decline.",
           link=f"/bookings/{booking.id}")


def _notify_booking(booking: Booking, kind: str, message: str, *, to_provider: bool = False,
                    to_receiver: bool = False, link: str | None = None) -> None:
    users: list[User] = []
    if to_receiver:
        users += leads_of(booking.organisation_id)
        if booking.requested_by is not None and booking.requested_by not in users:
            users.append(booking.requested_by)
    if to_provider:
        users += [u for u in leads_of(booking.offer.organisation_id) if u not in users]
    notify(users, f"booking_{kind}", message, link=link or f"/bookings/{booking.id}")


# --- what the pages may offer (the same rules as the actions above) ----------------------


def allowed_actions(viewer: User, booking: Booking, *, now: datetime | None = None) -> set[str]:
    """The actions this viewer may take on this booking now: a page shows exactly these."""
    if viewer is None or not viewer.is_authenticated or not can_view(viewer, booking):
        return set()
    clock = now or session_clock()
    provider = viewer.is_coordinator or _is_lead_of(viewer, booking.offer.organisation_id)
    receiver = _is_lead_of(viewer, booking.organisation_id)
    actions = set()
    if booking.status == "requested" and receiver:
        actions.add("confirm")
    if booking.status in ("requested", "confirmed") and (
        provider or receiver or (booking.status == "requested" and booking.requested_by_id == viewer.id)
    ):
        actions.add("cancel")
    started = booking.session is None or booking.session.starts_at <= clock
    if booking.status == "confirmed" and provider and started:
        actions.update(("deliver", "no_show"))
    return actions


def cancellation_outlook(viewer: User, booking: Booking, *, now: datetime | None = None) -> dict:
    """What cancelling now would do, for the page to say before anyone presses the button."""
    clock = now or session_clock()
    deadline = cancellation_deadline(booking)
    by_provider = viewer.is_coordinator or _is_lead_of(viewer, booking.offer.organisation_id)
    passed = deadline is not None and clock > deadline
    late = passed and not by_provider
    policy = setting("late_cancellation_policy") if late else "refund"
    return {
        "deadline": deadline,
        "passed": passed,
        "late": late,
        "by_provider": by_provider,
        "policy": policy if booking.status == "confirmed" and booking.credits > 0 else None,
    }


# --- the offer page: places and joining links for every session in a constant number of queries


_PAGE_CACHE = "waymark_bookings_page_cache"


def _page_cache() -> dict:
    return db.session.info.setdefault(_PAGE_CACHE, {})


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_page_cache(session, *args) -> None:
    # Anything written may change the counts: they are only reused while nothing changes.
    session.info.pop(_PAGE_CACHE, None)


def places_left_on_page(session: OfferSession) -> int:
    """places_left() for a page that lists many sessions of one offer: one count for all of them."""
    taken = _page_cache().setdefault("taken", {})
    if session.id not in taken:
        ids = {s.id for s in session.offer.sessions} | {session.id}
        taken.update(places_taken_by_session(sorted(ids)))
    return max(0, session.places - taken[session.id])


def school_holds_session(organisation_id: int, session: OfferSession) -> bool:
    """Whether this school has a confirmed (or delivered) booking on the session."""
    key = ("holds", organisation_id, session.offer_id)
    cache = _page_cache()
    if key not in cache:
        cache[key] = set(db.session.scalars(select(Booking.session_id).where(
            Booking.organisation_id == organisation_id, Booking.offer_id == session.offer_id,
            Booking.status.in_(("confirmed", "delivered")), Booking.session_id.is_not(None))))
    return session.id in cache[key]
