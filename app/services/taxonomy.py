"""The seeded taxonomy: the category tree, facet vocabularies, designations and specialisms.

Everything here is an editable starting point, seeded once. Offers, requests, imports and
the Open Referral API refer to these rows by slug (or code), so a slug, once published,
never changes: rename the label in the database instead.
"""
from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import Category, Designation, FacetTerm, Specialism


@dataclass(frozen=True)
class Node:
    slug: str
    name: str
    description: str = ""
    children: tuple["Node", ...] = field(default=())


def _leaves(*pairs: tuple[str, str]) -> tuple[Node, ...]:
    return tuple(Node(slug, name) for slug, name in pairs)


# The twelve top-level areas come from the seeds' taxonomy of support (A–L); the
# subcategories are the kinds of support the seeds name under each.
CATEGORY_TREE: tuple[Node, ...] = (
    Node("ite-early-career", "ITE and early career",
         "Training new teachers and supporting them through their first years.",
         _leaves(
             ("initial-teacher-training", "Initial teacher training and placements"),
             ("school-led-training", "School-led training routes"),
             ("ect-induction", "ECF and ECT induction"),
             ("mentor-development", "Mentoring trainees and ECTs"),
             ("recruitment-retention", "Recruitment and retention"),
         )),
    Node("cpd-professional-learning", "CPD and professional learning",
         "Subject and pedagogy development, with a bias to joint practice over one-off courses.",
         _leaves(
             ("early-reading-phonics", "Early reading and phonics"),
             ("maths-mastery", "Maths mastery"),
             ("subject-knowledge", "Subject knowledge and pedagogy"),
             ("curriculum-development", "Curriculum development"),
             ("lesson-study", "Lesson study and joint practice development"),
             ("coaching-programmes", "Coaching programmes"),
             ("assessment", "Assessment and feedback"),
         )),
    Node("leadership-succession", "Leadership and succession",
         "Growing middle, senior and system leaders, and planning who leads next.",
         _leaves(
             ("npqs", "NPQs and leadership programmes"),
             ("middle-leadership", "Middle leadership"),
             ("new-heads", "Aspiring and new heads"),
             ("system-leadership", "Executive and system leadership"),
             ("succession-planning", "Succession planning"),
             ("leadership-coaching", "Coaching and mentoring for leaders"),
         )),
    Node("school-to-school-support", "School-to-school support",
         "Schools helping schools: system leaders, partner pairing and targeted support.",
         _leaves(
             ("system-leader-deployment", "NLE, LLE and SLE deployment"),
             ("interim-leadership", "Interim and executive headship"),
             ("targeted-improvement", "Targeted improvement support"),
             ("partner-pairing", "Pairing with a partner school"),
             ("transition", "Primary to secondary transition"),
             ("academy-conversion", "Academy conversion and trust growth"),
         )),
    Node("peer-review-qa", "Peer review and QA",
         "Peer review, health checks and self-evaluation that improve rather than prove.",
         _leaves(
             ("peer-review", "Peer review"),
             ("health-checks", "Inspection-style health checks"),
             ("self-evaluation", "Self-evaluation and action planning"),
             ("moderation", "Moderation"),
             ("external-challenge", "Commissioned external challenge"),
         )),
    Node("governance", "Governance",
         "Development and review for governors, trustees and clerks.",
         _leaves(
             ("governor-training", "Governor training and induction"),
             ("governance-reviews", "External reviews of governance"),
             ("chair-development", "Chairs and NLG support"),
             ("clerking", "Clerking"),
             ("trust-boards", "Trust boards and academy governance"),
         )),
    Node("data-analysis", "Data and analysis",
         "Making sense of performance data and benchmarking with similar schools.",
         _leaves(
             ("benchmarking", "Performance data and benchmarking"),
             ("data-for-leaders", "Data analysis for school leaders"),
             ("assessment-tracking", "Tracking and assessment systems"),
         )),
    Node("send-inclusion", "SEND, inclusion and vulnerable pupils",
         "Outreach, networks and practice for pupils who need more: the least-served area.",
         _leaves(
             ("send-outreach", "SEND outreach from special schools"),
             ("senco-support", "SENCO support and networks"),
             ("behaviour-support", "Behaviour support"),
             ("alternative-provision", "Alternative provision and managed moves"),
             ("pupil-premium", "Pupil premium and disadvantaged pupils"),
             ("looked-after-children", "Looked-after children"),
             ("pupil-mental-health", "Pupil mental health and resilience"),
             ("eal", "English as an additional language"),
             ("attendance", "Attendance"),
         )),
    Node("business-services", "Business services",
         "The running of a school: business management, finance, people and systems.",
         _leaves(
             ("school-business-management", "School business management"),
             ("finance-procurement", "Finance and procurement"),
             ("hr-people", "HR and people"),
             ("it-systems", "IT and digital systems"),
             ("data-protection", "Data protection"),
             ("premises", "Premises, health and safety"),
         )),
    Node("research-innovation", "Research and innovation",
         "Evidence-informed practice, enquiry and evaluating what made a difference.",
         _leaves(
             ("evidence-informed-practice", "Evidence-informed practice"),
             ("practitioner-enquiry", "Practitioner enquiry and action research"),
             ("innovation-projects", "Innovation projects"),
             ("impact-evaluation", "Evaluating impact"),
         )),
    Node("networks-events", "Networks and events",
         "Meetings, conferences and forums that keep schools in touch.",
         _leaves(
             ("network-meetings", "Network meetings"),
             ("headteacher-groups", "Headteacher groups"),
             ("subject-networks", "Subject networks"),
             ("conferences", "Conferences"),
             ("forums", "Forums and discussion groups"),
         )),
    Node("wellbeing-future", "Wellbeing and the future",
         "Staff and pupil wellbeing, future skills and the digital and parental links around a school.",
         _leaves(
             ("staff-wellbeing", "Staff wellbeing and workload"),
             ("personal-development", "Wellbeing and personal development"),
             ("future-skills", "Careers and future skills"),
             ("digital-learning", "Digital and online learning"),
             ("parental-engagement", "Parental engagement and pupil voice"),
             ("sustainability", "Sustainability and climate education"),
         )),
)

