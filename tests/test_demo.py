"""`flask demo`: the partnership it loads (schools, networks, people, offers, sessions, support
requests and a year of credits and bookings), the logins it promises, refusal and determinism."""
import hashlib
import math
import random
import re
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from app import create_app
from app.demo.geography import ENGLAND_BOX, in_england, national_las
from app.demo.loader import build_world, load_demo, taxonomy_ids
from app.demo.naming import NameBook
from app.demo.schoolyear import (
    easter_sunday, is_school_day, monday_of, school_days, terms_of, terms_starting_after,
)
from app.extensions import db
from app.models import (
    Account, AuditLog, Booking, Brokerage, Category, Designation, Entry, ExpertProfile, Membership, Network,
    Notification, Offer, OutgoingMail, OfferSession, Organisation, RequestResponse, SchoolProfile, SupportRequest, Transfer, User,
    WaitlistEntry,
)
from app.models import Feedback, ImpactFollowUp, ModerationEvent, QualityScore
from app.models.base import utcnow
from app.services import bookings, ledger, passwords
from app.services import feedback
from app.services.taxonomy import seed_taxonomy
from tests.conftest import BASE_CONFIG, TEST_DATABASE_URL

# The counties' boxes as the brief gives them: (min E, min N, max E, max N) and postcode areas.
COUNTIES = {
    "916": ("Gloucestershire", (360_000, 195_000, 420_000, 245_000), ("GL",)),
    "938": ("West Sussex", (480_000, 100_000, 545_000, 140_000), ("RH", "BN", "PO", "GU")),
    "919": ("Hertfordshire", (500_000, 195_000, 545_000, 245_000), ("AL", "SG", "WD", "HP", "EN", "CM")),
}
DEMO_PASSWORD = "waymark-demo"

# The tests load the demo as of one Monday in the autumn term, so that they read the same
# whenever they run. Its school calendar, written out by hand rather than computed:
ANCHOR = date(2026, 11, 23)
ANCHOR_AT = datetime(2026, 11, 23, 8, 0)
FUTURE = (date(2026, 11, 30), date(2027, 7, 21))  # the week after the anchor's to the end of summer 2027
PAST = (date(2025, 11, 23), date(2026, 11, 22))  # the year before it
NEXT_TERM = date(2027, 1, 4)
NO_SCHOOL = (  # holidays, half terms and bank holidays in between (inclusive)
    (date(2025, 12, 20), date(2026, 1, 4)), (date(2026, 2, 16), date(2026, 2, 20)),
    (date(2026, 3, 28), date(2026, 4, 12)), (date(2026, 5, 4), date(2026, 5, 4)),
    (date(2026, 5, 25), date(2026, 5, 29)), (date(2026, 7, 22), date(2026, 9, 6)),
    (date(2026, 10, 26), date(2026, 10, 30)), (date(2026, 12, 19), date(2027, 1, 3)),
    (date(2027, 2, 15), date(2027, 2, 19)), (date(2027, 3, 20), date(2027, 4, 4)),
    (date(2027, 5, 3), date(2027, 5, 3)), (date(2027, 5, 31), date(2027, 6, 4)),
)
ALLOCATED_AT = datetime(2025, 9, 8, 8, 30)  # the first Monday of the 2025-26 autumn term
# The allocation policy the coordinator uses: (pupils from, to, credits), with a cap.
BANDS = ((0, 100, 10), (101, 250, 20), (251, 500, 30), (501, None, 40))
CAP = 40


@dataclass
class Loaded:
    output: str  # what `flask demo` printed
    outbox: Path  # where it would have written mail


@pytest.fixture(scope="module")
def _demo_template(tmp_path_factory):
    """The demo loaded once into a SQLite file that each test then copies: loading plays a
    year through the services and takes seconds, too long to repeat for every test."""
    if TEST_DATABASE_URL:
        return None
    directory = tmp_path_factory.mktemp("demo")
    path = directory / "demo.sqlite"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "OUTBOX_DIR": str(directory / "outbox")})
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "--anchor", ANCHOR.isoformat()])
        assert result.exit_code == 0, result.output
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return path, Loaded(result.output, directory / "outbox")


@pytest.fixture
def loaded(app, runner, tmp_path, _demo_template) -> Loaded:
    if _demo_template is None:  # PostgreSQL: the shared test database is loaded for each test
        result = runner.invoke(args=["demo", "--anchor", ANCHOR.isoformat()])
        assert result.exit_code == 0, result.output
        return Loaded(result.output, Path(app.config["OUTBOX_DIR"]))
    template, loaded = _demo_template
    db.session.remove()
    db.engine.dispose()
    target = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, target)
    return loaded


def _schools():
    return db.session.execute(select(Organisation, SchoolProfile).join(SchoolProfile)).all()


def _current_memberships() -> Counter:
    rows = db.session.scalars(select(Membership.organisation_id).where(Membership.end_date.is_(None)))
    return Counter(rows)


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_loads_about_300_schools_in_exactly_the_three_counties(loaded):
    schools = _schools()
    assert 290 <= len(schools) <= 320
    assert {org.la_code for org, _ in schools} == set(COUNTIES)
    for org, _ in schools:
        assert org.la_name == COUNTIES[org.la_code][0]
    phases = Counter(profile.phase for _, profile in schools)
    assert phases["primary"] > 0.65 * len(schools), "most schools are primary"
    assert phases["secondary"] and phases["special"] and phases["pru"]
    small_primaries = [p for _, p in schools if p.phase == "primary" and p.pupils < 210]
    assert len(small_primaries) > 0.25 * phases["primary"], "many primaries are small"
    kinds = set(db.session.scalars(select(Organisation.kind)))
    assert {"teaching_school_hub", "trust", "diocese", "la_service", "research_hub", "provider"} <= kinds


