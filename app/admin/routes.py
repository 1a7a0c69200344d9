"""Coordinator and admin views. Every route here is refused to anyone else (coordinator_bp)."""
import csv
import io

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ActiveForm, RoleForm, UserFilterForm
from app.auth.routes import safe_next
from app.extensions import db
from app.models.people import ROLES
from app.services import accounts
from app.services.errors import Invalid
from app.web.guards import coordinator_bp
from app.web.htmx import render

coordinator_bp(bp)

PER_PAGE = 50


def _me():
    return current_user._get_current_object()


@bp.get("/")
def index():
    return render("admin/index.html", counts=accounts.user_counts(), roles=ROLES)


def _filters() -> tuple[UserFilterForm, dict]:
    form = UserFilterForm(formdata=request.args)
    form.validate()
    # Ignore only the filters that are wrong; their messages are shown beside them.
    filters = {
        "role": form.role.data if not form.role.errors else "",
        "organisation": form.organisation.data if not form.organisation.errors else "",
        "q": form.q.data if not form.q.errors else "",
    }
    return form, {key: value for key, value in filters.items() if value}


@bp.get("/users")
def users():
    form, filters = _filters()
    page = form.page.data if (form.page.data and not form.page.errors) else 1
    result = accounts.list_users(page=page, per_page=PER_PAGE, **filters)

    def page_url(number):
        return url_for("admin.users", page=number, **filters)

    return render(
        "admin/users.html",
        block="results",
        form=form,
        result=result,
        filters=filters,
        page_url=page_url,
        me=_me(),
        roles=ROLES,
        assignable=accounts.assignable_roles(_me()),
        can_manage=lambda user: accounts.can_manage_user(_me(), user),
        here=request.full_path.rstrip("?"),
    )


CSV_COLUMNS = ("id", "name", "email", "role", "organisation", "job_title", "phone", "active", "created_at", "last_login_at")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


@bp.get("/users.csv")
def users_csv():
    _, filters = _filters()
    rows = accounts.export_users(**filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for user in rows:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    user.id,
                    user.name,
                    user.email,
                    user.role,
                    user.organisation.name if user.organisation else "",
                    user.job_title,
                    user.phone,
                    "yes" if user.active else "no",
                    user.created_at.isoformat(timespec="seconds") if user.created_at else "",
                    user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "",
                )
            ]
        )
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="waymark-users.csv"'},
    )


def _back(form) -> str:
    return safe_next(form.next.data) or url_for("admin.users")


@bp.post("/users/<int:user_id>/role")
def change_role(user_id):
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose one of the listed roles.", "error")
        return redirect(_back(form))
    try:
        user = accounts.change_role(_me(), user_id, form.role.data)
    except Invalid as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(_back(form))
    db.session.commit()
    flash(f"{user.name} is now {ROLES[user.role].lower()}. They will need to sign in again.", "success")
    return redirect(_back(form))


@bp.post("/users/<int:user_id>/active")
def set_active(user_id):
    form = ActiveForm()
    if not form.validate_on_submit():
        flash("Choose whether the account is on or off.", "error")
        return redirect(_back(form))
    user = accounts.set_active(_me(), user_id, form.active.data == "1")
    db.session.commit()
    if user.active:
        flash(f"{user.name}'s account is switched on again.", "success")
    else:
        flash(f"{user.name}'s account is switched off. They have been signed out and cannot sign in.", "success")
    return redirect(_back(form))
