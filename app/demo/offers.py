"""Demo offers and their sessions: what every organisation makes available, over two terms.

Most schools offer one thing or nothing; alliance leads, hubs, trusts and LA services offer
many (the seeds' picture of who gives support). Each offer comes from a theme in
offer_texts, fitted to its provider's phase, and sessions fall on school days from the week
after the anchor to the end of the second term that starts after it; some published offers
also ran in the year before it (their take-up is app.demo.history). A few offers are
deliberately stale (not assured for a year).
"""
import bisect
import itertools
import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.demo.offer_texts import (
    BOOKING_MODE, CANCELLED_NOTES, DELIVERY, EVENING_TEXT, FORMAT_TEXT, HYBRID_TEXT, LIST_HEADINGS, NOTES,
    ONLINE_TEXT, PROVIDER_TEXT, THEMES, Theme, Title,
)
from app.demo.people import DEMO_DOMAIN
from app.demo.schoolyear import is_school_day, school_days
from app.demo.world import Org, TaxonomyIds, World
from app.models.offers import STALE_AFTER_DAYS

STATUS_MIX = {"published": 84, "draft": 7, "paused": 4, "archived": 5}
STALE_SHARE = 0.09  # of published offers: assured more than a year before the anchor

# Offers per organisation that is not a school, by its role in World.bodies.
BODY_OFFERS = {
    "sen_service": (5, 12), "governor_service": (5, 10), "improvement_service": (6, 14), "hub": (8, 15),
    "trust": (2, 7), "ce_diocese": (4, 9), "rc_diocese": (3, 7), "maths_hub": (5, 10), "english_hub": (4, 8),
    "research_school": (6, 12), "provider": (4, 10),
}
# What a provider's name says it does: "Northlight Data Services" → data_firm.
PROVIDER_NOUN_TAGS = {
    "Governance Services": "governance_firm", "Data Services": "data_firm", "Inclusion Consultancy": "inclusion_firm",
    "School Business Services": "business_firm", "Teacher Development": "teacher_dev", "Leadership": "leadership_firm",
    "Education": "consultancy", "Learning": "consultancy",
}
# Pupils at which a school counts as large for its phase (it offers more).
TYPICAL_PUPILS = {"primary": 210, "secondary": 900, "all_through": 1100, "special": 100, "pru": 40, "nursery": 80}
# A special school offers these to mainstream schools too (outreach).
OUTREACH = {"send-outreach", "senco-support", "behaviour-support", "pupil-mental-health", "peer-review"}

SESSION_COUNTS = {"twilight-session": (1, 1, 2, 3, 3, 4, 6, 6), "course": (1, 1, 1, 2, 2, 3),
                  "network": (2, 3, 3, 4, 5, 6)}
# Days between the sessions of a series.
INTERVALS = {"twilight-session": (7, 7, 14), "course": (14, 21, 28, 35), "network": (35, 42, 42, 49)}
PLACES = {"twilight-session": (12, 40), "course": (10, 30), "network": (8, 30)}
# time of day → (start, end) choices; online twilights are shorter.
SESSION_TIMES = {
    "twilight": ((time(15, 45), time(17, 15)),),
    "online-twilight": ((time(16, 0), time(17, 0)), (time(15, 45), time(17, 0))),
    "full-day": ((time(9, 0), time(15, 30)), (time(9, 30), time(15, 30))),
    "morning": ((time(9, 0), time(12, 0)), (time(9, 30), time(12, 30))),
    "afternoon": ((time(13, 0), time(15, 30)), (time(13, 30), time(16, 0))),
    "evening": ((time(18, 30), time(20, 30)), (time(19, 0), time(21, 0))),
}
CANCELLED_SHARE = 0.03
# Published offers (with dates) that also ran in the year before the anchor: their take-up
# is the demo's history (app.demo.history). The demo schools' offers always did.
PAST_RUN_SHARE = 0.15
LINK_LETTERS = string.ascii_lowercase + string.digits