def test_schools_sit_inside_their_county_with_unique_urns_and_local_postcodes(loaded):
    schools = _schools()
    for org, profile in schools:
        _, (min_e, min_n, max_e, max_n), areas = COUNTIES[org.la_code]
        assert min_e <= org.easting <= max_e and min_n <= org.northing <= max_n, org.name
        assert 100_000 <= profile.urn <= 999_999
        assert org.postcode.startswith(areas) and org.postcode[len(org.postcode.split()[0])] == " "
        assert profile.ofsted_grade and profile.urban_rural in ("urban", "rural") and profile.pupils > 0
    assert len({p.urn for _, p in schools}) == len(schools)
    assert len({o.name for o, _ in schools}) == len(schools), "no two schools share a name"


def test_networks_of_many_kinds_with_most_schools_in_one_to_three(loaded):
    kinds = Counter(db.session.scalars(select(Network.kind)))
    assert sum(kinds.values()) >= 15
    assert {"cluster", "tsa", "mat", "diocese", "send", "behaviour", "subject_hub", "strategic"} <= set(kinds)
    leads = db.session.scalar(select(func.count()).select_from(Membership).where(Membership.role == "lead"))
    assert leads == sum(kinds.values()), "every network has one lead"

    per_school = _current_memberships()
    schools = [org for org, _ in _schools()]
    in_one_to_three = sum(1 for s in schools if 1 <= per_school[s.id] <= 3)
    assert in_one_to_three > 0.6 * len(schools)
    ended = db.session.scalar(select(func.count()).select_from(Membership).where(Membership.end_date.is_not(None)))
    assert ended > 0, "some schools have left a network"


def test_a_handful_of_small_rural_schools_are_in_no_network(loaded):
    members = set(db.session.scalars(select(Membership.organisation_id)))
    isolated = [(org, profile) for org, profile in _schools() if org.id not in members]
    assert 3 <= len(isolated) <= 20
    for _, profile in isolated:
        assert profile.urban_rural == "rural" and profile.pupils < 150


def test_forty_experts_with_designations_and_specialisms(loaded):
    experts = db.session.scalars(select(ExpertProfile)).all()
    assert len(experts) >= 40
    for expert in experts:
        assert expert.designations and expert.specialisms and expert.headline and expert.bio
        assert expert.user.organisation_id is not None
    codes = Counter(d.code for e in experts for d in e.designations)
    assert codes["SLE"] and codes["NLG"] and (codes["NLE"] or codes["LLE"])
    assert len({e.user.organisation_id for e in experts}) > 20, "spread across organisations"


def test_the_six_demo_logins_have_their_roles_and_schools(loaded):
    roles = {email: _user(email) for email in (
        "admin@demo.waymark.test", "coordinator@demo.waymark.test", "lead@demo.waymark.test",
        "teacher@demo.waymark.test", "governor@demo.waymark.test", "lead2@demo.waymark.test")}
    assert {e: u.role for e, u in roles.items()} == {
        "admin@demo.waymark.test": "admin", "coordinator@demo.waymark.test": "coordinator",
        "lead@demo.waymark.test": "school_lead", "teacher@demo.waymark.test": "teacher",
        "governor@demo.waymark.test": "governor", "lead2@demo.waymark.test": "school_lead",
    }
    lead, lead2 = roles["lead@demo.waymark.test"], roles["lead2@demo.waymark.test"]
    school = lead.organisation
    assert school.school.phase == "primary"
    assert roles["teacher@demo.waymark.test"].organisation_id == school.id
    assert roles["governor@demo.waymark.test"].organisation_id == school.id
    assert lead2.organisation.school.phase == "secondary"
    coordinator_org = roles["coordinator@demo.waymark.test"].organisation
    assert coordinator_org is None or coordinator_org.kind == "la_service"
    assert roles["admin@demo.waymark.test"].organisation_id is None

    per_school = _current_memberships()
    assert per_school[school.id] >= 2 and per_school[lead2.organisation_id] >= 2
    assert "Fennelbrook Primary School" in loaded.output and "lead2@demo.waymark.test" in loaded.output


def test_only_the_demo_logins_can_sign_in(loaded):
    lead = _user("lead@demo.waymark.test")
    assert passwords.verify_password(lead.password_hash, DEMO_PASSWORD)
    assert not passwords.verify_password(lead.password_hash, "not-the-password")
    with_password = db.session.scalars(select(User.email).where(User.password_hash.is_not(None))).all()
    assert len(with_password) == 6 and all(e.endswith("@demo.waymark.test") for e in with_password)
    assert db.session.scalar(select(func.count()).select_from(User)) > 600, "every school has people"


def test_a_second_load_refuses_and_writes_nothing(loaded, runner):
    before = _row_counts()
    result = runner.invoke(args=["demo", "--seed", "2"])
    assert result.exit_code == 1
    assert "already has data" in result.output and "nothing was written" in result.output
    assert _row_counts() == before


def test_if_empty_skips_a_loaded_database_quietly(loaded, runner):
    before = _row_counts()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0
    assert "already has data" in result.output
    assert _row_counts() == before


def test_rows_added_after_the_demo_get_fresh_ids(loaded):
    # The demo inserts explicit ids; on PostgreSQL its sequences must have been moved on.
    tops = {model: db.session.scalar(select(func.max(model.id)))
            for model in (Organisation, Offer, OfferSession, SupportRequest, RequestResponse, Brokerage)}
    org = Organisation(kind="provider", name="Added Later Ltd", slug="added-later")
    network = Network(name="Added later network", slug="added-later-network", kind="cluster")
    db.session.add_all([org, network, User(email="later@example.test", name="Later", role="teacher", organisation=org)])
    db.session.flush()
    db.session.add(Membership(network_id=network.id, organisation_id=org.id, role="lead", start_date=date(2026, 9, 1)))
    category_id = db.session.scalar(select(Category.id).where(Category.slug == "maths-mastery"))
    offer = Offer(organisation_id=org.id, title="Added later", category_id=category_id)
    offer.sessions.append(OfferSession(starts_at=datetime(2026, 10, 1, 16), ends_at=datetime(2026, 10, 1, 17), places=10))
    request = SupportRequest(organisation_id=org.id, title="Added later", category_id=category_id)
    request.responses.append(RequestResponse(organisation_id=org.id, message="Added later"))
    request.brokerages.append(Brokerage(provider_organisation_id=org.id))
    db.session.add_all([offer, request])
    db.session.commit()
    new = {Organisation: org, Offer: offer, OfferSession: offer.sessions[0], SupportRequest: request,
           RequestResponse: request.responses[0], Brokerage: request.brokerages[0]}
    for model, top in tops.items():
        assert new[model].id > top, model.__name__


