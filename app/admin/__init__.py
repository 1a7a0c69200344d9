from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.admin import routes  # noqa: E402,F401
from app.admin import credits_routes  # noqa: E402,F401
from app.admin import moderation_routes  # noqa: E402,F401
