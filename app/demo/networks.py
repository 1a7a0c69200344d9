"""Networks and memberships: overlapping, dated, and with a few schools left out.

The seeds' point is that a school sits in several groupings at once (a local cluster, an
alliance, a trust, a diocese, a SEND network...) and that the schools in none are the ones
to worry about. So most schools end up in one to three networks, some have left one in the
past, and a handful of small rural primaries are deliberately in none: the isolation view
must find exactly those.
"""
import math
from datetime import date, datetime, time, timedelta

from app.demo.geography import LocalAuthority, Town, distance_m
from app.demo.naming import NameBook
from app.demo.world import Org, World

ISOLATED_SHARE = 0.025  # of an authority's schools; at least two per authority
CLUSTER_MAX = 14  # "core networks of up to 12 schools", a little slack
TSA_SIZE = (12, 35)  # "actual range 12 to 35"
SEND_NETWORK_SIZE = (8, 14)
FEDERATION_REACH = 6_000  # metres between two federated small schools
MAINSTREAM = ("nursery", "primary", "secondary", "all_through")

CLUSTER_NAMES = ("{town} Cluster", "{town} Schools Partnership", "{town} Family of Schools", "{town} Learning Community")
SEND_NAMES = ("{place} SEND Network", "{place} SEN Hub", "{place} Inclusion Network")
STRATEGIC_NAMES = ("{la} Schools Partnership", "{la} Learning Partnership", "{la} Education Partnership")
COMPASS = ("East", "North East", "North", "North West", "West", "South West", "South", "South East")

DESCRIPTIONS = {
    "cluster": "Schools in and around {town} meeting each half term to share practice, moderate work and plan joint CPD.",
    "tsa": "A teaching school alliance led by {lead}: training places, specialist leaders of education and school-to-school support.",
    "mat": "{lead}, a multi-academy trust of {academies} in {la_name}.",
    "diocese": "Church schools supported by {lead}: school improvement, RE and governance advice.",
    "send": "A SEND network led by {lead}: outreach, SENCO meetings and shared training for nearby mainstream schools.",
    "behaviour": "Secondary schools and alternative provision working together on behaviour, attendance and managed moves.",
    "subject_hub": "{lead} works with schools through work groups, specialist teachers and shared resources.",
    "strategic": "The school-led partnership for {la_name}: shared priorities, brokerage of support and an annual conference.",
    "federation": "Two small schools under one governing board and an executive head, sharing staff and expertise.",
}

HUBS = {  # role → (phases reached, share of those schools taking part)
    "maths_hub": (("primary", "secondary", "all_through"), 0.12),
    "english_hub": (("primary",), 0.08),
    "research_school": (("primary", "secondary", "special", "all_through"), 0.06),
}


class Planner:
    """Creates networks and memberships in the world, remembering who is in what."""

    def __init__(self, world: World):
        self.world = world
        self.rng = world.rng
        # Networks have their own name and slug space: a trust's network shares its name.
        self.labels = NameBook(world.rng)
        self.members: dict[int, set[int]] = {}  # network id → organisation ids
        self.founded: dict[int, date] = {}
        self.current: dict[int, int] = {}  # organisation id → current memberships
        self.by_la: dict[str, list[tuple[dict, Org]]] = {}  # la code → (network, lead)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def create(self, kind: str, name: str, la: LocalAuthority | None, lead: Org, members: list[Org], **text) -> dict:
        founded = self.world.anchor - timedelta(days=self.rng.randint(365, 12 * 365))
        name = self.labels.numbered(name)
        network = {
            "id": self.world.next_id("networks"), "name": name, "slug": self.labels.slug(name), "kind": kind,
            "description": DESCRIPTIONS[kind].format(lead=lead.name, la_name=la.name if la else "", **text),
            "la_code": la.code if la else None, "created_at": datetime.combine(founded, time(9)),
        }
        self.world.networks.append(network)
        self.founded[network["id"]] = founded
        self.members[network["id"]] = set()
        if la is not None:
            self.by_la.setdefault(la.code, []).append((network, lead))
        self.join(network, lead, "lead", founded)
        for org in members:
            if org is not lead:
                self.join(network, org, "member", self.world.date_between(founded, self.world.anchor - timedelta(days=30)))
        return network

    def join(self, network: dict, org: Org, role: str, start: date, end: date | None = None) -> None:
        self.world.memberships.append({
            "id": self.world.next_id("memberships"), "network_id": network["id"], "organisation_id": org.id,
            "role": role, "start_date": start, "end_date": end,
        })
        if end is None:
            self.members[network["id"]].add(org.id)
            self.current[org.id] = self.current.get(org.id, 0) + 1


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def add_networks(world: World) -> None:
    planner = Planner(world)
    active_by_la = {}
    for la in world.las:
        schools = world.schools(la)
        _mark_isolated(world, schools)
        active = [s for s in schools if not s.isolated]
        active_by_la[la.code] = active
        for build in (_clusters, _alliances, _trusts, _send_networks, _behaviour, _federations, _strategic):
            build(planner, la, active)
    _dioceses(planner, active_by_la)
    _hubs(planner, active_by_la)
    for la in world.las:
        _connect_stragglers(planner, la, active_by_la[la.code])
        _past_memberships(planner, la, active_by_la[la.code])


