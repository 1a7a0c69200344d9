"""Support requests ("needs"): who may see, draft, publish, edit and close a school's
request, who may answer it, and how coordinators broker a match.

A coordinator-only request reaches nobody outside the requesting school except coordinators
and admins: not in the list, not on its page, not in a count, not in a brokerage email.
A draft (never published) is seen only by its own school.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    Brokerage,
    Category,
    FacetTerm,
    Offer,
    Organisation,
    RequestResponse,
    SupportRequest,
    User,
)
from app.models.base import utcnow
from app.models.requests import OUTCOMES, URGENCIES, VISIBILITIES
from app.services import audit
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound
from app.services.paging import Page

# The roles of people who belong to a school (or other member organisation) and may ask for help.
MEMBER_ROLES = ("teacher", "governor", "school_lead")
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_MESSAGE = 5000
MAX_NOTE = 2000
STATUS_FILTERS = {"open": "Open", "closed": "Closed", "draft": "Drafts (your school only)"}
# Ids beyond a 64-bit integer would overflow the driver: such a URL is simply not found.
_MAX_ID = 2**63 - 1


# --- Who may do what -------------------------------------------------------------------


def _signed_in(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "active", False))


def _is_coordinator(actor) -> bool:
    return _signed_in(actor) and actor.is_coordinator


def _is_member_of(actor, organisation_id: int | None) -> bool:
    return _signed_in(actor) and organisation_id is not None and actor.organisation_id == organisation_id


def _is_lead_of(actor, organisation_id: int | None) -> bool:
    return _is_member_of(actor, organisation_id) and actor.role == "school_lead"


def _was_shared(req: SupportRequest) -> bool:
    # A request closed while still a draft was never shared, so it stays with its school.
    return req.status == "published" or (req.status == "closed" and req.published_at is not None)


def can_view(actor, req: SupportRequest) -> bool:
    if not _signed_in(actor):
        return False
    if _is_member_of(actor, req.organisation_id):
        return True
    if not _was_shared(req):
        return False
    return actor.is_coordinator or req.visibility == "partnership"


def visible_clause(actor):
    """The SQL twin of can_view: the one filter every list and count goes through."""
    if not _signed_in(actor):
        return false()
    R = SupportRequest
    shared = or_(R.status == "published", and_(R.status == "closed", R.published_at.is_not(None)))
    own = R.organisation_id == actor.organisation_id if actor.organisation_id is not None else false()
    if actor.is_coordinator:
        return or_(own, shared)
    return or_(own, and_(shared, R.visibility == "partnership"))


def can_create(actor) -> bool:
    return _signed_in(actor) and actor.role in MEMBER_ROLES and actor.organisation_id is not None


def can_publish_new(actor) -> bool:
    """A school lead may publish straight away; everyone else saves a draft for the lead."""
    return can_create(actor) and actor.role == "school_lead"


def _may_change(actor, req: SupportRequest) -> bool:
    # The author while it is a draft, or their school's lead at any time before closing.
    if _is_lead_of(actor, req.organisation_id):
        return True
    return _is_member_of(actor, req.organisation_id) and req.created_by_id == actor.id and req.status == "draft"


def can_edit(actor, req: SupportRequest) -> bool:
    return req.status != "closed" and _may_change(actor, req)


def can_publish(actor, req: SupportRequest) -> bool:
    return req.status == "draft" and _is_lead_of(actor, req.organisation_id)


def can_close(actor, req: SupportRequest) -> bool:
    if req.status == "closed":
        return False
    if _is_lead_of(actor, req.organisation_id):
        return True
    # Coordinators close what was shared with them, never a school's unpublished draft.
    return _is_coordinator(actor) and req.status == "published"


def _is_responder(actor, req: SupportRequest) -> bool:
    """A lead of another member organisation: someone who could offer help."""
    return (
        _signed_in(actor)
        and actor.role == "school_lead"
        and actor.organisation_id is not None
        and actor.organisation_id != req.organisation_id
        and actor.organisation is not None
        and actor.organisation.is_member
    )


def can_respond(actor, req: SupportRequest) -> bool:
    return req.status == "published" and _is_responder(actor, req) and can_view(actor, req)


def can_broker(actor, req: SupportRequest) -> bool:
    return req.status == "published" and _is_coordinator(actor)


def _sees_all_replies(actor, req: SupportRequest) -> bool:
    return _is_member_of(actor, req.organisation_id) or _is_coordinator(actor)


def visible_responses(actor, req: SupportRequest) -> list[RequestResponse]:
    """The requesting school and coordinators see every response; a responder sees its own."""
    if _sees_all_replies(actor, req):
        return list(req.responses)
    return [r for r in req.responses if _is_member_of(actor, r.organisation_id)]


def _brokerage_provider_id(b: Brokerage) -> int | None:
    if b.provider_organisation_id is not None:
        return b.provider_organisation_id
    return b.offer.organisation_id if b.offer is not None else None


def visible_brokerages(actor, req: SupportRequest) -> list[Brokerage]:
    """Shown to the requesting school, coordinators, and the provider it links to."""
    if _sees_all_replies(actor, req):
        return list(req.brokerages)
    return [b for b in req.brokerages if _is_member_of(actor, _brokerage_provider_id(b))]


# --- Lookups ---------------------------------------------------------------------------


def _valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID


def _not_found() -> NotFound:
    return NotFound("There is no support request at this address, or it is not shared with you.")


def _get_request(request_id, *options) -> SupportRequest:
    req = (
        db.session.scalar(select(SupportRequest).where(SupportRequest.id == request_id).options(*options))
        if _valid_id(request_id)
        else None
    )
    if req is None:
        raise _not_found()
    return req


def _get_visible(actor, request_id, *options) -> SupportRequest:
    req = _get_request(request_id, *options)
    # Not 403: a request the actor may not see must not even be confirmed to exist.
    if not can_view(actor, req):
        raise _not_found()
    return req


def _leads_of(organisation_id: int | None) -> list[User]:
    if organisation_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(User.organisation_id == organisation_id, User.role == "school_lead", User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


# --- Choices for forms -----------------------------------------------------------------


@dataclass(frozen=True)
class CategoryGroup:
    id: int
    slug: str
    name: str
    children: list[tuple[int, str, str]]  # (id, slug, name)


@dataclass(frozen=True)
class FormOptions:
    categories: list[CategoryGroup]
    phases: list[FacetTerm]
    subjects: list[FacetTerm]


def _category_groups() -> list[CategoryGroup]:
    rows = db.session.scalars(select(Category).order_by(Category.position, Category.id)).all()
    children: dict[int, list[tuple[int, str, str]]] = {}
    for c in rows:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append((c.id, c.slug, c.name))
    return [CategoryGroup(c.id, c.slug, c.name, children.get(c.id, [])) for c in rows if c.parent_id is None]


def _terms(facet: str) -> list[FacetTerm]:
    return list(db.session.scalars(select(FacetTerm).where(FacetTerm.facet == facet).order_by(FacetTerm.position, FacetTerm.id)))


def form_options() -> FormOptions:
    return FormOptions(categories=_category_groups(), phases=_terms("phase"), subjects=_terms("subject"))


# --- Browsing --------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilters:
    category: str | None = None
    phase: str | None = None
    status: str | None = None
    mine: bool = False

    def as_args(self) -> dict:
        args = {name: getattr(self, name) for name in ("category", "phase", "status") if getattr(self, name)}
        if self.mine:
            args["mine"] = "1"
        return args

    @property
    def active(self) -> bool:
        return bool(self.as_args())


@dataclass
class Listing:
    filters: RequestFilters
    options: FormOptions
    results: Page
    # Drafts from the viewer's school awaiting its lead (only counted for leads).
    drafts_waiting: int = 0
    can_create: bool = False


def clean_filters(raw: dict, options: FormOptions) -> RequestFilters:
    """Keep only values that exist; an unknown value is ignored rather than an error."""

    def text(name):
        value = raw.get(name)
        return value if isinstance(value, str) else None

    category_slugs = {g.slug for g in options.categories} | {slug for g in options.categories for _, slug, _ in g.children}
    category = text("category")
    phase = text("phase")
    status = text("status")
    return RequestFilters(
        category=category if category in category_slugs else None,
        phase=phase if phase in {t.slug for t in options.phases} else None,
        status=status if status in STATUS_FILTERS else None,
        mine=text("mine") in ("1", "y", "true", "on"),
    )


def _filter_conditions(actor, filters: RequestFilters, options: FormOptions) -> list:
    R = SupportRequest
    conditions = [visible_clause(actor)]
    if filters.category:
        # An area matches its own subcategories; a subcategory matches itself.
        ids = []
        for g in options.categories:
            if g.slug == filters.category:
                ids += [g.id] + [cid for cid, _, _ in g.children]
            ids += [cid for cid, slug, _ in g.children if slug == filters.category]
        conditions.append(R.category_id.in_(ids))
    if filters.phase:
        conditions.append(R.terms.any(and_(FacetTerm.facet == "phase", FacetTerm.slug == filters.phase)))
    if filters.status == "open":
        conditions.append(R.status == "published")
    elif filters.status:
        conditions.append(R.status == filters.status)
    if filters.mine:
        conditions.append(R.organisation_id == actor.organisation_id if actor.organisation_id is not None else false())
    return conditions


def browse(actor, raw_filters: dict, *, page: int = 1, per_page: int = 20) -> Listing:
    """The requests this actor may see, filtered and paged: open ones first, newest first."""
    if not _signed_in(actor):
        raise NotAllowed("Please sign in to see support requests.")
    options = form_options()
    filters = clean_filters(raw_filters, options)
    R = SupportRequest
    conditions = _filter_conditions(actor, filters, options)
    total = db.session.scalar(select(func.count()).select_from(R).where(*conditions)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page if isinstance(page, int) else 1), pages)
    items = db.session.scalars(
        select(R)
        .where(*conditions)
        .options(joinedload(R.organisation), joinedload(R.category), selectinload(R.terms))
        .order_by(
            case((R.status == "closed", 1), else_=0),
            func.coalesce(R.published_at, R.created_at).desc(),
            R.id.desc(),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique().all()
    drafts = 0
    if actor.role == "school_lead" and actor.organisation_id is not None:
        drafts = db.session.scalar(
            select(func.count()).select_from(R).where(R.organisation_id == actor.organisation_id, R.status == "draft")
        ) or 0
    return Listing(
        filters=filters,
        options=options,
        results=Page(items=list(items), total=total, page=page, per_page=per_page),
        drafts_waiting=drafts,
        can_create=can_create(actor),
    )


# --- One request -----------------------------------------------------------------------


@dataclass
class RequestPage:
    request: SupportRequest
    responses: list[RequestResponse]
    brokerages: list[Brokerage]
    can_edit: bool
    can_publish: bool
    can_close: bool
    can_respond: bool
    can_broker: bool
    # Shown to the requesting school and coordinators: who wrote and published it.
    sees_people: bool
    respond_offers: list[Offer] = field(default_factory=list)
    broker_providers: list[Organisation] = field(default_factory=list)
    broker_offers: list[Offer] = field(default_factory=list)


def _page_options():
    R = SupportRequest
    return (
        joinedload(R.organisation).joinedload(Organisation.school),
        joinedload(R.category).joinedload(Category.parent),
        joinedload(R.created_by),
        joinedload(R.published_by),
        selectinload(R.terms),
        selectinload(R.responses).options(
            joinedload(RequestResponse.organisation).joinedload(Organisation.school),
            joinedload(RequestResponse.author),
            joinedload(RequestResponse.offer),
        ),
        selectinload(R.brokerages).options(
            joinedload(Brokerage.provider).joinedload(Organisation.school),
            joinedload(Brokerage.coordinator),
            joinedload(Brokerage.offer).joinedload(Offer.organisation),
        ),
    )


def _published_offers_of(organisation_id: int) -> list[Offer]:
    return list(
        db.session.scalars(
            select(Offer).where(Offer.organisation_id == organisation_id, Offer.status == "published").order_by(Offer.title, Offer.id)
        )
    )


def _broker_choices(req: SupportRequest) -> tuple[list[Organisation], list[Offer]]:
    """Every other organisation as a provider; offers in the same area as the request first."""
    providers = list(
        db.session.scalars(
            select(Organisation).where(Organisation.id != req.organisation_id).order_by(Organisation.name, Organisation.id)
        )
    )
    stmt = (
        select(Offer)
        .join(Offer.organisation)
        .where(Offer.status == "published", Offer.organisation_id != req.organisation_id)
        .options(joinedload(Offer.organisation))
        .order_by(Organisation.name, Offer.title, Offer.id)
    )
    if req.category is not None:
        # Offers in the same top-level area are the likely matches; a coordinator who wants
        # another provider chooses it as the provider instead.
        area_id = req.category.parent_id or req.category.id
        sibling_ids = select(Category.id).where(or_(Category.parent_id == area_id, Category.id == area_id))
        stmt = stmt.where(Offer.category_id.in_(sibling_ids))
    return providers, list(db.session.scalars(stmt).unique())


def request_page(actor, request_id) -> RequestPage:
    req = _get_visible(actor, request_id, *_page_options())
    page = RequestPage(
        request=req,
        responses=visible_responses(actor, req),
        brokerages=visible_brokerages(actor, req),
        can_edit=can_edit(actor, req),
        can_publish=can_publish(actor, req),
        can_close=can_close(actor, req),
        can_respond=can_respond(actor, req),
        can_broker=can_broker(actor, req),
        sees_people=_sees_all_replies(actor, req),
    )
    if page.can_respond:
        page.respond_offers = _published_offers_of(actor.organisation_id)
    if page.can_broker:
        page.broker_providers, page.broker_offers = _broker_choices(req)
    return page


def options_for_new(actor) -> FormOptions:
    """The choices for a new request, for someone who may post one."""
    if not can_create(actor):
        raise NotAllowed("Support requests are posted by the staff and governors of member schools.")
    return form_options()


def request_for_close(actor, request_id) -> SupportRequest:
    """The request, if this actor may close it now (else NotFound, NotAllowed or Conflict)."""
    req = _get_visible(actor, request_id)
    _check_may_close(actor, req)
    return req


def _check_may_close(actor, req: SupportRequest) -> None:
    if req.status == "closed":
        if _is_lead_of(actor, req.organisation_id) or _is_coordinator(actor):
            raise Conflict("This request is already closed.")
        raise NotAllowed("Only the requesting school's lead or a coordinator can close this request.")
    if not can_close(actor, req):
        raise NotAllowed("Only the requesting school's lead or a coordinator can close this request.")


def offers_for_response(actor, request_id) -> list[Offer]:
    """The actor's published offers, if they may respond to this request now."""
    req = _get_visible(actor, request_id)
    _check_may_respond(actor, req)
    return _published_offers_of(actor.organisation_id)


