"""Full-text search over offers, organisations, experts and published requests.

The public API: search(), get_backend(), apply_outbox(), backlog(), rebuild(), check(),
ensure_index(), status() and init_app(). The engine (Whoosh by default, PostgreSQL with
SEARCH_BACKEND=postgres) answers with ids in rank order; the database decides what is
still searchable and, given a viewer, what they may see. search() never raises for any
input: bad input gets a polite `error`, an unusable index gets a plain database match
(`fallback`) while the index is rebuilt.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup
from sqlalchemy import case, not_, or_, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import ExpertProfile, Offer, Organisation, SupportRequest, User
from app.models.search import SearchOutbox
from app.search import outbox as _outbox
from app.search.backend import (
    KINDS,
    LockTimeout,
    SearchBackend,
    SearchUnavailable,
    all_documents,
    count_documents,
    load_documents,
    searchable,
    searchable_ids,
)
from app.search.query import ParsedQuery, clean, parse, snippet_from_spans

__all__ = [
    "MAX_QUERY_BYTES", "SearchResult", "apply_outbox", "backlog", "check", "ensure_index",
    "get_backend", "init_app", "rebuild", "search", "status", "ANY_VIEWER",
]

MAX_QUERY_BYTES = 2048
MAX_LIMIT = 5000
# Snippets are made for this many results of each kind (the rest: snippets_for()).
SNIPPETS_PER_KIND = 50
TOO_LONG = f"That search is too long. Please use fewer words (at most {MAX_QUERY_BYTES // 1024} KB)."
UNAVAILABLE = "Search is not available just now. Please try again in a moment."
FALLBACK_NOTICE = ("The search index is being rebuilt, so these results come from a simpler search "
                   "(exact words only, without spelling suggestions).")

log = logging.getLogger(__name__)
apply_outbox = _outbox.apply_outbox
backlog = _outbox.backlog


class _AnyViewer:
    def __repr__(self) -> str:
        return "ANY_VIEWER"


# search(..., viewer=ANY_VIEWER) leaves who may see which request to the caller's SQL.
ANY_VIEWER = _AnyViewer()


@dataclass
class SearchResult:
    query: str = ""
    ids: dict[str, list[int]] = field(default_factory=dict)
    snippets: dict[tuple[str, int], str] = field(default_factory=dict)
    suggestion: str | None = None  # "did you mean"; the results are already for it
    fallback: bool = False  # the index could not answer: a plain database match did
    error: str | None = None  # refused input, in words for the person who typed it
    notice: str | None = None  # what to tell the person when fallback is True
    parsed: ParsedQuery | None = None

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.ids.values())


# --- The backend of this process ---------------------------------------------------------

_EXTENSION = "waymark_search"
_creating = threading.Lock()


def index_dir(app=None) -> str:
    app = app or current_app
    return app.config.get("SEARCH_INDEX_DIR") or os.path.join(app.instance_path, "search")


def get_backend(app=None) -> SearchBackend:
    """This process's backend for the app (created once; it keeps its searchers)."""
    app = app or current_app._get_current_object()
    backend = app.extensions.get(_EXTENSION)
    if backend is None:
        with _creating:
            backend = app.extensions.get(_EXTENSION)
            if backend is None:
                backend = app.extensions[_EXTENSION] = _make_backend(app)
    return backend


def _make_backend(app) -> SearchBackend:
    name = str(app.config.get("SEARCH_BACKEND") or "whoosh").lower()
    if name in ("postgres", "postgresql", "pg"):
        if db.engine.dialect.name == "postgresql":
            from app.search.postgres_backend import PostgresBackend

            return PostgresBackend(lambda: db.engine, trigram=str(app.config.get("SEARCH_PG_TRIGRAM") or "auto"))
        app.logger.error("SEARCH_BACKEND=postgres needs a PostgreSQL DATABASE_URL: using whoosh")
    elif name != "whoosh":
        app.logger.warning("Unknown SEARCH_BACKEND %r: using whoosh", name)
    from app.search.whoosh_backend import WhooshBackend

    return WhooshBackend(index_dir(app))


