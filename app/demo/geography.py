"""Where demo organisations are: local authorities, their towns, grid points and postcodes.

Coordinates are British National Grid metres (easting, northing), as GIAS publishes them.
The partnership's three counties use real town positions and postcode districts so that
maps and distances look right; every name the demo shows is still invented.
"""
import math
import random
from dataclasses import dataclass, field

from app.demo import words
from app.demo.naming import NameBook


@dataclass(frozen=True)
class Town:
    easting: int
    northing: int
    outward: tuple[str, ...]  # postcode districts around the town
    dialling: str
    weight: float = 1.0  # relative number of schools


@dataclass(frozen=True)
class Box:
    min_e: int
    min_n: int
    max_e: int
    max_n: int

    def contains(self, e: float, n: float) -> bool:
        return self.min_e <= e <= self.max_e and self.min_n <= n <= self.max_n


@dataclass(eq=False)  # compared and hashed by identity: each authority is one object
class LocalAuthority:
    code: str
    name: str
    towns: tuple[Town, ...]
    bounds: Box  # every generated point lies inside
    rural_share: float  # share of primary schools that are rural
    academy_bias: float  # multiplies the academy share of each phase
    schools: int = 0  # how many schools the scale puts here
    on_land_check: bool = False  # invented areas: also test the England outline
    town_places: list[str] = field(default_factory=list)  # invented town names, filled in later

    def contains(self, e: float, n: float) -> bool:
        return self.bounds.contains(e, n) and (not self.on_land_check or in_england(e, n))


def _t(e, n, outward, dialling, weight=1.0) -> Town:
    return Town(e, n, tuple(outward.split()), dialling, weight)


# The partnership. Bounds sit a little inside each county's box so that points near an
# edge are still in the county (and, on the West Sussex coast, on land).
GLOUCESTERSHIRE = LocalAuthority(
    "916", "Gloucestershire",
    (
        _t(383500, 218500, "GL1 GL2 GL3 GL4", "01452", 4),    # Gloucester
        _t(394500, 222500, "GL50 GL51 GL52 GL53", "01242", 4),  # Cheltenham
        _t(385000, 205000, "GL5 GL6", "01453", 2),            # Stroud
        _t(402300, 202000, "GL7", "01285", 1.5),              # Cirencester
        _t(389200, 232800, "GL20", "01684", 1.2),             # Tewkesbury
        _t(365800, 214000, "GL14", "01594", 1),               # Cinderford
        _t(362000, 210500, "GL16", "01594", 0.8),             # Coleford
        _t(375700, 198200, "GL11", "01453", 1),               # Dursley
        _t(372300, 225900, "GL18", "01531", 0.6),             # Newent
        _t(402500, 228400, "GL54", "01242", 0.6),             # Winchcombe
        _t(416500, 220700, "GL54", "01451", 0.6),             # Bourton-on-the-Water
        _t(389000, 197000, "GL8", "01666", 0.6),              # Tetbury
        _t(415000, 239000, "GL55", "01386", 0.5),             # Chipping Campden
        _t(415100, 201100, "GL7", "01285", 0.5),              # Fairford
    ),
    Box(361000, 196000, 419000, 244000), rural_share=0.45, academy_bias=1.0,
)

WEST_SUSSEX = LocalAuthority(
    "938", "West Sussex",
    (
        _t(527000, 136500, "RH10 RH11", "01293", 4),          # Crawley
        _t(517500, 130500, "RH12 RH13", "01403", 3),          # Horsham
        _t(513500, 105300, "BN11 BN12 BN13 BN14", "01903", 4),  # Worthing
        _t(486000, 105500, "PO19 PO20", "01243", 2.5),        # Chichester
        _t(496500, 105500, "PO21 PO22", "01243", 1.5),        # Barnham
        _t(503500, 104500, "BN17", "01903", 1.5),             # Littlehampton
        _t(531500, 118800, "RH15", "01444", 2),               # Burgess Hill
        _t(533500, 123800, "RH16 RH17", "01444", 2),          # Haywards Heath
        _t(538800, 137800, "RH19", "01342", 1.5),             # East Grinstead
        _t(488700, 121500, "GU29", "01730", 0.8),             # Midhurst
        _t(497700, 121800, "GU28", "01798", 0.5),             # Petworth
        _t(504500, 118700, "RH20", "01798", 0.6),             # Pulborough
        _t(517800, 111200, "BN44", "01903", 0.6),             # Steyning
        _t(521800, 105800, "BN43", "01273", 1.5),             # Shoreham
        _t(518200, 104800, "BN15", "01903", 1),               # Lancing
        _t(508600, 125800, "RH14", "01403", 0.7),             # Billingshurst
        _t(521500, 116100, "BN5", "01273", 0.5),              # Henfield
        _t(501700, 107000, "BN18", "01903", 0.7),             # Arundel
    ),
    Box(481000, 103500, 544000, 139000), rural_share=0.35, academy_bias=0.45,
)