def _check_may_respond(actor, req: SupportRequest) -> None:
    if not _is_responder(actor, req):
        raise NotAllowed("Only the school lead of another member organisation can respond to this request.")
    if req.status != "published":
        raise Conflict("This request is closed, so it no longer takes responses.")


def choices_for_brokerage(actor, request_id) -> tuple[list[Organisation], list[Offer]]:
    """Providers and offers to choose from, if the actor may broker this request now."""
    req = _get_visible(actor, request_id, joinedload(SupportRequest.category))
    _check_may_broker(actor, req)
    return _broker_choices(req)


def _check_may_broker(actor, req: SupportRequest) -> None:
    if not _is_coordinator(actor):
        raise NotAllowed("Only coordinators can broker support requests.")
    if req.status != "published":
        raise Conflict("This request is closed, so it can no longer be brokered.")


def request_for_edit(actor, request_id) -> SupportRequest:
    req = _get_visible(actor, request_id, selectinload(SupportRequest.terms))
    _check_may_change(actor, req)
    return req


def _check_may_change(actor, req: SupportRequest) -> None:
    if not _may_change(actor, req):
        if _is_member_of(actor, req.organisation_id) and req.created_by_id == actor.id:
            raise NotAllowed("Once a request is published only your school lead can change it.")
        raise NotAllowed("Only the person who drafted this request, or their school lead, can change it.")
    if req.status == "closed":
        raise Conflict("This request is closed, so it can no longer be changed.")


