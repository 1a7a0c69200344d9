"""Directory rules, called directly: filters, paging, who may edit what, and what is written."""
from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Designation, ExpertProfile, Membership, Network, Organisation, SchoolProfile, Specialism, User
from app.services import directory
from app.services.directory import DirectoryFilters
from app.services.errors import Invalid, NotAllowed, NotFound

TODAY = date(2025, 3, 1)


@pytest.fixture
def make_network(app):
    def factory(name="Forest Cluster", slug=None, kind="cluster", members=(), **extra):
        network = Network(name=name, slug=slug or name.lower().replace(" ", "-"), kind=kind, **extra)
        db.session.add(network)
        for org, role, *dates in members:
            start = dates[0] if dates else date(2020, 9, 1)
            end = dates[1] if len(dates) > 1 else None
            db.session.add(Membership(network=network, organisation=org, role=role, start_date=start, end_date=end))
        db.session.commit()
        return network

    return factory


def names(page):
    return [org.name for org in page.items]


def search(**filters):
    page = filters.pop("page", 1)
    per_page = filters.pop("per_page", 50)
    return directory.search_organisations(DirectoryFilters(**filters), page=page, per_page=per_page, today=TODAY)


# --- Browsing --------------------------------------------------------------------------


def test_each_filter_narrows_the_results(make_school, make_org, make_network):
    alder = make_school("Alder Primary", phase="primary", la_code="916", la_name="Gloucestershire")
    birch = make_school("Birch Academy", phase="secondary", la_code="916", la_name="Gloucestershire")
    cedar = make_school("Cedar Primary", phase="primary", la_code="938", la_name="West Sussex")
    hub = make_org(kind="teaching_school_hub", name="Severn Teaching School Hub", la_code="916")
    make_network("Forest Cluster", members=[(alder, "lead"), (cedar, "member")])

    assert names(search()) == ["Alder Primary", "Birch Academy", "Cedar Primary", "Severn Teaching School Hub"]
    assert names(search(kind="school")) == ["Alder Primary", "Birch Academy", "Cedar Primary"]
    assert names(search(kind="teaching_school_hub")) == ["Severn Teaching School Hub"]
    assert names(search(phase="primary")) == ["Alder Primary", "Cedar Primary"]
    assert names(search(la="938")) == ["Cedar Primary"]
    assert names(search(network="forest-cluster")) == ["Alder Primary", "Cedar Primary"]
    assert names(search(q="PRIMARY")) == ["Alder Primary", "Cedar Primary"]
    assert names(search(q="birch")) == ["Birch Academy"]
    # Filters combine.
    assert names(search(phase="primary", la="916")) == ["Alder Primary"]
    assert names(search(phase="primary", network="forest-cluster", q="cedar")) == ["Cedar Primary"]
    assert hub.id and birch.id


def test_name_search_treats_like_wildcards_as_text(make_school):
    make_school("100% Reading School")
    make_school("Percy Road School")
    make_school("Under_score School")
    assert names(search(q="%")) == ["100% Reading School"]
    assert names(search(q="_")) == ["Under_score School"]


def test_network_filter_ignores_ended_and_future_memberships(make_school, make_network):
    current = make_school("Current Member")
    ended = make_school("Former Member")
    future = make_school("Future Member")
    make_network(
        "Maths Hub",
        members=[
            (current, "member", date(2021, 1, 1), None),
            (ended, "member", date(2019, 1, 1), TODAY - timedelta(days=1)),
            (future, "member", TODAY + timedelta(days=1), None),
        ],
    )
    assert names(search(network="maths-hub")) == ["Current Member"]


def test_closed_schools_are_not_listed_but_can_still_be_found_by_urn(make_school):
    make_school("Open School")
    closed = make_school("Closed School", urn=654321)
    closed.school.status = "closed"
    db.session.commit()
    assert names(search()) == ["Open School"]
    assert directory.get_organisation("654321").id == closed.id


def test_paging_splits_the_results_in_name_order(make_school):
    for letter in "EDCBA":
        make_school(f"{letter} School")
    first = search(per_page=2)
    assert (first.total, first.pages, names(first)) == (5, 3, ["A School", "B School"])
    assert names(search(per_page=2, page=3)) == ["E School"]
    with pytest.raises(NotFound):
        search(per_page=2, page=4)
    with pytest.raises(NotFound):
        search(per_page=2, page=10**30)
    # Junk page numbers mean the first page.
    assert names(search(per_page=2, page=0)) == ["A School", "B School"]
    assert names(search(per_page=2, page=-3)) == ["A School", "B School"]


