"""Accounts: sign-in with throttling kept in the database, password reset, invitations,
profiles, roles and the admin user list.

Tokens (reset links, invitations) are random and only their SHA-256 is stored, so a copy of
the database holds no usable link.
"""
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db, read_phase
from app.models import Invitation, LoginAttempt, Organisation, PasswordResetToken, User
from app.models.base import utcnow
from app.models.people import ROLES
from app.services import audit, passwords
from app.services.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from app.services.paging import Page

# Roles that belong to a school (or other organisation) and so need one.
SCHOOL_ROLES = ("teacher", "governor", "school_lead")
INVITER_ROLES = frozenset({"school_lead", "coordinator", "admin"})
MAX_EMAIL = 254
# Outstanding reset links per account: stops a stranger filling someone's inbox.
MAX_OPEN_RESET_TOKENS = 3

WRONG_CREDENTIALS = "The email address or password is not right. Check them and try again."
INACTIVE_ACCOUNT = (
    "This account has been switched off. Ask your school lead or the partnership coordinator "
    "if you need it again."
)


class TooManyAttempts(DomainError):
    status_code = 429

    def __init__(self, minutes: int):
        self.minutes = minutes
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"Too many failed sign-in attempts. Try again in about {minutes} {unit}.")


class LinkInvalid(DomainError):
    """A reset or invitation link that is unknown, expired, used or revoked."""

    status_code = 400
    default_message = "This link has expired or was already used."


# --- helpers -----------------------------------------------------------------------------


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()[:MAX_EMAIL]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def find_user_by_email(email: str) -> User | None:
    email = normalise_email(email)
    if not email:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == email))


def _config(key: str, default):
    return current_app.config.get(key, default)


def _check_password(password: str, *, email: str, name: str | None, field: str) -> None:
    problem = passwords.password_problem(password or "", email=email, name=name)
    if problem:
        raise Invalid(problem, field=field)


def _bump_sessions(user: User) -> None:
    user.session_version = (user.session_version or 0) + 1


# --- sign in -----------------------------------------------------------------------------


@dataclass
class SignInResult:
    user: User | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None and self.problem is None


def throttle_wait(email: str, ip: str, now: datetime) -> int | None:
    """Minutes until this account and address may try again, or None if they may now.

    The account count starts after its last successful sign-in (a person who gets in is not
    still under attack); the address count does not, so one good account cannot reset it.
    """
    window = timedelta(minutes=_config("LOGIN_WINDOW_MINUTES", 15))
    since = now - window
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, LoginAttempt.success.is_(True), LoginAttempt.at >= since
        )
    )
    checks = (
        (LoginAttempt.email == email, last_success, _config("LOGIN_MAX_FAILURES_PER_ACCOUNT", 10)),
        (LoginAttempt.ip == ip, None, _config("LOGIN_MAX_FAILURES_PER_IP", 50)),
    )
    waits = []
    for condition, after, limit in checks:
        if not limit or limit <= 0:
            continue
        query = select(LoginAttempt.at).where(condition, LoginAttempt.success.is_(False), LoginAttempt.at >= since)
        if after is not None:
            query = query.where(LoginAttempt.at > after)
        recent = db.session.scalars(query.order_by(LoginAttempt.at.desc()).limit(limit)).all()
        if len(recent) >= limit:
            # Allowed again once the limit-th most recent failure leaves the window.
            waits.append(recent[limit - 1] + window - now)
    if not waits:
        return None
    seconds = max(w.total_seconds() for w in waits)
    return max(1, math.ceil(seconds / 60))


def sign_in(email: str, password: str, ip: str | None, *, now: datetime | None = None) -> SignInResult:
    """Check a sign-in. Every attempt that reaches the password check is recorded.

    Throttled attempts raise TooManyAttempts before any hashing and are not recorded, so
    hammering a locked account does not extend its lock for ever (a soft lock, ASVS 2.2.1).
    """
    now = now or utcnow()
    email = normalise_email(email)
    ip = (ip or "unknown")[:64]
    # Read first and hash outside any transaction: on SQLite a writing request holds the
    # database's one write lock from its first query, and nobody could book meanwhile.
    with read_phase():
        wait = throttle_wait(email, ip, now)
        if wait is not None:
            raise TooManyAttempts(wait)
        user = find_user_by_email(email)
        stored_hash = user.password_hash if user else None
    # verify_password hashes even without a user, so unknown addresses take as long.
    correct = passwords.verify_password(stored_hash, password or "")
    success = bool(correct and user is not None and user.active)
    db.session.add(LoginAttempt(email=email, ip=ip, at=now, success=success))
    if not correct or user is None:
        return SignInResult(None, WRONG_CREDENTIALS)
    if not user.active:
        # Only said to someone who knows the password, so it reveals nothing to a guesser.
        return SignInResult(None, INACTIVE_ACCOUNT)

    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now
    audit.record(user, "user.sign_in", user, ip=ip)
    return SignInResult(user)


