"""The directory: finding organisations, networks and experts, and who may change a
school's profile, its people and their expert profiles (only that school's lead, or the
person themself for their own expert profile)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    Designation,
    ExpertProfile,
    Membership,
    Network,
    Organisation,
    SchoolProfile,
    Specialism,
    User,
)
from app.models.organisations import ORG_KINDS, OFSTED_GRADES, PHASES, URBAN_RURAL
from app.services import audit
from app.services.errors import Invalid, NotAllowed, NotFound
from app.services.paging import Page

# Roles a school lead may give to the people of their own school.
SCHOOL_ROLES = ("teacher", "governor", "school_lead")
MAX_QUERY_LENGTH = 200
MAX_PUPILS = 5000
MAX_CAPACITY_DAYS = 100
# SQLite and PostgreSQL integers are 64-bit; a larger id in a URL must be a 404, not an
# OverflowError from the driver.
_MAX_ID = 2**63 - 1
_URN_RE = re.compile(r"[1-9][0-9]{5}")


# --- Who may do what -------------------------------------------------------------------


def _signed_in(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "active", False))


def is_lead_of(actor, organisation_id: int | None) -> bool:
    """The actor is an active school lead of this organisation."""
    return (
        _signed_in(actor)
        and organisation_id is not None
        and actor.role == "school_lead"
        and actor.organisation_id == organisation_id
    )


def can_edit_organisation(actor, organisation: Organisation) -> bool:
    # Only the organisation's own school lead: not other schools' leads, not coordinators.
    return is_lead_of(actor, organisation.id)


def can_edit_expert(actor, person: User) -> bool:
    if not _signed_in(actor):
        return False
    return actor.id == person.id or is_lead_of(actor, person.organisation_id)


# --- Lookups ---------------------------------------------------------------------------


def _valid_id(value) -> bool:
    return isinstance(value, int) and 0 < value <= _MAX_ID


def _current(today: date):
    return and_(
        Membership.start_date <= today,
        or_(Membership.end_date.is_(None), Membership.end_date >= today),
    )


def _organisation_by_key_stmt(key: str):
    key = (key or "").strip()
    if key.isascii() and key.isdigit():
        # All digits: a URN. Anything that cannot be a URN cannot match one.
        if not _URN_RE.fullmatch(key):
            return None
        return select(Organisation).join(SchoolProfile).where(SchoolProfile.urn == int(key))
    if not key or len(key) > 220:
        return None
    return select(Organisation).where(Organisation.slug == key)


def get_organisation(key: str, *options) -> Organisation:
    """The organisation at /directory/<key>: a URN when the key is all digits, else a slug."""
    stmt = _organisation_by_key_stmt(key)
    organisation = db.session.scalar(stmt.options(*options)) if stmt is not None else None
    if organisation is None:
        raise NotFound("There is no organisation at this address.")
    return organisation


def _get_organisation_by_id(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id) if _valid_id(organisation_id) else None
    if organisation is None:
        raise NotFound("There is no such organisation.")
    return organisation


def _get_user(user_id: int, *options) -> User:
    if not _valid_id(user_id):
        raise NotFound("There is no such person.")
    user = db.session.scalar(select(User).where(User.id == user_id).options(*options))
    if user is None:
        raise NotFound("There is no such person.")
    return user


# --- Browsing the directory ------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilters:
    kind: str | None = None
    phase: str | None = None
    la: str | None = None
    network: str | None = None
    q: str | None = None

    def as_args(self) -> dict:
        """The filters as query arguments, for links that keep them (pagination)."""
        return {name: value for name, value in self.__dict__.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.as_args())


@dataclass(frozen=True)
class FilterOptions:
    kinds: list[tuple[str, str]]
    phases: list[tuple[str, str]]
    las: list[tuple[str, str]]
    networks: list[tuple[str, str]]


@dataclass
class Browse:
    filters: DirectoryFilters
    options: FilterOptions
    results: Page
    today: date


def filter_options() -> FilterOptions:
    """Choices for the directory filters. Local authorities and networks come from the data."""
    las = db.session.execute(
        select(Organisation.la_code, func.max(Organisation.la_name))
        .where(Organisation.la_code.is_not(None), Organisation.la_code != "")
        .group_by(Organisation.la_code)
        .order_by(func.max(Organisation.la_name), Organisation.la_code)
    ).all()
    networks = db.session.execute(select(Network.slug, Network.name).order_by(Network.name, Network.id)).all()
    return FilterOptions(
        kinds=list(ORG_KINDS.items()),
        phases=list(PHASES.items()),
        las=[(code, name or code) for code, name in las],
        networks=[(slug, name) for slug, name in networks],
    )


def clean_filters(raw: dict, options: FilterOptions) -> DirectoryFilters:
    """Keep only filter values that exist; an unknown value is ignored rather than an error."""

    def pick(name, choices):
        value = raw.get(name)
        if not isinstance(value, str):
            return None
        return value if value in {key for key, _ in choices} else None

    q = raw.get("q")
    q = q.strip()[:MAX_QUERY_LENGTH] if isinstance(q, str) else ""
    return DirectoryFilters(
        kind=pick("kind", options.kinds),
        phase=pick("phase", options.phases),
        la=pick("la", options.las),
        network=pick("network", options.networks),
        q=q or None,
    )


def _directory_conditions(filters: DirectoryFilters, today: date) -> list:
    # Closed schools stay reachable by URN but are not offered as places to find support.
    conditions = [~Organisation.school.has(SchoolProfile.status == "closed")]
    if filters.kind:
        conditions.append(Organisation.kind == filters.kind)
    if filters.phase:
        conditions.append(Organisation.school.has(SchoolProfile.phase == filters.phase))
    if filters.la:
        conditions.append(Organisation.la_code == filters.la)
    if filters.network:
        conditions.append(
            Organisation.memberships.any(
                and_(Membership.network.has(Network.slug == filters.network), _current(today))
            )
        )
    if filters.q:
        conditions.append(Organisation.name.icontains(filters.q, autoescape=True))
    return conditions


def search_organisations(filters: DirectoryFilters, page: int = 1, per_page: int = 24, today: date | None = None) -> Page:
    """One page of organisations, in name order, with a constant number of queries.

    A page past the end is a NotFound (checked before any OFFSET is sent, so a huge page
    number never reaches the database)."""
    today = today or date.today()
    per_page = max(1, int(per_page))
    page = page if isinstance(page, int) and page >= 1 else 1
    conditions = _directory_conditions(filters, today)
    total = db.session.scalar(select(func.count(Organisation.id)).where(*conditions)) or 0
    result = Page(items=[], total=total, page=page, per_page=per_page)
    if page > result.pages:
        raise NotFound("There is no such page of results.")
    result.items = list(
        db.session.scalars(
            select(Organisation)
            .where(*conditions)
            .order_by(func.lower(Organisation.name), Organisation.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
            .options(
                selectinload(Organisation.school),
                selectinload(Organisation.memberships).joinedload(Membership.network),
            )
        )
    )
    return result


def browse(raw_filters: dict, page: int = 1, per_page: int = 24, today: date | None = None) -> Browse:
    """The directory page: filter choices, the filters that apply, and one page of results."""
    today = today or date.today()
    options = filter_options()
    filters = clean_filters(raw_filters, options)
    return Browse(filters=filters, options=options, results=search_organisations(filters, page, per_page, today), today=today)


def current_memberships(organisation: Organisation, today: date) -> list[Membership]:
    """Current memberships, lead roles first, then by network name."""
    return sorted(
        (m for m in organisation.memberships if m.is_current(today)),
        key=lambda m: (m.role != "lead", m.network.name.lower()),
    )


# --- One organisation ------------------------------------------------------------------


@dataclass
class OrganisationPage:
    organisation: Organisation
    memberships: list[Membership]
    people: list[User]
    experts: list[User]
    can_edit: bool


def organisation_page(actor, key: str, today: date | None = None) -> OrganisationPage:
    today = today or date.today()
    organisation = get_organisation(
        key,
        selectinload(Organisation.school),
        selectinload(Organisation.memberships).joinedload(Membership.network),
    )
    people = list(
        db.session.scalars(
            select(User)
            .where(User.organisation_id == organisation.id, User.active.is_(True))
            .order_by(func.lower(User.name), User.id)
            .options(
                selectinload(User.expert_profile).selectinload(ExpertProfile.designations),
                selectinload(User.expert_profile).selectinload(ExpertProfile.specialisms),
            )
        )
    )
    experts = [p for p in people if p.expert_profile is not None and p.expert_profile.public]
    return OrganisationPage(
        organisation=organisation,
        memberships=current_memberships(organisation, today),
        people=people,
        experts=experts,
        can_edit=can_edit_organisation(actor, organisation),
    )


# --- Networks --------------------------------------------------------------------------


@dataclass
class NetworkSummary:
    network: Network
    members: int


def list_networks(today: date | None = None) -> list[NetworkSummary]:
    today = today or date.today()
    members = (
        select(Membership.network_id, func.count(func.distinct(Membership.organisation_id)).label("n"))
        .where(_current(today))
        .group_by(Membership.network_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Network, func.coalesce(members.c.n, 0))
        .outerjoin(members, members.c.network_id == Network.id)
        .order_by(func.lower(Network.name), Network.id)
    ).all()
    return [NetworkSummary(network=network, members=count) for network, count in rows]


@dataclass
class NetworkPage:
    network: Network
    memberships: list[Membership]


def network_page(slug: str, today: date | None = None) -> NetworkPage:
    today = today or date.today()
    network = None
    if slug and len(slug) <= 220:
        network = db.session.scalar(
            select(Network)
            .where(Network.slug == slug)
            .options(
                selectinload(Network.memberships)
                .joinedload(Membership.organisation)
                .selectinload(Organisation.school)
            )
        )
    if network is None:
        raise NotFound("There is no network at this address.")
    current = sorted(
        (m for m in network.memberships if m.is_current(today)),
        key=lambda m: (m.role != "lead", m.organisation.name.lower(), m.organisation.id),
    )
    return NetworkPage(network=network, memberships=current)


# --- People and expert profiles --------------------------------------------------------


@dataclass
class PersonPage:
    person: User
    profile: ExpertProfile | None
    can_edit: bool


def _person_options():
    return (
        joinedload(User.organisation).selectinload(Organisation.school),
        selectinload(User.expert_profile).selectinload(ExpertProfile.designations),
        selectinload(User.expert_profile).selectinload(ExpertProfile.specialisms),
    )


def person_page(actor, user_id: int) -> PersonPage:
    """An expert profile. Hidden, missing or deactivated profiles are a 404 for everyone
    but the person themself and their school lead (a 404, not a 403: do not confirm
    that a hidden profile exists)."""
    person = _get_user(user_id, *_person_options())
    profile = person.expert_profile
    can_edit = can_edit_expert(actor, person)
    visible = profile is not None and profile.public and person.active
    if not (visible or can_edit):
        raise NotFound("There is no expert profile at this address.")
    return PersonPage(person=person, profile=profile, can_edit=can_edit)


def expert_for_edit(actor, user_id: int) -> User:
    person = _get_user(user_id, *_person_options())
    if not can_edit_expert(actor, person):
        raise NotAllowed("Only the person themself or their school lead can edit this expert profile.")
    return person


def designation_choices(profile: ExpertProfile | None) -> list[Designation]:
    """Current designations, plus any no-longer-awarded ones this profile already holds."""
    condition = Designation.current.is_(True)
    held = [d.id for d in profile.designations] if profile is not None else []
    if held:
        condition = or_(condition, Designation.id.in_(held))
    return list(db.session.scalars(select(Designation).where(condition).order_by(Designation.name, Designation.id)))


def specialism_choices() -> list[Specialism]:
    return list(db.session.scalars(select(Specialism).order_by(Specialism.name, Specialism.id)))


@dataclass
class ExpertEdit:
    person: User
    profile: ExpertProfile | None
    designations: list[Designation]
    specialisms: list[Specialism]


def expert_edit(actor, user_id: int) -> ExpertEdit:
    """Everything the expert profile form needs, for someone allowed to edit it."""
    person = expert_for_edit(actor, user_id)
    return ExpertEdit(
        person=person,
        profile=person.expert_profile,
        designations=designation_choices(person.expert_profile),
        specialisms=specialism_choices(),
    )


def _text(data: dict, name: str, max_length: int, label: str, *, required: str | None = None) -> str:
    """A stripped string; `required` is the message when it is empty."""
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise Invalid(required, field=name)
    if len(value) > max_length:
        raise Invalid(f"{label} must be {max_length:,} characters or fewer.", field=name)
    return value


def _optional_int(data: dict, name: str, low: int, high: int, message: str) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(message, field=name)
    return value


def update_expert_profile(actor, user_id: int, data: dict) -> ExpertProfile:
    """Create or update a person's expert profile. Keys: headline, bio, availability,
    capacity_days, designations (ids), specialisms (ids), public."""
    person = expert_for_edit(actor, user_id)
    profile = person.expert_profile
    headline = _text(data, "headline", 200, "Headline")
    bio = _text(data, "bio", 5000, "About you")
    availability = _text(data, "availability", 200, "Availability")
    capacity = _optional_int(
        data, "capacity_days", 0, MAX_CAPACITY_DAYS, f"Days a term must be a whole number from 0 to {MAX_CAPACITY_DAYS}."
    )

    wanted_designations = set(data.get("designations") or [])
    allowed = {d.id: d for d in designation_choices(profile)}
    if not wanted_designations <= allowed.keys():
        raise Invalid("Choose designations from the list.", field="designations")
    wanted_specialisms = set(data.get("specialisms") or [])
    specialisms = {s.id: s for s in specialism_choices()}
    if not wanted_specialisms <= specialisms.keys():
        raise Invalid("Choose specialisms from the list.", field="specialisms")

    created = profile is None
    if created:
        profile = ExpertProfile(user=person)
        db.session.add(profile)
    profile.headline = headline
    profile.bio = bio
    profile.availability = availability
    profile.capacity_days = capacity
    profile.public = bool(data.get("public"))
    profile.designations = [allowed[i] for i in sorted(wanted_designations)]
    profile.specialisms = [specialisms[i] for i in sorted(wanted_specialisms)]
    db.session.flush()
    audit.record(actor, "expert_profile.create" if created else "expert_profile.update", profile, user_id=person.id)
    return profile


# --- Editing an organisation's profile -------------------------------------------------

UK_POSTCODE = re.compile(
    r"(GIR ?0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})",
    re.IGNORECASE,
)


def normalise_postcode(value: str) -> str | None:
    """'gl1 2ab' → 'GL1 2AB'; None when it is not a UK postcode."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if not UK_POSTCODE.fullmatch(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def organisation_for_edit(actor, key: str) -> Organisation:
    organisation = get_organisation(key, selectinload(Organisation.school))
    if not can_edit_organisation(actor, organisation):
        raise NotAllowed("Only this organisation's school lead can edit its profile.")
    return organisation


