"""The credits ledger: the only code that moves credits.

Rules (see the module docstring of app.models.ledger): a transfer is one row and two
entries in the caller's transaction; the debit is a guarded UPDATE so that two concurrent
spends cannot both pass a read-then-write check; on PostgreSQL the two account rows are
locked in id order first (no deadlocks), on SQLite the transaction already holds the
write lock (BEGIN IMMEDIATE). An idempotency key makes a retry harmless; the same key
with different content is refused.
"""
from dataclasses import dataclass
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Account, Entry, Organisation, Transfer
from app.models.ledger import ESCROW, ISSUANCE
from app.services import audit
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound

# Which kinds of account each kind of transfer may move credits between.
_ORG, _ISS, _ESC = "organisation", ISSUANCE, ESCROW
ALLOWED_ROUTES = {
    "allocation": {(_ISS, _ORG)},
    "purchase": {(_ISS, _ORG)},
    "grant": {(_ISS, _ORG)},
    "hold": {(_ORG, _ESC)},
    "release": {(_ESC, _ORG)},
    "settle": {(_ESC, _ORG)},
    # A forfeit pays a late cancellation or no-show to the provider, or back to the scheme.
    "forfeit": {(_ESC, _ORG), (_ESC, _ISS)},
    "adjustment": {(_ISS, _ORG), (_ORG, _ISS)},
    # A reversal runs any transfer backwards, so any route is possible.
    "reversal": {(a, b) for a in (_ORG, _ISS, _ESC) for b in (_ORG, _ISS, _ESC) if a != b},
}
ESCROW_KINDS = {"hold", "release", "settle", "forfeit"}
COORDINATOR_KINDS = {"allocation", "purchase", "grant", "adjustment", "reversal"}
MAX_AMOUNT = 1_000_000


class InsufficientCredits(Invalid):
    def __init__(self, available: int, amount: int):
        super().__init__(
            f"Not enough credits: this needs {amount} but only {available} "
            f"{'is' if available == 1 else 'are'} available."
        )
        self.available = available
        self.amount = amount


class IdempotencyConflict(Conflict):
    def __init__(self, key: str):
        super().__init__(f"The request key {key!r} was already used for a different transfer.")


# --- accounts ---------------------------------------------------------------------------


def _get_or_create(code: str, **fields) -> Account:
    # Under the ledger lock, so two transactions never race to create the same account
    # (an uncommitted insert would make the other wait while holding its own locks).
    _ledger_lock()
    account = db.session.scalar(select(Account).where(Account.code == code))
    if account is not None:
        return account
    account = Account(code=code, balance=0, **fields)
    try:
        with db.session.begin_nested():
            db.session.add(account)
    except IntegrityError:
        # Created meanwhile by a concurrent request (PostgreSQL): use that one.
        account = db.session.scalar(select(Account).where(Account.code == code))
    return account


def system_account(code: str) -> Account:
    if code == ISSUANCE:
        return _get_or_create(ISSUANCE, kind=ISSUANCE, overdraft_limit=None)
    if code == ESCROW:
        return _get_or_create(ESCROW, kind=ESCROW, overdraft_limit=0)
    raise ValueError(code)


def account_for(organisation_id: int) -> Account:
    existing = db.session.scalar(select(Account).where(Account.code == f"org-{organisation_id}"))
    if existing is not None:
        return existing  # the usual case: no need to look at the organisation
    if db.session.get(Organisation, organisation_id) is None:
        raise NotFound("That organisation could not be found.")
    return _get_or_create(f"org-{organisation_id}", kind="organisation", organisation_id=organisation_id, overdraft_limit=0)


# --- the one transfer primitive -----------------------------------------------------------


def _same_content(existing: Transfer, **content) -> bool:
    return all(getattr(existing, name) == value for name, value in content.items())


