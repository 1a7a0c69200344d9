"""The demo's feedback: most delivered bookings reviewed by the school that received them,
replies from providers, one item reported and hidden, one report waiting for the coordinator,
and impact follow-ups eight weeks on, all played through app.services.feedback.

Planned after the rest of the history from a Random of its own (seeded from the world's, so
the same seed and anchor give the same feedback, and the bookings' story is not disturbed).
Comments are assembled from parts, in the tone of their ratings, so that they read as
different schools writing about different support.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.services import feedback

# Most delivered bookings get feedback; the rest are left (as in life) without.
FEEDBACK_SHARE = 0.75
REPLY_SHARE = {"good": 0.3, "mixed": 0.55, "poor": 0.8}
FOLLOW_UP_SHARE = 0.45
QUALITY = {5: 22, 4: 52, 3: 19, 2: 6, 1: 1}
IMPACT_SHIFT = (-1, -1, 0, 0, 0, 0, 1)
OBJECTIVES = {"good": {"yes": 86, "partly": 13, "no": 1}, "mixed": {"yes": 30, "partly": 60, "no": 10},
              "poor": {"yes": 5, "partly": 50, "no": 45}}
RECOMMEND = {"good": 0.95, "mixed": 0.45, "poor": 0.05}

WHO = ("our English lead", "an early career teacher", "our SENCO", "our deputy head", "two teaching assistants",
       "our maths lead", "a Year 6 teacher", "our EYFS lead", "two colleagues", "our new subject lead")
WHERE = ("Year 2", "our Reception class", "Key Stage 2", "the maths department", "our intervention groups",
         "Year 5", "our mixed-age classes", "the English department", "Key Stage 1", "our resource base")
OPENINGS = {
    "good": (
        "{Who} came back from {title} with ideas we could use straight away.",
        "{Title} was well pitched for a school like ours.",
        "Practical from start to finish, and grounded in real classrooms.",
        "We sent {who} and both the content and the pace were right.",
        "Clear, well organised and exactly what the description promised.",
        "This was one of the most useful pieces of support we have had this year.",
        "{Who} said it was the best twilight they have been to in years.",
        "Exactly the push our work on {topic} needed.",
        "A generous, well-prepared session from people who clearly do this every day.",
    ),
    "mixed": (
        "Some useful ideas, but a fair amount repeated what we already do.",
        "{Title} felt pitched at larger schools than ours.",
        "Solid content, though the first hour went slowly.",
        "Worthwhile overall, if not quite what we expected from the description.",
        "{Who} found parts of it helpful and parts too general.",
    ),
    "poor": (
        "This did not match the description: most of it was an overview we already knew.",
        "The session started late and then felt rushed.",
        "Much of the content was generic rather than about {topic}.",
        "Disappointing, given how much we had looked forward to {title}.",
    ),
}
DETAILS = {
    "good": (
        "The modelled examples made the ideas concrete.",
        "The short clips of real lessons were the most useful part.",
        "Having time to plan alongside colleagues from other schools was valuable.",
        "The resource pack is already in use in {where}.",
        "Our questions about small classes were answered directly, not deflected.",
        "The slides and reading arrived the next morning, as promised.",
        "The practical tasks meant {who} left with something finished, not just notes.",
        "Seeing it working with pupils like ours in {where} convinced the sceptics.",
        "The balance of research and classroom practice was just right.",
    ),
    "mixed": (
        "The second half, with worked examples, was much stronger.",
        "The handouts are helpful and we will use parts of them in {where}.",
        "{Who} picked up one or two strategies worth trying.",
        "The discussion with other schools was the best part.",
    ),
    "poor": (
        "There was very little time for questions.",
        "The joining link changed on the day and we missed the start.",
        "The examples came from a very different setting to ours.",
        "The materials promised afterwards have not arrived.",
    ),
}
CLOSINGS = {
    "good": (
        "We have added a short slot to staff meetings to share it further.",
        "A little more time on assessment would have made it perfect.",
        "Next we want to see how it works for pupils with SEND.",
        "It ran a few minutes over, but nobody minded.",
        "We would book a follow-up session if one runs next term.",
        "Our only wish is for the materials in an editable format.",
        "We are already planning a visit to see it in action.",
        "Thank you to everyone involved.",
        "",
    ),
    "mixed": (
        "Clearer pre-reading would help schools get more from it.",
        "We would like more on adapting it for small schools.",
        "Good for a newer colleague, less so for experienced staff.",
        "",
    ),
    "poor": (
        "We would not book it again in its current form.",
        "We have passed our notes to the provider in the hope they help.",
        "A clearer outline beforehand would have helped us decide.",
    ),
}
REPLIES = {
    "good": (
        "Thank you for taking the time to write this: we will pass it on to the colleagues who led it.",
        "Thanks, it was a pleasure working with your staff. Email us if you would like the editable materials.",
        "Thank you. We run a follow-up twilight next term and would love to see you there.",
    ),
    "mixed": (
        "Thank you for the honest feedback. We have shortened the introduction and added worked examples.",
        "Thanks: we will send a clearer outline and pre-reading with the booking confirmation from now on.",
        "Thank you. We are adding a strand for small and mixed-age schools to the next run.",
    ),
    "poor": (
        "We are sorry it fell short. We have rewritten the first session and would welcome a conversation.",
        "Sorry about the late start: we have changed how joining details are sent so it does not happen again.",
        "Thank you for telling us. The materials have now been sent; please get in touch if anything is missing.",
    ),
}
FOLLOW_UPS = (
    "Two colleagues now use the questioning routines daily, and book looks in {where} show longer answers.",
    "We rewrote our plan for {topic} this term using the framework from the session.",
    "{Who} led a staff meeting on it, and it is now part of our professional development cycle.",
    "Pupil voice in {where} shows children more confident explaining their reasoning.",
    "The approach is now in our improvement plan, with a governor linked to it.",
    "Less than we hoped: staff changes meant it was not embedded, so we will revisit it next year.",
)
# One review names a person: the provider reports it and the coordinator hides it.
NAMED = ("Mr Hallam did not seem to have prepared and talked down to our staff for most of the afternoon. "
         "We expected far better from {title}.")
NAMED_REPORT = "This names and criticises one of our trainees, who was assisting rather than leading the session."
NAMED_HIDE = ("Feedback should be about the support, not a named member of staff. The school has been asked to "
              "rewrite it without the name.")
# One critical but fair review waits in the coordinator's queue.
DISPUTED = ("The session was moved twice before it ran and the room was too small for the group, so the "
            "practical tasks were squeezed. The content itself was sound.")
DISPUTED_REPORT = "Both dates were moved by the venue, not by us, and schools were told a week ahead each time."


@dataclass
class Review:
    story: object
    delivered: datetime
    when: datetime
    author_id: int
    tone: str
    quality: int
    impact: int
    objectives: str
    recommend: bool
    comment: str
    moderation: str | None = None  # "hidden" or "reported", planned by _plan_moderation


def _rng(history) -> random.Random:
    # From the world's state, without drawing from it: the bookings played later draw the same.
    state = hashlib.sha256(repr(history.rng.getstate()).encode()).hexdigest()
    return random.Random(f"feedback:{state}")


def _tone(quality: int) -> str:
    return "good" if quality >= 4 else "mixed" if quality == 3 else "poor"


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _fill(text: str, rng: random.Random, title: str) -> str:
    who, where = rng.choice(WHO), rng.choice(WHERE)
    topic = title[:1].lower() + title[1:]
    return text.format(who=who, Who=who[:1].upper() + who[1:], where=where, title=title, Title=title, topic=topic)


def comment_for(rng: random.Random, tone: str, title: str) -> str:
    parts = [rng.choice(OPENINGS[tone]), rng.choice(DETAILS[tone]), rng.choice(CLOSINGS[tone])]
    return " ".join(_fill(part, rng, title) for part in parts if part)


def plan_feedback(history) -> None:
    """Schedule the feedback steps among the history's (call after everything else is planned)."""
    from app.demo.history import office_hours

    rng = _rng(history)
    anchor = history.anchor_at
    latest = anchor - timedelta(hours=2)
    delivered = sorted(((when, args[0]) for when, _, step, args in history.steps if step == history.deliver),
                       key=lambda item: item[0])
    # The demo lead's most recent delivered support is left for a person trying the product.
    ours = [(when, story) for when, story in delivered if story.school.id == history.primary.id]
    kept_open = ours[-1][1] if ours else None
    reviews: list[Review] = []
    for when, story in delivered:
        if story is kept_open:
            continue
        for_demo = story.school.demo or story.offer["organisation_id"] in (history.primary.id, history.secondary.id)
        if not for_demo and rng.random() >= FEEDBACK_SHARE:
            continue
        written = office_hours(when + timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 5)))
        if written >= latest:
            written = when + (latest - when) / 2
        if written <= when:
            continue
        quality = _weighted(rng, QUALITY)
        tone = _tone(quality)
        impact = min(5, max(1, quality + rng.choice(IMPACT_SHIFT)))
        lead = history.staff.get(story.school.id)
        lead_id = lead.lead["id"] if lead and lead.lead and lead.lead["role"] == "school_lead" else None
        author = lead_id if lead_id and rng.random() < 0.3 else story.requester_id
        reviews.append(Review(story, when, written, author, tone, quality, impact, _weighted(rng, OBJECTIVES[tone]),
                              rng.random() < RECOMMEND[tone], comment_for(rng, tone, story.offer["title"])))
    if not reviews:
        return
    _plan_moderation(history, rng, reviews)
    # The demo provider's most recent review is left for lead2 to answer.
    theirs = [r for r in reviews if r.story.offer["organisation_id"] == history.secondary.id]
    unanswered = theirs[-1] if theirs else None
    for review in reviews:
        history.at(review.when, _leave, history, review)
        if review.moderation:
            continue
        if review is not unanswered and rng.random() < REPLY_SHARE[review.tone]:
            replied = office_hours(review.when + timedelta(days=rng.randint(1, 9), hours=rng.randint(1, 6)))
            if replied < latest:
                history.at(replied, _reply, history, review, _fill(rng.choice(REPLIES[review.tone]), rng,
                                                                   review.story.offer["title"]))
        followed = office_hours(review.delivered + feedback.FOLLOW_UP_AFTER
                                + timedelta(days=rng.randint(1, 25), hours=rng.randint(0, 6)))
        if review.story.school.id != history.primary.id and followed < latest and rng.random() < FOLLOW_UP_SHARE:
            impact = min(5, max(1, review.impact + rng.choice((-1, 0, 0, 1))))
            text = _fill(rng.choice(FOLLOW_UPS[:-1] if impact >= 3 else FOLLOW_UPS[-1:]), rng,
                         review.story.offer["title"])
            history.at(followed, _follow_up, history, review, text, impact)