def update_profile(actor, organisation_id: int, data: dict) -> Organisation:
    """Update an organisation's profile (and school facts for a school).

    Everything is checked before anything is changed, so an error writes nothing. Keys:
    name, summary, website, email, phone, address, postcode; for schools also urn, phase,
    school_type, pupils, ofsted_grade, urban_rural. Missing keys are left as they are."""
    organisation = _get_organisation_by_id(organisation_id)
    if not can_edit_organisation(actor, organisation):
        raise NotAllowed("Only this organisation's school lead can edit its profile.")

    changes: dict = {}
    if "name" in data:
        changes["name"] = _text(data, "name", 200, "Name", required="Enter the organisation's name.")
    if "summary" in data:
        changes["summary"] = _text(data, "summary", 5000, "Summary")
    for name, max_length, label in (
        ("website", 300, "Website address"),
        ("email", 254, "Email address"),
        ("phone", 40, "Phone number"),
        ("address", 300, "Address"),
    ):
        if name in data:
            changes[name] = _text(data, name, max_length, label) or None
    if "website" in data and changes["website"] and not re.match(r"https?://", changes["website"], re.IGNORECASE):
        raise Invalid("Enter a website address starting with http:// or https://.", field="website")
    if "postcode" in data:
        raw = _text(data, "postcode", 10, "Postcode")
        postcode = normalise_postcode(raw) if raw else None
        if raw and postcode is None:
            raise Invalid("Enter a real UK postcode, like GL1 2AB.", field="postcode")
        changes["postcode"] = postcode

    school_changes = _school_changes(organisation, data) if organisation.kind == "school" else {}

    changed = []
    for name, value in changes.items():
        if getattr(organisation, name) != value:
            setattr(organisation, name, value)
            changed.append(name)
    if school_changes:
        if organisation.school is None:
            organisation.school = SchoolProfile()
        for name, value in school_changes.items():
            if getattr(organisation.school, name) != value:
                setattr(organisation.school, name, value)
                changed.append(name)
    try:
        db.session.flush()
    except IntegrityError as error:
        # Two leads saving the same URN at once: the unique index decides.
        raise Invalid("That URN is already used by another school.", field="urn") from error
    if changed:
        audit.record(actor, "organisation.update", organisation, fields=sorted(changed))
    return organisation


