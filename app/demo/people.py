"""Demo people: the contract's six logins, staff for every organisation, and expert profiles.

Generated accounts have no password (nobody can sign in as them until an invitation or a
reset gives them one); only the six demo logins share the published demo password.
"""
from dataclasses import dataclass

from app.demo.world import Org, World
from app.services.taxonomy import DESIGNATIONS, SPECIALISMS

DEMO_PASSWORD = "waymark-demo"
DEMO_DOMAIN = "demo.waymark.test"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: str
    org: str | None  # key into World.demo_orgs
    job_title: str
    description: str  # printed after loading


DEMO_ACCOUNTS = (
    DemoAccount(f"admin@{DEMO_DOMAIN}", "Alex Morgan", "admin", None, "Site administrator", "administrator"),
    DemoAccount(f"coordinator@{DEMO_DOMAIN}", "Ruth Calloway", "coordinator", "coordinator",
                "Partnership coordinator", "partnership coordinator"),
    DemoAccount(f"lead@{DEMO_DOMAIN}", "Helen Marsh", "school_lead", "primary", "Headteacher", "school lead"),
    DemoAccount(f"teacher@{DEMO_DOMAIN}", "Tom Achebe", "teacher", "primary", "Year 4 teacher and maths lead", "teacher"),
    DemoAccount(f"governor@{DEMO_DOMAIN}", "Margaret Ellis", "governor", "primary", "Chair of governors", "governor"),
    DemoAccount(f"lead2@{DEMO_DOMAIN}", "David Osei", "school_lead", "secondary", "Deputy headteacher (CPD)",
                "school lead"),
)

EXPERTS_PER_SCHOOL = 0.16
# Where experts come from: heads of strong schools (NLE/LLE), teachers (SLE, lead
# practitioners...), governors (NLG) and the advisers of hubs, trusts and services.
POOL_SHARES = {"heads": 0.30, "teachers": 0.45, "governors": 0.08, "advisers": 0.17}

LEAD_TITLES = {"Headteacher": 60, "Deputy headteacher": 15, "Assistant headteacher (CPD)": 15,
               "Executive headteacher": 5, "School business manager": 5}
TEACHER_TITLES = {
    "primary": ("Class teacher", "Early career teacher", "SENCO", "English lead", "Maths lead", "EYFS lead",
                "Science lead", "Teaching assistant", "Assistant headteacher"),
    "secondary": ("Head of English", "Head of maths", "Head of science", "Teacher of history",
                  "Teacher of computing", "Head of modern languages", "SENCO", "Head of year 7",
                  "Early career teacher", "Teaching assistant", "Assistant headteacher"),
    "special": ("Class teacher", "SENCO", "Outreach teacher", "Speech and language lead", "Teaching assistant",
                "Assistant headteacher"),
}
TEACHER_TITLE_GROUP = {"nursery": "primary", "all_through": "secondary", "pru": "special"}
NOT_EXPERT_TITLES = ("Early career teacher", "Teaching assistant")
GOVERNOR_TITLES = {"Governor": 60, "Chair of governors": 30, "Vice-chair of governors": 10}

# kind → (title of its lead, titles of its advisers). LA services are led by a coordinator.
BODY_TITLES = {
    "la_service": ("Head of service", ("Specialist teacher", "Educational psychologist", "Governor development adviser")),
    "teaching_school_hub": ("Hub director", ("ECF programme lead", "ITT lead", "NPQ facilitator")),
    "trust": ("Chief executive", ("Director of school improvement", "Trust SENCO", "Trust maths lead")),
    "diocese": ("Director of education", ("RE adviser", "School effectiveness adviser")),
    "research_hub": ("Hub lead", ("Work group lead", "Evidence lead", "Specialist teacher")),
    "provider": ("Director", ("Associate consultant", "Trainer")),
}