# --- Offers, sessions and support requests ----------------------------------------------------
# The phases an offer may name, by the phase of the school that provides it.
PROVIDER_PHASES = {
    "primary": {"primary", "early-years"}, "secondary": {"secondary", "post-16"},
    "all_through": {"all-through", "primary", "secondary"}, "special": {"special", "primary", "secondary"},
    "pru": {"alternative-provision", "secondary"}, "nursery": {"early-years"},
}
SESSION_FORMATS = {"course", "twilight-session", "network"}
def _offers(*conditions) -> list[Offer]:
    loading = (selectinload(Offer.terms), selectinload(Offer.sessions), selectinload(Offer.contact),
               selectinload(Offer.category), selectinload(Offer.organisation).selectinload(Organisation.school))
    return db.session.scalars(select(Offer).where(*conditions).options(*loading).order_by(Offer.id)).all()


def _terms(offer: Offer, facet: str) -> set[str]:
    return {term.slug for term in offer.terms_for(facet)}


def _school(name: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def test_published_offers_in_every_category_about_two_per_school_skewed_to_hubs(loaded):
    offers = _offers()
    schools = [org for org, _ in _schools()]
    assert 1.5 * len(schools) <= len(offers) <= 3 * len(schools)
    published = [o for o in offers if o.status == "published"]
    statuses = Counter(o.status for o in offers)
    assert len(published) > 0.75 * len(offers)
    assert statuses["draft"] and statuses["paused"] and statuses["archived"]

    tops = db.session.scalars(select(Category).where(Category.parent_id.is_(None))).all()
    leaves = db.session.scalars(select(Category).where(Category.parent_id.is_not(None))).all()
    by_top = Counter(o.category.parent_id for o in published)
    assert len(tops) == 12 and all(by_top[top.id] for top in tops), "every top-level category has offers"
    by_leaf = Counter(o.category_id for o in published)
    assert sum(1 for leaf in leaves if by_leaf[leaf.id]) >= 0.9 * len(leaves), "most subcategories too"
    assert all(o.category.parent_id is not None for o in offers), "offers sit in subcategories"

    per_org = Counter(o.organisation_id for o in offers)
    none_or_one = sum(1 for s in schools if per_org[s.id] <= 1)
    assert none_or_one > 0.5 * len(schools), "many schools offer one thing or nothing"
    bodies = db.session.scalars(select(Organisation).where(Organisation.kind != "school")).all()
    assert sum(per_org[b.id] for b in bodies) / len(bodies) >= 4, "hubs, trusts and services offer more"
    assert max(per_org[s.id] for s in schools) >= 8, "an alliance lead offers many things"
    by_slug = Counter(o.category.slug for o in published)
    assert by_slug["early-reading-phonics"] >= 10 and by_slug["maths-mastery"] >= 10 and by_slug["send-outreach"] >= 5
    for slug in ("ect-induction", "mentor-development", "governor-training", "peer-review", "npqs",
                 "school-business-management", "moderation", "staff-wellbeing"):
        assert by_slug[slug], slug
    assert any(o.organisation.school and o.organisation.school.phase == "special" for o in published
               if o.category.slug == "send-outreach"), "special schools reach out to mainstream ones"


def test_offers_are_described_priced_and_located_as_their_provider(loaded):
    experts = set(db.session.scalars(select(ExpertProfile.user_id)))
    expert_orgs = set(db.session.scalars(select(User.organisation_id).where(User.id.in_(experts))))
    for offer in _offers():
        org = offer.organisation
        assert (offer.easting, offer.northing, offer.postcode) == (org.easting, org.northing, org.postcode)
        assert offer.location_name == org.name
        formats = _terms(offer, "format")
        assert offer.booking_mode == ("sessions" if formats & SESSION_FORMATS else "bespoke"), offer.title
        if offer.booking_mode == "sessions":
            assert offer.price_unit == "place" and 0 <= offer.price_credits <= 6 and 8 <= offer.capacity <= 40
        else:
            assert offer.price_unit == "day" and 2 <= offer.price_credits <= 10 and not offer.sessions
        phases = _terms(offer, "phase")
        assert phases and _terms(offer, "audience") and len(_terms(offer, "delivery")) == 1
        assert len(_terms(offer, "time_of_day")) == 1
        if org.school is not None:
            assert phases <= PROVIDER_PHASES[org.school.phase], (offer.title, org.school.phase, phases)
        assert offer.contact.organisation_id == org.id
        if org.id in expert_orgs and not _is_demo_school(org):
            assert offer.contact_user_id in experts, "the contact is one of the provider's experts"
        assert offer.description.count("\n- ") >= 3 and offer.description.count("\n\n") >= 3
        assert 0 < len(offer.summary) <= 300


def _is_demo_school(org: Organisation) -> bool:
    return org.name in ("Fennelbrook Primary School", "Linnetford High School")


def test_some_published_offers_are_stale_and_the_rest_recently_assured(loaded):
    published = _offers(Offer.status == "published")
    stale = [o for o in published if o.is_stale(ANCHOR)]
    assert 0.05 * len(published) <= len(stale) <= 0.13 * len(published)
    for offer in published:
        assert offer.assured_on <= ANCHOR and offer.published_at.date() <= offer.assured_on
        if offer not in stale:
            assert (ANCHOR - offer.published_at.date()).days <= 366, "published over the previous year"
    assert all(o.published_at is None for o in _offers(Offer.status == "draft"))


def _no_school(day: date) -> bool:
    return day.weekday() >= 5 or any(start <= day <= end for start, end in NO_SCHOOL)


def test_sessions_fall_on_school_days_of_the_next_two_terms_and_the_year_before(loaded):
    sessions = db.session.scalars(select(OfferSession)).all()
    upcoming = [s for s in sessions if s.starts_at >= ANCHOR_AT]
    past = [s for s in sessions if s.starts_at < ANCHOR_AT]
    assert len(upcoming) >= 500 and len(past) >= 150
    for session in sessions:
        day = session.starts_at.date()
        assert FUTURE[0] <= day <= FUTURE[1] or PAST[0] <= day <= PAST[1], day
        assert not _no_school(day), day
        assert session.ends_at.date() == day and session.ends_at > session.starts_at
        assert time(9) <= session.starts_at.time() and session.ends_at.time() <= time(21)
        assert 8 <= session.places <= 40
        assert session.offer.booking_mode == "sessions"
    for session in past:
        assert session.offer.status == "published" and session.starts_at > session.offer.published_at
        assert session.cancelled_at is None
    for offer in _offers(Offer.status == "published", Offer.booking_mode == "sessions"):
        coming = [s for s in offer.sessions if s.starts_at >= ANCHOR_AT]
        assert coming, offer.title
        when = _terms(offer, "time_of_day")
        starts = {s.starts_at.time() for s in offer.sessions}
        if when == {"twilight"}:
            assert starts <= {time(15, 45), time(16, 0)}
        if when == {"full-day"}:
            assert starts <= {time(9, 0), time(9, 30)} and all(s.ends_at.time() == time(15, 30) for s in offer.sessions)
        if len(coming) > 1:
            assert len({s.series_key for s in coming}) == 1 and coming[0].series_key
        links = [s.joining_link for s in offer.sessions if s.joining_link]
        assert not links or _terms(offer, "delivery") & {"online", "hybrid"}
        assert all(link.startswith("https://meet.example.test/") for link in links)
    linked = sum(1 for s in upcoming if s.joining_link)
    cancelled = [s for s in upcoming if s.cancelled_at]
    assert 0 < linked < 0.3 * len(upcoming), "a few sessions are online"
    assert 0 < len(cancelled) < 0.1 * len(upcoming) and all(s.note for s in cancelled)
    assert all(s.offer.published_at <= s.cancelled_at < ANCHOR_AT for s in cancelled)
    months = {(s.starts_at.year, s.starts_at.month) for s in past}
    assert len(months) >= 8, "last year's sessions ran through the year"


def test_thirty_requests_of_both_visibilities_with_answers_and_brokerage(loaded):
    requests = db.session.scalars(select(SupportRequest).order_by(SupportRequest.id)).all()
    assert len(requests) >= 30
    visibility = Counter(r.visibility for r in requests)
    assert 0.15 * len(requests) <= visibility["coordinators"] <= 0.45 * len(requests)
    status = Counter(r.status for r in requests)
    assert status["published"] > len(requests) / 2 and status["draft"] and status["closed"]
    assert len({r.category.parent_id for r in requests}) >= 6, "requests span the taxonomy"
    assert len({r.organisation_id for r in requests}) >= 25
    assert {r.urgency for r in requests} == {"low", "medium", "high"}
    for request in requests:
        assert request.organisation.kind == "school" and request.created_by.organisation_id == request.organisation_id
        assert any(term.facet == "phase" for term in request.terms)
        if request.status == "draft":
            assert request.published_at is None and request.published_by_id is None and not request.responses
        else:
            assert request.published_by.role == "school_lead" and request.published_at < ANCHOR_AT
        if request.status == "closed":
            assert request.outcome and request.outcome_note and request.closed_at > request.published_at
        else:
            assert request.outcome is None and request.closed_at is None
        if request.visibility == "coordinators":
            assert not request.responses, "providers never see coordinator-only requests"
        for response in request.responses:
            assert response.organisation_id != request.organisation_id
            assert response.created_at > request.published_at
            if response.offer is not None:
                assert response.offer.organisation_id == response.organisation_id
                assert response.offer.status == "published"
        for brokerage in request.brokerages:
            assert brokerage.coordinator.role == "coordinator"
            assert brokerage.offer is None or brokerage.offer.organisation_id == brokerage.provider_organisation_id
    responses = [r for req in requests for r in req.responses]
    brokerages = [b for req in requests for b in req.brokerages]
    assert len(responses) >= 5 and any(r.offer_id for r in responses)
    assert len(brokerages) >= 3
    assert any(b.coordinator.email == "coordinator@demo.waymark.test" for b in brokerages)


def test_the_demo_schools_offer_and_ask(loaded):
    fennelbrook, linnetford = _school("Fennelbrook Primary School"), _school("Linnetford High School")
    own = _offers(Offer.organisation_id == fennelbrook.id)
    assert 2 <= len(own) <= 3
    for offer in own:
        assert offer.status == "published" and not offer.is_stale(ANCHOR)
        coming = [s for s in offer.sessions if s.starts_at >= ANCHOR_AT]
        assert [s for s in coming if s.cancelled_at is None], offer.title
        # In the next term, so the lead's journey still shows upcoming dates after the anchor.
        assert all(s.starts_at.date() >= NEXT_TERM for s in coming)
        assert [s for s in offer.sessions if s.starts_at < ANCHOR_AT], "it ran last year too"
    provided = _offers(Offer.organisation_id == linnetford.id, Offer.status == "published")
    assert len(provided) >= 5 and sum(1 for o in provided if o.sessions) >= 3
    assert any(o.contact.email == "lead2@demo.waymark.test" for o in provided)

    teacher = _user("teacher@demo.waymark.test")
    asked = db.session.scalars(select(SupportRequest).where(SupportRequest.organisation_id == fennelbrook.id)).all()
    published = [r for r in asked if r.status == "published"]
    drafts = [r for r in asked if r.status == "draft"]
    assert published and published[0].visibility == "partnership" and published[0].responses
    assert published[0].published_by.email == "lead@demo.waymark.test"
    assert drafts and all(r.created_by_id == teacher.id for r in drafts)


def test_a_sample_of_the_national_scale_loads_anchored_on_this_monday(app):
    # Four authorities of the national scale: its own bodies, providers and coordinators. No
    # anchor given: the Monday of this week.
    report = load_demo("national", seed=5, authorities=4)
    db.session.commit()
    counts = report.counts
    today = utcnow().date()
    assert report.anchor.weekday() == 0 and 0 <= (today - report.anchor).days < 7
    assert report.local_authorities == 4
    assert 1.5 * report.schools <= counts["offers"] <= 3 * report.schools
    assert counts["offer_sessions"] > counts["offers"] and counts["offer_terms"] > 4 * counts["offers"]
    assert counts["support_requests"] >= 0.1 * report.schools
    assert counts["request_responses"] and counts["brokerages"]
    ruth = _user("coordinator@demo.waymark.test")
    brokers = set(db.session.scalars(select(Brokerage.coordinator_id)))
    assert ruth.id in brokers and len(brokers) > 1, "each authority's coordinator brokers its own"
    assert db.session.scalar(select(func.count()).select_from(Offer)) == counts["offers"]
    # The year of history is played in the partnership's own three authorities only.
    booked = set(db.session.scalars(select(Organisation.la_code).join(Booking, Booking.organisation_id == Organisation.id)))
    assert booked and booked <= {"916", "938", "919"}
    assert ledger.verify() == []


def _row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


# --- A year of credits and bookings ----------------------------------------------------------

def _transfers(*conditions) -> list[Transfer]:
    return db.session.scalars(select(Transfer).where(*conditions).order_by(Transfer.id)).all()


def _price(booking: Booking) -> int:
    offer = booking.offer
    return offer.price_credits * (booking.days if offer.price_unit == "day" and booking.days else booking.places)


def test_credits_verify_is_clean_after_the_demo(loaded, runner):
    result = runner.invoke(args=["credits", "verify"])
    assert result.exit_code == 0, result.output
    assert "consistent" in result.output
    assert ledger.verify() == []
    assert db.session.scalar(select(func.count()).select_from(Transfer)) > 500
    assert "A year of history:" in loaded.output


def test_loading_the_demo_sends_no_mail(loaded):
    # A year of steps queued a year of email; none of it may reach anyone.
    assert not loaded.outbox.exists() or not any(loaded.outbox.iterdir())
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0, "nor wait to be sent later"
    assert db.session.scalar(select(func.count()).select_from(Notification)) > 100, "the in-app news is kept"


def test_every_member_school_had_last_septembers_allocation_by_pupil_bands(loaded):
    ruth = _user("coordinator@demo.waymark.test")
    allocations = {t.to_account.organisation_id: t for t in _transfers(Transfer.kind == "allocation")}
    schools = _schools()
    assert set(allocations) == {org.id for org, _ in schools}, "one allocation for every member school"
    for org, profile in schools:
        transfer = allocations[org.id]
        band = next(c for low, high, c in BANDS if low <= profile.pupils and (high is None or profile.pupils <= high))
        assert transfer.amount == min(band, CAP), (org.name, profile.pupils)
        assert transfer.idempotency_key == f"allocation:2025-26:{org.id}"
        assert transfer.actor_id == ruth.id and transfer.created_at == ALLOCATED_AT
        assert transfer.from_account.kind == "issuance"


def test_purchases_seed_credits_a_reversal_and_adjustments(loaded):
    purchases = _transfers(Transfer.kind == "purchase")
    assert len(purchases) >= 3
    assert all(re.fullmatch(r"WM-20\d\d-\d{4}", p.invoice_reference) for p in purchases)
    assert len({p.invoice_reference for p in purchases}) == len(purchases)
    fennelbrook = _school("Fennelbrook Primary School")
    assert any(p.to_account.organisation_id == fennelbrook.id for p in purchases)

    members = set(db.session.scalars(select(Membership.organisation_id)))
    grants = _transfers(Transfer.kind == "grant")
    assert len({g.to_account_id for g in grants}) >= 3
    for grant in grants:
        school = db.session.get(Organisation, grant.to_account.organisation_id)
        assert school.id not in members and school.school.pupils < 150, "seed credits go to small isolated schools"

    [reversal] = _transfers(Transfer.kind == "reversal")
    original = reversal.reverses
    assert original.kind == "grant" and "twice" in reversal.reason
    assert (reversal.from_account_id, reversal.to_account_id, reversal.amount) == (
        original.to_account_id, original.from_account_id, original.amount)
    twins = [g for g in grants if g.to_account_id == original.to_account_id]
    assert len(twins) == 2 and twins[1] is original, "the second, duplicate grant is the one reversed"

    adjustments = _transfers(Transfer.kind == "adjustment")
    assert all(a.reason.strip() and a.actor.role == "coordinator" for a in adjustments)
    assert {a.from_account.kind for a in adjustments} == {"issuance", "organisation"}, "credits added and taken away"


def test_bookings_in_every_state_with_exactly_their_credit_movements(loaded):
    everything = db.session.scalars(select(Booking).options(
        selectinload(Booking.offer), selectinload(Booking.session), selectinload(Booking.requested_by),
        selectinload(Booking.confirmed_by))).all()
    assert 150 <= len(everything) <= 800
    assert set(Counter(b.status for b in everything)) == {"requested", "confirmed", "delivered", "cancelled", "no_show"}
    moves = defaultdict(list)
    for transfer in _transfers(Transfer.booking_id.is_not(None)):
        moves[transfer.booking_id].append(transfer)
    seen = Counter()
    for booking in everything:
        kinds = [t.kind for t in moves[booking.id]]
        offer, session = booking.offer, booking.session
        assert booking.organisation_id != offer.organisation_id
        assert booking.requested_by.organisation_id == booking.organisation_id
        assert booking.created_at < ANCHOR_AT
        if session is not None:
            assert booking.created_at < session.starts_at and booking.days is None
        else:
            assert booking.objectives and booking.review_on and booking.days >= 1
        if booking.confirmed_at is None:
            assert kinds == [] and booking.credits == 0 and booking.status in ("requested", "cancelled")
            seen["requested" if booking.status == "requested" else "withdrawn"] += 1
            continue
        assert booking.confirmed_by.role == "school_lead" and booking.confirmed_by.organisation_id == booking.organisation_id
        assert booking.created_at < booking.confirmed_at < ANCHOR_AT
        assert booking.credits == _price(booking)
        held = [t for t in moves[booking.id] if t.kind == "hold"]
        assert [t.amount for t in held] == ([booking.credits] if booking.credits else [])
        if booking.status == "confirmed":
            assert kinds == (["hold"] if booking.credits else [])
        elif booking.status == "delivered":
            assert kinds == (["hold", "settle"] if booking.credits else [])
            assert 0 <= booking.attended <= booking.places and booking.confirmed_at < booking.delivered_at < ANCHOR_AT
            if session is not None:
                assert booking.delivered_at > session.ends_at
            seen["delivered bespoke" if session is None else "delivered"] += 1
        elif booking.status == "no_show":
            assert kinds == (["hold", "forfeit"] if booking.credits else []) and booking.attended == 0
        else:
            deadline = bookings.cancellation_deadline(booking)
            late = deadline is not None and booking.cancelled_at > deadline
            assert booking.confirmed_at < booking.cancelled_at < ANCHOR_AT
            if booking.credits:
                assert kinds == ["hold", "forfeit" if late else "release"]
            seen["cancelled late" if late else "cancelled in time"] += 1
    assert all(seen[k] for k in ("requested", "withdrawn", "delivered", "delivered bespoke", "cancelled late",
                                 "cancelled in time")), seen
    assert any(b.status == "confirmed" and b.session is None and b.review_on > ANCHOR for b in everything), \
        "bespoke support under way, with its review to come"


def test_a_full_session_with_a_waiting_list_in_every_state(loaded):
    entries = db.session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.created_at, WaitlistEntry.id)).all()
    assert [e.status for e in entries] == ["accepted", "expired", "offered", "waiting"], "in the order they joined"
    session = entries[0].session
    assert {e.session_id for e in entries} == {session.id} and session.starts_at > ANCHOR_AT
    assert bookings.places_left(session) == 0, "still full: the place offered is kept for its school"
    accepted, expired, offered, _ = entries
    taken = db.session.get(Booking, accepted.booking_id)
    assert taken.organisation_id == accepted.organisation_id and taken.session_id == session.id
    assert expired.offer_expires_at < offered.offered_at < ANCHOR_AT < offered.offer_expires_at


