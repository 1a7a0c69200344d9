"""The public catalogue of published offers (/offers) and the home page's views of it.

Filtering, facet counts, sorting and paging live here, as SQL with a constant number of
queries per page. Full-text search is the search engine's (app.search): the view passes its
answer to `browse` (matching offer ids in rank order), which restricts and, by default,
orders by it; without that answer `browse` matches `q` itself with a plain LIKE.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ARRAY, Integer, and_, any_, bindparam, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Category, FacetTerm, Network, Offer, OfferSession, Organisation, QualityScore
from app.models.base import utcnow
from app.models.offers import STALE_AFTER_DAYS, offer_terms
from app.models.taxonomy import FACETS
from app.services.errors import NotFound
from app.services.geo import km_between, squared_metres_sql
from app.services.paging import Page

PER_PAGE = 20
MAX_QUERY_LENGTH = 200
# Farther than this is no longer "near": a larger value is treated as this.
MAX_WITHIN_KM = 1000
# The facets of the catalogue contract, in the order the filters show them.
FILTER_FACETS = ("phase", "subject", "audience", "format", "delivery")
SORTS = {
    # The search engine's order, best match first; without search words, soonest first.
    "relevance": "Best match",
    "soonest": "Soonest date first",
    "newest": "Newest first",
    "nearest": "Nearest to my school",
    "best_rated": "Best rated",
}
DEFAULT_SORT = "soonest"
DISTANCE_CHOICES = (2, 5, 10, 20, 50)
ARG_NAMES = ("q", "category", *FILTER_FACETS, "within_km", "sort", "page")
HOME_LIST_SIZE = 6


# --- Cleaning the query arguments -------------------------------------------------------


@dataclass(frozen=True)
class CatalogueQuery:
    """The catalogue's arguments after cleaning: only known values survive."""

    q: str | None = None
    category: str | None = None
    facets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    within_km: float | None = None
    sort: str = DEFAULT_SORT
    sort_chosen: bool = False  # the URL named a sort (a search ranks by relevance otherwise)
    page: int = 1

    def as_args(self) -> dict:
        """The query as URL arguments (without the page), for links that keep it."""
        args: dict = {}
        if self.q:
            args["q"] = self.q
        if self.category:
            args["category"] = self.category
        for name in FILTER_FACETS:
            if self.facets.get(name):
                args[name] = list(self.facets[name])
        if self.within_km is not None:
            args["within_km"] = _format_km(self.within_km)
        if self.sort_chosen:
            args["sort"] = self.sort
        return args

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.category or any(self.facets.values()) or self.within_km is not None)


def _format_km(km: float) -> str:
    return str(int(km)) if float(km).is_integer() else f"{km:g}"


def _values(raw, name: str) -> list[str]:
    """Every string given for an argument; raw maps names to a string or a list of them."""
    value = raw.get(name) if hasattr(raw, "get") else None
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _first(raw, name: str) -> str | None:
    values = _values(raw, name)
    return values[0] if values else None


def _clean_text(value: str | None) -> str | None:
    if not value:
        return None
    # NUL is legal in a URL but not in a PostgreSQL string.
    value = value.replace("\x00", "").strip()[:MAX_QUERY_LENGTH].strip()
    return value or None


def _clean_km(value: str | None) -> float | None:
    if not value:
        return None
    try:
        km = float(value.strip())
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(km) or km <= 0:
        return None
    return min(km, MAX_WITHIN_KM)


def _clean_page(value: str | None) -> int:
    if not value:
        return 1
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        return 1
    try:
        page = int(value)
    except ValueError:
        # More digits than Python will convert: certainly past the last page.
        return 2**63
    return max(page, 1)


def query_text(raw) -> str | None:
    """The search words of these arguments, cleaned as browse cleans them (for the engine)."""
    return _clean_text(_first(raw, "q"))


