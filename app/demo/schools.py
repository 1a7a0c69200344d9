"""Demo schools: phase, type, size, inspection grade and place in the seeds' proportions.

The mix follows the seeds' derived tenant (most schools primary, many of them small and
rural; a fifth secondary or fewer; a few special schools and PRUs) and their type
landscape (about a third of primaries and two thirds of secondaries are academies, fewer
in West Sussex). Names are invented places plus the suffixes GIAS names really use.
"""
import random

from app.demo import geography, words
from app.demo.geography import LocalAuthority
from app.demo.world import Org, SchoolFacts, World
from app.models.organisations import OFSTED_GRADES

PHASE_MIX = {"primary": 76.5, "secondary": 15.5, "special": 4.5, "pru": 1.5, "nursery": 1.3, "all_through": 0.7}
PRIMARY_VARIANTS = {"primary": 82, "infant": 9, "junior": 9}

# GIAS "TypeOfEstablishment (name)" by phase: (type, weight, is an academy).
TYPE_MIX = {
    "primary": (
        ("Community school", 38, False), ("Voluntary controlled school", 14, False),
        ("Voluntary aided school", 12, False), ("Foundation school", 4, False),
        ("Academy converter", 24, True), ("Academy sponsor led", 7, True), ("Free schools", 1, True),
    ),
    "secondary": (
        ("Community school", 12, False), ("Voluntary aided school", 6, False), ("Foundation school", 6, False),
        ("Academy converter", 55, True), ("Academy sponsor led", 17, True), ("Free schools", 4, True),
    ),
    "special": (
        ("Community special school", 55, False), ("Foundation special school", 5, False),
        ("Academy special converter", 30, True), ("Academy special sponsor led", 6, True),
        ("Free schools special", 4, True),
    ),
    "pru": (
        ("Pupil referral unit", 65, False), ("Academy alternative provision converter", 20, True),
        ("Academy alternative provision sponsor led", 10, True), ("Free schools alternative provision", 5, True),
    ),
    "nursery": (("Local authority nursery school", 100, False),),
    "all_through": (("Community school", 15, False), ("Academy converter", 60, True), ("Free schools", 25, True)),
}

# Chance that a school of this type has a religious character, and the share that is Church
# of England (the rest Roman Catholic). Voluntary controlled schools are almost all C of E.
FAITH_CHANCE = {
    ("primary", "Voluntary controlled school"): (1.0, 1.0),
    ("primary", "Voluntary aided school"): (1.0, 0.45),
    ("primary", "Academy converter"): (0.22, 0.75),
    ("primary", "Academy sponsor led"): (0.1, 0.8),
    ("secondary", "Voluntary aided school"): (1.0, 0.3),
    ("secondary", "Academy converter"): (0.12, 0.5),
}

OFSTED_MIX = {  # weights in the order of OFSTED_GRADES: Outstanding, Good, RI, Inadequate, not yet inspected
    "primary": (18, 68, 9, 2, 3),
    "secondary": (22, 54, 17, 4, 3),
    "special": (35, 55, 7, 2, 1),
    "pru": (15, 62, 17, 5, 1),
}
OFSTED_GROUP = {"nursery": "primary", "all_through": "secondary"}

# Pupil numbers as (low, high, mode) of a triangular distribution, urban then rural.
SIZES = {
    "primary": ((120, 700, 330), (25, 240, 95)),
    "infant": ((120, 360, 210), (40, 180, 90)),
    "junior": ((150, 480, 280), (50, 240, 120)),
    "secondary": ((550, 2000, 1100), (350, 1300, 750)),
    "all_through": ((700, 2100, 1300), (500, 1400, 900)),
    "special": ((35, 280, 110), (30, 180, 80)),
    "pru": ((8, 90, 35), (8, 60, 25)),
    "nursery": ((40, 140, 85), (30, 90, 55)),
}

# How much rarer rural sites are for each phase than for primaries.
RURAL_FACTOR = {"secondary": 0.4, "all_through": 0.3, "special": 0.3, "pru": 0.3}

