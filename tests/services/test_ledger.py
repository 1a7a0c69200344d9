"""The credits ledger: conservation, idempotency, overdrafts, append-only entries."""
import multiprocessing
import os

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from app.extensions import db
from app.models import Account, Entry, Transfer
from app.services import ledger
from app.services.errors import NotAllowed
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def coordinator(make_user):
    return make_user(role="coordinator")


def counts():
    return (
        db.session.scalar(select(func.count()).select_from(Transfer)),
        db.session.scalar(select(func.count()).select_from(Entry)),
    )


def test_allocation_moves_credits_from_issuance_and_conserves(make_school, coordinator):
    school = make_school()
    ledger.issue(coordinator, kind="allocation", organisation_id=school.id, amount=30, key="alloc-1", reason="2026/27")
    db.session.commit()
    assert ledger.balance_of(school.id).available == 30
    assert ledger.system_account("issuance").balance == -30
    assert counts() == (1, 2)
    assert ledger.verify() == []


def test_spending_more_than_available_is_refused_with_the_balance_and_nothing_written(make_school, coordinator):
    school = make_school()
    ledger.issue(coordinator, kind="grant", organisation_id=school.id, amount=5, key="g", reason="seed")
    db.session.commit()
    with pytest.raises(ledger.InsufficientCredits) as refused:
        ledger.hold(None, organisation_id=school.id, amount=6, booking_id=1, key="h")
    db.session.rollback()
    assert "only 5 are available" in refused.value.message
    assert counts() == (1, 2)
    assert ledger.balance_of(school.id).available == 5


def test_an_overdraft_limit_lets_the_balance_go_that_far_below_zero(make_school, coordinator):
    school = make_school()
    account = ledger.account_for(school.id)
    account.overdraft_limit = 3
    db.session.commit()
    ledger.hold(None, organisation_id=school.id, amount=3, booking_id=1, key="h1")
    with pytest.raises(ledger.InsufficientCredits):
        ledger.hold(None, organisation_id=school.id, amount=1, booking_id=1, key="h2")
    db.session.rollback()


def test_retry_with_the_same_key_is_one_transfer(make_school, coordinator):
    school = make_school()
    first = ledger.issue(coordinator, kind="purchase", organisation_id=school.id, amount=10, key="p-1", invoice_reference="INV-1")
    again = ledger.issue(coordinator, kind="purchase", organisation_id=school.id, amount=10, key="p-1", invoice_reference="INV-1")
    db.session.commit()
    assert first.id == again.id
    assert counts() == (1, 2)
    assert ledger.balance_of(school.id).available == 10


def test_the_same_key_with_other_content_is_refused(make_school, coordinator):
    school = make_school()
    ledger.issue(coordinator, kind="grant", organisation_id=school.id, amount=10, key="k", reason="seed")
    db.session.commit()
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.issue(coordinator, kind="grant", organisation_id=school.id, amount=11, key="k", reason="seed")
    db.session.rollback()
    assert counts() == (1, 2)


@pytest.mark.parametrize("amount", [0, -5, 2.5, True, 10_000_000])
def test_bad_amounts_are_refused(make_school, coordinator, amount):
    school = make_school()
    with pytest.raises(ledger.Invalid):
        ledger.issue(coordinator, kind="grant", organisation_id=school.id, amount=amount, key="k", reason="x")
    db.session.rollback()
    assert counts() == (0, 0)


@pytest.mark.parametrize("role", ["teacher", "governor", "school_lead"])
def test_only_coordinators_issue_adjust_or_reverse(make_school, make_user, coordinator, role):
    school = make_school()
    actor = make_user(role=role, organisation=school)
    original = ledger.issue(coordinator, kind="grant", organisation_id=school.id, amount=4, key="g", reason="seed")
    db.session.commit()
    with pytest.raises(NotAllowed):
        ledger.issue(actor, kind="allocation", organisation_id=school.id, amount=100, key="a", reason="x")
    with pytest.raises(NotAllowed):
        ledger.adjust(actor, organisation_id=school.id, amount=100, key="b", reason="x")
    with pytest.raises(NotAllowed):
        ledger.reverse(actor, transfer_id=original.id, key="c", reason="x")
    db.session.rollback()
    assert counts() == (1, 2)


