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
from app.models.bookings import Booking, Notification, Setting, WaitlistEntry
from app.models.feedback import Feedback, ImpactFollowUp, ModerationEvent, QualityScore
from app.models.ledger import Account, Entry, Transfer
from app.models.mail import OutgoingMail
from app.models.offers import Offer, OfferSession
from app.models.requests import Brokerage, RequestResponse, SupportRequest
from app.models.search import SearchMiss, SearchOutbox
from app.models.taxonomy import Category, FacetTerm

__all__ = [
    "Account",
    "Entry",
    "Transfer",
    "AuditLog",
    "Booking",
    "Notification",
    "Setting",
    "WaitlistEntry",
    "Brokerage",
    "Feedback",
    "ImpactFollowUp",
    "ModerationEvent",
    "OutgoingMail",
    "QualityScore",
    "Category",
    "Designation",
    "ExpertProfile",
    "FacetTerm",
    "Invitation",
    "LoginAttempt",
    "Membership",
    "Network",
    "Offer",
    "OfferSession",
    "Organisation",
    "PasswordResetToken",
    "RequestResponse",
    "SchoolProfile",
    "SearchMiss",
    "SearchOutbox",
    "Specialism",
    "SupportRequest",
    "User",
]
