"""Offers and their sessions: who may create, change, publish, pause, archive and confirm an
offer (its organisation's school lead, or a coordinator), what an offer must have to be
published, sessions and series of sessions, and what each viewer may see on an offer page."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Category, ExpertProfile, FacetTerm, Offer, OfferSession, Organisation, User
from app.models.base import utcnow
from app.models.offers import BOOKING_MODES, PRICE_UNITS
from app.models.taxonomy import FACETS
from app.services import audit
from app.services.directory import normalise_postcode
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound
from app.services.geo import km_between

MAX_TITLE = 200
MAX_SUMMARY = 300
MAX_DESCRIPTION = 10_000
MAX_PRICE = 1000
MAX_PLACES = 500
MAX_CANCELLATION_DAYS = 90
MAX_SERIES = 20
MAX_NOTE = 200
MAX_LINK = 500
# Sessions further ahead than this are almost certainly a typing slip (and keep date
# arithmetic for a series far from datetime's limits).
MAX_DAYS_AHEAD = 3 * 366
# One session (even a residential) does not last longer than this.
MAX_SESSION_DAYS = 14
REPEATS = {"once": 0, "weekly": 7, "fortnightly": 14}
# Facets an offer must have at least one term of before it can be published.
REQUIRED_FACETS = {"phase": "Choose at least one phase", "format": "Choose at least one format"}
LOCATION_FIELDS = ("location_name", "address", "postcode")
# Ids in URLs beyond a 64-bit integer must be a 404, not a driver OverflowError.
_MAX_ID = 2**63 - 1


class OfferInvalid(Invalid):
    """Invalid input with a message per field, so a form can show every problem at once."""

    def __init__(self, errors: dict[str, str]):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = dict(errors)


def local_now() -> datetime:
    """Wall-clock time in the partnership's time zone: session times are stored as typed."""
    try:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo("Europe/London")).replace(tzinfo=None, microsecond=0)
    except Exception:  # no time zone data on this host: the server's local time is close enough
        return datetime.now().replace(microsecond=0)


# --- Who may do what -------------------------------------------------------------------


def _signed_in(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "active", False))


def _is_coordinator(actor) -> bool:
    return _signed_in(actor) and actor.is_coordinator


def can_manage_for(actor, organisation_id: int | None) -> bool:
    """The actor may create and change offers of this organisation."""
    if _is_coordinator(actor):
        return True
    return (
        _signed_in(actor)
        and organisation_id is not None
        and actor.role == "school_lead"
        and actor.organisation_id == organisation_id
    )


def can_manage(actor, offer: Offer) -> bool:
    return can_manage_for(actor, offer.organisation_id)


def can_create(actor) -> bool:
    return _is_coordinator(actor) or (
        _signed_in(actor) and actor.role == "school_lead" and actor.organisation_id is not None
    )


def is_provider_member(actor, offer: Offer) -> bool:
    return _signed_in(actor) and actor.organisation_id is not None and actor.organisation_id == offer.organisation_id


def can_view(actor, offer: Offer) -> bool:
    """Published offers are public; drafts, paused and archived ones only for the provider's people and coordinators."""
    return offer.status == "published" or is_provider_member(actor, offer) or _is_coordinator(actor)


def organisation_offers(actor, organisation_id: int) -> list[Offer]:
    """An organisation's offers for its directory page: published ones for everyone, and
    drafts and paused ones too for its own people and coordinators. Archived ones are left out."""
    statuses = ["published"]
    if _is_coordinator(actor) or (_signed_in(actor) and actor.organisation_id == organisation_id):
        statuses += ["draft", "paused"]
    return list(db.session.scalars(
        select(Offer).where(Offer.organisation_id == organisation_id, Offer.status.in_(statuses))
        .order_by(Offer.status != "published", Offer.title)
    ))


def can_see_joining_link(viewer, session: OfferSession) -> bool:
    """Who sees an online session's joining link: the provider's own people, coordinators,
    and people of a school with a confirmed (or delivered) booking on this session."""
    if is_provider_member(viewer, session.offer) or _is_coordinator(viewer):
        return True
    if not _signed_in(viewer) or viewer.organisation_id is None:
        return False
    from app.services import bookings

    return bookings.school_holds_session(viewer.organisation_id, session)


