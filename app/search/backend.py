"""The search backend interface, and the documents it indexes, built from the database.

The database is the truth; an index is a cache of the documents below. What a document
holds (and whether a row has one at all) is decided here once, for every engine, and the
same rules filter an engine's answer so that a row changed a moment ago is never shown in
a state the database no longer has.
"""
from __future__ import annotations

import abc
import contextlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.models import (
    Category,
    ExpertProfile,
    Offer,
    Organisation,
    SchoolProfile,
    SupportRequest,
    User,
)
from app.models.organisations import ORG_KINDS, PHASES
from app.models.search import SEARCH_KINDS
from app.search.query import ParsedQuery, join_text, plain_text

# Bump when what a document holds, or how it is analysed, changes: a stored index with
# another version is rebuilt.
SCHEMA_VERSION = 2
KINDS = SEARCH_KINDS
# Field weights: a title counts more than a category or subject, which count more than a description.
TITLE_BOOST, SUBJECTS_BOOST, BODY_BOOST = 4.0, 2.0, 1.0
CHUNK = 500

Progress = Callable[[int, int], None]


class SearchUnavailable(RuntimeError):
    """The index cannot answer (missing, stale, corrupt or unreadable)."""


class LockTimeout(RuntimeError):
    """Another writer held the index for longer than we were willing to wait."""


@dataclass(frozen=True)
class SearchDoc:
    kind: str
    id: int
    title: str
    subjects: str = ""
    body: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.id)


@dataclass
class Hits:
    """An engine's answer: ids in rank order per kind."""

    ids: dict[str, list[int]] = field(default_factory=dict)


