"""Reminders sent by `flask reminders` (safe to run from cron every hour): impact follow-ups
due, offers about to go stale, sessions tomorrow, and waiting-list offers that have lapsed.

Every reminder carries a dedupe key, so running the sender twice, or every hour, sends each
reminder once. Like the other services this never commits: the command does.
"""
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Booking, ImpactFollowUp, Notification, Offer, OfferSession, User
from app.models.base import utcnow
from app.models.offers import STALE_AFTER_DAYS
from app.services import bookings
from app.services.feedback import FOLLOW_UP_AFTER
from app.services.notify import notify

# An offer is flagged a month before it turns stale (about eleven months after it was last
# confirmed as current), so that its provider can confirm it before search demotes it.
FRESHNESS_REMINDER_AFTER_DAYS = STALE_AFTER_DAYS - 30
_CHUNK = 500


def _local(moment_utc: datetime) -> datetime:
    """A naive UTC time on the partnership's wall clock (session times are stored as typed)."""
    try:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo("Europe/London")
    except Exception:  # no time zone data on this host: UTC is within an hour
        return moment_utc
    return moment_utc.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None)


def send_due(now: datetime | None = None) -> dict[str, int]:
    """Send every reminder that is due at `now` (naive UTC) and not sent before.

    Returns how many notifications of each kind were sent (one per person told), plus how
    many waiting-list offers lapsed and were passed on.
    """
    now = now or utcnow()
    return {
        "follow_ups": _follow_ups(now),
        "freshness": _freshness(now),
        "booking_reminders": _booking_reminders(now),
        "waitlist_expired": bookings.expire_waitlist_offers(now=now),
    }


# --- who to tell --------------------------------------------------------------------------


def _leads_by_org(organisation_ids) -> dict[int, list[User]]:
    ids = sorted(set(organisation_ids))
    found: dict[int, list[User]] = {}
    for start in range(0, len(ids), _CHUNK):
        for user in db.session.scalars(select(User).where(
                User.organisation_id.in_(ids[start:start + _CHUNK]), User.role == "school_lead",
                User.active.is_(True)).order_by(User.id)):
            found.setdefault(user.organisation_id, []).append(user)
    return found


def _already_sent(keys: list[str]) -> set[str]:
    sent: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        sent.update(db.session.scalars(select(Notification.dedupe_key).where(
            Notification.dedupe_key.in_(keys[start:start + _CHUNK]))))
    return sent


def _send(batch: list[tuple[list[User], str, str, str, str, str]]) -> int:
    """Send (users, kind, message, link, subject, dedupe key) items; returns notifications made.

    Checks the keys already sent in a few queries first, so an hourly run over many old
    items costs little; notify() checks again for each person it writes to.
    """
    full_keys = [f"{key}:{user.id}" for users, *_, key in batch for user in users if user is not None]
    sent = _already_sent(full_keys)
    made = 0
    for users, kind, message, link, subject, key in batch:
        pending = [u for u in users if u is not None and u.active and f"{key}:{u.id}" not in sent]
        if pending:
            made += len(notify(pending, kind, message, link, subject=subject, dedupe_key=key))
    return made


def _people(leads: list[User], *others: User | None) -> list[User]:
    people = list(leads)
    for person in others:
        if person is not None and person not in people:
            people.append(person)
    return people


def _short(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# --- impact follow-ups ------------------------------------------------------------------------


def _follow_ups(now: datetime) -> int:
    """Delivered at least eight weeks ago with no follow-up: ask the receiving school's leads."""
    due = list(db.session.scalars(
        select(Booking)
        .outerjoin(ImpactFollowUp, ImpactFollowUp.booking_id == Booking.id)
        .where(Booking.status == "delivered", Booking.delivered_at.is_not(None),
               Booking.delivered_at <= now - FOLLOW_UP_AFTER, ImpactFollowUp.id.is_(None))
        .options(joinedload(Booking.offer), joinedload(Booking.organisation))
        .order_by(Booking.delivered_at, Booking.id)
    ))
    leads = _leads_by_org(b.organisation_id for b in due)
    batch = []
    for booking in due:
        title = booking.offer.title
        batch.append((
            leads.get(booking.organisation_id, []), "follow_up_due",
            _short(f"Eight weeks on from {title} (delivered {booking.delivered_at:%d %B %Y}): what has changed "
                   f"in your school? Two minutes of follow-up helps other schools choose."),
            f"/feedback/follow-up/{booking.id}", _short(f"What changed after {title}?", 200),
            f"follow-up:{booking.id}",
        ))
    return _send(batch)


# --- freshness ------------------------------------------------------------------------------


def _freshness(now: datetime) -> int:
    """Published offers not confirmed as current for about eleven months: ask the provider.

    The key names the assured_on date it reminds about, so each confirmation earns one
    reminder: confirming the offer moves its date, and the next reminder comes a year later.
    """
    cutoff: date = now.date() - timedelta(days=FRESHNESS_REMINDER_AFTER_DAYS)
    offers = list(db.session.scalars(
        select(Offer).where(Offer.status == "published", or_(Offer.assured_on.is_(None), Offer.assured_on < cutoff))
        .order_by(Offer.id)
    ))
    leads = _leads_by_org(o.organisation_id for o in offers)
    batch = []
    for offer in offers:
        when = offer.assured_on.isoformat() if offer.assured_on else "never"
        since = (f"was last confirmed as current on {offer.assured_on:%d %B %Y}" if offer.assured_on
                 else "has never been confirmed as current")
        batch.append((
            leads.get(offer.organisation_id, []), "offer_freshness",
            _short(f"{offer.title} {since}. Please check it is still right and confirm it, or pause it: "
                   f"offers not confirmed for a year are marked possibly out of date and sink in search."),
            f"/offers/{offer.id}", _short(f"Is {offer.title} still current?", 200),
            f"freshness:{offer.id}:{when}",
        ))
    return _send(batch)


# --- booking reminders --------------------------------------------------------------------------


def _booking_reminders(now: datetime) -> int:
    """Confirmed places on a session tomorrow (or later today, if the sender missed yesterday):
    remind the receiving school's leads and the person who booked."""
    local_now = _local(now)
    until = datetime.combine(local_now.date() + timedelta(days=2), time.min)
    due = list(db.session.scalars(
        select(Booking).join(OfferSession, OfferSession.id == Booking.session_id)
        .where(Booking.status == "confirmed", OfferSession.cancelled_at.is_(None),
               and_(OfferSession.starts_at > local_now, OfferSession.starts_at < until))
        .options(joinedload(Booking.offer), joinedload(Booking.session), joinedload(Booking.requested_by))
        .order_by(OfferSession.starts_at, Booking.id)
    ))
    leads = _leads_by_org(b.organisation_id for b in due)
    batch = []
    for booking in due:
        session, title = booking.session, booking.offer.title
        day = "today" if session.starts_at.date() == local_now.date() else "tomorrow"
        places = f"{booking.places} place{'s' if booking.places != 1 else ''}"
        batch.append((
            _people(leads.get(booking.organisation_id, []), booking.requested_by), "booking_reminder",
            _short(f"Reminder: {title} is {day}, {session.starts_at:%A %d %B at %H:%M} ({places} booked)."),
            f"/bookings/{booking.id}", _short(f"{title} is {day}", 200),
            f"booking-reminder:{booking.id}",
        ))
    return _send(batch)