# --- Drafting, publishing, editing, closing --------------------------------------------


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _clean_request_data(data: dict) -> dict:
    """Check what a form sent (again: the service must not trust its caller)."""
    title = " ".join(_text(data, "title").split())
    if not title:
        raise Invalid("Enter a title for the request", field="title")
    if len(title) > MAX_TITLE:
        raise Invalid(f"The title must be {MAX_TITLE} characters or fewer", field="title")
    description = _text(data, "description")
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"The description must be {MAX_DESCRIPTION:,} characters or fewer", field="description")

    category_id = data.get("category_id")
    category = db.session.get(Category, category_id) if _valid_id(category_id) else None
    if category is None or category.parent_id is None:
        raise Invalid("Choose the kind of support you need from the list", field="category_id")

    terms = []
    for facet, name in (("phase", "phases"), ("subject", "subjects")):
        ids = data.get(name) or []
        if not all(_valid_id(i) for i in ids):
            raise Invalid(f"Choose {name} from the list", field=name)
        found = list(db.session.scalars(select(FacetTerm).where(FacetTerm.id.in_(set(ids)), FacetTerm.facet == facet))) if ids else []
        if len(found) != len(set(ids)):
            raise Invalid(f"Choose {name} from the list", field=name)
        terms.extend(found)

    urgency = data.get("urgency")
    if urgency not in URGENCIES:
        raise Invalid("Choose how urgent this is", field="urgency")
    visibility = data.get("visibility")
    if visibility not in VISIBILITIES:
        raise Invalid("Choose who can see this request", field="visibility")
    return {
        "title": title,
        "description": description,
        "category_id": category.id,
        "terms": terms,
        "urgency": urgency,
        "visibility": visibility,
    }


