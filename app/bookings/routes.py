"""Booking pages. The rules (who may book, confirm, cancel, deliver; capacity; credits) live in
app.services.bookings; these views parse a form, call one service function, commit once, then
redirect (or, for htmx, render the changed block) and tell the header when credits moved."""
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cached_property

from flask import abort, current_app, flash, g, has_request_context, make_response, redirect, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from app.bookings import bp
from app.bookings.forms import (
    ActionForm,
    BespokeForm,
    BookingFilterForm,
    BookPlacesForm,
    CancelForm,
    DeliverForm,
    WaitlistForm,
    places_choices,
)
from app.extensions import db, write_transaction
from app.models import OfferSession
from app.models.bookings import BOOKING_STATUSES, POLICIES
from app.services import booking_pages, bookings, calendar, ledger, notifications, offers
from app.services.errors import Conflict, Invalid
from app.web.forms import current_actor, show_service_error
from app.web.guards import login_required
from app.web.htmx import hx_redirect, render, trigger, wants_fragment

_MAX_ID = 2**63 - 1
CREDITS_CHANGED = "credits-changed"


def _valid_id(value: int) -> int:
    # Flask's int converter takes any size; the database does not.
    if not 0 < value <= _MAX_ID:
        abort(404)
    return value


def _credits_link() -> str | None:
    # The credits area is built alongside; link to it once it exists.
    return url_for("credits.index") if "credits.index" in current_app.view_functions else None


# --- for every page: the unread count in the header, local times ----------------------------


class _Unread:
    """The header's unread count, read (one indexed query) only if a template shows it."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def count(self) -> int:
        return notifications.unread_count(self.user)


@bp.app_context_processor
def bookings_template_context():
    if not has_request_context():
        return {}
    context = {"booking_panel_for": _booking_panel_for}
    if current_user and current_user.is_authenticated:
        if "notifications_badge" not in g:
            g.notifications_badge = _Unread(current_actor())
        context["notifications_badge"] = g.notifications_badge
    return context


@bp.app_template_filter("local_time")
def local_time(value, fmt="%-d %B %Y, %H:%M"):
    """A stored UTC timestamp shown on the partnership's clock (session times are already local)."""
    if value is None:
        return ""
    try:
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(calendar.TIME_ZONE))
    except Exception:  # no time zone data: show UTC
        pass
    return value.strftime(fmt)


# --- the booking panel on an offer page -------------------------------------------------------


@dataclass
class PanelView:
    panel: booking_pages.Panel
    book_forms: dict
    wait_forms: dict
    bespoke_form: BespokeForm | None
    price: int
    credits_on: bool
    # A form sent back with errors whose session is no longer offered (now full, or started).
    orphan_form: object = None


def _booking_panel_for(page, failed=None) -> PanelView:
    """The panel's data and one form per session; `failed` is (key, form) of a form sent back with errors."""
    actor = current_actor()
    panel = booking_pages.booking_panel(actor, page.offer, page.sessions)
    credits_on = bookings.credits_enabled()
    price = (page.offer.price_credits or 0) if credits_on else 0
    failed_key, failed_form = failed if failed else (None, None)
    book_forms, wait_forms = {}, {}
    # Only the forms the panel shows: a session with a place kept for the school, or with the
    # school already waiting, shows that instead.
    for row in panel.bookable:
        sid = row.session.id
        if panel.place_kept(panel.waiting.get(sid)):
            continue
        form = failed_form if failed_key == ("book", sid) else BookPlacesForm(formdata=None, prefix=f"book-{sid}")
        form.places.choices = places_choices(min(row.places_left, bookings.MAX_PLACES), price)
        book_forms[sid] = form
    for row in panel.full:
        sid = row.session.id
        if sid in panel.waiting:
            continue
        form = failed_form if failed_key == ("wait", sid) else WaitlistForm(formdata=None, prefix=f"wait-{sid}")
        form.places.choices = places_choices(min(row.session.places, 10))
        wait_forms[sid] = form
    bespoke = None
    if panel.mode == "member" and page.offer.booking_mode == "bespoke":
        bespoke = failed_form if failed_key == ("bespoke", None) else BespokeForm(formdata=None, prefix="bespoke")
    placed = failed_form is None or any(form is failed_form for form in (*book_forms.values(), *wait_forms.values(), bespoke))
    return PanelView(panel=panel, book_forms=book_forms, wait_forms=wait_forms, bespoke_form=bespoke,
                     price=price, credits_on=credits_on, orphan_form=None if placed else failed_form)