def test_the_history_is_dated_over_the_year_before_the_anchor(loaded):
    for column in (Booking.created_at, Booking.updated_at, Transfer.created_at, Entry.created_at, AuditLog.at,
                   Notification.created_at, WaitlistEntry.created_at, Account.created_at):
        low, high = db.session.execute(select(func.min(column), func.max(column))).one()
        assert ALLOCATED_AT <= low and high < ANCHOR_AT, column
    # A statement lists transfers in the order they were made, and their dates agree.
    stamps = db.session.scalars(select(Transfer.created_at).order_by(Transfer.id)).all()
    assert stamps == sorted(stamps)
    delivered = db.session.scalars(select(Booking.delivered_at).where(Booking.delivered_at.is_not(None))).all()
    assert len({(d.year, d.month) for d in delivered}) >= 8, "take-up all through the year"
    # Old news has been read; the last few days' is still waiting.
    unread = db.session.scalars(select(Notification.created_at).where(Notification.read_at.is_(None))).all()
    assert unread and min(unread) >= ANCHOR_AT - timedelta(days=10)


def test_the_lead_has_credits_bookings_and_a_request_to_confirm(loaded):
    fennelbrook = _school("Fennelbrook Primary School")
    lead, teacher = _user("lead@demo.waymark.test"), _user("teacher@demo.waymark.test")
    balance = ledger.balance_of(fennelbrook.id)
    assert balance.available > 0 and balance.held > 0
    ours = db.session.scalars(select(Booking).where(Booking.organisation_id == fennelbrook.id)).all()
    statuses = Counter(b.status for b in ours)
    assert statuses["delivered"] >= 3 and statuses["confirmed"] >= 2
    assert any(b.status == "confirmed" and b.session is not None and b.session.starts_at > ANCHOR_AT for b in ours)
    [waiting] = [b for b in ours if b.status == "requested"]
    assert waiting.requested_by_id == teacher.id and waiting.session.starts_at > ANCHOR_AT
    news = db.session.scalars(select(Notification).where(Notification.user_id == lead.id)).all()
    assert any(n.link == f"/bookings/{waiting.id}" and n.read_at is None for n in news)
    # Taken up by other schools, too: its own offers earned it credits.
    earned = _transfers(Transfer.kind == "settle", Transfer.to_account_id == ledger.account_for(fennelbrook.id).id)
    assert earned

    # The lead's journey: confirming holds the price, and the ledger stays exact.
    price = _price(waiting)
    assert balance.available >= price, "the lead can afford the request waiting for them"
    bookings.confirm(lead, waiting.id)
    db.session.commit()
    after = ledger.balance_of(fennelbrook.id)
    assert (after.available, after.held) == (balance.available - price, balance.held + price)
    assert ledger.verify() == []


