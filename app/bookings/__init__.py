"""Bookings: booking from an offer page, a school's bookings and their actions, the waiting
list, in-app notifications and the school's calendar feed."""
from flask import Blueprint

bp = Blueprint("bookings", __name__)

from app.bookings import routes  # noqa: E402,F401