def init_app(app) -> None:
    """Apply a request's committed changes once its response has gone; and, serving outside
    tests, check the index when the first request arrives (a missing, old or damaged one is
    rebuilt in the background while search answers from the database)."""
    app.after_request(_outbox.apply_after_response)
    app.before_request(_check_index_once)


def _check_index_once() -> None:
    app = current_app._get_current_object()
    if app.extensions.get("waymark_search_checked"):
        return
    app.extensions["waymark_search_checked"] = True
    # Tests build the index when they first search (at once, not in the background).
    if not _background_default(app) or not app.config.get("SEARCH_AUTO_REBUILD", True):
        return
    try:
        ensure_index(background=True)
    except Exception:
        app.logger.exception("Could not check the search index")


# --- Searching -------------------------------------------------------------------------


def _clean_kinds(kinds) -> tuple[str, ...]:
    if isinstance(kinds, str):
        kinds = (kinds,)
    try:
        wanted = {kind for kind in kinds if isinstance(kind, str)}
    except TypeError:
        wanted = set()
    return tuple(kind for kind in KINDS if kind in wanted)


def _clean_limit(limit) -> int:
    try:
        return max(1, min(int(limit), MAX_LIMIT))
    except (TypeError, ValueError, OverflowError):
        return 500


def _too_long(q) -> bool:
    if isinstance(q, bytes):
        return len(q) > MAX_QUERY_BYTES
    if not isinstance(q, str):
        return False
    return len(q) > MAX_QUERY_BYTES or len(q.encode("utf-8", "surrogatepass")) > MAX_QUERY_BYTES


def search(q, *, kinds=KINDS, limit: int = 500, viewer=ANY_VIEWER,
           snippet_limit: int = SNIPPETS_PER_KIND) -> SearchResult:
    """Documents matching q, best first, per kind. Never raises for any input.

    Only rows the database still holds as searchable come back (published offers, open
    schools and other organisations, public experts, published requests). With a viewer
    (a user or None for a visitor) requests are also limited to what they may see; with
    the default ANY_VIEWER that is left to the caller's SQL."""
    kinds = _clean_kinds(kinds)
    result = SearchResult(ids={kind: [] for kind in kinds})
    try:
        if _too_long(q):
            result.error = TOO_LONG
            return result
        text = " ".join(clean(q).split())
        result.query = text
        parsed = result.parsed = parse(text)
        if parsed.empty or not kinds:
            return result
        limit = _clean_limit(limit)
        try:
            effective = _engine_answer(result, parsed, kinds, limit)
        except Exception:
            log.warning("Search index unavailable; answering from the database", exc_info=True)
            effective = parsed
            _fallback(result, parsed, kinds, limit)
        _keep_searchable(result, viewer)
        _add_snippets(result, effective, max(0, int(snippet_limit or 0)))
    except Exception:
        log.exception("Search failed for %r", q if isinstance(q, str) and len(q) < 300 else "(long query)")
        return SearchResult(query=result.query, ids={kind: [] for kind in kinds}, error=UNAVAILABLE)
    return result


def _ask(backend, result: SearchResult, parsed: ParsedQuery, kinds, limit) -> ParsedQuery:
    corrections = backend.corrections(parsed)
    effective = parsed.corrected(corrections)
    hits = backend.search(effective, kinds, limit)
    result.suggestion = effective.display() if corrections else None
    result.ids.update(hits.ids)
    return effective


def _engine_answer(result: SearchResult, parsed: ParsedQuery, kinds, limit) -> ParsedQuery:
    backend = get_backend()
    if not backend.ready() and ensure_index() != "ok":
        raise SearchUnavailable("The search index is not ready.")
    try:
        return _ask(backend, result, parsed, kinds, limit)
    except Exception:
        # Perhaps a reader left behind by a swap in another process: reopen and try again.
        backend.forget()
    try:
        return _ask(backend, result, parsed, kinds, limit)
    except Exception:
        # The index itself is damaged: rebuild it (in the background outside tests; at most
        # every few minutes, so odd input cannot make a process rebuild again and again).
        if not _may_force_rebuild() or ensure_index(force=True) != "ok":
            raise
    return _ask(backend, result, parsed, kinds, limit)


