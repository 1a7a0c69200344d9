"""The Whoosh engine: an index folder under instance/search, swapped whole by a rebuild.

Layout: instance/search/CURRENT names the live generation folder (gen-...); each generation
holds a Whoosh index and waymark.json with the version it was built for. A rebuild writes a
new generation beside the live one and replaces CURRENT atomically (os.replace), so a
search never sees half an index. Writers hold an flock on instance/search/.lock (bounded
wait) and then ask Whoosh for its own writer with a timeout, never the fail-at-once default.
Each thread keeps one searcher and replaces it when the index changes.
"""
from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import threading
import time
import uuid
import warnings

import whoosh
from whoosh import fields, index as whoosh_index, query as wq
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer

from app.search.backend import (
    BODY_BOOST,
    KINDS,
    SCHEMA_VERSION,
    SUBJECTS_BOOST,
    TITLE_BOOST,
    Hits,
    LockTimeout,
    SearchBackend,
    SearchDoc,
    SearchUnavailable,
)
from app.search.query import Item, ParsedQuery, best_candidate, max_edits, snippet_from_spans

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system
    fcntl = None

CURRENT = "CURRENT"
META = "waymark.json"
LOCK = ".lock"
TEXT_FIELDS = (("title", TITLE_BOOST), ("subjects", SUBJECTS_BOOST), ("body", BODY_BOOST))
WRITER_TIMEOUT = 10.0


def _analyser():
    return StemmingAnalyzer()


def make_schema() -> fields.Schema:
    stemming = _analyser()
    return fields.Schema(
        # Columns (sortable) as well: ranking reads them for every match, far faster than
        # stored fields (which would load each document's text).
        key=fields.ID(unique=True, stored=True, sortable=True),
        kind=fields.ID(stored=True, sortable=True),
        title=fields.TEXT(analyzer=stemming),
        subjects=fields.TEXT(analyzer=stemming),
        body=fields.TEXT(analyzer=stemming, stored=True),
        # Every word as written (lower-cased, no stemming): the vocabulary for typo correction.
        words=fields.TEXT(analyzer=StandardAnalyzer(), phrase=False),
    )


