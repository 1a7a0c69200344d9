import click


@click.command("demo")
def demo_command():
    """Load deterministic demo data into an empty database."""
    click.echo("not yet")
