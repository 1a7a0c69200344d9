"""Organisations (schools and other bodies), their school profiles, networks and memberships."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

# Kinds of organisation. Every kind can both give and receive support.
ORG_KINDS = {
    "school": "School",
    "teaching_school_hub": "Teaching school hub",
    "trust": "Trust / MAT",
    "diocese": "Diocese",
    "la_service": "Local authority service",
    "research_hub": "Research or subject hub",
    "provider": "National or private provider",
}

PHASES = {
    "nursery": "Nursery",
    "primary": "Primary",
    "middle": "Middle",
    "secondary": "Secondary",
    "all_through": "All-through",
    "special": "Special",
    "pru": "Alternative provision / PRU",
    "post16": "16 plus",
}

OFSTED_GRADES = ("Outstanding", "Good", "Requires improvement", "Inadequate", "Not yet inspected")
URBAN_RURAL = ("urban", "rural")
SCHOOL_STATUSES = ("open", "closed", "proposed to close", "proposed to open")

NETWORK_KINDS = {
    "cluster": "Cluster",
    "tsa": "Teaching school alliance",
    "mat": "Multi-academy trust",
    "federation": "Federation",
    "diocese": "Diocese",
    "send": "SEND network",
    "behaviour": "Behaviour partnership",
    "subject_hub": "Subject hub",
    "strategic": "Strategic partnership",
}

MEMBERSHIP_ROLES = ("lead", "member")


class Organisation(db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('school','teaching_school_hub','trust','diocese','la_service','research_hub','provider')",
            name="kind_known",
        ),
        Index("ix_organisations_la_code_name", "la_code", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(10))
    # Where the organisation is: every kind has a site that distances are measured from.
    easting: Mapped[int | None] = mapped_column(Integer)
    northing: Mapped[int | None] = mapped_column(Integer)
    la_code: Mapped[str | None] = mapped_column(String(8))
    la_name: Mapped[str | None] = mapped_column(String(100))
    is_member: Mapped[bool] = mapped_column(default=True)
    # Secret for the school's iCalendar feed (/calendar/<token>.ics); the lead can regenerate it.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    school: Mapped["SchoolProfile | None"] = relationship(
        back_populates="organisation", uselist=False, cascade="all, delete-orphan"
    )
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )
    users: Mapped[list["User"]] = relationship(back_populates="organisation")  # noqa: F821

    @property
    def kind_label(self) -> str:
        return ORG_KINDS.get(self.kind, self.kind)

    @property
    def directory_key(self) -> str:
        """The key used in /directory/<urn or slug>."""
        if self.school is not None and self.school.urn:
            return str(self.school.urn)
        return self.slug

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class SchoolProfile(db.Model):
    """School facts from GIAS, 1:1 with an organisation of kind 'school'."""

    __tablename__ = "school_profiles"
    __table_args__ = (
        CheckConstraint("pupils IS NULL OR pupils >= 0", name="pupils_non_negative"),
        CheckConstraint("urn IS NULL OR (urn >= 100000 AND urn <= 999999)", name="urn_six_digits"),
    )

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    urn: Mapped[int | None] = mapped_column(Integer, unique=True)
    phase: Mapped[str | None] = mapped_column(String(20), index=True)
    school_type: Mapped[str | None] = mapped_column(String(100))
    pupils: Mapped[int | None] = mapped_column(Integer)
    ofsted_grade: Mapped[str | None] = mapped_column(String(40))
    urban_rural: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(30), default="open")

    organisation: Mapped[Organisation] = relationship(back_populates="school")

    @property
    def phase_label(self) -> str:
        return PHASES.get(self.phase or "", self.phase or "")


class Network(db.Model):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    la_code: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="network", cascade="all, delete-orphan"
    )

    @property
    def kind_label(self) -> str:
        return NETWORK_KINDS.get(self.kind, self.kind)


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("network_id", "organisation_id", "start_date", name="uq_memberships_span"),
        CheckConstraint("role IN ('lead','member')", name="role_known"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        Index("ix_memberships_organisation_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10), default="member")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    network: Mapped[Network] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")

    def is_current(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or self.end_date >= on)
