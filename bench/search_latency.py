"""Search at 100,000 offers: request latency through gunicorn, a full rebuild, and how soon a
committed change can be found.

    .venv/bin/python bench/search_latency.py [--engine sqlite|postgres|both] [--offers 100000]
        [--requests 300] [--clients 2] [--workers 2] [--changes 20] [--seed 1] [--keep]

For each engine: a fresh database (a SQLite file with the Whoosh engine, or the PostgreSQL
database `waymark_bench_search` on 127.0.0.1:5432, created and dropped here with psycopg,
with the PostgreSQL engine) gets the partnership demo, then enough generated offers to make
`--offers` in all. They are written with bulk inserts, reusing the demo's vocabulary: each is
a copy of a demo offer's title (half of them with a place name), summary, description,
category and facet terms, at a random organisation, with the demo's mix of statuses.

1. Rebuild: `flask --app wsgi search rebuild` is run as a command and timed (its progress
   bar shows on the terminal).
2. Latency: gunicorn serves the app (`--workers` sync workers) on a free port of 127.0.0.1.
   After a warm-up, `--clients` threads each send GET /search?q=... (the whole page, as a
   visitor) one after another, `--requests` in all, with queries from the judged relevance
   set (tests/search/relevance.py) and a few that find nothing; then the same for the
   catalogue's /offers?q=... and for the active search's htmx fragment of /search. Latency is
   from sending a request to reading the whole answer; anything but a 200 is an error.
   Then the engine alone: app.search.search() in this process for the same queries, to
   tell the engine's time from the page's.
3. Commit to visible: `--changes` times, this process renames an offer to a word nobody
   else uses and commits (the change is applied to the index after the commit, as a command
   does); from just before the commit, /search is asked through gunicorn every 5 ms until
   the offer is found.

Not run by the test suite.
"""
import argparse
import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import date, datetime, timedelta

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from bench.common import HOST, create_pg_database, drop_pg_database, free_port, percentile, stop  # noqa: E402

PG_DATABASE = "waymark_bench_search"
REQUEST_TIMEOUT = 30
VISIBLE_TIMEOUT = 10.0
CHUNK = 5000
ANCHOR = date(2026, 11, 23)
STATUS_MIX = (("published", 84), ("draft", 7), ("paused", 4), ("archived", 5))
# Queries that find nothing: the search still has to answer them quickly.
NOTHING = ("glockenspiel", "xylophone workshop", "zzqv", "underwater basket weaving")


# --- the app gunicorn serves ---------------------------------------------------------------


def bench_app():
    """The WSGI app for gunicorn (`bench.search_latency:bench_app()`), from the environment."""
    from app import create_app

    return create_app({
        "SECRET_KEY": os.environ["BENCH_SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URI"],
        "OUTBOX_DIR": os.environ["BENCH_OUTBOX"],
        "SEARCH_BACKEND": os.environ["BENCH_SEARCH_BACKEND"],
        "SEARCH_INDEX_DIR": os.environ["BENCH_INDEX_DIR"],
    })


def _app(uri: str, directory: str, backend: str):
    from app import create_app

    return create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri,
                       "OUTBOX_DIR": os.path.join(directory, "outbox"),
                       "SEARCH_BACKEND": backend, "SEARCH_INDEX_DIR": os.path.join(directory, "index")})


# --- the data -------------------------------------------------------------------------------


