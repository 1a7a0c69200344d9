from app.directory import bp


@bp.get("/directory")
def index():
    return "directory"


@bp.get("/directory/<key>")
def show(key):
    return key
