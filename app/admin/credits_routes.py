"""The coordinator's credit tools (/admin/credits) and the scheme's settings (/admin/settings).

The admin blueprint already refuses everyone but coordinators and admins. Each tool is a
POST form with a one-time request key, so a form sent twice makes one transfer; the yearly
allocation uses keys per school and year instead, so posting it twice allocates once.
With credits switched off the dashboard says so and every tool answers 404.
"""
from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from app.admin import bp
from app.credits.forms import (
    AdjustmentForm,
    AllocationPostForm,
    AllocationPreviewForm,
    GrantForm,
    GrantSearchForm,
    PurchaseForm,
    ReverseForm,
    SettingsForm,
    TransferFilterForm,
    choices,
    settings_initial,
)
from app.extensions import db
from app.models.bookings import POLICIES
from app.models.ledger import TRANSFER_KINDS
from app.services import credits as credit_service
from app.services import ledger
from app.services.errors import Conflict, Invalid
from app.web.htmx import render, wants_fragment


def _me():
    return current_user._get_current_object()


def _enabled() -> bool:
    return bool(current_app.config.get("CREDITS_ENABLED"))


def _require_credits() -> None:
    if not _enabled():
        abort(404)


def _show_error(form, error) -> None:
    """A service's refusal, shown on its field (or above the form); nothing was written."""
    db.session.rollback()
    if isinstance(error, ledger.IdempotencyConflict):
        # The same form was sent before with other figures, and that was recorded.
        form.request_key.data = form.request_key.default()
        form.form_errors.append("This form was already sent once with different figures, and that was recorded. "
                                "Check the figures below and send again to record another.")
        return
    name = getattr(error, "field", None)
    if name and name in form and name != "request_key":
        form[name].errors = list(form[name].errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def _done(result: credit_service.ToolResult, message: str):
    if result.repeated:
        ids = ", ".join(f"#{t.id}" for t in result.transfers)
        flash(f"That was already recorded ({ids}); nothing new was written.", "info")
    else:
        flash(message, "success")
    return redirect(url_for("admin.credits"))


def _organisation_choices():
    return choices([("", "Choose…"), *credit_service.organisation_choices()])


def _chosen_name(field) -> str:
    return next((c.label for c in field.choices if c.value == field.data), "the school")


# --- dashboard -----------------------------------------------------------------------------------


@bp.get("/credits")
def credits():
    if not _enabled():
        return render("admin/credits.html", enabled=False)
    return render(
        "admin/credits.html",
        enabled=True,
        totals=credit_service.scheme_totals(),
        # The full check reads every entry: run on request (and nightly by `flask credits
        # verify`), not on every visit, so the page stays quick however long the history.
        checked=request.args.get("check") == "1",
        problems=ledger.verify() if request.args.get("check") == "1" else None,
        recent=credit_service.list_transfers(page=1, per_page=10),
        kinds=TRANSFER_KINDS,
    )


# --- yearly allocation ---------------------------------------------------------------------------


def _la_choices():
    return choices([("", "All member schools"), *credit_service.local_authorities()])


@bp.get("/credits/allocation")
def credits_allocation():
    _require_credits()
    form = AllocationPreviewForm(formdata=request.args if "year" in request.args else None,
                                 year=credit_service.school_year_label(date.today()))
    form.la.choices = _la_choices()
    preview = post_form = None
    if "year" in request.args and form.validate():
        try:
            preview = credit_service.allocation_preview(form.year.data, form.la.data or None)
        except Invalid as error:
            form.year.errors = list(form.year.errors) + [error.message]
        else:
            post_form = AllocationPostForm(formdata=None, year=preview.year, la=preview.la_code or "",
                                           fingerprint=preview.fingerprint)
    return render("admin/credits_allocation.html", form=form, preview=preview, post_form=post_form,
                  la_names=dict(credit_service.local_authorities()))


@bp.post("/credits/allocation")
def credits_allocation_post():
    _require_credits()
    form = AllocationPostForm()
    back = url_for("admin.credits_allocation", year=form.year.data or None, la=form.la.data or None)
    if not form.validate():
        flash("Preview the allocation, then post it from the preview.", "error")
        return redirect(back)
    try:
        result = credit_service.post_allocation(_me(), year=form.year.data, la_code=form.la.data or None,
                                                fingerprint=form.fingerprint.data)
    except (Invalid, Conflict) as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)
    db.session.commit()
    if result.schools:
        flash(f"Allocated {result.credits:,} credits to {result.schools:,} "
              f"school{'s' if result.schools != 1 else ''} for {result.year}"
              + (f"; {result.skipped:,} already allocated were left as they were." if result.skipped else "."),
              "success")
    else:
        flash(f"Every school in this preview was already allocated for {result.year}: nothing new was posted.", "info")
    return redirect(back)


