from app.offers import bp


@bp.get("/offers/<int:offer_id>")
def show(offer_id):
    return "offer"
