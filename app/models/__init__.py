"""All models, imported here so that metadata (and Alembic) sees every table."""
from app.models.audit import AuditLog
from app.models.organisations import (
    Membership,
    Network,
    Organisation,
    SchoolProfile,
)
from app.models.people import (
    Designation,
    ExpertProfile,
    Invitation,
    LoginAttempt,
    PasswordResetToken,
    Specialism,
    User,
)
from app.models.taxonomy import Category, FacetTerm

__all__ = [
    "AuditLog",
    "Category",
    "Designation",
    "ExpertProfile",
    "FacetTerm",
    "Invitation",
    "LoginAttempt",
    "Membership",
    "Network",
    "Organisation",
    "PasswordResetToken",
    "SchoolProfile",
    "Specialism",
    "User",
]
