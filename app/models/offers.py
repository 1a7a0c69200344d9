"""Offers (what an organisation makes available), their sessions, and their facet terms."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

OFFER_STATUSES = ("draft", "published", "paused", "archived")
# How an offer is taken up: places on dated sessions, or bespoke support agreed in days.
BOOKING_MODES = {"sessions": "Places on dated sessions", "bespoke": "Bespoke support, agreed in days"}
PRICE_UNITS = {"place": "per place", "day": "per day"}
# An offer not confirmed as current for this long is labelled stale.
STALE_AFTER_DAYS = 365

offer_terms = Table(
    "offer_terms",
    db.metadata,
    Column("offer_id", ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("facet_terms.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_offer_terms_term_id_offer_id", "term_id", "offer_id"),
)


class Offer(db.Model):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("status IN ('draft','published','paused','archived')", name="status_known"),
        CheckConstraint("booking_mode IN ('sessions','bespoke')", name="booking_mode_known"),
        CheckConstraint("price_unit IN ('place','day')", name="price_unit_known"),
        CheckConstraint("price_credits >= 0", name="price_non_negative"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("cancellation_days >= 0", name="cancellation_days_non_negative"),
        Index("ix_offers_status_category_id", "status", "category_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered by |md
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    booking_mode: Mapped[str] = mapped_column(String(10), default="sessions")
    price_credits: Mapped[int] = mapped_column(Integer, default=0)
    price_unit: Mapped[str] = mapped_column(String(10), default="place")
    # Places per session by default (sessions), or days available a term (bespoke).
    capacity: Mapped[int | None] = mapped_column(Integer)
    # Cancelling later than this many days before a session is a late cancellation.
    cancellation_days: Mapped[int] = mapped_column(Integer, default=7)
    # Where it happens; copied from the provider's site when the offer is created.
    location_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(10))
    easting: Mapped[int | None] = mapped_column(Integer)
    northing: Mapped[int | None] = mapped_column(Integer)
    contact_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    assured_on: Mapped[date | None] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)

    organisation: Mapped["Organisation"] = relationship()  # noqa: F821
    category: Mapped["Category"] = relationship()  # noqa: F821
    contact: Mapped["User | None"] = relationship(foreign_keys=[contact_user_id])  # noqa: F821
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    terms: Mapped[list["FacetTerm"]] = relationship(secondary=offer_terms, order_by="FacetTerm.position")  # noqa: F821
    sessions: Mapped[list["OfferSession"]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferSession.starts_at"
    )

    def terms_for(self, facet: str) -> list:
        return [term for term in self.terms if term.facet == facet]

    def is_stale(self, today: date) -> bool:
        return self.assured_on is None or (today - self.assured_on).days > STALE_AFTER_DAYS

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.title!r}>"


class OfferSession(db.Model):
    __tablename__ = "offer_sessions"
    __table_args__ = (
        CheckConstraint("places > 0", name="places_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_offer_sessions_offer_id_starts_at", "offer_id", "starts_at"),
        Index("ix_offer_sessions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    places: Mapped[int] = mapped_column(Integer)
    # Shown only to schools with a confirmed booking.
    joining_link: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(200))
    # Sessions created together as a series share a key (e.g. six twilights).
    series_key: Mapped[str | None] = mapped_column(String(36), index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column()

    offer: Mapped[Offer] = relationship(back_populates="sessions")
