"""Your account: details, password, sessions, and inviting people (school leads and up)."""
from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_user

from app.account import bp
from app.account.forms import ChangePasswordForm, InviteForm, ProfileForm
from app.auth import emails
from app.auth.forms import ConfirmForm, add_error
from app.extensions import db
from app.models.people import ROLES
from app.services import accounts
from app.services.errors import Conflict, Invalid
from app.web.guards import login_required_bp
from app.web.htmx import render

login_required_bp(bp)


def _me():
    return current_user._get_current_object()


def _settings_page(profile_form=None, password_form=None):
    user = _me()
    profile_form = profile_form or ProfileForm(obj=user, formdata=None)
    return render(
        "account/settings.html",
        user=user,
        profile_form=profile_form,
        password_form=password_form or ChangePasswordForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        can_invite=accounts.can_invite(user),
    )


@bp.get("/")
def settings():
    return _settings_page()


@bp.post("/profile")
def update_profile():
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            accounts.update_profile(_me(), name=form.name.data, job_title=form.job_title.data, phone=form.phone.data)
        except Invalid as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            flash("Your details have been saved.", "success")
            return redirect(url_for("account.settings"))
    return _settings_page(profile_form=form)


@bp.post("/password")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = _me()
        try:
            accounts.change_password(user, form.current_password.data, form.new_password.data)
        except Invalid as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            # The version bump ended every session, this one included: sign this one in again.
            login_user(user)
            flash("Your password has been changed. Any other devices signed in to your account have been signed out.", "success")
            return redirect(url_for("account.settings"))
    return _settings_page(password_form=form)


@bp.post("/sessions/end")
def sign_out_everywhere():
    ConfirmForm()
    user = _me()
    accounts.end_other_sessions(user)
    db.session.commit()
    login_user(user)
    flash("You have been signed out on every other device. You are still signed in here.", "success")
    return redirect(url_for("account.settings"))


# --- invitations -------------------------------------------------------------------------


def _require_inviter():
    if not accounts.can_invite(_me()):
        abort(403)


def _invite_form():
    user = _me()
    roles = [(role, ROLES[role]) for role in accounts.invite_roles(user)]
    organisations = [(org.id, org.name) for org in accounts.invite_organisations(user)]
    if user.role in ("admin", "coordinator"):
        organisations.insert(0, (0, "No organisation (coordinators and administrators only)"))
    return InviteForm(roles, organisations)


@bp.route("/invitations/new", methods=["GET", "POST"])
def invite():
    _require_inviter()
    form = _invite_form()
    if form.validate_on_submit():
        user = _me()
        try:
            invitation, token = accounts.create_invitation(
                user, form.email.data, form.name.data, form.role.data, form.organisation_id.data or None
            )
        except (Invalid, Conflict) as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            if emails.deliver(emails.invitation(invitation, token, user)):
                flash(f"Invitation sent to {invitation.email}.", "success")
            else:
                flash(
                    f"The invitation to {invitation.email} was saved but the email could not be sent. "
                    "Revoke it and try again later, or tell the site operator.",
                    "error",
                )
            return redirect(url_for("account.invitations"))
    return render("account/invite.html", form=form)


@bp.get("/invitations")
def invitations():
    _require_inviter()
    pending = accounts.pending_invitations(_me())
    return render("account/invitations.html", invitations=pending, confirm_form=ConfirmForm(formdata=None), roles=ROLES)


@bp.post("/invitations/<int:invitation_id>/revoke")
def revoke_invitation(invitation_id):
    _require_inviter()
    ConfirmForm()
    invitation = accounts.revoke_invitation(_me(), invitation_id)
    db.session.commit()
    flash(f"The invitation to {invitation.email} has been withdrawn. Its link no longer works.", "success")
    return redirect(url_for("account.invitations"))
