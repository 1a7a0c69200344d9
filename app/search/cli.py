"""`flask search rebuild | sync | check`: the index from the command line."""
import time

import click
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError, ProgrammingError

search_cli = AppGroup("search", help="The full-text search index.")


@search_cli.command("rebuild")
def rebuild_command():
    """Rebuild the index from the database beside the current one, then swap it in."""
    from app.search import get_backend, rebuild
    from app.search.backend import LockTimeout

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label="Indexing", show_pos=True)
            bar.__enter__()
        bar.update(max(done - bar.pos, 0))

    started = time.perf_counter()
    try:
        count = rebuild(progress=progress)
    except LockTimeout as error:
        raise click.ClickException(f"{error} Another rebuild may be running; try again when it has finished.") from error
    except (OperationalError, ProgrammingError) as error:
        raise click.ClickException(f"Could not read the database ({type(error).__name__}): "
                                   "has `flask db upgrade` been run?") from error
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(f"Indexed {count:,} documents with {get_backend().name} in {time.perf_counter() - started:.1f} s.")


@search_cli.command("sync")
def sync_command():
    """Apply every pending change to the index (retrying those that failed before)."""
    from app.search import backlog, ensure_index, get_backend
    from app.search.outbox import apply_outbox, failing

    state = ensure_index(background=False)
    if state != "ok":
        raise click.ClickException(f"The search index is {state} and could not be rebuilt.")
    applied = apply_outbox(wait=30.0, retry_all=True)
    left, failed = backlog(), failing()
    click.echo(f"Applied {applied} change(s) to the {get_backend().name} index; {left} pending ({failed} after a failed attempt).")
    if failed:
        raise SystemExit(1)


@search_cli.command("check")
def check_command():
    """Compare the index with the database; exit 1 when they disagree."""
    from app.search import check

    info = check()
    click.echo(f"Backend: {info.get('backend')}; index: {info.get('state')} ({info.get('version')})")
    indexed = info.get("documents") or {}
    for kind, count in info["database"].items():
        click.echo(f"  {kind:<13} database {count:>7,}   index {indexed.get(kind, 0):>7,}")
    click.echo(f"Pending changes: {info['backlog']} ({info['failing']} after a failed attempt).")
    if info["in_step"] and not info["backlog"]:
        click.echo("The index agrees with the database.")
        return
    click.echo("The index does not agree with the database: run `flask search sync`, or `flask search rebuild`.", err=True)
    raise SystemExit(1)