def sign_out(user: User) -> User:
    """Signing out ends every copy of the session (a signed cookie cannot be revoked otherwise)."""
    _bump_sessions(user)
    audit.record(user, "user.sign_out", user)
    return user


def end_other_sessions(user: User) -> User:
    """Bump the session version; the caller signs the current session in again."""
    _bump_sessions(user)
    audit.record(user, "user.sessions_ended", user)
    return user


# --- password reset ----------------------------------------------------------------------


def request_password_reset(email: str, *, now: datetime | None = None) -> tuple[User, str] | None:
    """Create a one-time reset token for an active account, or return None (and say nothing)."""
    now = now or utcnow()
    user = find_user_by_email(email)
    if user is None or not user.active:
        return None
    open_tokens = db.session.scalar(
        select(func.count()).select_from(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
    )
    if open_tokens >= MAX_OPEN_RESET_TOKENS:
        return None
    raw, digest = _new_token()
    minutes = _config("RESET_TOKEN_MINUTES", 60)
    db.session.add(
        PasswordResetToken(user_id=user.id, token_hash=digest, created_at=now, expires_at=now + timedelta(minutes=minutes))
    )
    audit.record(None, "user.password_reset_requested", user)
    return user, raw


def _reset_token(raw: str | None, now: datetime) -> PasswordResetToken:
    if not raw or len(raw) > 200:
        raise LinkInvalid()
    token = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(raw)))
    if token is None or token.used_at is not None or token.expires_at <= now or not token.user.active:
        raise LinkInvalid()
    return token


def check_reset_token(raw: str | None, *, now: datetime | None = None) -> User:
    return _reset_token(raw, now or utcnow()).user


def reset_password(raw: str | None, new_password: str, *, now: datetime | None = None) -> User:
    now = now or utcnow()
    token = _reset_token(raw, now)
    user = token.user
    _check_password(new_password, email=user.email, name=user.name, field="password")
    # A guarded update: of two requests racing with the same link only one wins.
    used = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise LinkInvalid()
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    user.password_hash = passwords.hash_password(new_password)
    _bump_sessions(user)
    audit.record(user, "user.password_reset", user)
    db.session.flush()
    return user


# --- invitations -------------------------------------------------------------------------


def invite_roles(actor: User) -> list[str]:
    """The roles this person may give in an invitation (empty: may not invite)."""
    if actor is None or not actor.active:
        return []
    if actor.role == "admin":
        return list(ROLES)
    if actor.role == "coordinator":
        return [role for role in ROLES if role != "admin"]
    if actor.role == "school_lead" and actor.organisation_id is not None:
        return list(SCHOOL_ROLES)
    return []


def can_invite(actor: User) -> bool:
    return bool(invite_roles(actor))


def invite_organisations(actor: User) -> list[Organisation]:
    """Organisations this person may invite people into."""
    if actor.role in ("admin", "coordinator"):
        return list(db.session.scalars(select(Organisation).order_by(Organisation.name, Organisation.id)))
    if actor.role == "school_lead" and actor.organisation is not None:
        return [actor.organisation]
    return []


def validate_email_address(email: str | None, *, field: str = "email") -> str:
    text = (email or "").strip()
    if not text:
        raise Invalid("Enter an email address.", field=field)
    try:
        checked = validate_email(
            text,
            check_deliverability=False,
            # .test addresses (demo data, tests) are only accepted in testing and debug.
            test_environment=bool(current_app.testing or current_app.debug),
        )
    except EmailNotValidError as error:
        raise Invalid(f"Enter an email address in the right format, like name@school.org.uk. {error}", field=field) from None
    normalised = checked.normalized.lower()
    if len(normalised) > MAX_EMAIL:
        raise Invalid("That email address is too long.", field=field)
    return normalised


def _pending_invitation(email: str, now: datetime) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(
            func.lower(Invitation.email) == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )


