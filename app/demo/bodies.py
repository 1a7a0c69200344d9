"""Organisations that are not schools: LA services, trusts, hubs, dioceses and providers.

The seeds insist signposting covers every kind of provider, not only schools. Local bodies
serve one authority; hubs and dioceses serve a group of neighbouring authorities (how many
depends on the scale, as the real hub and diocese networks do).
"""
from app.demo import geography, words
from app.demo.geography import LocalAuthority
from app.demo.world import Org, World

# role → (kind, name pattern, summary pattern). {la} is the authority, {town} the seat's
# invented town name, {area} the authorities served.
LA_SERVICES = {
    "sen_service": ("la_service", "{la} SEN Support Service",
                    "Specialist teachers and educational psychologists supporting SENCOs and inclusion in {la} schools."),
    "governor_service": ("la_service", "{la} Governor Services",
                         "Training, clerking and advice for governing boards in {la}."),
    "improvement_service": ("la_service", "{la} School Improvement Service",
                            "Advisers who broker school-to-school support and convene the {la} schools partnership."),
}

AREA_BODIES = {
    "hub": ("teaching_school_hub", "{town} Teaching School Hub",
            "A teaching school hub for {area}: initial teacher training, the Early Career Framework and NPQs."),
    "ce_diocese": ("diocese", "Diocese of {town} Board of Education",
                   "Supports the Church of England schools of {area}: school improvement, RE and governance."),
    "rc_diocese": ("diocese", "Catholic Diocese of {town} Education Service",
                   "Supports the Catholic schools of {area}: leadership, RE and admissions advice."),
    "maths_hub": ("research_hub", "{town} Maths Hub",
                  "Teaching for mastery work groups and specialist maths teachers for schools in {area}."),
    "english_hub": ("research_hub", "{town} English Hub",
                    "Early reading and systematic phonics support for schools in {area}."),
    "research_school": ("research_hub", "{town} Research School",
                        "Helps schools in {area} use evidence: training, evidence leads and evaluation support."),
}

TRUST_PATTERNS = ("{p} Learning Trust", "{p} Academy Trust", "{p} Multi-Academy Trust", "{p} Education Trust",
                  "The {p} Partnership Trust", "{p} Schools Trust")
# "70% of MATs run six or fewer schools": about one trust for every eight academies.
ACADEMIES_PER_TRUST = 8
# Authorities are grouped in bands this tall (metres) to find neighbours.
REGION_BAND = 80_000


def add_bodies(world: World) -> None:
    for la in world.las:
        for role, template in LA_SERVICES.items():
            world.add_body(role, _from_template(world, la, template, [la]), [la])
        _add_trusts(world, la)
    for role, template in AREA_BODIES.items():
        for area in _regional_groups(world.las, world.scale.area_group[role]):
            seat = world.rng.choice(area)
            world.add_body(role, _from_template(world, seat, template, area), area)
    _add_providers(world)


def _from_template(world: World, seat: LocalAuthority, template: tuple[str, str, str],
                   area: list[LocalAuthority]) -> Org:
    """A body at the seat's main town, named and described from a pattern over {la}, {town}, {area}."""
    kind, name, summary = template
    fields = {"la": seat.name, "town": seat.town_places[0], "area": _area_words(area)}
    return _body(world, seat, 0, kind, world.names.numbered(name.format(**fields)), summary.format(**fields))


def _add_trusts(world: World, la: LocalAuthority) -> None:
    academies = sum(1 for s in world.schools(la) if s.school.academy)
    rng, names = world.rng, world.names
    for _ in range(round(academies / ACADEMIES_PER_TRUST) or (1 if academies else 0)):
        name = names.unique(lambda: rng.choice(TRUST_PATTERNS).format(p=names.place()))
        summary = f"A multi-academy trust of primary and secondary academies in {la.name}."
        world.add_body("trust", _body(world, la, geography.choose_town(rng, la), "trust", name, summary), [la])


def _add_providers(world: World) -> None:
    rng, names = world.rng, world.names
    for _ in range(world.scale.providers):
        noun = rng.choice(words.PROVIDER_NOUNS)
        name = names.unique(lambda: f"{rng.choice(words.PROVIDER_STEMS)} {noun}{rng.choice(('', ' Ltd'))}")
        summary = f"An independent provider of {noun.lower()} for schools and trusts, in person and online."
        seat = rng.choice(world.las)
        world.add_body("provider", _body(world, seat, 0, "provider", name, summary), world.las)


def _body(world: World, la: LocalAuthority, town_index: int, kind: str, name: str, summary: str) -> Org:
    """An organisation near the centre of one of the authority's towns."""
    rng = world.rng
    town = la.towns[town_index]
    easting, northing = geography.point_for(rng, la, town, rural=False)
    slug = world.names.slug(name)
    return Org(
        id=world.next_id("organisations"), kind=kind, name=name, slug=slug, la=la, town=town_index,
        place=la.town_places[town_index], easting=easting, northing=northing,
        postcode=geography.postcode_for(rng, town),
        address=f"{rng.choice(words.STREETS)}, {la.town_places[town_index]}",
        phone=geography.phone_for(rng, town), domain=f"{slug}.org.test", summary=summary,
    )


def _area_words(area: list[LocalAuthority]) -> str:
    names = [la.name for la in area]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _regional_groups(las: list[LocalAuthority], size: int) -> list[list[LocalAuthority]]:
    """Neighbouring authorities in groups of `size`: bands north to south, alternating
    west-east and east-west so that consecutive authorities stay close."""
    def key(la: LocalAuthority):
        band = la.towns[0].northing // REGION_BAND
        easting = la.towns[0].easting
        return (-band, easting if band % 2 == 0 else -easting, la.code)

    ordered = sorted(las, key=key)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]
