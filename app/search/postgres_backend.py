"""The PostgreSQL engine: a weighted tsvector with a GIN index, asked with websearch_to_tsquery.

The backend owns three tables, outside the models and the migrations (they are a cache):
search_documents (one row per document; tsv is a generated column: title weight A,
categories and subjects B, description C), search_vocabulary (the words of the documents,
for typo correction) and search_meta (the version the tables were built for). A rebuild
fills *_new tables in one transaction and renames them into place at its end, so readers
see the old tables until the commit and the new ones after it. Writers take an advisory
lock (bounded wait).

Typo correction uses pg_trgm when the extension can be created (a trigram index on the
vocabulary finds candidates); without it, candidates of a similar length that share the
first letter or the last two are read and compared in Python. Either way the closest
candidate by edit distance, weighted by how many documents use it, wins.
"""
from __future__ import annotations

import contextlib
import time
import uuid

from sqlalchemy import text

from app.search.backend import SCHEMA_VERSION, Hits, LockTimeout, SearchBackend, SearchDoc, SearchUnavailable
from app.search.query import MARK_END, MARK_START, ParsedQuery, best_candidate, max_edits, snippet_from_markers

DOCS, VOCAB, META = "search_documents", "search_vocabulary", "search_meta"
# pg_advisory_lock key for the search writer ("Waymark" in ASCII, as a number).
LOCK_KEY = 0x5761796D61726B
BATCH = 500
TSV = (
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', subjects), 'B') || "
    "setweight(to_tsvector('english', body), 'C')"
)
WORD_FILTER = "w ~ '^[[:alpha:]]{3,}$' AND length(to_tsvector('english', w)) > 0"
HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=40, MinWords=15, ShortWord=3, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)

UPSERT = text(
    f"INSERT INTO {DOCS} (kind, object_id, title, subjects, body) VALUES (:kind, :id, :title, :subjects, :body) "
    "ON CONFLICT (kind, object_id) DO UPDATE SET title = EXCLUDED.title, subjects = EXCLUDED.subjects, body = EXCLUDED.body"
)
ADD_WORDS = text(
    f"INSERT INTO {VOCAB} (word, ndoc) "
    "SELECT w, 1 FROM unnest(tsvector_to_array(to_tsvector('simple', :text))) AS w "
    f"WHERE {WORD_FILTER} ON CONFLICT (word) DO UPDATE SET ndoc = {VOCAB}.ndoc + 1"
)
DELETE = text(f"DELETE FROM {DOCS} WHERE kind = :kind AND object_id = :id")


