"""What the credits pages read (statements, held credits, take-up, scheme totals) and the
coordinator's tools on top of the ledger (yearly allocation, purchases, seed credits,
adjustments, reversals) and the scheme's settings.

Every credit still moves through app.services.ledger, which holds the ledger's rules; this
module decides which transfers a tool makes, with which idempotency keys, and checks the
input a view cannot (unknown schools, stale previews, a form sent twice).
"""
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Account, Booking, Entry, Offer, OfferSession, Organisation, SchoolProfile, Setting, Transfer, User
from app.models.bookings import POLICIES
from app.models.ledger import ESCROW, ISSUANCE, TRANSFER_KINDS
from app.services import audit, ledger
from app.services.bookings import DEFAULT_SETTINGS as BOOKING_DEFAULTS
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound
from app.services.paging import Page

# Pupils from..to (None: no upper limit) → credits a year. The Manchester Schools Alliance model.
DEFAULT_BANDS = [[0, 100, 10], [101, 250, 20], [251, 500, 30], [501, None, 40]]
DEFAULT_CAP = 40
DEFAULT_SETTINGS = {**BOOKING_DEFAULTS, "allocation_bands": DEFAULT_BANDS, "allocation_cap": DEFAULT_CAP}
MAX_BANDS = 8
MAX_PUPILS = 100_000
MAX_BAND_CREDITS = 10_000
MAX_OFFER_HOURS = 24 * 14
# One tool use moves at most this many credits for a school: anything bigger is a typing slip.
MAX_TOOL_AMOUNT = 10_000
STATEMENT_PER_PAGE = 50
TRANSFERS_PER_PAGE = 50
FORM_KEY = re.compile(r"[0-9a-f]{32}")
SCHOOL_YEAR = re.compile(r"([0-9]{4})-([0-9]{2})")


# --- dates --------------------------------------------------------------------------------


def _zone():
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/London")
    except Exception:  # no time zone data on this host: UTC is close enough
        return None


def to_local(moment: datetime) -> datetime:
    """Stored UTC (naive) → the partnership's wall-clock time, for display and day boundaries."""
    from datetime import timezone

    zone = _zone()
    if zone is None or moment is None:
        return moment
    return moment.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None)


def _utc_start_of(day: date) -> datetime:
    from datetime import timezone

    zone = _zone()
    start = datetime.combine(day, time.min)
    if zone is None:
        return start
    return start.replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)


def school_year_start(today: date) -> date:
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def school_year_label(today: date) -> str:
    start = school_year_start(today).year
    return f"{start}-{(start + 1) % 100:02d}"


def parse_school_year(text: str) -> str:
    """'2026-27' (or '2026/27') → '2026-27'; anything else is refused with a clear message."""
    value = (text or "").strip().replace("/", "-")
    match = SCHOOL_YEAR.fullmatch(value)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)) or not 2000 <= int(match.group(1)) <= 2100:
        raise Invalid("Enter the school year like 2026-27.", field="year")
    return value


def period_presets(today: date) -> dict[str, tuple[date | None, date | None]]:
    return {
        "year": (school_year_start(today), None),
        "12m": (today - timedelta(days=365), None),
        "all": (None, None),
    }


# --- who sees which school's credits -------------------------------------------------------


def organisation_for_credits(viewer: User, requested_id: int | None) -> Organisation | None:
    """The organisation whose credits the viewer sees.

    Coordinators may look at any organisation; everyone else sees only their own, whatever
    the address asks for: another school's id is ignored rather than refused, so the page
    does not even confirm that the id exists.
    """
    if viewer.is_coordinator and requested_id is not None:
        org = db.session.get(Organisation, requested_id)
        if org is None:
            raise NotFound("That organisation could not be found.")
        return org
    if viewer.organisation_id is None:
        return None
    return db.session.get(Organisation, viewer.organisation_id)


def organisation_choices(members_only: bool = True) -> list[tuple[int, str]]:
    query = select(Organisation.id, Organisation.name).order_by(Organisation.name, Organisation.id)
    if members_only:
        query = query.where(Organisation.is_member.is_(True))
    return [(row.id, row.name) for row in db.session.execute(query)]


def organisations_with_accounts() -> list[tuple[int, str]]:
    """Organisations that have ever held credits: the ones with a statement to look at."""
    return [(row.id, row.name) for row in db.session.execute(
        select(Organisation.id, Organisation.name)
        .join(Account, Account.organisation_id == Organisation.id)
        .order_by(Organisation.name, Organisation.id)
    )]


