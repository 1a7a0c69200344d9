"""Loading the demo: refuse a database that has data, build the world, bulk-insert it.

Rows go in with explicit ids through ORM bulk INSERT (one executemany per batch), never as
ORM objects: the national scale is tens of thousands of rows per table and must take
seconds. The caller owns the transaction (and commits once).
"""
import contextlib
import random
import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.demo.bodies import add_bodies
from app.demo.geography import name_towns, national_las, partnership_las
from app.demo.history import HistoryReport, play_history, plan_history
from app.demo.naming import NameBook
from app.demo.networks import add_networks
from app.demo.offers import add_offers
from app.demo.people import DEMO_ACCOUNTS, DEMO_PASSWORD, add_people
from app.demo.requests import add_requests
from app.demo.schools import add_schools
from app.demo.world import SCALES, TaxonomyIds, World, default_anchor
from app.extensions import db
from app.models import (
    Brokerage, Category, Designation, ExpertProfile, FacetTerm, Membership, Network, Offer, OfferSession, Organisation,
    RequestResponse, SchoolProfile, Specialism, SupportRequest, User,
)
from app.models.offers import offer_terms
from app.models.people import expert_designations, expert_specialisms
from app.models.base import utcnow
from app.models.requests import request_terms
from app.services.passwords import hash_password
from app.services.taxonomy import seed_taxonomy

TARGETS = {
    "organisations": Organisation,
    "school_profiles": SchoolProfile,
    "networks": Network,
    "memberships": Membership,
    "users": User,
    "expert_profiles": ExpertProfile,
    "expert_designations": expert_designations,
    "expert_specialisms": expert_specialisms,
    "offers": Offer,
    "offer_terms": offer_terms,
    "offer_sessions": OfferSession,
    "support_requests": SupportRequest,
    "request_terms": request_terms,
    "request_responses": RequestResponse,
    "brokerages": Brokerage,
}
# Tables whose rows the demo numbers itself: PostgreSQL's sequences must be moved past them.
NUMBERED_TABLES = ("organisations", "networks", "memberships", "users", "expert_profiles", "offers",
                   "offer_sessions", "support_requests", "request_responses", "brokerages")
# Tables that must be empty: the demo's explicit ids start at 1.
MUST_BE_EMPTY = {"organisations": Organisation, "users": User, "networks": Network}
BATCH_SIZE = 5_000


class DemoError(Exception):
    """The demo cannot be loaded here; the message says why and what to do."""


class DatabaseNotEmpty(DemoError):
    def __init__(self, counts: dict[str, int]):
        self.counts = counts
        found = ", ".join(f"{n} {table}" for table, n in counts.items())
        super().__init__(
            f"The database already has data ({found}). The demo only loads into an empty "
            "database, so nothing was written. Point DATABASE_URL at a new database (or remove "
            "instance/app.sqlite and run `flask db upgrade`) and try again."
        )


@dataclass
class DemoReport:
    scale: str
    seed: int
    anchor: date
    counts: dict[str, int]
    timings: list[tuple[str, float]] = field(default_factory=list)
    local_authorities: int = 0
    schools: int = 0
    isolated_schools: int = 0
    demo_organisations: dict[str, str] = field(default_factory=dict)
    history: HistoryReport | None = None

    @property
    def total_seconds(self) -> float:
        return sum(seconds for _, seconds in self.timings)