# The demo schools' own offers: (category, title, contact login, status). Fixed, so the
# demo journeys read the same with every seed.
DEMO_OFFERS = {
    "primary": (
        ("early-reading-phonics", "Keep-up and catch-up phonics: running daily interventions", "lead", "published"),
        ("maths-mastery", "Mastering number in Reception to Year 2", "teacher", "published"),
        ("moderation", "Year 2 writing: agreeing judgements", "lead", "published"),
    ),
    "secondary": (
        ("transition", "Year 6 to 7 transition: shared curriculum units", "lead2", "published"),
        ("subject-knowledge", "Teaching GCSE English literature: unseen poetry", None, "published"),
        ("ect-induction", "Second-year ECT twilight programme", "lead2", "published"),
        ("middle-leadership", "Heads of department network", "lead2", "published"),
        ("initial-teacher-training", "School placements for trainee teachers", None, "published"),
        ("behaviour-support", "De-escalation training for staff", None, "published"),
        ("peer-review", "School peer review with trained reviewers", "lead2", "published"),
        ("future-skills", "Careers leader training", None, "draft"),
    ),
}


@dataclass
class Staff:
    """An organisation's people, as the offers and requests need them."""
    lead: dict | None = None
    experts: list[dict] = field(default_factory=list)
    teachers: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Provider:
    org: Org
    role: str | None  # its role in World.bodies, None for a school
    tags: frozenset[str]


def staff_by_org(world: World) -> dict[int, Staff]:
    expert_users = {row["user_id"] for row in world.expert_profiles}
    staff: dict[int, Staff] = {}
    for user in world.users:
        org_id = user["organisation_id"]
        if org_id is None:
            continue
        entry = staff.setdefault(org_id, Staff())
        if user["role"] in ("school_lead", "coordinator") and entry.lead is None:
            entry.lead = user
        if user["id"] in expert_users:
            entry.experts.append(user)
        if user["role"] == "teacher":
            entry.teachers.append(user)
    return staff


def demo_user(world: World, login: str) -> dict:
    email = f"{login}@{DEMO_DOMAIN}"
    return next(user for user in world.users if user["email"] == email)


def add_offers(world: World, taxonomy: TaxonomyIds) -> None:
    builder = OfferBuilder(world, taxonomy)
    providers = builder.providers()
    for provider in providers:
        if provider.org.demo:
            builder.add_demo_offers(provider)
            continue
        count = builder.count_for(provider)
        for theme, title in builder.choose(provider, count):
            builder.add_offer(provider, theme, title)
    builder.cover_every_subcategory(providers)