def _mark_isolated(world: World, schools: list[Org]) -> None:
    candidates = [s for s in schools if s.school.phase == "primary" and s.school.urban_rural == "rural"
                  and s.school.pupils < 150 and not s.demo]
    count = min(len(candidates), max(2, round(ISOLATED_SHARE * len(schools))))
    for school in world.rng.sample(candidates, count):
        school.isolated = True


def _nearest(origin: Org, candidates: list[Org], k: int) -> list[Org]:
    others = [c for c in candidates if c is not origin]
    return sorted(others, key=lambda c: (distance_m(origin.point, c.point), c.id))[:k]


def _clusters(p: Planner, la: LocalAuthority, schools: list[Org]) -> None:
    style = p.rng.choice(CLUSTER_NAMES)
    for index, town_name in enumerate(la.town_places):
        members = [s for s in schools if s.town == index
                   and (s.demo or p.chance(0.75 if s.school.urban_rural == "urban" else 0.6))]
        if len(members) < 3:
            continue  # too few to meet: these schools are connected to a neighbour later
        groups = _split_by_bearing(members, la.towns[index])
        for group, bearing in groups:
            label = town_name if len(groups) == 1 else f"{town_name} {bearing}"
            lead = max(group, key=lambda s: (s.school.phase == "secondary", s.school.pupils, -s.id))
            p.create("cluster", style.format(town=label), la, lead, group, town=town_name)


def _split_by_bearing(members: list[Org], town: Town) -> list[tuple[list[Org], str]]:
    """Slice a large town's schools like a cake so each cluster is a neighbourhood."""
    count = math.ceil(len(members) / CLUSTER_MAX)

    def bearing(s: Org) -> float:
        return math.atan2(s.northing - town.northing, s.easting - town.easting) % (2 * math.pi)

    ordered = sorted(members, key=lambda s: (bearing(s), s.id))
    size = math.ceil(len(ordered) / count)
    slices = [ordered[i:i + size] for i in range(0, len(ordered), size)]
    return [(group, _compass(sum(bearing(s) for s in group) / len(group))) for group in slices]


def _compass(angle: float) -> str:
    return COMPASS[round(angle / (math.pi / 4)) % 8]


def _alliances(p: Planner, la: LocalAuthority, schools: list[Org]) -> None:
    count = max(1, round(len(schools) / 55))
    leads = [s for s in schools if s.demo and s.school.phase == "secondary"]
    candidates = sorted(
        (s for s in schools if s.school.ofsted_grade in ("Outstanding", "Good") and s.school.pupils >= 200
         and s.school.phase in ("primary", "secondary", "special") and not s.demo),
        key=lambda s: (s.school.ofsted_grade != "Outstanding", -s.school.pupils, s.id),
    )[: count * 4]
    leads += p.rng.sample(candidates, max(0, min(len(candidates), count - len(leads))))
    for lead in leads:
        size = p.rng.randint(*TSA_SIZE)
        nearby = [s for s in _nearest(lead, schools, size * 2) if s.demo or p.chance(0.35)][:size]
        p.create("tsa", f"{lead.place} Teaching School Alliance", la, lead, nearby)


def _trusts(p: Planner, la: LocalAuthority, schools: list[Org]) -> None:
    trusts = p.world.bodies_in("trust", la)
    if not trusts:
        return
    joining = [s for s in schools if s.school.academy and p.chance(0.85)]
    # Each academy joins the nearest trust that still has room, so trusts grow to similar
    # sizes ("70% of MATs run six or fewer schools") instead of one swallowing a town.
    room = math.ceil(1.5 * len(joining) / len(trusts))
    academies: dict[int, list[Org]] = {t.id: [] for t in trusts}
    for school in joining:
        open_trusts = [t for t in trusts if len(academies[t.id]) < room]
        trust = min(open_trusts, key=lambda t: (distance_m(t.point, school.point), t.id))
        academies[trust.id].append(school)
    for trust in trusts:
        members = academies[trust.id]
        p.create("mat", trust.name, la, trust, members, academies=_count(len(members), "academy", "academies"))


def _send_networks(p: Planner, la: LocalAuthority, schools: list[Org]) -> None:
    # West Sussex runs ten SEND networks, "each with a special school leading".
    specials = [s for s in schools if s.school.phase == "special"]
    leads = [s for s in specials if p.chance(0.6)] or specials[:1] or p.world.bodies_in("sen_service", la)[:1]
    mainstream = [s for s in schools if s.school.phase in MAINSTREAM]
    for lead in leads:
        size = p.rng.randint(*SEND_NETWORK_SIZE)
        nearby = [s for s in _nearest(lead, mainstream, size * 2) if p.chance(0.35)][:size]
        p.create("send", p.rng.choice(SEND_NAMES).format(place=lead.place), la, lead, nearby)