class PostgresBackend(SearchBackend):
    name = "postgres"

    def __init__(self, engine_getter, trigram: str = "auto"):
        self._engine = engine_getter
        self.trigram_setting = (trigram or "auto").lower()
        self._ready: bool | None = None
        self._meta_cache: dict | None = None

    def version(self) -> str:
        return f"schema {SCHEMA_VERSION}; postgresql english; weights title A, subjects B, body C"

    # --- State -----------------------------------------------------------------------

    def _meta(self, conn) -> dict:
        if conn.scalar(text(f"SELECT to_regclass('{META}')")) is None:
            return {}
        return dict(conn.execute(text(f"SELECT key, value FROM {META}")).tuples().all())

    def _cached_meta(self, conn) -> dict:
        if self._meta_cache is None:
            self._meta_cache = self._meta(conn)
        return self._meta_cache

    def state(self) -> str:
        try:
            with self._engine().connect() as conn:
                if conn.scalar(text(f"SELECT to_regclass('{DOCS}')")) is None:
                    return "missing"
                meta = self._meta(conn)
                if meta.get("version") != self.version():
                    return "stale"
                # Every column a search reads, on one row of each table.
                conn.execute(text(f"SELECT kind, object_id, title, subjects, body, tsv @@ to_tsquery('simple', 'x') "
                                  f"FROM {DOCS} LIMIT 1"))
                conn.execute(text(f"SELECT word, ndoc FROM {VOCAB} LIMIT 1"))
        except Exception:
            return "corrupt"
        return "ok"

    def ready(self) -> bool:
        if not self._ready:
            self._ready = self.state() == "ok"
        return self._ready

    def forget(self) -> None:
        self._ready = None
        self._meta_cache = None

    def _require(self) -> None:
        if not self.ready():
            raise SearchUnavailable("There are no search tables of this version.")

    # --- Lock ------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: float):
        conn = self._engine().connect()
        locked = False
        try:
            deadline = time.monotonic() + max(wait, 0.0)
            while True:
                locked = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}))
                conn.commit()
                if locked:
                    break
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"The search index is busy (waited {wait:g} s).")
                time.sleep(0.02)
            yield
        finally:
            try:
                if locked:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                    conn.commit()
            except Exception:
                # Never hand a connection that may still hold the lock back to the pool.
                conn.invalidate()
            finally:
                conn.close()

    # --- Reading ---------------------------------------------------------------------

    def search(self, query: ParsedQuery, kinds: tuple[str, ...], limit: int) -> Hits:
        self._require()
        hits = Hits({kind: [] for kind in kinds})
        if query.empty:
            return hits
        sql = text(f"""
            WITH q AS (SELECT websearch_to_tsquery('english', :positive) AS positive,
                              websearch_to_tsquery('english', :negative) AS negative),
            ranked AS (
                SELECT d.kind, d.object_id,
                       row_number() OVER (PARTITION BY d.kind
                                          ORDER BY ts_rank(d.tsv, q.positive) DESC, d.object_id DESC) AS position
                FROM {DOCS} AS d, q
                WHERE numnode(q.positive) > 0 AND d.kind = ANY(:kinds)
                  AND d.tsv @@ (q.positive && !! q.negative)
            )
            SELECT kind, object_id FROM ranked WHERE position <= :limit ORDER BY kind, position
        """)
        with self._engine().connect() as conn:
            rows = conn.execute(sql, {
                "positive": query.websearch(), "negative": query.websearch(negative=True),
                "kinds": list(kinds), "limit": limit,
            })
            for kind, object_id in rows:
                hits.ids[kind].append(object_id)
        return hits

    def corrections(self, query: ParsedQuery) -> dict[str, str]:
        self._require()
        tokens = [token for token in query.positive_tokens() if max_edits(token)]
        if not tokens:
            return {}
        found = {}
        with self._engine().connect() as conn:
            unknown = [row[0] for row in conn.execute(text(f"""
                SELECT t FROM unnest(CAST(:tokens AS text[])) AS t
                WHERE CASE WHEN length(to_tsvector('english', t)) = 0 THEN false
                           ELSE NOT EXISTS (SELECT 1 FROM {DOCS} AS d WHERE d.tsv @@ plainto_tsquery('english', t))
                      END
            """), {"tokens": tokens})]
            trigram = self._cached_meta(conn).get("trigram") == "on"
            for token in unknown:
                best = best_candidate(token, self._candidates(conn, token, trigram))
                if best:
                    found[token] = best
        return found

    def _candidates(self, conn, token: str, trigram: bool) -> list[tuple[str, int]]:
        if trigram:
            return conn.execute(text(
                f"SELECT word, ndoc FROM {VOCAB} WHERE word % :w ORDER BY similarity(word, :w) DESC, ndoc DESC LIMIT 50"
            ), {"w": token}).tuples().all()
        spread = max_edits(token)
        return conn.execute(text(
            f"SELECT word, ndoc FROM {VOCAB} WHERE length(word) BETWEEN :low AND :high "
            "AND (left(word, 1) = left(:w, 1) OR right(word, 2) = right(:w, 2))"
        ), {"w": token, "low": len(token) - spread, "high": len(token) + spread}).tuples().all()

    def snippets(self, query: ParsedQuery, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
        self._require()
        if not keys:
            return {}
        with self._engine().connect() as conn:
            rows = conn.execute(text(f"""
                SELECT d.kind, d.object_id,
                       ts_headline('english', d.body, websearch_to_tsquery('english', :positive), :options)
                FROM {DOCS} AS d
                JOIN unnest(CAST(:kinds AS text[]), CAST(:ids AS integer[])) AS k(kind, object_id)
                  ON d.kind = k.kind AND d.object_id = k.object_id
            """), {
                "positive": query.websearch(), "options": HEADLINE_OPTIONS,
                "kinds": [kind for kind, _ in keys], "ids": [object_id for _, object_id in keys],
            })
            return {(kind, object_id): snippet_from_markers(marked) for kind, object_id, marked in rows}

    def check(self) -> dict:
        info = {"backend": self.name, "state": self.state(), "version": self.version(), "documents": {}}
        if info["state"] == "ok":
            with self._engine().connect() as conn:
                info["documents"] = dict(conn.execute(
                    text(f"SELECT kind, count(*) FROM {DOCS} GROUP BY kind ORDER BY kind")).tuples().all())
                info["vocabulary"] = conn.scalar(text(f"SELECT count(*) FROM {VOCAB}"))
                meta = self._meta(conn)
                info["trigram"] = meta.get("trigram")
                info["built_at"] = meta.get("built_at")
        return info

    # --- Writing ---------------------------------------------------------------------

    @staticmethod
    def _row(doc: SearchDoc) -> dict:
        return {"kind": doc.kind, "id": doc.id, "title": doc.title, "subjects": doc.subjects, "body": doc.body}

    def apply(self, docs: list[SearchDoc], deletes: list[tuple[str, int]]) -> None:
        if not docs and not deletes:
            return
        self._require()
        with self._engine().begin() as conn:
            if deletes:
                conn.execute(DELETE, [{"kind": kind, "id": object_id} for kind, object_id in deletes])
            if docs:
                conn.execute(UPSERT, [self._row(doc) for doc in docs])
                conn.execute(ADD_WORDS, [{"text": " ".join((d.title, d.subjects, d.body))} for d in docs])

    def index(self, docs) -> None:
        self.apply(list(docs), [])

    def delete(self, keys) -> None:
        self.apply([], list(keys))

    def rebuild(self, docs, total: int, progress=None) -> int:
        generation = uuid.uuid4().hex[:8]
        count = 0
        with self._engine().connect() as conn:
            with conn.begin():
                conn.execute(text(f"DROP TABLE IF EXISTS {DOCS}_new, {VOCAB}_new"))
                conn.execute(text(f"""
                    CREATE TABLE {DOCS}_new (
                        kind varchar(12) NOT NULL,
                        object_id integer NOT NULL,
                        title text NOT NULL DEFAULT '',
                        subjects text NOT NULL DEFAULT '',
                        body text NOT NULL DEFAULT '',
                        tsv tsvector GENERATED ALWAYS AS ({TSV}) STORED,
                        CONSTRAINT pk_{DOCS}_{generation} PRIMARY KEY (kind, object_id)
                    )
                """))
                insert = text(f"INSERT INTO {DOCS}_new (kind, object_id, title, subjects, body) "
                              "VALUES (:kind, :id, :title, :subjects, :body)")
                batch = []
                for doc in docs:
                    batch.append(self._row(doc))
                    if len(batch) >= BATCH:
                        conn.execute(insert, batch)
                        count += len(batch)
                        batch = []
                        if progress is not None:
                            progress(count, total)
                if batch:
                    conn.execute(insert, batch)
                    count += len(batch)
                if progress is not None:
                    progress(count, total)
                conn.execute(text(f"CREATE INDEX ix_{DOCS}_tsv_{generation} ON {DOCS}_new USING gin (tsv)"))
                conn.execute(text(f"""
                    CREATE TABLE {VOCAB}_new (
                        word text NOT NULL, ndoc integer NOT NULL,
                        CONSTRAINT pk_{VOCAB}_{generation} PRIMARY KEY (word)
                    )
                """))
                conn.execute(text(f"""
                    INSERT INTO {VOCAB}_new (word, ndoc)
                    SELECT w, ndoc FROM ts_stat(
                        'SELECT to_tsvector(''simple'', title || '' '' || subjects || '' '' || body) FROM {DOCS}_new'
                    ) AS s(w, ndoc, nentry)
                    WHERE {WORD_FILTER}
                """))
                trigram = self._trigram_index(conn, generation)
                conn.execute(text(f"CREATE TABLE IF NOT EXISTS {META} (key text PRIMARY KEY, value text NOT NULL)"))
                # The swap: the old tables stay readable until this transaction commits.
                conn.execute(text(f"DROP TABLE IF EXISTS {DOCS}, {VOCAB}"))
                conn.execute(text(f"ALTER TABLE {DOCS}_new RENAME TO {DOCS}"))
                conn.execute(text(f"ALTER TABLE {VOCAB}_new RENAME TO {VOCAB}"))
                conn.execute(text(f"DELETE FROM {META}"))
                conn.execute(text(f"INSERT INTO {META} (key, value) VALUES (:k, :v)"), [
                    {"k": "version", "v": self.version()},
                    {"k": "trigram", "v": "on" if trigram else "off"},
                    {"k": "documents", "v": str(count)},
                    {"k": "built_at", "v": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                ])
        self.forget()
        return count

    def _trigram_index(self, conn, generation: str) -> bool:
        if self.trigram_setting in ("off", "0", "false", "no"):
            return False
        savepoint = conn.begin_nested()
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            conn.execute(text(f"CREATE INDEX ix_{VOCAB}_trgm_{generation} ON {VOCAB}_new USING gin (word gin_trgm_ops)"))
        except Exception:
            # Not installable here (no privilege, or not shipped): correct in Python instead.
            savepoint.rollback()
            return False
        savepoint.commit()
        return True

    def drop(self) -> None:
        """Remove the backend's tables (tests, and `flask search rebuild` never needs this)."""
        with self._engine().begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {DOCS}, {VOCAB}, {META}, {DOCS}_new, {VOCAB}_new"))
        self.forget()