def _plan_moderation(history, rng: random.Random, reviews: list[Review]) -> None:
    """One review that names a person (reported, then hidden) and one fair critical review
    reported in the last days (waiting for the coordinator), both on other providers' offers."""
    latest = history.anchor_at - timedelta(hours=2)
    demo_providers = {history.primary.id, history.secondary.id}
    def reportable(review: Review) -> bool:
        # Reported by the provider's school lead: a school's offer, not a body's.
        staff = history.staff.get(review.story.offer["organisation_id"])
        return bool(staff and staff.lead and staff.lead["role"] == "school_lead")

    others = [r for r in reviews if r.story.offer["organisation_id"] not in demo_providers
              and not r.story.school.demo and reportable(r)]
    # Critical reviews first: those are the ones a provider reports.
    candidates = [r for r in others if r.tone != "good"] + [r for r in others if r.tone == "good"]
    named = next((r for r in candidates if r.when < history.anchor_at - timedelta(days=60)), None)
    if named is not None:
        named.quality, named.impact, named.objectives, named.recommend = 1, 1, "no", False
        named.comment = NAMED.format(title=named.story.offer["title"])
        named.moderation = "hidden"
        reported = named.when + timedelta(days=2, hours=3)
        history.at(reported, _report, history, named, NAMED_REPORT)
        history.at(reported + timedelta(days=1, hours=2), _hide, history, named, NAMED_HIDE)
    recent = sorted((r for r in candidates if r is not named
                     and history.anchor_at - timedelta(days=90) < r.when < latest - timedelta(days=2)),
                    key=lambda r: (r.tone != "good", r.when))
    if recent:
        disputed = recent[-1]
        disputed.quality, disputed.objectives, disputed.tone = 3, "partly", "mixed"
        disputed.comment = DISPUTED
        disputed.moderation = "reported"
        history.at(min(disputed.when + timedelta(days=1), latest), _report, history, disputed, DISPUTED_REPORT)