def places_left(session: OfferSession) -> int:
    """Places still available on a session: its places less those booked or kept for a waiting school.

    Counted for all the offer's sessions at once, so an offer page's queries do not grow with its dates.
    """
    from app.services import bookings

    return bookings.places_left_on_page(session)


def publish_problems(offer: Offer) -> dict[str, str]:
    """What an offer still needs before it can be published (field → message); empty when ready.

    A sessions offer may be published before it has dates: its page then says "No dates
    yet", so a provider can announce an offer and add dates as they are fixed.
    """
    problems: dict[str, str] = {}
    if offer.category_id is None or (offer.category is not None and offer.category.parent_id is None):
        problems["category_id"] = "Choose a category"
    for facet, message in REQUIRED_FACETS.items():
        if not offer.terms_for(facet):
            problems[facet] = message
    if offer.price_credits is None:
        problems["price_credits"] = "Enter a price in credits: 0 if it is free"
    return problems


# --- Lookups ---------------------------------------------------------------------------


def _valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID


def _get_offer(offer_id, *options, for_update: bool = False) -> Offer:
    if not _valid_id(offer_id):
        raise NotFound("There is no such offer.")
    stmt = select(Offer).where(Offer.id == offer_id).options(*options)
    if for_update:
        # PostgreSQL: two requests changing one offer queue up; SQLite writes are serialised anyway.
        stmt = stmt.with_for_update(of=Offer)
    offer = db.session.scalar(stmt)
    if offer is None:
        raise NotFound("There is no such offer.")
    return offer


def _offer_to_change(actor, offer_id, *options) -> Offer:
    """The offer, if the actor may change it and it can still be changed."""
    offer = _get_offer(offer_id, *options, for_update=True)
    if not can_manage(actor, offer):
        raise NotAllowed("Only the providing school's lead or a coordinator can change this offer.")
    if offer.status == "archived":
        raise Conflict("This offer is archived. Archived offers are final: create a new offer instead.")
    return offer


def _contacts_stmt():
    return (
        select(User)
        .join(ExpertProfile, ExpertProfile.user_id == User.id)
        .where(User.active.is_(True))
        .options(joinedload(User.organisation))
        .order_by(User.name, User.id)
    )


# --- Form context ----------------------------------------------------------------------


@dataclass
class OfferFormContext:
    offer: Offer | None
    # The provider whose offer this is; None while a coordinator has still to choose one.
    organisation: Organisation | None
    organisations: list[Organisation]
    categories: list[Category]
    terms: dict[str, list[FacetTerm]]
    contacts: list[User]

    @property
    def chooses_organisation(self) -> bool:
        return self.offer is None and self.organisation is None


def form_context(actor, offer_id: int | None = None) -> OfferFormContext:
    """Everything the offer form offers to choose from, after checking the actor may use it."""
    if offer_id is None:
        if not can_create(actor):
            raise NotAllowed("Only school leads and coordinators can create offers.")
        offer = None
        organisation = None if _is_coordinator(actor) else db.session.get(Organisation, actor.organisation_id)
    else:
        offer = _get_offer(offer_id, selectinload(Offer.terms), joinedload(Offer.organisation))
        if not can_manage(actor, offer):
            raise NotAllowed("Only the providing school's lead or a coordinator can change this offer.")
        if offer.status == "archived":
            raise Conflict("This offer is archived. Archived offers are final: create a new offer instead.")
        organisation = offer.organisation

    categories = list(
        db.session.scalars(
            select(Category)
            .where(Category.parent_id.is_(None))
            .options(selectinload(Category.children))
            .order_by(Category.position, Category.name)
        )
    )
    terms: dict[str, list[FacetTerm]] = {facet: [] for facet in FACETS}
    for facet_term in db.session.scalars(select(FacetTerm).order_by(FacetTerm.facet, FacetTerm.position, FacetTerm.label)):
        terms.setdefault(facet_term.facet, []).append(facet_term)

    contacts_stmt = _contacts_stmt()
    organisations: list[Organisation] = []
    if organisation is None:
        organisations = list(
            db.session.scalars(select(Organisation).where(Organisation.is_member.is_(True)).order_by(Organisation.name))
        )
    else:
        contacts_stmt = contacts_stmt.where(User.organisation_id == organisation.id)
    contacts = list(db.session.scalars(contacts_stmt).unique())
    return OfferFormContext(offer, organisation, organisations, categories, terms, contacts)


