"""Keeping the index in step with the database: the search_outbox rows and who applies them.

When a flush changes something a document shows (an offer, its category or facet terms,
an organisation, an expert profile or its person, a request), a row naming the document
is written in the same transaction, so it commits or rolls back with the change. After
the commit the rows are applied: in a request, once the response has gone (the WSGI close
callback, as mail is sent); elsewhere (commands, tests), straight away. One writer at a
time applies them, under the backend's cross-process lock with a bounded wait. A row is
deleted only once its document is in the index; a failure leaves it with attempts + 1 and
the error, for the next write or `flask search sync`. Applying re-reads each row from the
database, so applying a row twice, or late, is harmless.
"""
from __future__ import annotations

import contextlib
from collections import defaultdict
from functools import partial

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import delete, event, func, inspect, insert, literal, select, update
from sqlalchemy.orm import Session

from app.extensions import db, write_transaction
from app.models import (
    Category,
    Designation,
    ExpertProfile,
    FacetTerm,
    Offer,
    Organisation,
    SchoolProfile,
    Specialism,
    SupportRequest,
    User,
)
from app.models.base import utcnow
from app.models.offers import offer_terms
from app.models.people import expert_designations, expert_specialisms
from app.models.requests import request_terms
from app.models.search import SearchOutbox
from app.search.backend import KINDS, LockTimeout, load_documents

_WRITTEN = "waymark_search_written"
_SEEN = "waymark_search_seen"
_G_FLAG = "waymark_search_apply"
# Rows that failed this often are left to `flask search sync` (which retries everything).
MAX_AUTO_ATTEMPTS = 10
BATCH = 1000
_TABLE = SearchOutbox.__table__


# --- Collecting changes (same transaction) ----------------------------------------------


def _changed(obj, *names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _cascade(kind: str, ids_select):
    """INSERT INTO search_outbox SELECT kind, id ... for every document a change reaches."""
    return insert(_TABLE).from_select(
        ["kind", "object_id", "attempts", "created_at"],
        ids_select.with_only_columns(literal(kind), ids_select.selected_columns[0], literal(0), literal(utcnow())),
    )


def _changes(obj, how: str, keys: set, cascades: list) -> None:
    if isinstance(obj, Offer):
        keys.add(("offer", obj.id))
    elif isinstance(obj, SupportRequest):
        keys.add(("request", obj.id))
    elif isinstance(obj, ExpertProfile):
        keys.add(("expert", obj.id))
    elif isinstance(obj, Organisation):
        keys.add(("organisation", obj.id))
        if how == "dirty" and _changed(obj, "name"):
            # Offers, requests and experts show their organisation's name.
            cascades.append(_cascade("offer", select(Offer.id).where(Offer.organisation_id == obj.id)))
            cascades.append(_cascade("request", select(SupportRequest.id).where(SupportRequest.organisation_id == obj.id)))
            cascades.append(_cascade("expert", select(ExpertProfile.id).join(User).where(User.organisation_id == obj.id)))
    elif isinstance(obj, SchoolProfile):
        keys.add(("organisation", obj.organisation_id))
    elif isinstance(obj, User):
        if how == "dirty" and _changed(obj, "name", "active", "organisation_id"):
            cascades.append(_cascade("expert", select(ExpertProfile.id).where(ExpertProfile.user_id == obj.id)))
    elif isinstance(obj, Category):
        if how == "dirty" and _changed(obj, "name", "parent_id"):
            within = select(Category.id).where((Category.id == obj.id) | (Category.parent_id == obj.id))
            cascades.append(_cascade("offer", select(Offer.id).where(Offer.category_id.in_(within))))
            cascades.append(_cascade("request", select(SupportRequest.id).where(SupportRequest.category_id.in_(within))))
    elif isinstance(obj, FacetTerm):
        if how == "dirty" and _changed(obj, "label"):
            cascades.append(_cascade("offer", select(offer_terms.c.offer_id).where(offer_terms.c.term_id == obj.id)))
            cascades.append(_cascade("request", select(request_terms.c.request_id).where(request_terms.c.term_id == obj.id)))
    elif isinstance(obj, Designation):
        if how == "dirty" and _changed(obj, "name", "code"):
            cascades.append(_cascade("expert", select(expert_designations.c.expert_id)
                                     .where(expert_designations.c.designation_id == obj.id)))
    elif isinstance(obj, Specialism):
        if how == "dirty" and _changed(obj, "name"):
            cascades.append(_cascade("expert", select(expert_specialisms.c.expert_id)
                                     .where(expert_specialisms.c.specialism_id == obj.id)))


@event.listens_for(Session, "after_flush")
def _collect(session, flush_context):
    keys: set = set()
    cascades: list = []
    for obj in session.new:
        _changes(obj, "new", keys, cascades)
    for obj in session.dirty:
        if session.is_modified(obj):
            _changes(obj, "dirty", keys, cascades)
    for obj in session.deleted:
        _changes(obj, "deleted", keys, cascades)
    keys = {(kind, object_id) for kind, object_id in keys if object_id is not None}
    seen = session.info.setdefault(_SEEN, set())
    fresh = sorted(keys - seen)
    if not fresh and not cascades:
        return
    connection = session.connection()
    if fresh:
        now = utcnow()
        connection.execute(insert(_TABLE), [
            {"kind": kind, "object_id": object_id, "attempts": 0, "created_at": now} for kind, object_id in fresh
        ])
        seen.update(fresh)
    for statement in cascades:
        connection.execute(statement)
    session.info[_WRITTEN] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_seen(session, transaction):
    # A savepoint that ends may have taken its rows with it: write them again if needed.
    if transaction.nested or transaction.parent is None:
        session.info.pop(_SEEN, None)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_WRITTEN, None)
        session.info.pop(_SEEN, None)


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    if session.in_nested_transaction():
        return
    if not session.info.pop(_WRITTEN, False) or not has_app_context():
        return
    app = current_app._get_current_object()
    if not app.config.get("SEARCH_APPLY_ON_COMMIT", True):
        return
    if has_request_context():
        setattr(g, _G_FLAG, True)  # applied once the response has gone: apply_after_response
        return
    _apply_quietly(app)


