"""What demo support requests say, and how providers and coordinators answer. Plain data.

Needs are written as a school lead or teacher would post them: the context, what has been
tried, and what help would look like. Sensitive ones (a head's absence, a poor inspection,
a deficit) are the kind a school shares with coordinators only.
"""
from dataclasses import dataclass

PRIMARY = ("primary",)
SECONDARY = ("secondary", "all_through")
MAINSTREAM = PRIMARY + SECONDARY
ANY = MAINSTREAM + ("special", "pru", "nursery")


@dataclass(frozen=True)
class Need:
    category: str
    title: str
    description: str  # Markdown; {school} is the requesting school
    phases: tuple[str, ...]  # SchoolProfile.phase values of schools that would ask this
    audiences: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()  # what kind of help would suit
    sensitive: bool = False  # posted for coordinators only
    subjects: tuple[str, ...] = ()


NEEDS: tuple[Need, ...] = (
    Need("early-reading-phonics", "Year 1 phonics screening results dropped: help with keep-up sessions",
         "Our phonics screening check results fell this summer, and we think our keep-up sessions are not "
         "happening consistently.\n\nWe would like:\n\n- someone to watch a phonics lesson and a keep-up "
         "session with us\n- advice on timetabling same-day keep-up\n- training for two teaching assistants\n\n"
         "We can release our reading lead for half a day a week.",
         PRIMARY, ("teacher", "teaching-assistant"), ("coaching", "placement-visit"), subjects=("reading-phonics",)),
    Need("early-reading-phonics", "Reading for pleasure in Key Stage 2",
         "Our older pupils can read but many choose not to. We would love to visit a school where reading for "
         "pleasure is strong and talk to the English lead about how they built it.",
         PRIMARY, ("teacher", "middle-leader"), ("placement-visit",)),
    Need("maths-mastery", "Starting teaching for mastery in a mixed-age school",
         "We have four classes, each with two year groups, and want to move to a mastery approach in maths. "
         "Most published schemes assume single-age classes.\n\n- How do other small schools plan?\n- Could our "
         "maths lead join a work group or visit a school that has done this?",
         PRIMARY, ("teacher", "middle-leader"), ("network", "placement-visit"), subjects=("maths",)),
    Need("maths-mastery", "Key Stage 3 maths: pupils arriving with gaps in number",
         "A large group of our Year 7 pupils arrived with gaps in place value and multiplication. We would like "
         "help to plan a short, focused intervention that does not take them out of other lessons.",
         SECONDARY, ("teacher", "middle-leader"), ("bespoke-support", "coaching"), subjects=("maths",)),
    Need("subject-knowledge", "Science subject leadership for a new lead",
         "Our new science lead is an early career teacher and has taken on the subject with enthusiasm but "
         "little experience. A few sessions with an experienced science lead would make a big difference.",
         PRIMARY, ("middle-leader", "early-career-teacher"), ("coaching", "network"), subjects=("science",)),
    Need("subject-knowledge", "Non-specialists teaching Key Stage 3 computing",
         "Two of our computing teachers are non-specialists. We are looking for subject knowledge training, "
         "ideally twilights, on programming and algorithms.",
         SECONDARY, ("teacher",), ("twilight-session", "course"), subjects=("computing",)),
    Need("subject-knowledge", "French in Key Stage 2 without a specialist",
         "No one on our staff speaks French confidently. We would like training or a partner school that could "
         "share planning and help with pronunciation.",
         PRIMARY, ("teacher",), ("course", "bespoke-support"), subjects=("modern-languages",)),
    Need("curriculum-development", "Rewriting our foundation subject curriculum",
         "After staff changes, our history and geography curriculum has gaps and repeats. We would like a "
         "critical friend to review it with our subject leads over a term.",
         MAINSTREAM, ("middle-leader", "senior-leader"), ("bespoke-support",)),
    Need("ect-induction", "Support for an ECT who is struggling with behaviour",
         "One of our early career teachers is finding behaviour in a Year 9 group very hard. Their mentor is "
         "supportive but new to mentoring. Could an experienced mentor or behaviour lead help?",
         SECONDARY, ("early-career-teacher", "teacher"), ("coaching", "mentoring")),
    Need("mentor-development", "Training for first-time ECT mentors",
         "Three of our teachers are mentoring for the first time this year. We would like them to join a "
         "mentor training programme or network with mentors from other schools.",
         MAINSTREAM, ("teacher", "middle-leader"), ("course", "network")),
    Need("recruitment-retention", "Recruiting a maths teacher for January",
         "We have a maths vacancy from January and no applicants so far. Has anyone found a route that works? "
         "We would also consider a shared appointment with another school.",
         SECONDARY, ("head", "senior-leader"), ("bespoke-support",)),
    Need("middle-leadership", "Developing new middle leaders",
         "We have promoted four teachers to middle leadership this year. We are looking for a programme that "
         "covers leading a team, monitoring and difficult conversations.",
         MAINSTREAM, ("middle-leader",), ("course",)),
    Need("new-heads", "Mentor for a newly appointed headteacher",
         "Our new head started in September after the previous head retired. The board would like an experienced "
         "local head to mentor her through her first year.",
         ANY, ("head",), ("mentoring",)),
    Need("leadership-coaching", "Coaching for a deputy taking on acting headship",
         "Our deputy will be acting head for two terms. We would like coaching for them, with someone who has "
         "been in the same position.",
         ANY, ("senior-leader",), ("coaching",), sensitive=True),
    Need("interim-leadership", "Interim leadership during the headteacher's absence",
         "Our headteacher is on long-term leave and the deputy is teaching four days a week. The board urgently "
         "needs advice on interim leadership arrangements for the rest of the year.",
         ANY, ("head", "governor"), ("bespoke-support",), sensitive=True),
    Need("targeted-improvement", "Support after a Requires Improvement judgement",
         "Our recent inspection judged the school as requires improvement, mainly for the quality of education "
         "in the foundation subjects and for reading in Key Stage 2.\n\nWe would like:\n\n- an experienced "
         "leader to help us prioritise the action plan\n- subject leader support in two subjects\n- a review "
         "visit before Easter",
         MAINSTREAM, ("head", "senior-leader"), ("bespoke-support",), sensitive=True),
    Need("partner-pairing", "Partner school for a small rural primary",
         "We are a school of under a hundred pupils and our staff rarely see other schools. We would like a "
         "partner school for reciprocal visits and shared staff meetings.",
         PRIMARY, ("teacher", "head"), ("placement-visit",)),
    Need("transition", "Transition for pupils with SEND moving to Year 7",
         "Several of our Year 6 pupils with SEND are anxious about moving on. We would like to plan extra "
         "transition visits and information-sharing with the receiving secondary schools.",
         PRIMARY, ("senco", "teacher"), ("placement-visit",)),
    Need("peer-review", "Peer review of our curriculum and behaviour",
         "We would like to take part in a peer review this year, focusing on the curriculum in Key Stage 3 and "
         "on behaviour at social times.",
         SECONDARY, ("senior-leader",), ("peer-review",)),
    Need("peer-review", "Looking for a peer review trio",
         "We are looking for two similar schools to form a peer review trio, each reviewing the others once "
         "this year.",
         PRIMARY + ("special",), ("head", "senior-leader"), ("peer-review",)),
    Need("health-checks", "Safeguarding review before inspection",
         "We are expecting inspection this year and would like an external safeguarding review, including our "
         "records and the single central record.",
         ANY, ("head", "senior-leader"), ("bespoke-support",)),
    Need("moderation", "Year 6 writing moderation partner",
         "We are a one-form-entry school with a single Year 6 teacher. We would like to moderate writing with "
         "another school before the local authority sample.",
         PRIMARY, ("teacher",), ("network",), subjects=("writing",)),
    Need("governor-training", "Training for several new governors",
         "Four governors joined our board this term. We are looking for induction training that runs in the "
         "evening, ideally in person.",
         ANY, ("governor",), ("course",)),
    Need("governance-reviews", "External review of governance",
         "After a difficult year the board has agreed to an external review of governance. We would like a "
         "reviewer who understands small schools.",
         ANY, ("governor",), ("bespoke-support",), sensitive=True),
    Need("chair-development", "Support for a new chair of governors",
         "Our chair stepped down suddenly and the new chair has not chaired before. Support from an experienced "
         "chair or a national leader of governance would be very welcome.",
         ANY, ("governor",), ("mentoring",), sensitive=True),
    Need("clerking", "Clerk needed for the spring term",
         "Our clerk is leaving at Christmas. We need clerking for three meetings in the spring term while we "
         "recruit.",
         ANY, ("governor",), ("bespoke-support",)),
    Need("data-for-leaders", "Making sense of our Key Stage 4 data",
         "Our results were mixed this year and we are not sure which differences matter. We would like an "
         "analyst to spend a day with our senior team.",
         SECONDARY, ("senior-leader",), ("bespoke-support",)),
    Need("send-outreach", "Autism support for a pupil in Reception",
         "A child in our Reception class has a diagnosis of autism and is finding the classroom overwhelming. "
         "We would welcome an outreach visit and advice for the class team.",
         PRIMARY + ("nursery",), ("teacher", "teaching-assistant", "senco"), ("bespoke-support",)),
    Need("send-outreach", "Speech and language support in Key Stage 1",
         "A growing number of our Key Stage 1 pupils have speech and language needs, and waiting lists for "
         "therapy are long.\n\n- Could a specialist advise on classroom strategies?\n- Is there training for "
         "our teaching assistants?",
         PRIMARY, ("teacher", "teaching-assistant"), ("bespoke-support", "course")),
    Need("senco-support", "Support for a new SENCO",
         "Our new SENCO is also a class teacher and is new to the role. We would like them to join a network and "
         "have some one-to-one support with EHCP applications.",
         MAINSTREAM, ("senco",), ("network", "coaching")),
    Need("behaviour-support", "Behaviour support for a Year 5 pupil at risk of exclusion",
         "We have a pupil in Year 5 whose behaviour has escalated this term. We want to avoid exclusion and "
         "would like specialist advice quickly.",
         PRIMARY, ("teacher", "senior-leader"), ("bespoke-support",), sensitive=True),
    Need("behaviour-support", "Improving behaviour at lunchtimes",
         "Most of our behaviour incidents happen at lunchtime. We would like to see how another school organises "
         "lunchtimes and trains midday staff.",
         MAINSTREAM, ("senior-leader", "teaching-assistant"), ("placement-visit",)),
    Need("alternative-provision", "Short placement for a Year 10 pupil",
         "We are looking for a short-term alternative provision placement for a Year 10 pupil, with a plan to "
         "return to us.",
         SECONDARY, ("senior-leader",), ("bespoke-support",), sensitive=True),
    Need("pupil-premium", "Reviewing our pupil premium strategy",
         "Our disadvantaged pupils' outcomes have not improved despite several initiatives. We would like an "
         "external review of our strategy.",
         MAINSTREAM, ("senior-leader", "governor"), ("bespoke-support",)),
    Need("pupil-mental-health", "Rising anxiety among Year 8 pupils",
         "Pastoral staff are seeing more anxiety in Year 8. We would like training for tutors and advice on what "
         "we can do before referral.",
         SECONDARY, ("teacher",), ("twilight-session", "course")),
    Need("eal", "Several new arrivals with little English",
         "Seven pupils have joined us this term with very little English. We would welcome advice and training "
         "for class teachers and teaching assistants.",
         MAINSTREAM, ("teacher", "teaching-assistant"), ("twilight-session", "bespoke-support")),
    Need("attendance", "Persistent absence in Year 9",
         "Persistent absence in Year 9 has risen sharply. We would like to talk to a school that has turned "
         "this around, and to review our systems.",
         SECONDARY, ("senior-leader",), ("bespoke-support", "network")),
    Need("attendance", "Emotionally based school avoidance",
         "Two pupils have stopped attending because of anxiety. We would like specialist advice on planning a "
         "gradual return.",
         ANY, ("senior-leader", "senco"), ("bespoke-support",), sensitive=True),
    Need("finance-procurement", "Budget deficit next year",
         "Our three-year forecast shows a deficit from next year because of falling rolls. We would like "
         "support from an experienced business manager to look at options.",
         ANY, ("head", "business-manager", "governor"), ("bespoke-support",), sensitive=True),
    Need("hr-people", "Restructuring support staff",
         "We need to restructure our support staff team and want HR advice on consultation.",
         ANY, ("head", "business-manager"), ("bespoke-support",), sensitive=True),
    Need("school-business-management", "Mentor for a new school business manager",
         "Our new business manager joined from outside education. A mentor from another school would help them "
         "through their first budget cycle.",
         ANY, ("business-manager",), ("mentoring",)),
    Need("it-systems", "Help moving to a new management information system",
         "We are switching MIS in the spring. Has anyone done this recently and could share their plan?",
         ANY, ("business-manager",), ("bespoke-support",)),
    Need("evidence-informed-practice", "Using research to choose a writing approach",
         "We want to change how we teach writing and would like help to look at the evidence before choosing.",
         MAINSTREAM, ("middle-leader", "senior-leader"), ("course", "bespoke-support")),
    Need("staff-wellbeing", "Staff workload after a difficult year",
         "Staff surveys show workload is our biggest problem. We would like help to audit workload and decide "
         "what to stop.",
         ANY, ("head", "senior-leader"), ("course", "bespoke-support")),
    Need("staff-wellbeing", "Supervision for our designated safeguarding lead",
         "Our DSL has carried several very difficult cases this year. We are looking for professional "
         "supervision for them.",
         ANY, ("senior-leader",), ("coaching",), sensitive=True),
    Need("personal-development", "Confidence teaching relationships education",
         "Several teachers are anxious about teaching relationships and health education. We would like a "
         "twilight session for the whole staff.",
         MAINSTREAM, ("teacher",), ("twilight-session",), subjects=("pshe-rshe",)),
    Need("future-skills", "Employer encounters for Year 10",
         "We are looking for partner schools to share employer contacts and plan encounters together.",
         SECONDARY, ("middle-leader",), ("network",)),
    Need("digital-learning", "Online safety session for parents",
         "After some incidents involving group chats, we would like someone to run an online safety evening "
         "for parents.",
         MAINSTREAM, ("teacher",), ("twilight-session",)),
    Need("parental-engagement", "Engaging families who rarely come into school",
         "Attendance at parents' evenings is low. We would like ideas from schools that have built stronger "
         "relationships with families.",
         PRIMARY + ("nursery",), ("senior-leader", "teacher"), ("twilight-session", "placement-visit")),
)