def test_the_secondary_school_earned_credits_and_has_a_delivery_to_mark(loaded):
    linnetford = _school("Linnetford High School")
    lead2 = _user("lead2@demo.waymark.test")
    earned = _transfers(Transfer.kind == "settle", Transfer.to_account_id == ledger.account_for(linnetford.id).id)
    assert len(earned) >= 3 and {t.actor_id for t in earned} == {lead2.id}
    waiting = db.session.scalars(select(Booking).join(Offer).where(
        Offer.organisation_id == linnetford.id, Booking.status == "confirmed")).all()
    held = [b for b in waiting if b.session.ends_at < ANCHOR_AT and b.credits > 0]
    assert held, "a session that has happened, waiting to be marked delivered"
    done = held[0]
    before = ledger.balance_of(linnetford.id).available
    bookings.deliver(lead2, done.id, attended=done.places)
    db.session.commit()
    assert ledger.balance_of(linnetford.id).available == before + done.credits
    assert ledger.verify() == []


def test_feedback_on_most_delivered_bookings_with_a_realistic_spread(loaded):
    delivered = {b.id: b for b in db.session.scalars(select(Booking).where(Booking.status == "delivered").options(
        selectinload(Booking.offer)))}
    items = db.session.scalars(select(Feedback).options(selectinload(Feedback.author))).all()
    assert 0.65 * len(delivered) <= len(items) <= 0.9 * len(delivered), (len(items), len(delivered))
    for item in items:
        booking = delivered[item.booking_id]  # only delivered bookings are reviewed
        assert (item.offer_id, item.provider_id, item.organisation_id) == (
            booking.offer_id, booking.offer.organisation_id, booking.organisation_id)
        assert item.author.organisation_id == booking.organisation_id
        assert item.author.role in ("school_lead", "governor") or item.author_id == booking.requested_by_id
        assert booking.delivered_at < item.created_at < ANCHOR_AT
        assert 40 <= len(item.comment) <= 5000
        if item.reply is not None:
            assert item.replied_by.role == "school_lead" and item.replied_by.organisation_id == item.provider_id
            assert item.created_at < item.replied_at < ANCHOR_AT
    quality = Counter(item.quality for item in items)
    assert quality.most_common(1)[0][0] == 4, quality
    assert quality[3] >= 0.08 * len(items) and quality[5] >= 0.08 * len(items), quality
    assert 0 < quality[2] + quality[1] <= 0.15 * len(items), quality
    objectives = Counter(item.objectives_met for item in items)
    assert objectives["yes"] > len(items) / 2 and objectives["partly"] > objectives["no"] > 0, objectives
    assert Counter(item.would_recommend for item in items)[True] > len(items) / 2
    assert len({item.comment for item in items}) >= 0.9 * len(items), "comments read differently"
    assert 0.15 * len(items) <= sum(1 for item in items if item.reply) <= 0.6 * len(items)