# (pool, phase or kind) → designation codes with weights for an expert's main designation.
MAIN_DESIGNATIONS = {
    "heads": {"NLE": 1, "LLE": 2},
    "teachers": {"SLE": 5, "LP": 3, "MENTOR": 2, "COACH": 1},
    "governors": {"NLG": 1},
    "la_service": {"LP": 2, "REVIEWER": 1, "COACH": 1},
    "teaching_school_hub": {"MENTOR": 2, "COACH": 1, "SLE": 1},
    "trust": {"LLE": 1, "REVIEWER": 2, "SLE": 1},
    "diocese": {"REVIEWER": 1, "LLE": 1},
    "research_hub": {"EVIDENCE": 1},  # maths and English hubs: see HUB_DESIGNATIONS
    "provider": {"COACH": 2, "REVIEWER": 1},
}
HUB_DESIGNATIONS = {"Maths Hub": "MASTERY", "English Hub": "LITERACY"}
EXTRA_DESIGNATIONS = ("COACH", "REVIEWER", "MENTOR")

SPECIALISM_POOLS = {
    "primary": ("early-reading-phonics", "maths-mastery", "primary-science", "eyfs", "curriculum-design",
                "assessment", "small-schools", "pshe-rshe", "oracy", "year-6-transition", "behaviour",
                "send-inclusion", "more-able", "music", "pe-sport"),
    "secondary": ("secondary-english", "secondary-maths", "secondary-science", "computing", "modern-languages",
                  "music", "pe-sport", "art-design", "humanities", "behaviour", "attendance", "more-able",
                  "year-6-transition", "assessment", "data-analysis", "religious-education"),
    "special": ("send-inclusion", "autism", "speech-language", "semh", "senco-practice", "behaviour", "attendance"),
    "heads": ("leadership-coaching", "headship", "school-improvement", "peer-review", "self-evaluation",
              "staff-wellbeing", "middle-leadership", "academy-conversion", "small-schools"),
    "governors": ("governance", "school-business", "self-evaluation", "safeguarding"),
    "la_service": ("send-inclusion", "governance", "data-analysis", "safeguarding", "attendance",
                   "looked-after-children", "eal"),
    "teaching_school_hub": ("ite-mentoring", "ect-induction", "middle-leadership", "leadership-coaching"),
    "trust": ("school-improvement", "school-business", "hr", "academy-conversion", "curriculum-design"),
    "diocese": ("religious-education", "governance", "school-improvement"),
    "research_hub": ("research-evidence", "maths-mastery", "early-reading-phonics", "assessment"),
    "provider": ("data-analysis", "leadership-coaching", "hr", "school-business", "digital-learning"),
}
# Words in a job title that say what its holder knows: by phase group, "any" otherwise.
TITLE_SPECIALISMS = {
    "SENCO": {"any": "senco-practice"}, "EYFS": {"any": "eyfs"}, "computing": {"any": "computing"},
    "maths": {"secondary": "secondary-maths", "any": "maths-mastery"},
    "English": {"secondary": "secondary-english", "any": "early-reading-phonics"},
    "science": {"secondary": "secondary-science", "any": "primary-science"},
    "languages": {"any": "modern-languages"}, "Outreach": {"any": "send-inclusion"},
    "Speech": {"any": "speech-language"}, "history": {"any": "humanities"}, "year 7": {"any": "year-6-transition"},
    "RE adviser": {"any": "religious-education"},
}

AVAILABILITY = ("Two days a term", "Half a day a week", "Twilight sessions only", "By arrangement with my head",
                "One day a fortnight from January", "Fully committed this term; taking requests for next term",
                "Summer term only", "Flexible, including remote support")
CAPACITY_DAYS = {"heads": (2, 8), "teachers": (2, 12), "governors": (1, 5), "advisers": (6, 30)}
BIO_OFFERS = (
    "Happy to work alongside colleagues on {spec}: coaching, joint planning and lesson study rather than one-off courses.",
    "Has led {spec} work across several local schools and shares resources freely.",
    "Supports leaders in schools facing a difficult year, with a focus on {spec}.",
    "Particularly keen to support small and rural schools with {spec}.",
    "Runs twilight sessions on {spec} and can visit to see practice in context.",
)
SECTOR_WORDS = {"primary": "primary schools", "secondary": "secondary schools", "special": "special schools and AP"}