def create_invitation(
    actor: User,
    email: str,
    name: str | None,
    role: str,
    organisation_id: int | None,
    *,
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """Invite someone by email. Returns the invitation and the raw token for the link."""
    now = now or utcnow()
    allowed = invite_roles(actor)
    if not allowed:
        raise NotAllowed("Only school leads, coordinators and administrators can invite people.")
    if role not in ROLES:
        raise Invalid("Choose a role from the list.", field="role")
    if role not in allowed:
        raise NotAllowed(f"You cannot invite someone as {ROLES[role].lower()}.")

    organisation = None
    if organisation_id:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise Invalid("That organisation does not exist.", field="organisation_id")
    if actor.role == "school_lead":
        if organisation is None:
            organisation = actor.organisation
        elif organisation.id != actor.organisation_id:
            raise NotAllowed("School leads can only invite people to their own school.")
    if role in SCHOOL_ROLES and organisation is None:
        raise Invalid("Choose the school or organisation they will belong to.", field="organisation_id")

    email = validate_email_address(email)
    if find_user_by_email(email) is not None:
        raise Conflict("There is already an account with that email address.", field="email")
    if _pending_invitation(email, now) is not None:
        raise Conflict(
            "That email address has already been invited and the invitation has not expired. "
            "Revoke it first if you need to send a new one.",
            field="email",
        )

    raw, digest = _new_token()
    invitation = Invitation(
        email=email,
        name=(name or "").strip()[:120],
        role=role,
        organisation_id=organisation.id if organisation is not None else None,
        token_hash=digest,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=_config("INVITATION_DAYS", 14)),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor, "invitation.create", invitation, email=email, role=role, organisation_id=invitation.organisation_id)
    return invitation, raw


def _can_manage_invitation(actor: User, invitation: Invitation) -> bool:
    if actor.role == "admin":
        return True
    if actor.role == "coordinator":
        return invitation.role != "admin"
    if actor.role == "school_lead":
        return (
            actor.organisation_id is not None
            and invitation.organisation_id == actor.organisation_id
            and invitation.role in SCHOOL_ROLES
        )
    return False


def pending_invitations(actor: User, *, now: datetime | None = None) -> list[Invitation]:
    now = now or utcnow()
    if not can_invite(actor):
        raise NotAllowed("Only school leads, coordinators and administrators can see invitations.")
    query = (
        select(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .options(selectinload(Invitation.organisation), selectinload(Invitation.invited_by))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    if actor.role == "school_lead":
        query = query.where(Invitation.organisation_id == actor.organisation_id, Invitation.role.in_(SCHOOL_ROLES))
    elif actor.role == "coordinator":
        query = query.where(Invitation.role != "admin")
    return list(db.session.scalars(query))


def revoke_invitation(actor: User, invitation_id: int, *, now: datetime | None = None) -> Invitation:
    now = now or utcnow()
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("That invitation could not be found.")
    if not _can_manage_invitation(actor, invitation):
        raise NotAllowed("You cannot revoke that invitation.")
    if invitation.accepted_at is not None:
        raise Conflict("That invitation has already been accepted.")
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        audit.record(actor, "invitation.revoke", invitation, email=invitation.email)
    return invitation


def invitation_for_token(raw: str | None, *, now: datetime | None = None) -> Invitation:
    now = now or utcnow()
    if not raw or len(raw) > 200:
        raise LinkInvalid()
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(raw)))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        raise LinkInvalid()
    return invitation