def _school_changes(organisation: Organisation, data: dict) -> dict:
    changes: dict = {}
    if "urn" in data:
        urn = data["urn"]
        if urn in (None, ""):
            urn = None
        else:
            if isinstance(urn, str) and urn.strip().isascii() and urn.strip().isdigit():
                urn = int(urn.strip())
            if isinstance(urn, bool) or not isinstance(urn, int) or not 100000 <= urn <= 999999:
                raise Invalid("URN must be six digits.", field="urn")
            taken_by = db.session.scalar(
                select(Organisation.name)
                .join(SchoolProfile)
                .where(SchoolProfile.urn == urn, SchoolProfile.organisation_id != organisation.id)
            )
            if taken_by is not None:
                raise Invalid(
                    f"URN {urn} is already used by {taken_by}. Check the number, or ask a coordinator to correct the other school.",
                    field="urn",
                )
        changes["urn"] = urn
    for name, allowed, label in (
        ("phase", PHASES, "phase"),
        ("ofsted_grade", OFSTED_GRADES, "Ofsted grade"),
        ("urban_rural", URBAN_RURAL, "urban or rural setting"),
    ):
        if name in data:
            value = data[name] or None
            if value is not None and value not in allowed:
                raise Invalid(f"Choose a {label} from the list.", field=name)
            changes[name] = value
    if "school_type" in data:
        changes["school_type"] = _text(data, "school_type", 100, "School type") or None
    if "pupils" in data:
        changes["pupils"] = _optional_int(
            data, "pupils", 0, MAX_PUPILS, f"Pupils must be a whole number from 0 to {MAX_PUPILS:,}."
        )
    return changes


