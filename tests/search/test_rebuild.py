"""Rebuilding: beside the live index and swapped in at once; on a new version; and when the
index is missing or damaged, with the database answering meanwhile."""
import os
import threading

import pytest
from sqlalchemy import select, text

from app import search
from app.extensions import db
from app.models import SearchOutbox

NEUTRAL = "clerking"


def offer_ids(query, **kwargs):
    return search.search(query, kinds=("offer",), **kwargs).ids["offer"]


def make(make_offer, title, **kwargs):
    return make_offer(title=title, category_slug=NEUTRAL, summary="", **kwargs)


def damage(engine: str) -> None:
    """Break the live index the way a crash or a bad disk would."""
    backend = search.get_backend()
    if engine == "whoosh":
        generation = os.path.join(backend.directory, backend._current())
        for name in os.listdir(generation):
            if name != "waymark.json":
                with open(os.path.join(generation, name), "wb") as handle:
                    handle.write(b"\x00garbage\xff" * 3)
    else:
        with db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE search_documents DROP COLUMN tsv"))
    backend.forget()


def remove(engine: str) -> None:
    backend = search.get_backend()
    if engine == "whoosh":
        os.remove(os.path.join(backend.directory, "CURRENT"))
    else:
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE search_documents"))
    backend.forget()


def test_a_search_during_a_rebuild_answers_from_the_live_index(make_offer, app):
    old = make(make_offer, "Oracy workshop")
    assert offer_ids("oracy") == [old.id]
    app.config["SEARCH_LOCK_WAIT"] = 0.2
    building, release = threading.Event(), threading.Event()
    errors = []

    def progress(done, total):
        if done == total:
            building.set()
            release.wait(20)

    def work():
        with app.app_context():
            try:
                search.rebuild(progress=progress)
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    try:
        assert building.wait(20)
        # Mid-rebuild: the live index still answers, fully.
        during = search.search("oracy", kinds=("offer",))
        assert during.ids["offer"] == [old.id] and not during.fallback
        # A change made now waits for the rebuild (the writer lock is taken) and is not lost.
        old.title = "Storytelling workshop"
        db.session.commit()
        assert search.backlog() == 1
    finally:
        release.set()
        thread.join(30)
    assert not errors
    assert offer_ids("storytelling") == [old.id]
    assert offer_ids("oracy") == []
    assert search.backlog() == 0
    assert search.check()["in_step"]


def test_a_rebuild_matches_the_database_whatever_the_index_held(make_offer, app):
    kept = make(make_offer, "Oracy kept")
    dropped = make(make_offer, "Oracy dropped")
    assert set(offer_ids("oracy")) == {kept.id, dropped.id}
    app.config["SEARCH_APPLY_ON_COMMIT"] = False
    dropped.status = "archived"
    added = make(make_offer, "Oracy added")
    db.session.execute(SearchOutbox.__table__.delete())  # as if the changes had been lost
    db.session.commit()
    assert not search.check()["in_step"]
    indexed = search.rebuild()
    info = search.check()
    assert indexed == sum(info["database"].values())
    assert info["in_step"] and info["documents"]["offer"] == 2
    assert set(offer_ids("oracy")) == {kept.id, added.id}


def test_a_rebuild_gives_the_same_answers_as_the_changes_applied_one_by_one(make_offer, make_expert, make_request):
    made = [make(make_offer, f"Oracy {n}", description="Talk for writing " * n) for n in range(1, 6)]
    make_expert(name="Oracy Expert", headline="Talk")
    make_request(title="Oracy request")
    assert search.ensure_index() == "ok"
    for offer in made[:2]:
        offer.description = "Phonics and oracy"
        db.session.commit()
    made[4].status = "paused"
    db.session.commit()
    queries = ["oracy", "talk writing", "phonics OR talk", "oracy -phonics", '"talk for writing"']
    def found(q):
        # The same documents for every query. Not necessarily in the same order: Whoosh's
        # scores count documents deleted by an update until its segments merge, which a
        # rebuild does not have, so near-ties may swap places.
        return {kind: sorted(ids) for kind, ids in search.search(q).ids.items()}

    incremental = [found(q) for q in queries]
    assert incremental[0]["offer"] == sorted(offer.id for offer in made[:4]), "the paused offer is gone"
    search.rebuild()
    assert [found(q) for q in queries] == incremental