def _offer_page_again(offer_id: int, key, form):
    """The offer page (or, for htmx, just its booking panel) with a form's errors, status 200."""
    page = offers.offer_page(current_actor(), offer_id, today=date.today(), now=offers.local_now())
    template = "offers/_booking_panel.html" if wants_fragment() else "offers/show.html"
    return render(template, page=page, offer=page.offer, panel_failed=(key, form))


def _session_of(offer_id: int, session_id: int) -> OfferSession:
    session = db.session.get(OfferSession, _valid_id(session_id))
    if session is None or session.offer_id != _valid_id(offer_id):
        abort(404)
    return session


@bp.post("/offers/<int:offer_id>/sessions/<int:session_id>/book")
@login_required
def request_places(offer_id, session_id):
    _session_of(offer_id, session_id)
    form = BookPlacesForm(prefix=f"book-{session_id}")
    if form.validate_on_submit():
        try:
            booking = bookings.request_places(current_actor(), session_id, form.places.data, form.note.data,
                                                  request_key=form.request_key.data or None)
        except (Invalid, Conflict) as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(_requested_message(booking), "success")
            return hx_redirect(url_for("bookings.show", booking_id=booking.id))
    return _offer_page_again(offer_id, ("book", session_id), form)


def _requested_message(booking) -> str:
    actor = current_actor()
    what = f"{booking.days} day{'s' if booking.days != 1 else ''}" if booking.days else \
        f"{booking.places} place{'s' if booking.places != 1 else ''}"
    if actor.role == "school_lead":
        return f"Your request for {what} is saved. Confirm it below to book."
    return f"Your request for {what} is provisional: your school lead has been asked to confirm it."


@bp.post("/offers/<int:offer_id>/sessions/<int:session_id>/waitlist")
@login_required
def join_waitlist(offer_id, session_id):
    _session_of(offer_id, session_id)
    form = WaitlistForm(prefix=f"wait-{session_id}")
    if form.validate_on_submit():
        try:
            bookings.join_waitlist(current_actor(), session_id, form.places.data)
        except (Invalid, Conflict) as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash("Your school is on the waiting list. If a place comes free, your school lead and you are told "
                  "and it is kept for you for a limited time.", "success")
            return hx_redirect(url_for("offers.show", offer_id=offer_id) + "#booking-panel")
    return _offer_page_again(offer_id, ("wait", session_id), form)


@bp.post("/offers/<int:offer_id>/request")
@login_required
def request_bespoke(offer_id):
    _valid_id(offer_id)
    form = BespokeForm(prefix="bespoke")
    if form.validate_on_submit():
        try:
            booking = bookings.request_bespoke(current_actor(), offer_id, form.days.data, form.objectives.data,
                                               form.review_on.data, form.note.data,
                                               request_key=form.request_key.data or None)
        except (Invalid, Conflict) as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(_requested_message(booking), "success")
            return hx_redirect(url_for("bookings.show", booking_id=booking.id))
    return _offer_page_again(offer_id, ("bespoke", None), form)


# --- the list ---------------------------------------------------------------------------------


@bp.get("/bookings")
@login_required
def index():
    actor = current_actor()
    form = BookingFilterForm(formdata=request.args)
    listing = booking_pages.list_bookings(
        actor,
        side=request.args.get("side"),
        status=request.args.get("status") or None,
        school_id=request.args.get("school", type=int),
        page=request.args.get("page", 1, type=int),
    )
    form.school.choices = [SelectChoice(value="", label="Any school")] + [
        SelectChoice(value=sid, label=name) for sid, name in listing.schools]
    form.status.data = listing.status or ""
    form.school.data = listing.school_id

    def page_url(number):
        args = {k: v for k, v in (("side", listing.side), ("status", listing.status), ("school", listing.school_id)) if v}
        return url_for("bookings.index", page=number, **args)

    fragment = wants_fragment()
    token = None if fragment else calendar.token_for(actor)
    return render(
        "bookings/index.html",
        block="results",
        form=form,
        listing=listing,
        sides=booking_pages.SIDES,
        statuses=BOOKING_STATUSES,
        page_url=page_url,
        fragment=fragment,
        needs=None if fragment else booking_pages.needs_action(actor),
        waiting=[] if fragment else booking_pages.waiting_list(actor),
        action_form=ActionForm(formdata=None),
        is_lead=actor.role == "school_lead" and actor.organisation_id is not None,
        calendar_url=url_for("bookings.calendar", token=token, _external=True) if token else None,
        now=datetime.now(timezone.utc).replace(tzinfo=None),
    )


