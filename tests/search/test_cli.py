"""`flask search rebuild | sync | check`."""
from app import search
from app.extensions import db

NEUTRAL = "clerking"


def test_search_help_lists_the_commands(runner):
    # `make run` builds the index only when this answers.
    result = runner.invoke(args=["search", "--help"])
    assert result.exit_code == 0
    for command in ("rebuild", "sync", "check"):
        assert command in result.output


def test_rebuild_indexes_everything_with_a_progress_bar(make_offer, make_request, runner):
    for n in range(3):
        make_offer(title=f"Oracy {n}", category_slug=NEUTRAL)
    make_request(title="Oracy request")
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    documents = sum(search.check()["database"].values())
    assert "Indexing" in result.output  # the bar itself is drawn only on a terminal
    assert f"Indexed {documents} documents with {search.get_backend().name}" in result.output
    assert len(search.search("oracy").ids["offer"]) == 3


def test_rebuild_refuses_politely_while_another_holds_the_index(make_offer, runner, app):
    make_offer(title="Oracy", category_slug=NEUTRAL)
    app.config["SEARCH_REBUILD_LOCK_WAIT"] = 0.2
    with search.get_backend().lock(1.0):
        result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 1
    assert "busy" in result.output and "Traceback" not in result.output


def test_check_reports_agreement_and_disagreement(make_offer, runner, app):
    offer = make_offer(title="Oracy", category_slug=NEUTRAL)
    assert runner.invoke(args=["search", "rebuild"]).exit_code == 0
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    assert "agrees with the database" in result.output

    app.config["SEARCH_APPLY_ON_COMMIT"] = False
    offer.status = "archived"
    db.session.commit()
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "Pending changes: 1" in result.output and "flask search sync" in result.output

    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert "Applied 1 change(s)" in result.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    assert search.search("oracy").ids["offer"] == []


def test_sync_builds_a_missing_index_first(make_offer, runner):
    offer = make_offer(title="Oracy", category_slug=NEUTRAL)
    assert search.get_backend().state() == "missing"
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert search.get_backend().state() == "ok"
    assert search.search("oracy").ids["offer"] == [offer.id]


def test_the_postgres_engine_on_a_sqlite_database_falls_back_to_whoosh(app, engine):
    from tests.search.conftest import ON_POSTGRES

    if ON_POSTGRES:
        import pytest

        pytest.skip("this database is PostgreSQL")
    app.config["SEARCH_BACKEND"] = "postgres"
    app.extensions.pop("waymark_search", None)
    assert search.get_backend().name == "whoosh"


def test_the_whoosh_package_compiles_and_imports_cleanly_with_warnings_as_errors(tmp_path, engine):
    """Compiled afresh (no cached bytecode), as on a new machine or with PYTHONDONTWRITEBYTECODE:
    Whoosh 2.7.4's invalid escapes and `is` with a literal would fail here."""
    import subprocess
    import sys

    if engine != "whoosh":
        import pytest

        pytest.skip("once is enough")
    modules = "whoosh.index, whoosh.fields, whoosh.query, whoosh.analysis, whoosh.writing, whoosh.searching, " \
              "whoosh.collectors, whoosh.codec.whoosh3, whoosh.highlight, whoosh.automata.fsa, whoosh.sorting"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-X", f"pycache_prefix={tmp_path}", "-c", f"import {modules}"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