def local_authorities() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Organisation.la_code, func.max(Organisation.la_name))
        .where(Organisation.kind == "school", Organisation.is_member.is_(True), Organisation.la_code.is_not(None))
        .group_by(Organisation.la_code)
        .order_by(func.max(Organisation.la_name))
    ).all()
    return [(code, name or code) for code, name in rows]


# --- the school's figures ------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    available: int
    held: int
    overdraft_limit: int
    has_account: bool

    @property
    def total(self) -> int:
        return self.available + self.held


def summary(organisation_id: int) -> Summary:
    row = db.session.execute(
        select(Account.balance, Account.overdraft_limit).where(Account.organisation_id == organisation_id)
    ).first()
    held = ledger.held_for(organisation_id)
    if row is None:
        return Summary(available=0, held=held, overdraft_limit=0, has_account=False)
    return Summary(available=int(row.balance), held=held, overdraft_limit=int(row.overdraft_limit or 0), has_account=True)


def available_balance(organisation_id: int) -> int:
    """The header badge's one cheap query."""
    return int(db.session.scalar(select(Account.balance).where(Account.organisation_id == organisation_id)) or 0)


@dataclass(frozen=True)
class HeldItem:
    booking_id: int
    offer_title: str
    starts_at: datetime | None
    days: int | None
    status: str
    credits: int


def held_items(organisation_id: int) -> list[HeldItem]:
    """Credits in escrow for this school, per booking, with what they are held for."""
    escrow_id = select(Account.id).where(Account.code == ESCROW).scalar_subquery()
    signed = case((Transfer.to_account_id == escrow_id, Transfer.amount), else_=-Transfer.amount)
    per_booking = (
        select(Transfer.booking_id.label("booking_id"), func.sum(signed).label("held"))
        .where(
            Transfer.escrow_owner_id == organisation_id,
            or_(Transfer.to_account_id == escrow_id, Transfer.from_account_id == escrow_id),
        )
        .group_by(Transfer.booking_id)
        .subquery()
    )
    rows = db.session.execute(
        select(per_booking.c.booking_id, per_booking.c.held, Offer.title, OfferSession.starts_at, Booking.days, Booking.status)
        .outerjoin(Booking, Booking.id == per_booking.c.booking_id)
        .outerjoin(Offer, Offer.id == Booking.offer_id)
        .outerjoin(OfferSession, OfferSession.id == Booking.session_id)
        .where(per_booking.c.held > 0)
        .order_by(OfferSession.starts_at.is_(None), OfferSession.starts_at, per_booking.c.booking_id)
    ).all()
    return [
        HeldItem(booking_id=r.booking_id, offer_title=r.title or f"Booking #{r.booking_id}", starts_at=r.starts_at,
                 days=r.days, status=r.status or "", credits=int(r.held))
        for r in rows
    ]


# --- the statement -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementFilters:
    date_from: date | None = None
    date_to: date | None = None
    kinds: tuple[str, ...] = ()

    def __post_init__(self):
        unknown = set(self.kinds) - set(TRANSFER_KINDS)
        if unknown:
            raise Invalid("Choose kinds of transfer from the list.", field="kind")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise Invalid("The end date must be on or after the start date.", field="date_to")


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    transfer_id: int
    created_at: datetime  # local wall-clock time
    kind: str
    amount: int  # + in, - out
    balance_after: int
    description: str
    reversed_by_id: int | None
    reverses_id: int | None

    @property
    def kind_label(self) -> str:
        return TRANSFER_KINDS.get(self.kind, self.kind)

    @property
    def credits_in(self) -> int | None:
        return self.amount if self.amount > 0 else None

    @property
    def credits_out(self) -> int | None:
        return -self.amount if self.amount < 0 else None


@dataclass
class Statement:
    page: Page
    credits_in: int
    credits_out: int
    filters: StatementFilters


def _account_id(organisation_id: int) -> int | None:
    return db.session.scalar(select(Account.id).where(Account.organisation_id == organisation_id))


