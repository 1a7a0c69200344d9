"""The credits area: a school's balance and statement (/credits), and the header badge."""
from flask import Blueprint

bp = Blueprint("credits", __name__)

from app.credits import routes  # noqa: E402,F401