RESPONSE_MESSAGES = (
    "We run **{offer}** and would be glad to adapt it for {school}. {contact_first} can come and talk it "
    "through with you first.",
    "This sounds very like what we worked on last year. Our **{offer}** could help; we have places this "
    "term and are happy to arrange a visit.",
    "Happy to help. **{offer}** covers most of this, and we could add a follow-up visit to look at your "
    "specific situation.",
)
RESPONSE_MESSAGES_WITHOUT_OFFER = (
    "We do not have a formal offer for this, but our {role} would be happy to have a conversation and share "
    "what we did.",
    "We faced something similar recently. Do get in touch: we can share our plan and the mistakes we made.",
)
BROKERAGE_NOTES = (
    "Introduced {provider}, who supported a similar school last year. Both heads have each other's details.",
    "{provider} has capacity this term. I have asked them to contact the school directly.",
    "Suggested {provider}, the nearest provider with experience of this; they have agreed to an initial call.",
    "Linked to {provider}. Let me know after the first visit whether this is the right match.",
)
OUTCOME_NOTES = {
    "met_by_offer": (
        "Two visits and a follow-up call; staff now feel confident and we have a plan for the rest of the year.",
        "The training was exactly what we needed. We would book again.",
        "Matched through the partnership; the support finished in the summer term.",
    ),
    "met_elsewhere": (
        "Our trust provided this in the end.",
        "We found support through the local authority.",
    ),
    "no_longer_needed": (
        "The situation has resolved.",
        "The member of staff concerned has moved on.",
    ),
    "not_met": (
        "No one had capacity this term; we will ask again next year.",
        "The offers we found were too far away for us to release staff.",
    ),
}