def create_request(actor, data: dict, *, publish: bool = False, now: datetime | None = None) -> SupportRequest:
    """A member drafts a request for their own school; a school lead may publish it at once."""
    if not can_create(actor):
        raise NotAllowed("Only staff and governors of a member school can ask for support.")
    if publish and not can_publish_new(actor):
        raise NotAllowed("Only your school lead can publish a request. Save it as a draft and they can publish it.")
    clean = _clean_request_data(data)
    now = now or utcnow()
    req = SupportRequest(
        organisation_id=actor.organisation_id,
        created_by_id=actor.id,
        title=clean["title"],
        description=clean["description"],
        category_id=clean["category_id"],
        urgency=clean["urgency"],
        visibility=clean["visibility"],
        status="published" if publish else "draft",
        published_at=now if publish else None,
        published_by_id=actor.id if publish else None,
    )
    req.terms = clean["terms"]
    db.session.add(req)
    db.session.flush()
    audit.record(actor, "request.created", req, status=req.status, visibility=req.visibility)
    if publish:
        audit.record(actor, "request.published", req, visibility=req.visibility)
    return req


def update_request(actor, request_id, data: dict) -> SupportRequest:
    req = _get_visible(actor, request_id, selectinload(SupportRequest.terms))
    _check_may_change(actor, req)
    clean = _clean_request_data(data)
    before = {
        "title": req.title,
        "description": req.description,
        "category_id": req.category_id,
        "urgency": req.urgency,
        "visibility": req.visibility,
        "terms": sorted(t.id for t in req.terms),
    }
    for name in ("title", "description", "category_id", "urgency", "visibility"):
        setattr(req, name, clean[name])
    req.terms = clean["terms"]
    after = {**{n: getattr(req, n) for n in before if n != "terms"}, "terms": sorted(t.id for t in clean["terms"])}
    changed = sorted(n for n in before if before[n] != after[n])
    db.session.flush()
    audit.record(actor, "request.updated", req, changed=changed, visibility=req.visibility)
    return req


