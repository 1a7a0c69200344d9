"""`flask demo`: load deterministic demo data into an empty database."""
from datetime import date

import click
from flask.cli import with_appcontext

from app.demo.loader import DatabaseNotEmpty, DemoError, DemoReport, demo_logins, load_demo
from app.demo.people import DEMO_PASSWORD
from app.demo.world import SCALES
from app.extensions import db, write_transaction


@click.command("demo")
@with_appcontext
@click.option("--scale", type=click.Choice(list(SCALES)), default="partnership", show_default=True,
              help="partnership: about 300 schools in three counties; national: about 24,000 organisations.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="The same seed and anchor always give the same data.")
@click.option("--anchor", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="The demo's today: a year of history before it, sessions over the next two terms after it. "
                   "Default: the Monday of this week (UTC).")
@click.option("--if-empty", is_flag=True,
              help="Load only if the database is empty; otherwise say so and exit 0 (for `make run`).")
def demo_command(scale: str, seed: int, anchor, if_empty: bool) -> None:
    """Load deterministic demo data into an empty database."""
    anchor_day: date | None = anchor.date() if anchor else None
    try:
        with write_transaction():
            report = load_demo(scale, seed, anchor=anchor_day)
            db.session.commit()
    except DemoError as error:
        # Any other failure rolls back too, when the app context ends and the session goes.
        db.session.rollback()
        if if_empty and isinstance(error, DatabaseNotEmpty):
            click.echo("The database already has data: the demo was not loaded.")
            _print_logins()
            return
        raise click.ClickException(str(error)) from error
    _print_summary(report)


def _print_summary(report: DemoReport) -> None:
    counts = report.counts
    click.echo(
        f"Loaded the {report.scale} demo (seed {report.seed}, anchor {report.anchor:%a %d %b %Y}) "
        f"in {report.total_seconds:.1f} s: "
        f"{counts['organisations']:,} organisations ({report.schools:,} schools in "
        f"{report.local_authorities} local authorities, {report.isolated_schools} in no network), "
        f"{counts['networks']:,} networks, {counts['memberships']:,} memberships, "
        f"{counts['users']:,} people, {counts['expert_profiles']:,} experts, "
        f"{counts['offers']:,} offers with {counts['offer_sessions']:,} sessions, "
        f"{counts['support_requests']:,} support requests."
    )
    history = report.history
    if history is not None:
        states = ", ".join(f"{n:,} {status.replace('_', ' ')}" for status, n in sorted(history.bookings.items()))
        click.echo(f"A year of history: {sum(history.bookings.values()):,} bookings ({states}), "
                   f"{sum(history.waitlist.values())} on waiting lists, {history.transfers:,} credit transfers.")
    _print_logins(report.demo_organisations)


def _print_logins(organisations: dict | None = None) -> None:
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, description, org_key in demo_logins():
        org = (organisations or {}).get(org_key) if org_key else None
        click.echo(f"  {email:<32}{description}{', ' + org if org else ''}")
