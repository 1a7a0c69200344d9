"""What a search shows: the engine's ids (in rank order) turned into rows by SQL, with the same
visibility as everywhere else, grouped by kind with counts; and the log of searches that
found nothing (SearchMiss), for the coordinators' coverage view.

Visibility is decided here, never by the index: offers must be published; organisations are
those the directory lists (closed schools are left out); experts must have a public profile
and an active account; support requests go through support_requests.visible_clause, so a
coordinator-only request reaches coordinators and its own school only, and visitors get no
requests at all.

When a miss is logged: once per search a person submits (the GET form without JavaScript,
pressing Enter or the Search button with it, following a link, reloading), never for the
requests htmx sends while someone types. The view decides what a submission is
(`is_submission`); `log_miss` then skips a repeat of the same search by the same person
within a minute (Enter pressed twice, a reload).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import nh3
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Category, ExpertProfile, Membership, Organisation, SchoolProfile, SearchMiss, SupportRequest, User
from app.models.base import utcnow
from app.services import catalogue, support_requests
from app.services.errors import NotFound
from app.services.paging import Page

log = logging.getLogger(__name__)

KINDS = ("offer", "organisation", "expert", "request")
KIND_LABELS = {
    "offer": "Offers",
    "organisation": "Schools and organisations",
    "expert": "Experts",
    "request": "Support requests",
}
KIND_NOUNS = {
    "offer": ("offer", "offers"),
    "organisation": ("school or organisation", "schools and organisations"),
    "expert": ("expert", "experts"),
    "request": ("support request", "support requests"),
}
# How many of each kind the all-kinds page shows before "See all".
PREVIEW = 5
PER_PAGE = 20
# The engine answers at most this many ids a kind: enough for every page anyone reads.
ENGINE_LIMIT = 500
MISS_REPEAT_WINDOW = timedelta(seconds=60)
# Arguments of /search besides the catalogue's own (which narrow the offers).
SEARCH_ARG_NAMES = ("q", "kind", "page", "category", *catalogue.FILTER_FACETS, "within_km", "sort")


def _engine():
    from app import search as engine

    return engine


def max_query_bytes() -> int:
    return getattr(_engine(), "MAX_QUERY_BYTES", 2048)


def _signed_in(viewer) -> bool:
    return bool(viewer is not None and getattr(viewer, "is_authenticated", False) and getattr(viewer, "active", False))


def kinds_for(viewer) -> tuple[str, ...]:
    """The kinds a viewer may search: support requests are for signed-in people only."""
    return KINDS if _signed_in(viewer) else tuple(k for k in KINDS if k != "request")


# --- Cleaning what was typed --------------------------------------------------------------


def _first(raw, name: str) -> str | None:
    value = raw.get(name) if hasattr(raw, "get") else None
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


def clean_text(value: str | None) -> str:
    """The query as the engine gets it: no NUL (PostgreSQL refuses it in text), no control
    characters, runs of white space made one space."""
    if not value:
        return ""
    value = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(value.split())


def too_long(q: str) -> bool:
    """Over the limit as typed (in UTF-8 bytes), before any cleaning."""
    return len(q.encode("utf-8", "surrogatepass")) > max_query_bytes()


def refusal_message() -> str:
    limit = max_query_bytes()
    return (f"That search is too long to look up: please use fewer words (at most {limit:,} bytes, "
            "about two paragraphs).")


# --- Snippets ----------------------------------------------------------------------------


def safe_snippet(html: str | None) -> Markup | None:
    """The engine's snippet is escaped text with <mark> highlights; clean it once more, keeping
    only <mark>, so that a fault in a backend can never put markup from user text on a page."""
    if not html:
        return None
    return Markup(nh3.clean(html, tags={"mark"}, attributes={}, strip_comments=True))


# --- Asking the engine --------------------------------------------------------------------


@dataclass
class Ranking:
    """The engine's answer, or what stood in for it."""

    ids: dict[str, list[int]] = field(default_factory=dict)
    snippets: dict[tuple[str, int], str] = field(default_factory=dict)
    suggestion: str | None = None  # the engine corrected a word: the results are for this
    fallback: bool = False
    notice: str | None = None  # what to say about a fallback
    error: str | None = None
    query: str = ""

    def snippet(self, kind: str, object_id: int) -> Markup | None:
        return safe_snippet(self.snippets.get((kind, object_id)))

    def capped(self, kind: str | None = None) -> bool:
        """The engine gave as many matches as it may (of this kind, or of any): there are more."""
        kinds = [kind] if kind else list(self.ids)
        return any(len(self.ids.get(k) or []) >= ENGINE_LIMIT for k in kinds)

    def add_snippets(self, keys: list[tuple[str, int]]) -> None:
        """Snippets for the results a page shows (one call to the engine for all of them)."""
        missing = [key for key in keys if key not in self.snippets]
        if not missing or self.error or not self.query:
            return
        more = getattr(_engine(), "snippets_for", None)
        if more is None:
            return
        try:
            self.snippets.update(more(self.query, missing) or {})
        except Exception:  # snippets are a nicety: never fail a page for them
            log.exception("snippets failed")


