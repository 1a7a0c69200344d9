"""Support requests: schools ask for help, providers respond, coordinators broker."""
from flask import Blueprint

bp = Blueprint("requests", __name__)

from app.support_requests import routes  # noqa: E402,F401
