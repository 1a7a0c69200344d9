"""What the booking pages read: a school's bookings as receiver and as provider, what waits for
its lead, its places on waiting lists, one booking with its credits, and the booking panel of
an offer page. Who may do what stays in app.services.bookings; this module only reads."""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Booking, Offer, OfferSession, Organisation, Transfer, User, WaitlistEntry
from app.models.base import utcnow
from app.models.bookings import BOOKING_STATUSES
from app.services import bookings
from app.services.errors import NotAllowed
from app.services.paging import Page

PER_PAGE = 20
MAX_PAGE = 10_000
# Who the list is about: "We booked" (our school receives) and "Booked with us" (we provide).
SIDES = {"received": "We booked", "provided": "Booked with us"}
NEEDS_ACTION_LIMIT = 50
WAITING_STATUSES = ("waiting", "offered")


def _member(viewer) -> bool:
    return bool(viewer is not None and viewer.is_authenticated and viewer.organisation_id is not None)


def _is_lead(viewer) -> bool:
    return _member(viewer) and viewer.role == "school_lead"


def _with_details(stmt):
    return stmt.options(
        joinedload(Booking.offer).joinedload(Offer.organisation),
        joinedload(Booking.session),
        joinedload(Booking.organisation),
        joinedload(Booking.requested_by),
    )


# --- the list ---------------------------------------------------------------------------


@dataclass
class Listing:
    page: Page
    # None for coordinators, who see every school's bookings in one list.
    side: str | None
    status: str | None
    school_id: int | None
    schools: list[tuple[int, str]] = field(default_factory=list)

    @property
    def filtered(self) -> bool:
        return bool(self.status or self.school_id)


def list_bookings(viewer: User, *, side: str | None = None, status: str | None = None,
                  school_id: int | None = None, page: int = 1, per_page: int = PER_PAGE) -> Listing:
    """A school's bookings on one side, newest first; for coordinators every booking, by school."""
    if viewer is None or not viewer.is_authenticated:
        raise NotAllowed("Sign in to see bookings.")
    status = status if status in BOOKING_STATUSES else None
    page = min(max(1, page or 1), MAX_PAGE)
    stmt = select(Booking)
    schools: list[tuple[int, str]] = []
    if viewer.is_coordinator:
        side = None
        schools = _schools_with_bookings()
        if school_id not in {sid for sid, _ in schools}:
            school_id = None
        if school_id is not None:
            provided = select(Offer.id).where(Offer.organisation_id == school_id)
            stmt = stmt.where(or_(Booking.organisation_id == school_id, Booking.offer_id.in_(provided)))
    elif _member(viewer):
        side = side if side in SIDES else "received"
        school_id = None
        if side == "received":
            stmt = stmt.where(Booking.organisation_id == viewer.organisation_id)
        else:
            stmt = stmt.where(Booking.offer_id.in_(select(Offer.id).where(Offer.organisation_id == viewer.organisation_id)))
    else:
        raise NotAllowed("Bookings belong to schools: your account is not linked to one.")
    if status:
        stmt = stmt.where(Booking.status == status)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        _with_details(stmt).order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).unique().all()
    return Listing(page=Page(items=list(rows), total=total or 0, page=page, per_page=per_page),
                   side=side, status=status, school_id=school_id, schools=schools)


def _schools_with_bookings() -> list[tuple[int, str]]:
    involved = union(
        select(Booking.organisation_id.label("org_id")),
        select(Offer.organisation_id.label("org_id")).join(Booking, Booking.offer_id == Offer.id),
    ).subquery()
    return [tuple(row) for row in db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(select(involved.c.org_id)))
        .order_by(Organisation.name)
    ).all()]


# --- what waits for the school lead -------------------------------------------------------


@dataclass
class NeedsAction:
    to_confirm: list[Booking] = field(default_factory=list)
    to_deliver: list[Booking] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.to_confirm or self.to_deliver)


def needs_action(viewer: User, *, now: datetime | None = None) -> NeedsAction:
    """Requests the lead should confirm, and sessions that have happened to mark delivered."""
    if not _is_lead(viewer):
        return NeedsAction()
    now = now or bookings.session_clock()
    to_confirm = db.session.scalars(
        _with_details(select(Booking).where(Booking.organisation_id == viewer.organisation_id,
                                            Booking.status == "requested"))
        .order_by(Booking.created_at, Booking.id).limit(NEEDS_ACTION_LIMIT)
    ).unique().all()
    to_deliver = db.session.scalars(
        _with_details(
            select(Booking).join(Offer, Offer.id == Booking.offer_id)
            .outerjoin(OfferSession, OfferSession.id == Booking.session_id)
            .where(Offer.organisation_id == viewer.organisation_id, Booking.status == "confirmed",
                   # Bespoke support has no session: it is due once its review date has come.
                   or_(OfferSession.starts_at <= now,
                       (Booking.session_id.is_(None)) & (Booking.review_on <= now.date())))
        ).order_by(OfferSession.starts_at, Booking.id).limit(NEEDS_ACTION_LIMIT)
    ).unique().all()
    return NeedsAction(to_confirm=list(to_confirm), to_deliver=list(to_deliver))


