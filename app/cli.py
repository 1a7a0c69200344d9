"""Command-line tools: flask demo, and the rest of the contract as they are built."""
import click


def register(app):
    from app.demo.cli import demo_command

    app.cli.add_command(demo_command)