def _statement_query(account_id: int, filters: StatementFilters):
    # The running balance is taken over the account's whole history first, then filtered,
    # so a line's balance is the real balance after it whatever the filters hide.
    running = (
        select(
            Entry.id.label("entry_id"),
            Entry.transfer_id.label("transfer_id"),
            Entry.amount.label("amount"),
            func.sum(Entry.amount).over(order_by=Entry.id).label("balance_after"),
        )
        .where(Entry.account_id == account_id)
        .subquery()
    )
    conditions = []
    if filters.date_from:
        conditions.append(Transfer.created_at >= _utc_start_of(filters.date_from))
    if filters.date_to:
        conditions.append(Transfer.created_at < _utc_start_of(filters.date_to + timedelta(days=1)))
    if filters.kinds:
        conditions.append(Transfer.kind.in_(filters.kinds))
    return running, conditions


def statement(organisation_id: int, filters: StatementFilters, *, page: int = 1,
              per_page: int = STATEMENT_PER_PAGE) -> Statement:
    account_id = _account_id(organisation_id)
    if account_id is None:
        return Statement(page=Page(items=[], total=0, page=1, per_page=per_page), credits_in=0, credits_out=0,
                         filters=filters)
    running, conditions = _statement_query(account_id, filters)
    total, credits_in, credits_out = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((running.c.amount > 0, running.c.amount), else_=0)), 0),
            func.coalesce(func.sum(case((running.c.amount < 0, -running.c.amount), else_=0)), 0),
        )
        .select_from(running)
        .join(Transfer, Transfer.id == running.c.transfer_id)
        .where(*conditions)
    ).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    lines = _lines(running, conditions, limit=per_page, offset=(page - 1) * per_page) if total else []
    return Statement(page=Page(items=lines, total=total, page=page, per_page=per_page),
                     credits_in=int(credits_in), credits_out=int(credits_out), filters=filters)


def statement_lines(organisation_id: int, filters: StatementFilters) -> list[StatementLine]:
    """Every matching line (for the CSV), newest first like the page."""
    account_id = _account_id(organisation_id)
    if account_id is None:
        return []
    running, conditions = _statement_query(account_id, filters)
    return _lines(running, conditions)


