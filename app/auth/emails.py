"""The text of account emails (reset links, invitations) and sending them after commit."""
import smtplib
from dataclasses import dataclass

from flask import current_app

from app.models.people import ROLES
from app.services.mail import external_url, send_mail


@dataclass
class Message:
    to: str
    subject: str
    body: str


def password_reset(user, token: str) -> Message:
    link = external_url("auth.reset_password", token=token)
    minutes = current_app.config.get("RESET_TOKEN_MINUTES", 60)
    body = (
        f"Hello {user.name},\n\n"
        "Someone (we hope you) asked to choose a new password for your Waymark account.\n"
        "Open this link to choose one:\n\n"
        f"{link}\n\n"
        f"The link works once and expires after {minutes} minutes. If you did not ask for it,\n"
        "you can ignore this email: your password has not changed.\n"
    )
    return Message(user.email, "Choose a new Waymark password", body)


def invitation(invitation, token: str, inviter) -> Message:
    link = external_url("auth.accept_invitation", token=token)
    days = current_app.config.get("INVITATION_DAYS", 14)
    where = f" at {invitation.organisation.name}" if invitation.organisation is not None else ""
    greeting = f"Hello {invitation.name}," if invitation.name else "Hello,"
    body = (
        f"{greeting}\n\n"
        f"{inviter.name} has invited you to join Waymark as {ROLES.get(invitation.role, invitation.role).lower()}{where}.\n"
        "Waymark is where the schools of the partnership find, share and review school-to-school support.\n\n"
        "Open this link to set your password and start:\n\n"
        f"{link}\n\n"
        f"The invitation expires after {days} days and works once. If you were not expecting it,\n"
        "you can ignore this email.\n"
    )
    return Message(invitation.email, f"{inviter.name} has invited you to Waymark", body)


def deliver(message: Message) -> bool:
    """Send after commit. A failure is logged and reported, never undoes what was saved."""
    try:
        send_mail(message.to, message.subject, message.body)
    except (OSError, smtplib.SMTPException):
        current_app.logger.exception("Could not send mail %r to %s", message.subject, message.to)
        return False
    return True
