"""Notifications: an in-app row now, and an email once the transaction commits.

Services call notify() inside the caller's transaction. The in-app notification is part
of that transaction; the email is queued on the session and sent only after a commit, so
a rolled-back booking never emails anyone.
"""
from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Notification, User

_QUEUE = "waymark_mail_queue"


def notify(users, kind: str, message: str, link: str | None = None, *, subject: str | None = None,
           dedupe_key: str | None = None) -> list[Notification]:
    rows = []
    for user in users:
        if user is None or not user.active:
            continue
        key = f"{dedupe_key}:{user.id}" if dedupe_key else None
        if key and db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
            continue  # sent before: each reminder goes once
        row = Notification(user_id=user.id, kind=kind, message=message, link=link, dedupe_key=key)
        db.session.add(row)
        rows.append(row)
        db.session.info.setdefault(_QUEUE, []).append((user.email, subject or message, _email_body(message, link)))
    return rows


def leads_of(organisation_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.organisation_id == organisation_id, User.role == "school_lead", User.active.is_(True))
        .order_by(User.id)
    ))


def _email_body(message: str, link: str | None) -> str:
    body = message
    if link:
        base = (current_app.config.get("SERVER_NAME_FOR_MAIL") or "").rstrip("/")
        body += f"\n\n{base}{link}" if link.startswith("/") else f"\n\n{link}"
    return body + "\n\nWaymark\n"


@event.listens_for(Session, "after_commit")
def _send_queued(session):
    if session.in_nested_transaction():
        return  # a SAVEPOINT released (the ledger flushes in one): the real commit is still to come
    queue = session.info.pop(_QUEUE, None)
    if not queue:
        return
    from app.services.mail import send_mail

    for to, subject, body in queue:
        try:
            send_mail(to, subject, body)
        except OSError:
            # The in-app notification is already saved; a mail outage must not undo a booking.
            current_app.logger.exception("Could not send mail to %s", to)


@event.listens_for(Session, "after_soft_rollback")
def _drop_queued(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_QUEUE, None)