def _lines(running, conditions, *, limit: int | None = None, offset: int = 0) -> list[StatementLine]:
    other = aliased(Account)
    other_org = aliased(Organisation)
    owner = aliased(Organisation)
    reversal = aliased(Transfer)
    other_account_id = case((running.c.amount < 0, Transfer.to_account_id), else_=Transfer.from_account_id)
    query = (
        select(
            running.c.entry_id, running.c.amount, running.c.balance_after,
            Transfer.id, Transfer.kind, Transfer.created_at, Transfer.reason, Transfer.invoice_reference,
            Transfer.reverses_id, Transfer.escrow_owner_id,
            other.kind.label("other_kind"), other_org.name.label("other_name"), owner.name.label("owner_name"),
            Offer.title.label("offer_title"), OfferSession.starts_at.label("session_starts_at"),
            reversal.id.label("reversed_by_id"),
        )
        .select_from(running)
        .join(Transfer, Transfer.id == running.c.transfer_id)
        .join(other, other.id == other_account_id)
        .outerjoin(other_org, other_org.id == other.organisation_id)
        .outerjoin(owner, owner.id == Transfer.escrow_owner_id)
        .outerjoin(Booking, Booking.id == Transfer.booking_id)
        .outerjoin(Offer, Offer.id == Booking.offer_id)
        .outerjoin(OfferSession, OfferSession.id == Booking.session_id)
        .outerjoin(reversal, reversal.reverses_id == Transfer.id)
        .where(*conditions)
        .order_by(running.c.entry_id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        StatementLine(
            entry_id=r.entry_id, transfer_id=r.id, created_at=to_local(r.created_at), kind=r.kind,
            amount=int(r.amount), balance_after=int(r.balance_after), description=_describe(r),
            reversed_by_id=r.reversed_by_id, reverses_id=r.reverses_id,
        )
        for r in db.session.execute(query)
    ]


def _describe(r) -> str:
    parts = []
    if r.offer_title:
        when = f" on {_day(r.session_starts_at)}" if r.session_starts_at else ""
        parts.append(f"{r.offer_title}{when}")
    # Credits arriving from escrow were paid (or forfeited) by the booking school.
    if r.amount > 0 and r.other_kind == ESCROW and r.kind in ("settle", "forfeit") and r.owner_name:
        parts.append(f"from {r.owner_name}")
    if r.other_name and r.other_kind == "organisation":
        parts.append(("to " if r.amount < 0 else "from ") + r.other_name)
    if r.invoice_reference:
        parts.append(f"Invoice {r.invoice_reference}")
    if r.reverses_id:
        parts.append(f"Reverses #{r.reverses_id}")
    if r.reason:
        parts.append(r.reason)
    return " · ".join(parts)


def _day(moment: datetime) -> str:
    # Session times are stored as typed (local wall-clock), so no conversion here.
    return f"{moment.day} {moment:%B %Y}"


# --- take-up, when credits are switched off ----------------------------------------------------


@dataclass(frozen=True)
class TakeUp:
    since: date
    received_made: int
    received_delivered: int
    given_made: int
    given_delivered: int


def take_up(organisation_id: int, today: date) -> TakeUp:
    """Bookings made and delivered this school year, received by the school and given by it."""
    since = _utc_start_of(school_year_start(today))
    received = Booking.organisation_id == organisation_id
    given = Offer.organisation_id == organisation_id
    made = and_(Booking.created_at >= since, Booking.status != "cancelled")
    delivered = and_(Booking.status == "delivered", Booking.delivered_at >= since)

    def count(*conditions):
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    row = db.session.execute(
        select(count(received, made), count(received, delivered), count(given, made), count(given, delivered))
        .select_from(Booking)
        .join(Offer, Offer.id == Booking.offer_id)
        .where(or_(received, given))
    ).one()
    return TakeUp(school_year_start(today), *(int(v) for v in row))


# --- the scheme as a whole ---------------------------------------------------------------------


@dataclass(frozen=True)
class SchemeTotals:
    issued_by_kind: dict[str, int]
    returned_by_kind: dict[str, int]
    in_circulation: int
    in_escrow: int
    in_school_accounts: int
    accounts: int
    transfers: int

    @property
    def issued(self) -> int:
        return sum(self.issued_by_kind.values())

    @property
    def returned(self) -> int:
        return sum(self.returned_by_kind.values())


def scheme_totals() -> SchemeTotals:
    issuance_id = select(Account.id).where(Account.code == ISSUANCE).scalar_subquery()
    issued, returned = {}, {}
    for kind, out_of, into in db.session.execute(
        select(
            Transfer.kind,
            func.sum(case((Transfer.from_account_id == issuance_id, Transfer.amount), else_=0)),
            func.sum(case((Transfer.to_account_id == issuance_id, Transfer.amount), else_=0)),
        )
        .where(or_(Transfer.from_account_id == issuance_id, Transfer.to_account_id == issuance_id))
        .group_by(Transfer.kind)
    ):
        if out_of:
            issued[kind] = int(out_of)
        if into:
            returned[kind] = int(into)
    balances = {kind: (int(total or 0), count) for kind, total, count in db.session.execute(
        select(Account.kind, func.sum(Account.balance), func.count()).group_by(Account.kind)
    )}
    transfers = db.session.scalar(select(func.count()).select_from(Transfer)) or 0
    return SchemeTotals(
        issued_by_kind=issued,
        returned_by_kind=returned,
        in_circulation=-balances.get(ISSUANCE, (0, 0))[0],
        in_escrow=balances.get(ESCROW, (0, 0))[0],
        in_school_accounts=balances.get("organisation", (0, 0))[0],
        accounts=balances.get("organisation", (0, 0))[1],
        transfers=int(transfers),
    )


@dataclass(frozen=True)
class TransferRow:
    transfer: Transfer
    from_name: str
    to_name: str
    actor_name: str | None
    reversed_by_id: int | None

    @property
    def reversible(self) -> bool:
        return self.transfer.kind != "reversal" and self.reversed_by_id is None


def _account_name(code: str, org_name: str | None) -> str:
    if org_name:
        return org_name
    return {ISSUANCE: "Scheme (issuance)", ESCROW: "Escrow"}.get(code, code)


def list_transfers(*, organisation_id: int | None = None, q: str = "", kind: str = "", page: int = 1,
                   per_page: int = TRANSFERS_PER_PAGE) -> Page:
    from_acc, to_acc = aliased(Account), aliased(Account)
    from_org, to_org = aliased(Organisation), aliased(Organisation)
    reversal = aliased(Transfer)
    conditions = []
    if organisation_id:
        conditions.append(or_(from_acc.organisation_id == organisation_id, to_acc.organisation_id == organisation_id,
                              Transfer.escrow_owner_id == organisation_id))
    if q and q.strip():
        conditions.append(or_(from_org.name.icontains(q.strip(), autoescape=True),
                              to_org.name.icontains(q.strip(), autoescape=True)))
    if kind:
        if kind not in TRANSFER_KINDS:
            raise Invalid("Choose a kind of transfer from the list.", field="kind")
        conditions.append(Transfer.kind == kind)

    def joined(query):
        return (
            query.join(from_acc, from_acc.id == Transfer.from_account_id)
            .join(to_acc, to_acc.id == Transfer.to_account_id)
            .outerjoin(from_org, from_org.id == from_acc.organisation_id)
            .outerjoin(to_org, to_org.id == to_acc.organisation_id)
            .where(*conditions)
        )

    total = db.session.scalar(joined(select(func.count()).select_from(Transfer))) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        joined(
            select(Transfer, from_acc.code, from_org.name, to_acc.code, to_org.name, User.name, reversal.id)
            .select_from(Transfer)
        )
        .outerjoin(User, User.id == Transfer.actor_id)
        .outerjoin(reversal, reversal.reverses_id == Transfer.id)
        .order_by(Transfer.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        TransferRow(transfer=t, from_name=_account_name(fc, fn), to_name=_account_name(tc, tn), actor_name=actor,
                    reversed_by_id=rev)
        for t, fc, fn, tc, tn, actor, rev in rows
    ]
    return Page(items=items, total=total, page=page, per_page=per_page)


def transfer_detail(transfer_id: int) -> TransferRow:
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None:
        raise NotFound("That transfer could not be found.")
    accounts = {
        account_id: _account_name(code, name)
        for account_id, code, name in db.session.execute(
            select(Account.id, Account.code, Organisation.name)
            .outerjoin(Organisation, Organisation.id == Account.organisation_id)
            .where(Account.id.in_([transfer.from_account_id, transfer.to_account_id]))
        )
    }
    reversed_by = db.session.scalar(select(Transfer.id).where(Transfer.reverses_id == transfer.id))
    actor = db.session.scalar(select(User.name).where(User.id == transfer.actor_id)) if transfer.actor_id else None
    return TransferRow(transfer=transfer, from_name=accounts[transfer.from_account_id],
                       to_name=accounts[transfer.to_account_id], actor_name=actor, reversed_by_id=reversed_by)


# --- settings ----------------------------------------------------------------------------------


def scheme_settings() -> dict:
    rows = db.session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(list(DEFAULT_SETTINGS)))).all()
    values = dict(DEFAULT_SETTINGS)
    values.update({key: value for key, value in rows})
    return values


