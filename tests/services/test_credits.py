"""Credits read side and coordinator tools: statements with exact running balances, held credits,
take-up, scheme totals, yearly allocation by bands with a cap, settings, and the one-off tools."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import AuditLog, Setting, Transfer
from app.models.base import utcnow
from app.services import bookings, credits, ledger
from app.services.credits import StatementFilters
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound

KEY_A = "a" * 32
KEY_B = "b" * 32


def transfers() -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer))


@pytest.fixture
def clock():
    """Sets created_at on transfers written while it is set (the ledger is append-only, so
    dates cannot be changed afterwards)."""
    state = {"now": None}

    def stamp(session, flush_context, instances):
        if state["now"] is None:
            return
        for obj in session.new:
            if isinstance(obj, Transfer):
                obj.created_at = state["now"]

    event.listen(Session, "before_flush", stamp)
    yield state
    event.remove(Session, "before_flush", stamp)


@pytest.fixture
def world(make_school, make_user, make_offer):
    buyer = make_school(name="Buyer Primary")
    provider = make_school(name="Provider High")
    people = {
        "coordinator": make_user(role="coordinator"),
        "lead": make_user(role="school_lead", organisation=buyer),
        "teacher": make_user(role="teacher", organisation=buyer),
        "provider_lead": make_user(role="school_lead", organisation=provider),
    }
    offer = make_offer(organisation=provider, title="Phonics for new teachers", sessions=2, places=10, price_credits=4)
    return {"buyer": buyer, "provider": provider, "offer": offer, **people}


def build_history(w):
    """allocation 30, hold 8, hold 4, release 4, settle 8 (to the provider), purchase 10,
    reversal of the purchase, adjustment -2. Returns the ids of the interesting transfers."""
    c = w["coordinator"]
    ledger.issue(c, kind="allocation", organisation_id=w["buyer"].id, amount=30, key="allocation:2026-27:x",
                 reason="Yearly allocation 2026-27")
    db.session.commit()
    first = bookings.request_places(w["teacher"], w["offer"].sessions[0].id, 2)
    bookings.confirm(w["lead"], first.id)
    db.session.commit()
    second = bookings.request_places(w["teacher"], w["offer"].sessions[1].id, 1)
    bookings.confirm(w["lead"], second.id)
    db.session.commit()
    mid_held = credits.held_items(w["buyer"].id)
    bookings.cancel(w["lead"], second.id, "Staff illness")
    db.session.commit()
    session = w["offer"].sessions[0]
    session.starts_at, session.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
    db.session.commit()
    bookings.deliver(w["provider_lead"], first.id, attended=2)
    purchase = credits.record_purchase(c, organisation_id=w["buyer"].id, amount=10, invoice_reference="INV-7",
                                       note="Spring top-up", form_key=KEY_A).transfers[0]
    db.session.commit()
    reversal = credits.reverse(c, transfer_id=purchase.id, reason="Invoice cancelled", form_key=KEY_B).transfers[0]
    credits.adjust(c, organisation_id=w["buyer"].id, amount=-2, reason="Duplicate seed", form_key="c" * 32)
    db.session.commit()
    return {"first": first, "second": second, "purchase": purchase, "reversal": reversal, "mid_held": mid_held}


ALL = StatementFilters()


def test_statement_running_balance_is_exact_on_a_known_history(world):
    ids = build_history(world)
    lines = credits.statement_lines(world["buyer"].id, ALL)
    assert [(line.kind, line.amount, line.balance_after) for line in lines] == [
        ("adjustment", -2, 20),
        ("reversal", -10, 22),
        ("purchase", 10, 32),
        ("release", 4, 22),
        ("hold", -4, 18),
        ("hold", -8, 22),
        ("allocation", 30, 30),
    ]
    # The newest line's balance is the account's balance; the statement is the account.
    assert lines[0].balance_after == ledger.balance_of(world["buyer"].id).available == 20
    assert ledger.verify() == []
    by_kind = {line.kind: line for line in lines}
    assert "Phonics for new teachers on " in by_kind["release"].description
    assert "Invoice INV-7" in by_kind["purchase"].description and "Spring top-up" in by_kind["purchase"].description
    assert by_kind["purchase"].reversed_by_id == ids["reversal"].id
    assert f"Reverses #{ids['purchase'].id}" in by_kind["reversal"].description
    assert by_kind["adjustment"].description == "Duplicate seed"


def test_the_provider_statement_shows_the_settlement_from_the_booking_school(world):
    build_history(world)
    (line,) = credits.statement_lines(world["provider"].id, ALL)
    assert (line.kind, line.amount, line.balance_after) == ("settle", 8, 8)
    assert "Phonics for new teachers" in line.description and "from Buyer Primary" in line.description


def test_held_credits_are_listed_per_booking_until_released_or_settled(world):
    ids = build_history(world)
    held = ids["mid_held"]
    assert [(item.booking_id, item.credits, item.offer_title) for item in held] == [
        (ids["first"].id, 8, "Phonics for new teachers"),
        (ids["second"].id, 4, "Phonics for new teachers"),
    ]
    assert held[0].starts_at is not None
    assert credits.held_items(world["buyer"].id) == []
    summary = credits.summary(world["buyer"].id)
    assert (summary.available, summary.held, summary.total) == (20, 0, 20)


def test_filters_by_kind_keep_the_real_running_balance(world):
    build_history(world)
    holds = credits.statement_lines(world["buyer"].id, StatementFilters(kinds=("hold",)))
    assert [(line.amount, line.balance_after) for line in holds] == [(-4, 18), (-8, 22)]
    page = credits.statement(world["buyer"].id, StatementFilters(kinds=("hold", "release")))
    assert page.page.total == 3 and page.credits_in == 4 and page.credits_out == 12


def test_filters_by_period_use_whole_days_and_keep_the_running_balance(world, clock):
    c, school = world["coordinator"], world["buyer"].id
    for day, amount in ((date(2025, 8, 31), 5), (date(2025, 9, 1), 7), (date(2025, 12, 24), 11), (date(2026, 3, 2), 13)):
        clock["now"] = datetime.combine(day, datetime.min.time()) + timedelta(hours=12)
        ledger.issue(c, kind="grant", organisation_id=school, amount=amount, key=f"g-{day}", reason=str(day))
    db.session.commit()
    year = credits.statement_lines(school, StatementFilters(date_from=date(2025, 9, 1)))
    assert [(line.amount, line.balance_after) for line in year] == [(13, 36), (11, 23), (7, 12)]
    winter = credits.statement_lines(school, StatementFilters(date_from=date(2025, 12, 24), date_to=date(2025, 12, 24)))
    assert [(line.amount, line.balance_after) for line in winter] == [(11, 23)]
    before = credits.statement_lines(school, StatementFilters(date_to=date(2025, 8, 31)))
    assert [line.amount for line in before] == [5]
    with pytest.raises(Invalid):
        StatementFilters(date_from=date(2026, 1, 2), date_to=date(2026, 1, 1))


def test_statement_pages_agree_with_the_whole_statement(world):
    build_history(world)
    whole = credits.statement_lines(world["buyer"].id, ALL)
    pages = [credits.statement(world["buyer"].id, ALL, page=n, per_page=3) for n in (1, 2, 3)]
    assert [p.page.pages for p in pages] == [3, 3, 3]
    assert [line for p in pages for line in p.page.items] == whole
    # A page past the end shows the last page rather than nothing.
    assert credits.statement(world["buyer"].id, ALL, page=99, per_page=3).page.page == 3


def test_a_school_without_an_account_has_an_empty_statement(make_school):
    school = make_school()
    assert credits.statement(school.id, ALL).page.total == 0
    assert credits.statement_lines(school.id, ALL) == []
    assert credits.summary(school.id) == credits.Summary(0, 0, 0, False)
    assert credits.available_balance(school.id) == 0


def test_take_up_counts_bookings_made_and_delivered_both_ways(world):
    build_history(world)
    buyer, provider = credits.take_up(world["buyer"].id, date.today()), credits.take_up(world["provider"].id, date.today())
    # The cancelled booking is not counted as made.
    assert (buyer.received_made, buyer.received_delivered, buyer.given_made, buyer.given_delivered) == (1, 1, 0, 0)
    assert (provider.received_made, provider.received_delivered, provider.given_made, provider.given_delivered) == (0, 0, 1, 1)


def test_scheme_totals_add_up(world):
    build_history(world)
    totals = credits.scheme_totals()
    assert totals.issued_by_kind == {"allocation": 30, "purchase": 10}
    assert totals.returned_by_kind == {"reversal": 10, "adjustment": 2}
    assert totals.in_circulation == 28 == totals.issued - totals.returned
    assert totals.in_school_accounts == 28 and totals.in_escrow == 0


def test_only_coordinators_see_other_schools(world, make_school):
    other = make_school(name="Elsewhere")
    assert credits.organisation_for_credits(world["teacher"], other.id).id == world["buyer"].id
    assert credits.organisation_for_credits(world["lead"], None).id == world["buyer"].id
    assert credits.organisation_for_credits(world["coordinator"], other.id).id == other.id
    assert credits.organisation_for_credits(world["coordinator"], None) is None
    with pytest.raises(NotFound):
        credits.organisation_for_credits(world["coordinator"], 999_999)


# --- yearly allocation -------------------------------------------------------------------------


@pytest.fixture
def schools_by_size(make_school):
    sizes = [50, 100, 101, 250, 251, 500, 501, 5000, None]
    return {size: make_school(name=f"School of {size}", pupils=size, la_code="916" if size != 5000 else "801",
                              la_name="Gloucestershire" if size != 5000 else "Bristol") for size in sizes}


def test_allocation_preview_follows_the_bands_and_the_cap(schools_by_size, make_user, make_org):
    make_org(kind="teaching_school_hub")  # not a school: never allocated
    preview = credits.allocation_preview("2026-27")
    got = {row.pupils: (row.credits, row.status) for row in preview.rows}
    assert got == {50: (10, "new"), 100: (10, "new"), 101: (20, "new"), 250: (20, "new"), 251: (30, "new"),
                   500: (30, "new"), 501: (40, "new"), 5000: (40, "new"), None: (0, "none")}
    assert preview.total == 200 and len(preview.to_post) == 8

    coordinator = make_user(role="coordinator")
    credits.save_settings(coordinator, late_cancellation_policy="refund", no_show_policy="refund",
                          waitlist_offer_hours=48, allocation=([[0, 100, 10], [101, None, 60]], 25))
    db.session.commit()
    capped = {row.pupils: (row.credits, row.capped) for row in credits.allocation_preview("2026-27").rows}
    assert capped[100] == (10, False) and capped[101] == (25, True) and capped[5000] == (25, True)


def test_allocation_preview_for_one_local_authority(schools_by_size):
    preview = credits.allocation_preview("2026/27", "801")
    assert preview.year == "2026-27"
    assert [row.pupils for row in preview.rows] == [5000]


def test_posting_an_allocation_twice_allocates_each_school_once(schools_by_size, make_user):
    coordinator = make_user(role="coordinator")
    preview = credits.allocation_preview("2026-27")
    result = credits.post_allocation(coordinator, year="2026-27", la_code=None, fingerprint=preview.fingerprint)
    db.session.commit()
    assert (result.schools, result.credits) == (8, 200)
    assert transfers() == 8
    again = credits.post_allocation(coordinator, year="2026-27", la_code=None, fingerprint=preview.fingerprint)
    db.session.commit()
    assert (again.schools, again.skipped) == (0, 8) and transfers() == 8
    school = schools_by_size[251]
    assert ledger.balance_of(school.id).available == 30
    key = db.session.scalar(select(Transfer.idempotency_key).where(Transfer.to_account_id == ledger.account_for(school.id).id))
    assert key == f"allocation:2026-27:{school.id}"
    after = credits.allocation_preview("2026-27")
    assert {row.status for row in after.rows} == {"done", "none"} and after.total == 0
    # Another year is separate.
    assert len(credits.allocation_preview("2027-28").to_post) == 8
    assert ledger.verify() == []


def test_an_allocation_stopped_half_way_finishes_without_doubling(schools_by_size, make_user):
    coordinator = make_user(role="coordinator")
    # As if the first school's transfer was committed before a crash.
    first = schools_by_size[50]
    ledger.issue(coordinator, kind="allocation", organisation_id=first.id, amount=10,
                 key=credits.allocation_key("2026-27", first.id), reason="first try")
    db.session.commit()
    preview = credits.allocation_preview("2026-27")
    assert [row.status for row in preview.rows if row.organisation_id == first.id] == ["done"]
    result = credits.post_allocation(coordinator, year="2026-27", la_code=None, fingerprint=preview.fingerprint)
    db.session.commit()
    assert (result.schools, result.credits, result.skipped) == (7, 190, 1)
    assert ledger.balance_of(first.id).available == 10 and transfers() == 8


def test_posting_from_a_stale_preview_is_refused_and_writes_nothing(schools_by_size, make_user, make_school):
    coordinator = make_user(role="coordinator")
    preview = credits.allocation_preview("2026-27")
    make_school(name="Newcomer", pupils=80)
    with pytest.raises(Conflict):
        credits.post_allocation(coordinator, year="2026-27", la_code=None, fingerprint=preview.fingerprint)
    db.session.rollback()
    assert transfers() == 0


@pytest.mark.parametrize("role", ["teacher", "governor", "school_lead"])
def test_only_coordinators_post_allocations(schools_by_size, make_user, role):
    preview = credits.allocation_preview("2026-27")
    with pytest.raises(NotAllowed):
        credits.post_allocation(make_user(role=role), year="2026-27", la_code=None, fingerprint=preview.fingerprint)
    db.session.rollback()
    assert transfers() == 0


@pytest.mark.parametrize("year", ["2026", "2026-28", "26-27", "2026-27x", "", "１２３４-35"])
def test_school_years_are_checked(year):
    with pytest.raises(Invalid):
        credits.parse_school_year(year)


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bands", [
    [],
    [[0, 100, 10], [100, 200, 20]],          # overlapping at 100
    [[101, 250, 20], [0, 100, 10]],          # descending
    [[0, 100, -1]],                          # negative credits
    [[0, None, 10], [101, 200, 20]],         # open-ended band not last
    [[50, 10, 5]],                           # to below from
    [[0, 100, 10.5]],                        # not whole
    [[-1, 100, 10]],
    [[0, 100]],
])
def test_bad_bands_are_refused(bands):
    with pytest.raises(Invalid) as refused:
        credits.validate_bands(bands)
    assert refused.value.field == "bands"


def test_good_bands_may_leave_gaps_and_end_open():
    bands = credits.validate_bands([[0, 99, 5], [200, None, 15]])
    band, amount, _ = credits.credits_for(150, bands, 40)
    assert band is None and amount == 0


def test_settings_are_saved_audited_and_used_by_bookings(make_user):
    coordinator = make_user(role="coordinator")
    credits.save_settings(coordinator, late_cancellation_policy="refund", no_show_policy="forfeit_scheme",
                          waitlist_offer_hours=24, allocation=([[0, 200, 12], [201, None, 30]], 30))
    db.session.commit()
    assert bookings.setting("late_cancellation_policy") == "refund"
    assert bookings.setting("no_show_policy") == "forfeit_scheme"
    assert bookings.setting("waitlist_offer_hours") == 24
    assert credits.scheme_settings()["allocation_bands"] == [[0, 200, 12], [201, None, 30]]
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "settings.changed"))
    assert audit.detail["changed"]["late_cancellation_policy"] == {"from": "forfeit_provider", "to": "refund"}


@pytest.mark.parametrize("role", ["teacher", "governor", "school_lead"])
def test_only_coordinators_and_admins_change_settings(make_user, role):
    with pytest.raises(NotAllowed):
        credits.save_settings(make_user(role=role), late_cancellation_policy="refund", no_show_policy="refund",
                              waitlist_offer_hours=1)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Setting)) == 0


def test_admins_may_change_settings_too(make_user):
    credits.save_settings(make_user(role="admin"), late_cancellation_policy="forfeit_scheme",
                          no_show_policy="refund", waitlist_offer_hours=72)
    db.session.commit()
    assert bookings.setting("waitlist_offer_hours") == 72


# --- the one-off tools --------------------------------------------------------------------------


def test_a_form_sent_twice_makes_one_transfer(world):
    c, school = world["coordinator"], world["buyer"].id
    first = credits.record_purchase(c, organisation_id=school, amount=5, invoice_reference="I-1", form_key=KEY_A)
    db.session.commit()
    second = credits.record_purchase(c, organisation_id=school, amount=5, invoice_reference="I-1", form_key=KEY_A)
    db.session.commit()
    assert not first.repeated and second.repeated
    assert second.transfers[0].id == first.transfers[0].id and transfers() == 1
    with pytest.raises(ledger.IdempotencyConflict):
        credits.record_purchase(c, organisation_id=school, amount=6, invoice_reference="I-1", form_key=KEY_A)
    db.session.rollback()
    assert transfers() == 1 and ledger.balance_of(school).available == 5


def test_grants_go_to_each_chosen_school_once(world, make_school):
    c = world["coordinator"]
    extra = make_school(name="Remote Primary")
    ids = [world["buyer"].id, extra.id]
    result = credits.grant_seed_credits(c, organisation_ids=ids + [extra.id], amount=6, reason="Isolated", form_key=KEY_A)
    db.session.commit()
    assert len(result.transfers) == 2 and result.credits == 12
    again = credits.grant_seed_credits(c, organisation_ids=ids, amount=6, reason="Isolated", form_key=KEY_A)
    db.session.commit()
    assert again.repeated and transfers() == 2
    assert {ledger.balance_of(i).available for i in ids} == {6}


@pytest.mark.parametrize("call", [
    lambda c, s: credits.record_purchase(c, organisation_id=s, amount=5, invoice_reference="  ", form_key=KEY_A),
    lambda c, s: credits.record_purchase(c, organisation_id=999_999, amount=5, invoice_reference="I", form_key=KEY_A),
    lambda c, s: credits.record_purchase(c, organisation_id=s, amount=0, invoice_reference="I", form_key=KEY_A),
    lambda c, s: credits.record_purchase(c, organisation_id=s, amount=10_001, invoice_reference="I", form_key=KEY_A),
    lambda c, s: credits.record_purchase(c, organisation_id=s, amount=5, invoice_reference="I", form_key="not-a-key"),
    lambda c, s: credits.grant_seed_credits(c, organisation_ids=[], amount=5, reason="r", form_key=KEY_A),
    lambda c, s: credits.grant_seed_credits(c, organisation_ids=[s, 999_999], amount=5, reason="r", form_key=KEY_A),
    lambda c, s: credits.grant_seed_credits(c, organisation_ids=[s], amount=5, reason=" ", form_key=KEY_A),
    lambda c, s: credits.adjust(c, organisation_id=s, amount=0, reason="r", form_key=KEY_A),
    lambda c, s: credits.adjust(c, organisation_id=s, amount=3, reason="", form_key=KEY_A),
    lambda c, s: credits.adjust(c, organisation_id=s, amount=-1, reason="r", form_key=KEY_A),  # balance 0
    lambda c, s: credits.reverse(c, transfer_id=1, reason="", form_key=KEY_A),
])
def test_bad_tool_input_is_refused_and_writes_nothing(world, call):
    with pytest.raises((Invalid, Conflict)) as refused:
        call(world["coordinator"], world["buyer"].id)
    db.session.rollback()
    assert refused.value.message
    assert transfers() == 0


def test_a_negative_adjustment_beyond_the_balance_says_what_is_available(world):
    c, school = world["coordinator"], world["buyer"].id
    ledger.issue(c, kind="grant", organisation_id=school, amount=3, key="g", reason="seed")
    db.session.commit()
    with pytest.raises(ledger.InsufficientCredits) as refused:
        credits.adjust(c, organisation_id=school, amount=-5, reason="typo", form_key=KEY_A)
    db.session.rollback()
    assert "only 3 are available" in refused.value.message and transfers() == 1


@pytest.mark.parametrize("role", ["teacher", "governor", "school_lead"])
def test_only_coordinators_use_the_tools(world, make_user, role):
    actor = make_user(role=role, organisation=world["buyer"])
    school = world["buyer"].id
    for call in (
        lambda: credits.record_purchase(actor, organisation_id=school, amount=5, invoice_reference="I", form_key=KEY_A),
        lambda: credits.grant_seed_credits(actor, organisation_ids=[school], amount=5, reason="r", form_key=KEY_A),
        lambda: credits.adjust(actor, organisation_id=school, amount=5, reason="r", form_key=KEY_A),
        lambda: credits.reverse(actor, transfer_id=1, reason="r", form_key=KEY_A),
    ):
        with pytest.raises(NotAllowed):
            call()
        db.session.rollback()
    assert transfers() == 0


def test_transfer_list_filters_and_shows_reversals(world):
    ids = build_history(world)
    everything = credits.list_transfers()
    assert everything.total == 8
    purchases = credits.list_transfers(kind="purchase")
    (row,) = purchases.items
    assert row.reversed_by_id == ids["reversal"].id and not row.reversible
    assert row.from_name == "Scheme (issuance)" and row.to_name == "Buyer Primary"
    provider_rows = credits.list_transfers(q="provider high")
    assert [r.transfer.kind for r in provider_rows.items] == ["settle"]
    buyer = credits.list_transfers(organisation_id=world["buyer"].id)
    assert buyer.total == 8  # the settlement was paid from the buyer's escrow
    with pytest.raises(Invalid):
        credits.list_transfers(kind="bogus")