NAME_TEMPLATES = {
    ("primary", "maintained"): ("{p} Primary School", "{p} Primary School", "{p} Community Primary School"),
    ("primary", "academy"): ("{p} Primary Academy", "{p} Primary School", "{p} Academy"),
    ("primary", "ce"): ("{p} C of E Primary School", "{p} Church of England Primary School",
                        "St {s}'s C of E Primary School, {p}"),
    ("primary", "rc"): ("St {s}'s Catholic Primary School, {p}", "{p} Catholic Primary School"),
    ("infant", "maintained"): ("{p} Infant School", "{p} Infants' School"),
    ("infant", "academy"): ("{p} Infant Academy", "{p} Infant School"),
    ("infant", "ce"): ("{p} C of E Infant School",),
    ("infant", "rc"): ("St {s}'s Catholic Infant School, {p}",),
    ("junior", "maintained"): ("{p} Junior School",),
    ("junior", "academy"): ("{p} Junior Academy", "{p} Junior School"),
    ("junior", "ce"): ("{p} C of E Junior School",),
    ("junior", "rc"): ("St {s}'s Catholic Junior School, {p}",),
    ("secondary", "maintained"): ("{p} High School", "{p} School", "{p} Community College"),
    ("secondary", "academy"): ("{p} Academy", "{p} High School", "The {p} School"),
    ("secondary", "ce"): ("{p} Church of England Academy", "St {s}'s C of E High School, {p}"),
    ("secondary", "rc"): ("St {s}'s Catholic High School, {p}", "{p} Catholic School"),
    ("all_through", "maintained"): ("{p} All-Through School",),
    ("all_through", "academy"): ("{p} Academy", "{p} All-Through Academy"),
    ("special", "maintained"): ("{p} Special School", "{p} School"),
    ("special", "academy"): ("{p} Academy", "{p} Special Academy"),
    ("pru", "maintained"): ("{p} Pupil Referral Unit", "{p} Learning Centre", "{p} Short Stay School"),
    ("pru", "academy"): ("{p} Alternative Provision Academy", "{p} Learning Centre"),
    ("nursery", "maintained"): ("{p} Nursery School",),
}

AGE_RANGES = {
    "primary": ("4 to 11",), "infant": ("4 to 7",), "junior": ("7 to 11",),
    "secondary": ("11 to 16", "11 to 18"), "all_through": ("4 to 18",),
    "special": ("3 to 19", "4 to 19", "11 to 19"), "pru": ("11 to 16", "5 to 16"), "nursery": ("2 to 5",),
}

FAITH_WORDS = {"ce": "Church of England ", "rc": "Catholic ", None: ""}
PHASE_WORDS = {"primary": "primary school", "infant": "infant school", "junior": "junior school",
               "secondary": "secondary school", "all_through": "all-through school",
               "special": "special school", "pru": "pupil referral unit", "nursery": "nursery school"}

# The contract's demo schools: fixed names and facts so the demo journeys read the same
# every time. Both sit in the same Gloucestershire town (index 2 of its towns).
DEMO_SCHOOLS = {
    "primary": {
        "name": "Fennelbrook Primary School", "place": "Fennelbrook", "town": 2, "ages": "4 to 11",
        "facts": dict(phase="primary", variant="primary", school_type="Community school", pupils=236,
                      ofsted_grade="Good", urban_rural="urban", faith=None, academy=False),
    },
    "secondary": {
        "name": "Linnetford High School", "place": "Linnetford", "town": 2, "ages": "11 to 18",
        "facts": dict(phase="secondary", variant="secondary", school_type="Academy converter", pupils=1140,
                      ofsted_grade="Outstanding", urban_rural="urban", faith=None, academy=True),
    },
}
DEMO_LA_CODE = "916"


def add_schools(world: World) -> None:
    total = sum(la.schools for la in world.las)
    # URNs are unique across the whole load, drawn once so that every school gets its own.
    urns = iter(world.rng.sample(range(100_000, 200_000), total))
    for la in world.las:
        fixed = DEMO_SCHOOLS if la.code == DEMO_LA_CODE else {}
        for role, spec in fixed.items():
            world.demo_orgs[role] = _demo_school(world, la, spec, next(urns))
        for _ in range(la.schools - len(fixed)):
            _random_school(world, la, next(urns))


