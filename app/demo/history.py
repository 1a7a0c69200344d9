"""A year of credits and take-up before the anchor, played through the real services.

The story is planned from the world (its Random, in a fixed order), then played in time
order through app.services.ledger and app.services.bookings exactly as people would have
made it: the yearly allocation, purchases, seed credits, a reversal, an adjustment, and
bookings requested, confirmed, delivered, cancelled, missed and waited for. Nothing writes
ledger rows by hand, so every invariant the services keep holds: `flask credits verify` is
clean after the demo.

The services stamp rows with the wall clock. While the history plays, a demo clock stamps
each new row instead with the time of the step being played (at insert: the append-only
ledger rows are never updated), and the steps pass that time as `now`; so the same seed and
anchor give the same rows.
"""
import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import event, func, select
from sqlalchemy.orm.attributes import flag_modified

from app.demo.feedback import plan_feedback
from app.demo.offers import Staff, demo_user, staff_by_org, weighted, working_moment
from app.demo.schoolyear import academic_year_of, terms_of
from app.demo.world import Org, TaxonomyIds, World
from app.extensions import db
from app.models import (
    Account, AuditLog, Booking, Entry, Notification, Offer, OfferSession, Organisation, Transfer, User, WaitlistEntry,
)
from app.services import bookings, credits, ledger, notify

# Volumes are set by time: every step goes through the services (a few milliseconds each),
# and the partnership must load in seconds: about 230 bookings for its 300 schools.
# A past session's bookings: how many schools, how many places each, and what became of them.
BOOKINGS_PER_PAST_SESSION = (0, 1, 1, 1, 2)
PLACES = (1, 1, 1, 1, 2, 2, 3)
PAST_FATES = {"delivered": 80, "no_show": 4, "cancelled_early": 7, "cancelled_late": 4, "withdrawn": 5}
# Schools book up to this many days ahead (at least a week ahead).
BOOKED_UP_TO = 60
# Sessions to come within this many days of the first one after the anchor already have bookings.
BOOKED_AHEAD_DAYS = 35
BOOKINGS_PER_FUTURE_SESSION = (0, 0, 0, 0, 1, 1)
FUTURE_FATES = {"confirmed": 55, "requested": 30, "cancelled_early": 10, "withdrawn": 5}
# Bespoke support agreed over the year, per school in the history's area.
BESPOKE_PER_SCHOOL = 0.05
PURCHASERS = 6
SEED_GRANTS = 4
SEED_CREDITS = 15
# A booking a school can no longer pay for is withdrawn by whoever asked.
NO_CREDITS_REASON = "Not enough credits left this year: we will ask again after the next allocation."

EARLY_REASONS = ("Staff illness: we cannot release anyone that day.", "It clashes with our inspection visit.",
                 "Our cover fell through.", "The colleague who was coming has left.", None)
LATE_REASONS = ("Cover fell through on the morning.", "Snow closed the school.", "Burst pipe: school closed.", None)
WITHDRAWN_REASONS = ("Booked the wrong date by mistake.", "We found the same training closer to home.",
                     "Our head asked us to wait until next term.")
REQUEST_NOTES = ("Two of us would like to come: our English lead and an ECT.", "Is there parking on site?",
                 "Our new SENCO would particularly value this.", "We may need a second place later in the term.",
                 None, None, None, None)
OBJECTIVES = (
    "- Audit how we teach {topic} now\n- Coach two colleagues through a half term\n"
    "- Leave us with a plan we can keep going ourselves",
    "Help our {audience} lead on {topic}: observe, agree three priorities, then work alongside them "
    "until the review.",
    "- A shared picture of our strengths and gaps in {topic}\n- Joint planning with the team\n"
    "- Evidence of impact we can show governors at the review",
    "Support a new subject lead with {topic}, with a visit each half term and a short written note after each.",
)
AUDIENCES = ("subject", "phase", "senior", "middle")


# --- the demo clock -----------------------------------------------------------------------


