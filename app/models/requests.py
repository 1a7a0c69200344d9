"""Support requests ("needs"): a school asks for help; providers respond; coordinators broker."""
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

REQUEST_STATUSES = ("draft", "published", "closed")
URGENCIES = {"low": "When convenient", "medium": "This term", "high": "Urgent"}
VISIBILITIES = {"partnership": "Everyone in the partnership", "coordinators": "Coordinators only"}
OUTCOMES = {
    "met_by_offer": "Met by support found here",
    "met_elsewhere": "Met elsewhere",
    "no_longer_needed": "No longer needed",
    "not_met": "Not met",
}

request_terms = Table(
    "request_terms",
    db.metadata,
    Column("request_id", ForeignKey("support_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("facet_terms.id", ondelete="CASCADE"), primary_key=True),
)


class SupportRequest(db.Model):
    __tablename__ = "support_requests"
    __table_args__ = (
        CheckConstraint("status IN ('draft','published','closed')", name="status_known"),
        CheckConstraint("visibility IN ('partnership','coordinators')", name="visibility_known"),
        CheckConstraint("urgency IN ('low','medium','high')", name="urgency_known"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('met_by_offer','met_elsewhere','no_longer_needed','not_met')",
            name="outcome_known",
        ),
        Index("ix_support_requests_status_visibility", "status", "visibility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    urgency: Mapped[str] = mapped_column(String(10), default="medium")
    visibility: Mapped[str] = mapped_column(String(12), default="partnership")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    published_at: Mapped[datetime | None] = mapped_column()
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped["Organisation"] = relationship()  # noqa: F821
    category: Mapped["Category | None"] = relationship()  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    published_by: Mapped["User | None"] = relationship(foreign_keys=[published_by_id])  # noqa: F821
    terms: Mapped[list["FacetTerm"]] = relationship(secondary=request_terms, order_by="FacetTerm.position")  # noqa: F821
    responses: Mapped[list["RequestResponse"]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestResponse.created_at"
    )
    brokerages: Mapped[list["Brokerage"]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="Brokerage.created_at"
    )


class RequestResponse(db.Model):
    """A provider's answer to a request: a message, optionally pointing at one of its offers."""

    __tablename__ = "request_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text)  # Markdown
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[SupportRequest] = relationship(back_populates="responses")
    organisation: Mapped["Organisation"] = relationship()  # noqa: F821
    author: Mapped["User | None"] = relationship()  # noqa: F821
    offer: Mapped["Offer | None"] = relationship()  # noqa: F821


class Brokerage(db.Model):
    """A coordinator linking a request to a provider or an offer (both are notified)."""

    __tablename__ = "brokerages"
    __table_args__ = (
        CheckConstraint("provider_organisation_id IS NOT NULL OR offer_id IS NOT NULL", name="links_something"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    provider_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[SupportRequest] = relationship(back_populates="brokerages")
    coordinator: Mapped["User | None"] = relationship()  # noqa: F821
    provider: Mapped["Organisation | None"] = relationship()  # noqa: F821
    offer: Mapped["Offer | None"] = relationship()  # noqa: F821