DESIGNATION_NAMES = {code: name for code, name, _ in DESIGNATIONS}
SPECIALISM_NAMES = dict(SPECIALISMS)


@dataclass(frozen=True)
class Candidate:
    user: dict
    org: Org
    pool: str  # "heads", "teachers", "governors", "advisers"
    group: str  # phase group for school staff, kind for body staff


def add_people(world: World, password_hash: str, designation_ids: dict[str, int],
               specialism_ids: dict[str, int]) -> None:
    world.demo_orgs["coordinator"] = world.bodies_in("improvement_service", world.demo_orgs["primary"].la)[0]
    demo_users = _demo_accounts(world, password_hash)
    candidates: list[Candidate] = []
    for org in world.orgs:
        staff = _school_staff(world, org) if org.school is not None else _body_staff(world, org)
        candidates.extend(staff)
    lead2 = Candidate(demo_users[f"lead2@{DEMO_DOMAIN}"], world.demo_orgs["secondary"], "teachers", "secondary")
    _add_experts(world, [lead2] + _choose_experts(world, candidates), designation_ids, specialism_ids)


def _demo_accounts(world: World, password_hash: str) -> dict[str, dict]:
    users = {}
    for account in DEMO_ACCOUNTS:
        world.names.reserve_email(account.email)
        org = world.demo_orgs.get(account.org) if account.org else None
        users[account.email] = _user_row(world, account.email, account.name, account.job_title, account.role,
                                         org, password_hash)
    return users


def _user_row(world: World, email: str, name: str, title: str, role: str, org: Org | None,
              password_hash: str | None = None) -> dict:
    row = {
        "id": world.next_id("users"), "email": email, "name": name, "job_title": title,
        "phone": org.phone if org is not None and role in ("school_lead", "coordinator") else None,
        "password_hash": password_hash, "role": role, "organisation_id": org.id if org else None,
        "session_version": 1, "active": True, "created_at": world.launched_at, "last_login_at": None,
    }
    world.users.append(row)
    return row


def _staff(world: World, org: Org, role: str, title: str) -> dict:
    first, last = world.names.person()
    return _user_row(world, world.names.email(f"{first}.{last}", org.domain), f"{first} {last}", title, role, org)


def _school_staff(world: World, org: Org) -> list[Candidate]:
    rng, school = world.rng, org.school
    group = TEACHER_TITLE_GROUP.get(school.phase, school.phase)
    staff = []
    if not org.demo:  # the demo schools' leads are demo logins
        title = "Headteacher" if school.pupils < 150 else _weighted(rng, LEAD_TITLES)
        lead = _staff(world, org, "school_lead", title)
        strong = school.ofsted_grade in ("Outstanding", "Good") and school.pupils >= 150
        if strong and title != "School business manager":
            staff.append(Candidate(lead, org, "heads", group))
    for _ in range(_teacher_count(rng, school.pupils)):
        title = rng.choice(TEACHER_TITLES[group])
        teacher = _staff(world, org, "teacher", title)
        if title not in NOT_EXPERT_TITLES:
            staff.append(Candidate(teacher, org, "teachers", group))
    if org is not world.demo_orgs.get("primary") and rng.random() < 0.4:
        staff.append(Candidate(_staff(world, org, "governor", _weighted(rng, GOVERNOR_TITLES)), org, "governors", group))
    return staff


def _teacher_count(rng, pupils: int) -> int:
    if pupils < 120:
        return rng.choice((0, 1, 1))
    return rng.randint(1, 2) if pupils < 400 else rng.randint(2, 4)


def _body_staff(world: World, org: Org) -> list[Candidate]:
    lead_title, adviser_titles = BODY_TITLES[org.kind]
    _staff(world, org, "coordinator" if org.kind == "la_service" else "school_lead", lead_title)
    advisers = [_staff(world, org, "teacher", world.rng.choice(adviser_titles)) for _ in range(world.rng.randint(1, 2))]
    return [Candidate(user, org, "advisers", org.kind) for user in advisers]


