"""When a search that found nothing is logged, for the views of /search and /offers: once per
search someone submits, never for the requests htmx sends while they type."""
import logging

from flask import request
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, write_transaction
from app.services import search_results
from app.web.forms import current_actor
from app.web.htmx import is_htmx

log = logging.getLogger(__name__)


def is_submission() -> bool:
    """A search someone submitted, as opposed to the requests htmx sends while they type.

    Without htmx every request is one (the GET form, a link, a reload). With it, only the
    form's own submit event counts: static/js/search.js marks that request with
    X-Search-Submit. A history restore is going back, not searching again."""
    if not is_htmx():
        return True
    if request.headers.get("HX-History-Restore-Request") == "true":
        return False
    return request.headers.get("HX-Boosted") == "true" or request.headers.get("X-Search-Submit") == "true"


def log_miss_if_submitted(query: str, *, filters: dict, category_id: int | None) -> None:
    """Record a search that found nothing, after the page has been rendered. The page's reads
    end first, so that SQLite's write lock is taken only for this one insert; a failure here
    is logged and never spoils the answer."""
    if not is_submission():
        return
    try:
        db.session.commit()
        with write_transaction():
            search_results.log_miss(current_actor(), query, filters=filters, category_id=category_id)
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record a search that found nothing")
