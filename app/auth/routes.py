"""Sign in and out, password reset, and accepting an invitation."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.auth import bp
from app.auth import emails
from app.auth.forms import AcceptInvitationForm, ConfirmForm, LoginForm, ResetPasswordForm, ResetRequestForm, add_error
from app.extensions import db, limiter
from app.services import accounts
from app.services.errors import Invalid
from app.web.htmx import hx_redirect, render


def safe_next(target: str | None) -> str | None:
    """A local path to go to after signing in, or None. Never another site (open redirect)."""
    if not target or len(target) > 2000:
        return None
    # Browsers drop tabs and newlines in URLs ("/\t/evil.test" becomes "//evil.test") and treat
    # a backslash like a slash, so any of them (or other control characters) disqualifies.
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _client_ip() -> str:
    # remote_addr is the proxy's address unless the deployment adds ProxyFix (see README).
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or url_for("main.home"))
    if form.validate_on_submit():
        try:
            result = accounts.sign_in(form.email.data, form.password.data, _client_ip())
        except accounts.TooManyAttempts as error:
            db.session.rollback()
            response = render("auth/throttled.html", status=429, message=error.message)
            response.headers["Retry-After"] = str(error.minutes * 60)
            return response
        db.session.commit()
        if result.ok:
            user = result.user
            # A new session on sign-in (ASVS 3.2.1): nothing from before survives.
            session.clear()
            login_user(user)
            flash(f"Signed in as {user.name}.", "success")
            return hx_redirect(safe_next(form.next.data) or url_for("main.home"))
        add_error(form, result.problem, "email")
    return render("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    ConfirmForm()  # CSRF is checked app-wide before this view runs
    if current_user.is_authenticated:
        accounts.sign_out(current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have been signed out.", "success")
    return hx_redirect(url_for("main.home"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        found = accounts.request_password_reset(form.email.data)
        db.session.commit()
        if found is not None:
            user, token = found
            emails.deliver(emails.password_reset(user, token))
        # The same answer whether or not the address has an account.
        minutes = current_app.config.get("RESET_TOKEN_MINUTES", 60)
        flash(
            "If that email address has a Waymark account, we have sent it a link to choose a new "
            f"password. The link works once and expires after {minutes} minutes.",
            "success",
        )
        return redirect(url_for("auth.reset_request"))
    return render("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    form = ResetPasswordForm()
    try:
        if form.validate_on_submit():
            accounts.reset_password(token, form.password.data)
            db.session.commit()
            flash("Your password has been changed. Sign in with your new password.", "success")
            return redirect(url_for("auth.login"))
        user = accounts.check_reset_token(token)
    except accounts.LinkInvalid as error:
        db.session.rollback()
        return _link_invalid("reset", error.message)
    except Invalid as error:
        db.session.rollback()
        add_error(form, error)
        user = accounts.check_reset_token(token)
    return render("auth/reset_password.html", form=form, user=user)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    form = AcceptInvitationForm()
    try:
        if form.validate_on_submit():
            user = accounts.accept_invitation(token, form.name.data, form.password.data)
            db.session.commit()
            session.clear()
            login_user(user)
            flash(f"Welcome to Waymark, {user.name}. Your account is ready.", "success")
            return redirect(url_for("account.settings"))
        invitation = accounts.invitation_for_token(token)
    except accounts.LinkInvalid as error:
        db.session.rollback()
        return _link_invalid("invitation", error.message)
    except Invalid as error:
        db.session.rollback()
        add_error(form, error)
        invitation = accounts.invitation_for_token(token)
    if request.method == "GET" and not form.name.data:
        form.name.data = invitation.name
    return render("auth/accept_invitation.html", form=form, invitation=invitation)


def _link_invalid(kind: str, message: str):
    return render("auth/link_invalid.html", status=400, kind=kind, message=message)