def _choose_experts(world: World, candidates: list[Candidate]) -> list[Candidate]:
    target = round(EXPERTS_PER_SCHOOL * len(world.schools()))
    chosen = []
    for pool, share in POOL_SHARES.items():
        options = [c for c in candidates if c.pool == pool]
        chosen += world.rng.sample(options, min(len(options), round(target * share)))
    return sorted(chosen, key=lambda c: c.user["id"])


def _add_experts(world: World, experts: list[Candidate], designation_ids: dict[str, int],
                 specialism_ids: dict[str, int]) -> None:
    rng = world.rng
    for candidate in experts:
        expert_id = world.next_id("expert_profiles")
        codes = _designations_for(rng, candidate)
        slugs = _specialisms_for(rng, candidate)
        user = candidate.user
        low, high = CAPACITY_DAYS[candidate.pool]
        world.expert_profiles.append({
            "id": expert_id, "user_id": user["id"], "headline": _headline(codes, slugs),
            "bio": _bio(rng, user, candidate, slugs), "availability": rng.choice(AVAILABILITY),
            "capacity_days": rng.randint(low, high), "public": rng.random() < 0.92,
        })
        world.expert_designations += [{"expert_id": expert_id, "designation_id": designation_ids[c]}
                                      for c in codes if c in designation_ids]
        world.expert_specialisms += [{"expert_id": expert_id, "specialism_id": specialism_ids[s]}
                                     for s in slugs if s in specialism_ids]


def _designations_for(rng, candidate: Candidate) -> list[str]:
    hub = next((code for words, code in HUB_DESIGNATIONS.items() if words in candidate.org.name), None)
    if candidate.pool == "heads":
        main = "NLE" if candidate.org.school.ofsted_grade == "Outstanding" else "LLE"
    elif candidate.pool == "advisers" and hub:
        main = hub
    else:
        weights = MAIN_DESIGNATIONS.get(candidate.pool) or MAIN_DESIGNATIONS[candidate.group]
        main = _weighted(rng, weights)
    codes = [main]
    extra = rng.choice(EXTRA_DESIGNATIONS)
    if rng.random() < 0.3 and extra not in codes:
        codes.append(extra)
    # Former advanced skills teachers still say so: GlosEd listed them (the seeds, 002:2183).
    if candidate.pool in ("heads", "teachers") and rng.random() < 0.07:
        codes.append("AST")
    return codes


def _specialisms_for(rng, candidate: Candidate) -> list[str]:
    title = candidate.user["job_title"] or ""
    hinted = [by_group.get(candidate.group, by_group["any"])
              for word, by_group in TITLE_SPECIALISMS.items() if word in title]
    pool = SPECIALISM_POOLS.get(candidate.pool) or SPECIALISM_POOLS[candidate.group]
    wanted = rng.randint(2, 4)
    extra = [s for s in rng.sample(pool, min(len(pool), wanted)) if s not in hinted]
    return (hinted + extra)[:wanted]


def _headline(codes: list[str], slugs: list[str]) -> str:
    return f"{DESIGNATION_NAMES[codes[0]]} · {', '.join(SPECIALISM_NAMES[s] for s in slugs[:2])}"


def _bio(rng, user: dict, candidate: Candidate, slugs: list[str]) -> str:
    first, title, org = user["name"].split(" ")[0], _lower_first(user["job_title"]), candidate.org.name
    if candidate.pool == "governors":
        opening = f"{first} is a {title} at {org} and has served on governing boards for {rng.randint(3, 20)} years."
    else:
        sector = SECTOR_WORDS.get(candidate.group, "schools and school improvement")
        opening = f"{first} works at {org} as {title}, with {rng.randint(6, 30)} years in {sector}."
    offer = rng.choice(BIO_OFFERS).format(spec=_lower_first(SPECIALISM_NAMES[slugs[0]]))
    return f"{opening} {offer}"


def _lower_first(text: str) -> str:
    """'Head of maths' → 'head of maths', but 'SENCO practice' and 'PE' keep their capitals."""
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _weighted(rng, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