def transfer(
    *,
    kind: str,
    from_account: Account,
    to_account: Account,
    amount: int,
    key: str,
    actor=None,
    reason: str = "",
    booking_id: int | None = None,
    escrow_owner_id: int | None = None,
    invoice_reference: str | None = None,
    reverses_id: int | None = None,
) -> Transfer:
    """Move `amount` credits; returns the transfer (the existing one for a repeated key)."""
    if kind not in ALLOWED_ROUTES:
        raise Invalid(f"Unknown kind of transfer: {kind}.")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise Invalid("The amount must be a whole number of credits above zero.", field="amount")
    if amount > MAX_AMOUNT:
        raise Invalid(f"The amount must be at most {MAX_AMOUNT:,} credits.", field="amount")
    if from_account.id == to_account.id:
        raise Invalid("Credits cannot move from an account to itself.")
    if (from_account.kind, to_account.kind) not in ALLOWED_ROUTES[kind]:
        raise Invalid(f"A {kind} cannot move credits from {from_account.kind} to {to_account.kind}.")
    if not key or len(key) > 120:
        raise Invalid("Every transfer needs a request key of at most 120 characters.")

    content = dict(
        kind=kind,
        from_account_id=from_account.id,
        to_account_id=to_account.id,
        amount=amount,
        booking_id=booking_id,
        escrow_owner_id=escrow_owner_id,
        reverses_id=reverses_id,
    )
    _lock_accounts(from_account.id, to_account.id)
    # Checked after taking the locks, so a concurrent twin with the same key is seen.
    existing = db.session.scalar(select(Transfer).where(Transfer.idempotency_key == key))
    if existing is not None:
        if _same_content(existing, **content):
            return existing
        raise IdempotencyConflict(key)

    _debit(from_account, amount)
    # No in-session synchronisation: both balances are expired just below, and evaluating the
    # update against every Account in the session makes a long batch (a yearly allocation) quadratic.
    db.session.execute(update(Account).where(Account.id == to_account.id).values(balance=Account.balance + amount)
                       .execution_options(synchronize_session=False))
    row = Transfer(idempotency_key=key, actor_id=getattr(actor, "id", None), reason=reason or "",
                   invoice_reference=invoice_reference, **content)
    row.entries = [Entry(account_id=from_account.id, amount=-amount), Entry(account_id=to_account.id, amount=amount)]
    db.session.add(row)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        # Only the unique key can clash here: a concurrent twin won the race (PostgreSQL).
        raise IdempotencyConflict(key) from error
    db.session.expire(from_account, ["balance"])
    db.session.expire(to_account, ["balance"])
    return row


# One number for the whole ledger's advisory lock (any constant will do; it only has to be shared).
LEDGER_LOCK_KEY = 7_361_204
_LOCKED_IN = "waymark_ledger_locked_in"


