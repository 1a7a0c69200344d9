"""The offer page and the provider's screens: create and edit an offer (with inline,
field-by-field validation), publish, pause, archive, confirm it is current, and add or
cancel sessions. Rules live in app.services.offers; these views parse, call it, commit once
and render or redirect."""
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_wtf import FlaskForm

from app.extensions import db
from app.models.base import utcnow
from app.offers import bp
from app.offers.forms import OfferForm, SessionsForm
from app.services import offers
from app.services.errors import Conflict, Invalid
from app.web.guards import login_required
from app.web.htmx import hx_redirect, render
from app.web.forms import current_actor, show_service_error




def _offer_form(context):
    # On POST the form reads request.form; missing fields keep the offer's current values.
    form = OfferForm(data=OfferForm.initial(context.offer))
    form.setup(context)
    return form


@bp.get("/offers/<int:offer_id>")
def show(offer_id):
    page = offers.offer_page(current_actor(), offer_id, today=date.today(), now=offers.local_now())
    return render("offers/show.html", page=page, offer=page.offer)


@bp.route("/offers/new", methods=["GET", "POST"])
@login_required
def new():
    context = offers.form_context(current_actor())
    form = _offer_form(context)
    if form.validate_on_submit():
        try:
            offer = offers.create_offer(
                current_actor(), form.offer_data(), publish=bool(form.publish.data), today=date.today(), now=utcnow()
            )
        except Invalid as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            return _after_save(offer, created=True)
    return render("offers/form.html", block="offer_form", form=form, context=context, offer=None)


@bp.route("/offers/<int:offer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(offer_id):
    context = offers.form_context(current_actor(), offer_id)
    form = _offer_form(context)
    if form.validate_on_submit():
        try:
            offer = offers.update_offer(
                current_actor(), offer_id, form.offer_data(), publish=bool(form.publish.data), today=date.today(), now=utcnow()
            )
        except Invalid as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            return _after_save(offer, created=False)
    return render("offers/form.html", block="offer_form", form=form, context=context, offer=context.offer)


def _after_save(offer, created: bool):
    state = {"draft": "saved as a draft", "published": "published", "paused": "saved (it is still paused)"}.get(offer.status, "saved")
    if created and offer.booking_mode == "sessions":
        flash(f"“{offer.title}” is {state}. Now add its dates.", "success")
        return hx_redirect(url_for("offers.add_sessions", offer_id=offer.id))
    flash(f"“{offer.title}” is {state}." if created else f"Changes saved: “{offer.title}” is {offer.status}.", "success")
    return hx_redirect(url_for("offers.show", offer_id=offer.id))


@bp.post("/offers/validate")
@bp.post("/offers/<int:offer_id>/validate")
@login_required
def validate(offer_id=None):
    """Inline validation: check the whole form as sent, answer with one field's errors (or nothing)."""
    context = offers.form_context(current_actor(), offer_id)
    form = _offer_form(context)
    name = request.args.get("field", "")
    if name not in form.checkable():
        abort(400)
    form.validate()
    return render("offers/_field.html", field=form[name])


def _status_action(offer_id, change, done: str):
    form = FlaskForm()
    target = url_for("offers.show", offer_id=offer_id)
    if not form.validate_on_submit():
        flash("That could not be done. Please try again.", "error")
        return redirect(target, code=303)
    try:
        offer = change()
    except offers.OfferInvalid as error:
        db.session.rollback()
        flash("To publish this offer, first: " + "; ".join(m[0].lower() + m[1:] for m in error.errors.values()) + ". Edit the offer to add them.", "error")
        return redirect(target, code=303)
    except Conflict as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(target, code=303)
    db.session.commit()
    flash(done.format(title=offer.title), "success")
    return redirect(target, code=303)


@bp.post("/offers/<int:offer_id>/publish")
@login_required
def publish(offer_id):
    return _status_action(
        offer_id, lambda: offers.publish_offer(current_actor(), offer_id, now=utcnow()), "“{title}” is published: everyone can see it."
    )


@bp.post("/offers/<int:offer_id>/pause")
@login_required
def pause(offer_id):
    return _status_action(
        offer_id, lambda: offers.pause_offer(current_actor(), offer_id),
        "“{title}” is paused: it is hidden from the catalogue until you publish it again.",
    )


@bp.post("/offers/<int:offer_id>/archive")
@login_required
def archive(offer_id):
    return _status_action(
        offer_id, lambda: offers.archive_offer(current_actor(), offer_id), "“{title}” is archived. Archived offers cannot be changed."
    )


@bp.post("/offers/<int:offer_id>/assure")
@login_required
def assure(offer_id):
    return _status_action(
        offer_id, lambda: offers.assure_offer(current_actor(), offer_id, today=date.today()),
        "Thank you: “{title}” is marked as still current.",
    )


@bp.route("/offers/<int:offer_id>/sessions/new", methods=["GET", "POST"])
@login_required
def add_sessions(offer_id):
    offer = offers.session_form_offer(current_actor(), offer_id)
    form = SessionsForm(data={"places": offer.capacity} if offer.capacity else None)
    if form.validate_on_submit():
        try:
            created = offers.add_sessions(current_actor(), offer_id, form.sessions_data(), now=offers.local_now())
        except Invalid as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(f"Added {len(created)} session{'s' if len(created) != 1 else ''} to “{offer.title}”.", "success")
            return hx_redirect(url_for("offers.show", offer_id=offer_id) + "#offer-sessions")
    return render("offers/sessions.html", block="sessions_form", form=form, offer=offer)


@bp.post("/offers/<int:offer_id>/sessions/<int:session_id>/cancel")
@login_required
def cancel_session(offer_id, session_id):
    return _status_action(
        offer_id, lambda: offers.cancel_session(current_actor(), offer_id, session_id, now=utcnow()).offer,
        "The session is cancelled. Schools can no longer see it on “{title}”.",
    )