def test_purchase_needs_an_invoice_and_adjustment_a_reason(make_school, coordinator):
    school = make_school()
    with pytest.raises(ledger.Invalid, match="invoice"):
        ledger.issue(coordinator, kind="purchase", organisation_id=school.id, amount=5, key="p")
    with pytest.raises(ledger.Invalid, match="reason"):
        ledger.adjust(coordinator, organisation_id=school.id, amount=5, key="a", reason="  ")
    db.session.rollback()
    assert counts() == (0, 0)


def test_negative_adjustment_cannot_overdraw(make_school, coordinator):
    school = make_school()
    ledger.issue(coordinator, kind="grant", organisation_id=school.id, amount=4, key="g", reason="seed")
    ledger.adjust(coordinator, organisation_id=school.id, amount=-3, key="a1", reason="duplicate grant")
    with pytest.raises(ledger.InsufficientCredits):
        ledger.adjust(coordinator, organisation_id=school.id, amount=-2, key="a2", reason="again")
    db.session.rollback()


def test_escrow_holds_release_and_settle_per_school(make_school, coordinator):
    buyer, provider = make_school(), make_school()
    ledger.issue(coordinator, kind="allocation", organisation_id=buyer.id, amount=20, key="a", reason="year")
    ledger.hold(None, organisation_id=buyer.id, amount=6, booking_id=1, key="h1")
    ledger.hold(None, organisation_id=buyer.id, amount=4, booking_id=2, key="h2")
    db.session.commit()
    assert ledger.balance_of(buyer.id) == ledger.Balance(available=10, held=10)
    ledger.settle(None, organisation_id=buyer.id, provider_id=provider.id, amount=6, booking_id=1, key="s1")
    ledger.release(None, organisation_id=buyer.id, amount=4, booking_id=2, key="r2")
    db.session.commit()
    assert ledger.balance_of(buyer.id) == ledger.Balance(available=14, held=0)
    assert ledger.balance_of(provider.id).available == 6
    assert ledger.system_account("escrow").balance == 0
    assert ledger.verify() == []


def test_forfeit_goes_to_the_provider_or_back_to_the_scheme(make_school, coordinator):
    buyer, provider = make_school(), make_school()
    ledger.issue(coordinator, kind="allocation", organisation_id=buyer.id, amount=10, key="a", reason="year")
    ledger.hold(None, organisation_id=buyer.id, amount=3, booking_id=1, key="h1")
    ledger.hold(None, organisation_id=buyer.id, amount=2, booking_id=2, key="h2")
    ledger.forfeit(None, organisation_id=buyer.id, provider_id=provider.id, amount=3, booking_id=1, key="f1")
    ledger.forfeit(None, organisation_id=buyer.id, amount=2, booking_id=2, key="f2")
    db.session.commit()
    assert ledger.balance_of(buyer.id) == ledger.Balance(available=5, held=0)
    assert ledger.balance_of(provider.id).available == 3
    assert ledger.system_account("issuance").balance == -8
    assert ledger.verify() == []


def test_reversal_undoes_a_transfer_once(make_school, coordinator):
    school = make_school()
    grant = ledger.issue(coordinator, kind="grant", organisation_id=school.id, amount=9, key="g", reason="seed")
    db.session.commit()
    reversal = ledger.reverse(coordinator, transfer_id=grant.id, key="rev-g", reason="granted to the wrong school")
    db.session.commit()
    assert reversal.reverses_id == grant.id
    assert ledger.balance_of(school.id).available == 0
    assert ledger.reverse(coordinator, transfer_id=grant.id, key="rev-g", reason="again").id == reversal.id
    with pytest.raises(ledger.Conflict):
        ledger.reverse(coordinator, transfer_id=grant.id, key="rev-g-2", reason="again")
    with pytest.raises(ledger.Invalid):
        ledger.reverse(coordinator, transfer_id=reversal.id, key="rev-rev", reason="undo the undo")
    db.session.rollback()
    assert ledger.verify() == []