@dataclass
class DemoClock:
    """Stamps rows the services create with the time of the step being played."""
    now: datetime
    anchor_at: datetime

    def stamp(self, session, flush_context, instances) -> None:
        for obj in session.new:
            if isinstance(obj, (Transfer, Entry, Account, Booking, WaitlistEntry, Notification)):
                if obj.created_at is None:
                    obj.created_at = self.now
            if isinstance(obj, Booking):
                obj.updated_at = self.now
            elif isinstance(obj, AuditLog) and obj.at is None:
                obj.at = self.now
            elif isinstance(obj, Notification) and self.now < self.anchor_at - timedelta(days=10):
                # Old news has been read; the last week or so is still waiting in the list.
                obj.read_at = self.now + timedelta(hours=20)
        for obj in session.dirty:
            if isinstance(obj, Booking):
                obj.updated_at = self.now
                # Even when unchanged: otherwise the column's onupdate stamps the wall clock.
                flag_modified(obj, "updated_at")

    @contextlib.contextmanager
    def running(self):
        session = db.session()
        event.listen(session, "before_flush", self.stamp)
        try:
            yield self
        finally:
            event.remove(session, "before_flush", self.stamp)


# --- the plan -------------------------------------------------------------------------------


@dataclass(eq=False)
class Story:
    """One booking from request to its end, and what has happened to it so far."""
    school: Org
    requester_id: int
    offer: dict
    session: dict | None
    places: int = 1
    days: int | None = None
    objectives: str | None = None
    review_on: date | None = None
    note: str | None = None
    booking_id: int | None = None
    state: str = "planned"


@dataclass
class HistoryReport:
    bookings: dict[str, int] = field(default_factory=dict)
    transfers: int = 0
    waitlist: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    withdrawn_for_credits: int = 0