def publish_request(actor, request_id, *, now: datetime | None = None) -> SupportRequest:
    """The school's lead publishes a draft (their own or a colleague's)."""
    req = _get_visible(actor, request_id)
    if not _is_lead_of(actor, req.organisation_id):
        raise NotAllowed("Only the school lead of the requesting school can publish this request.")
    if req.status != "draft":
        raise Conflict("This request is not a draft: it has already been published or closed.")
    req.status = "published"
    req.published_at = now or utcnow()
    req.published_by_id = actor.id
    db.session.flush()
    audit.record(actor, "request.published", req, visibility=req.visibility)
    return req


def close_request(actor, request_id, outcome: str | None, note: str | None = None, *, now: datetime | None = None) -> SupportRequest:
    """Close with an outcome: the requesting school's lead, or a coordinator once it is published."""
    req = request_for_close(actor, request_id)
    if outcome not in OUTCOMES:
        raise Invalid("Choose what happened to this request", field="outcome")
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > MAX_NOTE:
        raise Invalid(f"The note must be {MAX_NOTE:,} characters or fewer", field="note")
    req.status = "closed"
    req.closed_at = now or utcnow()
    req.outcome = outcome
    req.outcome_note = note or None
    db.session.flush()
    audit.record(actor, "request.closed", req, outcome=outcome)
    return req


