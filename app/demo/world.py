"""The demo world being built: plain records and row lists, before anything touches the database.

Generators append to a World in a fixed order, drawing only from its Random, so one seed
and anchor always give the same rows with the same ids. Rows are dicts ready for a bulk insert.
"""
import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.demo.geography import PARTNERSHIP_SCHOOLS, LocalAuthority
from app.demo.naming import NameBook
from app.demo.schoolyear import monday_of, terms_starting_after

# Every date in the demo is measured from an anchor day (by default the Monday of the week
# it is loaded), never from the clock: the same seed and anchor give the same rows.
HISTORY_DAYS = 365
# Sessions to come start the week after the anchor's, so none is already past while the
# demo is loaded and used in the anchor's week.
FIRST_SESSION_AFTER = timedelta(days=7)
# When the partnership began to use Waymark: before every dated row of the demo.
LAUNCHED_BEFORE = timedelta(days=3 * 365)


def default_anchor(today: date) -> date:
    return monday_of(today)


@dataclass(slots=True)
class SchoolFacts:
    urn: int
    phase: str
    variant: str  # "infant", "junior" or the phase: names and age ranges differ
    school_type: str
    pupils: int
    ofsted_grade: str
    urban_rural: str
    faith: str | None  # "ce", "rc" or None
    academy: bool


@dataclass(slots=True, eq=False)  # identity semantics: one record per organisation
class Org:
    id: int
    kind: str
    name: str
    slug: str
    la: LocalAuthority
    town: int  # index into la.towns
    place: str  # the invented locality its name and address use
    easting: int
    northing: int
    postcode: str
    address: str
    phone: str
    domain: str  # invented email/web domain under .test
    summary: str
    school: SchoolFacts | None = None
    demo: bool = False  # one of the contract's demo schools
    isolated: bool = False  # deliberately in no network (the isolation view finds these)

    @property
    def point(self) -> tuple[int, int]:
        return self.easting, self.northing

    def row(self, created_at: datetime) -> dict:
        return {
            "id": self.id, "kind": self.kind, "name": self.name, "slug": self.slug,
            "summary": self.summary, "website": f"https://www.{self.domain}", "email": f"office@{self.domain}",
            "phone": self.phone, "address": self.address, "postcode": self.postcode,
            "easting": self.easting, "northing": self.northing, "la_code": self.la.code,
            "la_name": self.la.name, "is_member": True, "created_at": created_at, "updated_at": created_at,
        }

    def profile_row(self) -> dict:
        s = self.school
        return {
            "organisation_id": self.id, "urn": s.urn, "phase": s.phase, "school_type": s.school_type,
            "pupils": s.pupils, "ofsted_grade": s.ofsted_grade, "urban_rural": s.urban_rural, "status": "open",
        }


@dataclass(frozen=True)
class TaxonomyIds:
    """Database ids of the seeded taxonomy, which the demo's rows refer to."""
    designations: dict[str, int]  # code → id
    specialisms: dict[str, int]  # slug → id
    categories: dict[str, int]  # slug → id
    terms: dict[tuple[str, str], int]  # (facet, slug) → id


@dataclass(frozen=True)
class Scale:
    name: str
    # How many neighbouring authorities one body of each kind serves.
    area_group: dict[str, int]
    providers: int


SCALES = {
    "partnership": Scale("partnership", {"hub": 1, "ce_diocese": 1, "rc_diocese": 3, "maths_hub": 3,
                                         "english_hub": 3, "research_school": 3}, providers=2),
    "national": Scale("national", {"hub": 2, "ce_diocese": 3, "rc_diocese": 6, "maths_hub": 4,
                                   "english_hub": 4, "research_school": 5}, providers=40),
}


