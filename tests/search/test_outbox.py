"""The outbox: changes recorded in the data's own transaction, applied after the commit,
never lost when applying fails, and safe with several writers at once."""
import json
import os
import subprocess
import sys
import textwrap
import time

from sqlalchemy import select

from app import search
from app.extensions import db
from app.models import Category, FacetTerm, Offer, SearchOutbox, Specialism
from tests.conftest import BASE_CONFIG

NEUTRAL = "clerking"


def outbox_rows():
    return db.session.execute(select(SearchOutbox.kind, SearchOutbox.object_id).order_by(SearchOutbox.id)).tuples().all()


def offer_ids(query):
    result = search.search(query, kinds=("offer",))
    assert not result.fallback and result.error is None
    return result.ids["offer"]


def built(make_offer, **kwargs):
    """An offer, and an index that holds it."""
    offer = make_offer(category_slug=NEUTRAL, summary="", **kwargs)
    assert search.ensure_index() == "ok"
    assert search.backlog() == 0
    return offer


def test_a_change_writes_its_outbox_row_in_the_same_transaction(make_offer, app):
    app.config["SEARCH_APPLY_ON_COMMIT"] = False
    offer = make_offer(title="Oracy", category_slug=NEUTRAL)
    db.session.execute(SearchOutbox.__table__.delete())
    db.session.commit()

    offer.title = "Oracy for all"
    db.session.flush()
    assert outbox_rows() == [("offer", offer.id)]  # visible inside the transaction...
    db.session.rollback()
    assert outbox_rows() == []  # ...and gone with it
    assert db.session.get(Offer, offer.id).title == "Oracy"

    offer = db.session.get(Offer, offer.id)
    offer.title = "Oracy for all"
    db.session.flush()
    offer.description = "Twice in one transaction, one row."
    db.session.commit()
    assert outbox_rows() == [("offer", offer.id)]


def test_a_rolled_back_savepoint_does_not_lose_a_later_change(make_offer, app):
    app.config["SEARCH_APPLY_ON_COMMIT"] = False
    offer = make_offer(title="Oracy", category_slug=NEUTRAL)
    db.session.execute(SearchOutbox.__table__.delete())
    db.session.commit()
    savepoint = db.session.begin_nested()
    offer.title = "Oracy inside a savepoint"
    db.session.flush()
    savepoint.rollback()
    offer.title = "Oracy after the savepoint"
    db.session.commit()
    assert outbox_rows() == [("offer", offer.id)]


def test_without_an_index_rows_wait_for_the_build_that_covers_them(make_offer):
    offer = make_offer(title="Oracy", category_slug=NEUTRAL)
    assert search.backlog() >= 1  # nothing to apply them to yet
    assert search.get_backend().state() == "missing"
    assert offer_ids("oracy") == [offer.id]  # the first search builds the index (tests: at once)
    assert search.backlog() == 0


def test_a_committed_change_is_searchable_within_a_second(make_offer):
    offer = built(make_offer, title="Oracy")
    offer.title = "Storytelling"
    started = time.perf_counter()
    db.session.commit()
    assert offer_ids("storytelling") == [offer.id]
    assert time.perf_counter() - started < 1.0
    assert offer_ids("oracy") == []
    assert search.backlog() == 0


def test_a_change_made_in_a_request_is_applied_after_its_response(make_offer, login_as, client):
    offer = built(make_offer, title="Oracy")
    login_as("coordinator")
    started = time.perf_counter()
    response = client.post(f"/offers/{offer.id}/archive")
    assert response.status_code in (302, 303)
    assert offer_ids("oracy") == []
    assert time.perf_counter() - started < 1.0
    assert search.backlog() == 0


def test_unpublished_archived_and_deleted_offers_disappear(make_offer):
    offers = {status: built(make_offer, title=f"Oracy {status}") for status in ("draft", "paused", "archived", "deleted")}
    assert set(offer_ids("oracy")) == {offer.id for offer in offers.values()}
    for status, offer in offers.items():
        if status == "deleted":
            db.session.delete(offer)
        else:
            offer.status = status
        db.session.commit()
        assert offer.id not in offer_ids("oracy")
    assert offer_ids("oracy") == []
    assert search.check()["documents"].get("offer", 0) == 0  # gone from the index, not only filtered


def test_what_an_offer_shows_from_elsewhere_follows_its_changes(make_offer, make_expert):
    offer = built(make_offer, title="Weekly drop-in", terms={"phase": ["primary"], "subject": ["geography"]})
    organisation = offer.organisation
    expert = make_expert(name="Ada Lovelace", headline="Computing lead", organisation=organisation)

    organisation.name = "Severn Valley Learning Partnership"
    db.session.commit()
    assert offer_ids("severn") == [offer.id]
    assert search.search("severn", kinds=("expert", "organisation")).ids == {
        "organisation": [organisation.id], "expert": [expert.id]}

    category = db.session.scalar(select(Category).where(Category.slug == NEUTRAL))
    category.name = "Clerking and minute-taking"
    db.session.commit()
    assert offer_ids("minute-taking") == [offer.id]

    term = db.session.scalar(select(FacetTerm).where(FacetTerm.facet == "subject", FacetTerm.slug == "geography"))
    term.label = "Geography and fieldwork"
    db.session.commit()
    assert offer_ids("fieldwork") == [offer.id]

    expert.user.name = "Grace Hopper"
    db.session.commit()
    assert search.search("hopper", kinds=("expert",)).ids["expert"] == [expert.id]
    specialism = db.session.scalar(select(Specialism).limit(1))
    expert.specialisms.append(specialism)
    db.session.commit()
    specialism.name = "Zoological enrichment"
    db.session.commit()
    assert search.search("zoological", kinds=("expert",)).ids["expert"] == [expert.id]

    expert.public = False
    db.session.commit()
    assert search.search("hopper", kinds=("expert",)).ids["expert"] == []
    assert search.backlog() == 0