def prepare(app, offers_wanted: int, seed: int) -> dict:
    """The partnership demo, then generated offers up to offers_wanted, in bulk."""
    from sqlalchemy import func, insert, select, text

    from app.demo.loader import load_demo
    from app.extensions import db, write_transaction
    from app.models import Offer, Organisation
    from app.models.offers import offer_terms

    facts = {}
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        with write_transaction():
            load_demo("partnership", seed=seed, anchor=ANCHOR)
            db.session.commit()
        facts["demo load"] = time.perf_counter() - started

        started = time.perf_counter()
        rng = random.Random(seed)
        templates = db.session.execute(
            select(Offer.id, Offer.title, Offer.summary, Offer.description, Offer.category_id, Offer.booking_mode,
                   Offer.price_credits, Offer.price_unit, Offer.capacity).where(Offer.status == "published")
        ).all()
        terms_of: dict[int, list[int]] = {}
        for offer_id, term_id in db.session.execute(select(offer_terms.c.offer_id, offer_terms.c.term_id)):
            terms_of.setdefault(offer_id, []).append(term_id)
        organisations = db.session.execute(
            select(Organisation.id, Organisation.name, Organisation.easting, Organisation.northing, Organisation.postcode)
        ).all()
        places = sorted({name.split()[0] for _, name, *_ in organisations if name.split()[0] not in ("The", "St", "Kings")})
        statuses = [status for status, weight in STATUS_MIX for _ in range(weight)]
        existing = db.session.scalar(select(func.count(Offer.id))) or 0
        next_id = (db.session.scalar(select(func.max(Offer.id))) or 0) + 1
        to_make = max(0, offers_wanted - existing)
        now = datetime(2026, 11, 23, 8, 0)
        made = 0
        with write_transaction():
            while made < to_make:
                rows, term_rows = [], []
                for _ in range(min(CHUNK, to_make - made)):
                    template = rng.choice(templates)
                    organisation = rng.choice(organisations)
                    status = rng.choice(statuses)
                    title = template.title if rng.random() < 0.5 else f"{template.title} ({rng.choice(places)})"
                    published = now - timedelta(days=rng.randrange(1, 700))
                    rows.append({
                        "id": next_id, "organisation_id": organisation.id, "title": title[:200],
                        "summary": template.summary, "description": template.description,
                        "category_id": template.category_id, "booking_mode": template.booking_mode,
                        "price_credits": template.price_credits, "price_unit": template.price_unit,
                        "capacity": template.capacity, "cancellation_days": 7,
                        "location_name": organisation.name, "postcode": organisation.postcode,
                        "easting": organisation.easting, "northing": organisation.northing, "status": status,
                        "assured_on": (published + timedelta(days=rng.randrange(0, 300))).date(),
                        "created_at": published, "updated_at": published,
                        "published_at": published if status != "draft" else None,
                    })
                    term_rows.extend({"offer_id": next_id, "term_id": term_id} for term_id in terms_of.get(template.id, ()))
                    next_id += 1
                # Core inserts: no ORM objects, so no search outbox rows (the rebuild reads everything).
                db.session.execute(insert(Offer.__table__), rows)
                if term_rows:
                    db.session.execute(insert(offer_terms), term_rows)
                made += len(rows)
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("SELECT setval(pg_get_serial_sequence('offers', 'id'), (SELECT max(id) FROM offers))"))
            db.session.commit()
        facts["offers generated"] = time.perf_counter() - started
        facts["offers"] = db.session.scalar(select(func.count(Offer.id)))
        facts["published offers"] = db.session.scalar(select(func.count(Offer.id)).where(Offer.status == "published"))
        if db.engine.dialect.name == "postgresql":
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        db.session.remove()
        db.engine.dispose()
    return facts


def rebuild_with_the_command(uri: str, directory: str, backend: str) -> tuple[float, int]:
    """`flask --app wsgi search rebuild`, timed from outside; its progress bar goes to the terminal."""
    env = {**os.environ, "DATABASE_URL": uri.replace("postgresql+psycopg://", "postgresql://"),
           "SEARCH_BACKEND": backend, "SEARCH_INDEX_DIR": os.path.join(directory, "index"),
           "SECRET_KEY": "bench", "FLASK_APP": "wsgi"}
    started = time.perf_counter()
    completed = subprocess.run([os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi", "search",
                                "rebuild"], cwd=REPO, env=env, timeout=1800)
    return time.perf_counter() - started, completed.returncode


