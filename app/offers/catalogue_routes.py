"""The public catalogue of published offers. Filtering and counting live in
app.services.catalogue; this view hands it the query arguments (and, for words in `q`, the
search engine's ranked offer ids) and renders the page, or only its results block for the
htmx active filter."""
from flask import current_app, request, url_for
from flask_login import current_user

from app.offers import bp
from app.searching.misses import log_miss_if_submitted
from app.services import catalogue, offers, search_results
from app.web.htmx import render, wants_fragment


@bp.get("/offers")
def index():
    # A GET filter that never rejects input: unknown values are dropped by the service, so
    # there is no form to validate.
    args = {name: request.args.getlist(name) for name in catalogue.ARG_NAMES}
    q = catalogue.query_text(args)
    ranking = search_results.offer_ranking(q) if q else None
    result = catalogue.browse(
        args,
        current_user._get_current_object(),
        ranked_ids=ranking.ids.get("offer", []) if ranking is not None else None,
        per_page=current_app.config.get("CATALOGUE_PAGE_SIZE", catalogue.PER_PAGE),
    )
    kept = result.query.as_args()

    def page_url(number):
        return url_for("offers.index", **kept, page=number)

    response = render(
        "offers/index.html",
        block="results",
        result=result,
        search=ranking,
        search_limit=search_results.ENGINE_LIMIT,
        page_url=page_url,
        sign_in_url=url_for("auth.login", next=url_for("offers.index", **kept)),
        fragment=wants_fragment(),
        can_create_offer=offers.can_create(current_user),
    )
    if q and result.results.total == 0 and result.query.page == 1 and not (ranking and ranking.error):
        log_miss_if_submitted(
            q,
            filters=search_results.catalogue_miss_filters(result),
            category_id=search_results.catalogue_category_id(result),
        )
    return response