def rank(q: str, kinds: tuple[str, ...]) -> Ranking:
    """Ask the engine. It never raises for what people type; if it fails for another reason
    the page still answers, with a message instead of results. No snippets yet: the page
    asks for them for the results it shows (add_snippets), not for the first fifty of each
    kind, since filters and sorts decide which those are."""
    try:
        result = _engine().search(q, kinds=tuple(kinds), limit=ENGINE_LIMIT, snippet_limit=0)
    except Exception:  # a broken index or backend must not turn a search into a 500
        log.exception("search failed for a query of %d characters", len(q))
        db.session.rollback()
        return Ranking(ids={k: [] for k in kinds}, error="Search is not available just now. Please try again in a minute.")
    ids = {kind: [i for i in (result.ids.get(kind) or []) if isinstance(i, int)] for kind in kinds}
    suggestion = result.suggestion if result.suggestion and result.suggestion.strip().lower() != q.strip().lower() else None
    return Ranking(ids=ids, snippets=dict(result.snippets or {}), suggestion=suggestion,
                   fallback=bool(result.fallback), notice=getattr(result, "notice", None), error=result.error,
                   query=q)


def offer_ranking(q: str) -> Ranking:
    """The catalogue's search: offers only."""
    if too_long(q):
        return Ranking(ids={"offer": []}, error=refusal_message())
    return rank(q, ("offer",))


# --- Rows for ids, with visibility ---------------------------------------------------------


def _in_rank_order(ranked: list[int], visible: set[int]) -> list[int]:
    seen: set[int] = set()
    ordered = []
    for object_id in ranked:
        if object_id in visible and object_id not in seen:
            seen.add(object_id)
            ordered.append(object_id)
    return ordered


def _by_id(rows) -> dict[int, object]:
    return {row.id: row for row in rows}


def visible_organisation_ids(ranked: list[int]) -> list[int]:
    """Organisations the directory lists: every kind, but not closed schools."""
    if not ranked:
        return []
    visible = set(db.session.scalars(
        select(Organisation.id).where(
            catalogue.ids_in(Organisation.id, ranked),
            ~Organisation.school.has(SchoolProfile.status == "closed"),
        )
    ))
    return _in_rank_order(ranked, visible)


def load_organisations(ids: list[int]) -> list[Organisation]:
    rows = _by_id(db.session.scalars(
        select(Organisation).where(Organisation.id.in_(ids)).options(
            selectinload(Organisation.school),
            selectinload(Organisation.memberships).joinedload(Membership.network),
        )
    ))
    return [rows[i] for i in ids if i in rows]


def visible_expert_ids(ranked: list[int]) -> list[int]:
    """Expert profiles (their ids, as the engine keys them) that are public, of an active person."""
    if not ranked:
        return []
    visible = set(db.session.scalars(
        select(ExpertProfile.id).join(User, User.id == ExpertProfile.user_id).where(
            catalogue.ids_in(ExpertProfile.id, ranked), User.active.is_(True), ExpertProfile.public.is_(True),
        )
    ))
    return _in_rank_order(ranked, visible)


def load_experts(ids: list[int]) -> list[ExpertProfile]:
    rows = _by_id(db.session.scalars(
        select(ExpertProfile).where(ExpertProfile.id.in_(ids)).options(
            joinedload(ExpertProfile.user).joinedload(User.organisation).selectinload(Organisation.school),
            selectinload(ExpertProfile.designations),
            selectinload(ExpertProfile.specialisms),
        )
    ))
    return [rows[i] for i in ids if i in rows]


def visible_request_ids(viewer, ranked: list[int]) -> list[int]:
    """Requests the viewer may see, by the support requests' own rule (nothing for visitors)."""
    if not ranked or not _signed_in(viewer):
        return []
    visible = set(db.session.scalars(
        select(SupportRequest.id).where(catalogue.ids_in(SupportRequest.id, ranked), support_requests.visible_clause(viewer))
    ))
    return _in_rank_order(ranked, visible)