def test_a_reversal_that_would_overdraw_is_refused(make_school, coordinator):
    buyer, provider = make_school(), make_school()
    ledger.issue(coordinator, kind="grant", organisation_id=buyer.id, amount=5, key="g", reason="seed")
    ledger.hold(None, organisation_id=buyer.id, amount=5, booking_id=1, key="h")
    settled = ledger.settle(None, organisation_id=buyer.id, provider_id=provider.id, amount=5, booking_id=1, key="s")
    ledger.hold(None, organisation_id=provider.id, amount=5, booking_id=2, key="h-provider")  # provider spent it
    db.session.commit()
    with pytest.raises(ledger.InsufficientCredits):
        ledger.reverse(coordinator, transfer_id=settled.id, key="rev", reason="delivered in error")
    db.session.rollback()
    assert ledger.verify() == []


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET amount = amount + 1",
    "DELETE FROM ledger_entries",
    "UPDATE ledger_transfers SET amount = 99",
    "DELETE FROM ledger_transfers",
])
def test_the_database_refuses_to_change_or_delete_ledger_rows(make_school, coordinator, statement):
    school = make_school()
    ledger.issue(coordinator, kind="grant", organisation_id=school.id, amount=5, key="g", reason="seed")
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    assert counts() == (1, 2)


def test_verify_reports_a_tampered_balance_and_the_cli_exits_1(make_school, coordinator, runner):
    school = make_school()
    ledger.issue(coordinator, kind="grant", organisation_id=school.id, amount=5, key="g", reason="seed")
    db.session.commit()
    ok = runner.invoke(args=["credits", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "consistent" in ok.output
    db.session.execute(text("UPDATE ledger_accounts SET balance = balance + 100 WHERE organisation_id = :id"), {"id": school.id})
    db.session.commit()
    problems = ledger.verify()
    assert any("entries sum to 5" in p for p in problems)
    assert any("sum to 100, not 0" in p for p in problems)
    broken = runner.invoke(args=["credits", "verify"])
    assert broken.exit_code == 1
    assert "problem" in broken.output


def _stress(database_uri: str, organisation_ids: list[int], processes: int = 4, operations: int = 120) -> list[dict]:
    from tests.support.ledger_stress import run_worker

    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        jobs = [pool.apply_async(run_worker, (database_uri, w, organisation_ids, operations, 1000 + w)) for w in range(processes)]
        return [job.get(timeout=240) for job in jobs]


def test_concurrent_processes_conserve_credits_with_no_lock_errors(app, make_school, coordinator):
    schools = [make_school() for _ in range(5)]
    for school in schools:
        ledger.issue(coordinator, kind="allocation", organisation_id=school.id, amount=25, key=f"a-{school.id}", reason="year")
    db.session.commit()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    outcomes = _stress(uri, [s.id for s in schools])
    db.session.expire_all()
    assert sum(o["locked"] for o in outcomes) == 0, outcomes
    assert sum(o["other"] for o in outcomes) == 0, outcomes
    assert sum(o["committed"] for o in outcomes) > 300, outcomes
    assert ledger.verify() == []
    total = sum(ledger.balance_of(s.id).total for s in schools)
    assert total == 125
    assert all(ledger.balance_of(s.id).available >= 0 for s in schools)
    engine = "PostgreSQL" if TEST_DATABASE_URL else "SQLite"
    print(f"\n{engine}: {outcomes}")