def clean_query(raw, vocabulary: Vocabulary) -> CatalogueQuery:
    """Keep only argument values that mean something; junk is ignored, never an error."""
    facets = {}
    for name in FILTER_FACETS:
        wanted = set(_values(raw, name))
        # Vocabulary order, not URL order: the same filters give the same URL.
        facets[name] = tuple(term.slug for term in vocabulary.terms.get(name, ()) if term.slug in wanted)
    category = _first(raw, "category")
    sort = _first(raw, "sort")
    return CatalogueQuery(
        q=_clean_text(_first(raw, "q")),
        category=category if category in vocabulary.categories_by_slug else None,
        facets=facets,
        within_km=_clean_km(_first(raw, "within_km")),
        sort=sort if sort in SORTS else DEFAULT_SORT,
        sort_chosen=sort in SORTS,
        page=_clean_page(_first(raw, "page")),
    )


# --- Vocabulary: categories and facet terms ----------------------------------------------


@dataclass
class Vocabulary:
    top_categories: list[Category]
    children: dict[int, list[Category]]
    categories_by_slug: dict[str, Category]
    terms: dict[str, list[FacetTerm]]

    def category_ids(self, slug: str) -> list[int]:
        """A category and, for a top-level one, its sub-categories."""
        category = self.categories_by_slug[slug]
        return [category.id] + [child.id for child in self.children.get(category.id, [])]


def load_vocabulary() -> Vocabulary:
    """The category tree and the filter facets' terms: two queries."""
    categories = list(db.session.scalars(select(Category).order_by(Category.position, Category.name, Category.id)))
    children: dict[int, list[Category]] = defaultdict(list)
    for category in categories:
        if category.parent_id is not None:
            children[category.parent_id].append(category)
    terms: dict[str, list[FacetTerm]] = {name: [] for name in FILTER_FACETS}
    for term in db.session.scalars(
        select(FacetTerm).where(FacetTerm.facet.in_(FILTER_FACETS)).order_by(FacetTerm.position, FacetTerm.label, FacetTerm.id)
    ):
        terms[term.facet].append(term)
    return Vocabulary(
        top_categories=[c for c in categories if c.parent_id is None],
        children=dict(children),
        categories_by_slug={c.slug: c for c in categories},
        terms=terms,
    )


# --- Where the viewer is -----------------------------------------------------------------


def viewer_origin(viewer) -> tuple[int, int] | None:
    """The easting/northing of a signed-in viewer's organisation, when it is known."""
    if viewer is None or not getattr(viewer, "is_authenticated", False) or not getattr(viewer, "active", False):
        return None
    organisation = viewer.organisation
    if organisation is None or organisation.easting is None or organisation.northing is None:
        return None
    return organisation.easting, organisation.northing


def _signed_in(viewer) -> bool:
    return bool(viewer is not None and getattr(viewer, "is_authenticated", False))


# --- Cards -------------------------------------------------------------------------------


@dataclass
class OfferCard:
    """What offers/_card.html shows for one offer."""

    offer: Offer
    next_at: datetime | None
    km: float | None
    stale: bool


def card_for(offer: Offer, origin: tuple[int, int] | None = None, now: datetime | None = None, today: date | None = None) -> OfferCard:
    """A card for an offer already in hand (reads offer.sessions, so load them with it)."""
    now = now or utcnow()
    upcoming = [s.starts_at for s in offer.sessions if s.cancelled_at is None and s.starts_at >= now]
    return OfferCard(
        offer=offer,
        next_at=min(upcoming) if upcoming else None,
        km=_km(offer, origin),
        stale=offer.is_stale(today or date.today()),
    )


def _km(offer: Offer, origin: tuple[int, int] | None) -> float | None:
    if origin is None:
        return None
    return km_between(origin[0], origin[1], offer.easting, offer.northing)


def _card_options():
    return (
        joinedload(Offer.organisation).joinedload(Organisation.school),
        joinedload(Offer.category),
        selectinload(Offer.terms),
    )


def _next_session_subquery(now: datetime):
    """Each offer's next upcoming, not cancelled session (a subquery to outer-join)."""
    return (
        select(OfferSession.offer_id.label("offer_id"), func.min(OfferSession.starts_at).label("next_at"))
        .where(OfferSession.starts_at >= now, OfferSession.cancelled_at.is_(None))
        .group_by(OfferSession.offer_id)
        .subquery("next_session")
    )


