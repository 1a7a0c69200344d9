from flask import jsonify
from sqlalchemy import func, select, text

from app.extensions import db
from app.main import bp
from app.models import Network, Organisation
from app.services.content import get_page
from app.web.htmx import render


@bp.get("/")
def home():
    counts = {
        "organisations": db.session.scalar(select(func.count()).select_from(Organisation)) or 0,
        "schools": db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "school")) or 0,
        "networks": db.session.scalar(select(func.count()).select_from(Network)) or 0,
    }
    return render("main/home.html", counts=counts, credits_page=get_page("how-credits-work"))


@bp.get("/healthz")
def healthz():
    status = {"database": "ok", "search": "not configured"}
    code = 200
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # the point of a health check is to report, not to raise
        status["database"] = f"error: {type(exc).__name__}"
        code = 503
    status["status"] = "ok" if code == 200 else "degraded"
    return jsonify(status), code
