"""Demo support requests: schools asking for help, providers answering, coordinators brokering.

Schools that ask are more often small, isolated or recently judged to need improvement.
Sensitive needs are posted for coordinators only, and only coordinators broker those:
providers never see them, so they never respond to them.
"""
import itertools
from datetime import datetime, timedelta

from app.demo.offers import Staff, before, demo_user, staff_by_org, weighted, working_moment
from app.demo.request_texts import (
    BROKERAGE_NOTES, NEEDS, OUTCOME_NOTES, RESPONSE_MESSAGES, RESPONSE_MESSAGES_WITHOUT_OFFER, Need,
)
from app.demo.schools import DEMO_LA_CODE
from app.demo.world import Org, TaxonomyIds, World
from app.services.taxonomy import CATEGORY_TREE, PHASE_FACET_FOR_SCHOOL_PHASE

REQUESTS_PER_SCHOOL = 0.13
STATUS_MIX = {"published": 68, "draft": 13, "closed": 19}
COORDINATORS_ONLY_SHARE = 0.06  # of needs that are not sensitive in themselves
OUTCOME_MIX = {"met_by_offer": 45, "met_elsewhere": 20, "no_longer_needed": 20, "not_met": 15}
RESPONDED_SHARE = 0.4
BROKERED_SHARE = {"partnership": 0.15, "coordinators": 0.5}

# The demo schools' requests: (school, need title, status, visibility, author login).
DEMO_REQUESTS = (
    ("primary", "Speech and language support in Key Stage 1", "published", "partnership", "teacher"),
    ("primary", "Science subject leadership for a new lead", "draft", "partnership", "teacher"),
    ("primary", "Year 6 writing moderation partner", "closed", "partnership", "lead"),
    ("secondary", "Persistent absence in Year 9", "published", "coordinators", "lead2"),
)

PARENT = {child.slug: top.slug for top in CATEGORY_TREE for child in top.children}


def add_requests(world: World, taxonomy: TaxonomyIds) -> None:
    RequestBuilder(world, taxonomy).build()