def _stale_condition(today: date):
    cutoff = today - timedelta(days=STALE_AFTER_DAYS)
    return or_(Offer.assured_on.is_(None), Offer.assured_on < cutoff)


def ids_in(column, ids):
    """column IN ids. On PostgreSQL as `= ANY(array)`: one parameter instead of hundreds, which
    every query of a searched page would otherwise render, send and parse again."""
    ids = [int(i) for i in ids]
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return column.in_(ids)


def _located():
    return and_(Offer.easting.is_not(None), Offer.northing.is_not(None))


# --- The catalogue -----------------------------------------------------------------------


@dataclass
class FacetOption:
    slug: str
    label: str
    count: int
    selected: bool


@dataclass
class FacetGroup:
    name: str
    label: str
    options: list[FacetOption]

    @property
    def selected(self) -> int:
        return sum(1 for option in self.options if option.selected)


@dataclass
class CategoryOption:
    slug: str
    name: str
    count: int
    selected: bool


@dataclass
class CategoryGroup:
    """A top-level category: choosing it includes all of its sub-categories."""

    top: CategoryOption
    children: list[CategoryOption]


@dataclass
class Catalogue:
    query: CatalogueQuery
    results: Page  # of OfferCard
    facets: list[FacetGroup]
    categories: list[CategoryGroup]
    sort_used: str
    notes: list[str]
    located: bool  # the viewer's organisation has a location: distance works
    signed_in: bool
    distance_choices: list[tuple[str, str]]
    sorts: dict[str, str] = field(default_factory=lambda: dict(SORTS))

    @property
    def sort_selected(self) -> str:
        """The sort the form shows as chosen. Unless one was chosen it is "relevance", which
        orders by the search words and, without any, soonest first: so words typed into the
        form later (with or without htmx) are ranked by relevance, not by a default sort the
        form would otherwise send as if it had been chosen."""
        return self.query.sort if self.query.sort_chosen else "relevance"


class _Conditions:
    """The WHERE clause in named parts, so a facet's counts can leave out its own selection."""

    def __init__(self):
        self.parts: dict[str, object] = {}

    def add(self, name: str, condition) -> None:
        self.parts[name] = condition

    def all(self, without: str | None = None) -> list:
        return [condition for name, condition in self.parts.items() if name != without]


def _conditions(query: CatalogueQuery, vocabulary: Vocabulary, origin, ranked_ids) -> _Conditions:
    where = _Conditions()
    where.add("status", Offer.status == "published")
    if ranked_ids is not None:
        where.add("q", ids_in(Offer.id, ranked_ids))
    elif query.q:
        where.add("q", or_(Offer.title.icontains(query.q, autoescape=True), Offer.summary.icontains(query.q, autoescape=True)))
    if query.category:
        where.add("category", Offer.category_id.in_(vocabulary.category_ids(query.category)))
    terms_by_slug = {name: {t.slug: t.id for t in vocabulary.terms.get(name, ())} for name in FILTER_FACETS}
    for name in FILTER_FACETS:
        slugs = query.facets.get(name) or ()
        if slugs:
            # Any of the chosen values (OR) within a facet; facets combine with AND.
            ids = [terms_by_slug[name][slug] for slug in slugs]
            where.add(f"facet:{name}", Offer.id.in_(select(offer_terms.c.offer_id).where(offer_terms.c.term_id.in_(ids))))
    if query.within_km is not None and origin is not None:
        limit = int(round(query.within_km * 1000)) ** 2
        where.add("within_km", and_(_located(), squared_metres_sql(Offer.easting, Offer.northing, origin[0], origin[1]) <= limit))
    return where


