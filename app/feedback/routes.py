"""Feedback pages: leave feedback on a delivered booking, the provider's reply and report, the
impact follow-up; and the pieces other pages show (an offer's or a provider's figures and latest
comments, a booking's feedback, the ratings on catalogue cards).

Who may do what is decided by app.services.feedback; these views parse a form, call it, commit
once and redirect (or, for htmx, render the changed item in place)."""
from dataclasses import dataclass, field

from flask import abort, flash, has_request_context, url_for

from app.auth.routes import safe_next
from app.extensions import db
from app.feedback import bp
from app.feedback.forms import FeedbackForm, FollowUpForm, ReplyForm, ReportForm
from app.models.base import utcnow
from app.services import bookings
from app.services import feedback as service
from app.services.errors import Conflict, Invalid
from app.web.forms import current_actor, show_service_error
from app.web.guards import login_required
from app.web.htmx import hx_redirect, render, wants_fragment

_MAX_ID = 2**63 - 1
LATEST = 5


def _valid_id(value: int) -> int:
    # Flask's int converter takes any size; the database does not.
    if not 0 < value <= _MAX_ID:
        abort(404)
    return value


def _booking_url(booking_id: int, anchor: str = "") -> str:
    return url_for("bookings.show", booking_id=booking_id) + anchor


# --- what the pages show -------------------------------------------------------------------------


@dataclass
class Item:
    """One feedback item as this viewer sees it, with the forms they may use on it."""

    feedback: object
    follow_up: object = None
    reply_form: ReplyForm | None = None
    report_form: ReportForm | None = None
    message: str | None = None


@dataclass
class Section:
    """An offer's or a provider's figures and latest feedback."""

    subject: str
    summary: object
    items: list[Item] = field(default_factory=list)
    can_see_comments: bool = False


@dataclass
class BookingFeedback:
    can_leave: bool
    can_follow_up: bool
    item: Item | None
    follow_up: object
    follow_up_due: object
    is_receiver: bool


def _item(viewer, feedback, *, reply_form=None, report_form=None, message=None) -> Item:
    if reply_form is None and service.can_reply(viewer, feedback):
        reply_form = ReplyForm(formdata=None, prefix=f"reply-{feedback.id}")
    if report_form is None and service.can_report(viewer, feedback):
        report_form = ReportForm(formdata=None, prefix=f"report-{feedback.id}")
    return Item(feedback=feedback, follow_up=getattr(feedback, "follow_up", None),
                reply_form=reply_form, report_form=report_form, message=message)


def feedback_section(*, offer_id: int | None = None, provider_id: int | None = None, limit: int = LATEST) -> Section:
    viewer = current_actor()
    subject, subject_id = ("offer", offer_id) if offer_id is not None else ("provider", provider_id)
    items = service.visible_feedback(viewer, offer_id=offer_id, provider_id=provider_id, limit=limit)
    return Section(subject=subject, summary=service.summary(subject, subject_id),
                   items=[_item(viewer, fb) for fb in items], can_see_comments=service.can_see_comments(viewer))


def booking_feedback(booking) -> BookingFeedback:
    """A booking's feedback and follow-up, for the people who can see the booking."""
    viewer = current_actor()
    item = service.feedback_for_booking(booking.id)
    follow_up = service.follow_up_for(booking.id)
    if item is not None:
        item.follow_up = follow_up
    shown = item is not None and (item.hidden_at is None or service.can_see_hidden(viewer, item))
    is_receiver = getattr(viewer, "organisation_id", None) == booking.organisation_id
    # When the follow-up opens, said to the receiving school until then.
    due = service.follow_up_due_at(booking) if booking.status == "delivered" else None
    return BookingFeedback(
        can_leave=service.can_leave(viewer, booking),
        can_follow_up=service.can_follow_up(viewer, booking),
        item=_item(viewer, item) if shown else None,
        follow_up=follow_up,
        follow_up_due=due if due is not None and due > utcnow() else None,
        is_receiver=is_receiver,
    )


def feedback_ratings(cards) -> dict:
    """Offer id → its figures, for a page of catalogue cards (one query)."""
    return service.summaries("offer", [card.offer.id for card in cards])


@bp.app_context_processor
def feedback_template_context():
    if not has_request_context():
        return {}
    return {"feedback_section": feedback_section, "booking_feedback": booking_feedback,
            "feedback_ratings": feedback_ratings}


def _where_it_stands(booking_id: int, error):
    """Refused for where the booking stands (not delivered, already done, not due): nothing is
    written, and the booking page says why."""
    db.session.rollback()
    flash(error.message, "info")
    return hx_redirect(_booking_url(booking_id))


# --- leaving feedback ----------------------------------------------------------------------------


