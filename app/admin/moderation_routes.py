"""Feedback moderation (/admin/moderation): the reported, hidden and all-feedback views, and hiding
or restoring an item with a recorded reason.

The admin blueprint already refuses everyone but coordinators and admins; the service checks
again. Its author's school and the provider see the reason; nobody else learns a hidden item exists.
"""
from flask import abort, flash, redirect, request, url_for

from app.admin import bp
from app.extensions import db
from app.feedback.forms import ModerationForm
from app.services import feedback as service
from app.services.errors import Conflict, Invalid
from app.web.forms import current_actor, show_service_error
from app.web.htmx import hx_redirect, render, wants_fragment

TABS = {"reported": "Reported", "hidden": "Hidden", "all": "All feedback"}
_MAX_ID = 2**63 - 1


def _tab(value) -> str:
    return value if value in service.MODERATION_VIEWS else "reported"


def _forms(item, show: str, failed=None) -> dict:
    """The hide and restore forms this item offers; `failed` is (action, form) sent back with errors."""
    failed_action, failed_form = failed or (None, None)
    actions = []
    if item.hidden_at is None:
        actions.append(("hide", "Why hide it?"))
    if item.hidden_at is not None or item.reported_at is not None:
        actions.append(("unhide", "Why restore it?" if item.hidden_at is not None else "Why keep it visible?"))
    forms = {}
    for action, label in actions:
        form = failed_form if action == failed_action else ModerationForm(
            formdata=None, prefix=f"{action}-{item.id}", data={"show": show})
        form.reason.label.text = label
        forms[action] = form
    return forms


def _page(show: str, *, failed_item=None, failed=None):
    actor = current_actor()
    items = service.moderation_queue(actor, show)
    if failed_item is not None and all(item.id != failed_item.id for item in items):
        # Sent from a tab it has since left (hidden meanwhile...): keep it in view with its errors.
        failed_item.follow_up = service.follow_up_for(failed_item.booking_id)
        items.insert(0, failed_item)
    forms = {item.id: _forms(item, show, failed if failed_item is not None and item.id == failed_item.id else None)
             for item in items}
    return render("admin/moderation.html", show=show, tabs=TABS, items=items, forms=forms,
                  counts=service.moderation_counts(actor))


@bp.get("/moderation")
def moderation():
    return _page(_tab(request.args.get("show")))


def _item_answer(item, show: str, *, failed=None, message=None):
    item.follow_up = service.follow_up_for(item.booking_id)
    return render("admin/moderation.html", block="item", item=item, show=show,
                  forms={item.id: _forms(item, show, failed)}, message=message)


def _moderate(feedback_id: int, action: str):
    if not 0 < feedback_id <= _MAX_ID:
        abort(404)
    item = service.get_feedback(feedback_id)
    form = ModerationForm(prefix=f"{action}-{item.id}")
    show = _tab(form.show.data)
    back = url_for("admin.moderation", show=show)
    if form.validate_on_submit():
        change = service.hide if action == "hide" else service.unhide
        try:
            item = change(current_actor(), item.id, form.reason.data)
        except Invalid as error:
            show_service_error(form, error)
        except Conflict as error:  # another coordinator decided meanwhile
            db.session.rollback()
            flash(error.message, "info")
            return hx_redirect(back)
        else:
            db.session.commit()
            message = ("Hidden: it no longer counts in the figures, and the school that wrote it and the provider "
                       "have been told why." if action == "hide" else
                       "Restored: it is visible again and counts in the figures; the people concerned have been told.")
            if wants_fragment():
                return _item_answer(item, show, message=message)
            flash(message, "success")
            return redirect(back + f"#moderation-{item.id}", code=303)
    if wants_fragment():
        return _item_answer(item, show, failed=(action, form))
    return _page(show, failed_item=item, failed=(action, form))


@bp.post("/moderation/<int:feedback_id>/hide")
def moderation_hide(feedback_id):
    return _moderate(feedback_id, "hide")


@bp.post("/moderation/<int:feedback_id>/unhide")
def moderation_unhide(feedback_id):
    return _moderate(feedback_id, "unhide")