# --- purchase, seed credits, adjustment ------------------------------------------------------------


@bp.route("/credits/purchase", methods=["GET", "POST"])
def credits_purchase():
    _require_credits()
    form = PurchaseForm(organisation=request.args.get("organisation", type=int))
    form.organisation.choices = _organisation_choices()
    if form.validate_on_submit():
        try:
            result = credit_service.record_purchase(
                _me(), organisation_id=form.organisation.data, amount=form.amount.data,
                invoice_reference=form.invoice_reference.data, note=form.note.data or "",
                form_key=form.request_key.data,
            )
        except (Invalid, Conflict) as error:
            _show_error(form, error)
        else:
            db.session.commit()
            name = _chosen_name(form.organisation)
            return _done(result, f"Recorded a purchase of {result.credits:,} credits by {name} "
                                 f"(invoice {form.invoice_reference.data}).")
    return render("admin/credits_purchase.html", form=form)


@bp.route("/credits/grant", methods=["GET", "POST"])
def credits_grant():
    _require_credits()
    search = GrantSearchForm(formdata=request.args)
    search.la.choices = choices([("", "Any local authority"), *credit_service.local_authorities()])
    search.validate()
    form = GrantForm()
    form.schools.choices = choices(credit_service.organisation_choices())
    if form.validate_on_submit():
        try:
            result = credit_service.grant_seed_credits(
                _me(), organisation_ids=form.schools.data, amount=form.amount.data, reason=form.reason.data,
                form_key=form.request_key.data,
            )
        except (Invalid, Conflict) as error:
            _show_error(form, error)
        else:
            db.session.commit()
            count = len(result.transfers)
            return _done(result, f"Granted {form.amount.data:,} seed credits to each of {count:,} "
                                 f"school{'s' if count != 1 else ''} ({result.credits:,} in all).")
    selected = (form.schools.data if request.method == "POST" else search.schools.data) or []
    chosen, matches, total = credit_service.search_schools(
        q=search.q.data or "", la_code=search.la.data if not search.la.errors else "",
        selected=[i for i in selected if isinstance(i, int) and i > 0],
    )
    return render("admin/credits_grant.html", block="schools" if request.method == "GET" else None,
                  form=form, search=search, chosen=chosen, matches=matches, total=total,
                  selected=set(selected or []), fragment=wants_fragment())


@bp.route("/credits/adjustment", methods=["GET", "POST"])
def credits_adjustment():
    _require_credits()
    form = AdjustmentForm(organisation=request.args.get("organisation", type=int))
    form.organisation.choices = _organisation_choices()
    if form.validate_on_submit():
        try:
            result = credit_service.adjust(_me(), organisation_id=form.organisation.data, amount=form.amount.data,
                                           reason=form.reason.data, form_key=form.request_key.data)
        except (Invalid, Conflict) as error:
            _show_error(form, error)
        else:
            db.session.commit()
            name = _chosen_name(form.organisation)
            verb = "Added" if form.amount.data > 0 else "Took away"
            return _done(result, f"{verb} {abs(form.amount.data):,} credits {'to' if form.amount.data > 0 else 'from'} {name}.")
    return render("admin/credits_adjustment.html", form=form)


# --- transfers and reversals ---------------------------------------------------------------------


