"""Feedback: verified peer feedback on a delivered booking, the provider's reply and report,
the impact follow-up, and the figures and comments shown on offer pages and profiles."""
from flask import Blueprint

bp = Blueprint("feedback", __name__)

from app.feedback import routes  # noqa: E402,F401