@dataclass(frozen=True)
class Band:
    low: int
    high: int | None
    credits: int

    @property
    def label(self) -> str:
        return f"{self.low:,}+ pupils" if self.high is None else f"{self.low:,}–{self.high:,} pupils"

    def contains(self, pupils: int) -> bool:
        return pupils >= self.low and (self.high is None or pupils <= self.high)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_bands(raw) -> list[Band]:
    """Bands in ascending order, not overlapping, credits not negative; only the last may be open-ended."""
    if not isinstance(raw, list) or not raw:
        raise Invalid("Set at least one band.", field="bands")
    if len(raw) > MAX_BANDS:
        raise Invalid(f"Use at most {MAX_BANDS} bands.", field="bands")
    bands = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise Invalid(f"Band {number} needs pupils from, pupils to and credits.", field="bands")
        low, high, credits = item
        if not _whole(low) or not 0 <= low <= MAX_PUPILS:
            raise Invalid(f"Band {number}: ‘pupils from’ must be a whole number from 0 to {MAX_PUPILS:,}.", field="bands")
        if high is not None and (not _whole(high) or not low <= high <= MAX_PUPILS):
            raise Invalid(f"Band {number}: ‘pupils to’ must be at least ‘pupils from’ ({low:,}) and at most {MAX_PUPILS:,}, or blank for no upper limit.", field="bands")
        if not _whole(credits) or not 0 <= credits <= MAX_BAND_CREDITS:
            raise Invalid(f"Band {number}: credits must be a whole number from 0 to {MAX_BAND_CREDITS:,}.", field="bands")
        bands.append(Band(low, high, credits))
    for number, (before, after) in enumerate(zip(bands, bands[1:]), start=2):
        if before.high is None:
            raise Invalid(f"Band {number - 1} has no upper limit, so it must be the last band.", field="bands")
        if after.low <= before.high:
            raise Invalid(f"Band {number} starts at {after.low:,} pupils, inside band {number - 1} "
                          f"(up to {before.high:,}): list bands in ascending order without overlaps.", field="bands")
    return bands