@bp.get("/credits/transfers")
def credits_transfers():
    _require_credits()
    form = TransferFilterForm(formdata=request.args)
    form.validate()
    filters = {
        "q": form.q.data if not form.q.errors and form.q.data else "",
        "kind": form.kind.data if not form.kind.errors and form.kind.data else "",
        "organisation_id": form.organisation.data if not form.organisation.errors and form.organisation.data else None,
    }
    page = form.page.data if (form.page.data and not form.page.errors) else 1
    result = credit_service.list_transfers(page=page, **filters)
    args = {"q": filters["q"] or None, "kind": filters["kind"] or None, "organisation": filters["organisation_id"]}

    def page_url(number):
        return url_for("admin.credits_transfers", page=number, **args)

    return render("admin/credits_transfers.html", block="results", form=form, result=result, page_url=page_url,
                  filtered=any(args.values()), fragment=wants_fragment())


@bp.route("/credits/transfers/<int:transfer_id>/reverse", methods=["GET", "POST"])
def credits_reverse(transfer_id):
    _require_credits()
    detail = credit_service.transfer_detail(transfer_id)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            result = credit_service.reverse(_me(), transfer_id=transfer_id, reason=form.reason.data,
                                            form_key=form.request_key.data)
        except (Invalid, Conflict) as error:
            _show_error(form, error)
            detail = credit_service.transfer_detail(transfer_id)
        else:
            db.session.commit()
            if result.repeated:
                flash(f"That reversal was already recorded (#{result.transfers[0].id}); nothing new was written.", "info")
            else:
                flash(f"Transfer #{transfer_id} is reversed by #{result.transfers[0].id}.", "success")
            return redirect(url_for("admin.credits_transfers"))
    return render("admin/credits_reverse.html", form=form, detail=detail)


# --- settings ------------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    current = credit_service.scheme_settings()
    enabled = _enabled()
    form = SettingsForm(data=settings_initial(current)) if request.method == "GET" else SettingsForm()
    if not enabled:
        # Policies and allocation bands are about credits: not shown, and left as they are.
        for name in ("late_cancellation_policy", "no_show_policy", "bands", "cap"):
            delattr(form, name)
    bands_error = None
    if form.validate_on_submit():
        try:
            allocation = (form.band_values(), form.cap.data) if enabled else None
        except ValueError:
            bands_error = "Fill in ‘pupils from’ and credits for every band you use, or clear the whole row."
        else:
            try:
                credit_service.save_settings(
                    _me(),
                    late_cancellation_policy=form.late_cancellation_policy.data if enabled else current["late_cancellation_policy"],
                    no_show_policy=form.no_show_policy.data if enabled else current["no_show_policy"],
                    waitlist_offer_hours=form.waitlist_offer_hours.data,
                    allocation=allocation,
                )
            except Invalid as error:
                db.session.rollback()
                if error.field == "bands":
                    bands_error = error.message
                elif error.field in form:
                    form[error.field].errors = list(form[error.field].errors) + [error.message]
                else:
                    form.form_errors.append(error.message)
            else:
                db.session.commit()
                flash("Settings saved.", "success")
                return redirect(url_for("admin.settings"))
    return render("admin/settings.html", form=form, enabled=enabled, bands_error=bands_error, policies=POLICIES,
                  errors=_settings_errors(form, bands_error))


def _settings_errors(form, bands_error) -> list[tuple[str, str]]:
    """(anchor, message) for the error summary, with the band rows' errors flattened."""
    found = []
    for name in ("late_cancellation_policy", "no_show_policy", "waitlist_offer_hours", "cap"):
        if name in form:
            found.extend((form[name].id, message) for message in form[name].errors)
    if "bands" in form:
        for entry in form.bands.entries:
            for sub in (entry.form.low, entry.form.high, entry.form.credits):
                found.extend((sub.id, message) for message in sub.errors)
    if bands_error:
        found.append(("allocation-bands", bands_error))
    found.extend(("", message) for message in form.form_errors)
    if "csrf_token" in form:
        found.extend(("", message) for message in form.csrf_token.errors)
    return found