def test_a_failure_while_applying_leaves_the_row_for_the_next_write(make_offer, monkeypatch, app):
    offer = built(make_offer, title="Oracy")
    backend = search.get_backend()
    original = type(backend).apply

    def broken(self, docs, deletes):
        raise OSError("disk full")

    monkeypatch.setattr(type(backend), "apply", broken)
    offer.title = "Storytelling"
    db.session.commit()  # the data is committed whatever happens to the index
    row = db.session.scalar(select(SearchOutbox))
    assert (row.kind, row.object_id, row.attempts) == ("offer", offer.id, 1)
    assert "disk full" in row.last_error
    assert offer_ids("storytelling") == []  # the index still has the old text...
    assert search.status()["backlog"] == 1

    monkeypatch.setattr(type(backend), "apply", original)
    other = make_offer(title="Unrelated", category_slug=NEUTRAL)  # ...until the next write
    assert offer_ids("storytelling") == [offer.id]
    assert offer_ids("unrelated") == [other.id]
    assert search.backlog() == 0


def test_flask_search_sync_applies_what_failed(make_offer, monkeypatch, runner):
    offer = built(make_offer, title="Oracy")
    backend = search.get_backend()
    original = type(backend).apply
    monkeypatch.setattr(type(backend), "apply", lambda self, docs, deletes: (_ for _ in ()).throw(OSError("disk full")))
    offer.title = "Storytelling"
    db.session.commit()
    assert search.backlog() == 1
    monkeypatch.setattr(type(backend), "apply", original)
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert "Applied 1 change" in result.output and "0 pending" in result.output
    assert offer_ids("storytelling") == [offer.id]


def test_a_row_that_cannot_be_built_does_not_hold_up_the_others(make_offer, monkeypatch):
    good = built(make_offer, title="Oracy")
    bad = make_offer(title="Storytelling", category_slug=NEUTRAL)
    from app.search import backend as backend_module

    real = backend_module.document_for

    def fussy(kind, row):
        if kind == "offer" and row.id == bad.id:
            raise ValueError("cannot build this one")
        return real(kind, row)

    monkeypatch.setattr(backend_module, "document_for", fussy)
    good.title = "Oracy revised"
    bad.title = "Storytelling revised"
    db.session.commit()
    assert offer_ids("revised") == [good.id]
    rows = db.session.execute(select(SearchOutbox.object_id, SearchOutbox.attempts, SearchOutbox.last_error)).all()
    assert [(r.object_id, r.attempts) for r in rows] == [(bad.id, 1)] and "cannot build" in rows[0].last_error


def test_a_busy_writer_lock_leaves_rows_queued_not_lost(make_offer, app):
    offer = built(make_offer, title="Oracy")
    app.config["SEARCH_LOCK_WAIT"] = 0.2
    with search.get_backend().lock(1.0):  # another writer holds the index
        offer.title = "Storytelling"
        started = time.perf_counter()
        db.session.commit()
        assert time.perf_counter() - started < 1.5  # a bounded wait, then on with the work
        assert search.backlog() == 1
    assert search.apply_outbox() == 1
    assert offer_ids("storytelling") == [offer.id]


def test_healthz_reports_the_search_backlog(make_offer, app, client):
    offer = built(make_offer, title="Oracy")
    app.config["SEARCH_APPLY_ON_COMMIT"] = False
    offer.title = "Storytelling"
    db.session.commit()
    body = client.get("/healthz").get_json()
    assert body["search"]["backlog"] == 1
    assert body["search"]["index"] == "ok"
    assert body["search"]["backend"] == search.get_backend().name
    search.apply_outbox()
    assert client.get("/healthz").get_json()["search"]["backlog"] == 0


CHILD = textwrap.dedent("""
    import json, os, sys
    from app import create_app
    from app.extensions import db, write_transaction
    from app.models import Offer
    settings = json.loads(os.environ["SEARCH_CHILD"])
    app = create_app(settings["config"])
    with app.app_context():
        for offer_id in settings["ids"]:
            with write_transaction():
                offer = db.session.get(Offer, offer_id)
                offer.title = f"Renamed {settings['tag']} {offer_id}"
                db.session.commit()
        db.engine.dispose()
""")


def test_two_processes_writing_at_once_lose_no_change(make_offer, app, engine):
    offers = [built(make_offer, title=f"Original {n}") for n in range(16)]
    config = {
        **BASE_CONFIG,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SEARCH_BACKEND": engine,
        "SEARCH_INDEX_DIR": search.index_dir(),
        "SEARCH_LOCK_WAIT": 20.0,
    }
    halves = {"alpha": [o.id for o in offers[0::2]], "beta": [o.id for o in offers[1::2]]}
    db.session.commit()
    db.session.close()
    children = []
    for tag, ids in halves.items():
        env = {**os.environ, "SEARCH_CHILD": json.dumps({"config": config, "ids": ids, "tag": tag})}
        children.append(subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=os.getcwd(),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()
    assert search.backlog() == 0  # each writer waited its turn and applied
    assert sorted(offer_ids("renamed")) == sorted(halves["alpha"] + halves["beta"])
    assert sorted(offer_ids("alpha")) == sorted(halves["alpha"])
    assert offer_ids("original") == []
    assert search.check()["in_step"]