def accept_invitation(raw: str | None, name: str, password: str, *, now: datetime | None = None) -> User:
    """Create the invited person's account (role and organisation from the invitation)."""
    now = now or utcnow()
    invitation = invitation_for_token(raw, now=now)
    name = (name or "").strip()
    if not name:
        raise Invalid("Enter your name.", field="name")
    if len(name) > 120:
        raise Invalid("Use at most 120 characters for your name.", field="name")
    _check_password(password, email=invitation.email, name=name, field="password")
    if find_user_by_email(invitation.email) is not None:
        raise LinkInvalid(
            "There is already an account for this email address. Sign in, or reset your password if you have forgotten it."
        )
    accepted = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if accepted.rowcount != 1:
        raise LinkInvalid()
    user = User(
        email=invitation.email,
        name=name,
        role=invitation.role,
        organisation_id=invitation.organisation_id,
        password_hash=passwords.hash_password(password),
        session_version=1,
        active=True,
        created_at=now,
        last_login_at=now,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(user, "invitation.accept", invitation, user_id=user.id, role=user.role)
    return user


# --- your own account --------------------------------------------------------------------


def update_profile(user: User, *, name: str, job_title: str | None, phone: str | None) -> User:
    name = (name or "").strip()
    if not name:
        raise Invalid("Enter your name.", field="name")
    user.name = name[:120]
    user.job_title = (job_title or "").strip()[:120] or None
    user.phone = (phone or "").strip()[:40] or None
    audit.record(user, "user.profile_update", user)
    return user


def change_password(user: User, current_password: str, new_password: str) -> User:
    """Change the password and end every session; the caller signs this one in again."""
    if not passwords.verify_password(user.password_hash, current_password or ""):
        raise Invalid("Your current password is not right.", field="current_password")
    _check_password(new_password, email=user.email, name=user.name, field="new_password")
    if new_password == current_password:
        raise Invalid("Choose a new password that is different from your current one.", field="new_password")
    user.password_hash = passwords.hash_password(new_password)
    _bump_sessions(user)
    audit.record(user, "user.password_change", user)
    return user


# --- administration of users -------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _users_query(role: str | None, organisation: str | None, q: str | None):
    query = select(User).outerjoin(Organisation, User.organisation_id == Organisation.id)
    if role:
        if role not in ROLES:
            raise Invalid("Choose a role from the list.", field="role")
        query = query.where(User.role == role)
    organisation = (organisation or "").strip()[:200]
    if organisation:
        query = query.where(Organisation.name.ilike(_like(organisation), escape="\\"))
    q = (q or "").strip()[:200]
    if q:
        pattern = _like(q)
        query = query.where(or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\")))
    return query


def list_users(
    *, role: str | None = None, organisation: str | None = None, q: str | None = None, page: int = 1, per_page: int = 50
) -> Page:
    query = _users_query(role, organisation, q)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(
        query.options(selectinload(User.organisation))
        .order_by(func.lower(User.name), User.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page(items=list(rows), total=total, page=page, per_page=per_page)


def export_users(*, role: str | None = None, organisation: str | None = None, q: str | None = None) -> list[User]:
    query = _users_query(role, organisation, q)
    return list(db.session.scalars(query.options(selectinload(User.organisation)).order_by(func.lower(User.name), User.id)))


def user_counts() -> dict:
    rows = db.session.execute(select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)).all()
    counts = {role: 0 for role in ROLES}
    counts.update({role: count for role, count in rows})
    now = utcnow()
    pending = db.session.scalar(
        select(func.count()).select_from(Invitation).where(
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now
        )
    )
    inactive = db.session.scalar(select(func.count()).select_from(User).where(User.active.is_(False)))
    return {"by_role": counts, "pending_invitations": pending or 0, "inactive": inactive or 0}


def assignable_roles(actor: User) -> list[str]:
    """Roles this person may give to someone else from the admin pages."""
    if actor.role == "admin":
        return list(ROLES)
    if actor.role == "coordinator":
        return [role for role in ROLES if role != "admin"]
    return []


def can_manage_user(actor: User, target: User) -> bool:
    """Coordinators manage everyone but admins; admins manage everyone; nobody manages themself."""
    if actor.id == target.id or actor.role not in ("admin", "coordinator"):
        return False
    return actor.role == "admin" or target.role != "admin"


def _managed_user(actor: User, user_id: int) -> User:
    if actor is None or actor.role not in ("admin", "coordinator"):
        raise NotAllowed("Only coordinators and administrators can manage users.")
    target = db.session.get(User, user_id)
    if target is None:
        raise NotFound("That user could not be found.")
    if target.id == actor.id:
        raise NotAllowed("You cannot change your own role or switch off your own account. Ask another administrator.")
    if target.role == "admin" and actor.role != "admin":
        raise NotAllowed("Only an administrator can change an administrator's account.")
    return target


def change_role(actor: User, user_id: int, role: str) -> User:
    target = _managed_user(actor, user_id)
    if role not in ROLES:
        raise Invalid("Choose a role from the list.", field="role")
    if role == "admin" and actor.role != "admin":
        raise NotAllowed("Only an administrator can make someone an administrator.")
    if role in SCHOOL_ROLES and target.organisation_id is None:
        raise Invalid(f"{target.name} does not belong to a school or organisation, so cannot be {ROLES[role].lower()}.", field="role")
    if target.role == role:
        return target
    previous = target.role
    target.role = role
    # Sessions carry permissions the person no longer has: end them.
    _bump_sessions(target)
    audit.record(actor, "user.role_change", target, previous=previous, role=role)
    return target


def set_active(actor: User, user_id: int, active: bool) -> User:
    target = _managed_user(actor, user_id)
    if target.active == active:
        return target
    target.active = active
    if not active:
        _bump_sessions(target)
    audit.record(actor, "user.reactivate" if active else "user.deactivate", target)
    return target