# --- the steps, played through the feedback service ----------------------------------------------


def _feedback_of(review: Review):
    return feedback.feedback_for_booking(review.story.booking_id)


def _provider_lead(history, review: Review):
    lead = history._lead(review.story.offer["organisation_id"])
    return lead if lead.role == "school_lead" else None


def _leave(when, history, review: Review) -> None:
    if review.story.state != "delivered":
        return
    feedback.leave(history.users[review.author_id], review.story.booking_id, objectives_met=review.objectives,
                   quality=review.quality, impact=review.impact, would_recommend=review.recommend,
                   comment=review.comment, now=when)


def _reply(when, history, review: Review, text: str) -> None:
    item, lead = _feedback_of(review), _provider_lead(history, review)
    if item is not None and lead is not None:
        feedback.reply(lead, item.id, text, now=when)


def _report(when, history, review: Review, reason: str) -> None:
    item, lead = _feedback_of(review), _provider_lead(history, review)
    if item is not None and lead is not None:
        feedback.report(lead, item.id, reason, now=when)


def _hide(when, history, review: Review, reason: str) -> None:
    item = _feedback_of(review)
    if item is not None:
        feedback.hide(history.coordinator, item.id, reason, now=when)


def _follow_up(when, history, review: Review, text: str, impact: int) -> None:
    if _feedback_of(review) is not None:
        feedback.follow_up(history.users[review.author_id], review.story.booking_id, what_changed=text,
                           impact=impact, now=when)
