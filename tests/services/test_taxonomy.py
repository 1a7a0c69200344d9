"""The seeded taxonomy: tree shape, facets, designations, idempotency and stable slugs."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Category, Designation, FacetTerm, Specialism
from app.models.organisations import PHASES
from app.models.taxonomy import FACETS
from app.services.taxonomy import FACET_VOCABULARIES, PHASE_FACET_FOR_SCHOOL_PHASE, seed_taxonomy

# Offers, imports and the Open Referral API refer to these by slug: changing one is a
# migration, not an edit, so this list changes only on purpose.
TOP_LEVEL_SLUGS = [
    "ite-early-career", "cpd-professional-learning", "leadership-succession", "school-to-school-support",
    "peer-review-qa", "governance", "data-analysis", "send-inclusion", "business-services",
    "research-innovation", "networks-events", "wellbeing-future",
]


@pytest.fixture
def seeded(app):
    seed_taxonomy()
    db.session.commit()


def _snapshot():
    """Every taxonomy row as plain tuples, to compare before and after."""
    return {
        model.__tablename__: db.session.execute(select(*model.__table__.columns).order_by(model.id)).all()
        for model in (Category, FacetTerm, Designation, Specialism)
    }


def test_tree_has_the_twelve_top_level_categories_in_order_each_with_children(seeded):
    tops = db.session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.position)).all()
    assert [c.slug for c in tops] == TOP_LEVEL_SLUGS
    for top in tops:
        assert len(top.children) >= 3, top.slug
        assert all(child.children == [] for child in top.children), "the tree has two levels"
    assert db.session.scalar(select(Category).where(Category.slug == "ect-induction")).parent.slug == "ite-early-career"
    assert db.session.scalar(select(Category).where(Category.slug == "send-outreach")).parent.slug == "send-inclusion"


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    assert seed_taxonomy() == {"categories": 0, "facet_terms": 0, "designations": 0, "specialisms": 0}
    db.session.commit()
    assert _snapshot() == before


def test_reseeding_keeps_edits_and_restores_only_what_is_missing(seeded):
    category = db.session.scalar(select(Category).where(Category.slug == "maths-mastery"))
    category.name = "Maths mastery (NCETM)"
    term = db.session.scalar(select(FacetTerm).where(FacetTerm.facet == "format", FacetTerm.slug == "course"))
    db.session.delete(term)
    db.session.commit()

    added = seed_taxonomy()
    db.session.commit()

    assert added["facet_terms"] == 1 and added["categories"] == 0
    assert db.session.scalar(select(Category.name).where(Category.slug == "maths-mastery")) == "Maths mastery (NCETM)"
    assert db.session.scalar(select(FacetTerm.label).where(FacetTerm.facet == "format", FacetTerm.slug == "course")) == "Course"


def test_every_facet_has_its_vocabulary(seeded):
    terms = {}
    for facet, slug in db.session.execute(select(FacetTerm.facet, FacetTerm.slug)):
        terms.setdefault(facet, set()).add(slug)
    assert set(terms) == set(FACETS)
    assert {"teacher", "middle-leader", "senior-leader", "head", "governor", "business-manager", "trainee",
            "teaching-assistant"} <= terms["audience"]
    assert {"course", "twilight-session", "network", "coaching", "mentoring", "placement-visit", "peer-review",
            "bespoke-support", "resource"} <= terms["format"]
    assert terms["delivery"] == {"in-person", "online", "hybrid"}
    assert {"primary", "secondary", "special"} <= terms["phase"]
    assert "twilight" in terms["time_of_day"]


def test_every_school_phase_maps_to_a_phase_facet_term():
    phase_terms = {slug for slug, _ in FACET_VOCABULARIES["phase"]}
    assert set(PHASE_FACET_FOR_SCHOOL_PHASE) == set(PHASES)
    assert set(PHASE_FACET_FOR_SCHOOL_PHASE.values()) <= phase_terms


def test_designations_are_rows_with_ast_no_longer_current(seeded):
    designations = {d.code: d for d in db.session.scalars(select(Designation))}
    assert {"NLE", "LLE", "SLE", "NLG", "LP", "COACH", "AST"} <= set(designations)
    assert designations["AST"].current is False
    assert all(d.current for code, d in designations.items() if code != "AST")
    assert db.session.scalar(select(func.count()).select_from(Specialism)) >= 30


def test_taxonomy_seed_command_is_idempotent(runner):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Category

    first = runner.invoke(args=["taxonomy", "seed"])
    assert first.exit_code == 0, first.output
    count = db.session.scalar(select(func.count()).select_from(Category))
    assert count > 12
    second = runner.invoke(args=["taxonomy", "seed"])
    assert second.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Category)) == count