class History:
    """Plans the year as timed steps (plan), then plays them through the services (play)."""

    def __init__(self, world: World, taxonomy: TaxonomyIds):
        self.world = world
        self.rng = world.rng
        self.anchor_at = world.anchor_at
        self.steps: list[tuple[datetime, int, object, tuple]] = []
        self.staff = staff_by_org(world)
        self.orgs = {org.id: org for org in world.orgs}
        area = world.history_la_codes
        self.schools = [s for s in world.schools() if s.la.code in area]
        self.bookers = [s for s in self.schools if not s.isolated]
        self.primary, self.secondary = world.demo_orgs["primary"], world.demo_orgs["secondary"]
        self.coordinator_id = demo_user(world, "coordinator")["id"]
        self.teacher_id = demo_user(world, "teacher")["id"]
        self.offers = {o["id"]: o for o in world.offers
                       if o["status"] == "published" and self.orgs[o["organisation_id"]].la.code in area}
        self.sessions_by_offer: dict[int, list[dict]] = {}
        for row in world.offer_sessions:
            if row["offer_id"] in self.offers and row["cancelled_at"] is None:
                self.sessions_by_offer.setdefault(row["offer_id"], []).append(row)
        self.booked_places: dict[int, int] = {}
        self.booked: set[tuple[int, int]] = set()  # (school, session): a school books a session once
        self.phases = _offer_terms(world, taxonomy, "phase")
        self.audiences = _offer_terms(world, taxonomy, "audience")
        self._by_phase: dict[str, list[Org]] = {}
        for school in self.bookers:
            for phase in SCHOOL_TAKES[school.school.phase]:
                self._by_phase.setdefault(phase, []).append(school)
        # The school year in progress a year before the anchor: its allocation opens the story.
        # (This year's is left for the coordinator to run: a journey of the demo.)
        autumn = terms_of(academic_year_of(world.history_from))[0]
        self.year = autumn.start.year
        self.year_label = f"{self.year}-{(self.year + 1) % 100:02d}"
        self.allocated_at = datetime.combine(autumn.start, time(8, 30))
        self.invoice_numbers = iter(range(101, 10_000))
        # Sessions to come up to here already have bookings: the first weeks of term after the
        # anchor (counted from the first school day, so that a holiday anchor has them too).
        first = min((r["starts_at"] for rows in self.sessions_by_offer.values() for r in rows
                     if r["starts_at"] >= self.anchor_at), default=self.anchor_at)
        self.horizon = max(first, self.anchor_at) + timedelta(days=BOOKED_AHEAD_DAYS)
        self.stories: list[Story] = []

    # --- scheduling ----------------------------------------------------------------------

    def at(self, when: datetime, step, *args) -> None:
        self.steps.append((when, len(self.steps), step, args))

    def plan(self) -> None:
        self.plan_credits()
        self.plan_demo_schools()
        self.plan_past_sessions()
        self.plan_sessions_to_come()
        self.plan_bespoke()
        self.plan_waiting_list()
        # Last, from a Random of its own: feedback does not change the bookings' story.
        plan_feedback(self)

    # --- credits ---------------------------------------------------------------------------

    def plan_credits(self) -> None:
        rng = self.rng
        # The coordinator's yearly allocation by pupil bands with a cap, for the whole
        # partnership at once (by authority at national scale, where it covers only three).
        areas = [None] if self.world.scale.name == "partnership" else sorted(self.world.history_la_codes)
        for la_code in areas:
            self.at(self.allocated_at, self.allocate, la_code)
        buyers = [self.primary] + rng.sample([s for s in self.bookers if not s.demo], PURCHASERS - 1)
        for index, school in enumerate(buyers):
            when = self._moment(self.allocated_at + timedelta(days=60), self.anchor_at - timedelta(days=20))
            amount = rng.choice((20, 25, 30, 50))
            invoice = f"WM-{when.year}-{next(self.invoice_numbers):04d}"
            self.at(when, self.issue, "purchase", school, amount, ledger.new_key("purchase", invoice),
                    f"Bought {amount} credits", invoice)
            if index == 1:
                # Recorded 5 credits more than the invoice: a coordinator corrects it, with the reason.
                self.at(when + timedelta(days=3, hours=2), self.adjust, school, -5,
                        f"Invoice {invoice} was for {amount - 5} credits, not {amount}: corrected.")
        host = rng.choice([s for s in self.bookers if not s.demo])
        self.at(self._moment(self.anchor_at - timedelta(days=150), self.anchor_at - timedelta(days=30)),
                self.adjust, host, 6, "Hosted the cluster's moderation day for six schools: credits agreed "
                                      "by the partnership board.")
        isolated = [s for s in self.schools if s.isolated]
        for index, school in enumerate(rng.sample(isolated, min(SEED_GRANTS, len(isolated)))):
            when = self._moment(self.anchor_at - timedelta(days=120), self.anchor_at - timedelta(days=40))
            reason = "Seed credits: a small rural school not yet in a network, after an outreach visit."
            self.at(when, self.issue, "grant", school, SEED_CREDITS,
                    ledger.new_key("grant", self.year, school.id), reason)
            if index == 0:
                # The same grant posted twice by mistake, and the duplicate reversed the next day.
                self.at(when + timedelta(minutes=7), self.issue, "grant", school, SEED_CREDITS,
                        ledger.new_key("grant", self.year, school.id, "again"), reason)
                self.at(when + timedelta(days=1, hours=1), self.reverse_duplicate,
                        ledger.new_key("grant", self.year, school.id, "again"),
                        "Duplicate: the seed-credit grant was posted twice.")

    # --- bookings on sessions --------------------------------------------------------------

    def plan_demo_schools(self) -> None:
        """The contract's journeys: the lead's school has taken support over the year, has
        bookings to come and one waiting for the lead; the secondary school has earned credits."""
        # The demo teacher books what teachers and subject leads go to; the head, leadership.
        lead_id = self.staff[self.primary.id].lead["id"]
        for past, spread, audiences, fates, requester in (
            (True, 4, "staff", ("delivered", "delivered", "cancelled_early", "delivered"), self.teacher_id),
            (True, 1, "leaders", ("delivered",), lead_id),
            (False, 2, "staff", ("confirmed", "requested"), self.teacher_id),
            (False, 1, "leaders", ("confirmed",), lead_id),
        ):
            for row, fate in zip(self._sessions_for(self.primary, past, spread, audiences), fates):
                self.plan_booking(self.primary, row, fate, requester_id=requester)
        own = [row for offer_id, rows in self.sessions_by_offer.items()
               if self.offers[offer_id]["organisation_id"] == self.secondary.id for row in rows
               if row["starts_at"] < self.anchor_at]
        own.sort(key=lambda row: row["starts_at"])
        for row in own[:-1][-4:]:
            for school in self._receivers(self.offers[row["offer_id"]], 2):
                self.plan_booking(school, row, "delivered")
        if own:
            # The most recent: delivered for one school, still waiting to be marked for another.
            last = own[-1]
            takers = self._receivers(self.offers[last["offer_id"]], 2)
            for school, fate in zip(takers, ("delivered", "awaiting_delivery")):
                self.plan_booking(school, last, fate)

    def plan_past_sessions(self) -> None:
        rng = self.rng
        for row in self._all_sessions(lambda r: r["starts_at"] < self.anchor_at):
            offer = self.offers[row["offer_id"]]
            for school in self._receivers(offer, rng.choice(BOOKINGS_PER_PAST_SESSION)):
                fate = weighted(rng, PAST_FATES)
                self.plan_booking(school, row, fate)

    def plan_sessions_to_come(self) -> None:
        rng = self.rng
        for row in self._all_sessions(lambda r: self.anchor_at <= r["starts_at"] < self.horizon):
            offer = self.offers[row["offer_id"]]
            for school in self._receivers(offer, rng.choice(BOOKINGS_PER_FUTURE_SESSION)):
                self.plan_booking(school, row, weighted(rng, FUTURE_FATES))

    def plan_booking(self, school: Org, row: dict, fate: str, requester_id: int | None = None) -> Story | None:
        """Schedule a booking's steps for its fate, if its dates allow; returns None otherwise."""
        rng, offer = self.rng, self.offers[row["offer_id"]]
        left = row["places"] - self.booked_places.get(row["id"], 0)
        places = min(rng.choice(PLACES), left)
        if places < 1 or school.id == offer["organisation_id"] or (school.id, row["id"]) in self.booked:
            return None
        start = row["starts_at"]
        low = max(start - timedelta(days=BOOKED_UP_TO), offer["published_at"] + timedelta(days=1),
                  self.allocated_at + timedelta(days=1))
        high = min(start - timedelta(days=7), self.anchor_at - timedelta(days=2))
        if fate == "requested":
            # Still waiting for its lead: asked in the last few days, not weeks ago.
            low, high = max(low, self.anchor_at - timedelta(days=6)), min(start - timedelta(days=2), self.anchor_at)
        requested = self._moment(low, high - timedelta(hours=1))
        confirmed = office_hours(requested + timedelta(hours=rng.randint(2, 80)))
        deadline = start - timedelta(days=offer["cancellation_days"])
        if not self.allocated_at <= requested < min(start - timedelta(days=2), self.anchor_at):
            return None
        if fate not in ("requested", "withdrawn") and confirmed >= min(start, self.anchor_at):
            fate = "requested" if start > self.anchor_at else None
            if fate is None:
                return None
        story = Story(school, requester_id or self._requester(school, offer), offer, row, places,
                      note=rng.choice(REQUEST_NOTES))
        self.booked_places[row["id"]] = self.booked_places.get(row["id"], 0) + places
        self.booked.add((school.id, row["id"]))
        self.stories.append(story)
        self.at(requested, self.request, story)
        if fate == "withdrawn":
            withdrawn = office_hours(requested + timedelta(hours=rng.randint(3, 40)))
            self.at(max(requested, min(withdrawn, self.anchor_at - timedelta(hours=1))), self.cancel, story,
                    "requester", rng.choice(WITHDRAWN_REASONS))
            return story
        if fate == "requested":
            return story
        self.at(confirmed, self.confirm, story)
        after = office_hours(row["ends_at"] + timedelta(hours=rng.randint(1, 70)))
        if fate == "cancelled_early" and confirmed < deadline - timedelta(hours=2):
            when = self._moment(confirmed + timedelta(hours=1), min(deadline, self.anchor_at) - timedelta(hours=1))
            self.at(when, self.cancel, story, "lead", rng.choice(EARLY_REASONS))
        elif fate == "cancelled_late" and deadline < start - timedelta(hours=3) and confirmed < deadline:
            late = office_hours(start - timedelta(hours=rng.randint(2, 20)))
            late = late if deadline < late < start else start - timedelta(hours=2)
            self.at(late, self.cancel, story, "lead", rng.choice(LATE_REASONS))
        elif fate in ("delivered", "no_show", "cancelled_early", "cancelled_late") and after < self.anchor_at:
            self.at(after, self.no_show if fate == "no_show" else self.deliver, story)
        return story

    # --- bespoke support -------------------------------------------------------------------

    def plan_bespoke(self) -> None:
        rng = self.rng
        bespoke = [o for o in self.offers.values() if o["booking_mode"] == "bespoke"]
        if not bespoke:
            return
        wanted = round(BESPOKE_PER_SCHOOL * len(self.schools))
        # The demo school's head agreed two pieces of support: one done, one under way.
        near = [o for o in bespoke if "primary" in self.phases.get(o["id"], ())
                and o["organisation_id"] != self.primary.id
                and self.orgs[o["organisation_id"]].la.code == self.primary.la.code]
        lead_id = self.staff[self.primary.id].lead["id"]
        for offer, fate in zip(rng.sample(near, min(2, len(near))), ("delivered", "ongoing")):
            self.plan_bespoke_booking(self.primary, offer, fate, requester_id=lead_id)
        for _ in range(wanted):
            offer = rng.choice(bespoke)
            takers = self._receivers(offer, 1)
            if takers:
                fate = weighted(rng, {"delivered": 55, "ongoing": 25, "requested": 12, "withdrawn": 8})
                self.plan_bespoke_booking(takers[0], offer, fate)

    def plan_bespoke_booking(self, school: Org, offer: dict, fate: str, requester_id: int | None = None) -> None:
        rng = self.rng
        low = max(self.allocated_at + timedelta(days=7), offer["published_at"] + timedelta(days=1))
        if fate == "delivered":
            requested = self._moment(low, self.anchor_at - timedelta(days=60))
        else:
            requested = self._moment(max(low, self.anchor_at - timedelta(days=50)), self.anchor_at - timedelta(days=3))
        if requested < low or requested >= self.anchor_at:
            return
        days = rng.choice((1, 1, 2, 2, 3, 4, 5))
        title = offer["title"]
        story = Story(
            school, requester_id or self._requester(school, offer), offer, None, days=days,
            objectives=rng.choice(OBJECTIVES).format(topic=title[:1].lower() + title[1:],
                                                     audience=rng.choice(AUDIENCES)),
            review_on=(requested + timedelta(weeks=rng.randint(8, 16))).date(), note=rng.choice(REQUEST_NOTES),
        )
        self.stories.append(story)
        self.at(requested, self.request, story)
        if fate == "withdrawn":
            self.at(requested + timedelta(days=1), self.cancel, story, "requester", rng.choice(WITHDRAWN_REASONS))
        elif fate in ("delivered", "ongoing"):
            confirmed = office_hours(requested + timedelta(hours=rng.randint(4, 72)))
            self.at(min(confirmed, self.anchor_at - timedelta(hours=1)), self.confirm, story)
            if fate == "delivered":
                done = office_hours(confirmed + timedelta(weeks=rng.randint(3, 7)))
                self.at(min(done, self.anchor_at - timedelta(days=1)), self.deliver, story)

    # --- the waiting list ------------------------------------------------------------------

    def plan_waiting_list(self) -> None:
        """One full session to come with a waiting list in every state: a school took a released
        place (accepted), one let its offer lapse (expired), one holds an offer now (offered),
        one is still waiting."""
        rng = self.rng
        candidates = [row for row in self._all_sessions(
            lambda r: self.world.sessions_from <= r["starts_at"].date() and r["starts_at"] > self.anchor_at
            + timedelta(days=self.offers[r["offer_id"]]["cancellation_days"] + 2))
            if self.offers[row["offer_id"]]["price_credits"] > 0 and row["places"] <= 16
            and not self.booked_places.get(row["id"]) and not self.orgs[self.offers[row["offer_id"]]["organisation_id"]].demo]
        if not candidates:
            return
        row = min(candidates, key=lambda r: (r["places"], r["starts_at"], r["id"]))
        offer = self.offers[row["offer_id"]]
        takers = self._receivers(offer, row["places"] + 4, places_free=False)
        if len(takers) < row["places"] + 4:
            return
        # Fill it with one place per school, confirmed a few weeks ago.
        full: list[Story] = []
        for school in takers[:row["places"]]:
            story = Story(school, self._requester(school, offer), offer, row, 1)
            requested = self._moment(self.anchor_at - timedelta(days=30), self.anchor_at - timedelta(days=20))
            self.stories.append(story)
            self.at(requested, self.request, story)
            self.at(office_hours(requested + timedelta(hours=rng.randint(2, 30))), self.confirm, story, False)
            full.append(story)
        self.booked_places[row["id"]] = row["places"]
        waiting = takers[row["places"]:]
        for index, school in enumerate(waiting):
            self.at(self.anchor_at - timedelta(days=14, hours=-index), self.join_waitlist, school, row)
        first, second = full[0], full[1]
        released = self.anchor_at - timedelta(days=9)
        self.at(released, self.cancel, first, "lead", rng.choice(EARLY_REASONS))
        self.at(released + timedelta(hours=26), self.accept_offer, waiting[0], row)
        self.at(released + timedelta(hours=26, minutes=40), self.confirm_accepted, waiting[0], row)
        released = self.anchor_at - timedelta(days=4)
        self.at(released, self.cancel, second, "lead", rng.choice(EARLY_REASONS))
        # Not taken within the 48 hours: it lapses, and the place passes down the list.
        self.at(self.anchor_at - timedelta(hours=12), self.expire_offers)

    # --- choosing --------------------------------------------------------------------------

    def _all_sessions(self, keep) -> list[dict]:
        rows = [row for rows in self.sessions_by_offer.values() for row in rows if keep(row)]
        return sorted(rows, key=lambda row: (row["starts_at"], row["id"]))

    def _sessions_for(self, school: Org, past: bool, spread: int, audiences: str) -> list[dict]:
        """`spread` sessions the school could take, for its staff or its leaders, spaced over the
        past year or the weeks to come, on offers it has not booked yet."""
        takes = SCHOOL_TAKES[school.school.phase]
        rows = self._all_sessions(lambda r: (r["starts_at"] < self.anchor_at - timedelta(days=7) if past
                                             else self.anchor_at < r["starts_at"] < self.horizon))
        rows = [r for r in rows if self.offers[r["offer_id"]]["organisation_id"] != school.id
                and takes & self.phases.get(r["offer_id"], set())
                and self._meant_for(r["offer_id"]) == audiences
                and not any((school.id, other["id"]) in self.booked for other in self.sessions_by_offer[r["offer_id"]])
                and self.orgs[self.offers[r["offer_id"]]["organisation_id"]].la.code == school.la.code
                and r["starts_at"] - timedelta(days=BOOKED_UP_TO) > self.allocated_at
                # Bookable before the anchor: in reach, and the offer already published.
                and r["starts_at"] - timedelta(days=BOOKED_UP_TO) < self.anchor_at - timedelta(days=3)
                and self.offers[r["offer_id"]]["published_at"] < self.anchor_at - timedelta(days=3)]
        if not rows:
            return []
        picked, offers_seen = [], set()
        for index in range(spread):
            position = (len(rows) * index) // spread
            for row in rows[position:] + rows[:position]:
                if row["offer_id"] not in offers_seen:
                    picked.append(row)
                    offers_seen.add(row["offer_id"])
                    break
        return picked

    def _receivers(self, offer: dict, count: int, places_free: bool = True) -> list[Org]:
        """`count` different schools the offer suits, mostly from the provider's own authority."""
        if count <= 0:
            return []
        provider = self.orgs[offer["organisation_id"]]
        phases = sorted(self.phases.get(offer["id"], ()))
        pool = list({s.id: s for phase in phases for s in self._by_phase.get(phase, ())}.values())
        pool = [s for s in pool if s.id != provider.id]
        local = [s for s in pool if s.la.code == provider.la.code]
        chosen: list[Org] = []
        for _ in range(count * 3):
            source = local if local and self.rng.random() < 0.85 else pool
            if not source:
                break
            school = self.rng.choice(source)
            if school not in chosen:
                chosen.append(school)
            if len(chosen) == count:
                break
        return chosen

    def _meant_for(self, offer_id: int) -> str:
        """"leaders" when leaders are among the offer's audiences, "staff" when only staff are."""
        audiences = self.audiences.get(offer_id, set())
        return "leaders" if audiences & LEAD_AUDIENCES else "staff" if audiences & STAFF_AUDIENCES else "other"

    def _requester(self, school: Org, offer: dict) -> int:
        """Staff ask for what is meant for staff (the lead, now and then); leadership, the lead."""
        staff = self.staff.get(school.id, Staff())
        if staff.teachers and self._meant_for(offer["id"]) == "staff" and self.rng.random() < 0.85:
            return self.rng.choice(staff.teachers)["id"]
        return staff.lead["id"]

    def _moment(self, low: datetime, high: datetime) -> datetime:
        """A working-hours moment between low and high (low when they cross)."""
        if high <= low:
            return low
        span = (high - low).days
        moment = working_moment(self.rng, low.date() + timedelta(days=self.rng.randint(0, span)))
        return min(max(moment, low), high)

    # --- the steps, played through the services ---------------------------------------------

    def play(self, users: dict[int, User]) -> HistoryReport:
        self.users = users
        self.coordinator = users[self.coordinator_id]
        self.report = HistoryReport()
        clock = DemoClock(self.anchor_at, self.anchor_at)
        # The services write an email for every step; a loaded demo must not send a year of them.
        db.session.info[notify.SUPPRESS_MAIL] = True
        with clock.running():
            for when, _, step, args in sorted(self.steps, key=lambda s: (s[0], s[1])):
                clock.now = when
                step(when, *args)
                db.session.flush()
                self.report.steps += 1
        db.session.info.pop(notify.SUPPRESS_MAIL, None)
        return self.report

    def allocate(self, when, la_code) -> None:
        if bookings.credits_enabled():
            preview = credits.allocation_preview(self.year_label, la_code)
            credits.post_allocation(self.coordinator, year=self.year_label, la_code=la_code,
                                    fingerprint=preview.fingerprint)

    def issue(self, when, kind, school, amount, key, reason, invoice=None) -> None:
        if bookings.credits_enabled():
            ledger.issue(self.coordinator, kind=kind, organisation_id=school.id, amount=amount, key=key,
                         reason=reason, invoice_reference=invoice)

    def adjust(self, when, school, amount, reason) -> None:
        if bookings.credits_enabled():
            ledger.adjust(self.coordinator, organisation_id=school.id, amount=amount,
                          key=ledger.new_key("adjustment", school.id, when.isoformat()), reason=reason)

    def reverse_duplicate(self, when, key, reason) -> None:
        if bookings.credits_enabled():
            duplicate = db.session.scalar(select(Transfer).where(Transfer.idempotency_key == key))
            ledger.reverse(self.coordinator, transfer_id=duplicate.id, key=ledger.new_key("reversal", key),
                           reason=reason)

    def _lead(self, org_id: int) -> User:
        staff = self.staff.get(org_id, Staff())
        return self.users[staff.lead["id"]] if staff.lead else self.coordinator

    def request(self, when, story: Story) -> None:
        actor = self.users[story.requester_id]
        if story.session is not None:
            booking = bookings.request_places(actor, story.session["id"], story.places, story.note, now=when)
        else:
            booking = bookings.request_bespoke(actor, story.offer["id"], story.days, story.objectives,
                                               story.review_on, story.note)
        story.booking_id, story.state = booking.id, "requested"

    def confirm(self, when, story: Story, withdraw_if_short: bool = True) -> None:
        if story.state != "requested":
            return
        try:
            with db.session.begin_nested():
                bookings.confirm(self._lead(story.school.id), story.booking_id, now=when)
        except ledger.InsufficientCredits:
            if not withdraw_if_short:
                return  # it keeps its place, waiting for the lead to find the credits
            bookings.cancel(self.users[story.requester_id], story.booking_id, NO_CREDITS_REASON, now=when)
            story.state = "cancelled"
            self.report.withdrawn_for_credits += 1
            return
        story.state = "confirmed"

    def deliver(self, when, story: Story) -> None:
        if story.state != "confirmed":
            return
        places = story.places
        attended = places - 1 if places > 1 and self.rng.random() < 0.2 else places
        bookings.deliver(self._lead(story.offer["organisation_id"]), story.booking_id, attended, now=when)
        story.state = "delivered"

    def no_show(self, when, story: Story) -> None:
        if story.state != "confirmed":
            return
        bookings.no_show(self._lead(story.offer["organisation_id"]), story.booking_id, now=when)
        story.state = "no_show"

    def cancel(self, when, story: Story, who: str, reason: str | None) -> None:
        if story.state not in ("requested", "confirmed"):
            return
        if who == "requester" and story.state != "requested":
            return
        actor = self.users[story.requester_id] if who == "requester" else self._lead(story.school.id)
        bookings.cancel(actor, story.booking_id, reason or "", now=when)
        story.state = "cancelled"

    def join_waitlist(self, when, school: Org, row: dict) -> None:
        bookings.join_waitlist(self.users[self._requester(school, self.offers[row["offer_id"]])], row["id"], 1)

    def accept_offer(self, when, school: Org, row: dict) -> None:
        entry = db.session.scalar(select(WaitlistEntry).where(
            WaitlistEntry.session_id == row["id"], WaitlistEntry.organisation_id == school.id,
            WaitlistEntry.status == "offered"))
        if entry is None:
            return
        bookings.accept_waitlist_place(self.users[entry.requested_by_id], entry.id, now=when)

    def confirm_accepted(self, when, school: Org, row: dict) -> None:
        entry = db.session.scalar(select(WaitlistEntry).where(
            WaitlistEntry.session_id == row["id"], WaitlistEntry.organisation_id == school.id,
            WaitlistEntry.status == "accepted"))
        if entry is None:
            return
        story = Story(school, entry.requested_by_id, self.offers[row["offer_id"]], row, entry.places,
                      booking_id=entry.booking_id, state="requested")
        self.stories.append(story)
        self.confirm(when, story, False)

    def expire_offers(self, when) -> None:
        bookings.expire_waitlist_offers(now=when)


