"""Confirm-booking latency: school leads confirming bookings at once, against gunicorn.

    .venv/bin/python bench/confirm_latency.py [--engine sqlite|postgres|both] [--clients 16]
        [--per-client 25] [--workers 2] [--worker-class sync|gthread] [--threads 4]
        [--interval SECONDS] [--time-limit 120] [--keep]

For each engine: a fresh database (a SQLite file in a temporary directory, or a PostgreSQL
database `waymark_bench` on 127.0.0.1:5432, created and dropped here; the test suite's `test`
database is left alone) gets the partnership demo, then `--per-client` requested bookings for
each of `--clients` schools, made through app.services.bookings on priced sessions to come,
and enough credits (a coordinator's grant) to confirm them all. gunicorn serves the app with
`--workers` workers on a free port of 127.0.0.1. Each client is a thread that signs in as its
school's lead (POST /auth/login with the form's CSRF token) and then POSTs
/bookings/<id>/confirm for each of its bookings, one after another, all clients at once:
as fast as answers come (the server saturated), or one every `--interval` seconds each.
Latency is measured from sending a confirmation to reading the whole answer (a 303 to the
booking); anything else is an error. Afterwards the script checks what the database says
(every booking confirmed once, one hold each, no session over capacity) and runs
`flask credits verify` against it. Not run by the test suite.
"""
import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from bench.common import HOST, create_pg_database, drop_pg_database, free_port, percentile, stop  # noqa: E402

BENCH_PASSWORD = "bench-password-for-leads"
PG_DATABASE = "waymark_bench"
REQUEST_TIMEOUT = 30
TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


# --- the app gunicorn serves ---------------------------------------------------------------


def bench_app():
    """The WSGI app for gunicorn (`bench.confirm_latency:bench_app()`), configured from the
    environment this script sets, so that mail goes to the bench's own outbox folder."""
    from app import create_app

    return create_app({
        "SECRET_KEY": os.environ["BENCH_SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URI"],
        "OUTBOX_DIR": os.environ["BENCH_OUTBOX"],
    })


def _app(uri: str, outbox: str):
    from app import create_app

    return create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri, "OUTBOX_DIR": outbox})


# --- preparing the data ---------------------------------------------------------------------


@dataclass
class Lead:
    email: str
    booking_ids: list[int]


def prepare(uri: str, outbox: str, clients: int, per_client: int) -> tuple[list[Lead], dict]:
    """Schema, the partnership demo, then requested bookings and credits for each client's school."""
    from sqlalchemy import select

    from app.demo.loader import load_demo
    from app.extensions import db, write_transaction
    from app.models import Offer, OfferSession, Organisation, User
    from app.models.base import utcnow
    from app.services import bookings, ledger, passwords

    app = _app(uri, outbox)
    timings = {}
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        with write_transaction():
            report = load_demo("partnership", seed=1)
            db.session.commit()
        timings["demo load"] = time.perf_counter() - started
        started = time.perf_counter()
        with write_transaction():
            coordinator = db.session.scalar(select(User).where(User.email == "coordinator@demo.waymark.test"))
            leads = db.session.scalars(
                select(User).join(Organisation, Organisation.id == User.organisation_id)
                .where(User.role == "school_lead", Organisation.kind == "school", User.active.is_(True))
                .order_by(Organisation.id, User.id)
            ).all()
            chosen, seen = [], set()
            for lead in leads:
                if lead.organisation_id not in seen:
                    seen.add(lead.organisation_id)
                    chosen.append(lead)
            chosen = chosen[:clients]
            # The real hashing parameters cost a second or so a hash: hash once, share it.
            shared_hash = passwords.hash_password(BENCH_PASSWORD)
            now = utcnow()
            sessions = db.session.scalars(
                select(OfferSession).join(Offer)
                .where(Offer.status == "published", Offer.price_credits > 0, OfferSession.cancelled_at.is_(None),
                       OfferSession.starts_at > now + timedelta(days=1))
                .order_by(OfferSession.starts_at, OfferSession.id)
            ).all()
            taken = bookings.places_taken_by_session([s.id for s in sessions])
            left = {s.id: s.places - taken[s.id] for s in sessions}
            result = []
            for lead in chosen:
                lead.password_hash = shared_hash
                ids, cost = [], 0
                for session in sessions:
                    if len(ids) == per_client:
                        break
                    if left[session.id] < 1 or session.offer.organisation_id == lead.organisation_id:
                        continue
                    booking = bookings.request_places(lead, session.id, 1, "Benchmark booking", now=now)
                    left[session.id] -= 1
                    ids.append(booking.id)
                    cost += session.offer.price_credits
                if len(ids) < per_client:
                    raise SystemExit(f"Not enough places to come for {per_client} bookings a school.")
                needed = cost - ledger.balance_of(lead.organisation_id).available
                if needed > 0:
                    ledger.issue(coordinator, kind="grant", organisation_id=lead.organisation_id, amount=needed,
                                 key=f"bench:{lead.organisation_id}", reason="Benchmark: credits for its bookings")
                result.append(Lead(lead.email, ids))
            db.session.commit()
        timings["bookings prepared"] = time.perf_counter() - started
        history = report.history
        facts = {"bookings in the demo": sum(history.bookings.values()), "transfers": history.transfers, **timings}
        db.session.remove()
        db.engine.dispose()
    return result, facts