def load_requests(viewer, ids: list[int]) -> list[SupportRequest]:
    rows = _by_id(db.session.scalars(
        select(SupportRequest).where(SupportRequest.id.in_(ids)).options(
            joinedload(SupportRequest.organisation), joinedload(SupportRequest.category), selectinload(SupportRequest.terms),
        )
    ))
    # can_view again on the rows themselves: the SQL clause and the rule must agree.
    return [rows[i] for i in ids if i in rows and support_requests.can_view(viewer, rows[i])]


# --- The search page -----------------------------------------------------------------------


@dataclass
class KindResults:
    kind: str
    label: str
    total: int
    page: Page  # the rows shown (a preview on the all-kinds page)

    @property
    def noun(self) -> str:
        singular, plural = KIND_NOUNS[self.kind]
        return singular if self.total == 1 else plural


@dataclass
class SearchPage:
    q: str
    kind: str | None  # one kind shown on its own, or None for all
    kinds: tuple[str, ...]  # the kinds this viewer may search
    groups: dict[str, KindResults]
    ranking: Ranking
    catalogue: catalogue.Catalogue | None  # the offers, with their facets
    signed_in: bool
    refused: bool = False
    error: str | None = None

    @property
    def searched(self) -> bool:
        return bool(self.q) and not self.refused

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups.values())

    @property
    def suggestion(self) -> str | None:
        return self.ranking.suggestion

    @property
    def fallback(self) -> bool:
        return self.ranking.fallback

    @property
    def notice(self) -> str | None:
        return self.ranking.notice

    @property
    def capped(self) -> bool:
        return self.ranking.capped()

    @property
    def limit(self) -> int:
        return ENGINE_LIMIT

    def snippet(self, kind: str, object_id: int) -> Markup | None:
        return self.ranking.snippet(kind, object_id)

    def offer_args(self) -> dict:
        """The catalogue arguments that narrow the offers (for links that keep them)."""
        if self.catalogue is None:
            return {}
        return {name: value for name, value in self.catalogue.query.as_args().items() if name != "q"}

    @property
    def offer_filtered(self) -> bool:
        """A filter narrows the offers (a sort does not)."""
        return bool(_filters_of(self.catalogue))

    def miss_filters(self) -> dict:
        return {"source": "search", "kind": self.kind or "all", **_filters_of(self.catalogue)}

    def category_id(self) -> int | None:
        return _category_id(self.catalogue)


def _page_number(raw) -> int:
    """Junk is page 1; a number too long to be a page is past the end (a 404, not an overflow)."""
    value = (_first(raw, "page") or "").strip()
    if not (value.isascii() and value.isdigit()):
        return 1
    return max(1, int(value)) if len(value) <= 18 else 2**62


def _paged(ids: list[int], page: int, per_page: int, loader) -> Page:
    result = Page(items=[], total=len(ids), page=page, per_page=per_page)
    if page > result.pages:
        raise NotFound("There is no such page of results.")
    start = (page - 1) * per_page
    result.items = loader(ids[start:start + per_page])
    return result


def _category_id(result: catalogue.Catalogue | None) -> int | None:
    """The category the catalogue's filter chose (a slug in the URL), as an id."""
    if result is None or not result.query.category:
        return None
    return db.session.scalar(select(Category.id).where(Category.slug == result.query.category))


