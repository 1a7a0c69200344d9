from app.offers import bp


@bp.get("/offers")
def index():
    return "catalogue"
