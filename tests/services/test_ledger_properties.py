"""A Hypothesis state machine over the ledger: after every step the invariants hold.

Steps: allocate, purchase, hold, release, settle, forfeit, reverse, and retries with the
same key (no effect) or a clashing key (refused). A plain Python model runs alongside.
"""
import shutil
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select, text

from app import create_app
from app.extensions import db
from app.models import Account, Entry, Organisation, Transfer, User
from app.services import ledger
from app.services.errors import DomainError
from tests.conftest import BASE_CONFIG, TEST_DATABASE_URL, _pg_uri

SCHOOLS = 3
amounts = st.integers(min_value=-3, max_value=40)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.tmp = tempfile.mkdtemp()
        uri = _pg_uri(TEST_DATABASE_URL) if TEST_DATABASE_URL else f"sqlite:///{self.tmp}/ledger.sqlite"
        self.app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": uri})
        self.ctx = self.app.app_context()
        self.ctx.push()
        if TEST_DATABASE_URL:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        else:
            db.create_all()
        self.counter = 0
        self.available = {}
        self.held = {}  # (school, booking) -> credits held
        self.done_keys = {}  # key -> the call that made it, to retry
        self.reversible = []

    def teardown(self):
        db.session.remove()
        db.engine.dispose()
        self.ctx.pop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize()
    def setup(self):
        orgs = [Organisation(kind="school", name=f"School {i}", slug=f"school-{i}") for i in range(SCHOOLS)]
        db.session.add_all(orgs)
        self.coordinator = User(email="c@x.test", name="C", role="coordinator")
        db.session.add(self.coordinator)
        db.session.commit()
        self.schools = [o.id for o in orgs]
        for school in self.schools:
            self.available[school] = 0

    def _key(self, prefix):
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def _attempt(self, call, key, **kwargs):
        """Run one ledger call as a transaction; True if it committed."""
        try:
            row = call(key=key, **kwargs)
            db.session.commit()
        except DomainError:
            db.session.rollback()
            return None
        self.done_keys[key] = (call, kwargs, row.id)
        return row

    @rule(school=st.integers(0, SCHOOLS - 1), amount=amounts, kind=st.sampled_from(["allocation", "purchase", "grant"]))
    def issue(self, school, amount, kind):
        org = self.schools[school]
        row = self._attempt(lambda **kw: ledger.issue(self.coordinator, **kw), self._key(kind), kind=kind,
                            organisation_id=org, amount=amount, reason="r", invoice_reference="INV")
        if row is not None:
            assert amount > 0
            self.available[org] += amount
            self.reversible.append(row.id)
        else:
            assert amount <= 0

    @rule(school=st.integers(0, SCHOOLS - 1), amount=amounts, booking=st.integers(1, 4))
    def hold(self, school, amount, booking):
        org = self.schools[school]
        if (org, booking) in self.held:
            return
        row = self._attempt(lambda **kw: ledger.hold(None, **kw), self._key("hold"), organisation_id=org,
                            amount=amount, booking_id=booking)
        if row is not None:
            assert 0 < amount <= self.available[org]
            self.available[org] -= amount
            self.held[(org, booking)] = amount
        else:
            assert amount <= 0 or amount > self.available[org]

    @precondition(lambda self: self.held)
    @rule(data=st.data(), outcome=st.sampled_from(["release", "settle", "forfeit_provider", "forfeit_scheme"]))
    def finish_hold(self, data, outcome):
        (org, booking) = data.draw(st.sampled_from(sorted(self.held)))
        amount = self.held.pop((org, booking))
        provider = data.draw(st.sampled_from([s for s in self.schools if s != org]))
        key = self._key(outcome)
        if outcome == "release":
            row = self._attempt(lambda **kw: ledger.release(None, **kw), key, organisation_id=org, amount=amount, booking_id=booking)
            self.available[org] += amount
        elif outcome == "settle":
            row = self._attempt(lambda **kw: ledger.settle(None, **kw), key, organisation_id=org, provider_id=provider,
                                amount=amount, booking_id=booking)
            self.available[provider] += amount
        elif outcome == "forfeit_provider":
            row = self._attempt(lambda **kw: ledger.forfeit(None, **kw), key, organisation_id=org, provider_id=provider,
                                amount=amount, booking_id=booking)
            self.available[provider] += amount
        else:
            row = self._attempt(lambda **kw: ledger.forfeit(None, **kw), key, organisation_id=org, amount=amount, booking_id=booking)
        assert row is not None

    @precondition(lambda self: self.reversible)
    @rule(data=st.data())
    def reverse(self, data):
        transfer_id = data.draw(st.sampled_from(self.reversible))
        original = db.session.get(Transfer, transfer_id)
        org = original.to_account.organisation_id
        row = self._attempt(lambda **kw: ledger.reverse(self.coordinator, **kw), self._key("rev"),
                            transfer_id=transfer_id, reason="mistake")
        if row is not None:
            self.reversible.remove(transfer_id)
            self.available[org] -= original.amount
        else:
            assert self.available[org] < original.amount or transfer_id not in self.reversible

    @precondition(lambda self: self.done_keys)
    @rule(data=st.data())
    def retry_same_key(self, data):
        key = data.draw(st.sampled_from(sorted(self.done_keys)))
        call, kwargs, row_id = self.done_keys[key]
        before = db.session.scalar(select(func.count()).select_from(Transfer))
        row = call(key=key, **kwargs)
        db.session.commit()
        assert row.id == row_id
        assert db.session.scalar(select(func.count()).select_from(Transfer)) == before

    @precondition(lambda self: self.done_keys)
    @rule(data=st.data())
    def retry_clashing_key(self, data):
        key = data.draw(st.sampled_from(sorted(self.done_keys)))
        before = db.session.scalar(select(func.count()).select_from(Transfer))
        try:
            ledger.issue(self.coordinator, kind="grant", organisation_id=self.schools[0], amount=987_654, key=key, reason="clash")
            db.session.commit()
            raise AssertionError("a clashing key was accepted")
        except ledger.IdempotencyConflict:
            db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Transfer)) == before

    @invariant()
    def ledger_is_consistent(self):
        if not hasattr(self, "schools"):
            return
        assert ledger.verify() == []
        assert db.session.scalar(select(func.coalesce(func.sum(Account.balance), 0))) == 0
        transfers = db.session.scalar(select(func.count()).select_from(Transfer))
        assert db.session.scalar(select(func.count()).select_from(Entry)) == 2 * transfers
        for org in self.schools:
            balance = ledger.balance_of(org)
            assert balance.available == self.available[org]
            assert balance.available >= 0
            assert balance.held == sum(a for (o, _), a in self.held.items() if o == org)


LedgerMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLedgerStateMachine = LedgerMachine.TestCase
