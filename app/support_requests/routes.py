from app.support_requests import bp
from app.web.guards import login_required_bp

# Requests are for members of the partnership only: visitors never see what schools need.
login_required_bp(bp)


@bp.get("/requests")
def index():
    return "requests"