# --- Creating and changing offers --------------------------------------------------------


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    return str(value).replace("\x00", "").strip()


def _int_in(data: dict, name: str, low: int, high: int, errors: dict, message: str, required: bool = True):
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors[name] = message
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = message
        return None
    return value


def _clean_offer(data: dict, organisation: Organisation | None) -> tuple[dict, list[FacetTerm]]:
    """Check the offer's fields. Raises OfferInvalid with every problem found."""
    errors: dict[str, str] = {}
    clean: dict = {}

    title = _text(data, "title")
    if not title:
        errors["title"] = "Enter a title"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Title must be {MAX_TITLE} characters or fewer"
    clean["title"] = title
    for name, limit, label in (("summary", MAX_SUMMARY, "Summary"), ("description", MAX_DESCRIPTION, "Description")):
        value = _text(data, name)
        if len(value) > limit:
            errors[name] = f"{label} must be {limit:,} characters or fewer"
        clean[name] = value

    category_id = data.get("category_id")
    category = db.session.get(Category, category_id) if _valid_id(category_id) else None
    if category is None or category.parent_id is None:
        errors["category_id"] = "Choose a category from the list"
    clean["category_id"] = category.id if category is not None else None

    chosen: list[FacetTerm] = []
    wanted = data.get("terms") or {}
    ids = {term_id for facet in FACETS for term_id in (wanted.get(facet) or [])}
    if any(not _valid_id(term_id) for term_id in ids):
        known = {}
    else:
        known = {t.id: t for t in db.session.scalars(select(FacetTerm).where(FacetTerm.id.in_(ids)))} if ids else {}
    for facet, label in FACETS.items():
        facet_ids = list(dict.fromkeys(wanted.get(facet) or []))
        terms = [known.get(term_id) for term_id in facet_ids]
        if any(t is None or t.facet != facet for t in terms):
            errors[facet] = f"Choose {label.lower()} options from the list"
            continue
        chosen.extend(terms)

    booking_mode = data.get("booking_mode")
    if booking_mode not in BOOKING_MODES:
        errors["booking_mode"] = "Choose how schools take this offer up"
    clean["booking_mode"] = booking_mode
    clean["price_credits"] = _int_in(
        data, "price_credits", 0, MAX_PRICE, errors, f"Enter a price from 0 to {MAX_PRICE:,} credits (0 if it is free)"
    )
    price_unit = data.get("price_unit")
    if price_unit not in PRICE_UNITS:
        errors["price_unit"] = "Choose whether the price is per place or per day"
    clean["price_unit"] = price_unit
    clean["capacity"] = _int_in(
        data, "capacity", 1, MAX_PLACES, errors, f"Places must be a whole number from 1 to {MAX_PLACES}", required=False
    )
    clean["cancellation_days"] = _int_in(
        data, "cancellation_days", 0, MAX_CANCELLATION_DAYS, errors,
        f"Cancellation notice must be a whole number of days from 0 to {MAX_CANCELLATION_DAYS}",
    )

    for name, limit, label in (("location_name", 200, "Place name"), ("address", 300, "Address")):
        value = _text(data, name)
        if len(value) > limit:
            errors[name] = f"{label} must be {limit} characters or fewer"
        clean[name] = value or None
    postcode = _text(data, "postcode")
    if postcode:
        normalised = normalise_postcode(postcode)
        if normalised is None:
            errors["postcode"] = "Enter a real UK postcode, like GL1 2AB"
        postcode = normalised
    clean["postcode"] = postcode or None

    contact_id = data.get("contact_user_id")
    clean["contact_user_id"] = None
    if contact_id not in (None, ""):
        contact = db.session.scalar(
            select(User).where(User.id == contact_id).options(joinedload(User.expert_profile))
        ) if _valid_id(contact_id) else None
        if contact is None or not contact.active:
            errors["contact_user_id"] = "Choose a contact from the list"
        elif organisation is not None and contact.organisation_id != organisation.id:
            errors["contact_user_id"] = f"The contact must be someone at {organisation.name}"
        elif contact.expert_profile is None:
            errors["contact_user_id"] = "The contact must have an expert profile"
        else:
            clean["contact_user_id"] = contact.id

    review_on = data.get("review_on")
    if review_on is not None and not isinstance(review_on, date):
        errors["review_on"] = "Enter a review date, like 2027-07-31"
        review_on = None
    clean["review_on"] = review_on

    if errors:
        raise OfferInvalid(errors)
    return clean, chosen


