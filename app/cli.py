"""Command-line tools: flask demo, flask taxonomy seed, flask credits verify, and the rest of the contract as they are built."""
import click
from flask.cli import AppGroup, with_appcontext

taxonomy_cli = AppGroup("taxonomy", help="The category tree and facet vocabularies.")


@taxonomy_cli.command("seed")
def seed_taxonomy_command():
    """Add any missing categories, facet terms, designations and specialisms (idempotent)."""
    from app.extensions import db, write_transaction
    from app.services.taxonomy import seed_taxonomy

    with write_transaction():
        seed_taxonomy()
        db.session.commit()
    click.echo("Taxonomy is up to date.")


credits_cli = AppGroup("credits", help="The credits ledger.")


@credits_cli.command("verify")
def verify_credits_command():
    """Check the ledger's invariants; exit 1 with a report on any breach."""
    from app.services.ledger import verify

    problems = verify()
    if problems:
        click.echo(f"The ledger has {len(problems)} problem(s):", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1)
    click.echo("The ledger is consistent: every transfer has two entries summing to zero, every balance equals its entries, and all balances sum to zero.")


mail_cli = AppGroup("mail", help="Outgoing email.")


@mail_cli.command("send")
def send_mail_command():
    """Send every message that is due (new ones are sent by the request that wrote them; this retries)."""
    from app.services.mail import backlog, deliver

    sent, failed = deliver()
    left = backlog()
    click.echo(f"Sent {sent}, failed {failed}; {left['pending']} pending ({left['failing']} after a failed attempt).")
    if failed:
        raise SystemExit(1)


@click.command("reminders")
@with_appcontext
def reminders_command():
    """Send due reminders (impact follow-ups, stale offers, booking reminders); safe to run from cron every hour."""
    from app.extensions import db, write_transaction
    from app.services.reminders import send_due

    from app.services.mail import deliver

    with write_transaction():
        counts = send_due()
        db.session.commit()
    # The new reminders' emails went out with the commit; this retries any left pending.
    retried, failed = deliver()
    click.echo(
        f"Sent {counts['follow_ups']} impact follow-up request(s), {counts['freshness']} freshness reminder(s) "
        f"and {counts['booking_reminders']} booking reminder(s); {counts['waitlist_expired']} waiting-list "
        f"offer(s) lapsed. Mail retried: {retried} sent, {failed} failed."
    )


def register(app):
    from app.demo.cli import demo_command
    from app.search.cli import search_cli

    app.cli.add_command(demo_command)
    app.cli.add_command(taxonomy_cli)
    app.cli.add_command(credits_cli)
    app.cli.add_command(reminders_command)
    app.cli.add_command(mail_cli)
    app.cli.add_command(search_cli)