def test_an_empty_directory_has_one_empty_page(app):
    page = search()
    assert (page.total, page.pages, page.items) == (0, 1, [])


def test_unknown_filter_values_are_ignored(make_school, make_network):
    make_school("Alder Primary", la_code="916")
    make_network("Forest Cluster")
    options = directory.filter_options()
    filters = directory.clean_filters(
        {"kind": "castle", "phase": "<script>", "la": "999", "network": "no-such", "q": "  alder  "}, options
    )
    assert filters == DirectoryFilters(q="alder")
    filters = directory.clean_filters({"kind": "school", "la": "916", "network": "forest-cluster", "q": "x" * 500}, options)
    assert (filters.kind, filters.la, filters.network, len(filters.q)) == ("school", "916", "forest-cluster", 200)


def test_filter_options_come_from_the_data(make_school, make_network):
    make_school(la_code="916", la_name="Gloucestershire")
    make_school(la_code="938", la_name="West Sussex")
    make_school(la_code="938", la_name="West Sussex")
    make_network("Behaviour Partnership", kind="behaviour")
    options = directory.filter_options()
    assert options.las == [("916", "Gloucestershire"), ("938", "West Sussex")]
    assert options.networks == [("behaviour-partnership", "Behaviour Partnership")]


# --- Looking things up -----------------------------------------------------------------


def test_keys_of_digits_are_urns_and_others_are_slugs(make_school):
    school = make_school("Alder Primary", urn=123456, slug="alder-primary")
    assert directory.get_organisation("123456").id == school.id
    assert directory.get_organisation("alder-primary").id == school.id
    for key in ("654321", "12345", "0123456", "99999999999999999999999999", "１２３４５６", "²³", "", "no-such-slug", "x" * 300):
        with pytest.raises(NotFound):
            directory.get_organisation(key)


def test_networks_list_counts_current_members_only(make_school, make_network):
    a, b, c = make_school(), make_school(), make_school()
    make_network(
        "Forest Cluster",
        members=[(a, "lead"), (b, "member"), (c, "member", date(2019, 1, 1), date(2020, 1, 1))],
    )
    make_network("Empty Network")
    counts = {row.network.name: row.members for row in directory.list_networks(today=TODAY)}
    assert counts == {"Empty Network": 0, "Forest Cluster": 2}


def test_network_page_lists_lead_first_then_by_name(make_school, make_network):
    aa = make_school("Aa School")
    zz = make_school("Zz School")
    mm = make_school("Mm School")
    make_network("Forest Cluster", members=[(aa, "member"), (zz, "lead"), (mm, "member")])
    page = directory.network_page("forest-cluster", today=TODAY)
    assert [(m.organisation.name, m.role) for m in page.memberships] == [
        ("Zz School", "lead"),
        ("Aa School", "member"),
        ("Mm School", "member"),
    ]
    with pytest.raises(NotFound):
        directory.network_page("nope")


# --- Editing a profile -----------------------------------------------------------------

VALID = {
    "name": "Alder Primary School",
    "summary": "We offer **phonics** support.",
    "website": "https://alder.example.org",
    "email": "office@alder.example.org",
    "phone": "01452 000000",
    "address": "1 School Lane, Gloucester",
    "postcode": "gl1 2ab",
    "urn": 222333,
    "phase": "primary",
    "school_type": "Academy converter",
    "pupils": 315,
    "ofsted_grade": "Good",
    "urban_rural": "rural",
}


def test_the_school_lead_updates_the_profile_and_it_is_audited(make_school, make_user):
    school = make_school("Alder Primary")
    lead = make_user("school_lead", organisation=school)
    directory.update_profile(lead, school.id, VALID)
    db.session.commit()
    db.session.expire_all()
    org = db.session.get(Organisation, school.id)
    assert (org.name, org.postcode, org.website) == ("Alder Primary School", "GL1 2AB", "https://alder.example.org")
    assert (org.school.urn, org.school.pupils, org.school.urban_rural) == (222333, 315, "rural")
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "organisation.update")).one()
    assert entry.actor_id == lead.id and entry.object_id == school.id
    assert "urn" in entry.detail["fields"] and "name" in entry.detail["fields"]