def _coordinates_for(postcode: str | None, organisation: Organisation) -> tuple[int | None, int | None]:
    """Coordinates follow the postcode. There is no geocoder: a postcode already known in the
    directory gives its organisation's coordinates; an unknown one gives no distance."""
    if postcode is None or postcode == normalise_postcode(organisation.postcode or ""):
        return organisation.easting, organisation.northing
    other = db.session.execute(
        select(Organisation.easting, Organisation.northing)
        .where(Organisation.postcode == postcode, Organisation.easting.is_not(None), Organisation.northing.is_not(None))
        .limit(1)
    ).first()
    return (other.easting, other.northing) if other else (None, None)


def _apply(offer: Offer, clean: dict, terms: list[FacetTerm], organisation: Organisation) -> list[str]:
    """Set the offer's fields; returns the names of those that changed (for the audit row)."""
    values = dict(clean)
    if not any(values[name] for name in LOCATION_FIELDS):
        # Blank location: the provider's own site, with its coordinates for distances.
        values.update(
            location_name=organisation.name,
            address=organisation.address,
            postcode=organisation.postcode,
            easting=organisation.easting,
            northing=organisation.northing,
        )
    else:
        values["easting"], values["northing"] = _coordinates_for(values["postcode"], organisation)
    changed = [name for name, value in values.items() if getattr(offer, name) != value]
    for name in changed:
        setattr(offer, name, values[name])
    if {t.id for t in offer.terms} != {t.id for t in terms}:
        offer.terms = terms
        changed.append("terms")
    return changed


def _publish(offer: Offer, now: datetime) -> None:
    problems = publish_problems(offer)
    if problems:
        raise OfferInvalid(problems)
    offer.status = "published"
    if offer.published_at is None:
        offer.published_at = now


def create_offer(actor, data: dict, *, publish: bool = False, today: date, now: datetime | None = None) -> Offer:
    """A new offer, as a draft or published at once. A coordinator names the organisation."""
    if not can_create(actor):
        raise NotAllowed("Only school leads and coordinators can create offers.")
    if _is_coordinator(actor):
        organisation_id = data.get("organisation_id")
        organisation = db.session.get(Organisation, organisation_id) if _valid_id(organisation_id) else None
        if organisation is None:
            raise OfferInvalid({"organisation_id": "Choose the organisation that provides this offer"})
    else:
        # A school lead always creates for their own school, whatever the request says.
        organisation = db.session.get(Organisation, actor.organisation_id)
    clean, terms = _clean_offer(data, organisation)
    offer = Offer(organisation=organisation, status="draft", created_by_id=actor.id, assured_on=today)
    offer.category = db.session.get(Category, clean["category_id"])
    _apply(offer, clean, terms, organisation)
    if publish:
        _publish(offer, now or utcnow())
    db.session.add(offer)
    db.session.flush()
    audit.record(actor, "offer.create", offer, organisation_id=organisation.id, status=offer.status)
    return offer


def update_offer(actor, offer_id: int, data: dict, *, publish: bool = False, today: date, now: datetime | None = None) -> Offer:
    """Save changes. Saving counts as confirming the offer is current. A published offer
    must still meet the publishing rules after the change."""
    offer = _offer_to_change(actor, offer_id, selectinload(Offer.terms), joinedload(Offer.organisation))
    clean, terms = _clean_offer(data, offer.organisation)
    changed = _apply(offer, clean, terms, offer.organisation)
    if "category_id" in changed:
        offer.category = db.session.get(Category, clean["category_id"])
    status_before = offer.status
    if publish and offer.status in ("draft", "paused"):
        _publish(offer, now or utcnow())
    elif offer.status == "published":
        problems = publish_problems(offer)
        if problems:
            raise OfferInvalid({name: f"{message}: a published offer needs it" for name, message in problems.items()})
    offer.assured_on = today
    audit.record(actor, "offer.update", offer, changed=changed, status_before=status_before, status=offer.status)
    return offer