@dataclass
class World:
    scale: Scale
    rng: random.Random
    names: NameBook
    anchor: date
    las: list[LocalAuthority] = field(default_factory=list)
    orgs: list[Org] = field(default_factory=list)
    # Bodies by role, for the generators that attach schools to them.
    bodies: dict[str, list[tuple[Org, list[LocalAuthority]]]] = field(default_factory=dict)
    networks: list[dict] = field(default_factory=list)
    memberships: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    expert_profiles: list[dict] = field(default_factory=list)
    expert_designations: list[dict] = field(default_factory=list)
    expert_specialisms: list[dict] = field(default_factory=list)
    offers: list[dict] = field(default_factory=list)
    offer_terms: list[dict] = field(default_factory=list)
    offer_sessions: list[dict] = field(default_factory=list)
    support_requests: list[dict] = field(default_factory=list)
    request_terms: list[dict] = field(default_factory=list)
    request_responses: list[dict] = field(default_factory=list)
    brokerages: list[dict] = field(default_factory=list)
    # The demo accounts' organisations, by role in the contract ("primary", "secondary", "coordinator").
    demo_orgs: dict[str, Org] = field(default_factory=dict)
    _ids: dict[str, itertools.count] = field(default_factory=dict)
    _schools_by_la: dict[str, list[Org]] = field(default_factory=dict)

    # --- dates, all from the anchor -------------------------------------------------------

    @property
    def anchor_at(self) -> datetime:
        """The demo's "now": 08:00 on the anchor day. Everything that has happened is before it."""
        return datetime.combine(self.anchor, time(8, 0))

    @property
    def launched_at(self) -> datetime:
        return self.anchor_at - LAUNCHED_BEFORE

    @property
    def sessions_from(self) -> date:
        return self.anchor + FIRST_SESSION_AFTER

    @property
    def sessions_until(self) -> date:
        """The end of the second term that starts after the anchor."""
        return terms_starting_after(self.anchor, 2)[-1].end

    @property
    def next_term_starts(self) -> date:
        return terms_starting_after(self.anchor, 1)[0].start

    @property
    def history_from(self) -> date:
        return self.anchor - timedelta(days=HISTORY_DAYS)

    @property
    def history_la_codes(self) -> frozenset[str]:
        """Where the year of take-up and credits is played (app.demo.history): the whole
        partnership, or at national scale the partnership's three authorities only, since the
        services take a few milliseconds a step and 22,000 schools' year would take minutes."""
        if self.scale.name == "partnership":
            return frozenset(la.code for la in self.las)
        return frozenset(PARTNERSHIP_SCHOOLS)

    def next_id(self, table: str) -> int:
        return next(self._ids.setdefault(table, itertools.count(1)))

    def add_school(self, org: Org) -> None:
        self.orgs.append(org)
        self._schools_by_la.setdefault(org.la.code, []).append(org)

    def schools(self, la: LocalAuthority | None = None) -> list[Org]:
        if la is not None:
            return list(self._schools_by_la.get(la.code, []))
        return [s for schools in self._schools_by_la.values() for s in schools]

    def add_body(self, role: str, org: Org, area: list[LocalAuthority]) -> None:
        self.orgs.append(org)
        self.bodies.setdefault(role, []).append((org, area))

    def bodies_in(self, role: str, la: LocalAuthority) -> list[Org]:
        return [org for org, area in self.bodies.get(role, []) if la in area]

    def date_between(self, start: date, end: date) -> date:
        """A day in [start, end], on the first of its month as most joining dates are."""
        span = max((end - start).days, 0)
        day = start + timedelta(days=self.rng.randint(0, span))
        return max(start, day.replace(day=1))

    def tables(self) -> list[tuple[str, list[dict]]]:
        """Row lists in foreign-key order."""
        return [
            ("organisations", [o.row(self.launched_at) for o in self.orgs]),
            ("school_profiles", [o.profile_row() for o in self.orgs if o.school is not None]),
            ("networks", self.networks),
            ("memberships", self.memberships),
            ("users", self.users),
            ("expert_profiles", self.expert_profiles),
            ("expert_designations", self.expert_designations),
            ("expert_specialisms", self.expert_specialisms),
            ("offers", self.offers),
            ("offer_terms", self.offer_terms),
            ("offer_sessions", self.offer_sessions),
            ("support_requests", self.support_requests),
            ("request_terms", self.request_terms),
            ("request_responses", self.request_responses),
            ("brokerages", self.brokerages),
        ]