class RequestBuilder:
    def __init__(self, world: World, taxonomy: TaxonomyIds):
        self.world = world
        self.rng = world.rng
        self.taxonomy = taxonomy
        self.staff = staff_by_org(world)
        self.orgs = {org.id: org for org in world.orgs}
        self.users = {user["id"]: user for user in world.users}
        self.partnership_coordinator = demo_user(world, "coordinator")
        self.needs_by_title = {need.title: need for need in NEEDS}
        # Published offers by category, and by category and authority, to answer with.
        # Rows keep world order: deterministic.
        self.offers_by_category: dict[int, list[dict]] = {}
        self.local_offers: dict[tuple[int, str], list[dict]] = {}
        for offer in world.offers:
            if offer["status"] == "published":
                la_code = self.orgs[offer["organisation_id"]].la.code
                self.offers_by_category.setdefault(offer["category_id"], []).append(offer)
                self.local_offers.setdefault((offer["category_id"], la_code), []).append(offer)
        # Each offer's phase and subject terms: an answer must suit the school that asked.
        facet_of = {term_id: pair for pair, term_id in taxonomy.terms.items()}
        self.offer_terms: dict[int, set[tuple[str, str]]] = {}
        for row in world.offer_terms:
            pair = facet_of[row["term_id"]]
            if pair[0] in ("phase", "subject"):
                self.offer_terms.setdefault(row["offer_id"], set()).add(pair)
        categories = taxonomy.categories
        self.siblings = {categories[slug]: [categories[s] for s, top in PARENT.items() if top == PARENT[slug]]
                         for slug in PARENT}
        self.coordinators = {}
        for role_org, _ in world.bodies.get("improvement_service", []):
            lead = self.staff.get(role_org.id, Staff()).lead
            self.coordinators[role_org.la.code] = lead

    def build(self) -> None:
        for school_role, title, status, visibility, login in DEMO_REQUESTS:
            school = self.world.demo_orgs[school_role]
            self.add_request(school, self.needs_by_title[title], status=status, visibility=visibility,
                             author=demo_user(self.world, login), demo=True)
        schools = [s for s in self.world.schools() if not s.demo]
        asked: set[tuple[int, str]] = set()
        times_asked: dict[str, int] = {}
        weights = itertools.accumulate(_asking_weight(s) for s in schools)
        count = round(REQUESTS_PER_SCHOOL * len(self.world.schools()))
        # One draw of all the askers: cumulative weights keep it fast at national scale.
        for school in self.rng.choices(schools, cum_weights=list(weights), k=count):
            needs = [n for n in NEEDS if school.school.phase in n.phases and (school.id, n.title) not in asked]
            if not needs:
                continue
            # Most needs are shared openly (the sensitive ones are the minority), and a need
            # already asked is less likely again, so that the list reads varied.
            weights = [(0.6 if n.sensitive else 1.0) / (1 + times_asked.get(n.title, 0)) for n in needs]
            need = self.rng.choices(needs, weights=weights)[0]
            asked.add((school.id, need.title))
            times_asked[need.title] = times_asked.get(need.title, 0) + 1
            self.add_request(school, need)

    def add_request(self, school: Org, need: Need, status: str | None = None, visibility: str | None = None,
                    author: dict | None = None, demo: bool = False) -> None:
        rng, world = self.rng, self.world
        status = status or weighted(rng, STATUS_MIX)
        if visibility is None:
            visibility = "coordinators" if need.sensitive or rng.random() < COORDINATORS_ONLY_SHARE else "partnership"
        staff = self.staff.get(school.id, Staff())
        lead = staff.lead
        if author is None:
            # Teachers draft; the lead publishes (or writes it themselves).
            author = rng.choice(staff.teachers) if staff.teachers and rng.random() < 0.6 else lead
        urgency = weighted(rng, {"low": 10, "medium": 40, "high": 50} if need.sensitive
                            else {"low": 30, "medium": 50, "high": 20})
        request_id = world.next_id("support_requests")
        dates = self._dates(status)
        outcome = weighted(rng, OUTCOME_MIX) if status == "closed" else None
        if demo and status == "closed":
            outcome = "met_by_offer"
        world.support_requests.append({
            "id": request_id, "organisation_id": school.id, "created_by_id": author["id"] if author else None,
            "title": need.title, "description": need.description.format(school=school.name),
            "category_id": self.taxonomy.categories[need.category], "urgency": urgency,
            "visibility": visibility, "status": status,
            "published_by_id": lead["id"] if lead and status != "draft" else None,
            "outcome": outcome, "outcome_note": rng.choice(OUTCOME_NOTES[outcome]) if outcome else None,
            **dates,
        })
        self._add_terms(request_id, school, need)
        if status == "draft":
            return
        answered = demo or rng.random() < RESPONDED_SHARE
        if visibility == "partnership" and answered:
            responders: set[int] = set()
            for _ in range(1 if demo else rng.choice((1, 1, 2))):
                responder = self._add_response(request_id, school, need, dates, frozenset(responders), demo)
                if responder is not None:
                    responders.add(responder)
        if demo or rng.random() < BROKERED_SHARE[visibility]:
            self._add_brokerage(request_id, school, need, dates)

    def _dates(self, status: str) -> dict:
        rng, anchor, anchor_at = self.rng, self.world.anchor, self.world.anchor_at
        if status == "draft":
            created = working_moment(rng, anchor - timedelta(days=rng.randint(1, 30)))
            return {"created_at": created, "updated_at": created, "published_at": None, "closed_at": None}
        if status == "closed":
            published = working_moment(rng, anchor - timedelta(days=rng.randint(90, 330)))
            closed = min(published + timedelta(days=rng.randint(20, 80), hours=rng.randint(1, 6)),
                         anchor_at - timedelta(days=1))
        else:
            published = working_moment(rng, anchor - timedelta(days=rng.randint(3, 120)))
            closed = None
        created = before(rng, published, days=10)
        return {"created_at": created, "updated_at": closed or published, "published_at": published,
                "closed_at": closed}

    def _add_terms(self, request_id: int, school: Org, need: Need) -> None:
        rng, ids = self.rng, self.taxonomy.terms
        wanted = [("phase", PHASE_FACET_FOR_SCHOOL_PHASE[school.school.phase])]
        wanted += [("audience", a) for a in need.audiences[:rng.randint(1, 2)]]
        wanted += [("format", f) for f in need.formats[:1]]
        wanted += [("subject", s) for s in need.subjects]
        for term_id in dict.fromkeys(ids[pair] for pair in wanted):
            self.world.request_terms.append({"request_id": request_id, "term_id": term_id})

    def _offer_for(self, school: Org, need: Need, exclude: frozenset[int] = frozenset()) -> dict | None:
        """A published offer for the school's phase (and the need's subjects) in the need's
        category, or failing that in its parent's, from another organisation, nearby when
        possible."""
        category = self.taxonomy.categories[need.category]
        phase = ("phase", PHASE_FACET_FOR_SCHOOL_PHASE[school.school.phase])
        subjects = {("subject", s) for s in need.subjects}
        for categories in ((category,), self.siblings[category]):
            for index in ("local", "anywhere"):
                pool = [o for c in categories for o in self._offers(index, c, school.la.code)
                        if o["organisation_id"] != school.id and o["organisation_id"] not in exclude
                        and phase in self.offer_terms.get(o["id"], ())
                        and (not subjects or subjects & self.offer_terms[o["id"]])]
                if pool:
                    return self.rng.choice(pool)
        return None

    def _offers(self, index: str, category: int, la_code: str) -> list[dict]:
        if index == "local":
            return self.local_offers.get((category, la_code), [])
        return self.offers_by_category.get(category, [])

    def _moment_after(self, dates: dict, low: int, high: int) -> datetime:
        """A working-hours moment some days after publication, before closing (or the anchor)."""
        published, end = dates["published_at"], dates["closed_at"] or self.world.anchor_at
        moment = working_moment(self.rng, published.date() + timedelta(days=self.rng.randint(low, high)))
        return max(min(moment, end - timedelta(hours=1)), published + timedelta(minutes=30))

    def _add_response(self, request_id: int, school: Org, need: Need, dates: dict, exclude: frozenset[int],
                      demo: bool) -> int | None:
        rng, world = self.rng, self.world
        offer = self._offer_for(school, need, exclude)
        if offer is None:
            return None
        provider = self.orgs[offer["organisation_id"]]
        staff = self.staff.get(provider.id, Staff())
        author = self.users.get(offer["contact_user_id"]) or staff.lead
        with_offer = demo or rng.random() < 0.75
        if with_offer:
            first = author["name"].split(" ")[0] if author else "our lead"
            message = rng.choice(RESPONSE_MESSAGES).format(offer=offer["title"], school=school.name, contact_first=first)
        else:
            role = (author or {}).get("job_title") or "head"
            message = rng.choice(RESPONSE_MESSAGES_WITHOUT_OFFER).format(role=role[0].lower() + role[1:])
        world.request_responses.append({
            "id": world.next_id("request_responses"), "request_id": request_id, "organisation_id": provider.id,
            "author_id": author["id"] if author else None, "offer_id": offer["id"] if with_offer else None,
            "message": message, "created_at": self._moment_after(dates, 1, 14),
        })
        return provider.id

    def _add_brokerage(self, request_id: int, school: Org, need: Need, dates: dict) -> None:
        rng, world = self.rng, self.world
        offer = self._offer_for(school, need)
        if offer is None:
            return
        provider = self.orgs[offer["organisation_id"]]
        # The partnership's coordinator brokers across its three counties; at national
        # scale each authority's improvement service does, and she does Gloucestershire.
        if world.scale.name == "partnership" or school.la.code == DEMO_LA_CODE:
            coordinator = self.partnership_coordinator
        else:
            coordinator = self.coordinators.get(school.la.code)
        world.brokerages.append({
            "id": world.next_id("brokerages"), "request_id": request_id,
            "coordinator_id": coordinator["id"] if coordinator else None,
            "provider_organisation_id": provider.id,
            "offer_id": offer["id"] if rng.random() < 0.6 else None,
            "note": rng.choice(BROKERAGE_NOTES).format(provider=provider.name),
            "created_at": self._moment_after(dates, 2, 20),
        })


def _asking_weight(school: Org) -> float:
    facts = school.school
    weight = 1.0
    if facts.ofsted_grade in ("Requires improvement", "Inadequate"):
        weight *= 3
    if facts.pupils < 150:
        weight *= 1.5
    if school.isolated:
        weight *= 2
    return weight