class Stopwatch:
    def __init__(self):
        self.laps: list[tuple[str, float]] = []

    @contextlib.contextmanager
    def lap(self, label: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.laps.append((label, time.perf_counter() - start))


def existing_rows() -> dict[str, int]:
    """Row counts of the tables the demo needs empty, leaving out the empty ones."""
    try:
        counts = {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in MUST_BE_EMPTY.items()}
    except (OperationalError, ProgrammingError) as error:
        raise DemoError("The database has no tables yet: run `flask db upgrade` first.") from error
    return {name: n for name, n in counts.items() if n}


def load_demo(scale: str = "partnership", seed: int = 1, anchor: date | None = None,
              authorities: int | None = None) -> DemoReport:
    """Load the demo into the current session's database. Raises DemoError (nothing written).

    Every date is measured from the anchor (default: the Monday of this week, UTC): a year of
    history before it, sessions over the next two terms after it. The same seed and anchor
    always give the same rows. authorities keeps only the first few local authorities of the
    scale: a quick sample of the national code paths for tests, not something `flask demo` offers.
    """
    anchor = anchor or default_anchor(utcnow().date())
    if scale not in SCALES:
        raise DemoError(f"Unknown scale {scale!r}: choose one of {', '.join(SCALES)}.")
    found = existing_rows()
    if found:
        raise DatabaseNotEmpty(found)
    clock = Stopwatch()
    with clock.lap("taxonomy"):
        seed_taxonomy()
        taxonomy = taxonomy_ids()
    with clock.lap("hash demo password"):
        password_hash = hash_password(DEMO_PASSWORD)
    world = build_world(scale, seed, password_hash, taxonomy, clock, authorities, anchor=anchor)
    with clock.lap("plan a year of history"):
        history = plan_history(world, taxonomy)
    counts = {}
    for table, rows in world.tables():
        with clock.lap(f"insert {table}"):
            _bulk_insert(TARGETS[table], rows)
        counts[table] = len(rows)
    _move_sequences_past_demo_ids()
    with clock.lap("play the history through the services"):
        played = play_history(history)
    return DemoReport(
        scale=scale, seed=seed, anchor=anchor, counts=counts, timings=clock.laps, local_authorities=len(world.las),
        schools=len(world.schools()), isolated_schools=sum(1 for s in world.schools() if s.isolated),
        demo_organisations={role: org.name for role, org in world.demo_orgs.items()}, history=played,
    )


def taxonomy_ids() -> TaxonomyIds:
    return TaxonomyIds(
        designations=dict(db.session.execute(select(Designation.code, Designation.id)).tuples().all()),
        specialisms=dict(db.session.execute(select(Specialism.slug, Specialism.id)).tuples().all()),
        categories=dict(db.session.execute(select(Category.slug, Category.id)).tuples().all()),
        terms={(facet, slug): id_ for facet, slug, id_ in db.session.execute(
            select(FacetTerm.facet, FacetTerm.slug, FacetTerm.id)).tuples()},
    )


def build_world(scale: str, seed: int, password_hash: str, taxonomy: TaxonomyIds,
                clock: Stopwatch | None = None, authorities: int | None = None, *, anchor: date) -> World:
    """Generate every row in memory. Deterministic: one Random, seeded, drawn in a fixed order,
    and dates measured from the anchor."""
    clock = clock or Stopwatch()
    rng = random.Random(seed)
    names = NameBook(rng)
    world = World(SCALES[scale], rng, names, anchor)
    with clock.lap("generate places"):
        world.las = national_las(rng, names) if scale == "national" else partnership_las()
        world.las = world.las[:authorities]
        name_towns(world.las, names)
    with clock.lap("generate schools"):
        add_schools(world)
    with clock.lap("generate other organisations"):
        add_bodies(world)
    with clock.lap("generate networks"):
        add_networks(world)
    with clock.lap("generate people"):
        add_people(world, password_hash, taxonomy.designations, taxonomy.specialisms)
    with clock.lap("generate offers and sessions"):
        add_offers(world, taxonomy)
    with clock.lap("generate support requests"):
        add_requests(world, taxonomy)
    return world


def _bulk_insert(target, rows: list[dict]) -> None:
    statement = insert(target)
    # render_nulls keeps None values in the statement: otherwise the ORM drops them, rows
    # with and without a NULL get different column lists, and every change of list splits
    # the executemany (measured: 47,000 statements instead of a few dozen at national scale).
    options = {"render_nulls": True}
    for start in range(0, len(rows), BATCH_SIZE):
        db.session.execute(statement, rows[start:start + BATCH_SIZE], execution_options=options)


def _move_sequences_past_demo_ids() -> None:
    """Explicit ids do not advance PostgreSQL sequences; without this the next insert clashes."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in NUMBERED_TABLES:
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        ))


def demo_logins() -> list[tuple[str, str, str | None]]:
    """(email, what it is, key of its organisation in DemoReport.demo_organisations)."""
    return [(account.email, account.description, account.org) for account in DEMO_ACCOUNTS]
