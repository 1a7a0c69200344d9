"""The public catalogue of published offers. Filtering and counting live in
app.services.catalogue; this view hands it the query arguments and renders the page, or
only its results block for the htmx active filter."""
from flask import current_app, request, url_for
from flask_login import current_user

from app.offers import bp
from app.services import catalogue, offers
from app.web.htmx import render, wants_fragment


@bp.get("/offers")
def index():
    # A GET filter that never rejects input: unknown values are dropped by the service, so
    # there is no form to validate. Full-text search will pass ranked_ids here.
    args = {name: request.args.getlist(name) for name in catalogue.ARG_NAMES}
    result = catalogue.browse(
        args,
        current_user._get_current_object(),
        per_page=current_app.config.get("CATALOGUE_PAGE_SIZE", catalogue.PER_PAGE),
    )
    kept = result.query.as_args()

    def page_url(number):
        return url_for("offers.index", **kept, page=number)

    return render(
        "offers/index.html",
        block="results",
        result=result,
        page_url=page_url,
        sign_in_url=url_for("auth.login", next=url_for("offers.index", **kept)),
        fragment=wants_fragment(),
        can_create_offer=offers.can_create(current_user),
    )
