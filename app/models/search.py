"""Search bookkeeping kept in the database: the outbox of changes still to be applied to the
search index, and the log of searches that found nothing (for the coordinators' coverage view).
The index itself belongs to the search backend (a Whoosh folder under instance/, or PostgreSQL
tables the backend creates and swaps), not to these models."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

SEARCH_KINDS = ("offer", "organisation", "expert", "request")


class SearchOutbox(db.Model):
    """One change to apply to the index, written in the same transaction as the change itself."""

    __tablename__ = "search_outbox"
    __table_args__ = (
        CheckConstraint("kind IN ('offer','organisation','expert','request')", name="kind_known"),
        Index("ix_search_outbox_kind_object_id", "kind", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    object_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A failed apply leaves the row for the next writer or `flask search sync`.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class SearchMiss(db.Model):
    """A search that found nothing: what was asked, with which filters, by whom, when."""

    __tablename__ = "search_misses"
    __table_args__ = (Index("ix_search_misses_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict | None] = mapped_column(JSON)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
