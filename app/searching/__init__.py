"""Search: one search over offers, organisations, experts and support requests (/search)."""
from flask import Blueprint

bp = Blueprint("search", __name__)

from app.searching import routes  # noqa: E402,F401
