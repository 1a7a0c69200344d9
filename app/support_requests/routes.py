"""Support request pages. Rules (who sees, drafts, publishes, closes, responds, brokers)
live in app.services.support_requests; these views parse, call it, commit once, then send
any email (after the commit, so a failed send never undoes what was saved)."""
import smtplib

from flask import current_app, flash, request, url_for

from app.extensions import db
from app.models.requests import OUTCOMES, URGENCIES, VISIBILITIES
from app.services import support_requests as service
from app.services.errors import Invalid
from app.services.mail import external_url, send_mail
from app.support_requests import bp
from app.support_requests.forms import BrokerForm, CloseForm, PublishForm, RequestFilterForm, RequestForm, RespondForm
from app.web.guards import login_required_bp
from app.web.htmx import hx_redirect, render, wants_fragment
from app.web.forms import current_actor, show_service_error

# Requests are for members of the partnership only: visitors never see what schools need.
login_required_bp(bp)




def _deliver(emails) -> int:
    """Send after commit; a failure is logged, never undoes the change. Returns how many failed."""
    failed = 0
    for email in emails:
        try:
            send_mail(email.to, email.subject, email.body)
        except (OSError, smtplib.SMTPException):
            current_app.logger.exception("Could not send %r to %s", email.subject, email.to)
            failed += 1
    return failed


# --- The list --------------------------------------------------------------------------


@bp.get("/requests")
def index():
    actor = current_actor()
    form = RequestFilterForm(formdata=request.args)
    page = request.args.get("page", 1, type=int)
    listing = service.browse(
        actor, form.raw_filters(), page=page, per_page=current_app.config.get("REQUESTS_PAGE_SIZE", 20)
    )
    form.show(listing.filters, listing.options, has_school=actor.organisation_id is not None)

    def page_url(number):
        return url_for("requests.index", page=number, **listing.filters.as_args())

    return render(
        "requests/index.html",
        block="results",
        form=form,
        listing=listing,
        page_url=page_url,
        fragment=wants_fragment(),
    )


# --- Drafting and editing --------------------------------------------------------------


@bp.route("/requests/new", methods=["GET", "POST"])
def new():
    actor = current_actor()
    options = service.options_for_new(actor)
    form = RequestForm()
    form.set_choices(options)
    if form.validate_on_submit():
        try:
            req = service.create_request(actor, form.request_data(), publish=form.publish)
        except Invalid as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            if req.status == "published":
                flash("Your request is published: the partnership can now see it and respond.", "success")
            else:
                flash("Your request is saved as a draft." + ("" if actor.role == "school_lead" else " Your school lead can now publish it."), "success")
            return hx_redirect(url_for("requests.show", request_id=req.id))
    return render(
        "requests/new.html",
        block="request_form",
        form=form,
        can_publish=service.can_publish_new(actor),
    )


@bp.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
def edit(request_id):
    actor = current_actor()
    req = service.request_for_edit(actor, request_id)
    form = RequestForm(data=RequestForm.initial(req))
    form.set_choices(service.form_options())
    if form.validate_on_submit():
        try:
            service.update_request(actor, req.id, form.request_data())
        except Invalid as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash("Your changes are saved.", "success")
            return hx_redirect(url_for("requests.show", request_id=request_id))
    return render("requests/edit.html", block="request_form", form=form, req=req)


# --- One request and its actions -------------------------------------------------------


def _show(request_id, *, status=200, close_form=None, respond_form=None, broker_form=None, block=None):
    page = service.request_page(current_actor(), request_id)
    close_form = close_form or CloseForm(formdata=None)
    respond_form = respond_form or RespondForm(formdata=None)
    broker_form = broker_form or BrokerForm(formdata=None)
    respond_form.set_choices(page.respond_offers)
    broker_form.set_choices(page.broker_providers, page.broker_offers)
    return render(
        "requests/show.html",
        block=block,
        status=status,
        page=page,
        req=page.request,
        publish_form=PublishForm(formdata=None),
        close_form=close_form,
        respond_form=respond_form,
        broker_form=broker_form,
        outcomes=OUTCOMES,
        urgencies=URGENCIES,
        visibilities=VISIBILITIES,
    )


@bp.get("/requests/<int:request_id>")
def show(request_id):
    return _show(request_id)


@bp.post("/requests/<int:request_id>/publish")
def publish(request_id):
    form = PublishForm()
    if not form.validate_on_submit():
        flash("That could not be done. Please reload the page and try again.", "error")
        return hx_redirect(url_for("requests.show", request_id=request_id))
    service.publish_request(current_actor(), request_id)
    db.session.commit()
    flash("The request is published: the partnership can now see it and respond.", "success")
    return hx_redirect(url_for("requests.show", request_id=request_id))


@bp.post("/requests/<int:request_id>/close")
def close(request_id):
    service.request_for_close(current_actor(), request_id)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            service.close_request(current_actor(), request_id, form.outcome.data, form.note.data)
        except Invalid as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash("The request is closed and its outcome recorded.", "success")
            return hx_redirect(url_for("requests.show", request_id=request_id))
    return _show(request_id, close_form=form, block="close_form")


@bp.post("/requests/<int:request_id>/respond")
def respond(request_id):
    form = RespondForm()
    form.set_choices(service.offers_for_response(current_actor(), request_id))
    if form.validate_on_submit():
        try:
            result = service.respond(
                current_actor(),
                request_id,
                form.message.data,
                form.offer_id.data,
                link=external_url("requests.show", request_id=request_id),
            )
        except Invalid as error:
            show_service_error(form, error)
        else:
            emails = result.emails
            db.session.commit()
            failed = _deliver(emails)
            flash(
                "Your response is sent." + (" We could not email the school's lead just now; they will see it here." if failed else ""),
                "success",
            )
            return hx_redirect(url_for("requests.show", request_id=request_id) + "#responses-heading")
    return _show(request_id, respond_form=form, block="respond_form")


@bp.post("/requests/<int:request_id>/broker")
def broker(request_id):
    form = BrokerForm()
    form.set_choices(*service.choices_for_brokerage(current_actor(), request_id))
    if form.validate_on_submit():
        try:
            result = service.broker(
                current_actor(),
                request_id,
                form.provider_id.data,
                form.offer_id.data,
                form.note.data,
                link=external_url("requests.show", request_id=request_id),
            )
        except Invalid as error:
            show_service_error(form, error)
        else:
            emails, unreachable = result.emails, result.unreachable
            db.session.commit()
            failed = _deliver(emails)
            message = "The match is recorded and both schools have been emailed."
            if unreachable:
                message = f"The match is recorded. Nobody at {' or '.join(unreachable)} could be emailed: they have no school lead with an account."
            if failed:
                message += f" {failed} email(s) could not be sent just now."
            flash(message, "success")
            return hx_redirect(url_for("requests.show", request_id=request_id) + "#brokerage-heading")
    return _show(request_id, broker_form=form, block="broker_form")