FACET_VOCABULARIES: dict[str, tuple[tuple[str, str], ...]] = {
    "phase": (
        ("early-years", "Early years"),
        ("primary", "Primary"),
        ("middle", "Middle"),
        ("secondary", "Secondary"),
        ("all-through", "All-through"),
        ("special", "Special"),
        ("alternative-provision", "Alternative provision"),
        ("post-16", "Post-16"),
    ),
    "subject": (
        ("english", "English"),
        ("reading-phonics", "Reading and phonics"),
        ("writing", "Writing"),
        ("oracy", "Oracy"),
        ("maths", "Maths"),
        ("science", "Science"),
        ("computing", "Computing"),
        ("history", "History"),
        ("geography", "Geography"),
        ("religious-education", "Religious education"),
        ("modern-languages", "Modern languages"),
        ("art-design", "Art and design"),
        ("design-technology", "Design and technology"),
        ("music", "Music"),
        ("drama", "Drama"),
        ("pe", "Physical education"),
        ("pshe-rshe", "PSHE and RSHE"),
        ("citizenship", "Citizenship"),
        ("business-economics", "Business and economics"),
        ("early-years-curriculum", "Early years curriculum"),
    ),
    "audience": (
        ("teacher", "Teacher"),
        ("early-career-teacher", "Early career teacher"),
        ("middle-leader", "Middle leader"),
        ("senior-leader", "Senior leader"),
        ("head", "Head"),
        ("governor", "Governor"),
        ("business-manager", "Business manager"),
        ("trainee", "Trainee"),
        ("teaching-assistant", "Teaching assistant"),
        ("senco", "SENCO"),
    ),
    "format": (
        ("course", "Course"),
        ("twilight-session", "Twilight session"),
        ("network", "Network"),
        ("coaching", "Coaching"),
        ("mentoring", "Mentoring"),
        ("placement-visit", "Placement or visit"),
        ("peer-review", "Peer review"),
        ("bespoke-support", "Bespoke support"),
        ("resource", "Resource"),
    ),
    "delivery": (
        ("in-person", "In person"),
        ("online", "Online"),
        ("hybrid", "Hybrid"),
    ),
    "time_of_day": (
        ("morning", "Morning"),
        ("afternoon", "Afternoon"),
        ("full-day", "Full day"),
        ("twilight", "Twilight (after school)"),
        ("evening", "Evening"),
        ("flexible", "Flexible or by arrangement"),
    ),
}

# A school's phase (SchoolProfile.phase) → the phase facet term that describes it, so
# "offers for a school like mine" can match offers by facet.
PHASE_FACET_FOR_SCHOOL_PHASE = {
    "nursery": "early-years",
    "primary": "primary",
    "middle": "middle",
    "secondary": "secondary",
    "all_through": "all-through",
    "special": "special",
    "pru": "alternative-provision",
    "post16": "post-16",
}

# (code, name, current). Designations come and go nationally (ASTs ended in 2013; LLEs
# and TSAs were replaced by hubs), so they are rows a coordinator edits, not an enum.
DESIGNATIONS: tuple[tuple[str, str, bool], ...] = (
    ("NLE", "National leader of education", True),
    ("LLE", "Local leader of education", True),
    ("SLE", "Specialist leader of education", True),
    ("NLG", "National leader of governance", True),
    ("LP", "Lead practitioner", True),
    ("COACH", "Accredited coach", True),
    ("MENTOR", "Accredited mentor (ITE and ECF)", True),
    ("MASTERY", "Maths mastery specialist", True),
    ("LITERACY", "English hub literacy specialist", True),
    ("EVIDENCE", "Research school evidence lead", True),
    ("REVIEWER", "Trained peer reviewer", True),
    ("AST", "Advanced skills teacher (former designation)", False),
)