# --- helpers --------------------------------------------------------------------------------

# Offers for these audiences are booked by a member of staff; the others by the school's lead.
STAFF_AUDIENCES = frozenset({"teacher", "early-career-teacher", "middle-leader", "teaching-assistant", "senco",
                             "trainee"})
LEAD_AUDIENCES = frozenset({"head", "senior-leader", "governor", "business-manager"})
# The offer phases a school of each phase takes up.
SCHOOL_TAKES = {
    "primary": {"primary"}, "nursery": {"early-years"}, "secondary": {"secondary"},
    "all_through": {"primary", "secondary", "all-through"}, "special": {"special"},
    "pru": {"alternative-provision", "secondary"},
}


def _offer_terms(world: World, taxonomy: TaxonomyIds, facet: str) -> dict[int, set[str]]:
    """offer id → the slugs of its terms in one facet."""
    slugs = {term_id: slug for (of_facet, slug), term_id in taxonomy.terms.items() if of_facet == facet}
    found: dict[int, set[str]] = {}
    for row in world.offer_terms:
        slug = slugs.get(row["term_id"])
        if slug:
            found.setdefault(row["offer_id"], set()).add(slug)
    return found


def office_hours(moment: datetime) -> datetime:
    """The moment, or the next working one if it falls at night or at a weekend: people confirm
    and mark bookings between 07:00 and 19:00 on weekdays."""
    if moment.hour >= 19:
        moment = (moment + timedelta(days=1)).replace(hour=moment.hour - 11)
    elif moment.hour < 7:
        moment = moment.replace(hour=moment.hour + 8)
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    return moment