def _facet_groups(query: CatalogueQuery, vocabulary: Vocabulary, where: _Conditions) -> list[FacetGroup]:
    """Counts per facet value among the current results, ignoring that facet's own choice.

    Facets with nothing chosen share one GROUP BY; each facet with a choice needs its own."""
    counts: dict[int, int] = {}
    unselected = [name for name in FILTER_FACETS if not query.facets.get(name)]
    batches = []
    if unselected:
        batches.append((where.all(), [t.id for name in unselected for t in vocabulary.terms.get(name, ())]))
    for name in FILTER_FACETS:
        if query.facets.get(name):
            batches.append((where.all(without=f"facet:{name}"), [t.id for t in vocabulary.terms.get(name, ())]))
    for conditions, term_ids in batches:
        if not term_ids:
            continue
        matching = select(Offer.id).where(*conditions)
        rows = db.session.execute(
            select(offer_terms.c.term_id, func.count(offer_terms.c.offer_id))
            .where(offer_terms.c.offer_id.in_(matching), offer_terms.c.term_id.in_(term_ids))
            .group_by(offer_terms.c.term_id)
        )
        counts.update({term_id: n for term_id, n in rows})
    groups = []
    for name in FILTER_FACETS:
        chosen = set(query.facets.get(name) or ())
        options = [FacetOption(t.slug, t.label, counts.get(t.id, 0), t.slug in chosen) for t in vocabulary.terms.get(name, ())]
        groups.append(FacetGroup(name=name, label=FACETS[name], options=options))
    return groups


def _category_groups(query: CatalogueQuery, vocabulary: Vocabulary, where: _Conditions) -> list[CategoryGroup]:
    rows = db.session.execute(
        select(Offer.category_id, func.count(Offer.id)).where(*where.all(without="category")).group_by(Offer.category_id)
    )
    counts = dict(rows.all())
    groups = []
    for top in vocabulary.top_categories:
        children = vocabulary.children.get(top.id, [])
        child_options = [CategoryOption(c.slug, c.name, counts.get(c.id, 0), c.slug == query.category) for c in children]
        total = counts.get(top.id, 0) + sum(option.count for option in child_options)
        groups.append(CategoryGroup(CategoryOption(top.slug, top.name, total, top.slug == query.category), child_options))
    return groups


def _order_by(sort: str, next_at, origin, today: date, ranked_ids):
    """The ORDER BY for a sort. Returns (sort actually used, order clauses)."""
    newest = [case((Offer.published_at.is_(None), 1), else_=0), Offer.published_at.desc(), Offer.id.desc()]
    soonest = [case((next_at.is_(None), 1), else_=0), next_at, Offer.published_at.desc(), Offer.id]
    if sort == "relevance":
        if not ranked_ids:
            return "relevance", [Offer.id]
        rank = case({offer_id: position for position, offer_id in enumerate(ranked_ids)}, value=Offer.id, else_=len(ranked_ids))
        return "relevance", [rank, Offer.id]
    if sort == "newest":
        return "newest", newest
    if sort == "best_rated":
        # The cached feedback score (a shrunk mean: app.services.feedback); offers without
        # feedback follow those with it, newest first; stale offers sink as in "soonest".
        rated = _offer_score()
        return "best_rated", [case((_stale_condition(today), 1), else_=0), case((rated.is_(None), 1), else_=0),
                              rated.desc(), *newest]
    if sort == "nearest":
        distance = squared_metres_sql(Offer.easting, Offer.northing, origin[0], origin[1])
        return "nearest", [case((_located(), 0), else_=1), distance, *soonest]
    # Soonest: offers not confirmed as current for a year sink below the fresh ones.
    return "soonest", [case((_stale_condition(today), 1), else_=0), *soonest]


def _offer_score():
    """The offer's cached feedback score, or NULL when no visible feedback counts."""
    return (
        select(QualityScore.score)
        .where(QualityScore.subject == "offer", QualityScore.subject_id == Offer.id, QualityScore.count > 0)
        .correlate(Offer)
        .scalar_subquery()
    )


def _any_rated(where: _Conditions) -> bool:
    """Whether any offer among the results has feedback that counts (one EXISTS query)."""
    return bool(db.session.scalar(select(
        select(QualityScore.id).where(
            QualityScore.subject == "offer", QualityScore.count > 0,
            QualityScore.subject_id.in_(select(Offer.id).where(*where.all())),
        ).exists()
    )))


