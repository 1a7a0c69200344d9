from app.admin import bp
from app.web.guards import coordinator_bp

coordinator_bp(bp)


@bp.get("/")
def index():
    return "admin"