def test_one_item_hidden_one_report_waiting_and_the_scores_count_only_what_is_visible(loaded):
    ruth = _user("coordinator@demo.waymark.test")
    [hidden] = db.session.scalars(select(Feedback).where(Feedback.hidden_at.is_not(None))).all()
    [event] = hidden.moderation
    assert (event.action, event.actor_id, event.reason) == ("hide", ruth.id, hidden.hidden_reason)
    assert hidden.hidden_reason and hidden.hidden_by_id == ruth.id and hidden.reported_at is None
    reported = feedback.moderation_queue(ruth, "reported")
    assert len(reported) == 1 and reported[0].report_reason and reported[0].reported_at < ANCHOR_AT
    reporter = db.session.get(User, reported[0].reported_by_id)
    assert reporter.role == "school_lead" and reporter.organisation_id == reported[0].provider_id
    # The cached scores agree with the visible feedback, and a rebuild changes nothing.
    visible = Counter(db.session.scalars(select(Feedback.offer_id).where(Feedback.hidden_at.is_(None))))
    scores = {row.subject_id: row for row in db.session.scalars(select(QualityScore).where(
        QualityScore.subject == "offer"))}
    assert {offer_id: row.count for offer_id, row in scores.items() if row.count} == dict(visible)
    assert scores[hidden.offer_id].count == visible[hidden.offer_id]
    before = {(row.subject, row.subject_id): (row.count, row.score) for row in db.session.scalars(select(QualityScore))}
    feedback.recompute_all(now=ANCHOR_AT)
    after = {(row.subject, row.subject_id): (row.count, row.score) for row in db.session.scalars(select(QualityScore))}
    assert after.keys() == before.keys()
    for key, (count, score) in before.items():
        assert after[key][0] == count and after[key][1] == pytest.approx(score), key
    db.session.rollback()