SPECIALISMS: tuple[tuple[str, str], ...] = (
    ("early-reading-phonics", "Early reading and phonics"),
    ("maths-mastery", "Maths mastery"),
    ("primary-science", "Primary science"),
    ("secondary-english", "Secondary English"),
    ("secondary-maths", "Secondary maths"),
    ("secondary-science", "Secondary science"),
    ("computing", "Computing"),
    ("modern-languages", "Modern languages"),
    ("music", "Music"),
    ("pe-sport", "PE and school sport"),
    ("art-design", "Art and design"),
    ("humanities", "History and geography"),
    ("religious-education", "Religious education"),
    ("pshe-rshe", "PSHE and RSHE"),
    ("oracy", "Oracy"),
    ("eyfs", "Early years foundation stage"),
    ("year-6-transition", "Year 6 to 7 transition"),
    ("curriculum-design", "Curriculum design"),
    ("assessment", "Assessment"),
    ("behaviour", "Behaviour"),
    ("attendance", "Attendance"),
    ("send-inclusion", "SEND and inclusion"),
    ("autism", "Autism"),
    ("speech-language", "Speech, language and communication"),
    ("semh", "Social, emotional and mental health"),
    ("senco-practice", "SENCO practice"),
    ("pupil-premium", "Pupil premium and disadvantage"),
    ("looked-after-children", "Looked-after children"),
    ("eal", "English as an additional language"),
    ("more-able", "More able pupils"),
    ("staff-wellbeing", "Staff wellbeing and workload"),
    ("leadership-coaching", "Leadership coaching"),
    ("middle-leadership", "Middle leadership"),
    ("headship", "Headship and succession"),
    ("school-improvement", "School improvement planning"),
    ("peer-review", "Peer review"),
    ("self-evaluation", "Self-evaluation"),
    ("governance", "Governance"),
    ("school-business", "School business and finance"),
    ("hr", "HR and recruitment"),
    ("data-analysis", "Data analysis"),
    ("ite-mentoring", "ITE mentoring"),
    ("ect-induction", "ECT induction"),
    ("research-evidence", "Research and evidence"),
    ("digital-learning", "Digital learning"),
    ("parental-engagement", "Parental engagement"),
    ("small-schools", "Small and rural schools"),
    ("academy-conversion", "Academy conversion"),
    ("safeguarding", "Safeguarding"),
)


def seed_taxonomy() -> dict[str, int]:
    """Insert whatever part of the seeded taxonomy is missing; return how many rows were added.

    Existing rows are matched by slug (or code) and left alone, so running it again changes
    nothing and a coordinator's edits to names, order or descriptions survive a re-seed.
    """
    added = {
        "categories": _seed_categories(),
        "facet_terms": _seed_facet_terms(),
        "designations": _seed_designations(),
        "specialisms": _seed_specialisms(),
    }
    db.session.flush()
    return added


def _seed_categories() -> int:
    existing = {c.slug: c for c in db.session.scalars(select(Category))}
    added = 0
    for position, top in enumerate(CATEGORY_TREE):
        parent = existing.get(top.slug)
        if parent is None:
            parent = Category(slug=top.slug, name=top.name, description=top.description, position=position)
            db.session.add(parent)
            added += 1
        for child_position, child in enumerate(top.children):
            if child.slug in existing:
                continue
            db.session.add(
                Category(parent=parent, slug=child.slug, name=child.name,
                         description=child.description, position=child_position)
            )
            added += 1
    return added


def _seed_facet_terms() -> int:
    existing = set(db.session.execute(select(FacetTerm.facet, FacetTerm.slug)).tuples())
    added = 0
    for facet, terms in FACET_VOCABULARIES.items():
        for position, (slug, label) in enumerate(terms):
            if (facet, slug) not in existing:
                db.session.add(FacetTerm(facet=facet, slug=slug, label=label, position=position))
                added += 1
    return added


def _seed_designations() -> int:
    existing = set(db.session.scalars(select(Designation.code)))
    missing = [d for d in DESIGNATIONS if d[0] not in existing]
    db.session.add_all(Designation(code=code, name=name, current=current) for code, name, current in missing)
    return len(missing)


def _seed_specialisms() -> int:
    existing = set(db.session.scalars(select(Specialism.slug)))
    missing = [s for s in SPECIALISMS if s[0] not in existing]
    db.session.add_all(Specialism(slug=slug, name=name) for slug, name in missing)
    return len(missing)
