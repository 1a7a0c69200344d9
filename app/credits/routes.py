"""A school's credits: balance, held credits and statement (HTML and CSV), and the header badge.

Members see their own organisation's credits only; coordinators may look at any organisation
with ?organisation=<id>. With credits switched off the page counts take-up instead.
"""
import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from flask import Response, abort, current_app, has_request_context, request, url_for
from flask_login import current_user

from app.credits import bp
from app.credits.forms import OrganisationPickForm, StatementFilterForm, choices
from app.models.ledger import TRANSFER_KINDS
from app.services import credits
from app.web.guards import login_required
from app.web.htmx import render, wants_fragment


def _me():
    return current_user._get_current_object()


def _enabled() -> bool:
    return bool(current_app.config.get("CREDITS_ENABLED"))


class _BadgeFigure:
    """The badge's figure, read (one indexed query) only if a template shows the badge."""

    def __init__(self, organisation_id: int):
        self.organisation_id = organisation_id

    @cached_property
    def available(self) -> int:
        return credits.available_balance(self.organisation_id)


@bp.app_context_processor
def credits_badge_context():
    if not has_request_context() or not _enabled():
        return {}
    if not current_user or not current_user.is_authenticated or current_user.organisation_id is None:
        return {}
    return {"credits_badge": _BadgeFigure(current_user.organisation_id)}


@bp.get("/credits/badge")
@login_required
def badge():
    if not _enabled() or _me().organisation_id is None:
        return "", 204
    return render("_partials/credits_badge.html")


# --- which organisation, which filters -------------------------------------------------------


def _organisation():
    # A bad ?organisation= (not a number) is the same as none; the service decides who may use it.
    return credits.organisation_for_credits(_me(), request.args.get("organisation", type=int))


@dataclass
class _Query:
    form: StatementFilterForm
    filters: credits.StatementFilters
    preset: str | None
    args: dict  # what the filters look like in a URL (CSV link, pages, presets)


def _statement_query(org, today: date) -> _Query:
    form = StatementFilterForm(formdata=request.args)
    form.validate()
    presets = credits.period_presets(today)
    if "date_from" not in request.args and "date_to" not in request.args:
        # A first visit shows this school year; an explicitly empty date means no limit.
        form.date_from.data, form.date_to.data = presets["year"]
        form.date_from.errors = form.date_to.errors = []
    date_from = form.date_from.data if not form.date_from.errors else None
    date_to = form.date_to.data if not form.date_to.errors else None
    kinds = tuple(k for k in (form.kind.data or []) if k in TRANSFER_KINDS) if not form.kind.errors else ()
    filters = credits.StatementFilters(date_from=date_from, date_to=date_to, kinds=kinds)
    preset = next((name for name, span in presets.items() if span == (date_from, date_to)), None)
    args = {
        "date_from": date_from.isoformat() if date_from else "",
        "date_to": date_to.isoformat() if date_to else "",
    }
    if kinds:
        args["kind"] = list(kinds)
    if org.id != _me().organisation_id:
        args["organisation"] = org.id
    return _Query(form=form, filters=filters, preset=preset, args=args)


def _preset_urls(org, query: _Query, today: date) -> dict[str, str]:
    urls = {}
    for name, (start, end) in credits.period_presets(today).items():
        args = {**query.args, "date_from": start.isoformat() if start else "", "date_to": end.isoformat() if end else ""}
        urls[name] = url_for("credits.index", **args)
    return urls


def _picker(org):
    form = OrganisationPickForm(formdata=None, organisation=org.id if org else None)
    # With credits on, only organisations with an account have a statement to show.
    options = credits.organisations_with_accounts() if _enabled() else credits.organisation_choices(members_only=False)
    if org is not None and (org.id, org.name) not in options:
        options = sorted([*options, (org.id, org.name)], key=lambda option: option[1])
    form.organisation.choices = choices([("", "Choose…"), *options])
    return form


# --- pages ------------------------------------------------------------------------------------


@bp.get("/credits")
@login_required
def index():
    me = _me()
    org = _organisation()
    picker = _picker(org) if me.is_coordinator else None
    if org is None:
        # A coordinator without an organisation of their own chooses one; anyone else has none.
        return render("credits/index.html", org=None, picker=picker)
    today = date.today()
    if not _enabled():
        return render("credits/index.html", org=org, picker=picker, take_up=credits.take_up(org.id, today))

    query = _statement_query(org, today)
    page_number = query.form.page.data if (query.form.page.data and not query.form.page.errors) else 1
    statement = credits.statement(org.id, query.filters, page=page_number)

    def page_url(number):
        return url_for("credits.index", page=number, **query.args)

    return render(
        "credits/index.html",
        block="statement",
        org=org,
        picker=picker,
        summary=credits.summary(org.id),
        held=credits.held_items(org.id),
        statement=statement,
        form=query.form,
        preset=query.preset,
        preset_urls=_preset_urls(org, query, today),
        csv_url=url_for("credits.statement_csv", **query.args),
        page_url=page_url,
        booking_url=_booking_url,
        kinds=TRANSFER_KINDS,
        fragment=wants_fragment(),
    )


def _booking_url(booking_id: int) -> str | None:
    # The bookings area is built alongside; link to it once it exists.
    if "bookings.show" not in current_app.view_functions:
        return None
    try:
        return url_for("bookings.show", booking_id=booking_id)
    except Exception:  # a different parameter name: fall back to the documented path
        return f"/bookings/{booking_id}"


CSV_COLUMNS = ("date", "transfer", "kind", "description", "credits_in", "credits_out", "balance")


def csv_cell(value) -> str | int:
    """Numbers we produce stay numbers; text that a spreadsheet would run as a formula is defused."""
    if isinstance(value, int):
        return value
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


@bp.get("/credits/statement.csv")
@login_required
def statement_csv():
    if not _enabled():
        abort(404)
    org = _organisation()
    if org is None:
        abort(404)
    query = _statement_query(org, date.today())
    lines = credits.statement_lines(org.id, query.filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow([
            csv_cell(value) for value in (
                line.created_at.strftime("%Y-%m-%d %H:%M"),
                line.transfer_id,
                line.kind_label,
                line.description + (f" (reversed by #{line.reversed_by_id})" if line.reversed_by_id else ""),
                line.credits_in if line.credits_in is not None else "",
                line.credits_out if line.credits_out is not None else "",
                line.balance_after,
            )
        ])
    filename = f"credits-{org.slug}-{date.today().isoformat()}.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