def _chunks(ids: list[int], size: int = 900):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def plan_history(world: World, taxonomy: TaxonomyIds) -> History:
    history = History(world, taxonomy)
    history.plan()
    return history


def play_history(history: History) -> HistoryReport:
    """Play the planned year into the current session's database (the caller commits)."""
    wanted = {story.requester_id for story in history.stories} | {history.coordinator_id}
    wanted |= {staff.lead["id"] for staff in history.staff.values() if staff.lead}
    wanted |= {t["id"] for staff in history.staff.values() for t in staff.teachers}
    users = {}
    for chunk in _chunks(sorted(wanted)):
        users.update({u.id: u for u in db.session.scalars(select(User).where(User.id.in_(chunk)))})
    # The rows the steps touch, loaded in a few queries and held (the session only keeps weak
    # references), so that the services find them in the identity map instead of one query each.
    history.held = [users]
    for model, ids in ((Organisation, [o.id for o in history.orgs.values()]), (Offer, list(history.offers)),
                       (OfferSession, [r["id"] for rows in history.sessions_by_offer.values() for r in rows])):
        for chunk in _chunks(sorted(ids)):
            history.held.append(list(db.session.scalars(select(model).where(model.id.in_(chunk)))))
    report = history.play(users)
    report.bookings = dict(db.session.execute(select(Booking.status, func.count()).group_by(Booking.status)).all())
    report.waitlist = dict(db.session.execute(
        select(WaitlistEntry.status, func.count()).group_by(WaitlistEntry.status)).all())
    report.transfers = db.session.scalar(select(func.count()).select_from(Transfer))
    return report
