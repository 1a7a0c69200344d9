"""Role guards. Areas restricted as a whole declare it once with a blueprint before_request."""
from functools import wraps

from flask import abort
from flask_login import current_user

from app.models.people import COORDINATOR_ROLES


def require_login():
    if not current_user.is_authenticated:
        abort(401)


def require_roles(*roles: str):
    require_login()
    if current_user.role not in roles:
        abort(403)


def require_coordinator():
    require_roles(*COORDINATOR_ROLES)


def login_required_bp(bp):
    """Every view of this blueprint needs a signed-in user."""
    bp.before_request(require_login)
    return bp


def coordinator_bp(bp):
    """Every view of this blueprint is for coordinators and admins only."""
    bp.before_request(require_coordinator)
    return bp


def roles_required(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            require_roles(*roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        require_login()
        return view(*args, **kwargs)

    return wrapped