def test_a_new_version_triggers_a_rebuild(make_offer, monkeypatch):
    offer = make(make_offer, "Oracy workshop")
    assert offer_ids("oracy") == [offer.id]
    backend = search.get_backend()
    monkeypatch.setattr(type(backend), "version", lambda self: "schema 999; a new analyser")
    backend.forget()
    assert backend.state() == "stale"
    assert search.status()["index"] == "stale"
    result = search.search("oracy", kinds=("offer",))  # tests rebuild at once (see SEARCH_BACKGROUND_REBUILD)
    assert result.ids["offer"] == [offer.id] and not result.fallback
    assert backend.state() == "ok"
    assert search.check()["version"] == "schema 999; a new analyser"


@pytest.mark.parametrize("breakage", [damage, remove], ids=["corrupt", "missing"])
def test_a_broken_index_falls_back_to_the_database_then_is_rebuilt(make_offer, app, engine, breakage):
    offer = make(make_offer, "Oracy workshop", description="Oracy: talking and listening.")
    make(make_offer, "Phonics", description="Letters.")
    assert offer_ids("oracy") == [offer.id]
    app.config["SEARCH_BACKGROUND_REBUILD"] = True  # as in production
    breakage(engine)

    meanwhile = search.search("oracy", kinds=("offer",))
    assert meanwhile.fallback and meanwhile.notice and meanwhile.error is None
    assert meanwhile.ids["offer"] == [offer.id] and meanwhile.suggestion is None
    assert "<mark>Oracy</mark>: talking" in meanwhile.snippets[("offer", offer.id)]
    assert search.search("phonix -oracy", kinds=("offer",)).fallback

    search.wait_for_background_rebuild()
    after = search.search("oracy", kinds=("offer",))
    assert not after.fallback and after.ids["offer"] == [offer.id]
    assert search.get_backend().state() == "ok"
    assert search.search("phonix", kinds=("offer",)).suggestion == "phonics"


def test_without_auto_rebuild_a_missing_index_stays_missing_and_search_still_answers(make_offer, app, engine):
    offer = make(make_offer, "Oracy workshop")
    app.config["SEARCH_AUTO_REBUILD"] = False
    result = search.search("oracy", kinds=("offer",))
    assert result.fallback and result.ids["offer"] == [offer.id]
    assert search.get_backend().state() == "missing"


def test_old_whoosh_generations_are_removed_and_readers_follow_the_swap(make_offer, engine):
    if engine != "whoosh":
        pytest.skip("the generation folders are Whoosh's")
    offer = make(make_offer, "Oracy workshop")
    assert offer_ids("oracy") == [offer.id]  # this thread now holds a searcher on generation 1
    backend = search.get_backend()
    first = backend._current()
    search.rebuild()
    search.rebuild()
    generations = sorted(name for name in os.listdir(backend.directory) if name.startswith("gen-"))
    assert len(generations) == 2 and first not in generations  # the live one and the one before
    assert offer_ids("oracy") == [offer.id]


def test_postgres_typo_correction_works_without_pg_trgm(make_offer, engine):
    if engine != "postgres":
        pytest.skip("pg_trgm is PostgreSQL's")
    phonics = make(make_offer, "Phonics for reception")
    mentoring = make(make_offer, "Mentoring new teachers")
    backend = search.get_backend()
    backend.trigram_setting = "off"
    search.rebuild()
    assert search.check()["trigram"] == "off"
    assert search.search("phonix", kinds=("offer",)).ids["offer"] == [phonics.id]
    result = search.search("mentorng", kinds=("offer",))
    assert result.suggestion == "mentoring" and result.ids["offer"] == [mentoring.id]
    backend.trigram_setting = "auto"
    search.rebuild()
    assert search.check()["trigram"] == "on"
    assert search.search("phonix", kinds=("offer",)).suggestion == "phonics"


def test_outbox_rows_covered_by_a_rebuild_are_cleared(make_offer, app):
    app.config["SEARCH_APPLY_ON_COMMIT"] = False
    make(make_offer, "Oracy workshop")
    assert db.session.scalar(select(SearchOutbox.id)) is not None
    db.session.commit()
    search.rebuild()
    assert search.backlog() == 0


def test_serving_starts_by_checking_the_index(make_offer, app, client):
    offer = make(make_offer, "Oracy workshop")
    app.config["SEARCH_BACKGROUND_REBUILD"] = True  # as when served outside tests
    assert search.get_backend().state() == "missing"
    assert client.get("/healthz").status_code == 200  # the first request starts a build...
    search.wait_for_background_rebuild()
    assert search.get_backend().state() == "ok"  # ...without anyone having searched
    assert client.get("/healthz").get_json()["search"]["index"] == "ok"
    assert offer_ids("oracy") == [offer.id]


def test_tests_do_not_build_an_index_they_never_search(make_offer, client):
    make(make_offer, "Oracy workshop")
    client.get("/healthz")
    client.get("/")
    assert search.get_backend().state() == "missing"
