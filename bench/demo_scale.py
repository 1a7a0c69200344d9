"""How long the national-scale demo takes to generate and load, table by table.

    .venv/bin/python bench/demo_scale.py [--scale national|partnership] [--seed N] [--anchor YYYY-MM-DD] [--keep]

Builds a fresh SQLite database in a temporary directory (schema from the models), loads
the demo in one transaction as `flask demo` does, then prints each step's time (with rows
per second for each table's insert, and the year of history played through the services),
the total, the row count of every table and a few ratios of the catalogue (offers per
school, sessions per offer). Not run by the test suite.
"""
import argparse
import os
import sys
import tempfile
import time
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.loader import Stopwatch, load_demo  # noqa: E402
from app.extensions import db, write_transaction  # noqa: E402


def main() -> None:
    args = _arguments()
    directory = tempfile.mkdtemp(prefix="waymark-bench-")
    path = os.path.join(directory, "bench.sqlite")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        commit = Stopwatch()
        with write_transaction():
            report = load_demo(args.scale, args.seed, anchor=args.anchor)
            with commit.lap("commit"):
                db.session.commit()
        wall = time.perf_counter() - started
        _print_timings(report.timings + commit.laps, wall, report.counts)
        _print_counts()
        _print_ratios(report)
        db.engine.dispose()
    print(f"\ndatabase: {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        os.rmdir(directory)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="national", choices=("national", "partnership"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--anchor", type=date.fromisoformat, default=None,
                        help="the demo's today (default: the Monday of this week)")
    parser.add_argument("--keep", action="store_true", help="keep the database file for a look")
    return parser.parse_args()


def _print_timings(laps: list[tuple[str, float]], wall: float, counts: dict[str, int]) -> None:
    print(f"{'step':<34}{'seconds':>9}{'rows/s':>12}")
    for label, seconds in laps:
        table = label.removeprefix("insert ")
        rate = f"{counts[table] / seconds:>12,.0f}" if table in counts and seconds > 0 else ""
        print(f"{label:<34}{seconds:>9.2f}{rate}")
    print(f"{'total (wall clock)':<34}{wall:>9.2f}")


def _print_counts() -> None:
    print(f"\n{'table':<34}{'rows':>9}")
    for table in db.metadata.sorted_tables:
        count = db.session.scalar(select(func.count()).select_from(table))
        if count:
            print(f"{table.name:<34}{count:>9,}")


def _print_ratios(report) -> None:
    counts = report.counts
    print(f"\noffers per school {counts['offers'] / report.schools:.2f}, "
          f"sessions per offer {counts['offer_sessions'] / counts['offers']:.2f}, "
          f"facet terms per offer {counts['offer_terms'] / counts['offers']:.1f}, "
          f"requests per school {counts['support_requests'] / report.schools:.3f}")
    history = report.history
    print(f"history (anchor {report.anchor}): {history.steps:,} steps through the services, "
          f"{sum(history.bookings.values()):,} bookings {dict(sorted(history.bookings.items()))}, "
          f"waiting list {dict(sorted(history.waitlist.items()))}, {history.transfers:,} transfers, "
          f"{history.withdrawn_for_credits} requests withdrawn for want of credits")


if __name__ == "__main__":
    main()
