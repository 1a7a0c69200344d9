"""Navigation by role: each user sees the areas they can use."""
from flask import url_for

from app.services.content import nav_pages


def navigation(user) -> list[dict]:
    items = [
        {"label": "Home", "url": url_for("main.home"), "endpoint": "main.home"},
        {"label": "Offers", "url": url_for("offers.index"), "endpoint": "offers.index"},
        {"label": "Requests", "url": url_for("requests.index"), "endpoint": "requests.index"},
        {"label": "Directory", "url": url_for("directory.index"), "endpoint": "directory.index"},
    ]
    for page in nav_pages():
        items.append({"label": page.nav_label, "url": url_for("pages.show", slug=page.slug), "endpoint": "pages.show"})
    if user is not None and user.is_authenticated:
        if user.organisation_id is not None or user.is_coordinator:
            items.append({"label": "Bookings", "url": url_for("bookings.index"), "endpoint": "bookings.index"})
        if user.organisation is not None:
            items.append({"label": "My school", "url": url_for("directory.show", key=user.organisation.directory_key), "endpoint": "directory.show"})
        if user.is_coordinator:
            items.append({"label": "Admin", "url": url_for("admin.index"), "endpoint": "admin.index"})
    return items
