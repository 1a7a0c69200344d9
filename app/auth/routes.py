from app.auth import bp


@bp.route("/login", methods=["GET", "POST"])
def login():
    return "sign in"


@bp.post("/logout")
def logout():
    return "signed out"