def waiting_list(viewer: User) -> list[WaitlistEntry]:
    """The school's places on waiting lists: still waiting, or offered for a limited time."""
    if not _member(viewer):
        return []
    return list(db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.organisation_id == viewer.organisation_id,
                                    WaitlistEntry.status.in_(WAITING_STATUSES))
        .options(joinedload(WaitlistEntry.session).joinedload(OfferSession.offer).joinedload(Offer.organisation))
        .order_by(WaitlistEntry.status != "offered", WaitlistEntry.created_at, WaitlistEntry.id)
    ).unique())


# --- one booking --------------------------------------------------------------------------


@dataclass
class BookingPage:
    booking: Booking
    actions: set[str]
    outlook: dict
    no_show_policy: str
    transfers: list[Transfer]
    joining_link: str | None
    is_receiver: bool
    is_provider: bool
    # What confirming would hold (for a request not yet confirmed).
    price: int = 0


def booking_page(viewer: User, booking_id: int, *, now: datetime | None = None) -> BookingPage:
    """One booking as this viewer may see it (another school's booking is a 404)."""
    booking = bookings.viewable_booking(viewer, booking_id)
    # The rows the page shows, in a few queries whatever the booking's history.
    db.session.scalars(_with_details(select(Booking).where(Booking.id == booking.id)).options(
        joinedload(Booking.confirmed_by), joinedload(Booking.delivered_by), joinedload(Booking.cancelled_by),
    )).unique().all()
    now = now or bookings.session_clock()
    transfers = []
    if bookings.credits_enabled():
        transfers = list(db.session.scalars(
            select(Transfer).where(Transfer.booking_id == booking.id).order_by(Transfer.created_at, Transfer.id)
        ))
    link = None
    if booking.session is not None and booking.status in ("confirmed", "delivered"):
        from app.services.offers import https_link_problem

        raw = booking.session.joining_link
        if raw and https_link_problem(raw) is None:
            link = raw
    return BookingPage(
        booking=booking,
        actions=bookings.allowed_actions(viewer, booking, now=now),
        outlook=bookings.cancellation_outlook(viewer, booking, now=now),
        no_show_policy=bookings.setting("no_show_policy"),
        transfers=transfers,
        joining_link=link,
        is_receiver=viewer.organisation_id == booking.organisation_id,
        is_provider=viewer.organisation_id == booking.offer.organisation_id,
        price=bookings.price_for(booking.offer, booking.places, booking.days) if booking.status == "requested" else 0,
    )


def balance_for(organisation_id: int):
    """The school's balance, for the "not enough credits" message."""
    from app.services import ledger

    return ledger.balance_of(organisation_id)


# --- the booking panel of an offer page ---------------------------------------------------


@dataclass
class Panel:
    # visitor | closed | provider | not_member | member
    mode: str
    bookable: list = field(default_factory=list)   # session rows with places and not yet started
    full: list = field(default_factory=list)       # session rows with no places left
    my_bookings: dict[int | None, list[Booking]] = field(default_factory=dict)
    waiting: dict[int, WaitlistEntry] = field(default_factory=dict)
    is_lead: bool = False

    def place_kept(self, entry: WaitlistEntry | None) -> bool:
        """A place offered to the school and still within its time (expiry is a UTC timestamp)."""
        return bool(entry is not None and entry.status == "offered"
                    and (entry.offer_expires_at is None or entry.offer_expires_at > utcnow()))


def booking_panel(viewer, offer: Offer, session_rows: list, *, now: datetime | None = None) -> Panel:
    """What the offer page offers this viewer: booking forms, waiting lists, or why not.

    Two queries at most (the school's bookings and waiting-list places on this offer).
    """
    if viewer is None or not viewer.is_authenticated:
        return Panel(mode="visitor")
    if offer.status != "published":
        return Panel(mode="closed")
    if viewer.organisation_id is not None and viewer.organisation_id == offer.organisation_id:
        return Panel(mode="provider")
    if viewer.organisation_id is None or viewer.role not in ("teacher", "governor", "school_lead"):
        return Panel(mode="not_member")
    now = now or bookings.session_clock()
    upcoming = [row for row in session_rows if row.session.starts_at > now and row.session.cancelled_at is None]
    mine: dict[int | None, list[Booking]] = {}
    for booking in db.session.scalars(
        select(Booking).where(Booking.offer_id == offer.id, Booking.organisation_id == viewer.organisation_id,
                              Booking.status != "cancelled")
        .order_by(Booking.created_at)
    ):
        mine.setdefault(booking.session_id, []).append(booking)
    waiting = {}
    session_ids = [row.session.id for row in upcoming]
    if session_ids:
        waiting = {entry.session_id: entry for entry in db.session.scalars(
            select(WaitlistEntry).where(WaitlistEntry.session_id.in_(session_ids),
                                        WaitlistEntry.organisation_id == viewer.organisation_id,
                                        WaitlistEntry.status.in_(WAITING_STATUSES)))}
    return Panel(
        mode="member",
        bookable=[row for row in upcoming if row.places_left > 0],
        full=[row for row in upcoming if row.places_left <= 0],
        my_bookings=mine,
        waiting=waiting,
        is_lead=viewer.role == "school_lead",
    )