@bp.route("/feedback/new/<int:booking_id>", methods=["GET", "POST"])
@login_required
def new(booking_id):
    actor = current_actor()
    # Another school's booking is not acknowledged to exist (404), as on the booking pages.
    booking = bookings.viewable_booking(actor, _valid_id(booking_id))
    try:
        service.check_can_leave(actor, booking)  # NotAllowed: the error page, 403
    except Conflict as error:
        # Not delivered yet, or feedback already left: the booking page shows where it stands.
        return _where_it_stands(booking.id, error)
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            service.leave(actor, booking.id, **form.feedback_data())
        except Invalid as error:
            show_service_error(form, error)
        except Conflict as error:  # another tab got there first
            return _where_it_stands(booking.id, error)
        else:
            db.session.commit()
            flash(f"Thank you: your feedback on “{booking.offer.title}” is published for the partnership. "
                  f"{booking.offer.organisation.name} has been told and may reply.", "success")
            return hx_redirect(_booking_url(booking.id, "#booking-feedback"))
    return render("feedback/new.html", block="feedback_form", form=form, booking=booking,
                  comment_min=service.COMMENT_MIN)


# --- the impact follow-up ------------------------------------------------------------------------


@bp.route("/feedback/follow-up/<int:booking_id>", methods=["GET", "POST"])
@login_required
def follow_up(booking_id):
    actor = current_actor()
    booking = bookings.viewable_booking(actor, _valid_id(booking_id))
    try:
        service.check_can_follow_up(actor, booking)  # NotAllowed: the error page, 403
    except (Conflict, Invalid) as error:
        # Already recorded, not delivered, or not due yet: the booking page says where it stands.
        return _where_it_stands(booking.id, error)
    form = FollowUpForm()
    if form.validate_on_submit():
        try:
            service.follow_up(actor, booking.id, what_changed=form.what_changed.data, impact=form.impact.data)
        except Invalid as error:
            show_service_error(form, error)
        except Conflict as error:
            return _where_it_stands(booking.id, error)
        else:
            db.session.commit()
            flash("Thank you: what changed is recorded with your school's feedback.", "success")
            return hx_redirect(_booking_url(booking.id, "#booking-feedback"))
    return render("feedback/follow_up.html", block="follow_up_form", form=form, booking=booking,
                  feedback=service.feedback_for_booking(booking.id))


# --- the provider's reply and report -------------------------------------------------------------


def _back(form, item) -> str:
    return safe_next(form.next.data) or url_for("offers.show", offer_id=item.offer_id)


def _refused(allowed: bool, attempt) -> None:
    """When the person may not act on this item, let the service say why.

    The service refuses (NotAllowed, Conflict) before it changes anything, so an invalid form
    from someone who may not act never shows them the item again."""
    if allowed:
        return
    attempt()
    # Not reached while the service's can_* and its refusals agree; if they ever do not,
    # undo whatever was done and refuse.
    db.session.rollback()
    abort(403)


def _item_answer(item, *, status=200, **forms):
    """The item again, on its own page, or (htmx) just the item to swap in place."""
    item.follow_up = service.follow_up_for(item.booking_id)
    back = forms.pop("back", None)
    return render("feedback/show.html", block="item", status=status, item=_item(current_actor(), item, **forms),
                  back=back, item_in_list=wants_fragment())


def _item_action(feedback_id: int, form, form_name: str, allowed, act, done: str):
    actor = current_actor()
    item = service.get_feedback(_valid_id(feedback_id))
    if form.validate_on_submit():
        try:
            item = act(actor, item.id)
        except Invalid as error:
            show_service_error(form, error)
        except Conflict as error:  # replied, reported or hidden meanwhile
            db.session.rollback()
            flash(error.message, "info")
            return hx_redirect(_back(form, item))
        else:
            db.session.commit()
            if wants_fragment():
                return _item_answer(item, message=done, back=_back(form, item))
            flash(done, "success")
            return hx_redirect(_back(form, item) + f"#feedback-{item.id}")
    else:
        try:
            _refused(allowed(actor, item), lambda: act(actor, item.id))
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "info")
            return hx_redirect(_back(form, item))
    return _item_answer(item, back=_back(form, item), **{form_name: form})


@bp.post("/feedback/<int:feedback_id>/reply")
@login_required
def reply(feedback_id):
    form = ReplyForm(prefix=f"reply-{feedback_id}")
    return _item_action(feedback_id, form, "reply_form", service.can_reply,
                        lambda actor, item_id: service.reply(actor, item_id, form.text.data or ""),
                        "Your reply is published under the feedback.")


@bp.post("/feedback/<int:feedback_id>/report")
@login_required
def report(feedback_id):
    form = ReportForm(prefix=f"report-{feedback_id}")
    return _item_action(feedback_id, form, "report_form", service.can_report,
                        lambda actor, item_id: service.report(actor, item_id, form.reason.data or ""),
                        "Reported: a coordinator will look at it and decide whether it stays visible.")
