"""Offers: the public catalogue, offer pages, and the provider's forms for offers and sessions."""
from flask import Blueprint

bp = Blueprint("offers", __name__)

from app.offers import catalogue_routes, routes  # noqa: E402,F401
