from flask import abort

from app.pages import bp
from app.services.content import all_pages, get_page
from app.web.htmx import render


@bp.get("/")
def index():
    return render("pages/index.html", pages=all_pages())


@bp.get("/<slug>")
def show(slug: str):
    page = get_page(slug)
    if page is None:
        abort(404)
    return render("pages/page.html", page=page)