# --- A school's people -----------------------------------------------------------------


def _lead_organisation(actor, key: str) -> Organisation:
    organisation = get_organisation(key, selectinload(Organisation.school))
    if not is_lead_of(actor, organisation.id):
        raise NotAllowed("Only this organisation's school lead can manage its people.")
    return organisation


@dataclass
class PeoplePage:
    organisation: Organisation
    people: list[User] = field(default_factory=list)


def organisation_people(actor, key: str) -> PeoplePage:
    """Everyone with an account at the organisation, active first, for its school lead."""
    organisation = _lead_organisation(actor, key)
    people = list(
        db.session.scalars(
            select(User)
            .where(User.organisation_id == organisation.id)
            .order_by(User.active.desc(), func.lower(User.name), User.id)
            .options(selectinload(User.expert_profile))
        )
    )
    return PeoplePage(organisation=organisation, people=people)


def member_for_edit(actor, key: str, user_id: int) -> tuple[Organisation, User]:
    organisation = _lead_organisation(actor, key)
    person = _get_user(user_id)
    if person.organisation_id != organisation.id:
        raise NotFound("That person is not at this organisation.")
    if person.role not in SCHOOL_ROLES:
        # A coordinator or administrator attached to a school is managed by an administrator.
        raise NotAllowed("Coordinator and administrator accounts are managed by an administrator.")
    return organisation, person


