"""People: user accounts, expert profiles, invitations, reset tokens, sign-in attempts."""
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

ROLES = {
    "teacher": "Teacher",
    "governor": "Governor",
    "school_lead": "School lead",
    "coordinator": "Coordinator",
    "admin": "Administrator",
}
# Roles that see every coordinator view.
COORDINATOR_ROLES = frozenset({"coordinator", "admin"})
ROLE_CHECK = "role IN ('teacher','governor','school_lead','coordinator','admin')"


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="teacher")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    # Bumped on logout, password change and role change: sessions carrying an older
    # version stop working (a signed cookie cannot be revoked any other way).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()

    organisation: Mapped["Organisation | None"] = relationship(back_populates="users")  # noqa: F821
    expert_profile: Mapped["ExpertProfile | None"] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan"
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def is_coordinator(self) -> bool:
        return self.role in COORDINATOR_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


expert_designations = Table(
    "expert_designations",
    db.metadata,
    Column("expert_id", ForeignKey("expert_profiles.id", ondelete="CASCADE"), primary_key=True),
    Column("designation_id", ForeignKey("designations.id", ondelete="CASCADE"), primary_key=True),
)

expert_specialisms = Table(
    "expert_specialisms",
    db.metadata,
    Column("expert_id", ForeignKey("expert_profiles.id", ondelete="CASCADE"), primary_key=True),
    Column("specialism_id", ForeignKey("specialisms.id", ondelete="CASCADE"), primary_key=True),
)


class Designation(db.Model):
    """An editable list (NLE, LLE, SLE, NLG, lead practitioner, coach...), not an enum in code."""

    __tablename__ = "designations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    current: Mapped[bool] = mapped_column(Boolean, default=True)


class Specialism(db.Model):
    __tablename__ = "specialisms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class ExpertProfile(db.Model):
    __tablename__ = "expert_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    headline: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    availability: Mapped[str] = mapped_column(String(200), default="")
    # Days a term the expert can give to other schools (used by the overload view).
    capacity_days: Mapped[int | None] = mapped_column(Integer)
    public: Mapped[bool] = mapped_column(Boolean, default=True)

    user: Mapped[User] = relationship(back_populates="expert_profile")
    designations: Mapped[list[Designation]] = relationship(secondary=expert_designations, order_by="Designation.code")
    specialisms: Mapped[list[Specialism]] = relationship(secondary=expert_specialisms, order_by="Specialism.name")


class Invitation(db.Model):
    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    # Only a hash of the token is stored: a leaked database does not leak usable links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    organisation: Mapped["Organisation | None"] = relationship()  # noqa: F821
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class PasswordResetToken(db.Model):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """Sign-in attempts, kept in the database so throttling holds across workers and hosts."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
