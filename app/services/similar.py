""""Schools like mine": the open schools most like a given one in phase, size, setting and
place, for its directory page and for coordinators looking for partners for a school.

How the score works (0 to 100 points, computed in one SQL query so it scales to a national
directory; ties go to the nearer school, then to the name):

- phase, 40 points: the same phase scores 40; a neighbouring phase (primary and all-through,
  middle and secondary, special and alternative provision...) 20, because those schools
  share much of their curriculum and pupils; anything else 0. Phase weighs most: a primary
  learns little about phonics from a sixth-form college however close it is.
- size, 25 points: pupils fall into bands (up to 100, 101-250, 251-500, 501-1,000, over
  1,000). The same band scores 25, and so does a size within a quarter of this school's
  either side of a band's edge (236 and 256 pupils are alike); the next band up or down
  scores 12. Bands, so that a one-form-entry primary of 190 and one of 230 count as alike
  and a score is easy to explain. A school whose size is not known scores 0 here.
- setting, 15 points: both urban or both rural. Rural schools share problems (small
  cohorts, mixed-age classes, travel) that urban ones do not.
- distance, 20 points, from easting/northing: within 5 km 20, 10 km 16, 20 km 12, 35 km 8,
  50 km 4, farther 0. Steps, not a smooth curve, so the SQL needs no square root (SQLite
  has none); the exact distance still breaks ties, so at equal scores nearer comes first.
  A school with no location scores 0 here.

A school with the same phase, size band and setting within 5 km scores 100.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import Organisation, SchoolProfile
from app.services.geo import km_between, squared_metres_sql

PHASE_POINTS = 40
RELATED_PHASE_POINTS = 20
SIZE_POINTS = 25
ADJACENT_SIZE_POINTS = 12
SETTING_POINTS = 15
# (within this many km, points), nearest first.
DISTANCE_POINTS = ((5, 20), (10, 16), (20, 12), (35, 8), (50, 4))
# Upper bounds of the size bands; above the last is the last band.
SIZE_BANDS = (100, 250, 500, 1000)
SIZE_BAND_LABELS = ("up to 100 pupils", "101 to 250 pupils", "251 to 500 pupils", "501 to 1,000 pupils",
                    "over 1,000 pupils")
# Phases close enough to share practice (symmetric).
RELATED_PHASES = {
    frozenset(pair)
    for pair in (
        ("nursery", "primary"),
        ("primary", "all_through"),
        ("primary", "middle"),
        ("middle", "secondary"),
        ("secondary", "all_through"),
        ("secondary", "post16"),
        ("all_through", "post16"),
        ("special", "pru"),
    )
}
MAX_LIMIT = 50


@dataclass
class SimilarSchool:
    organisation: Organisation
    score: int
    km: float | None
    reasons: list[str]


def size_band(pupils: int | None) -> int | None:
    if pupils is None:
        return None
    for index, upper in enumerate(SIZE_BANDS):
        if pupils <= upper:
            return index
    return len(SIZE_BANDS)


def _related(phase: str | None) -> list[str]:
    if not phase:
        return []
    return sorted(other for pair in RELATED_PHASES if phase in pair for other in pair if other != phase)


def close_in_size(a: int | None, b: int | None) -> bool:
    """Within a quarter either way: 4/5 of b <= a <= 5/4 of b (in whole numbers)."""
    return a is not None and b is not None and 4 * b <= 5 * a and 4 * a <= 5 * b


def _close_in_size(pupils_col, pupils: int):
    return and_(4 * pupils <= 5 * pupils_col, 4 * pupils_col <= 5 * pupils)


def _band_sql(pupils_col):
    whens = [(pupils_col <= upper, index) for index, upper in enumerate(SIZE_BANDS)]
    return case(*whens, else_=len(SIZE_BANDS))


def _score_parts(school: SchoolProfile, origin: tuple[int, int] | None):
    """SQL expressions for each part of the score, for the candidate row being read."""
    candidate = SchoolProfile
    if school.phase:
        related = _related(school.phase)
        phase = case(
            (candidate.phase == school.phase, PHASE_POINTS),
            *([(candidate.phase.in_(related), RELATED_PHASE_POINTS)] if related else []),
            else_=0,
        )
    else:
        phase = literal(0)
    band = size_band(school.pupils)
    if band is not None:
        difference = func.abs(_band_sql(candidate.pupils) - band)
        size = case(
            (candidate.pupils.is_(None), 0),
            (or_(difference == 0, _close_in_size(candidate.pupils, school.pupils)), SIZE_POINTS),
            (difference == 1, ADJACENT_SIZE_POINTS),
            else_=0,
        )
    else:
        size = literal(0)
    setting = case((candidate.urban_rural == school.urban_rural, SETTING_POINTS), else_=0) if school.urban_rural else literal(0)
    if origin is not None:
        squared = squared_metres_sql(Organisation.easting, Organisation.northing, origin[0], origin[1])
        located = and_(Organisation.easting.is_not(None), Organisation.northing.is_not(None))
        distance = case(
            *[(and_(located, squared <= (km * 1000) ** 2), points) for km, points in DISTANCE_POINTS],
            else_=0,
        )
        # Unlocated schools sort after every located one at the same score.
        order_distance = case((located, squared), else_=None)
    else:
        distance = literal(0)
        order_distance = None
    return phase, size, setting, distance, order_distance


def similar_schools(organisation: Organisation, limit: int = 10) -> list[SimilarSchool]:
    """The open schools most like this one, best first (see the module's note on scoring).

    Empty for an organisation that is not a school or has no school profile. Closed schools
    and the school itself are never suggested."""
    school = organisation.school if organisation is not None else None
    if school is None or organisation.kind != "school":
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    origin = (
        (organisation.easting, organisation.northing)
        if organisation.easting is not None and organisation.northing is not None
        else None
    )
    phase, size, setting, distance, order_distance = _score_parts(school, origin)
    score = (phase + size + setting + distance).label("score")
    order = [score.desc()]
    if order_distance is not None:
        order += [order_distance.is_(None), order_distance]
    order += [func.lower(Organisation.name), Organisation.id]
    rows = db.session.execute(
        select(Organisation, score)
        .join(SchoolProfile, SchoolProfile.organisation_id == Organisation.id)
        .where(
            Organisation.kind == "school",
            Organisation.id != organisation.id,
            or_(SchoolProfile.status.is_(None), SchoolProfile.status != "closed"),
        )
        .order_by(*order)
        .limit(limit)
        .options(contains_eager(Organisation.school))
    ).all()
    return [_similar(organisation, other, int(points or 0)) for other, points in rows]


def _similar(mine: Organisation, other: Organisation, score: int) -> SimilarSchool:
    km = km_between(mine.easting, mine.northing, other.easting, other.northing)
    return SimilarSchool(organisation=other, score=score, km=km, reasons=reasons(mine.school, other.school, km))


def reasons(mine: SchoolProfile, other: SchoolProfile, km: float | None) -> list[str]:
    """What the two schools have in common, in words, for the list on the profile page."""
    said = []
    if mine.phase and other.phase == mine.phase:
        said.append(f"also {other.phase_label.lower()}" if other.phase_label else "same phase")
    elif mine.phase and other.phase in _related(mine.phase):
        said.append(f"{other.phase_label.lower()}, a neighbouring phase")
    mine_band, other_band = size_band(mine.pupils), size_band(other.pupils)
    if mine_band is not None and other_band is not None:
        if mine_band == other_band or close_in_size(other.pupils, mine.pupils):
            said.append(f"similar size ({SIZE_BAND_LABELS[other_band]})")
        elif abs(mine_band - other_band) == 1:
            said.append(f"close in size ({SIZE_BAND_LABELS[other_band]})")
    if mine.urban_rural and other.urban_rural == mine.urban_rural:
        said.append(f"also {mine.urban_rural}")
    if km is not None and km <= DISTANCE_POINTS[-1][0]:
        said.append(f"{km:.1f} km away")
    return said