def publish_offer(actor, offer_id: int, *, now: datetime | None = None) -> Offer:
    offer = _offer_to_change(actor, offer_id, selectinload(Offer.terms), joinedload(Offer.category))
    if offer.status == "published":
        raise Conflict("This offer is already published.")
    status_before = offer.status
    _publish(offer, now or utcnow())
    audit.record(actor, "offer.publish", offer, status_before=status_before)
    return offer


def pause_offer(actor, offer_id: int) -> Offer:
    offer = _offer_to_change(actor, offer_id)
    if offer.status != "published":
        raise Conflict("Only a published offer can be paused.")
    offer.status = "paused"
    audit.record(actor, "offer.pause", offer)
    return offer


def archive_offer(actor, offer_id: int) -> Offer:
    offer = _offer_to_change(actor, offer_id)
    status_before = offer.status
    offer.status = "archived"
    audit.record(actor, "offer.archive", offer, status_before=status_before)
    return offer


def assure_offer(actor, offer_id: int, *, today: date) -> Offer:
    """"Still current": the provider confirms the offer, which clears the stale label."""
    offer = _offer_to_change(actor, offer_id)
    previous = offer.assured_on
    offer.assured_on = today
    audit.record(actor, "offer.assure", offer, previous=previous.isoformat() if previous else None)
    return offer


# --- Sessions --------------------------------------------------------------------------


def https_link_problem(link: str) -> str | None:
    """Why a joining link is not acceptable, or None. Only https: links become clickable."""
    message = "Enter a joining link that starts with https://"
    if len(link) > MAX_LINK:
        return f"The joining link must be {MAX_LINK} characters or fewer"
    if any(ch.isspace() for ch in link):
        return message
    try:
        parts = urlsplit(link)
        parts.port  # raises ValueError on a malformed port
    except ValueError:
        return message
    if parts.scheme.lower() != "https" or not parts.hostname or "." not in parts.hostname:
        return message
    return None


def session_form_offer(actor, offer_id: int) -> Offer:
    """The offer whose dates the actor is about to add (checked before showing the form)."""
    offer = _get_offer(offer_id, joinedload(Offer.organisation))
    if not can_manage(actor, offer):
        raise NotAllowed("Only the providing school's lead or a coordinator can add dates to this offer.")
    if offer.status == "archived":
        raise Conflict("This offer is archived. Archived offers are final: create a new offer instead.")
    if offer.booking_mode != "sessions":
        raise Conflict("This offer is bespoke support, agreed in days: it has no dated sessions.")
    return offer


def add_sessions(actor, offer_id: int, data: dict, *, now: datetime) -> list[OfferSession]:
    """One session, or a weekly or fortnightly series sharing a series key.

    data: starts_at, ends_at (datetimes), places, joining_link, note, repeat (once,
    weekly, fortnightly), count (sessions in the series).
    """
    offer = _offer_to_change(actor, offer_id)
    if offer.booking_mode != "sessions":
        raise Conflict("This offer is bespoke support, agreed in days: it has no dated sessions.")
    errors: dict[str, str] = {}
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    if not isinstance(starts_at, datetime):
        errors["start_date"] = "Enter the date and time the session starts"
    elif starts_at <= now:
        errors["start_date"] = "The session must start in the future"
    elif starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        errors["start_date"] = "The session must start within the next three years"
    if not isinstance(ends_at, datetime):
        errors["end_time"] = "Enter the time the session ends"
    elif isinstance(starts_at, datetime):
        if ends_at <= starts_at:
            errors["end_time"] = "The session must end after it starts"
        elif ends_at - starts_at > timedelta(days=MAX_SESSION_DAYS):
            errors["end_date"] = f"A session can last at most {MAX_SESSION_DAYS} days"
    places = _int_in(data, "places", 1, MAX_PLACES, errors, f"Places must be a whole number from 1 to {MAX_PLACES}")
    repeat = data.get("repeat") or "once"
    if repeat not in REPEATS:
        errors["repeat"] = "Choose once, weekly or fortnightly"
    count = 1
    if repeat != "once":
        count = _int_in(data, "count", 1, MAX_SERIES, errors, f"A series has from 1 to {MAX_SERIES} sessions")
    link = _text(data, "joining_link") or None
    if link and (problem := https_link_problem(link)):
        errors["joining_link"] = problem
    note = _text(data, "note") or None
    if note and len(note) > MAX_NOTE:
        errors["note"] = f"The note must be {MAX_NOTE} characters or fewer"
    if errors:
        raise OfferInvalid(errors)

    step = timedelta(days=REPEATS[repeat])
    series_key = str(uuid.uuid4()) if count > 1 else None
    sessions = [
        OfferSession(
            offer=offer,
            starts_at=starts_at + step * i,
            ends_at=ends_at + step * i,
            places=places,
            joining_link=link,
            note=note,
            series_key=series_key,
        )
        for i in range(count)
    ]
    db.session.add_all(sessions)
    db.session.flush()
    audit.record(
        actor, "offer.sessions_add", offer,
        session_ids=[s.id for s in sessions], series_key=series_key, first=starts_at.isoformat(),
    )
    return sessions


