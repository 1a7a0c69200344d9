"""Directory pages: organisations, school profiles, networks and expert profiles, and the
school lead's screens for the profile and the school's people. Rules live in
app.services.directory; these views parse, call it, commit once and render or redirect."""
from flask import current_app, flash, redirect, request, url_for

from app.directory import bp
from app.services import offers as offers_service
from app.directory.forms import (
    DirectoryFilterForm,
    ExpertProfileForm,
    MemberActiveForm,
    MemberForm,
    profile_form_for,
)
from app.extensions import db
from app.services import directory, similar
from app.services.errors import Invalid
from app.web.guards import login_required
from app.web.htmx import hx_redirect, render, wants_fragment
from app.web.forms import current_actor, show_service_error




SIMILAR_SCHOOLS_SHOWN = 6


@bp.get("/directory")
def index():
    form = DirectoryFilterForm(formdata=request.args)
    page = request.args.get("page", 1, type=int)
    result = directory.browse(form.raw_filters(), page=page, per_page=current_app.config.get("DIRECTORY_PAGE_SIZE", 24))
    form.show(result.filters, result.options)

    def page_url(number):
        return url_for("directory.index", page=number, **result.filters.as_args())

    return render(
        "directory/index.html",
        block="results",
        form=form,
        result=result,
        page_url=page_url,
        fragment=wants_fragment(),
    )


@bp.get("/directory/<key>")
def show(key):
    page = directory.organisation_page(current_actor(), key)
    return render(
        "directory/show.html",
        page=page,
        organisation=page.organisation,
        invite_url=_invite_url() if page.can_edit else None,
        offers=offers_service.organisation_offers(current_actor(), page.organisation.id),
        can_add_offer=page.can_edit,
        similar=similar.similar_schools(page.organisation, limit=SIMILAR_SCHOOLS_SHOWN),
    )


def _invite_url():
    # The invitation screen belongs to the account area; link to it only once it exists.
    if "account.invite" in current_app.view_functions:
        return url_for("account.invite")
    return None


@bp.route("/directory/<key>/edit", methods=["GET", "POST"])
@login_required
def edit(key):
    organisation = directory.organisation_for_edit(current_actor(), key)
    form = profile_form_for(organisation)
    if form.validate_on_submit():
        try:
            organisation = directory.update_profile(current_actor(), organisation.id, form.profile_data())
        except Invalid as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash("Profile saved.", "success")
            return hx_redirect(url_for("directory.show", key=organisation.directory_key))
    return render("directory/edit.html", block="profile_form", form=form, organisation=organisation)


@bp.get("/directory/<key>/people")
@login_required
def people(key):
    page = directory.organisation_people(current_actor(), key)
    return render(
        "directory/people.html",
        page=page,
        organisation=page.organisation,
        invite_url=_invite_url(),
    )


@bp.route("/directory/<key>/people/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit_member(key, user_id):
    organisation, person = directory.member_for_edit(current_actor(), key, user_id)
    form = MemberForm(obj=person)
    if form.validate_on_submit():
        try:
            directory.update_member(current_actor(), key, person.id, form.member_data())
        except Invalid as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash(f"Saved the changes to {form.name.data}.", "success")
            return hx_redirect(url_for("directory.people", key=organisation.directory_key))
    return render("directory/member_edit.html", block="member_form", form=form, organisation=organisation, person=person)


@bp.post("/directory/<key>/people/<int:user_id>/active")
@login_required
def set_member_active(key, user_id):
    organisation, _person = directory.member_for_edit(current_actor(), key, user_id)
    form = MemberActiveForm()
    target = url_for("directory.people", key=organisation.directory_key)
    if not form.validate_on_submit():
        flash("That could not be done. Please try again.", "error")
        return redirect(target, code=303)
    try:
        person = directory.set_member_active(current_actor(), key, user_id, form.active.data == "1")
    except Invalid as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(target, code=303)
    db.session.commit()
    flash(f"{person.name} {'can sign in again' if person.active else 'has been deactivated and can no longer sign in'}.", "success")
    return redirect(target, code=303)


@bp.get("/networks")
def networks():
    return render("directory/networks.html", networks=directory.list_networks())


@bp.get("/networks/<slug>")
def network(slug):
    page = directory.network_page(slug)
    return render("directory/network.html", page=page, network=page.network)


@bp.get("/people/<int:user_id>")
def person(user_id):
    page = directory.person_page(current_actor(), user_id)
    return render("directory/person.html", page=page, person=page.person, profile=page.profile)


@bp.route("/people/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit_person(user_id):
    context = directory.expert_edit(current_actor(), user_id)
    form = ExpertProfileForm(data=ExpertProfileForm.initial(context.profile))
    form.set_choices(context.designations, context.specialisms)
    if form.validate_on_submit():
        try:
            directory.update_expert_profile(current_actor(), context.person.id, form.profile_data())
        except Invalid as error:
            show_service_error(form, error)
        else:
            db.session.commit()
            flash("Expert profile saved.", "success")
            return hx_redirect(url_for("directory.person", user_id=context.person.id))
    return render("directory/person_edit.html", block="expert_form", form=form, person=context.person)