def _behaviour(p: Planner, la: LocalAuthority, schools: list[Org]) -> None:
    # Leicestershire's model: a few behaviour partnerships, each with a lead holding the budget.
    secondaries = [s for s in schools if s.school.phase in ("secondary", "all_through")]
    if not secondaries:
        return
    count = max(1, round(len(secondaries) / 9))
    units = [s for s in schools if s.school.phase == "pru"]
    leads = units[:count]
    leads += p.rng.sample(secondaries, count - len(leads))
    groups: dict[int, list[Org]] = {lead.id: [] for lead in leads}
    for school in secondaries + units:
        if school not in leads and p.chance(0.85):
            lead = min(leads, key=lambda l: (distance_m(l.point, school.point), l.id))
            groups[lead.id].append(school)
    for lead in leads:
        p.create("behaviour", f"{lead.place} Behaviour and Attendance Partnership", la, lead, groups[lead.id])


def _federations(p: Planner, la: LocalAuthority, schools: list[Org]) -> None:
    small = [s for s in schools if s.school.phase == "primary" and s.school.urban_rural == "rural"
             and s.school.pupils < 120 and not s.demo]
    federated: set[int] = set()
    for school in small:
        if school.id in federated or not p.chance(0.3):
            continue
        partner = next((o for o in _nearest(school, small, 3)
                        if o.id not in federated and distance_m(o.point, school.point) <= FEDERATION_REACH), None)
        if partner is None:
            continue
        federated.update((school.id, partner.id))
        lead, other = sorted((school, partner), key=lambda s: (-s.school.pupils, s.id))
        p.create("federation", f"{lead.place} and {other.place} Federation", la, lead, [other])


def _strategic(p: Planner, la: LocalAuthority, schools: list[Org]) -> None:
    lead = p.world.bodies_in("improvement_service", la)[0]
    partners = [b for role in ("hub", "sen_service", "governor_service", "trust", "maths_hub", "english_hub",
                               "research_school") for b in p.world.bodies_in(role, la)]
    members = partners + [s for s in schools if s.demo or p.chance(0.2)]
    p.create("strategic", p.rng.choice(STRATEGIC_NAMES).format(la=la.name), la, lead, members)


def _dioceses(p: Planner, active_by_la: dict[str, list[Org]]) -> None:
    for role, faith, pattern in (("ce_diocese", "ce", "Diocese of {place} Schools"),
                                 ("rc_diocese", "rc", "Catholic Diocese of {place} Schools")):
        for body, area in p.world.bodies.get(role, []):
            members = [s for la in area for s in active_by_la[la.code] if s.school.faith == faith and p.chance(0.95)]
            p.create("diocese", pattern.format(place=body.place), _single(area), body, members)


def _hubs(p: Planner, active_by_la: dict[str, list[Org]]) -> None:
    for role, (phases, share) in HUBS.items():
        for body, area in p.world.bodies.get(role, []):
            members = [s for la in area for s in active_by_la[la.code] if s.school.phase in phases and p.chance(share)]
            p.create("subject_hub", body.name, _single(area), body, members)


def _single(area: list[LocalAuthority]) -> LocalAuthority | None:
    """The authority a network belongs to, or None when it spans several."""
    return area[0] if len(area) == 1 else None


def _connect_stragglers(p: Planner, la: LocalAuthority, schools: list[Org]) -> None:
    """Every school that is not meant to be isolated joins the nearest cluster (or the
    authority's partnership), so that the isolated ones are exactly the chosen few."""
    networks = p.by_la.get(la.code, [])
    clusters = [(n, lead) for n, lead in networks if n["kind"] == "cluster"]
    fallback = [(n, lead) for n, lead in networks if n["kind"] == "strategic"]
    for school in schools:
        if p.current.get(school.id):
            continue
        network, _ = min(clusters or fallback, key=lambda pair: (distance_m(pair[1].point, school.point), pair[0]["id"]))
        p.join(network, school, "member", p.world.date_between(p.founded[network["id"]], p.world.anchor - timedelta(days=30)))


def _past_memberships(p: Planner, la: LocalAuthority, schools: list[Org]) -> None:
    """A few schools left a network they once belonged to: memberships have end dates."""
    local = [n for n, _ in p.by_la.get(la.code, []) if n["kind"] in ("cluster", "tsa", "send", "behaviour")]
    for school in schools:
        if not local or not p.chance(0.05):
            continue
        options = [n for n in local if school.id not in p.members[n["id"]]]
        if not options:
            continue
        network = p.rng.choice(options)
        founded = p.founded[network["id"]]
        start = p.world.date_between(founded, max(founded, p.world.anchor - timedelta(days=400)))
        end = p.world.date_between(start + timedelta(days=180), p.world.anchor - timedelta(days=60))
        p.join(network, school, "member", start, max(end, start + timedelta(days=1)))
