"""Command-line tools: flask demo, flask taxonomy seed, flask credits verify, and the rest of the contract as they are built."""
import click
from flask.cli import AppGroup

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


def register(app):
    from app.demo.cli import demo_command

    app.cli.add_command(demo_command)
    app.cli.add_command(taxonomy_cli)
    app.cli.add_command(credits_cli)