FORCED_REBUILD_INTERVAL = 600.0


def _may_force_rebuild() -> bool:
    extensions = current_app.extensions
    now = time.monotonic()
    last = extensions.get("waymark_search_forced")
    if last is not None and now - last < FORCED_REBUILD_INTERVAL:
        return False
    extensions["waymark_search_forced"] = now
    return True


def _keep_searchable(result: SearchResult, viewer) -> None:
    """Drop ids the database no longer holds as searchable (or the viewer may not see)."""
    for kind, ids in result.ids.items():
        if not ids:
            continue
        allowed = set(searchable_ids(db.session, kind, ids))
        if kind == "request" and viewer is not ANY_VIEWER and allowed:
            from app.services.support_requests import visible_clause

            visible = select(SupportRequest.id).where(SupportRequest.id.in_(list(allowed)), visible_clause(viewer))
            allowed = set(db.session.scalars(visible))
        result.ids[kind] = [object_id for object_id in ids if object_id in allowed]


def _add_snippets(result: SearchResult, query: ParsedQuery, per_kind: int) -> None:
    keys = [(kind, object_id) for kind, ids in result.ids.items() for object_id in ids[:per_kind]]
    if keys:
        result.snippets.update(_snippets(query, keys, fallback=result.fallback))


def snippets_for(q, keys) -> dict[tuple[str, int], str]:
    """Snippets for particular results (a later page). Never raises."""
    try:
        if _too_long(q):
            return {}
        parsed = parse(" ".join(clean(q).split()))
        if parsed.empty:
            return {}
        try:
            backend = get_backend()
            if backend.ready():
                parsed = parsed.corrected(backend.corrections(parsed))
                return {key: Markup(value) for key, value in backend.snippets(parsed, list(keys)).items()}
        except Exception:
            log.warning("Snippets from the index failed", exc_info=True)
        return _snippets(parsed, list(keys), fallback=True)
    except Exception:
        log.exception("Snippets failed")
        return {}


def _snippets(query: ParsedQuery, keys, *, fallback: bool) -> dict:
    if not fallback:
        try:
            return {key: Markup(value) for key, value in get_backend().snippets(query, keys).items()}
        except Exception:
            log.warning("Snippets from the index failed; making them from the database", exc_info=True)
    words = [token for token in query.positive_tokens() if len(token) > 1]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE) if words else None
    out = {}
    for kind in KINDS:
        ids = [object_id for k, object_id in keys if k == kind]
        if not ids:
            continue
        for doc in load_documents(db.session, kind, ids):
            spans = [match.span() for match in pattern.finditer(doc.body)] if pattern else []
            out[doc.key] = Markup(snippet_from_spans(doc.body, spans))
    return out


# --- The plain database match used while the index cannot answer --------------------------


def _fallback_fields(kind: str):
    """(columns matched, the title column that ranks first, the id column) of a kind."""
    if kind == "offer":
        return [Offer.title, Offer.summary, Offer.description], Offer.title, Offer.id
    if kind == "organisation":
        return [Organisation.name, Organisation.summary], Organisation.name, Organisation.id
    if kind == "expert":
        return [User.name, ExpertProfile.headline, ExpertProfile.bio], ExpertProfile.headline, ExpertProfile.id
    return [SupportRequest.title, SupportRequest.description], SupportRequest.title, SupportRequest.id


def _like(columns, item) -> object:
    needle = " ".join(item.tokens)
    return or_(*(column.icontains(needle, autoescape=True) for column in columns))