def _sort_and_notes(query: CatalogueQuery, origin, viewer, ranked_ids, where: _Conditions) -> tuple[str, list[str]]:
    notes = []
    sort = query.sort
    if ranked_ids is not None and (not query.sort_chosen or sort == "relevance"):
        return "relevance", notes
    if sort == "relevance":
        # No search engine answer to rank by (no words, or matched here with LIKE).
        sort = DEFAULT_SORT
    if sort == "nearest" and origin is None:
        if _signed_in(viewer):
            notes.append("Your organisation's location is not recorded, so these are sorted by soonest date instead of distance.")
        else:
            notes.append("Sign in to sort by distance from your school. These are sorted by soonest date instead.")
        sort = "soonest"
    elif sort == "best_rated" and not _any_rated(where):
        notes.append("None of these offers has feedback yet, so they are sorted newest first.")
        sort = "newest"
    return sort, notes


def browse(raw_args, viewer=None, *, ranked_ids: list[int] | None = None, per_page: int = PER_PAGE,
           now: datetime | None = None, today: date | None = None) -> Catalogue:
    """One page of the catalogue for these query arguments, with facet counts.

    raw_args maps argument names to a string or a list of strings (request.args as
    to_dict(flat=False)). ranked_ids is a search backend's answer for q: matching offer
    ids, best first; None means no backend, so q is matched here with a plain LIKE.
    A page past the end is a NotFound, decided before any OFFSET reaches the database."""
    now = now or utcnow()
    today = today or date.today()
    per_page = max(1, int(per_page))
    vocabulary = load_vocabulary()
    query = clean_query(raw_args, vocabulary)
    origin = viewer_origin(viewer)
    notes_before = []
    if query.within_km is not None and origin is None:
        if _signed_in(viewer):
            notes_before.append("Your organisation's location is not recorded, so the distance filter was not applied.")
        else:
            notes_before.append("Sign in to filter by distance from your school. The distance in this address was not applied.")

    where = _conditions(query, vocabulary, origin, ranked_ids)
    ranked_matches = None
    if ranked_ids is not None and (not query.sort_chosen or query.sort == "relevance"):
        # In the engine's order: the matching ids (at most the engine's limit) are ordered
        # here, and only one page of rows is loaded, rather than sorting by a CASE with a
        # branch for every id.
        matching = set(db.session.scalars(select(Offer.id).where(*where.all())))
        ranked_matches = list(dict.fromkeys(i for i in ranked_ids if i in matching))
        total = len(ranked_matches)
    else:
        total = db.session.scalar(select(func.count(Offer.id)).where(*where.all())) or 0
    results = Page(items=[], total=total, page=query.page, per_page=per_page)
    if query.page > results.pages:
        raise NotFound("There is no such page of results.")

    sort, notes = _sort_and_notes(query, origin, viewer, ranked_ids, where)
    next_session = _next_session_subquery(now)
    if ranked_matches is not None:
        shown = ranked_matches[(query.page - 1) * per_page:query.page * per_page]
        loaded = {offer.id: (offer, next_at) for offer, next_at in db.session.execute(
            select(Offer, next_session.c.next_at)
            .outerjoin(next_session, next_session.c.offer_id == Offer.id)
            .where(Offer.id.in_(shown))
            .options(*_card_options())
        ).unique().all()} if shown else {}
        sort_used, rows = "relevance", [loaded[i] for i in shown if i in loaded]
    else:
        sort_used, order = _order_by(sort, next_session.c.next_at, origin, today, ranked_ids)
        rows = db.session.execute(
            select(Offer, next_session.c.next_at)
            .outerjoin(next_session, next_session.c.offer_id == Offer.id)
            .where(*where.all())
            .order_by(*order)
            .limit(per_page)
            .offset((query.page - 1) * per_page)
            .options(*_card_options())
        ).all()
    results.items = [OfferCard(offer, next_at, _km(offer, origin), offer.is_stale(today)) for offer, next_at in rows]

    distance_choices = [(str(km), f"Within {km} km") for km in DISTANCE_CHOICES]
    if query.within_km is not None and _format_km(query.within_km) not in {value for value, _ in distance_choices}:
        distance_choices.append((_format_km(query.within_km), f"Within {_format_km(query.within_km)} km"))
    return Catalogue(
        query=query,
        results=results,
        facets=_facet_groups(query, vocabulary, where),
        categories=_category_groups(query, vocabulary, where),
        sort_used=sort_used,
        notes=notes_before + notes,
        located=origin is not None,
        signed_in=_signed_in(viewer),
        distance_choices=distance_choices,
    )