def apply_after_response(response):
    """An after_request hook: apply this request's committed changes after the response."""
    if g.pop(_G_FLAG, None):
        response.call_on_close(partial(_apply_in_app, current_app._get_current_object()))
    return response


def _apply_in_app(app) -> None:
    if has_app_context():
        # As for mail: an outer context (the test client) may keep a session whose
        # transaction still holds SQLite's write lock, which applying needs.
        db.session.close()
    with app.app_context():
        _apply_quietly(app)


def _apply_quietly(app) -> None:
    try:
        apply_outbox(wait=float(app.config.get("SEARCH_LOCK_WAIT", 2.0)))
    except Exception:  # the data is committed; the rows wait for the next write or `flask search sync`
        app.logger.exception("Could not apply search changes")


# --- Applying --------------------------------------------------------------------------


def backlog() -> int:
    """Rows still to apply (read afresh, not through the caller's possibly older snapshot)."""
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(SearchOutbox)) or 0


def failing() -> int:
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(SearchOutbox).where(SearchOutbox.attempts > 0)) or 0


def apply_outbox(wait: float = 2.0, *, retry_all: bool = False) -> int:
    """Apply pending rows under the writer lock (waiting at most `wait` seconds for it).
    Returns the number of rows applied. With no index in place nothing is applied: the
    rebuild that creates it covers the rows. retry_all also takes rows that failed often."""
    from app.search import get_backend

    backend = get_backend()
    if not backend.ready():
        return 0
    try:
        with backend.lock(wait):
            return apply_locked(backend, retry_all=retry_all)
    except LockTimeout:
        current_app.logger.info("Search index busy: changes left for the next writer")
        return 0


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _load(session, kind: str, ids: list[int], docs: dict, failures: dict) -> None:
    try:
        for doc in load_documents(session, kind, ids):
            docs[doc.key] = doc
    except Exception:
        session.rollback()
        if len(ids) == 1:
            raise
        # Find the row that cannot be built, and build the others.
        for object_id in ids:
            try:
                for doc in load_documents(session, kind, [object_id]):
                    docs[doc.key] = doc
            except Exception as error:
                session.rollback()
                failures[(kind, object_id)] = _error_text(error)


def apply_locked(backend, *, retry_all: bool = False) -> int:
    """Apply pending rows; the caller holds the writer lock."""
    applied = 0
    after_id = 0
    while True:
        with Session(db.engine) as session:
            stmt = (select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.object_id)
                    .where(SearchOutbox.id > after_id).order_by(SearchOutbox.id).limit(BATCH))
            if not retry_all:
                stmt = stmt.where(SearchOutbox.attempts < MAX_AUTO_ATTEMPTS)
            rows = session.execute(stmt).all()
            if not rows:
                break
            after_id = rows[-1].id
            row_ids = defaultdict(list)
            for row in rows:
                row_ids[(row.kind, row.object_id)].append(row.id)
            docs: dict = {}
            failures: dict = {}
            for kind in KINDS:
                ids = sorted(object_id for k, object_id in row_ids if k == kind)
                if ids:
                    try:
                        _load(session, kind, ids, docs, failures)
                    except Exception as error:
                        failures.update({(kind, object_id): _error_text(error) for object_id in ids})
            session.rollback()
        deletes = [key for key in row_ids if key not in docs and key not in failures]
        try:
            backend.apply(list(docs.values()), deletes)
        except Exception as error:
            message = _error_text(error)
            failures.update({key: message for key in list(docs) + deletes})
        done = [row_id for key, ids in row_ids.items() if key not in failures for row_id in ids]
        failed = [(row_id, failures[key]) for key, ids in row_ids.items() if key in failures for row_id in ids]
        _settle(done, failed)
        applied += len(done)
    return applied


def _settle(done: list[int], failed: list[tuple[int, str]]) -> None:
    """Delete the applied rows; count an attempt on the others, with the error."""
    if not done and not failed:
        return
    with write_transaction(), Session(db.engine) as session:
        for start in range(0, len(done), 500):
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(done[start:start + 500])))
        for row_id, message in failed:
            session.execute(update(SearchOutbox).where(SearchOutbox.id == row_id)
                            .values(attempts=SearchOutbox.attempts + 1, last_error=message))
        session.commit()


def delete_rows(ids: list[int]) -> None:
    """Rows a rebuild has covered."""
    with contextlib.suppress(Exception):
        _settle(ids, [])