@bp.post("/waitlist/<int:entry_id>/accept")
@login_required
def accept_waitlist(entry_id):
    form = ActionForm()
    if not form.validate_on_submit():
        flash("That could not be done. Please reload the page and try again.", "error")
        return hx_redirect(url_for("bookings.index"))
    try:
        booking = bookings.accept_waitlist_place(current_actor(), _valid_id(entry_id))
    except (Invalid, Conflict) as error:
        db.session.rollback()
        flash(error.message, "error")
        return hx_redirect(url_for("bookings.index"))
    db.session.commit()
    flash("The place is your school's. " + _requested_message(booking), "success")
    return hx_redirect(url_for("bookings.show", booking_id=booking.id))


# --- one booking and its actions ----------------------------------------------------------------


def _show(booking_id: int, *, status: int = 200, message: str | None = None, credit_problem=None,
          problem: str | None = None, **forms):
    actor = current_actor()
    page = booking_pages.booking_page(actor, booking_id)
    booking = page.booking
    context = {
        "confirm_form": ActionForm(formdata=None, prefix="confirm"),
        "cancel_form": CancelForm(formdata=None, prefix="cancel"),
        "deliver_form": DeliverForm(formdata=None, prefix="deliver", places=booking.places,
                                    data={"attended": booking.places}),
        "no_show_form": ActionForm(formdata=None, prefix="no-show"),
    }
    context.update({name: form for name, form in forms.items() if form is not None})
    return render(
        "bookings/show.html",
        block="detail",
        status=status,
        page=page,
        booking=booking,
        message=message,
        credit_problem=credit_problem,
        problem=problem,
        policies=POLICIES,
        credits_link=_credits_link(),
        credits_on=bookings.credits_enabled(),
        **context,
    )


@bp.get("/bookings/<int:booking_id>")
@login_required
def show(booking_id):
    return _show(_valid_id(booking_id))


def _done(booking_id: int, message: str, *, moves_credits: bool):
    """After a successful action: the changed block for htmx, or a flash and a redirect."""
    if wants_fragment():
        response = _show(booking_id, message=message)
    else:
        flash(message, "success")
        response = redirect(url_for("bookings.show", booking_id=booking_id), code=303)
    if moves_credits and bookings.credits_enabled():
        trigger(response, CREDITS_CHANGED)
    return response


def _act(booking_id: int, form, form_name: str, action, message, *, moves_credits: bool):
    """Check the viewer may see the booking (else 404), validate, act, commit once, answer."""
    booking_id = _valid_id(booking_id)
    bookings.viewable_booking(current_actor(), booking_id)
    if not form.validate_on_submit():
        return _show(booking_id, **{form_name: form})
    try:
        booking = action()
    except ledger.InsufficientCredits as error:
        db.session.rollback()
        organisation_id = current_actor().organisation_id
        return _show(booking_id, credit_problem={
            "message": error.message,
            "needed": error.amount,
            "balance": booking_pages.balance_for(organisation_id) if organisation_id else None,
        })
    except Invalid as error:
        show_service_error(form, error)
        if error.field in form:
            return _show(booking_id, **{form_name: form})
        # Not about one field (the session has not happened yet...): said at the top of the block,
        # where it is seen even when the action's form is no longer offered.
        form.form_errors.clear()
        return _show(booking_id, problem=error.message, **{form_name: form})
    except Conflict as error:
        # The booking moved on meanwhile (another tab, another person): say so and show it as it is.
        db.session.rollback()
        flash(error.message, "error")
        return hx_redirect(url_for("bookings.show", booking_id=booking_id))
    # Worded before the commit, which expires the booking: reading it after would cost a query.
    text = message(booking) if callable(message) else message
    moves_credits = moves_credits and booking.credits > 0
    db.session.commit()
    return _done(booking_id, text, moves_credits=moves_credits)


@bp.post("/bookings/<int:booking_id>/confirm")
@login_required
def confirm(booking_id):
    def message(booking):
        if booking.credits:
            return f"Booking confirmed: {booking.credits} credit{'s' if booking.credits != 1 else ''} are held until it is delivered."
        return "Booking confirmed."

    return _act(booking_id, ActionForm(prefix="confirm"), "confirm_form",
                lambda: bookings.confirm(current_actor(), booking_id), message, moves_credits=True)