# --- gunicorn -------------------------------------------------------------------------------




def start_gunicorn(uri: str, outbox: str, workers: int, worker_class: str, threads: int,
                   access_log: str | None = None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "BENCH_DATABASE_URI": uri, "BENCH_OUTBOX": outbox, "BENCH_SECRET_KEY": os.urandom(16).hex()}
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", worker_class,
               "--bind", f"{HOST}:{port}", "--pythonpath", REPO, "--chdir", REPO, "--log-level", "warning",
               "--timeout", "60"]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    if access_log:
        # Time in the worker per request (%(M)s ms), to tell server time from waiting in the queue.
        command += ["--access-logfile", access_log, "--access-logformat", "%(t)s %(r)s %(s)s %(M)sms pid=%(p)s"]
    process = subprocess.Popen(command + ["bench.confirm_latency:bench_app()"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            status, _, _ = request(port, "GET", "/healthz", {})
            if status == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise SystemExit("gunicorn did not answer within 30 s")




# --- the clients ----------------------------------------------------------------------------


def request(port: int, method: str, path: str, cookies: dict, form: dict | None = None,
            headers: dict | None = None) -> tuple[int, dict, str]:
    """One request on a new connection (sync workers close it anyway); cookies updated in place."""
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookies[name] = rest.split(";", 1)[0]
        return response.status, dict(response.getheaders()), text
    finally:
        connection.close()


@dataclass
class Client:
    lead: Lead
    port: int
    cookies: dict = field(default_factory=dict)
    token: str = ""
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def sign_in(self) -> None:
        status, _, page = request(self.port, "GET", "/auth/login", self.cookies)
        token = TOKEN.search(page)
        if status != 200 or not token:
            raise RuntimeError(f"login page: {status}")
        status, _, _ = request(self.port, "POST", "/auth/login", self.cookies,
                               {"email": self.lead.email, "password": BENCH_PASSWORD, "next": "",
                                "csrf_token": token.group(1)})
        if status not in (302, 303):
            raise RuntimeError(f"sign-in as {self.lead.email}: {status}")
        # The session starts afresh at sign-in, with a new CSRF token: read it from a page.
        status, _, page = request(self.port, "GET", f"/bookings/{self.lead.booking_ids[0]}", self.cookies)
        token = TOKEN.search(page)
        if status != 200 or not token:
            raise RuntimeError(f"booking page: {status}")
        self.token = token.group(1)

    def confirm_all(self, start: threading.Barrier, deadline: float, interval: float, offset: float) -> None:
        start.wait()
        t0 = time.monotonic() + offset
        for n, booking_id in enumerate(self.lead.booking_ids):
            if interval:
                # Paced: one confirmation every `interval` seconds (later if the last is slow).
                time.sleep(max(0.0, t0 + n * interval - time.monotonic()))
            if time.monotonic() > deadline:
                self.errors.append("time limit reached")
                return
            began = time.perf_counter()
            try:
                status, headers, _ = request(self.port, "POST", f"/bookings/{booking_id}/confirm", self.cookies,
                                             {"confirm-csrf_token": self.token}, {"X-CSRFToken": self.token})
            except OSError as error:
                self.errors.append(f"{booking_id}: {error}")
                continue
            self.latencies.append(time.perf_counter() - began)
            location = headers.get("Location", "")
            if status != 303 or not location.endswith(f"/bookings/{booking_id}"):
                self.errors.append(f"{booking_id}: HTTP {status}")


def run_clients(leads: list[Lead], port: int, time_limit: float, interval: float) -> tuple[list[Client], float]:
    clients = [Client(lead, port) for lead in leads]
    for client in clients:
        client.sign_in()
    start = threading.Barrier(len(clients) + 1)
    deadline = time.monotonic() + time_limit
    # Paced clients start spread over one interval, not all in the same instant.
    threads = [threading.Thread(target=c.confirm_all, args=(start, deadline, interval, interval * i / len(clients)))
               for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(time_limit + REQUEST_TIMEOUT)
    return clients, time.perf_counter() - began


# --- checking the result --------------------------------------------------------------------


def check(uri: str, outbox: str, leads: list[Lead]) -> dict:
    """What the database says after the run, and `flask credits verify` against it."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Booking, OfferSession, Transfer
    from app.models.bookings import OCCUPYING_STATUSES

    app = _app(uri, outbox)
    ids = [i for lead in leads for i in lead.booking_ids]
    with app.app_context():
        status_of = dict(db.session.execute(select(Booking.id, Booking.status).where(Booking.id.in_(ids))).all())
        holds = Counter(db.session.scalars(select(Transfer.booking_id).where(Transfer.kind == "hold",
                                                                             Transfer.booking_id.in_(ids))))
        taken = (select(Booking.session_id, func.sum(Booking.places).label("taken"))
                 .where(Booking.status.in_(OCCUPYING_STATUSES)).group_by(Booking.session_id).subquery())
        over = db.session.scalar(select(func.count()).select_from(OfferSession)
                                 .join(taken, taken.c.session_id == OfferSession.id)
                                 .where(taken.c.taken > OfferSession.places))
        db.session.remove()
        db.engine.dispose()
    database_url = uri.replace("postgresql+psycopg://", "postgresql://")
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench", "FLASK_APP": "wsgi"}
    verify = subprocess.run([os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi", "credits",
                             "verify"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    statuses = Counter(status_of.values())
    return {
        "confirmed": statuses.get("confirmed", 0),
        "still requested": statuses.get("requested", 0),
        # Every prepared booking is priced: confirmed means exactly one hold, requested none.
        "bookings whose holds do not match": sum(
            1 for i in ids if holds.get(i, 0) != (1 if status_of.get(i) == "confirmed" else 0)),
        "sessions over capacity": over,
        "verify exit": verify.returncode,
        "verify output": (verify.stdout + verify.stderr).strip(),
    }


# --- one engine, start to finish ------------------------------------------------------------




def bench(engine: str, args) -> None:
    directory = tempfile.mkdtemp(prefix=f"waymark-bench-{engine}-")
    outbox = os.path.join(directory, "outbox")
    if engine == "sqlite":
        uri = f"sqlite:///{os.path.join(directory, 'bench.sqlite')}"
    else:
        uri = create_pg_database(PG_DATABASE)
    process = None
    try:
        print(f"\n== {engine}: preparing the partnership demo and "
              f"{args.clients} x {args.per_client} requested bookings", flush=True)
        leads, facts = prepare(uri, outbox, args.clients, args.per_client)
        for name, value in facts.items():
            print(f"   {name}: {value:.1f} s" if isinstance(value, float) else f"   {name}: {value:,}")
        load_before = os.getloadavg()[0]
        process, port = start_gunicorn(uri, outbox, args.workers, args.worker_class, args.threads,
                                       args.access_log and f"{args.access_log}.{engine}")
        clients, wall = run_clients(leads, port, args.time_limit, args.interval)
        stop(process)
        process = None
        latencies = [x for c in clients for x in c.latencies]
        errors = [e for c in clients for e in c.errors]
        mode = args.worker_class + (f", {args.threads} threads" if args.worker_class == "gthread" else "")
        pace = f"each every {args.interval:g} s" if args.interval else "each as fast as it can"
        print(f"   gunicorn: {args.workers} workers ({mode}); {len(clients)} clients ({pace}), "
              f"{len(latencies)} confirmations in {wall:.1f} s ({len(latencies) / wall:.0f}/s)")
        if latencies:
            ms = [x * 1000 for x in latencies]
            print(f"   latency ms: p50 {percentile(ms, 50):.0f}  p95 {percentile(ms, 95):.0f}  "
                  f"p99 {percentile(ms, 99):.0f}  max {max(ms):.0f}  mean {statistics.mean(ms):.0f}")
        print(f"   errors: {len(errors)}" + (f" (first: {', '.join(errors[:5])})" if errors else ""))
        # The machine's load average around the run: other work on it lengthens every figure.
        print(f"   load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
        result = check(uri, outbox, leads)
        for name, value in result.items():
            if name != "verify output":
                print(f"   {name}: {value}")
        print(f"   flask credits verify: {result['verify output']}")
    finally:
        if process is not None:
            stop(process)
        if engine == "postgres" and not args.keep:
            drop_pg_database(PG_DATABASE)
        if args.keep:
            print(f"   kept: {uri}")
        else:
            shutil.rmtree(directory, ignore_errors=True)






def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=25)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker with gthread")
    parser.add_argument("--interval", type=float, default=0,
                        help="seconds between one client's confirmations (0: each sends the next as soon as "
                             "the last is answered, which measures the server saturated)")
    parser.add_argument("--time-limit", type=float, default=120, help="seconds for the confirmations, at most")
    parser.add_argument("--keep", action="store_true", help="keep the databases for a look")
    parser.add_argument("--access-log", metavar="PATH", help="gunicorn's access log with time per request, "
                                                            "to PATH.sqlite and PATH.postgres")
    args = parser.parse_args()
    for engine in ("sqlite", "postgres") if args.engine == "both" else (args.engine,):
        bench(engine, args)


if __name__ == "__main__":
    main()