# --- Responses and brokerage -----------------------------------------------------------


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


@dataclass
class Responded:
    response: RequestResponse
    emails: list[Email]


@dataclass
class Brokered:
    brokerage: Brokerage
    emails: list[Email]
    # Organisations with nobody to email (no active school lead): the coordinator is told.
    unreachable: list[str]


def _message(value, name: str, label: str, limit: int, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise Invalid(f"Enter {label}", field=name)
    if len(text) > limit:
        raise Invalid(f"{label[0].upper()}{label[1:]} must be {limit:,} characters or fewer", field=name)
    return text


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines()) or "  (none)"


def respond(actor, request_id, message: str | None, offer_id: int | None = None, *, link: str = "") -> Responded:
    """A lead of another member organisation answers a request, optionally with one of its offers.

    `link` is the request's address, for the email to the requesting school's leads.
    """
    req = _get_visible(actor, request_id)
    _check_may_respond(actor, req)
    text = _message(message, "message", "a message", MAX_MESSAGE, required=True)
    offer = None
    if offer_id is not None:
        offer = db.session.get(Offer, offer_id) if _valid_id(offer_id) else None
        # Another organisation's offer (or an unpublished one) cannot be put forward.
        if offer is None or offer.organisation_id != actor.organisation_id or offer.status != "published":
            raise Invalid("Choose one of your organisation's published offers, or none", field="offer_id")
    response = RequestResponse(
        request_id=req.id,
        organisation_id=actor.organisation_id,
        author_id=actor.id,
        offer_id=offer.id if offer is not None else None,
        message=text,
    )
    db.session.add(response)
    db.session.flush()
    audit.record(actor, "request.responded", req, response_id=response.id, organisation_id=actor.organisation_id, offer_id=response.offer_id)

    responder = actor.organisation.name
    body = (
        f"{responder} has responded to your school's support request:\n\n"
        f"  {req.title}\n\n"
        f"Their message:\n\n{_indent(text)}\n\n"
        + (f"They suggest their offer: {offer.title}\n\n" if offer is not None else "")
        + f"Read it and reply: {link}\n"
    )
    emails = [
        Email(lead.email, "A response to your school's support request", f"Hello {lead.name},\n\n{body}")
        for lead in _leads_of(req.organisation_id)
    ]
    return Responded(response, emails)