def test_impact_follow_ups_come_eight_weeks_after_delivery(loaded):
    follow_ups = db.session.scalars(select(ImpactFollowUp).options(selectinload(ImpactFollowUp.booking))).all()
    assert len(follow_ups) >= 10
    reviewed = set(db.session.scalars(select(Feedback.booking_id)))
    for item in follow_ups:
        assert item.booking.status == "delivered" and item.booking_id in reviewed
        assert item.booking.delivered_at + timedelta(weeks=8) <= item.created_at < ANCHOR_AT
        assert item.organisation_id == item.booking.organisation_id and len(item.what_changed) >= 20
    for column in (Feedback.created_at, Feedback.replied_at, ImpactFollowUp.created_at, ModerationEvent.at,
                   QualityScore.updated_at):
        low, high = db.session.execute(select(func.min(column), func.max(column))).one()
        assert ALLOCATED_AT <= low and high < ANCHOR_AT, column


def test_the_demo_logins_have_feedback_to_give_and_to_answer(loaded):
    lead, lead2 = _user("lead@demo.waymark.test"), _user("lead2@demo.waymark.test")
    ours = db.session.scalars(select(Booking).where(Booking.organisation_id == lead.organisation_id,
                                                    Booking.status == "delivered")).all()
    reviewed = [b for b in ours if feedback.feedback_for_booking(b.id) is not None]
    assert reviewed, "the lead's school has told others how it went"
    open_ = [b for b in ours if feedback.can_leave(lead, b)]
    assert open_, "a delivered booking left for a person trying the product to review"
    to_answer = [item for item in feedback.visible_feedback(lead2, provider_id=lead2.organisation_id, limit=None)
                 if feedback.can_reply(lead2, item)]
    assert to_answer, "feedback on the secondary school's offers waiting for its reply"
    item = feedback.reply(lead2, to_answer[0].id, "Thank you: we will send the slides this week.")
    db.session.commit()
    assert item.reply and item.replied_by_id == lead2.id
    assert feedback.summary("provider", lead2.organisation_id).count >= 3


def test_loads_beside_a_seeded_taxonomy_and_with_credits_off(tmp_path):
    # One load for two things: the taxonomy is seeded first (the demo adds none of its own),
    # and with credits switched off the year is played without a single transfer. The anchor
    # falls in the summer holidays, another calendar than the other tests'.
    path = tmp_path / "off.sqlite"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "WAYMARK_CREDITS": "off",
                      "OUTBOX_DIR": str(tmp_path / "outbox")})
    with app.app_context():
        db.create_all()
        seed_taxonomy()
        db.session.commit()
        categories = db.session.scalar(select(func.count()).select_from(Category))
        result = app.test_cli_runner().invoke(args=["demo", "--anchor", "2027-08-02", "--seed", "4"])
        assert result.exit_code == 0, result.output
        assert db.session.scalar(select(func.count()).select_from(Category)) == categories
        assert db.session.scalar(select(func.count()).select_from(Designation)) >= 10
        assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0
        statuses = Counter(db.session.scalars(select(Booking.status)))
        assert statuses["delivered"] > 50 and statuses["confirmed"] and statuses["requested"]
        assert db.session.scalar(select(func.sum(Booking.credits))) == 0
        first = db.session.scalar(select(func.min(OfferSession.starts_at)).where(OfferSession.starts_at > datetime(2027, 8, 2)))
        assert first.date() >= date(2027, 9, 6), "nothing in the holidays"
        db.session.remove()
        db.engine.dispose()


