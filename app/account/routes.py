from app.account import bp
from app.web.guards import login_required_bp

login_required_bp(bp)


@bp.get("/")
def settings():
    return "account"
