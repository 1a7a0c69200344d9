"""Support request rules, called directly: who sees what (coordinator-only requests and
drafts above all), drafting and publishing, editing, closing, responding and brokering,
what is written, what is audited and who is emailed."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Brokerage, RequestResponse, SupportRequest
from app.services import support_requests as svc
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound
from tests.conftest import category, term

NOW = datetime(2026, 10, 5, 9, 30)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def actions(obj) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditLog.action).where(AuditLog.object_type == type(obj).__name__, AuditLog.object_id == obj.id).order_by(AuditLog.id)
        )
    )


@pytest.fixture
def world(make_school, make_org, make_user, taxonomy):
    """Three schools (A asks, B and C could help), a hub, and people in each role."""

    class W:
        pass

    w = W()
    w.a = make_school("Alder Primary")
    w.b = make_school("Birch Academy", phase="secondary")
    w.c = make_school("Cedar Primary")
    w.a_teacher = make_user("teacher", organisation=w.a, name="Ann Teacher")
    w.a_teacher2 = make_user("teacher", organisation=w.a, name="Alf Teacher")
    w.a_governor = make_user("governor", organisation=w.a)
    w.a_lead = make_user("school_lead", organisation=w.a, name="Ada Lead")
    w.b_teacher = make_user("teacher", organisation=w.b)
    w.b_governor = make_user("governor", organisation=w.b)
    w.b_lead = make_user("school_lead", organisation=w.b, name="Bea Lead")
    w.c_lead = make_user("school_lead", organisation=w.c, name="Cal Lead")
    w.coordinator = make_user("coordinator", name="Cora Coordinator")
    w.admin = make_user("admin")
    return w


def valid_data(**overrides) -> dict:
    data = {
        "title": "Phonics coaching for two new Year 1 teachers",
        "description": "We changed scheme in September.",
        "category_id": category("early-reading-phonics").id,
        "phases": [term("phase", "primary").id],
        "subjects": [term("subject", "reading-phonics").id],
        "urgency": "high",
        "visibility": "partnership",
    }
    data.update(overrides)
    return data


# --- Who sees what ---------------------------------------------------------------------

VIEWERS = ["a_teacher", "a_governor", "a_lead", "b_teacher", "b_governor", "b_lead", "coordinator", "admin"]
# (status, visibility, published) → the viewers who may see it.
CASES = {
    ("published", "partnership", True): set(VIEWERS),
    ("published", "coordinators", True): {"a_teacher", "a_governor", "a_lead", "coordinator", "admin"},
    ("closed", "partnership", True): set(VIEWERS),
    ("closed", "coordinators", True): {"a_teacher", "a_governor", "a_lead", "coordinator", "admin"},
    ("draft", "partnership", False): {"a_teacher", "a_governor", "a_lead"},
    ("draft", "coordinators", False): {"a_teacher", "a_governor", "a_lead"},
    # Closed while still a draft: never shared, so it stays with its school.
    ("closed", "partnership", False): {"a_teacher", "a_governor", "a_lead"},
}


@pytest.mark.parametrize("status,visibility,published", list(CASES))
def test_who_sees_a_request_in_the_list_on_its_page_and_in_counts(world, make_request, status, visibility, published):
    req = make_request(organisation=world.a, status=status, visibility=visibility)
    if not published:
        req.published_at = None
        db.session.commit()
    for name in VIEWERS:
        viewer = getattr(world, name)
        expected = name in CASES[(status, visibility, published)]
        assert svc.can_view(viewer, req) is expected, name
        listing = svc.browse(viewer, {})
        assert ([r.id for r in listing.results.items] == [req.id]) is expected, name
        assert listing.results.total == (1 if expected else 0), name
        # Every filter combination goes through the same rule.
        assert svc.browse(viewer, {"status": "closed" if status == "closed" else "open"}).results.total == (
            1 if expected and status != "draft" else 0
        ), name
        if expected:
            assert svc.request_page(viewer, req.id).request.id == req.id
        else:
            with pytest.raises(NotFound):
                svc.request_page(viewer, req.id)


def test_unknown_and_absurd_ids_are_not_found(world):
    for bad in (0, -1, 999999, 2**70, "1", None, True):
        with pytest.raises(NotFound):
            svc.request_page(world.a_lead, bad)


def test_signed_out_visitors_see_nothing(world, make_request):
    from flask_login import AnonymousUserMixin

    req = make_request(organisation=world.a)
    assert svc.can_view(AnonymousUserMixin(), req) is False
    with pytest.raises(NotAllowed):
        svc.browse(AnonymousUserMixin(), {})


# --- Browsing --------------------------------------------------------------------------


def test_filters_by_area_subcategory_phase_status_and_mine(world, make_request):
    phonics = make_request(organisation=world.a, title="Phonics", category_slug="early-reading-phonics")
    maths = make_request(organisation=world.b, title="Maths", category_slug="maths-mastery")
    maths.terms = [term("phase", "secondary")]
    governance = make_request(organisation=world.c, title="Governors", category_slug="peer-review", status="closed")
    draft = make_request(organisation=world.a, title="Draft", status="draft")
    db.session.commit()

    def titles(viewer, **raw):
        return [r.title for r in svc.browse(viewer, raw).results.items]

    # Open requests first, closed last; the viewer's own draft is there too.
    assert set(titles(world.a_lead)) == {"Phonics", "Maths", "Governors", "Draft"}
    assert titles(world.a_lead)[-1] == "Governors"
    # A whole area includes its subcategories; a subcategory is just itself.
    assert set(titles(world.a_lead, category="cpd-professional-learning")) == {"Phonics", "Maths", "Draft"}
    assert titles(world.a_lead, category="maths-mastery") == ["Maths"]
    assert titles(world.a_lead, phase="secondary") == ["Maths"]
    assert set(titles(world.a_lead, status="open")) == {"Phonics", "Maths"}
    assert titles(world.a_lead, status="closed") == ["Governors"]
    assert titles(world.a_lead, status="draft") == ["Draft"]
    assert set(titles(world.a_lead, mine="1")) == {"Phonics", "Draft"}
    assert titles(world.coordinator, mine="1") == []  # no school of their own
    # Unknown values are ignored, not errors.
    assert len(titles(world.a_lead, category="nope", phase="<script>", status="all", mine="maybe")) == 4
    assert phonics and governance and draft


def test_paging_and_the_drafts_waiting_count(world, make_request):
    for n in range(5):
        make_request(organisation=world.a, title=f"Request {n}")
    make_request(organisation=world.a, status="draft")
    make_request(organisation=world.b, status="draft")
    listing = svc.browse(world.a_lead, {}, page=2, per_page=4)
    assert listing.results.total == 6 and listing.results.pages == 2 and len(listing.results.items) == 2
    assert listing.drafts_waiting == 1
    # Only leads are nudged; a page past the end shows the last page.
    assert svc.browse(world.a_teacher, {}, page=99, per_page=4).results.page == 2
    assert svc.browse(world.a_teacher, {}).drafts_waiting == 0


# --- Drafting and publishing -----------------------------------------------------------


def test_a_teacher_drafts_for_their_school(world):
    req = svc.create_request(world.a_teacher, valid_data())
    db.session.commit()
    assert (req.status, req.organisation_id, req.created_by_id, req.published_at) == ("draft", world.a.id, world.a_teacher.id, None)
    assert sorted(t.slug for t in req.terms) == ["primary", "reading-phonics"]
    assert actions(req) == ["request.created"]


@pytest.mark.parametrize("role", ["teacher", "governor"])
def test_only_a_lead_may_publish_when_creating(world, role):
    actor = world.a_teacher if role == "teacher" else world.a_governor
    with pytest.raises(NotAllowed):
        svc.create_request(actor, valid_data(), publish=True)
    db.session.rollback()
    assert count(SupportRequest) == 0 and count(AuditLog) == 0


def test_a_lead_may_publish_straight_away(world):
    req = svc.create_request(world.a_lead, valid_data(visibility="coordinators"), publish=True, now=NOW)
    db.session.commit()
    assert (req.status, req.published_at, req.published_by_id, req.visibility) == ("published", NOW, world.a_lead.id, "coordinators")
    assert actions(req) == ["request.created", "request.published"]


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_people_without_a_school_cannot_post_a_request(world, who):
    with pytest.raises(NotAllowed):
        svc.create_request(getattr(world, who), valid_data())
    with pytest.raises(NotAllowed):
        svc.options_for_new(getattr(world, who))


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 5001}, "description"),
        ({"category_id": None}, "category_id"),
        ({"category_id": 10**9}, "category_id"),
        ({"category_id": "cpd"}, "category_id"),
        ("top-level", "category_id"),
        ({"phases": [10**9]}, "phases"),
        ("subject-as-phase", "phases"),
        ({"subjects": ["x"]}, "subjects"),
        ({"urgency": "yesterday"}, "urgency"),
        ({"visibility": "public"}, "visibility"),
    ],
)
def test_bad_data_is_refused_with_its_field_and_nothing_is_written(world, overrides, field):
    if overrides == "top-level":
        overrides = {"category_id": category("cpd-professional-learning").id}
    elif overrides == "subject-as-phase":
        overrides = {"phases": [term("subject", "maths").id]}
    with pytest.raises(Invalid) as error:
        svc.create_request(world.a_lead, valid_data(**overrides), publish=True)
    assert error.value.field == field
    db.session.rollback()
    assert count(SupportRequest) == 0 and count(AuditLog) == 0


def test_the_lead_publishes_a_colleagues_draft(world):
    req = svc.create_request(world.a_teacher, valid_data())
    db.session.commit()
    svc.publish_request(world.a_lead, req.id, now=NOW)
    db.session.commit()
    assert (req.status, req.published_at, req.published_by_id) == ("published", NOW, world.a_lead.id)
    assert actions(req) == ["request.created", "request.published"]
    with pytest.raises(Conflict):
        svc.publish_request(world.a_lead, req.id)


@pytest.mark.parametrize(
    "who,error",
    [
        ("a_teacher", NotAllowed),  # the author themself
        ("a_governor", NotAllowed),
        ("b_lead", NotFound),  # another school cannot even see the draft
        ("coordinator", NotFound),
        ("admin", NotFound),
    ],
)
def test_nobody_else_may_publish(world, who, error):
    req = svc.create_request(world.a_teacher, valid_data())
    db.session.commit()
    with pytest.raises(error):
        svc.publish_request(getattr(world, who), req.id)
    db.session.rollback()
    db.session.refresh(req)
    assert (req.status, req.published_at) == ("draft", None)
    assert actions(req) == ["request.created"]


# --- Editing ---------------------------------------------------------------------------


def test_the_author_edits_their_draft_and_the_change_is_audited(world):
    req = svc.create_request(world.a_teacher, valid_data())
    db.session.commit()
    svc.update_request(world.a_teacher, req.id, valid_data(title="  Phonics   coaching  ", phases=[]))
    db.session.commit()
    assert req.title == "Phonics coaching"
    assert [t.slug for t in req.terms] == ["reading-phonics"]
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "request.updated")).one()
    assert entry.detail["changed"] == ["terms", "title"]


def test_after_publishing_only_the_lead_may_edit(world):
    req = svc.create_request(world.a_teacher, valid_data())
    db.session.commit()
    svc.publish_request(world.a_lead, req.id)
    db.session.commit()
    with pytest.raises(NotAllowed):
        svc.update_request(world.a_teacher, req.id, valid_data(title="Changed"))
    db.session.rollback()
    svc.update_request(world.a_lead, req.id, valid_data(title="Changed by the lead"))
    db.session.commit()
    assert req.title == "Changed by the lead"


@pytest.mark.parametrize("who,error", [("a_teacher2", NotAllowed), ("b_lead", NotFound), ("coordinator", NotFound)])
def test_others_may_not_edit_a_draft(world, who, error):
    req = svc.create_request(world.a_teacher, valid_data())
    db.session.commit()
    with pytest.raises(error):
        svc.update_request(getattr(world, who), req.id, valid_data(title="Hijacked"))
    db.session.rollback()
    db.session.refresh(req)
    assert req.title == valid_data()["title"]


@pytest.mark.parametrize("who", ["b_lead", "b_teacher", "coordinator", "admin"])
def test_others_may_not_edit_a_published_request(world, make_request, who):
    req = make_request(organisation=world.a, title="Original")
    with pytest.raises(NotAllowed):
        svc.update_request(getattr(world, who), req.id, valid_data(title="Hijacked"))
    db.session.rollback()
    db.session.refresh(req)
    assert req.title == "Original"


def test_a_closed_request_cannot_be_edited(world, make_request):
    req = make_request(organisation=world.a, status="closed", title="Original")
    with pytest.raises(Conflict):
        svc.update_request(world.a_lead, req.id, valid_data())
    with pytest.raises(Conflict):
        svc.request_for_edit(world.a_lead, req.id)


# --- Closing ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["a_lead", "coordinator", "admin"])
def test_the_lead_or_a_coordinator_closes_with_an_outcome(world, make_request, who):
    req = make_request(organisation=world.a)
    svc.close_request(getattr(world, who), req.id, "met_elsewhere", "  The LA adviser helped.  ", now=NOW)
    db.session.commit()
    assert (req.status, req.outcome, req.outcome_note, req.closed_at) == ("closed", "met_elsewhere", "The LA adviser helped.", NOW)
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "request.closed")).one()
    assert entry.actor_id == getattr(world, who).id and entry.detail == {"outcome": "met_elsewhere"}
    with pytest.raises(Conflict):
        svc.close_request(getattr(world, who), req.id, "not_met")


@pytest.mark.parametrize("who", ["a_teacher", "a_governor", "b_lead", "b_teacher"])
def test_nobody_else_may_close(world, make_request, who):
    req = make_request(organisation=world.a)
    with pytest.raises(NotAllowed):
        svc.close_request(getattr(world, who), req.id, "not_met")
    db.session.rollback()
    db.session.refresh(req)
    assert req.status == "published" and req.outcome is None and count(AuditLog) == 0


def test_a_lead_may_withdraw_a_draft_but_a_coordinator_never_sees_it(world, make_request):
    req = make_request(organisation=world.a, status="draft")
    with pytest.raises(NotFound):
        svc.close_request(world.coordinator, req.id, "no_longer_needed")
    svc.close_request(world.a_lead, req.id, "no_longer_needed")
    db.session.commit()
    assert req.status == "closed"
    # Never published, so still the school's own business.
    assert svc.can_view(world.coordinator, req) is False and svc.can_view(world.b_lead, req) is False


@pytest.mark.parametrize("outcome,note", [(None, ""), ("sorted", ""), ("not_met", "x" * 2001)])
def test_closing_needs_a_known_outcome_and_a_short_note(world, make_request, outcome, note):
    req = make_request(organisation=world.a)
    with pytest.raises(Invalid):
        svc.close_request(world.a_lead, req.id, outcome, note)
    db.session.rollback()
    db.session.refresh(req)
    assert req.status == "published"


# --- Responding ------------------------------------------------------------------------


def test_another_schools_lead_responds_with_one_of_their_offers(world, make_request, make_offer):
    req = make_request(organisation=world.a, title="Help with phonics")
    offer = make_offer(organisation=world.b, title="Phonics for new teachers")
    result = svc.respond(world.b_lead, req.id, "  We run this every term.  ", offer.id, link="http://x/requests/1")
    db.session.commit()
    response = result.response
    assert (response.organisation_id, response.author_id, response.offer_id, response.message) == (world.b.id, world.b_lead.id, offer.id, "We run this every term.")
    assert actions(req) == ["request.responded"]
    # Only the requesting school's lead is emailed, with the message and the link.
    assert [e.to for e in result.emails] == [world.a_lead.email]
    body = result.emails[0].body
    assert "Birch Academy" in body and "We run this every term." in body and "Phonics for new teachers" in body and "http://x/requests/1" in body


@pytest.mark.parametrize("who,error", [("b_teacher", NotAllowed), ("b_governor", NotAllowed), ("a_lead", NotAllowed), ("coordinator", NotAllowed)])
def test_only_leads_of_other_organisations_respond(world, make_request, who, error):
    req = make_request(organisation=world.a)
    with pytest.raises(error):
        svc.respond(getattr(world, who), req.id, "Hello")
    db.session.rollback()
    assert count(RequestResponse) == 0


def test_a_non_member_organisation_cannot_respond(world, make_request, make_org, make_user):
    outsider = make_org(kind="provider", name="Outside Ltd", is_member=False)
    lead = make_user("school_lead", organisation=outsider)
    req = make_request(organisation=world.a)
    with pytest.raises(NotAllowed):
        svc.respond(lead, req.id, "Buy our course")


def test_a_response_cannot_put_forward_another_organisations_offer(world, make_request, make_offer):
    req = make_request(organisation=world.a)
    theirs = make_offer(organisation=world.c)
    draft = make_offer(organisation=world.b, status="draft")
    for offer_id in (theirs.id, draft.id, 10**9, -4):
        with pytest.raises(Invalid) as error:
            svc.respond(world.b_lead, req.id, "Try this", offer_id)
        assert error.value.field == "offer_id"
        db.session.rollback()
    assert count(RequestResponse) == 0 and count(AuditLog) == 0


@pytest.mark.parametrize("message", [None, "", "   ", "x" * 5001])
def test_a_response_needs_a_message(world, make_request, message):
    req = make_request(organisation=world.a)
    with pytest.raises(Invalid) as error:
        svc.respond(world.b_lead, req.id, message)
    assert error.value.field == "message"


def test_closed_drafts_and_coordinator_only_requests_take_no_responses(world, make_request):
    closed = make_request(organisation=world.a, status="closed")
    draft = make_request(organisation=world.a, status="draft")
    private = make_request(organisation=world.a, visibility="coordinators")
    with pytest.raises(Conflict):
        svc.respond(world.b_lead, closed.id, "Too late?")
    with pytest.raises(NotFound):
        svc.respond(world.b_lead, draft.id, "Early")
    with pytest.raises(NotFound):
        svc.respond(world.b_lead, private.id, "Peek")
    db.session.rollback()
    assert count(RequestResponse) == 0


def test_the_requesting_school_sees_every_response_a_responder_only_its_own(world, make_request):
    req = make_request(organisation=world.a)
    svc.respond(world.b_lead, req.id, "From Birch")
    svc.respond(world.c_lead, req.id, "From Cedar")
    db.session.commit()

    def seen(who):
        return [r.message for r in svc.request_page(getattr(world, who), req.id).responses]

    assert seen("a_teacher") == seen("a_lead") == seen("coordinator") == ["From Birch", "From Cedar"]
    assert seen("b_teacher") == ["From Birch"]
    assert seen("c_lead") == ["From Cedar"]


# --- Brokering -------------------------------------------------------------------------


def test_a_coordinator_brokers_an_offer_and_both_leads_are_emailed(world, make_request, make_offer, make_user):
    req = make_request(organisation=world.a, title="Phonics help")
    offer = make_offer(organisation=world.b, title="Phonics for new teachers")
    second_lead = make_user("school_lead", organisation=world.b, name="Ben Lead")
    result = svc.broker(world.coordinator, req.id, None, offer.id, "Bea ran this for Cedar last year.", link="http://x/requests/9")
    db.session.commit()
    b = result.brokerage
    # Choosing an offer links its provider too.
    assert (b.provider_organisation_id, b.offer_id, b.coordinator_id) == (world.b.id, offer.id, world.coordinator.id)
    assert sorted(e.to for e in result.emails) == sorted([world.a_lead.email, world.b_lead.email, second_lead.email])
    assert result.unreachable == []
    provider_mail = next(e for e in result.emails if e.to == world.b_lead.email)
    assert "Phonics help" in provider_mail.body and "Alder Primary" in provider_mail.body and "http://x/requests/9" in provider_mail.body
    assert actions(req) == ["request.brokered"]


def test_brokering_a_coordinator_only_request_tells_the_provider_nothing_from_it(world, make_request):
    req = make_request(organisation=world.a, visibility="coordinators", title="Confidential: head is on long-term sick leave",
                       description="Interim leadership needed")
    result = svc.broker(world.coordinator, req.id, world.b.id, None, "Could Bea talk to me?", link="http://x/requests/5")
    db.session.commit()
    provider_mail = next(e for e in result.emails if e.to == world.b_lead.email)
    for secret in ("Confidential", "long-term sick", "Interim leadership", "Alder Primary", "http://x/requests/5"):
        assert secret not in provider_mail.body
    assert "Could Bea talk to me?" in provider_mail.body and world.coordinator.email in provider_mail.body
    requester_mail = next(e for e in result.emails if e.to == world.a_lead.email)
    assert "Birch Academy" in requester_mail.body and "http://x/requests/5" in requester_mail.body
    # The provider still cannot open the request.
    assert svc.can_view(world.b_lead, req) is False


def test_a_brokerage_shows_to_the_school_the_provider_and_coordinators_only(world, make_request):
    req = make_request(organisation=world.a)
    svc.broker(world.coordinator, req.id, world.b.id, None, "Talk to Birch")
    db.session.commit()
    for who, expected in (("a_teacher", 1), ("b_teacher", 1), ("b_lead", 1), ("coordinator", 1), ("c_lead", 0)):
        assert len(svc.request_page(getattr(world, who), req.id).brokerages) == expected, who


@pytest.mark.parametrize(
    "provider,offer,field",
    [
        (None, None, "provider_id"),
        ("a", None, "provider_id"),  # the requesting school itself
        (10**9, None, "provider_id"),
        ("b", "c_offer", "offer_id"),  # the offer is not the provider's
        (None, "b_draft", "offer_id"),
        (None, "a_offer", "offer_id"),
    ],
)
def test_a_brokerage_must_link_a_real_match(world, make_request, make_offer, provider, offer, field):
    req = make_request(organisation=world.a)
    offers = {
        "c_offer": make_offer(organisation=world.c),
        "b_draft": make_offer(organisation=world.b, status="draft"),
        "a_offer": make_offer(organisation=world.a),
    }
    provider_id = {"a": world.a.id, "b": world.b.id}.get(provider, provider)
    with pytest.raises(Invalid) as error:
        svc.broker(world.coordinator, req.id, provider_id, offers[offer].id if offer else None, "")
    assert error.value.field == field
    db.session.rollback()
    assert count(Brokerage) == 0


@pytest.mark.parametrize("who", ["a_lead", "b_lead", "a_teacher"])
def test_only_coordinators_broker(world, make_request, who):
    req = make_request(organisation=world.a)
    with pytest.raises(NotAllowed):
        svc.broker(getattr(world, who), req.id, world.c.id, None, "")
    with pytest.raises(NotAllowed):
        svc.choices_for_brokerage(getattr(world, who), req.id)
    db.session.rollback()
    assert count(Brokerage) == 0


def test_a_closed_request_is_not_brokered_and_unreachable_providers_are_reported(world, make_request, make_org):
    closed = make_request(organisation=world.a, status="closed")
    with pytest.raises(Conflict):
        svc.broker(world.coordinator, closed.id, world.b.id, None, "")
    db.session.rollback()
    hub = make_org(name="Severn Hub")
    req = make_request(organisation=world.a)
    result = svc.broker(world.coordinator, req.id, hub.id, None, "")
    assert result.unreachable == ["Severn Hub"] and [e.to for e in result.emails] == [world.a_lead.email]


def test_broker_choices_suggest_offers_in_the_same_area(world, make_request, make_offer):
    req = make_request(organisation=world.a, category_slug="early-reading-phonics")
    near = make_offer(organisation=world.b, category_slug="maths-mastery")  # same area: CPD
    far = make_offer(organisation=world.b, category_slug="peer-review")
    own = make_offer(organisation=world.a, category_slug="early-reading-phonics")
    providers, offers = svc.choices_for_brokerage(world.coordinator, req.id)
    assert [o.id for o in offers] == [near.id]
    assert world.a.id not in {p.id for p in providers} and world.b.id in {p.id for p in providers}
    assert far and own