def cancel_session(actor, offer_id: int, session_id: int, *, now: datetime) -> OfferSession:
    """Cancel one session: its bookings are cancelled with a full refund of held credits, and
    the schools booked or waiting are told."""
    from app.services import bookings

    offer = _offer_to_change(actor, offer_id)
    session = db.session.get(OfferSession, session_id) if _valid_id(session_id) else None
    if session is None or session.offer_id != offer.id:
        raise NotFound("There is no such session on this offer.")
    if session.cancelled_at is not None:
        raise Conflict("This session is already cancelled.")
    session.cancelled_at = now
    audit.record(actor, "offer.session_cancel", session, offer_id=offer.id, starts_at=session.starts_at.isoformat())
    bookings.cancel_session_bookings(actor, session.id, "The provider cancelled this session.")
    return session


# --- The offer page --------------------------------------------------------------------


@dataclass
class SessionRow:
    session: OfferSession
    places_left: int
    joining_link: str | None


@dataclass
class OfferPage:
    offer: Offer
    can_manage: bool
    sessions: list[SessionRow]
    cancelled: list[OfferSession]
    distance_km: float | None
    show_contact: bool
    stale: bool
    actions: list[str] = field(default_factory=list)

    @property
    def facets(self) -> list[tuple[str, list[FacetTerm]]]:
        return [(label, self.offer.terms_for(facet)) for facet, label in FACETS.items() if self.offer.terms_for(facet)]


def _visible_link(actor, session: OfferSession) -> str | None:
    # Only an https: link becomes clickable, whatever wrote the row (imports, older data).
    link = session.joining_link
    if not link or https_link_problem(link) is not None or not can_see_joining_link(actor, session):
        return None
    return link


def offer_page(actor, offer_id: int, *, today: date, now: datetime) -> OfferPage:
    offer = _get_offer(
        offer_id,
        joinedload(Offer.organisation).joinedload(Organisation.school),
        joinedload(Offer.category).joinedload(Category.parent),
        joinedload(Offer.contact),
        selectinload(Offer.terms),
        selectinload(Offer.sessions),
    )
    if not can_view(actor, offer):
        # Not "forbidden": other people should not learn that an unpublished offer exists.
        raise NotFound("There is no such offer.")
    manage = can_manage(actor, offer)
    upcoming = [s for s in offer.sessions if s.ends_at >= now]
    rows = [SessionRow(s, places_left(s), _visible_link(actor, s)) for s in upcoming if s.cancelled_at is None]
    cancelled = [s for s in upcoming if s.cancelled_at is not None] if manage else []
    distance = None
    # "0 km from your school" says nothing to the provider's own people.
    if _signed_in(actor) and actor.organisation is not None and not is_provider_member(actor, offer):
        distance = km_between(actor.organisation.easting, actor.organisation.northing, offer.easting, offer.northing)
    actions: list[str] = []
    if manage and offer.status != "archived":
        actions.append("edit")
        if offer.status in ("draft", "paused"):
            actions.append("publish")
        if offer.status == "published":
            actions.append("pause")
        actions.append("assure")
        if offer.booking_mode == "sessions":
            actions.append("add_sessions")
        actions.append("archive")
    return OfferPage(
        offer=offer,
        can_manage=manage,
        sessions=rows,
        cancelled=cancelled,
        distance_km=distance,
        show_contact=_signed_in(actor),
        # An archived offer is over: "possibly out of date" would only add noise.
        stale=offer.status != "archived" and offer.is_stale(today),
        actions=actions,
    )