# --- The home page -----------------------------------------------------------------------


@dataclass
class CategoryCount:
    category: Category
    count: int


@dataclass
class HomePage:
    facts: dict[str, int]
    categories: list[CategoryCount]
    upcoming: list[OfferCard]
    near: list[OfferCard] | None  # None: the viewer has no located organisation
    signed_in: bool


def partnership_facts() -> dict[str, int]:
    """Headline numbers in one query."""

    def count(stmt):
        return stmt.scalar_subquery()

    row = db.session.execute(
        select(
            count(select(func.count(Organisation.id))).label("organisations"),
            count(select(func.count(Organisation.id)).where(Organisation.kind == "school")).label("schools"),
            count(select(func.count(Network.id))).label("networks"),
            count(select(func.count(Offer.id)).where(Offer.status == "published")).label("offers"),
        )
    ).one()
    return {key: value or 0 for key, value in row._mapping.items()}


def top_category_counts() -> list[CategoryCount]:
    """Top-level categories with their published offers (their own and their children's): one query."""
    top_id = func.coalesce(Category.parent_id, Category.id).label("top_id")
    counts = (
        select(top_id, func.count(Offer.id).label("n"))
        .join(Offer, Offer.category_id == Category.id)
        .where(Offer.status == "published")
        .group_by(top_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Category, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.top_id == Category.id)
        .where(Category.parent_id.is_(None))
        .order_by(Category.position, Category.name, Category.id)
    ).all()
    return [CategoryCount(category, n) for category, n in rows]


def _cards(stmt, origin, today, options=None) -> list[OfferCard]:
    rows = db.session.execute(stmt.options(*(options if options is not None else _card_options()))).all()
    return [OfferCard(offer, next_at, _km(offer, origin), offer.is_stale(today)) for offer, next_at in rows]


def upcoming(limit: int = HOME_LIST_SIZE, now: datetime | None = None, today: date | None = None, origin=None) -> list[OfferCard]:
    """Published offers with the soonest next session, one line per offer (a series of six
    twilights shows once, at its next date)."""
    next_session = _next_session_subquery(now or utcnow())
    stmt = (
        select(Offer, next_session.c.next_at)
        .join(next_session, next_session.c.offer_id == Offer.id)
        .where(Offer.status == "published")
        .order_by(next_session.c.next_at, Offer.id)
        .limit(limit)
    )
    # A line per offer, not a card: the provider is all it needs.
    return _cards(stmt, origin, today or date.today(), options=[joinedload(Offer.organisation)])


def nearest(origin: tuple[int, int], limit: int = HOME_LIST_SIZE, now: datetime | None = None, today: date | None = None,
            exclude_organisation_id: int | None = None) -> list[OfferCard]:
    """The published offers nearest to origin, leaving out the viewer's own organisation's
    (a school looking for support nearby does not need its own offers at 0 km)."""
    next_session = _next_session_subquery(now or utcnow())
    stmt = (
        select(Offer, next_session.c.next_at)
        .outerjoin(next_session, next_session.c.offer_id == Offer.id)
        .where(Offer.status == "published", _located(), Offer.organisation_id != (exclude_organisation_id or 0))
        .order_by(squared_metres_sql(Offer.easting, Offer.northing, origin[0], origin[1]), Offer.id)
        .limit(limit)
    )
    return _cards(stmt, origin, today or date.today())


def home_page(viewer=None, now: datetime | None = None, today: date | None = None) -> HomePage:
    now = now or utcnow()
    today = today or date.today()
    origin = viewer_origin(viewer)
    return HomePage(
        facts=partnership_facts(),
        categories=top_category_counts(),
        upcoming=upcoming(now=now, today=today, origin=origin),
        near=nearest(origin, now=now, today=today, exclude_organisation_id=viewer.organisation_id) if origin is not None else None,
        signed_in=_signed_in(viewer),
    )