def validate_cap(cap) -> int:
    if not _whole(cap) or not 0 <= cap <= MAX_BAND_CREDITS:
        raise Invalid(f"The cap must be a whole number from 0 to {MAX_BAND_CREDITS:,}.", field="cap")
    return cap


def save_settings(actor: User, *, late_cancellation_policy: str, no_show_policy: str, waitlist_offer_hours: int,
                  allocation: tuple | None = None) -> dict:
    """Store the scheme's settings. Coordinators and admins both may: they run the scheme."""
    if actor is None or not actor.is_coordinator:
        raise NotAllowed("Only coordinators and admins can change the scheme's settings.")
    for name, policy in (("late_cancellation_policy", late_cancellation_policy), ("no_show_policy", no_show_policy)):
        if policy not in POLICIES:
            raise Invalid("Choose one of the listed policies.", field=name)
    if not _whole(waitlist_offer_hours) or not 1 <= waitlist_offer_hours <= MAX_OFFER_HOURS:
        raise Invalid(f"Give between 1 and {MAX_OFFER_HOURS} hours.", field="waitlist_offer_hours")
    new = {
        "late_cancellation_policy": late_cancellation_policy,
        "no_show_policy": no_show_policy,
        "waitlist_offer_hours": waitlist_offer_hours,
    }
    # (bands, cap): only on the form when credits are on; left as they are otherwise.
    if allocation is not None:
        bands, cap = allocation
        new["allocation_bands"] = [[b.low, b.high, b.credits] for b in validate_bands(bands)]
        new["allocation_cap"] = validate_cap(cap)
    current = scheme_settings()
    changed = {key: {"from": current[key], "to": value} for key, value in new.items() if current[key] != value}
    if not changed:
        return current
    rows = {row.key: row for row in db.session.scalars(select(Setting).where(Setting.key.in_(list(changed))))}
    for key in changed:
        if key in rows:
            rows[key].value = new[key]
        else:
            try:
                with db.session.begin_nested():
                    db.session.add(Setting(key=key, value=new[key]))
            except IntegrityError:
                # Saved meanwhile by another coordinator (PostgreSQL): the later save wins.
                db.session.scalar(select(Setting).where(Setting.key == key)).value = new[key]
    audit.record(actor, "settings.changed", object_type="Setting", changed=changed)
    return {**current, **new}


# --- yearly allocation -------------------------------------------------------------------------


def allocation_key(year: str, organisation_id: int) -> str:
    return f"allocation:{year}:{organisation_id}"


@dataclass(frozen=True)
class AllocationRow:
    organisation_id: int
    name: str
    la_name: str | None
    pupils: int | None
    band: Band | None
    credits: int
    capped: bool
    # "new": will be allocated; "done": already allocated this year; "none": nothing to allocate
    status: str
    allocated: int | None = None
    allocated_at: datetime | None = None


@dataclass
class AllocationPreview:
    year: str
    la_code: str | None
    bands: list[Band]
    cap: int
    rows: list[AllocationRow] = field(default_factory=list)

    @property
    def to_post(self) -> list[AllocationRow]:
        return [row for row in self.rows if row.status == "new"]

    @property
    def total(self) -> int:
        return sum(row.credits for row in self.to_post)

    @property
    def already(self) -> list[AllocationRow]:
        return [row for row in self.rows if row.status == "done"]

    @property
    def fingerprint(self) -> str:
        """Stands for exactly what posting would do; a post made from an older preview is refused."""
        text = f"{self.year}|{self.la_code or ''}|" + ";".join(f"{r.organisation_id}={r.credits}" for r in self.to_post)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def credits_for(pupils: int | None, bands: list[Band], cap: int) -> tuple[Band | None, int, bool]:
    if pupils is None:
        return None, 0, False
    band = next((b for b in bands if b.contains(pupils)), None)
    if band is None:
        return None, 0, False
    return band, min(band.credits, cap), band.credits > cap


