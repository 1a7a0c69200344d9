from flask import jsonify
from flask_login import current_user
from sqlalchemy import text

from app.extensions import db
from app.main import bp
from app.services import catalogue
from app.services.content import get_page
from app.web.htmx import render


@bp.get("/")
def home():
    page = catalogue.home_page(current_user._get_current_object())
    return render("main/home.html", page=page, counts=page.facts, credits_page=get_page("how-credits-work"))


@bp.get("/healthz")
def healthz():
    status = {"database": "ok"}
    code = 200
    try:
        db.session.execute(text("SELECT 1"))
        from app.services.mail import backlog

        status["mail"] = backlog()
    except Exception as exc:  # the point of a health check is to report, not to raise
        status["database"] = f"error: {type(exc).__name__}"
        code = 503
    try:
        # The backend, the index state and the changes still to apply. A search index that
        # is not "ok" is repaired on its own and search falls back meanwhile: not a 503.
        from app.search import status as search_status

        status["search"] = search_status()
    except Exception as exc:
        db.session.rollback()
        status["search"] = {"index": f"error: {type(exc).__name__}"}
    status["status"] = "ok" if code == 200 else "degraded"
    return jsonify(status), code