# --- gunicorn -------------------------------------------------------------------------------




def start_gunicorn(uri: str, directory: str, backend: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "BENCH_DATABASE_URI": uri, "BENCH_OUTBOX": os.path.join(directory, "outbox"),
           "BENCH_SEARCH_BACKEND": backend, "BENCH_INDEX_DIR": os.path.join(directory, "index"),
           "BENCH_SECRET_KEY": os.urandom(16).hex()}
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
               "--bind", f"{HOST}:{port}", "--pythonpath", REPO, "--chdir", REPO, "--log-level", "warning",
               "--timeout", "120", "bench.search_latency:bench_app()"]
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            if get(port, "/healthz")[0] == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise SystemExit("gunicorn did not answer within 60 s")




def get(port: int, path: str, headers: dict | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


# --- measuring ------------------------------------------------------------------------------


def queries(seed: int) -> list[str]:
    from tests.search.relevance import JUDGED

    words = [judged.query for judged in JUDGED] + list(NOTHING)
    random.Random(seed).shuffle(words)
    return words




def run_clients(port: int, paths: list[str], clients: int, headers: dict | None = None) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    work = iter(paths)

    def client():
        while True:
            with lock:
                path = next(work, None)
            if path is None:
                return
            began = time.perf_counter()
            try:
                status, _ = get(port, path, headers)
            except OSError as error:
                with lock:
                    errors.append(f"{path}: {error}")
                continue
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors.append(f"{path}: HTTP {status}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - began


def report(label: str, latencies: list[float], errors: list[str], wall: float) -> dict:
    ms = [x * 1000 for x in latencies]
    figures = {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99), "max": max(ms),
               "mean": statistics.mean(ms)}
    print(f"   {label}: {len(ms)} requests in {wall:.1f} s ({len(ms) / wall:.0f}/s); ms p50 {figures['p50']:.0f}  "
          f"p95 {figures['p95']:.0f}  p99 {figures['p99']:.0f}  max {figures['max']:.0f}  mean {figures['mean']:.0f}; "
          f"errors {len(errors)}" + (f" (first: {errors[:3]})" if errors else ""))
    return figures


def latency(port: int, args) -> dict:
    words = queries(args.seed)
    # Warm-up: every worker opens its searcher and fills its caches.
    for word in words[:10]:
        get(port, "/search?" + urllib.parse.urlencode({"q": word}))
    results = {}
    for label, route, headers in (
        ("/search (whole page)", "/search", None),
        ("/offers (catalogue)", "/offers", None),
        ("/search (htmx fragment)", "/search", {"HX-Request": "true", "HX-Target": "search-results"}),
    ):
        paths = [f"{route}?" + urllib.parse.urlencode({"q": words[i % len(words)]}) for i in range(args.requests)]
        results[label] = report(label, *run_clients(port, paths, args.clients, headers))
    return results


def engine_alone(app, args) -> None:
    """The search engine's own share: app.search.search() in this process, for the same
    queries and kinds as a visitor's /search, without the page around it."""
    from app import search

    words = queries(args.seed)
    with app.app_context():
        search.search(words[0])
        ms = []
        for i in range(min(args.requests, 3 * len(words))):
            began = time.perf_counter()
            search.search(words[i % len(words)], kinds=("offer", "organisation", "expert"), limit=500, snippet_limit=0)
            ms.append((time.perf_counter() - began) * 1000)
    print(f"   engine alone (in this process, {len(ms)} searches): ms p50 {percentile(ms, 50):.0f}  "
          f"p95 {percentile(ms, 95):.0f}  max {max(ms):.0f}", flush=True)


def why_not_visible(word: str) -> str:
    """What this process sees when gunicorn does not find a change: the queue and the engine."""
    from app import search
    from app.search.outbox import backlog, failing

    result = search.search(word, kinds=("offer",), snippet_limit=0)
    return (f"changes still queued {backlog()} ({failing()} failed); this process's engine finds "
            f"{result.ids.get('offer')} (fallback {result.fallback}, error {result.error})")


def commit_to_visible(app, port: int, changes: int, seed: int) -> list[float]:
    """Rename an offer to a new word and commit; ask /search through gunicorn until it is found."""
    from sqlalchemy import select

    from app.extensions import db, write_transaction
    from app.models import Offer

    rng = random.Random(seed)
    seen = []
    with app.app_context():
        ids = list(db.session.scalars(select(Offer.id).where(Offer.status == "published").order_by(Offer.id)))
        for n in range(changes):
            word = "benchmark" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(10))
            with write_transaction():
                offer = db.session.get(Offer, rng.choice(ids))
                offer.title = f"{offer.title[:150]} {word}"
                db.session.flush()
                began = time.perf_counter()
                db.session.commit()
            path = "/search?" + urllib.parse.urlencode({"q": word})
            while True:
                status, html = get(port, path)
                if status == 200 and f"{word}</a></h4>" in html:
                    seen.append(time.perf_counter() - began)
                    break
                if time.perf_counter() - began > VISIBLE_TIMEOUT:
                    seen.append(float("inf"))
                    print(f"   not visible after {VISIBLE_TIMEOUT:.0f} s: {why_not_visible(word)}", flush=True)
                    break
                time.sleep(0.005)
        db.session.remove()
        db.engine.dispose()
    return seen