def _fallback(result: SearchResult, parsed: ParsedQuery, kinds, limit) -> None:
    result.fallback = True
    result.notice = FALLBACK_NOTICE
    result.suggestion = None
    for kind in kinds:
        columns, title, id_column = _fallback_fields(kind)
        stmt = select(id_column).where(searchable(kind))
        if kind == "expert":
            stmt = stmt.join(User, ExpertProfile.user_id == User.id)
        for clause in parsed.must:
            stmt = stmt.where(or_(*(_like(columns, item) for item in clause)))
        for item in parsed.must_not:
            stmt = stmt.where(not_(_like(columns, item)))
        first = parsed.must[0][0]
        in_title = case((title.icontains(" ".join(first.tokens), autoescape=True), 0), else_=1)
        result.ids[kind] = list(db.session.scalars(stmt.order_by(in_title, id_column.desc()).limit(limit)))


# --- Keeping the index -------------------------------------------------------------------


def _background_default(app) -> bool:
    setting = app.config.get("SEARCH_BACKGROUND_REBUILD")
    if setting is None:
        return not app.testing  # tests want the index there when their first search returns
    return str(setting).lower() not in ("0", "false", "no", "off")


_threads_lock = threading.Lock()
_THREAD = "waymark_search_rebuilder"


def _start_background_rebuild(app) -> None:
    with _threads_lock:
        running = app.extensions.get(_THREAD)
        if running is not None and running.is_alive():
            return

        def work():
            with app.app_context():
                try:
                    rebuild()
                except LockTimeout:
                    app.logger.info("Another process is rebuilding the search index")
                except Exception:
                    app.logger.exception("Rebuilding the search index failed")

        thread = threading.Thread(target=work, name="search-rebuild", daemon=True)
        app.extensions[_THREAD] = thread
        thread.start()


def wait_for_background_rebuild(timeout: float = 30.0) -> None:
    thread = current_app.extensions.get(_THREAD)
    if thread is not None:
        thread.join(timeout)


def ensure_index(*, force: bool = False, background: bool | None = None) -> str:
    """Build the index when it is missing, of another version or corrupt (or when forced).
    Returns "ok", "rebuilding" (in the background) or the state that could not be mended."""
    app = current_app._get_current_object()
    backend = get_backend()
    if not force and backend.ready():
        return "ok"
    backend.forget()
    state = backend.state()
    if state == "ok" and not force:
        return "ok"
    if not app.config.get("SEARCH_AUTO_REBUILD", True):
        return state
    if background is None:
        background = _background_default(app)
    if background:
        _start_background_rebuild(app)
        return "rebuilding"
    try:
        rebuild()
    except LockTimeout:
        return "rebuilding"
    except Exception:
        app.logger.exception("Rebuilding the search index failed")
        return state
    return backend.state()


def rebuild(progress=None) -> int:
    """Build a fresh index from the database beside the current one, swap it in, then apply
    the changes that arrived meanwhile. Returns the number of documents indexed."""
    app = current_app._get_current_object()
    backend = get_backend()
    with backend.lock(float(app.config.get("SEARCH_REBUILD_LOCK_WAIT", 60.0))):
        with Session(db.engine) as session:
            # Rows seen now describe changes already committed, which the reads below include.
            covered = list(session.scalars(select(SearchOutbox.id)))
            total = count_documents(session)
            count = backend.rebuild(all_documents(session), total, progress)
            session.rollback()
        backend.forget()
        _outbox.delete_rows(covered)
        _outbox.apply_locked(backend, retry_all=True)
    return count


def check() -> dict:
    """The index against the database: state, counts per kind, backlog, and whether they agree."""
    backend = get_backend()
    info = backend.check()
    database = {kind: len(searchable_ids(db.session, kind)) for kind in KINDS}
    info["database"] = database
    info["backlog"] = _outbox.backlog()
    info["failing"] = _outbox.failing()
    indexed = info.get("documents") or {}
    info["in_step"] = info.get("state") == "ok" and all(indexed.get(kind, 0) == n for kind, n in database.items())
    return info


def status() -> dict:
    """For /healthz: the backend, the index state and the backlog of changes to apply."""
    backend = get_backend()
    try:
        state = backend.state()
    except Exception as error:
        state = f"error: {type(error).__name__}"
    return {"backend": backend.name, "index": state, "backlog": _outbox.backlog(), "failing": _outbox.failing()}