def _demo_school(world: World, la: LocalAuthority, spec: dict, urn: int) -> Org:
    world.names.claim(spec["name"])
    facts = SchoolFacts(urn=urn, **spec["facts"])
    org = _school_org(world, la, spec["town"], spec["place"], spec["name"], facts, spec["ages"])
    org.demo = True
    return org


def _random_school(world: World, la: LocalAuthority, urn: int) -> Org:
    rng = world.rng
    phase = _pick(rng, PHASE_MIX)
    variant = _pick(rng, PRIMARY_VARIANTS) if phase == "primary" else phase
    school_type, academy = _school_type(rng, phase, la.academy_bias)
    faith = _faith(rng, phase, school_type)
    rural = rng.random() < la.rural_share * RURAL_FACTOR.get(phase, 1.0)
    low, high, mode = SIZES[variant][1 if rural else 0]
    grades = OFSTED_MIX[OFSTED_GROUP.get(phase, phase)]
    facts = SchoolFacts(
        urn=urn, phase=phase, variant=variant, school_type=school_type,
        pupils=round(rng.triangular(low, high, mode)),
        ofsted_grade=rng.choices(OFSTED_GRADES, weights=grades)[0],
        urban_rural="rural" if rural else "urban", faith=faith, academy=academy,
    )
    place, name = _unique_school_name(world, variant, faith, academy)
    return _school_org(world, la, geography.choose_town(rng, la), place, name, facts, rng.choice(AGE_RANGES[variant]))


def _school_org(world: World, la: LocalAuthority, town_index: int, place: str, name: str,
                facts: SchoolFacts, ages: str) -> Org:
    rng = world.rng
    town = la.towns[town_index]
    easting, northing = geography.point_for(rng, la, town, rural=facts.urban_rural == "rural")
    slug = world.names.slug(name)
    org = Org(
        id=world.next_id("organisations"), kind="school", name=name, slug=slug, la=la, town=town_index,
        place=place, easting=easting, northing=northing, postcode=geography.postcode_for(rng, town),
        address=f"{rng.choice(words.STREETS)}, {place}", phone=geography.phone_for(rng, town),
        domain=f"{slug}.sch.test", summary=_summary(facts, place, ages), school=facts,
    )
    world.add_school(org)
    return org


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _school_type(rng: random.Random, phase: str, academy_bias: float) -> tuple[str, bool]:
    options = TYPE_MIX[phase]
    weights = [w * academy_bias if academy else w for _, w, academy in options]
    name, _, academy = rng.choices(options, weights=weights)[0]
    return name, academy


def _faith(rng: random.Random, phase: str, school_type: str) -> str | None:
    chance, ce_share = FAITH_CHANCE.get((phase, school_type), (0.0, 0.0))
    if rng.random() >= chance:
        return None
    return "ce" if rng.random() < ce_share else "rc"


def _unique_school_name(world: World, variant: str, faith: str | None, academy: bool) -> tuple[str, str]:
    """An invented place and a school name built on it that no other school has."""
    style = faith or ("academy" if academy else "maintained")
    templates = NAME_TEMPLATES.get((variant, style)) or NAME_TEMPLATES[(variant, "maintained")]
    for _ in range(world.names.ATTEMPTS):
        place = world.names.place()
        name = world.rng.choice(templates).format(p=place, s=world.names.saint())
        if world.names.is_free(name):
            world.names.claim(name)
            return place, name
    raise RuntimeError(f"ran out of invented names for {variant} schools")


def _summary(facts: SchoolFacts, place: str, ages: str) -> str:
    size = _size_word(facts)
    setting = "rural " if facts.urban_rural == "rural" else ""
    words_ = f"{size}{setting}{FAITH_WORDS[facts.faith]}{PHASE_WORDS[facts.variant]}"
    article = "An" if words_[0] in "aeiou" else "A"
    return f"{article} {words_} in {place} for pupils aged {ages}."


def _size_word(facts: SchoolFacts) -> str:
    if facts.phase not in ("primary", "secondary"):
        return ""
    small, large = (110, 420) if facts.phase == "primary" else (700, 1300)
    if facts.pupils < small:
        return "small "
    return "large " if facts.pupils >= large else ""