# --- Determinism: the same seed and anchor give the same data ---------------------------------
# Always SQLite files of their own (whatever TEST_DATABASE_URL says): the point is the data.
FRESH_APP_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "ARGON2_PARALLELISM": 1,
}


def _digest_of_demo(tmp_path, name: str, seed: int, anchor: date) -> str:
    """Load the demo into a new SQLite file and hash every row of every table."""
    path = tmp_path / f"{name}.sqlite"
    app = create_app({**FRESH_APP_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "OUTBOX_DIR": str(tmp_path / "outbox")})
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "--seed", str(seed), "--anchor", anchor.isoformat()])
        assert result.exit_code == 0, result.output
        digest = hashlib.sha256()
        for table in db.metadata.sorted_tables:
            # Password hashes are salted: the only column that differs between two loads.
            columns = [c for c in table.columns if c.name != "password_hash"]
            for row in db.session.execute(select(*columns).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
        db.session.remove()
        db.engine.dispose()
    return digest.hexdigest()


def test_same_seed_and_anchor_give_the_same_rows(tmp_path):
    # Every row, the year of bookings and ledger included: nothing depends on the clock.
    assert _digest_of_demo(tmp_path, "first", 7, ANCHOR) == _digest_of_demo(tmp_path, "second", 7, ANCHOR)


def _world(seed: int, anchor: date):
    return build_world("partnership", seed, "not-a-hash", taxonomy_ids(), anchor=anchor)


def test_another_seed_gives_another_world(taxonomy):
    first, other = _world(7, ANCHOR), _world(8, ANCHOR)
    assert [o.name for o in first.orgs] != [o.name for o in other.orgs]
    assert [o["title"] for o in first.offers] != [o["title"] for o in other.offers]


def test_another_anchor_moves_the_dates_but_not_the_names_or_counts(taxonomy):
    shift = timedelta(weeks=30)
    now, later = _world(3, ANCHOR), _world(3, ANCHOR + shift)
    tables, later_tables = dict(now.tables()), dict(later.tables())
    for table, rows in tables.items():
        if table != "offer_sessions":
            assert len(rows) == len(later_tables[table]), table
    for table, key in (("organisations", "name"), ("users", "email"), ("networks", "name"), ("offers", "title"),
                       ("support_requests", "title"), ("request_responses", "message")):
        assert [r[key] for r in tables[table]] == [r[key] for r in later_tables[table]], table
    for table, key in (("organisations", "created_at"), ("users", "created_at"), ("networks", "created_at"),
                       ("offers", "published_at"), ("offers", "created_at"), ("support_requests", "published_at"),
                       ("brokerages", "created_at")):
        for before, after in zip(tables[table], later_tables[table]):
            assert before[key] is None and after[key] is None or after[key] - before[key] == shift, (table, key)
    later_at = datetime.combine(ANCHOR + shift, time(8))
    for session in later_tables["offer_sessions"]:
        assert later_at - timedelta(days=365) <= session["starts_at"] and is_school_day(session["starts_at"].date())
        assert not later_at <= session["starts_at"] < later_at + timedelta(days=7), "none in the anchor's own week"


# --- The school year ---------------------------------------------------------------------------

def test_the_school_year_follows_the_english_calendar():
    assert [easter_sunday(y) for y in (2025, 2026, 2027, 2038)] == [
        date(2025, 4, 20), date(2026, 4, 5), date(2027, 3, 28), date(2038, 4, 25)]
    autumn, spring, summer = terms_of(2026)
    assert (autumn.start, autumn.end, spring.start, spring.end, summer.start, summer.end) == (
        date(2026, 9, 7), date(2026, 12, 18), date(2027, 1, 4), date(2027, 3, 19), date(2027, 4, 5), date(2027, 7, 21))
    assert terms_starting_after(ANCHOR, 2) == [spring, summer]
    assert terms_starting_after(date(2026, 8, 31), 2) == [autumn, spring]
    for day, open_ in ((date(2026, 11, 24), True), (date(2026, 10, 27), False), (date(2027, 5, 3), False),
                       (date(2027, 2, 17), False), (date(2026, 11, 28), False), (date(2026, 12, 21), False)):
        assert is_school_day(day) is open_, day
    assert 185 <= len(school_days(date(2025, 9, 1), date(2026, 8, 31))) <= 195
    for day in school_days(PAST[0], FUTURE[1]):
        assert not _no_school(day), day
    assert monday_of(date(2026, 11, 25)) == monday_of(date(2026, 11, 29)) == monday_of(ANCHOR) == ANCHOR


# --- National scale: its geography, without the (benchmarked) load ----------------------------

def test_national_scale_spreads_150_authorities_over_england():
    rng = random.Random(3)
    las = national_las(rng, NameBook(rng))
    codes = [la.code for la in las]
    assert len(las) == 150 and len(set(codes)) == 150
    assert {"916", "938", "919"} <= set(codes)
    assert all(len(code) == 3 and code.isdigit() for code in codes)
    assert len({la.name for la in las}) == 150
    assert sum(la.schools for la in las) == 22_400
    for la in las[3:]:
        for town in la.towns:
            assert ENGLAND_BOX.contains(town.easting, town.northing) and in_england(town.easting, town.northing)
    centres = [(la.towns[0].easting, la.towns[0].northing) for la in las]
    spread = max(math.dist(a, b) for a in centres for b in centres)
    assert spread > 400_000, "authorities cover the country, not one corner"