def _quietly(open_something):
    """Run open_something; on failure raise SearchUnavailable without leaking its files.

    Whoosh leaves a file open when it cannot read a damaged index; the file is closed when
    the failed frames are freed, here, with its ResourceWarning silenced (the failure itself
    is what we report)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return open_something()
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
        gc.collect()
    raise SearchUnavailable(f"The search index cannot be read ({message}).")


class WhooshBackend(SearchBackend):
    name = "whoosh"

    def __init__(self, directory: str):
        self.directory = os.path.abspath(directory)
        self.analyser = _analyser()
        self._local = threading.local()
        self._verified: dict[str, bool] = {}

    # --- Layout and version ------------------------------------------------------------

    def version(self) -> str:
        return f"schema {SCHEMA_VERSION}; whoosh {whoosh.versionstring()}; porter stemming, stop words"

    def _current(self) -> str | None:
        try:
            with open(os.path.join(self.directory, CURRENT), encoding="utf-8") as handle:
                name = handle.read().strip()
        except OSError:
            return None
        if not name or "/" in name or name.startswith("."):
            return None
        return name

    def _read_meta(self, name: str) -> dict | None:
        try:
            with open(os.path.join(self.directory, name, META), encoding="utf-8") as handle:
                meta = json.load(handle)
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def ready(self) -> bool:
        name = self._current()
        if name is None:
            return False
        if name not in self._verified:
            meta = self._read_meta(name)
            self._verified[name] = bool(meta) and meta.get("version") == self.version()
        return self._verified[name]

    def state(self) -> str:
        name = self._current()
        if name is None or not os.path.isdir(os.path.join(self.directory, name)):
            return "missing"
        meta = self._read_meta(name)
        if meta is None:
            return "corrupt"
        if meta.get("version") != self.version():
            return "stale"

        def read():
            with self._open(name).searcher() as searcher:
                searcher.doc_count()
                list(searcher.lexicon("kind"))

        try:
            _quietly(read)
        except SearchUnavailable:
            return "corrupt"
        return "ok"

    def _open(self, name: str):
        return whoosh_index.open_dir(os.path.join(self.directory, name))

    def forget(self) -> None:
        self._verified.clear()
        cached = getattr(self._local, "cached", None)
        self._local.cached = None
        if cached is not None:
            with contextlib.suppress(Exception):
                cached[1].close()

    # --- Lock ------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: float):
        os.makedirs(self.directory, exist_ok=True)
        handle = open(os.path.join(self.directory, LOCK), "a+")
        try:
            if fcntl is not None:
                deadline = time.monotonic() + max(wait, 0.0)
                while True:
                    try:
                        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError:
                        if time.monotonic() >= deadline:
                            raise LockTimeout(f"The search index is busy (waited {wait:g} s).") from None
                        time.sleep(0.02)
            yield
        finally:
            handle.close()  # closing the file releases the lock

    # --- Reading ---------------------------------------------------------------------

    def _searcher(self):
        """This thread's searcher on the live generation, reopened after a swap and refreshed
        after a commit."""
        name = self._current()
        if name is None or not self.ready():
            raise SearchUnavailable("There is no search index of this version.")
        cached = getattr(self._local, "cached", None)
        if cached is not None and cached[0] == name and cached[1].up_to_date():
            return cached[1]
        # A new searcher rather than Searcher.refresh(): in whoosh3 (as in Whoosh-Reloaded)
        # refresh() reuses segment readers that do not see later deletions, so an updated
        # document would be found twice.
        if cached is not None:
            with contextlib.suppress(Exception):
                cached[1].close()
        searcher = _quietly(lambda: self._open(name).searcher())
        self._local.cached = (name, searcher)
        return searcher

    def _stems(self, text: str) -> list[str]:
        return [token.text for token in self.analyser(text)]

    def _item_query(self, item: Item):
        stems = self._stems(" ".join(item.tokens))
        if not stems:
            return None  # only stop words
        alternatives = []
        for fieldname, boost in TEXT_FIELDS:
            if len(stems) == 1:
                alternatives.append(wq.Term(fieldname, stems[0], boost=boost))
            else:
                alternatives.append(wq.Phrase(fieldname, stems, boost=boost))
        return wq.Or(alternatives)

    def _to_query(self, query: ParsedQuery):
        clauses = []
        for clause in query.must:
            alternatives = [q for q in (self._item_query(item) for item in clause) if q is not None]
            if alternatives:
                clauses.append(alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives))
        if not clauses:
            return None
        positive = clauses[0] if len(clauses) == 1 else wq.And(clauses)
        excluded = [q for q in (self._item_query(item) for item in query.must_not) if q is not None]
        if excluded:
            return wq.AndNot(positive, wq.Or(excluded))
        return positive

    def search(self, query: ParsedQuery, kinds: tuple[str, ...], limit: int) -> Hits:
        hits = Hits({kind: [] for kind in kinds})
        whoosh_query = self._to_query(query)
        if whoosh_query is None:
            return hits
        searcher = self._searcher()
        if not searcher.doc_count_all():
            return hits  # an empty index has no columns to read
        # One pass over the matches, keeping the best `limit` of each kind.
        results = searcher.search(
            whoosh_query, limit=None, collapse="kind", collapse_limit=limit,
            filter=None if len(kinds) == len(KINDS) else wq.Or([wq.Term("kind", kind) for kind in kinds]),
        )
        keys = searcher.reader().column_reader("key")
        for _, docnum in results.top_n:
            kind, _, object_id = str(keys[docnum]).partition(":")
            if kind in hits.ids and object_id.isdigit() and len(hits.ids[kind]) < limit:
                hits.ids[kind].append(int(object_id))
        return hits

    def corrections(self, query: ParsedQuery) -> dict[str, str]:
        searcher = self._searcher()
        reader = searcher.reader()
        found: dict[str, str] = {}
        if not searcher.doc_count_all():
            return found
        for token in query.positive_tokens():
            limit = max_edits(token)
            if not limit:
                continue
            stems = self._stems(token)
            if not stems or any(reader.doc_frequency(f, stem) for stem in stems for f, _ in TEXT_FIELDS):
                continue  # a stop word, or a word the index knows
            candidates = [
                (word, reader.doc_frequency("words", word))
                for word in reader.terms_within("words", token, limit)
                if self._stems(word)
            ]
            best = best_candidate(token, candidates)
            if best:
                found[token] = best
        return found

    def snippets(self, query: ParsedQuery, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
        searcher = self._searcher()
        stems = set()
        for token in query.positive_tokens():
            stems.update(self._stems(token))
        out = {}
        for kind, object_id in keys:
            docnum = searcher.document_number(key=f"{kind}:{object_id}")
            if docnum is None:
                continue
            body = searcher.stored_fields(docnum).get("body") or ""
            spans = [(t.startchar, t.endchar) for t in self.analyser(body, chars=True) if t.text in stems]
            out[(kind, object_id)] = snippet_from_spans(body, spans)
        return out

    def check(self) -> dict:
        info = {"backend": self.name, "state": self.state(), "version": self.version(),
                "location": self.directory, "generation": self._current(), "documents": {}}
        if info["state"] == "ok":
            with _quietly(lambda: self._open(info["generation"]).searcher()) as searcher:
                for kind in [term.decode() if isinstance(term, bytes) else term for term in searcher.lexicon("kind")]:
                    info["documents"][kind] = sum(1 for _ in searcher.docs_for_query(wq.Term("kind", kind)))
        return info

    # --- Writing ---------------------------------------------------------------------

    @staticmethod
    def _fields(doc: SearchDoc) -> dict:
        return {
            "key": f"{doc.kind}:{doc.id}",
            "kind": doc.kind,
            "title": doc.title,
            "subjects": doc.subjects,
            "body": doc.body,
            "words": " ".join((doc.title, doc.subjects, doc.body)),
        }

    def _writer(self):
        name = self._current()
        if name is None or not self.ready():
            raise SearchUnavailable("There is no search index of this version to write to.")
        ix = _quietly(lambda: self._open(name))
        return ix.writer(timeout=WRITER_TIMEOUT)

    def apply(self, docs: list[SearchDoc], deletes: list[tuple[str, int]]) -> None:
        if not docs and not deletes:
            return
        writer = self._writer()
        try:
            for kind, object_id in deletes:
                writer.delete_by_term("key", f"{kind}:{object_id}")
            for doc in docs:
                writer.update_document(**self._fields(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def index(self, docs) -> None:
        self.apply(list(docs), [])

    def delete(self, keys) -> None:
        self.apply([], list(keys))

    def rebuild(self, docs, total: int, progress=None) -> int:
        os.makedirs(self.directory, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        building = os.path.join(self.directory, "." + name)
        os.makedirs(building)
        ix = whoosh_index.create_in(building, make_schema())
        writer = ix.writer(limitmb=128)
        count = 0
        try:
            for doc in docs:
                writer.add_document(**self._fields(doc))
                count += 1
                if progress is not None and (count % 100 == 0 or count == total):
                    progress(count, total)
            writer.commit(optimize=True)
        except BaseException:
            writer.cancel()
            shutil.rmtree(building, ignore_errors=True)
            raise
        with open(os.path.join(building, META), "w", encoding="utf-8") as handle:
            json.dump({"version": self.version(), "documents": count, "built_at": time.time()}, handle)
        os.replace(building, os.path.join(self.directory, name))
        previous = self._current()
        pointer = os.path.join(self.directory, f".{CURRENT}.{uuid.uuid4().hex[:8]}")
        with open(pointer, "w", encoding="utf-8") as handle:
            handle.write(name)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer, os.path.join(self.directory, CURRENT))
        self._verified.pop(name, None)
        self._remove_old(keep={name, previous})
        if progress is not None and count == 0:
            progress(0, total)
        return count

    def _remove_old(self, keep: set) -> None:
        """Generations before the previous one (a process may still be reading the previous
        one until its next search), and leftovers of interrupted builds."""
        for entry in os.listdir(self.directory):
            if entry in keep or entry in (CURRENT, LOCK):
                continue
            path = os.path.join(self.directory, entry)
            if entry.startswith("gen-") or entry.startswith(".gen-"):
                shutil.rmtree(path, ignore_errors=True)
            elif entry.startswith(f".{CURRENT}."):
                with contextlib.suppress(OSError):
                    os.remove(path)
