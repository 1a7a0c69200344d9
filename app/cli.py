"""Command-line tools: flask demo, flask taxonomy seed, and the rest of the contract as they are built."""
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


def register(app):
    from app.demo.cli import demo_command

    app.cli.add_command(demo_command)
    app.cli.add_command(taxonomy_cli)