class OfferBuilder:
    """Draws offers, their facet terms and sessions into the world, one provider at a time."""

    def __init__(self, world: World, taxonomy: TaxonomyIds):
        self.world = world
        self.rng = world.rng
        # Dates of sessions come from a Random of their own for each offer: how many school
        # days a calendar has must not change what else is drawn, so that another anchor
        # moves the dates and leaves every name and count as it was.
        self.dates_seed = world.rng.getrandbits(64)
        self.taxonomy = taxonomy
        self.staff = staff_by_org(world)
        # Sessions to come: school days from the week after the anchor to the end of the
        # second term that starts after it. Twilights and evenings avoid Fridays.
        self.days_for = _days_for(school_days(world.sessions_from, world.sessions_until))
        # Last year's runs: school days of the year before the anchor, up to the day before it.
        self.past_days_for = _days_for(school_days(world.history_from, world.anchor - timedelta(days=1)))
        self._candidates: dict[tuple, tuple[list[tuple[Theme, Title, float]], list[float]]] = {}
        self._roles = {org.id: role for role, entries in world.bodies.items() for org, _ in entries}
        networks = {n["id"]: n["kind"] for n in world.networks}
        self._leading: dict[int, set[str]] = {}
        for m in world.memberships:
            if m["role"] == "lead":
                self._leading.setdefault(m["organisation_id"], set()).add(networks[m["network_id"]])

    # --- who offers how much of what ------------------------------------------------------

    def providers(self) -> list[Provider]:
        return [Provider(org, self._roles.get(org.id), self._tags(org)) for org in self.world.orgs]

    def _tags(self, org: Org) -> frozenset[str]:
        if org.school is None:
            role = self._roles[org.id]
            tags = {role}
            if role in ("ce_diocese", "rc_diocese"):
                tags.add("diocese")
            if role == "provider":
                tags.add(next(tag for noun, tag in PROVIDER_NOUN_TAGS.items() if noun in org.name))
            return frozenset(tags)
        school = org.school
        tags = {{"all_through": "all_through", "nursery": "nursery"}.get(school.phase, school.phase)}
        if school.phase == "all_through":
            tags |= {"primary", "secondary"}
        if school.ofsted_grade in ("Outstanding", "Good") and school.pupils >= TYPICAL_PUPILS[school.phase]:
            tags.add("strong")
        if "tsa" in self._leading.get(org.id, ()):
            tags.add("alliance")
        return frozenset(tags)

    def count_for(self, provider: Provider) -> int:
        rng, org = self.rng, provider.org
        if org.school is None:
            return rng.randint(*BODY_OFFERS[provider.role])
        if org.isolated:
            return 0
        school = org.school
        size = school.pupils / TYPICAL_PUPILS[school.phase]
        if size < 0.5:
            count = rng.choice((0, 0, 0, 0, 1, 1))
        elif size < 1.2:
            count = rng.choice((0, 0, 0, 1, 1, 1, 2, 2))
        else:
            count = rng.choice((0, 1, 1, 1, 2, 2, 3, 4))
        if school.ofsted_grade == "Outstanding" and rng.random() < 0.6:
            count += 1
        if school.phase == "special":
            count += 1
        if school.ofsted_grade in ("Requires improvement", "Inadequate"):
            count = min(count, 1)
        leading = self._leading.get(org.id, set())
        if "tsa" in leading:
            count += rng.randint(5, 9)
        if "send" in leading:
            count += rng.randint(1, 3)
        return count

    def choose(self, provider: Provider, count: int) -> list[tuple[Theme, Title]]:
        """count different (theme, title) pairs the provider can offer, more likely the
        heavier themes: weighted sampling without replacement."""
        if count <= 0:
            return []
        candidates, cumulative = self._candidates_for(provider)
        if not candidates:
            return []
        # Draw with cumulative weights and skip repeats: counts are small beside the number
        # of candidates, so this beats weighting every candidate for every provider.
        chosen: list[int] = []
        for _ in range(count * 8):
            index = bisect.bisect(cumulative, self.rng.random() * cumulative[-1])
            if index not in chosen:
                chosen.append(index)
                if len(chosen) == min(count, len(candidates)):
                    break
        return [candidates[index][:2] for index in chosen]

    def _candidates_for(self, provider: Provider) -> tuple[list[tuple[Theme, Title, float]], list[float]]:
        """(theme, title, weight) the provider could offer, and their cumulative weights."""
        org = provider.org
        key = (provider.tags, org.school.phase if org.school else None, org.school.variant if org.school else None)
        if key not in self._candidates:
            found = []
            for theme in THEMES:
                titles = [t for t in theme.titles if provider.tags & set(t.by or theme.by)
                          and self._phase_options(org, theme, t)[0]]
                found += [(theme, t, theme.weight / len(titles)) for t in titles]
            self._candidates[key] = (found, list(itertools.accumulate(weight for _, _, weight in found)))
        return self._candidates[key]

    def _phase_options(self, org: Org, theme: Theme, title: Title) -> tuple[list[str], list[str]]:
        """(phases the offer always has, phases it may add) for this provider."""
        allowed = title.phases or theme.phases
        if org.school is None:
            core = [p for p in ("primary", "secondary") if p in allowed] or list(allowed[:1])
            return core, [p for p in ("early-years", "special") if p in allowed and p not in core]
        phase, variant = org.school.phase, org.school.variant
        if phase == "primary":
            core = [p for p in ("primary",) if p in allowed]
            extra = ["early-years"] if variant != "junior" and "early-years" in allowed else []
            return (core, extra) if core else (extra, [])
        if phase == "secondary":
            core = [p for p in ("secondary",) if p in allowed]
            return core, ["post-16"] if core and "post-16" in allowed else []
        if phase == "all_through":
            core = [p for p in ("primary", "secondary") if p in allowed]
            return (core + ["all-through"], []) if core else ([], [])
        if phase == "special":
            if "special" not in allowed:
                return [], []
            reach = [p for p in ("primary", "secondary") if p in allowed] if theme.category in OUTREACH else []
            return ["special"], reach
        if phase == "pru":
            core = [p for p in ("alternative-provision", "secondary") if p in allowed]
            return core, []
        return [p for p in ("early-years",) if p in allowed], []  # nursery

    def cover_every_subcategory(self, providers: list[Provider]) -> None:
        """The catalogue should show something in every subcategory: a rare theme that the
        draw left without a published offer gets one from a provider that could offer it."""
        covered = {o["category_id"] for o in self.world.offers if o["status"] == "published"}
        for theme in THEMES:
            if self.taxonomy.categories[theme.category] in covered:
                continue
            able = [(p, title) for p in providers if not p.org.demo
                    for t, title, _ in self._candidates_for(p)[0] if t is theme]
            if able:
                provider, title = self.rng.choice(able)
                self.add_offer(provider, theme, title, status="published", fresh=True)

    # --- one offer ------------------------------------------------------------------------

    def add_demo_offers(self, provider: Provider) -> None:
        role = "primary" if provider.org is self.world.demo_orgs.get("primary") else "secondary"
        for category, text, login, status in DEMO_OFFERS[role]:
            theme = next(t for t in THEMES if t.category == category)
            title = next(t for t in theme.titles if t.text == text)
            contact = demo_user(self.world, login) if login else None
            offer = self.add_offer(provider, theme, title, status=status, contact=contact, fresh=True)
            if role == "secondary" and category == "ect-induction":
                self._add_recent_session(offer)

    def add_offer(self, provider: Provider, theme: Theme, title: Title, status: str | None = None,
                  contact: dict | None = None, fresh: bool = False) -> dict:
        rng, org = self.rng, provider.org
        world = self.world
        status = status or weighted(rng, STATUS_MIX)
        fmt = title.format
        mode = BOOKING_MODE[fmt]
        delivery = weighted(rng, DELIVERY[fmt])
        when = self._time_of_day(theme, fmt, delivery)
        staff = self.staff.get(org.id, Staff())
        contact = contact or _contact(rng, staff)
        offer_id = world.next_id("offers")
        dates = self._dates(status, stale=not fresh and status == "published" and rng.random() < STALE_SHARE,
                            demo=org.demo)
        price, unit, capacity = self._price(provider, fmt, mode)
        text = title.text
        if fmt == "network" and org.school is not None and not org.demo and rng.random() < 0.4:
            text = f"{text} ({org.place})"
        offer = {
            "id": offer_id, "organisation_id": org.id, "title": text, "summary": title.summary,
            "description": self._description(org, theme, fmt, delivery, when, contact),
            "category_id": self.taxonomy.categories[theme.category], "booking_mode": mode,
            "price_credits": price, "price_unit": unit, "capacity": capacity,
            "cancellation_days": rng.choice((3, 5, 7, 7, 7, 10, 14) if mode == "sessions" else (7, 14, 14, 21, 28)),
            "location_name": org.name, "address": org.address, "postcode": org.postcode,
            "easting": org.easting, "northing": org.northing,
            "contact_user_id": contact["id"] if contact else None,
            "status": status,
            "created_by_id": staff.lead["id"] if staff.lead else (contact["id"] if contact else None),
            **dates,
        }
        world.offers.append(offer)
        self._add_terms(offer_id, org, theme, title, fmt, delivery, when)
        if mode == "sessions" and (status in ("published", "paused") or (status == "draft" and rng.random() < 0.5)):
            # The demo schools' dates are in the next term, so that their journeys still show
            # upcoming sessions for a while after the anchor.
            earliest = self.world.next_term_starts if org.demo else self.world.sessions_from
            self._add_sessions(offer, fmt, delivery, when, earliest, may_cancel=status == "published" and not org.demo)
        if mode == "sessions" and status == "published" and org.la.code in self.world.history_la_codes:
            self._add_past_sessions(offer, fmt, delivery, when, always=org.demo)
        return offer

    def _add_past_sessions(self, offer: dict, fmt: str, delivery: str, when: str, always: bool) -> None:
        """The offer's run in the year before the anchor, starting a few weeks after it was published."""
        earliest = max(self.world.history_from, offer["published_at"].date() + timedelta(days=21))
        if self.rng.random() < PAST_RUN_SHARE or always:
            self._add_sessions(offer, fmt, delivery, when, earliest, may_cancel=False, days_for=self.past_days_for,
                               run="last")

    def _add_recent_session(self, offer: dict) -> None:
        """One session on the last school day before the anchor's week: its booking waits for the
        provider to mark it delivered (the demo's provider journey)."""
        days = [d for d in self.past_days_for["monday-thursday"] if d < self.world.anchor - timedelta(days=2)]
        series = [row for row in self.world.offer_sessions if row["offer_id"] == offer["id"]]
        if not days or not series:
            return
        start, end = series[0]["starts_at"].time(), series[0]["ends_at"].time()
        self.world.offer_sessions.append({
            "id": self.world.next_id("offer_sessions"), "offer_id": offer["id"],
            "starts_at": datetime.combine(days[-1], start), "ends_at": datetime.combine(days[-1], end),
            "places": offer["capacity"], "joining_link": None, "note": None, "series_key": None, "cancelled_at": None,
        })

    def _dates(self, status: str, stale: bool, demo: bool = False) -> dict:
        rng, anchor, anchor_at = self.rng, self.world.anchor, self.world.anchor_at
        if status == "draft":
            created = working_moment(rng, anchor - timedelta(days=rng.randint(1, 60)))
            return {"created_at": created, "updated_at": created, "published_at": None,
                    "assured_on": created.date(), "review_on": None}
        if stale:
            published = working_moment(rng, anchor - timedelta(days=rng.randint(STALE_AFTER_DAYS + 55, 900)))
            assured = published.date() + timedelta(days=rng.randint(0, 40))
        elif status == "archived":
            published = working_moment(rng, anchor - timedelta(days=rng.randint(200, 800)))
            assured = published.date() + timedelta(days=rng.randint(0, 90))
        elif demo:
            # Published a year ago, so that the demo schools have a year of take-up behind them.
            published = working_moment(rng, anchor - timedelta(days=rng.randint(340, 365)))
            assured = anchor - timedelta(days=rng.randint(10, 60))
        else:
            published = working_moment(rng, anchor - timedelta(days=rng.randint(2, 365)))
            # Providers confirm their offers are current every few months; recent most often.
            assured = max(published.date(), anchor - timedelta(days=round(rng.triangular(0, 240, 20))))
        created = before(rng, published, days=14)
        updated = max(published, datetime.combine(assured, published.time()))
        if status in ("paused", "archived"):
            updated = max(updated, working_moment(rng, anchor - timedelta(days=rng.randint(1, 60))))
        review = assured + timedelta(days=rng.choice((180, 270, 365))) if rng.random() < 0.35 else None
        return {"created_at": created, "updated_at": min(updated, anchor_at), "published_at": published,
                "assured_on": assured, "review_on": review}

    def _price(self, provider: Provider, fmt: str, mode: str) -> tuple[int, str, int]:
        rng = self.rng
        if mode == "bespoke":
            return rng.randint(2, 10), "day", rng.choice((2, 3, 4, 5, 6, 8, 10, 12, 15, 20))
        low, high = PLACES[fmt]
        capacity = rng.randint(low, high)
        funded = provider.role in ("hub", "maths_hub", "english_hub") and rng.random() < 0.5
        if funded:  # nationally funded programmes (ECF, work groups) cost schools nothing
            return 0, "place", capacity
        if fmt == "network":
            return rng.choice((0, 0, 0, 1, 1, 2)), "place", capacity
        if fmt == "twilight-session":
            return rng.choice((0, 1, 1, 2, 2, 3)), "place", capacity
        return rng.randint(2, 6), "place", capacity

    def _time_of_day(self, theme: Theme, fmt: str, delivery: str) -> str:
        rng = self.rng
        if theme.evening and fmt in ("course", "twilight-session", "network"):
            return "evening"
        if fmt == "twilight-session":
            return "twilight"
        if fmt == "course":
            return weighted(rng, {"full-day": 55, "morning": 25, "afternoon": 20})
        if fmt == "network":
            return weighted(rng, {"twilight": 45, "afternoon": 35, "morning": 20})
        if fmt == "placement-visit":
            return rng.choice(("morning", "full-day"))
        if fmt == "peer-review":
            return "full-day"
        return "flexible"

    def _add_terms(self, offer_id: int, org: Org, theme: Theme, title: Title, fmt: str, delivery: str,
                   when: str) -> None:
        rng = self.rng
        core, extra = self._phase_options(org, theme, title)
        phases = core + [p for p in extra if rng.random() < 0.5]
        subjects = list(title.subjects or theme.subjects)[:2]
        audiences = rng.sample(theme.audiences, min(len(theme.audiences), rng.randint(1, 3)))
        formats = [fmt] + (["resource"] if fmt in ("course", "twilight-session") and rng.random() < 0.1 else [])
        wanted = ([("phase", p) for p in phases] + [("subject", s) for s in subjects]
                  + [("audience", a) for a in audiences] + [("format", f) for f in formats]
                  + [("delivery", delivery), ("time_of_day", when)])
        ids = self.taxonomy.terms
        for term_id in dict.fromkeys(ids[pair] for pair in wanted):
            self.world.offer_terms.append({"offer_id": offer_id, "term_id": term_id})

    def _add_sessions(self, offer: dict, fmt: str, delivery: str, when: str, earliest: date, may_cancel: bool,
                      days_for: dict[str, list[date]] | None = None, run: str = "next") -> None:
        rng, world = random.Random(f"{self.dates_seed}:{offer['id']}:{run}"), self.world
        days = self._series_days(rng, fmt, when, earliest, days_for or self.days_for)
        key = str(uuid.UUID(int=rng.getrandbits(128), version=4)) if len(days) > 1 else None
        slot = "online-twilight" if when == "twilight" and delivery == "online" else when
        start, end = rng.choice(SESSION_TIMES[slot])
        note = rng.choice(NOTES) if fmt == "course" and rng.random() < 0.3 else None
        for day in days:
            cancelled = may_cancel and rng.random() < CANCELLED_SHARE
            world.offer_sessions.append({
                "id": world.next_id("offer_sessions"), "offer_id": offer["id"],
                "starts_at": datetime.combine(day, start), "ends_at": datetime.combine(day, end),
                "places": offer["capacity"] if rng.random() < 0.9 else max(8, offer["capacity"] - rng.randint(2, 6)),
                "joining_link": _joining_link(rng) if delivery in ("online", "hybrid") else None,
                "note": rng.choice(CANCELLED_NOTES) if cancelled else note,
                "series_key": key,
                "cancelled_at": self._cancelled_at(rng, offer) if cancelled else None,
            })

    def _cancelled_at(self, rng, offer: dict) -> datetime:
        """Shortly before the anchor, and after the offer was published."""
        moment = working_moment(rng, self.world.anchor - timedelta(days=rng.randint(1, 6)))
        return min(max(moment, offer["published_at"] + timedelta(hours=2)), self.world.anchor_at)

    def _series_days(self, rng, fmt: str, when: str, earliest: date, days_for: dict[str, list[date]]) -> list[date]:
        """School days for a series: a first date, then the same weekday every interval,
        stepping past holidays, ending early rather than spilling past the last of the days."""
        count = rng.choice(SESSION_COUNTS[fmt])
        interval = rng.choice(INTERVALS[fmt])
        options = days_for["monday-thursday" if when in ("twilight", "evening") else "any"]
        if not options or options[-1] < earliest:
            return []
        last_day = days_for["any"][-1]
        latest = last_day - timedelta(days=interval * (count - 1))
        low = bisect.bisect_left(options, earliest)
        first = options[low + rng.randrange(max(1, bisect.bisect_right(options, latest) - low))]
        days, day = [], first
        while len(days) < count and day <= last_day:
            if is_school_day(day):
                days.append(day)
                day += timedelta(days=interval)
            else:
                day += timedelta(days=7)
        return days

    # --- the description ------------------------------------------------------------------

    def _description(self, org: Org, theme: Theme, fmt: str, delivery: str, when: str, contact: dict | None) -> str:
        rng = self.rng
        picked = sorted(rng.sample(range(len(theme.points)), rng.randint(3, min(4, len(theme.points)))))
        points = "\n".join(f"- {theme.points[i]}" for i in picked)
        where = f"{org.name}, {org.address}"
        if when == "evening":
            logistics = rng.choice(EVENING_TEXT)
        elif delivery == "online" and BOOKING_MODE[fmt] == "sessions":
            logistics = rng.choice(ONLINE_TEXT)
        elif delivery == "hybrid" and BOOKING_MODE[fmt] == "sessions":
            logistics = rng.choice(HYBRID_TEXT).format(where=where)
        else:
            logistics = rng.choice(FORMAT_TEXT[fmt]).format(where=where)
        return "\n\n".join((
            theme.intro.format(provider=org.name),
            f"{rng.choice(LIST_HEADINGS)}\n\n{points}",
            logistics,
            self._about(org, contact),
        ))

    def _about(self, org: Org, contact: dict | None) -> str:
        templates = PROVIDER_TEXT["school" if org.school is not None else "body"]
        if contact is None:
            templates = [t for t in templates if "{contact" not in t]
        title = (contact or {}).get("job_title") or "a member of staff"
        return self.rng.choice(templates).format(
            provider=org.name, org_summary=org.summary, org_summary_lower=_lower_first(org.summary),
            contact=contact["name"] if contact else "", contact_first=contact["name"].split(" ")[0] if contact else "",
            contact_title=_lower_first(title),
        )


def _contact(rng, staff: Staff) -> dict | None:
    """One of the provider's experts when it has any, otherwise its lead."""
    if staff.experts:
        return rng.choice(staff.experts)
    return staff.lead or (staff.teachers[0] if staff.teachers else None)


def _days_for(days: list[date]) -> dict[str, list[date]]:
    return {"any": days, "monday-thursday": [d for d in days if d.weekday() < 4]}


def working_moment(rng, day: date) -> datetime:
    """A working-hours time on that day."""
    return datetime.combine(day, time(rng.randint(7, 18), rng.choice((0, 15, 30, 45))))


def before(rng, moment: datetime, days: int) -> datetime:
    """A working-hours moment up to `days` days before `moment` (drafted, then published)."""
    earlier = working_moment(rng, moment.date() - timedelta(days=rng.randint(0, days)))
    return min(earlier, moment - timedelta(minutes=20))


def _joining_link(rng) -> str:
    code = "".join(rng.choice(LINK_LETTERS) for _ in range(10))
    return f"https://meet.example.test/{code[:3]}-{code[3:7]}-{code[7:]}"


def _lower_first(text: str) -> str:
    """'A small school' → 'a small school', 'Head of maths' → 'head of maths'; 'SENCO' stays."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def weighted(rng, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