def _ledger_lock() -> None:
    """On PostgreSQL, one transaction-scoped advisory lock for all ledger writing.

    Nearly every transfer touches the escrow or issuance row, so ledger writes queue on
    those rows anyway. Taking one advisory lock first makes that queue explicit and rules
    out deadlocks when one business transaction makes several transfers or creates an
    account. It is re-entrant and released at commit or rollback. SQLite needs nothing:
    BEGIN IMMEDIATE already holds the database's single write lock.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    # Once per transaction is enough (it is held until commit or rollback): a confirmation
    # that creates an account and makes a transfer would otherwise ask three times.
    session = db.session()
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_LOCKED_IN) is transaction:
        return
    session.execute(select(func.pg_advisory_xact_lock(LEDGER_LOCK_KEY)))
    session.info[_LOCKED_IN] = session.get_transaction()


def _lock_accounts(*account_ids: int) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        return
    _ledger_lock()
    # Then the rows themselves, in id order.
    db.session.execute(
        select(Account.id).where(Account.id.in_(account_ids)).order_by(Account.id).with_for_update()
    ).all()


def _debit(account: Account, amount: int) -> None:
    result = db.session.execute(
        update(Account)
        .where(
            Account.id == account.id,
            or_(Account.overdraft_limit.is_(None), Account.balance - amount >= -Account.overdraft_limit),
        )
        .values(balance=Account.balance - amount)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        current = db.session.scalar(select(Account.balance).where(Account.id == account.id)) or 0
        limit = db.session.scalar(select(Account.overdraft_limit).where(Account.id == account.id)) or 0
        raise InsufficientCredits(available=current + limit, amount=amount)


# --- what coordinators do --------------------------------------------------------------


def _require_coordinator(actor) -> None:
    if actor is None or not getattr(actor, "is_coordinator", False):
        raise NotAllowed("Only coordinators can issue or correct credits.")


def issue(actor, *, kind: str, organisation_id: int, amount: int, key: str, reason: str = "",
          invoice_reference: str | None = None) -> Transfer:
    """Allocation, purchase or seed-credit grant: credits enter the scheme for a school."""
    _require_coordinator(actor)
    if kind not in ("allocation", "purchase", "grant"):
        raise Invalid("Credits enter the scheme only as an allocation, a purchase or a grant.")
    if kind == "purchase" and not (invoice_reference or "").strip():
        raise Invalid("Record the invoice reference for a purchase.", field="invoice_reference")
    row = transfer(kind=kind, from_account=system_account(ISSUANCE), to_account=account_for(organisation_id),
                   amount=amount, key=key, actor=actor, reason=reason, invoice_reference=invoice_reference)
    audit.record(actor, f"credits.{kind}", row, organisation_id=organisation_id, amount=amount)
    return row


def adjust(actor, *, organisation_id: int, amount: int, key: str, reason: str) -> Transfer:
    """A correction by a coordinator: positive adds credits, negative removes them. Reason required."""
    _require_coordinator(actor)
    if not (reason or "").strip():
        raise Invalid("Give the reason for the adjustment.", field="reason")
    if not isinstance(amount, int) or amount == 0:
        raise Invalid("The adjustment must be a whole number of credits, not zero.", field="amount")
    school, issuance = account_for(organisation_id), system_account(ISSUANCE)
    source, target = (issuance, school) if amount > 0 else (school, issuance)
    row = transfer(kind="adjustment", from_account=source, to_account=target, amount=abs(amount),
                   key=key, actor=actor, reason=reason.strip())
    audit.record(actor, "credits.adjustment", row, organisation_id=organisation_id, amount=amount)
    return row


def reverse(actor, *, transfer_id: int, key: str, reason: str) -> Transfer:
    """Undo a transfer with a new one running the other way. A transfer is reversed at most once."""
    _require_coordinator(actor)
    if not (reason or "").strip():
        raise Invalid("Give the reason for the reversal.", field="reason")
    original = db.session.get(Transfer, transfer_id)
    if original is None:
        raise NotFound("That transfer could not be found.")
    if original.kind == "reversal":
        raise Invalid("A reversal cannot itself be reversed; make a new transfer instead.")
    already = db.session.scalar(select(Transfer).where(Transfer.reverses_id == original.id))
    if already is not None and already.idempotency_key != key:
        raise Conflict("That transfer has already been reversed.")
    row = transfer(kind="reversal", from_account=original.to_account, to_account=original.from_account,
                   amount=original.amount, key=key, actor=actor, reason=reason.strip(),
                   booking_id=original.booking_id, escrow_owner_id=original.escrow_owner_id,
                   reverses_id=original.id)
    audit.record(actor, "credits.reversal", row, reverses=original.id)
    return row


# --- escrow for bookings (called by the bookings service, which checks who may act) -------


def hold(actor, *, organisation_id: int, amount: int, booking_id: int, key: str) -> Transfer:
    return transfer(kind="hold", from_account=account_for(organisation_id), to_account=system_account(ESCROW),
                    amount=amount, key=key, actor=actor, booking_id=booking_id, escrow_owner_id=organisation_id)


def release(actor, *, organisation_id: int, amount: int, booking_id: int, key: str) -> Transfer:
    return transfer(kind="release", from_account=system_account(ESCROW), to_account=account_for(organisation_id),
                    amount=amount, key=key, actor=actor, booking_id=booking_id, escrow_owner_id=organisation_id)


def settle(actor, *, organisation_id: int, provider_id: int, amount: int, booking_id: int, key: str) -> Transfer:
    return transfer(kind="settle", from_account=system_account(ESCROW), to_account=account_for(provider_id),
                    amount=amount, key=key, actor=actor, booking_id=booking_id, escrow_owner_id=organisation_id)


def forfeit(actor, *, organisation_id: int, amount: int, booking_id: int, key: str,
            provider_id: int | None = None) -> Transfer:
    """Held credits go to the provider (provider_id) or back to the scheme (None)."""
    target = account_for(provider_id) if provider_id is not None else system_account(ISSUANCE)
    return transfer(kind="forfeit", from_account=system_account(ESCROW), to_account=target, amount=amount,
                    key=key, actor=actor, booking_id=booking_id, escrow_owner_id=organisation_id)


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    available: int
    held: int

    @property
    def total(self) -> int:
        return self.available + self.held


def held_for(organisation_id: int) -> int:
    escrow_id = select(Account.id).where(Account.code == ESCROW).scalar_subquery()
    signed = case((Transfer.to_account_id == escrow_id, Transfer.amount), else_=-Transfer.amount)
    return int(db.session.scalar(
        select(func.coalesce(func.sum(signed), 0)).where(
            Transfer.escrow_owner_id == organisation_id,
            or_(Transfer.to_account_id == escrow_id, Transfer.from_account_id == escrow_id),
        )
    ) or 0)


def balance_of(organisation_id: int) -> Balance:
    available = db.session.scalar(select(Account.balance).where(Account.organisation_id == organisation_id)) or 0
    return Balance(available=int(available), held=held_for(organisation_id))


def verify() -> list[str]:
    """Every breach of the ledger's invariants, as sentences; an empty list means all is well."""
    problems: list[str] = []
    entry_sums = (
        select(Entry.transfer_id, func.count(Entry.id).label("n"), func.sum(Entry.amount).label("total"))
        .group_by(Entry.transfer_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Transfer.id, Transfer.amount, entry_sums.c.n, entry_sums.c.total)
        .outerjoin(entry_sums, entry_sums.c.transfer_id == Transfer.id)
        .where(or_(entry_sums.c.n.is_(None), entry_sums.c.n != 2, entry_sums.c.total != 0))
    ).all()
    for transfer_id, amount, count, total in rows:
        problems.append(f"transfer {transfer_id} has {count or 0} entries summing to {total or 0} (must be 2 summing to 0)")
    mismatched = db.session.execute(
        select(Transfer.id).join(Entry, Entry.transfer_id == Transfer.id).where(
            or_(
                and_(Entry.amount < 0, or_(Entry.account_id != Transfer.from_account_id, Entry.amount != -Transfer.amount)),
                and_(Entry.amount > 0, or_(Entry.account_id != Transfer.to_account_id, Entry.amount != Transfer.amount)),
            )
        ).distinct()
    ).scalars().all()
    for transfer_id in mismatched:
        problems.append(f"transfer {transfer_id} has entries that do not match its accounts or amount")
    orphans = db.session.scalar(
        select(func.count(Entry.id)).where(~select(Transfer.id).where(Transfer.id == Entry.transfer_id).exists())
    )
    if orphans:
        problems.append(f"{orphans} entries belong to no transfer")
    per_account = (
        select(Entry.account_id, func.sum(Entry.amount).label("total")).group_by(Entry.account_id).subquery()
    )
    for code, cached, actual in db.session.execute(
        select(Account.code, Account.balance, func.coalesce(per_account.c.total, 0))
        .outerjoin(per_account, per_account.c.account_id == Account.id)
        .where(Account.balance != func.coalesce(per_account.c.total, 0))
    ).all():
        problems.append(f"account {code} shows a balance of {cached} but its entries sum to {actual}")
    total = db.session.scalar(select(func.coalesce(func.sum(Account.balance), 0)))
    if total:
        problems.append(f"the balances of all accounts sum to {total}, not 0: credits were created or destroyed")
    for code, balance, limit in db.session.execute(
        select(Account.code, Account.balance, Account.overdraft_limit).where(
            Account.overdraft_limit.is_not(None), Account.balance < -Account.overdraft_limit
        )
    ).all():
        problems.append(f"account {code} is at {balance}, below its overdraft limit of {limit}")
    problems.extend(_verify_escrow())
    return problems


def _verify_escrow() -> list[str]:
    escrow = db.session.scalar(select(Account).where(Account.code == ESCROW))
    if escrow is None:
        return []
    signed = case((Transfer.to_account_id == escrow.id, Transfer.amount), else_=-Transfer.amount)
    held = db.session.execute(
        select(Transfer.escrow_owner_id, func.sum(signed))
        .where(or_(Transfer.to_account_id == escrow.id, Transfer.from_account_id == escrow.id))
        .group_by(Transfer.escrow_owner_id)
    ).all()
    problems = []
    unowned = [amount for owner, amount in held if owner is None and amount]
    if unowned:
        problems.append("credits moved through escrow without saying whose they were")
    for owner, amount in held:
        if owner is not None and amount < 0:
            problems.append(f"organisation {owner} has {amount} held: more left escrow than was held for it")
    if sum(amount for _, amount in held) != escrow.balance:
        problems.append("the escrow balance differs from the credits held for schools")
    return problems


def new_key(*parts) -> str:
    """A deterministic idempotency key from what makes an operation unique."""
    return ":".join(str(part) for part in parts)[:120]
