"""Verified peer feedback on delivered bookings, its moderation and the impact follow-up."""
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

OBJECTIVES_MET = {"yes": "Yes", "partly": "Partly", "no": "No"}


class Feedback(db.Model):
    """One per delivered booking, by the receiving school; the provider may reply once."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("objectives_met IN ('yes','partly','no')", name="objectives_met_known"),
        CheckConstraint("quality BETWEEN 1 AND 5", name="quality_range"),
        CheckConstraint("impact BETWEEN 1 AND 5", name="impact_range"),
        Index("ix_feedback_offer_id_hidden_at", "offer_id", "hidden_at"),
        Index("ix_feedback_provider_id_hidden_at", "provider_id", "hidden_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: once per booking, enforced by the database as well as the service.
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="RESTRICT"), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="RESTRICT"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    objectives_met: Mapped[str] = mapped_column(String(6))
    quality: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    would_recommend: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text)  # Markdown, rendered by |md
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reply: Mapped[str | None] = mapped_column(Text)  # Markdown, rendered by |md
    replied_at: Mapped[datetime | None] = mapped_column()
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    reported_at: Mapped[datetime | None] = mapped_column()
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    report_reason: Mapped[str | None] = mapped_column(Text)

    # Hidden items stay in the database (and the moderation log); aggregates ignore them.
    hidden_at: Mapped[datetime | None] = mapped_column()
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    booking: Mapped["Booking"] = relationship()  # noqa: F821
    offer: Mapped["Offer"] = relationship()  # noqa: F821
    provider: Mapped["Organisation"] = relationship(foreign_keys=[provider_id])  # noqa: F821
    organisation: Mapped["Organisation"] = relationship(foreign_keys=[organisation_id])  # noqa: F821
    author: Mapped["User | None"] = relationship(foreign_keys=[author_id])  # noqa: F821
    replied_by: Mapped["User | None"] = relationship(foreign_keys=[replied_by_id])  # noqa: F821
    moderation: Mapped[list["ModerationEvent"]] = relationship(
        back_populates="feedback", order_by="ModerationEvent.id", cascade="all, delete-orphan"
    )

    @property
    def objectives_label(self) -> str:
        return OBJECTIVES_MET.get(self.objectives_met, self.objectives_met)


class ModerationEvent(db.Model):
    """A coordinator hid or restored an item: the reason is shown to its author and the provider."""

    __tablename__ = "feedback_moderation"
    __table_args__ = (CheckConstraint("action IN ('hide','unhide')", name="action_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(6))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    feedback: Mapped[Feedback] = relationship(back_populates="moderation")
    actor: Mapped["User | None"] = relationship()  # noqa: F821


class ImpactFollowUp(db.Model):
    """Eight weeks on, the receiving school says what changed. One per booking."""

    __tablename__ = "impact_follow_ups"
    __table_args__ = (CheckConstraint("impact BETWEEN 1 AND 5", name="impact_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="RESTRICT"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    what_changed: Mapped[str] = mapped_column(Text)  # Markdown, rendered by |md
    impact: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    booking: Mapped["Booking"] = relationship()  # noqa: F821
    author: Mapped["User | None"] = relationship()  # noqa: F821


class QualityScore(db.Model):
    """Cached feedback aggregates for one offer or one provider (subject 'offer' or 'provider').

    Recomputed by app.services.feedback in the same transaction as any change to the
    feedback it summarises (new, hidden, restored), so it is never out of step.
    """

    __tablename__ = "quality_scores"
    __table_args__ = (
        CheckConstraint("subject IN ('offer','provider')", name="subject_known"),
        Index("uq_quality_scores_subject_subject_id", "subject", "subject_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
    quality_mean: Mapped[float | None] = mapped_column(Float)  # shrunk
    impact_mean: Mapped[float | None] = mapped_column(Float)  # shrunk
    objectives_mean: Mapped[float | None] = mapped_column(Float)  # shrunk, yes=1 partly=0.5 no=0
    recommend_share: Mapped[float | None] = mapped_column(Float)  # raw share
    score: Mapped[float | None] = mapped_column(Float)  # the one number "best rated" sorts by
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