@pytest.mark.parametrize("role", ["school_lead", "teacher", "governor", "coordinator", "admin", "visitor", "own_teacher", "own_governor", "inactive_lead"])
def test_nobody_but_the_schools_own_lead_may_edit_it(make_school, make_user, role):
    school = make_school("Alder Primary")
    if role == "visitor":
        actor = AnonymousUserMixin()
    elif role.startswith("own_"):
        actor = make_user(role[4:], organisation=school)
    elif role == "inactive_lead":
        actor = make_user("school_lead", organisation=school, active=False)
    else:
        actor = make_user(role)  # another school's user, or a coordinator/admin
    with pytest.raises(NotAllowed):
        directory.update_profile(actor, school.id, VALID)
    with pytest.raises(NotAllowed):
        directory.organisation_for_edit(actor, str(school.school.urn))
    db.session.rollback()
    assert db.session.get(Organisation, school.id).name == "Alder Primary"


def test_a_urn_used_by_another_school_is_refused_and_nothing_is_written(make_school, make_user):
    make_school("Other School", urn=555666)
    school = make_school("Alder Primary", urn=111222)
    lead = make_user("school_lead", organisation=school)
    with pytest.raises(Invalid) as error:
        directory.update_profile(lead, school.id, {**VALID, "urn": 555666})
    assert error.value.field == "urn"
    assert "Other School" in error.value.message
    db.session.rollback()
    org = db.session.get(Organisation, school.id)
    assert (org.name, org.school.urn) == ("Alder Primary", 111222)
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_keeping_your_own_urn_is_not_a_clash(make_school, make_user):
    school = make_school("Alder Primary", urn=111222)
    lead = make_user("school_lead", organisation=school)
    directory.update_profile(lead, school.id, {**VALID, "urn": 111222})
    assert school.school.urn == 111222


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"summary": "x" * 5001}, "summary"),
        ({"urn": 12345}, "urn"),
        ({"urn": "abcdef"}, "urn"),
        ({"urn": True}, "urn"),
        ({"postcode": "NOT A POSTCODE"}, "postcode"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"pupils": 5001}, "pupils"),
        ({"pupils": -1}, "pupils"),
        ({"phase": "university"}, "phase"),
        ({"ofsted_grade": "Brilliant"}, "ofsted_grade"),
        ({"urban_rural": "suburban"}, "urban_rural"),
    ],
)
def test_invalid_data_is_refused_before_anything_changes(make_school, make_user, changes, field):
    school = make_school("Alder Primary", urn=111222)
    lead = make_user("school_lead", organisation=school)
    with pytest.raises(Invalid) as error:
        directory.update_profile(lead, school.id, {**VALID, **changes})
    assert error.value.field == field
    db.session.rollback()
    org = db.session.get(Organisation, school.id)
    assert (org.name, org.school.urn, org.school.pupils) == ("Alder Primary", 111222, 210)


def test_a_non_school_organisation_ignores_school_fields(make_org, make_user):
    hub = make_org(kind="teaching_school_hub", name="Severn Hub")
    lead = make_user("school_lead", organisation=hub)
    directory.update_profile(lead, hub.id, {**VALID, "name": "Severn Teaching School Hub"})
    assert hub.name == "Severn Teaching School Hub"
    assert hub.school is None


# --- People ----------------------------------------------------------------------------


def test_the_only_lead_cannot_demote_themself(make_school, make_user):
    school = make_school()
    lead = make_user("school_lead", organisation=school)
    data = {"name": lead.name, "job_title": "Head", "phone": "", "role": "teacher"}
    with pytest.raises(Invalid) as error:
        directory.update_member(lead, str(school.school.urn), lead.id, data)
    assert error.value.field == "role"
    db.session.rollback()
    assert db.session.get(User, lead.id).role == "school_lead"

    # With a second active lead, stepping down is fine.
    make_user("school_lead", organisation=school)
    directory.update_member(lead, str(school.school.urn), lead.id, data)
    assert lead.role == "teacher"


def test_an_inactive_second_lead_does_not_count(make_school, make_user):
    school = make_school()
    lead = make_user("school_lead", organisation=school)
    make_user("school_lead", organisation=school, active=False)
    with pytest.raises(Invalid):
        directory.update_member(lead, str(school.school.urn), lead.id, {"name": lead.name, "role": "governor"})


