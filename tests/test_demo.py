"""`flask demo`: the partnership it loads, the logins it promises, refusal and determinism."""
import hashlib
import math
import random
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from app import create_app
from app.demo.geography import ENGLAND_BOX, in_england, national_las
from app.demo.naming import NameBook
from app.extensions import db
from app.models import (
    Category, Designation, ExpertProfile, Membership, Network, Organisation, SchoolProfile, User,
)
from app.services import passwords
from app.services.taxonomy import seed_taxonomy

# The counties' boxes as the brief gives them: (min E, min N, max E, max N) and postcode areas.
COUNTIES = {
    "916": ("Gloucestershire", (360_000, 195_000, 420_000, 245_000), ("GL",)),
    "938": ("West Sussex", (480_000, 100_000, 545_000, 140_000), ("RH", "BN", "PO", "GU")),
    "919": ("Hertfordshire", (500_000, 195_000, 545_000, 245_000), ("AL", "SG", "WD", "HP", "EN", "CM")),
}
DEMO_PASSWORD = "waymark-demo"


@pytest.fixture
def loaded(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result


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


def test_loads_beside_an_already_seeded_taxonomy(app, runner):
    seed_taxonomy()
    db.session.commit()
    categories = db.session.scalar(select(func.count()).select_from(Category))
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Category)) == categories
    assert db.session.scalar(select(func.count()).select_from(Designation)) >= 10


def test_rows_added_after_the_demo_get_fresh_ids(loaded):
    # The demo inserts explicit ids; on PostgreSQL its sequences must have been moved on.
    top = db.session.scalar(select(func.max(Organisation.id)))
    org = Organisation(kind="provider", name="Added Later Ltd", slug="added-later")
    network = Network(name="Added later network", slug="added-later-network", kind="cluster")
    db.session.add_all([org, network, User(email="later@example.test", name="Later", role="teacher", organisation=org)])
    db.session.flush()
    db.session.add(Membership(network_id=network.id, organisation_id=org.id, role="lead", start_date=date(2026, 9, 1)))
    db.session.commit()
    assert org.id > top


def _row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


# --- Determinism: two fresh databases --------------------------------------------------------
# Always SQLite files of their own (whatever TEST_DATABASE_URL says): the point is the data.
FRESH_APP_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "ARGON2_PARALLELISM": 1,
}


def _digest_of_demo(tmp_path, name: str, seed: int) -> str:
    """Load the demo with this seed into a new SQLite file and hash every row of every table."""
    path = tmp_path / f"{name}.sqlite"
    app = create_app({**FRESH_APP_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "OUTBOX_DIR": str(tmp_path / "outbox")})
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "--seed", str(seed)])
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


def test_same_seed_gives_the_same_rows_and_another_seed_does_not(tmp_path):
    first = _digest_of_demo(tmp_path, "first", 7)
    second = _digest_of_demo(tmp_path, "second", 7)
    other = _digest_of_demo(tmp_path, "other", 8)
    assert first == second
    assert other != first


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
