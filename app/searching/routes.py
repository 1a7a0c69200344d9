"""/search: one search box over offers, organisations, experts and support requests, with the
catalogue's offer filters, as a GET form that htmx turns into an active search. The rules
(what may be seen, what was found, what a miss is) live in app.services.search_results."""
from flask import request, url_for

from app.searching import bp
from app.searching.forms import SearchForm
from app.searching.misses import log_miss_if_submitted
from app.services import search_results
from app.web.forms import current_actor
from app.web.htmx import render, wants_fragment


@bp.get("/search")
def index():
    args = {name: request.args.getlist(name) for name in search_results.SEARCH_ARG_NAMES}
    page = search_results.search_page(current_actor(), args)
    form = SearchForm(formdata=None)
    form.show(page)
    offer_args = page.offer_args()

    def kind_url(kind=None, number=None):
        values = {"q": page.q, **offer_args}
        if kind:
            values["kind"] = kind
        if number and number > 1:
            values["page"] = number
        return url_for("search.index", **values)

    def page_url(number):
        return kind_url(page.kind, number)

    fragment = wants_fragment()
    # A refused search is a client error for a plain request; htmx swaps only 2xx answers,
    # so the active search gets the same message with a 200.
    status = 400 if page.refused and not fragment else 200
    response = render(
        "search/index.html",
        block="results",
        status=status,
        page=page,
        form=form,
        result=page.catalogue,
        kind_url=kind_url,
        page_url=page_url,
        catalogue_url=url_for("offers.index", q=page.q, **offer_args) if page.q else url_for("offers.index"),
        sign_in_url=url_for("auth.login", next=request.full_path if len(request.full_path) < 1000 else url_for("search.index")),
        fragment=fragment,
    )
    if page.searched and page.total == 0 and not page.error:
        log_miss_if_submitted(page.q, filters=page.miss_filters(), category_id=page.category_id())
    return response