def test_the_lead_changes_a_teachers_details_and_role(make_school, make_user):
    school = make_school()
    lead = make_user("school_lead", organisation=school)
    teacher = make_user("teacher", organisation=school)
    version = teacher.session_version
    directory.update_member(lead, str(school.school.urn), teacher.id, {"name": "Ann Jones", "job_title": "SENCo", "phone": "01452 111111", "role": "governor"})
    db.session.commit()
    teacher = db.session.get(User, teacher.id)
    assert (teacher.name, teacher.job_title, teacher.role) == ("Ann Jones", "SENCo", "governor")
    # Sessions from before the role change stop working.
    assert teacher.session_version == version + 1


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_a_lead_cannot_give_or_change_staff_roles_beyond_the_school(make_school, make_user, role):
    school = make_school()
    lead = make_user("school_lead", organisation=school)
    teacher = make_user("teacher", organisation=school)
    with pytest.raises(Invalid):
        directory.update_member(lead, str(school.school.urn), teacher.id, {"name": "T", "role": role})
    # A coordinator attached to the school is not the lead's to manage.
    staff = make_user(role, organisation=school)
    with pytest.raises(NotAllowed):
        directory.update_member(lead, str(school.school.urn), staff.id, {"name": "T", "role": "teacher"})
    with pytest.raises(NotAllowed):
        directory.set_member_active(lead, str(school.school.urn), staff.id, False)


def test_people_are_managed_only_by_their_own_schools_lead(make_school, make_user):
    school = make_school()
    teacher = make_user("teacher", organisation=school)
    other_lead = make_user("school_lead")
    colleague = make_user("teacher", organisation=school)
    key = str(school.school.urn)
    for actor in (other_lead, colleague, make_user("coordinator"), AnonymousUserMixin()):
        with pytest.raises(NotAllowed):
            directory.organisation_people(actor, key)
        with pytest.raises(NotAllowed):
            directory.set_member_active(actor, key, teacher.id, False)
    # Another school's person cannot be reached through this school's address.
    lead = make_user("school_lead", organisation=school)
    with pytest.raises(NotFound):
        directory.update_member(lead, key, other_lead.id, {"name": "X", "role": "teacher"})
    assert db.session.get(User, teacher.id).active


def test_deactivate_and_reactivate(make_school, make_user):
    school = make_school()
    lead = make_user("school_lead", organisation=school)
    teacher = make_user("teacher", organisation=school)
    key = str(school.school.urn)
    directory.set_member_active(lead, key, teacher.id, False)
    assert teacher.active is False
    directory.set_member_active(lead, key, teacher.id, True)
    assert teacher.active is True
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["user.deactivate", "user.reactivate"]
    with pytest.raises(Invalid):
        directory.set_member_active(lead, key, lead.id, False)


# --- Expert profiles -------------------------------------------------------------------


@pytest.fixture
def taxonomy(app):
    nle = Designation(code="NLE", name="National leader of education", current=True)
    ast = Designation(code="AST", name="Advanced skills teacher", current=False)
    maths = Specialism(slug="maths", name="Maths")
    send = Specialism(slug="send", name="SEND")
    db.session.add_all([nle, ast, maths, send])
    db.session.commit()
    return {"nle": nle, "ast": ast, "maths": maths, "send": send}


def test_a_person_creates_their_own_expert_profile(make_user, taxonomy):
    teacher = make_user("teacher")
    data = {
        "headline": "Maths mastery",
        "bio": "Ten years of KS2 maths.",
        "availability": "Tuesdays",
        "capacity_days": 5,
        "designations": [taxonomy["nle"].id],
        "specialisms": [taxonomy["maths"].id, taxonomy["send"].id],
        "public": True,
    }
    profile = directory.update_expert_profile(teacher, teacher.id, data)
    db.session.commit()
    profile = db.session.get(ExpertProfile, profile.id)
    assert profile.user_id == teacher.id
    assert [d.code for d in profile.designations] == ["NLE"]
    assert [s.slug for s in profile.specialisms] == ["maths", "send"]
    assert profile.capacity_days == 5


def test_a_designation_no_longer_awarded_cannot_be_added_but_is_kept(make_user, taxonomy):
    teacher = make_user("teacher")
    with pytest.raises(Invalid) as error:
        directory.update_expert_profile(teacher, teacher.id, {"designations": [taxonomy["ast"].id]})
    assert error.value.field == "designations"
    db.session.rollback()
    profile = ExpertProfile(user_id=teacher.id, designations=[taxonomy["ast"]])
    db.session.add(profile)
    db.session.commit()
    directory.update_expert_profile(teacher, teacher.id, {"designations": [taxonomy["ast"].id, taxonomy["nle"].id], "public": True})
    assert sorted(d.code for d in profile.designations) == ["AST", "NLE"]