HERTFORDSHIRE = LocalAuthority(
    "919", "Hertfordshire",
    (
        _t(511000, 197800, "WD17 WD18 WD24 WD25", "01923", 3),  # Watford
        _t(515000, 207200, "AL1 AL3 AL4", "01727", 3),        # St Albans
        _t(506000, 207500, "HP1 HP2 HP3", "01442", 3),        # Hemel Hempstead
        _t(524000, 225000, "SG1 SG2", "01438", 3),            # Stevenage
        _t(518500, 229000, "SG4 SG5", "01462", 2),            # Hitchin
        _t(522000, 232500, "SG6", "01462", 1.5),              # Letchworth
        _t(524000, 212800, "AL7 AL8", "01707", 2),            # Welwyn Garden City
        _t(523000, 208800, "AL9 AL10", "01707", 1.5),         # Hatfield
        _t(532500, 212500, "SG13 SG14", "01992", 1.5),        # Hertford
        _t(535500, 214400, "SG12", "01920", 1),               # Ware
        _t(543000, 219500, "SG10", "01279", 0.5),             # Much Hadham
        _t(535700, 240800, "SG8", "01763", 0.8),              # Royston
        _t(535000, 202500, "EN7 EN8", "01992", 2),            # Cheshunt
        _t(537000, 209000, "EN11", "01992", 1),               # Hoddesdon
        _t(513600, 214000, "AL5", "01582", 1.2),              # Harpenden
        _t(524500, 234000, "SG7", "01462", 0.6),              # Baldock
        _t(506200, 197500, "WD3", "01923", 1),                # Rickmansworth
        _t(525000, 201000, "EN6", "01707", 0.8),              # Potters Bar
        _t(519500, 197800, "WD6", "020", 1),                  # Borehamwood
        _t(536000, 229500, "SG9", "01763", 0.5),              # Buntingford
    ),
    Box(501000, 197000, 544000, 244000), rural_share=0.22, academy_bias=0.9,
)

PARTNERSHIP_SCHOOLS = {"916": 100, "938": 90, "919": 110}


def partnership_las() -> list[LocalAuthority]:
    las = [GLOUCESTERSHIRE, WEST_SUSSEX, HERTFORDSHIRE]
    # Copies: a load fills in school counts and town names, and the module constants
    # must stay clean for the next load in the same process (tests load several times).
    return [_fresh_copy(la, PARTNERSHIP_SCHOOLS[la.code]) for la in las]


def _fresh_copy(la: LocalAuthority, schools: int) -> LocalAuthority:
    return LocalAuthority(la.code, la.name, la.towns, la.bounds, la.rural_share, la.academy_bias, schools)


# --- England, roughly ---------------------------------------------------------------------
# A coarse outline of England in kilometres (clockwise from Land's End), used at national
# scale to keep invented authorities, towns and schools on land and out of Wales.
ENGLAND_OUTLINE_KM = (
    (135, 25), (170, 15), (200, 45), (250, 50), (280, 40), (300, 80), (340, 88), (368, 70),
    (400, 78), (450, 80), (485, 93), (530, 100), (560, 97), (581, 109), (609, 117), (632, 140),
    (640, 168), (592, 176), (588, 185), (620, 200), (625, 230), (655, 290), (625, 342),
    (570, 342), (557, 365), (550, 390), (540, 410), (520, 425), (535, 430), (522, 470),
    (504, 488), (490, 511), (454, 526), (437, 567), (427, 604), (400, 655), (385, 640),
    (370, 605), (332, 568), (320, 565), (300, 528), (300, 505), (319, 469), (340, 458),
    (331, 436), (334, 417), (328, 392), (338, 368), (330, 330), (322, 290), (330, 256),
    (345, 215), (355, 195), (348, 180), (330, 160), (297, 146), (272, 149), (225, 126),
    (220, 105), (192, 75), (152, 40),
)
_OUTLINE = [(e * 1000, n * 1000) for e, n in ENGLAND_OUTLINE_KM]
ENGLAND_BOX = Box(150000, 50000, 650000, 650000)


def in_england(e: float, n: float) -> bool:
    """Ray casting against the coarse outline."""
    inside = False
    j = len(_OUTLINE) - 1
    for i, (ei, ni) in enumerate(_OUTLINE):
        ej, nj = _OUTLINE[j]
        if (ni > n) != (nj > n) and e < (ej - ei) * (n - ni) / (nj - ni) + ei:
            inside = not inside
        j = i
    return inside


# Real-looking LA codes: the ranges GIAS uses for London boroughs, metropolitan districts,
# unitary authorities and counties.
LA_CODE_RANGES = ((201, 213), (301, 320), (330, 336), (340, 344), (350, 359), (370, 373),
                  (380, 384), (390, 394), (800, 896), (908, 938))

NATIONAL_AUTHORITIES = 150
NATIONAL_SCHOOLS = 22_400
# Invented authorities keep this far apart (metres) so that their areas barely overlap.
MIN_CENTRE_SPACING = 22_000