def broker(
    actor, request_id, provider_id: int | None, offer_id: int | None, note: str | None = None, *, link: str = ""
) -> Brokered:
    """A coordinator links a request to a provider and/or one of its published offers.

    Both sides' leads are emailed. For a coordinator-only request the provider's email holds
    only the coordinator's note and how to reach them: nothing the school shared in confidence.
    """
    if not _is_coordinator(actor):
        raise NotAllowed("Only coordinators can broker support requests.")
    req = _get_visible(actor, request_id, joinedload(SupportRequest.organisation))
    _check_may_broker(actor, req)
    text = _message(note, "note", "a note", MAX_NOTE, required=False)

    provider = None
    if provider_id is not None:
        provider = db.session.get(Organisation, provider_id) if _valid_id(provider_id) else None
        if provider is None:
            raise Invalid("Choose a provider from the list", field="provider_id")
        if provider.id == req.organisation_id:
            raise Invalid("The provider must be another organisation, not the requesting school", field="provider_id")
    offer = None
    if offer_id is not None:
        offer = db.session.get(Offer, offer_id) if _valid_id(offer_id) else None
        if offer is None or offer.status != "published":
            raise Invalid("Choose a published offer from the list", field="offer_id")
        if provider is not None and offer.organisation_id != provider.id:
            raise Invalid(f"That offer is not one of {provider.name}'s: choose one of theirs, or no offer", field="offer_id")
        if offer.organisation_id == req.organisation_id:
            raise Invalid("The offer must come from another organisation, not the requesting school", field="offer_id")
        provider = provider or offer.organisation
    if provider is None:
        raise Invalid("Choose a provider, an offer, or both", field="provider_id")

    brokerage = Brokerage(
        request_id=req.id,
        coordinator_id=actor.id,
        provider_organisation_id=provider.id,
        offer_id=offer.id if offer is not None else None,
        note=text,
    )
    db.session.add(brokerage)
    db.session.flush()
    audit.record(actor, "request.brokered", req, brokerage_id=brokerage.id, provider_id=provider.id, offer_id=brokerage.offer_id)

    suggestion = provider.name + (f", and their offer \"{offer.title}\"" if offer is not None else "")
    note_block = f"Their note:\n\n{_indent(text)}\n\n" if text else ""
    requester_body = (
        f"{actor.name}, a partnership coordinator, has suggested {suggestion} for your school's support request:\n\n"
        f"  {req.title}\n\n{note_block}See the request: {link}\n"
    )
    if req.visibility == "coordinators":
        provider_body = (
            f"{actor.name}, a partnership coordinator, would like to put you in touch about a school's need "
            "that was shared with coordinators only"
            + (f", and thinks your offer \"{offer.title}\" may help" if offer is not None else "")
            + f".\n\n{note_block}Reply to {actor.name} at {actor.email} to take it further.\n"
        )
    else:
        provider_body = (
            f"{actor.name}, a partnership coordinator, has suggested "
            + (f"your offer \"{offer.title}\"" if offer is not None else "your organisation")
            + f" for a support request from {req.organisation.name}:\n\n  {req.title}\n\n{note_block}"
            f"See the request and respond: {link}\n"
        )
    emails: list[Email] = []
    unreachable: list[str] = []
    for organisation, subject, body in (
        (req.organisation, "A coordinator has suggested support for your school's request", requester_body),
        (provider, "A coordinator has suggested you for a school's support request", provider_body),
    ):
        leads = _leads_of(organisation.id)
        if not leads:
            unreachable.append(organisation.name)
        emails.extend(Email(lead.email, subject, f"Hello {lead.name},\n\n{body}") for lead in leads)
    return Brokered(brokerage, emails, unreachable)