def search_page(viewer, raw_args, *, now: datetime | None = None) -> SearchPage:
    """The /search page for these arguments (a mapping of names to a string or a list).

    q: the words; kind: one of KINDS to see only that kind (paged), otherwise a preview of
    each; page; and the catalogue's offer filters (category, facets, within_km, sort).
    Nothing raises for odd input except a page number past the end (NotFound)."""
    raw_args = raw_args or {}
    kinds = kinds_for(viewer)
    kind = _first(raw_args, "kind")
    kind = kind if kind in kinds else None
    typed = _first(raw_args, "q") or ""
    q = clean_text(typed)
    signed_in = _signed_in(viewer)
    empty = {k: KindResults(k, KIND_LABELS[k], 0, Page(items=[], total=0, page=1, per_page=PREVIEW)) for k in kinds}

    if too_long(typed):
        return SearchPage(q="", kind=kind, kinds=kinds, groups=empty, ranking=Ranking(), catalogue=None,
                          signed_in=signed_in, refused=True, error=refusal_message())
    page_number = _page_number(raw_args)
    if not q:
        # No search yet: the form, with the offer filters and their counts over every offer.
        offers = catalogue.browse(_offer_args(raw_args, page=1), viewer, per_page=PREVIEW, now=now)
        return SearchPage(q="", kind=kind, kinds=kinds, groups=empty, ranking=Ranking(), catalogue=offers,
                          signed_in=signed_in)

    ranking = rank(q, kinds)
    groups: dict[str, KindResults] = {}
    per_page = PER_PAGE if kind else PREVIEW

    def page_for(k: str) -> int:
        return page_number if kind == k else 1

    offers = catalogue.browse(
        _offer_args(raw_args, page=page_for("offer")), viewer,
        ranked_ids=ranking.ids.get("offer", []), per_page=per_page if kind in (None, "offer") else 1, now=now,
    )
    groups["offer"] = KindResults("offer", KIND_LABELS["offer"], offers.results.total, offers.results)

    organisation_ids = visible_organisation_ids(ranking.ids.get("organisation", []))
    expert_ids = visible_expert_ids(ranking.ids.get("expert", []))
    loaders = {
        "organisation": (organisation_ids, load_organisations),
        "expert": (expert_ids, load_experts),
    }
    if "request" in kinds:
        loaders["request"] = (visible_request_ids(viewer, ranking.ids.get("request", [])),
                              lambda ids: load_requests(viewer, ids))
    for k, (ids, loader) in loaders.items():
        if kind is not None and kind != k:
            # Only the count is needed for a kind not on show.
            groups[k] = KindResults(k, KIND_LABELS[k], len(ids), Page(items=[], total=len(ids), page=1, per_page=per_page))
        else:
            groups[k] = KindResults(k, KIND_LABELS[k], len(ids), _paged(ids, page_for(k), per_page, loader))
    ranking.add_snippets([(k, item.offer.id if k == "offer" else item.id)
                          for k, group in groups.items() if kind in (None, k) for item in group.page.items])
    return SearchPage(q=q, kind=kind, kinds=kinds, groups={k: groups[k] for k in kinds if k in groups},
                      ranking=ranking, catalogue=offers, signed_in=signed_in, error=ranking.error)


def _offer_args(raw_args, *, page: int) -> dict:
    args = {}
    for name in ("category", *catalogue.FILTER_FACETS, "within_km", "sort"):
        value = raw_args.get(name) if hasattr(raw_args, "get") else None
        if value is not None:
            args[name] = value
    args["page"] = str(page)
    return args


# --- Searches that found nothing ------------------------------------------------------------


def _filters_of(result: catalogue.Catalogue | None) -> dict:
    """The catalogue's filters as URL arguments, without the words, the sort or the page."""
    if result is None:
        return {}
    return {name: value for name, value in result.query.as_args().items() if name not in ("q", "sort", "page")}


def catalogue_miss_filters(result: catalogue.Catalogue) -> dict:
    return {"source": "catalogue", **_filters_of(result)}


def catalogue_category_id(result: catalogue.Catalogue) -> int | None:
    return _category_id(result)


def log_miss(viewer, query: str, *, filters: dict | None = None, category_id: int | None = None,
             now: datetime | None = None) -> SearchMiss | None:
    """Record a search that found nothing, with the viewer's organisation. A repeat of the same
    search (same words and filters) by the same person within a minute is not recorded again.
    Returns the new row, or None when nothing was recorded. Adds and flushes; the caller commits."""
    query = clean_text(query)
    if not query:
        return None
    now = now or utcnow()
    signed_in = _signed_in(viewer)
    user_id = viewer.id if signed_in else None
    organisation_id = viewer.organisation_id if signed_in else None
    filters = dict(filters or {})
    recent = db.session.scalars(
        select(SearchMiss).where(
            SearchMiss.query == query,
            SearchMiss.user_id == user_id if user_id is not None else SearchMiss.user_id.is_(None),
            SearchMiss.at >= now - MISS_REPEAT_WINDOW,
        )
    ).all()
    # JSON has no equality operator in PostgreSQL: compare the filters here.
    if any((row.filters or {}) == filters and row.category_id == category_id for row in recent):
        return None
    miss = SearchMiss(query=query, filters=filters, category_id=category_id, organisation_id=organisation_id,
                      user_id=user_id, at=now)
    db.session.add(miss)
    db.session.flush()
    return miss


def misses(limit: int = 100) -> list[SearchMiss]:
    """The latest searches that found nothing (for coordinators' views)."""
    return list(db.session.scalars(
        select(SearchMiss).order_by(SearchMiss.at.desc(), SearchMiss.id.desc()).limit(max(1, int(limit)))
    ))