def allocation_preview(year: str, la_code: str | None = None) -> AllocationPreview:
    year = parse_school_year(year)
    settings = scheme_settings()
    bands, cap = validate_bands(settings["allocation_bands"]), validate_cap(settings["allocation_cap"])
    query = (
        select(Organisation.id, Organisation.name, Organisation.la_name, SchoolProfile.pupils)
        .join(SchoolProfile, SchoolProfile.organisation_id == Organisation.id)
        .where(Organisation.kind == "school", Organisation.is_member.is_(True), SchoolProfile.status != "closed")
        .order_by(Organisation.name, Organisation.id)
    )
    if la_code:
        query = query.where(Organisation.la_code == la_code)
    prefix = f"allocation:{year}:"
    done = {
        key[len(prefix):]: (amount, created_at)
        for key, amount, created_at in db.session.execute(
            select(Transfer.idempotency_key, Transfer.amount, Transfer.created_at)
            .where(Transfer.kind == "allocation", Transfer.idempotency_key.startswith(prefix, autoescape=True))
        )
    }
    preview = AllocationPreview(year=year, la_code=la_code or None, bands=bands, cap=cap)
    for org_id, name, la_name, pupils in db.session.execute(query):
        band, credits, capped = credits_for(pupils, bands, cap)
        if str(org_id) in done:
            amount, created_at = done[str(org_id)]
            status, allocated, allocated_at = "done", amount, to_local(created_at)
        else:
            status, allocated, allocated_at = ("new" if credits > 0 else "none"), None, None
        preview.rows.append(AllocationRow(org_id, name, la_name, pupils, band, credits, capped, status,
                                          allocated, allocated_at))
    return preview


@dataclass(frozen=True)
class AllocationResult:
    year: str
    schools: int
    credits: int
    skipped: int


def post_allocation(actor: User, *, year: str, la_code: str | None, fingerprint: str) -> AllocationResult:
    """Allocate the year's credits to every school in the preview, as one idempotent batch.

    Each school's transfer has the key allocation:<year>:<organisation id>, so posting twice,
    or again after a failure half-way, never allocates a school twice: schools already
    allocated are skipped, and the ledger would refuse a second transfer under the same key.
    """
    if actor is None or not actor.is_coordinator:
        raise NotAllowed("Only coordinators can issue or correct credits.")
    preview = allocation_preview(year, la_code)
    if not preview.to_post:
        return AllocationResult(preview.year, 0, 0, len(preview.already))
    if fingerprint != preview.fingerprint:
        raise Conflict("The figures have changed since you looked at the preview (new schools, pupil numbers, "
                       "bands or allocations made meanwhile). Check the preview again before posting.")
    for row in preview.to_post:
        ledger.issue(actor, kind="allocation", organisation_id=row.organisation_id, amount=row.credits,
                     key=allocation_key(preview.year, row.organisation_id),
                     reason=f"Yearly allocation {preview.year}: {row.pupils:,} pupils ({row.band.label})"
                            + (f", capped at {preview.cap}" if row.capped else ""))
    audit.record(actor, "credits.allocation_batch", object_type="Transfer", year=preview.year,
                 la_code=la_code, schools=len(preview.to_post), credits=preview.total)
    return AllocationResult(preview.year, len(preview.to_post), preview.total, len(preview.already))


# --- one-off tools -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolResult:
    transfers: list[Transfer]
    repeated: bool  # the same form was sent before: nothing new was written

    @property
    def credits(self) -> int:
        return sum(t.amount for t in self.transfers)


def _form_key(tool: str, form_key: str, *parts) -> str:
    if not isinstance(form_key, str) or not FORM_KEY.fullmatch(form_key):
        raise Invalid("This form has expired. Reload the page and try again.", field="request_key")
    return ledger.new_key("form", tool, form_key, *parts)


def _existing(key: str) -> Transfer | None:
    return db.session.scalar(select(Transfer).where(Transfer.idempotency_key == key))


def _amount(amount, *, signed: bool = False) -> int:
    if not _whole(amount):
        raise Invalid("Enter a whole number of credits.", field="amount")
    if amount == 0 or (amount < 0 and not signed):
        raise Invalid("Enter a number of credits above zero." if not signed else
                      "Enter a number of credits to add, or a negative number to take away; not zero.", field="amount")
    if abs(amount) > MAX_TOOL_AMOUNT:
        raise Invalid(f"That is more than {MAX_TOOL_AMOUNT:,} credits: check the figure.", field="amount")
    return amount


