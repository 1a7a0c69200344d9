"""A small partnership for the booking page tests: a provider, a school that books, another school."""
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Transfer
from app.services import bookings, ledger
from app.services.offers import local_now


def build_world(make_school, make_user, make_offer, *, places=3, price=4, sessions=1, credits=20):
    provider = make_school(name="Provider School")
    buyer = make_school(name="Buyer School")
    other = make_school(name="Other School")
    people = {
        "coordinator": make_user(role="coordinator", name="Cora Coordinator"),
        "provider_lead": make_user(role="school_lead", organisation=provider, name="Pat Provider"),
        "provider_teacher": make_user(role="teacher", organisation=provider, name="Pip Provider"),
        "lead": make_user(role="school_lead", organisation=buyer, name="Lee Lead"),
        "teacher": make_user(role="teacher", organisation=buyer, name="Tess Teacher"),
        "governor": make_user(role="governor", organisation=buyer, name="Gil Governor"),
        "other_lead": make_user(role="school_lead", organisation=other, name="Olly Other"),
        "other_teacher": make_user(role="teacher", organisation=other, name="Otto Other"),
    }
    offer = make_offer(organisation=provider, sessions=sessions, places=places, price_credits=price,
                       title="Phonics in practice")
    for school in (buyer, other):
        ledger.issue(people["coordinator"], kind="allocation", organisation_id=school.id, amount=credits,
                     key=f"alloc-{school.id}", reason="year")
    db.session.commit()
    return {"provider": provider, "buyer": buyer, "other": other, "offer": offer,
            "session": offer.sessions[0], **people}


def requested(world, places=2, who="teacher", note=None):
    booking = bookings.request_places(world[who], world["session"].id, places, note)
    db.session.commit()
    return booking


def confirmed(world, places=2):
    booking = requested(world, places)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    return booking


def move_into_past(session, hours=3):
    now = local_now()
    session.starts_at = now - timedelta(hours=hours)
    session.ends_at = now - timedelta(hours=hours - 2)
    db.session.commit()


def transfers(kind=None) -> int:
    stmt = select(func.count()).select_from(Transfer)
    if kind:
        stmt = stmt.where(Transfer.kind == kind)
    return db.session.scalar(stmt)


def status_of(booking_id) -> str:
    db.session.expire_all()
    return db.session.get(Booking, booking_id).status