# --- one engine, start to finish ------------------------------------------------------------


def bench(engine: str, args) -> None:
    backend = "whoosh" if engine == "sqlite" else "postgres"
    directory = tempfile.mkdtemp(prefix=f"waymark-bench-search-{engine}-")
    uri = f"sqlite:///{os.path.join(directory, 'bench.sqlite')}" if engine == "sqlite" else create_pg_database(PG_DATABASE)
    process = None
    try:
        print(f"\n== {engine} database, {backend} search: partnership demo and offers up to {args.offers:,}", flush=True)
        facts = prepare(_app(uri, directory, backend), args.offers, args.seed)
        for name, value in facts.items():
            print(f"   {name}: {value:.1f} s" if isinstance(value, float) else f"   {name}: {value:,}")
        print("   flask search rebuild:", flush=True)
        seconds, code = rebuild_with_the_command(uri, directory, backend)
        print(f"   rebuild: {seconds:.1f} s wall (exit {code})", flush=True)
        load_before = os.getloadavg()[0]
        process, port = start_gunicorn(uri, directory, backend, args.workers)
        print(f"   gunicorn: {args.workers} sync workers; {args.clients} client{'s' if args.clients != 1 else ''}, "
              f"each sending the next request when the last is answered", flush=True)
        latency(port, args)
        engine_alone(_app(uri, directory, backend), args)
        seen = commit_to_visible(_app(uri, directory, backend), port, args.changes, args.seed)
        ms = [x * 1000 for x in seen]
        print(f"   commit to visible in /search ({len(ms)} changes): ms p50 {percentile(ms, 50):.0f}  "
              f"max {max(ms):.0f}  mean {statistics.mean(ms):.0f}")
        print(f"   load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    finally:
        if process is not None:
            stop(process)
        if engine == "postgres" and not args.keep:
            drop_pg_database(PG_DATABASE)
        if args.keep:
            print(f"   kept: {uri} and {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)






def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both",
                        help="sqlite: SQLite with Whoosh; postgres: PostgreSQL with its own full-text search")
    parser.add_argument("--offers", type=int, default=100_000, help="offers in all, the demo's included")
    parser.add_argument("--requests", type=int, default=300, help="requests per route measured")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--changes", type=int, default=20, help="changes timed from commit to visible")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the databases and index for a look")
    args = parser.parse_args()
    for engine in ("sqlite", "postgres") if args.engine == "both" else (args.engine,):
        bench(engine, args)


if __name__ == "__main__":
    main()