def _active_leads(organisation_id: int) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.organisation_id == organisation_id, User.role == "school_lead", User.active.is_(True)
        )
    ) or 0


def update_member(actor, key: str, user_id: int, data: dict) -> User:
    """Change a person's name, job title, phone and role within the school."""
    organisation, person = member_for_edit(actor, key, user_id)
    name = _text(data, "name", 120, "Name", required="Enter the person's name.")
    job_title = _text(data, "job_title", 120, "Job title") or None
    phone = _text(data, "phone", 40, "Phone number") or None
    role = data.get("role", person.role)
    if role not in SCHOOL_ROLES:
        raise Invalid("Choose a role from the list.", field="role")
    if person.role == "school_lead" and role != "school_lead" and person.active and _active_leads(organisation.id) <= 1:
        raise Invalid(
            "You are the only active school lead. Make someone else a school lead before changing your own role."
            if person.id == actor.id
            else "This is the only active school lead. Make someone else a school lead first.",
            field="role",
        )
    old_role = person.role
    person.name, person.job_title, person.phone = name, job_title, phone
    if role != old_role:
        person.role = role
        if person.id != actor.id:
            # End the person's sessions so they sign in again with their new rights.
            person.session_version += 1
    db.session.flush()
    audit.record(actor, "user.update", person, organisation_id=organisation.id, role_from=old_role, role_to=role)
    return person


def set_member_active(actor, key: str, user_id: int, active: bool) -> User:
    """Deactivate (sign-in stops at once) or reactivate a person's account."""
    organisation, person = member_for_edit(actor, key, user_id)
    active = bool(active)
    if person.active == active:
        return person
    if not active:
        if person.id == actor.id:
            raise Invalid("You cannot deactivate your own account. Ask another school lead or a coordinator.")
        if person.role == "school_lead" and _active_leads(organisation.id) <= 1:
            raise Invalid("This is the only active school lead. Make someone else a school lead first.")
        person.session_version += 1
    person.active = active
    db.session.flush()
    audit.record(actor, "user.reactivate" if active else "user.deactivate", person, organisation_id=organisation.id)
    return person
