"""The editable taxonomy: a two-level category tree and facet vocabularies."""
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

FACETS = {
    "phase": "Phase",
    "subject": "Subject",
    "audience": "Audience",
    "format": "Format",
    "delivery": "Delivery",
    "time_of_day": "Time of day",
}


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped["Category | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Category"]] = relationship(back_populates="parent", order_by="Category.position")


class FacetTerm(db.Model):
    __tablename__ = "facet_terms"
    __table_args__ = (
        UniqueConstraint("facet", "slug", name="uq_facet_terms_facet_slug"),
        CheckConstraint(
            "facet IN ('phase','subject','audience','format','delivery','time_of_day')", name="facet_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facet: Mapped[str] = mapped_column(String(20), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
