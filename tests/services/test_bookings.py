"""The booking lifecycle and its credits: who may act, capacity, deadlines, policies, waiting list."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Notification, Setting, Transfer
from app.models.base import utcnow
from app.services import bookings, ledger
from app.services.errors import Conflict, Invalid, NotAllowed
from tests.support.accounts import outbox


@pytest.fixture
def world(make_school, make_user, make_offer):
    provider = make_school(name="Provider School")
    buyer = make_school(name="Buyer School")
    other = make_school(name="Other School")
    people = {
        "coordinator": make_user(role="coordinator"),
        "provider_lead": make_user(role="school_lead", organisation=provider),
        "lead": make_user(role="school_lead", organisation=buyer),
        "teacher": make_user(role="teacher", organisation=buyer),
        "governor": make_user(role="governor", organisation=buyer),
        "other_lead": make_user(role="school_lead", organisation=other),
        "other_teacher": make_user(role="teacher", organisation=other),
    }
    offer = make_offer(organisation=provider, sessions=1, places=3, price_credits=4)
    for school in (buyer, other):
        ledger.issue(people["coordinator"], kind="allocation", organisation_id=school.id, amount=20,
                     key=f"alloc-{school.id}", reason="year")
    db.session.commit()
    return {"provider": provider, "buyer": buyer, "other": other, "offer": offer,
            "session": offer.sessions[0], **people}


def transfers() -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer))


def _past(session):
    session.starts_at = utcnow() - timedelta(hours=3)
    session.ends_at = utcnow() - timedelta(hours=1)
    db.session.commit()


def test_request_confirm_deliver_moves_credits_to_the_provider(world):
    booking = bookings.request_places(world["teacher"], world["session"].id, 2)
    db.session.commit()
    assert booking.status == "requested"
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=20, held=0)

    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    assert booking.credits == 8
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=12, held=8)

    _past(world["session"])
    bookings.deliver(world["provider_lead"], booking.id, attended=2)
    db.session.commit()
    assert booking.status == "delivered"
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=12, held=0)
    assert ledger.balance_of(world["provider"].id).available == 8
    assert ledger.verify() == []


def test_confirming_twice_holds_once(world):
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    before = transfers()
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    assert transfers() == before
    assert ledger.balance_of(world["buyer"].id).held == 4


def test_not_enough_credits_is_clear_and_changes_nothing(world):
    booking = bookings.request_places(world["teacher"], world["session"].id, 3)
    db.session.commit()
    ledger.adjust(world["coordinator"], organisation_id=world["buyer"].id, amount=-15, key="adj", reason="test")
    db.session.commit()
    before = transfers()
    with pytest.raises(ledger.InsufficientCredits, match="needs 12 but only 5"):
        bookings.confirm(world["lead"], booking.id)
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "requested"
    assert transfers() == before


@pytest.mark.parametrize("who", ["teacher", "governor", "provider_lead", "other_lead", "coordinator"])
def test_only_the_booking_schools_lead_confirms(world, who):
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.commit()
    with pytest.raises(NotAllowed):
        bookings.confirm(world[who], booking.id)
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "requested"
    assert ledger.balance_of(world["buyer"].id).held == 0


@pytest.mark.parametrize("who", ["teacher", "lead", "other_lead", "other_teacher"])
def test_only_the_provider_or_a_coordinator_marks_delivery(world, who):
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    _past(world["session"])
    with pytest.raises(NotAllowed):
        bookings.deliver(world[who], booking.id)
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "confirmed"


@pytest.mark.parametrize("who", ["other_lead", "other_teacher", "governor"])
def test_another_school_cannot_cancel(world, who):
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    with pytest.raises(NotAllowed):
        bookings.cancel(world[who], booking.id)
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "confirmed"
    assert ledger.balance_of(world["buyer"].id).held == 4


def test_a_school_cannot_book_its_own_offer_or_a_draft(world, make_offer):
    with pytest.raises(Invalid, match="provides this offer"):
        bookings.request_places(world["provider_lead"], world["session"].id, 1)
    draft = make_offer(organisation=world["provider"], status="draft", sessions=1)
    with pytest.raises(Invalid, match="not open"):
        bookings.request_places(world["teacher"], draft.sessions[0].id, 1)
    db.session.rollback()


@pytest.mark.parametrize("places", [0, -1, 51, "2"])
def test_bad_place_counts_are_refused(world, places):
    with pytest.raises(Invalid):
        bookings.request_places(world["teacher"], world["session"].id, places)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_capacity_and_the_waiting_list(world):
    session = world["session"]  # 3 places
    first = bookings.request_places(world["teacher"], session.id, 3)
    db.session.commit()
    with pytest.raises(bookings.SessionFull, match="full"):
        bookings.request_places(world["other_teacher"], session.id, 1)
    db.session.rollback()
    entry = bookings.join_waitlist(world["other_teacher"], session.id, 1)
    db.session.commit()
    with pytest.raises(Conflict):
        bookings.join_waitlist(world["other_lead"], session.id, 1)
    db.session.rollback()

    bookings.cancel(world["teacher"], first.id, "plans changed")
    db.session.commit()
    db.session.refresh(entry)
    assert entry.status == "offered"
    assert bookings.places_left(session) == 2  # one kept for the waiting school
    assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "waitlist_offer")) >= 1

    booking = bookings.accept_waitlist_place(world["other_teacher"], entry.id)
    db.session.commit()
    assert booking.status == "requested" and booking.organisation_id == world["other"].id
    assert bookings.places_left(session) == 2


def test_cancelling_a_session_cancels_its_bookings_and_refunds_held_credits(world):
    from app.services import offers

    session = world["session"]  # 3 places, 4 credits each
    held = bookings.request_places(world["teacher"], session.id, 2)
    db.session.commit()
    bookings.confirm(world["lead"], held.id)
    asked = bookings.request_places(world["other_teacher"], session.id, 1)
    db.session.commit()
    entry = bookings.join_waitlist(world["other_lead"], session.id, 1)
    db.session.commit()
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=12, held=8)

    # Another school's lead cannot cancel it, and nothing changes.
    with pytest.raises(NotAllowed):
        offers.cancel_session(world["other_lead"], world["offer"].id, session.id, now=utcnow())
    db.session.rollback()
    assert db.session.get(Booking, held.id).status == "confirmed"

    offers.cancel_session(world["provider_lead"], world["offer"].id, session.id, now=utcnow())
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Booking, held.id).status == "cancelled"
    assert db.session.get(Booking, held.id).outcome_policy == "refund"
    assert db.session.get(Booking, asked.id).status == "cancelled"
    assert db.session.get(type(entry), entry.id).status == "withdrawn", "nobody is offered a place on a cancelled session"
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=20, held=0)
    assert ledger.verify() == []
    kinds = [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == world["lead"].id))]
    assert "booking_cancelled" in kinds
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "waitlist_closed", Notification.user_id == world["other_lead"].id)) == 1


def test_an_unaccepted_waitlist_offer_expires_and_passes_on(world, make_school, make_user):
    session = world["session"]
    booking = bookings.request_places(world["teacher"], session.id, 3)
    db.session.commit()
    third = make_user(role="teacher", organisation=make_school())
    first = bookings.join_waitlist(world["other_teacher"], session.id, 1)
    db.session.commit()
    second = bookings.join_waitlist(third, session.id, 3)
    db.session.commit()
    bookings.cancel(world["teacher"], booking.id)
    db.session.commit()
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.status, second.status) == ("offered", "waiting")  # 2 left after first: second needs 3
    assert bookings.expire_waitlist_offers(now=first.offer_expires_at + timedelta(minutes=1)) == 1
    db.session.commit()
    db.session.refresh(second)
    assert (first.status, second.status) == ("expired", "offered")
    with pytest.raises(Conflict):
        bookings.accept_waitlist_place(world["other_teacher"], first.id)
    db.session.rollback()


def test_cancelling_before_the_deadline_releases_the_hold(world):
    booking = bookings.request_places(world["teacher"], world["session"].id, 2)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    bookings.cancel(world["lead"], booking.id, "illness")
    db.session.commit()
    assert booking.status == "cancelled" and booking.outcome_policy == "refund"
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=20, held=0)


@pytest.mark.parametrize("policy,buyer_gets,provider_gets", [
    ("refund", 8, 0), ("forfeit_provider", 0, 8), ("forfeit_scheme", 0, 0),
])
def test_late_cancellation_follows_the_schemes_policy(world, policy, buyer_gets, provider_gets):
    db.session.add(Setting(key="late_cancellation_policy", value=policy))
    booking = bookings.request_places(world["teacher"], world["session"].id, 2)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    late = world["session"].starts_at - timedelta(days=1)  # the deadline is 7 days before
    bookings.cancel(world["lead"], booking.id, now=late)
    db.session.commit()
    assert booking.outcome_policy == policy
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=12 + buyer_gets, held=0)
    assert ledger.balance_of(world["provider"].id).available == provider_gets
    assert ledger.verify() == []


def test_a_provider_cancelling_always_refunds(world):
    booking = bookings.request_places(world["teacher"], world["session"].id, 2)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    bookings.cancel(world["provider_lead"], booking.id, "trainer ill", now=world["session"].starts_at - timedelta(hours=2))
    db.session.commit()
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=20, held=0)


def test_no_show_follows_the_policy(world):
    db.session.add(Setting(key="no_show_policy", value="forfeit_scheme"))
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    _past(world["session"])
    bookings.no_show(world["provider_lead"], booking.id)
    db.session.commit()
    assert booking.status == "no_show"
    assert ledger.balance_of(world["buyer"].id) == ledger.Balance(available=16, held=0)
    assert ledger.balance_of(world["provider"].id).available == 0


def test_delivery_before_the_session_is_refused(world):
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    with pytest.raises(Invalid, match="not happened yet"):
        bookings.deliver(world["provider_lead"], booking.id)
    db.session.rollback()


def test_bespoke_support_needs_objectives_and_is_priced_per_day(world, make_offer):
    offer = make_offer(organisation=world["provider"], booking_mode="bespoke", price_credits=3,
                       terms={"phase": ["primary"], "format": ["bespoke-support"]})
    with pytest.raises(Invalid, match="achieve"):
        bookings.request_bespoke(world["teacher"], offer.id, 2, "  ", None)
    db.session.rollback()
    booking = bookings.request_bespoke(world["teacher"], offer.id, 2, "Improve phonics outcomes in Year 1", None)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    assert booking.credits == 6


def test_with_credits_off_nothing_touches_the_ledger(app, world):
    app.config["CREDITS_ENABLED"] = False
    before = transfers()
    booking = bookings.request_places(world["teacher"], world["session"].id, 2)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    _past(world["session"])
    bookings.deliver(world["provider_lead"], booking.id)
    db.session.commit()
    assert booking.status == "delivered" and booking.credits == 0
    assert transfers() == before


def test_notifications_and_mail_only_after_commit(app, world):
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.rollback()  # the request is abandoned: nobody hears of it
    assert outbox(app) == []
    booking = bookings.request_places(world["teacher"], world["session"].id, 1)
    db.session.commit()
    mails = outbox(app)
    assert [m["To"] for m in mails] == [world["lead"].email]
    assert "asked to book" in mails[0].get_content()
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert {"booking_requested", "booking_confirmed"} <= kinds


def test_concurrent_confirmations_never_exceed_capacity_or_lose_credits(app, make_school, make_user, make_offer):
    import multiprocessing

    from tests.conftest import TEST_DATABASE_URL
    from tests.support.booking_stress import run_worker

    coordinator = make_user(role="coordinator")
    provider = make_school()
    offer = make_offer(organisation=provider, sessions=3, places=12, price_credits=1)
    leads = []
    for _ in range(6):
        school = make_school()
        leads.append(make_user(role="school_lead", organisation=school))
        ledger.issue(coordinator, kind="allocation", organisation_id=school.id, amount=15, key=f"a{school.id}", reason="y")
    db.session.commit()
    sessions = [s.id for s in offer.sessions]
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        jobs = [pool.apply_async(run_worker, (app.config["SQLALCHEMY_DATABASE_URI"], w, [u.id for u in leads], sessions, 80, 50 + w))
                for w in range(4)]
        outcomes = [job.get(timeout=240) for job in jobs]
    db.session.expire_all()
    problems = [m for o in outcomes for m in o.get("messages", [])]
    assert sum(o["locked"] + o["other"] for o in outcomes) == 0, "\n".join(problems[:2])
    assert sum(o["confirmed"] for o in outcomes) >= 20, outcomes
    for session in offer.sessions:
        assert bookings.places_taken(session.id) <= session.places
    assert ledger.verify() == []
    holds = db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.kind == "hold"))
    confirmed_ever = db.session.scalar(select(func.count()).select_from(Booking).where(Booking.confirmed_at.is_not(None)))
    assert holds == confirmed_ever  # one hold per confirmed booking, double clicks included
    print(f"\n{'PostgreSQL' if TEST_DATABASE_URL else 'SQLite'} bookings: {outcomes}")