def test_unknown_specialisms_are_refused(make_user, taxonomy):
    teacher = make_user("teacher")
    with pytest.raises(Invalid):
        directory.update_expert_profile(teacher, teacher.id, {"specialisms": [999999]})
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ExpertProfile)) == 0


def test_expert_profiles_are_edited_by_the_person_or_their_lead_only(make_school, make_user, taxonomy):
    school = make_school()
    teacher = make_user("teacher", organisation=school)
    lead = make_user("school_lead", organisation=school)
    directory.update_expert_profile(lead, teacher.id, {"headline": "By my lead", "public": True})
    for actor in (make_user("teacher", organisation=school), make_user("school_lead"), make_user("coordinator"), AnonymousUserMixin()):
        with pytest.raises(NotAllowed):
            directory.update_expert_profile(actor, teacher.id, {"headline": "Hijacked"})
    db.session.rollback()
    assert db.session.get(User, teacher.id).expert_profile.headline == "By my lead"


def test_hidden_and_missing_profiles_are_seen_only_by_the_person_and_their_lead(make_school, make_user):
    school = make_school()
    hidden = make_user("teacher", organisation=school)
    db.session.add(ExpertProfile(user_id=hidden.id, headline="Hidden", public=False))
    nobody = make_user("teacher", organisation=school)
    public = make_user("teacher", organisation=school)
    db.session.add(ExpertProfile(user_id=public.id, headline="Public", public=True))
    db.session.commit()
    lead = make_user("school_lead", organisation=school)
    stranger = make_user("teacher")
    for person in (hidden, nobody):
        for actor in (AnonymousUserMixin(), stranger, make_user("teacher", organisation=school)):
            with pytest.raises(NotFound):
                directory.person_page(actor, person.id)
        assert directory.person_page(person, person.id).can_edit
        assert directory.person_page(lead, person.id).can_edit
    page = directory.person_page(AnonymousUserMixin(), public.id)
    assert page.profile.headline == "Public" and not page.can_edit
    public.active = False
    db.session.commit()
    with pytest.raises(NotFound):
        directory.person_page(stranger, public.id)
    with pytest.raises(NotFound):
        directory.person_page(stranger, 2**70)


def test_organisation_page_lists_active_people_and_public_experts(make_school, make_user, make_network):
    school = make_school("Alder Primary", urn=123456)
    make_network("Forest Cluster", members=[(school, "member")])
    make_network("Old Cluster", members=[(school, "lead", date(2010, 1, 1), date(2011, 1, 1))])
    expert = make_user("teacher", organisation=school, name="Ann Expert")
    db.session.add(ExpertProfile(user_id=expert.id, headline="Phonics", public=True))
    shy = make_user("teacher", organisation=school, name="Bob Shy")
    db.session.add(ExpertProfile(user_id=shy.id, headline="Hidden", public=False))
    make_user("teacher", organisation=school, name="Cat Gone", active=False)
    db.session.commit()
    page = directory.organisation_page(AnonymousUserMixin(), "123456", today=TODAY)
    assert [p.name for p in page.people] == ["Ann Expert", "Bob Shy"]
    assert [p.name for p in page.experts] == ["Ann Expert"]
    assert [m.network.name for m in page.memberships] == ["Forest Cluster"]
    assert page.can_edit is False


def test_postcodes_are_normalised():
    assert directory.normalise_postcode("gl1 2ab") == "GL1 2AB"
    assert directory.normalise_postcode("SW1A1AA") == "SW1A 1AA"
    assert directory.normalise_postcode(" ec1a  1bb ") == "EC1A 1BB"
    for bad in ("", "GL1", "12345", "QQ1 1AA", "GL1 2AC", "<script>"):
        assert directory.normalise_postcode(bad) is None


def test_school_profile_row_is_created_for_a_school_without_one(make_org, make_user):
    school = make_org(kind="school", name="No Profile School")
    lead = make_user("school_lead", organisation=school)
    directory.update_profile(lead, school.id, {"name": "No Profile School", "urn": 777888, "phase": "primary"})
    db.session.commit()
    assert db.session.get(SchoolProfile, school.id).urn == 777888