class SearchBackend(abc.ABC):
    """One engine. Implementations keep their own searcher per process and refresh it when
    the index changes; every method may raise, and the callers in app.search turn that into
    a fallback or a retry."""

    name: str = "?"

    # --- The five operations ---------------------------------------------------------

    @abc.abstractmethod
    def index(self, docs: Iterable[SearchDoc]) -> None:
        """Add or replace documents (idempotent by kind and id)."""

    @abc.abstractmethod
    def delete(self, keys: Iterable[tuple[str, int]]) -> None:
        """Remove documents; a key that is not indexed is ignored."""

    @abc.abstractmethod
    def search(self, query: ParsedQuery, kinds: tuple[str, ...], limit: int) -> Hits:
        """Ids in rank order per kind for an already corrected query."""

    @abc.abstractmethod
    def rebuild(self, docs: Iterable[SearchDoc], total: int, progress: Progress | None = None) -> int:
        """Build a new index from docs beside the current one and swap it in at once."""

    @abc.abstractmethod
    def check(self) -> dict:
        """What the index holds: state, version, document counts per kind."""

    # --- Support the callers need ------------------------------------------------------

    def apply(self, docs: list[SearchDoc], deletes: list[tuple[str, int]]) -> None:
        """Index and delete in one go (engines that can, do it in one commit)."""
        if deletes:
            self.delete(deletes)
        if docs:
            self.index(docs)

    @abc.abstractmethod
    def state(self) -> str:
        """"ok", "missing", "stale" (another version) or "corrupt"."""

    @abc.abstractmethod
    def ready(self) -> bool:
        """A cheap check that an index of this version is in place (no full verification)."""

    def forget(self) -> None:
        """Drop cached readers and states (after an error or a swap)."""

    @abc.abstractmethod
    def lock(self, wait: float) -> contextlib.AbstractContextManager:
        """The cross-process writer lock; raises LockTimeout after wait seconds."""

    @abc.abstractmethod
    def corrections(self, query: ParsedQuery) -> dict[str, str]:
        """Unknown words of the query mapped to the likeliest indexed word."""

    @abc.abstractmethod
    def snippets(self, query: ParsedQuery, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """Escaped HTML from each document's text, the query's words in <mark>."""

    @abc.abstractmethod
    def version(self) -> str:
        """The version this code writes; a stored index of another version is rebuilt."""


# --- What is searchable ------------------------------------------------------------------

MODELS = {"offer": Offer, "organisation": Organisation, "expert": ExpertProfile, "request": SupportRequest}


def searchable(kind: str):
    """The SQL condition for rows of this kind that have a document."""
    if kind == "offer":
        return Offer.status == "published"
    if kind == "organisation":
        # Closed schools keep their page but are not offered as somewhere to find support.
        return ~Organisation.school.has(SchoolProfile.status == "closed")
    if kind == "expert":
        return and_(ExpertProfile.public.is_(True), ExpertProfile.user.has(User.active.is_(True)))
    if kind == "request":
        # Published requests only; who may see which is applied when the rows are loaded.
        return SupportRequest.status == "published"
    raise ValueError(kind)


def _options(kind: str):
    if kind == "offer":
        return (
            joinedload(Offer.organisation),
            joinedload(Offer.category).joinedload(Category.parent),
            selectinload(Offer.terms),
        )
    if kind == "organisation":
        return (selectinload(Organisation.school),)
    if kind == "expert":
        return (
            joinedload(ExpertProfile.user).joinedload(User.organisation),
            selectinload(ExpertProfile.designations),
            selectinload(ExpertProfile.specialisms),
        )
    return (
        joinedload(SupportRequest.organisation),
        joinedload(SupportRequest.category).joinedload(Category.parent),
        selectinload(SupportRequest.terms),
    )


def _category_names(category) -> list[str]:
    if category is None:
        return []
    names = [category.name]
    if category.parent is not None:
        names.append(category.parent.name)
    return names


def document_for(kind: str, row) -> SearchDoc:
    if kind == "offer":
        return SearchDoc(
            kind, row.id, plain_text(row.title),
            join_text(*_category_names(row.category), *(term.label for term in row.terms)),
            join_text(plain_text(row.summary), plain_text(row.description),
                      row.organisation.name if row.organisation else ""),
        )
    if kind == "organisation":
        school = row.school
        return SearchDoc(
            kind, row.id, plain_text(row.name),
            join_text(ORG_KINDS.get(row.kind, row.kind), PHASES.get(school.phase or "", "") if school else "",
                      school.school_type if school else "", row.la_name or ""),
            plain_text(row.summary),
        )
    if kind == "expert":
        user = row.user
        return SearchDoc(
            kind, row.id, join_text(plain_text(user.name), plain_text(row.headline)),
            join_text(*(f"{d.name} ({d.code})" for d in row.designations), *(s.name for s in row.specialisms)),
            join_text(plain_text(row.bio), plain_text(row.availability),
                      user.organisation.name if user.organisation else ""),
        )
    if kind == "request":
        return SearchDoc(
            kind, row.id, plain_text(row.title),
            join_text(*_category_names(row.category), *(term.label for term in row.terms)),
            join_text(plain_text(row.description), row.organisation.name if row.organisation else ""),
        )
    raise ValueError(kind)


def searchable_ids(session: Session, kind: str, ids: Iterable[int] | None = None) -> list[int]:
    model = MODELS[kind]
    stmt = select(model.id).where(searchable(kind)).order_by(model.id)
    if ids is None:
        return list(session.scalars(stmt))
    found: list[int] = []
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        found.extend(session.scalars(stmt.where(model.id.in_(wanted[start:start + CHUNK]))))
    return found


def load_documents(session: Session, kind: str, ids: Iterable[int]) -> list[SearchDoc]:
    """Documents for those of ids that are searchable (the others have none)."""
    model = MODELS[kind]
    wanted = sorted(set(ids))
    docs = []
    for start in range(0, len(wanted), CHUNK):
        rows = session.scalars(
            select(model).where(model.id.in_(wanted[start:start + CHUNK]), searchable(kind)).options(*_options(kind))
        ).unique()
        docs.extend(document_for(kind, row) for row in rows)
    return docs


def count_documents(session: Session) -> int:
    return sum(len(searchable_ids(session, kind)) for kind in KINDS)


def all_documents(session: Session) -> Iterator[SearchDoc]:
    """Every document, a chunk of rows at a time (the session is expunged between chunks)."""
    for kind in KINDS:
        ids = searchable_ids(session, kind)
        for start in range(0, len(ids), CHUNK):
            yield from load_documents(session, kind, ids[start:start + CHUNK])
            session.expunge_all()