def _member(organisation_id) -> Organisation:
    org = db.session.get(Organisation, organisation_id) if _whole(organisation_id) else None
    if org is None or not org.is_member:
        raise Invalid("Choose a school or organisation from the list.", field="organisation")
    return org


def _text(value: str | None, field_name: str, message: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise Invalid(message, field=field_name)
    if len(text) > max_length:
        raise Invalid(f"Use at most {max_length:,} characters.", field=field_name)
    return text


def record_purchase(actor: User, *, organisation_id: int, amount: int, invoice_reference: str, note: str = "",
                    form_key: str) -> ToolResult:
    _require_coordinator(actor)
    key = _form_key("purchase", form_key)
    org = _member(organisation_id)
    amount = _amount(amount)
    invoice = _text(invoice_reference, "invoice_reference", "Enter the invoice reference.", 100)
    existing = _existing(key)
    row = ledger.issue(actor, kind="purchase", organisation_id=org.id, amount=amount, key=key,
                       reason=(note or "").strip()[:500], invoice_reference=invoice)
    return ToolResult([row], repeated=existing is not None)


def grant_seed_credits(actor: User, *, organisation_ids: list[int], amount: int, reason: str,
                       form_key: str) -> ToolResult:
    _require_coordinator(actor)
    _form_key("grant", form_key)
    ids = sorted(set(organisation_ids or []))
    if not ids:
        raise Invalid("Choose at least one school.", field="schools")
    if not all(_whole(i) for i in ids):
        raise Invalid("Choose schools from the list.", field="schools")
    found = set(db.session.scalars(select(Organisation.id).where(Organisation.id.in_(ids), Organisation.is_member.is_(True))))
    if found != set(ids):
        raise Invalid("Some of the chosen schools could not be found. Choose schools from the list.", field="schools")
    amount = _amount(amount)
    reason = _text(reason, "reason", "Say why these schools get seed credits.", 500)
    keys = {org_id: _form_key("grant", form_key, org_id) for org_id in ids}
    repeated = all(_existing(key) is not None for key in keys.values())
    rows = [ledger.issue(actor, kind="grant", organisation_id=org_id, amount=amount, key=key, reason=reason)
            for org_id, key in keys.items()]
    return ToolResult(rows, repeated=repeated)


def adjust(actor: User, *, organisation_id: int, amount: int, reason: str, form_key: str) -> ToolResult:
    _require_coordinator(actor)
    key = _form_key("adjustment", form_key)
    org = _member(organisation_id)
    amount = _amount(amount, signed=True)
    reason = _text(reason, "reason", "Give the reason for the adjustment.", 500)
    existing = _existing(key)
    row = ledger.adjust(actor, organisation_id=org.id, amount=amount, key=key, reason=reason)
    return ToolResult([row], repeated=existing is not None)


def reverse(actor: User, *, transfer_id: int, reason: str, form_key: str) -> ToolResult:
    _require_coordinator(actor)
    key = _form_key("reversal", form_key)
    reason = _text(reason, "reason", "Give the reason for the reversal.", 500)
    existing = _existing(key)
    row = ledger.reverse(actor, transfer_id=transfer_id, key=key, reason=reason)
    return ToolResult([row], repeated=existing is not None)


def _require_coordinator(actor) -> None:
    if actor is None or not getattr(actor, "is_coordinator", False):
        raise NotAllowed("Only coordinators can issue or correct credits.")


def search_schools(q: str = "", la_code: str = "", selected: list[int] | None = None, limit: int = 100):
    """Member organisations for the seed-credit picker: those already ticked, then matches."""
    selected = [i for i in (selected or []) if _whole(i)]
    chosen = list(db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.la_name)
        .where(Organisation.id.in_(selected), Organisation.is_member.is_(True)).order_by(Organisation.name)
    )) if selected else []
    query = select(Organisation.id, Organisation.name, Organisation.la_name).where(Organisation.is_member.is_(True))
    if q.strip():
        query = query.where(Organisation.name.icontains(q.strip(), autoescape=True))
    if la_code:
        query = query.where(Organisation.la_code == la_code)
    if selected:
        query = query.where(Organisation.id.not_in(selected))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    matches = list(db.session.execute(query.order_by(Organisation.name, Organisation.id).limit(limit)))
    return chosen, matches, total