def national_las(rng: random.Random, names: NameBook) -> list[LocalAuthority]:
    """The partnership's three counties plus invented authorities spread over England."""
    las = partnership_las()
    taken = {la.code for la in las}
    pool = [code for lo, hi in LA_CODE_RANGES for code in range(lo, hi + 1) if str(code) not in taken]
    codes = sorted(rng.sample(pool, NATIONAL_AUTHORITIES - len(las)))
    centres = [(la.towns[0].easting, la.towns[0].northing) for la in las]
    for code in codes:
        centre = _spaced_centre(rng, centres)
        centres.append(centre)
        las.append(_invented_la(rng, names, str(code), centre))
    _allocate_schools(rng, las, NATIONAL_SCHOOLS)
    return las


def _spaced_centre(rng: random.Random, centres: list[tuple[int, int]]) -> tuple[int, int]:
    spacing = MIN_CENTRE_SPACING
    while True:
        for _ in range(2000):
            e = rng.uniform(ENGLAND_BOX.min_e, ENGLAND_BOX.max_e)
            n = rng.uniform(ENGLAND_BOX.min_n, ENGLAND_BOX.max_n)
            if in_england(e, n) and all(math.dist((e, n), c) >= spacing for c in centres):
                return round(e), round(n)
        spacing *= 0.8  # England is full at this spacing: pack a little tighter


def _invented_la(rng: random.Random, names: NameBook, code: str, centre: tuple[int, int]) -> LocalAuthority:
    radius = rng.uniform(9_000, 18_000)
    area = rng.choice(words.POSTCODE_AREAS)
    first_district = rng.randint(1, 20)
    towns = []
    for i in range(rng.randint(5, 11)):
        e, n = centre if i == 0 else _point_near(rng, centre, radius)
        district = f"{area}{first_district + i}"
        towns.append(Town(e, n, (district,), f"01{rng.randint(200, 999)}", 3.0 if i == 0 else rng.uniform(0.5, 2.5)))
    reach = int(radius + 12_000)
    # Clipped to England's box, so no school of the authority falls outside it.
    bounds = Box(max(centre[0] - reach, ENGLAND_BOX.min_e), max(centre[1] - reach, ENGLAND_BOX.min_n),
                 min(centre[0] + reach, ENGLAND_BOX.max_e), min(centre[1] + reach, ENGLAND_BOX.max_n))
    return LocalAuthority(
        code, names.unique(lambda: _la_name(rng, names)), tuple(towns), bounds,
        rural_share=rng.uniform(0.05, 0.55), academy_bias=rng.uniform(0.4, 1.6), on_land_check=True,
    )


def _point_near(rng: random.Random, centre: tuple[int, int], radius: float) -> tuple[int, int]:
    for _ in range(50):
        angle, dist = rng.uniform(0, 2 * math.pi), radius * math.sqrt(rng.random())
        e, n = centre[0] + dist * math.cos(angle), centre[1] + dist * math.sin(angle)
        if ENGLAND_BOX.contains(e, n) and in_england(e, n):
            return round(e), round(n)
    return centre


def _la_name(rng: random.Random, names: NameBook) -> str:
    pattern = rng.choices(("{c}", "{s}shire", "City of {c}", "{c} and {d}", "North {c}", "South {c}"),
                          weights=(40, 30, 12, 10, 4, 4))[0]
    first, second = names.core(), names.core()
    while second[:4] == first[:4]:  # not "Speedwellby and Speedwellfield"
        second = names.core()
    return pattern.format(c=first, d=second, s=rng.choice(words.PLACE_STEMS))


def _allocate_schools(rng: random.Random, las: list[LocalAuthority], total: int) -> None:
    """Share `total` schools between authorities of varied size (largest remainder)."""
    weights = [rng.uniform(0.4, 2.2) for _ in las]
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(las)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    for la, count in zip(las, counts):
        la.schools = count


# --- Points and postcodes -----------------------------------------------------------------

def point_for(rng: random.Random, la: LocalAuthority, town: Town, rural: bool) -> tuple[int, int]:
    """A site in the authority: in town for urban schools, out in the villages for rural ones."""
    for _ in range(12):
        if rural:
            angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(3_000, 11_000)
            e, n = town.easting + dist * math.cos(angle), town.northing + dist * math.sin(angle)
        else:
            e, n = rng.gauss(town.easting, 1_500), rng.gauss(town.northing, 1_500)
        if la.contains(e, n):
            return round(e), round(n)
    return town.easting, town.northing


def postcode_for(rng: random.Random, town: Town) -> str:
    letters = words.POSTCODE_LETTERS
    return f"{rng.choice(town.outward)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def phone_for(rng: random.Random, town: Town) -> str:
    digits = 8 if town.dialling == "020" else 6
    return f"{town.dialling} {rng.randint(10 ** (digits - 1), 10 ** digits - 1)}"


def choose_town(rng: random.Random, la: LocalAuthority) -> int:
    return rng.choices(range(len(la.towns)), weights=[t.weight for t in la.towns])[0]


def distance_m(a: tuple[int, int], b: tuple[int, int]) -> float:
    return math.dist(a, b)


def name_towns(las: list[LocalAuthority], names: NameBook) -> None:
    """Give every town an invented name (clusters and hubs are named after their town)."""
    for la in las:
        la.town_places = [names.unique(names.core) for _ in la.towns]
