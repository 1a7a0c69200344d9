"""A school's booked sessions as an iCalendar feed, behind a secret per-school token.

The token is the only key to the feed (calendar apps cannot sign in), so it is long and
random, only the school's lead sees or replaces it, and replacing it retires the old one.
"""
import re
import secrets
from datetime import datetime, timezone

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Booking, Offer, OfferSession, Organisation, User
from app.models.base import utcnow
from app.services import audit
from app.services.errors import NotAllowed, NotFound

FEED_STATUSES = ("confirmed", "delivered")
# secrets.token_urlsafe(32) gives 43 characters of [A-Za-z0-9_-]; anything else is not a token.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")
TIME_ZONE = "Europe/London"


def _require_lead(actor: User) -> Organisation:
    if actor is None or not actor.is_authenticated or actor.role != "school_lead" or actor.organisation is None:
        raise NotAllowed("Only a school lead can manage the school's calendar link.")
    return actor.organisation


def token_for(viewer: User) -> str | None:
    """The school's feed token, for its lead only (None for everyone else, or before the first one)."""
    if viewer is None or not viewer.is_authenticated or viewer.role != "school_lead" or viewer.organisation is None:
        return None
    return viewer.organisation.calendar_token


def regenerate_token(actor: User) -> Organisation:
    """Make the school's first token, or replace it: the old address stops working at once."""
    organisation = _require_lead(actor)
    replaced = organisation.calendar_token is not None
    organisation.calendar_token = secrets.token_urlsafe(32)
    db.session.flush()
    audit.record(actor, "calendar.token_replaced" if replaced else "calendar.token_created", organisation)
    return organisation


def feed(token: str) -> tuple[Organisation, list[Booking]]:
    """The school behind a token and its confirmed and delivered sessions, soonest first."""
    if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
        raise NotFound("There is no calendar at this address.")
    # A lookup on the unique, indexed column: no secret comparison loop to time.
    organisation = db.session.scalar(select(Organisation).where(Organisation.calendar_token == token))
    if organisation is None:
        raise NotFound("There is no calendar at this address.")
    rows = db.session.scalars(
        select(Booking).join(OfferSession, OfferSession.id == Booking.session_id)
        .where(Booking.organisation_id == organisation.id, Booking.status.in_(FEED_STATUSES),
               OfferSession.cancelled_at.is_(None))
        .options(joinedload(Booking.session), joinedload(Booking.offer).joinedload(Offer.organisation))
        .order_by(OfferSession.starts_at, Booking.id)
    ).unique().all()
    return organisation, list(rows)


def _as_utc(wall_clock: datetime) -> datetime:
    """Session times are stored as the partnership's wall-clock time; calendars want an instant."""
    try:
        from zoneinfo import ZoneInfo

        return wall_clock.replace(tzinfo=ZoneInfo(TIME_ZONE)).astimezone(timezone.utc)
    except Exception:  # no time zone data on this host: treat the time as UTC
        return wall_clock.replace(tzinfo=timezone.utc)


def _location(offer: Offer) -> str:
    parts = [offer.location_name, offer.address, offer.postcode]
    return ", ".join(" ".join(part.split()) for part in parts if part and part.strip())


def to_ical(organisation: Organisation, rows: list[Booking], *, booking_url, host: str, now: datetime | None = None) -> bytes:
    """The feed as iCalendar bytes. booking_url(booking) gives each booking's page address."""
    from app.services.offers import https_link_problem

    stamp = (now or utcnow()).replace(tzinfo=timezone.utc)
    calendar = Calendar()
    calendar.add("prodid", "-//Waymark//Booked sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Waymark: {organisation.name}")
    for booking in rows:
        session, offer = booking.session, booking.offer
        url = booking_url(booking)
        event = Event()
        event.add("uid", f"booking-{booking.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", _as_utc(session.starts_at))
        event.add("dtend", _as_utc(session.ends_at))
        event.add("summary", offer.title)
        location = _location(offer)
        link = session.joining_link if session.joining_link and https_link_problem(session.joining_link) is None else None
        if link and not location:
            location = "Online"
        if location:
            event.add("location", location)
        lines = [f"{offer.organisation.name}: {booking.places} place{'s' if booking.places != 1 else ''} for "
                 f"{organisation.name} ({booking.status_label.lower()})."]
        if session.note:
            lines.append(session.note)
        if link:
            lines.append(f"Joining link: {link}")
        lines.append(f"Booking: {url}")
        event.add("description", "\n".join(lines))
        event.add("url", url)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