@bp.post("/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id):
    form = CancelForm(prefix="cancel")

    def message(booking):
        text = "Booking cancelled."
        if booking.credits and booking.outcome_policy:
            text += " " + {
                "refund": f"The {booking.credits} held credits went back to {booking.organisation.name}.",
                "forfeit_provider": f"As it was after the deadline, the {booking.credits} held credits went to the provider.",
                "forfeit_scheme": f"As it was after the deadline, the {booking.credits} held credits went back to the scheme.",
            }.get(booking.outcome_policy, "")
        return text

    return _act(booking_id, form, "cancel_form",
                lambda: bookings.cancel(current_actor(), booking_id, form.reason.data or ""), message,
                moves_credits=True)


@bp.post("/bookings/<int:booking_id>/deliver")
@login_required
def deliver(booking_id):
    booking = bookings.viewable_booking(current_actor(), _valid_id(booking_id))
    form = DeliverForm(prefix="deliver", places=booking.places)

    def message(booking):
        text = f"Marked delivered, with {booking.attended} attending."
        if booking.credits:
            text += f" {booking.credits} credits went to {booking.offer.organisation.name}."
        return text

    return _act(booking_id, form, "deliver_form",
                lambda: bookings.deliver(current_actor(), booking_id, form.attended.data), message,
                moves_credits=True)


@bp.post("/bookings/<int:booking_id>/no-show")
@login_required
def no_show(booking_id):
    def message(booking):
        text = "Recorded as not attended."
        if booking.credits:
            text += " " + POLICIES.get(booking.outcome_policy, "") + f": {booking.credits} credits."
        return text

    return _act(booking_id, ActionForm(prefix="no-show"), "no_show_form",
                lambda: bookings.no_show(current_actor(), booking_id), message, moves_credits=True)


# --- the calendar feed --------------------------------------------------------------------------


@bp.post("/bookings/calendar-link")
@login_required
def calendar_link():
    form = ActionForm()
    if not form.validate_on_submit():
        flash("That could not be done. Please reload the page and try again.", "error")
        return hx_redirect(url_for("bookings.index"))
    replaced = calendar.token_for(current_actor()) is not None
    calendar.regenerate_token(current_actor())
    db.session.commit()
    flash("A new calendar address is ready: the old one no longer works." if replaced else
          "Your school's calendar address is ready. Add it to your calendar app as a subscription.", "success")
    return hx_redirect(url_for("bookings.index") + "#calendar")


@bp.get("/calendar/<token>.ics", endpoint="calendar")
def calendar_feed(token):
    organisation, rows = calendar.feed(token)
    body = calendar.to_ical(
        organisation, rows, host=request.host.split(":")[0],
        booking_url=lambda booking: url_for("bookings.show", booking_id=booking.id, _external=True),
    )
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="waymark-bookings.ics"'
    # The address is the secret: keep the feed out of shared caches and search engines.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response



# --- notifications -----------------------------------------------------------------------------


@bp.get("/notifications")
@login_required
def notifications_index():
    page = notifications.list_for(current_actor(), page=request.args.get("page", 1, type=int))
    return render("bookings/notifications.html", page=page, form=ActionForm(formdata=None),
                  page_url=lambda number: url_for("bookings.notifications_index", page=number))


@bp.post("/notifications/read")
@login_required
def notifications_read_all():
    form = ActionForm()
    if form.validate_on_submit():
        count = notifications.mark_all_read(current_actor())
        db.session.commit()
        flash("All notifications are marked as read." if count else "There was nothing unread.", "success")
    else:
        flash("That could not be done. Please reload the page and try again.", "error")
    return hx_redirect(url_for("bookings.notifications_index"))


@bp.get("/notifications/<int:notification_id>")
@login_required
def notification_open(notification_id):
    actor = current_actor()
    # Marking read writes: end the page's read transaction and write in one that begins as a writer
    # (SQLite cannot turn a reading transaction into a writing one while someone else writes).
    db.session.rollback()
    with write_transaction():
        row = notifications.open_notification(actor, notification_id)
        link = notifications.local_link(row.link)
        db.session.commit()
    return redirect(link or url_for("bookings.notifications_index"), code=303)
