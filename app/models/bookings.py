"""Bookings (take-up of an offer), waiting lists, in-app notifications and scheme settings."""
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

BOOKING_STATUSES = {
    "requested": "Requested",
    "confirmed": "Confirmed",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "no_show": "Did not attend",
}
# Bookings in these states take up places on their session.
OCCUPYING_STATUSES = ("requested", "confirmed", "delivered", "no_show")
# What happens to held credits on a late cancellation or a no-show.
POLICIES = {
    "refund": "Refund the booking school",
    "forfeit_provider": "Pay the provider",
    "forfeit_scheme": "Return the credits to the scheme",
}


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("status IN ('requested','confirmed','delivered','cancelled','no_show')", name="status_known"),
        CheckConstraint("places >= 1", name="places_positive"),
        CheckConstraint("days IS NULL OR days >= 1", name="days_positive"),
        CheckConstraint("credits >= 0", name="credits_non_negative"),
        CheckConstraint("attended IS NULL OR attended >= 0", name="attended_non_negative"),
        Index("ix_bookings_session_id_status", "session_id", "status"),
        Index("ix_bookings_organisation_id_status", "organisation_id", "status"),
        Index("ix_bookings_offer_id_status", "offer_id", "status"),
        Index("uq_bookings_request_key", "request_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="RESTRICT"))
    # Null for bespoke support, which is agreed in days rather than places on a session.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("offer_sessions.id", ondelete="RESTRICT"))
    # The receiving school: relationships belong to organisations, not to people.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="requested")
    places: Mapped[int] = mapped_column(Integer, default=1)
    days: Mapped[int | None] = mapped_column(Integer)
    objectives: Mapped[str | None] = mapped_column(Text)
    review_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    # Credits held at confirmation (the price then), so later price changes do not matter.
    credits: Mapped[int] = mapped_column(Integer, default=0)
    attended: Mapped[int | None] = mapped_column(Integer)
    outcome_policy: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column()
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    delivered_at: Mapped[datetime | None] = mapped_column()
    delivered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    # The one-time key of the form that asked for it: a double-submitted form books once.
    request_key: Mapped[str | None] = mapped_column(String(64))

    offer: Mapped["Offer"] = relationship()  # noqa: F821
    session: Mapped["OfferSession | None"] = relationship()  # noqa: F821
    organisation: Mapped["Organisation"] = relationship()  # noqa: F821
    requested_by: Mapped["User | None"] = relationship(foreign_keys=[requested_by_id])  # noqa: F821
    confirmed_by: Mapped["User | None"] = relationship(foreign_keys=[confirmed_by_id])  # noqa: F821
    delivered_by: Mapped["User | None"] = relationship(foreign_keys=[delivered_by_id])  # noqa: F821
    cancelled_by: Mapped["User | None"] = relationship(foreign_keys=[cancelled_by_id])  # noqa: F821

    @property
    def status_label(self) -> str:
        return BOOKING_STATUSES.get(self.status, self.status)


class WaitlistEntry(db.Model):
    """A school waiting for a place on a full session; offered a released place for a limited time."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("status IN ('waiting','offered','accepted','expired','withdrawn')", name="status_known"),
        CheckConstraint("places >= 1", name="places_positive"),
        Index("ix_waitlist_entries_session_id_status", "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("offer_sessions.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    places: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column()
    offer_expires_at: Mapped[datetime | None] = mapped_column()
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))

    session: Mapped["OfferSession"] = relationship()  # noqa: F821
    organisation: Mapped["Organisation"] = relationship()  # noqa: F821
    requested_by: Mapped["User | None"] = relationship()  # noqa: F821


class Notification(db.Model):
    """An in-app notification (the same news also goes by email)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(300))
    # Makes "send each reminder once" hold even when the sender runs twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(150), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()

    user: Mapped["User"] = relationship()  # noqa: F821


class Setting(db.Model):
    """Scheme settings a coordinator or admin changes (policies, allocation bands)."""

    __tablename__ = "settings"
    __table_args__ = (UniqueConstraint("key", name="uq_settings_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    value: Mapped[dict | list | str | int | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
