"""Notifications: an in-app row and an email row, both in the caller's transaction.

Services call notify() inside the caller's transaction. The in-app notification and the
email (a row in outgoing_mail) commit or roll back with the booking or request they are
about, so a rolled-back booking never emails anyone and a committed one always will.

Delivery happens after the commit and off the user's path: in a request, once the response
has been sent (the WSGI close callback, so the person confirming a booking does not wait
for a mail server); elsewhere (commands, tests), straight after the commit. A message that
cannot be delivered stays pending and is retried by `flask mail send` or `flask reminders`
(see app.services.mail.deliver).
"""
from datetime import timedelta
from functools import partial

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Notification, OutgoingMail, User
from app.models.base import utcnow

_PENDING = "waymark_mail_pending"
# Set in session.info to write no email at all (the demo's year of history).
SUPPRESS_MAIL = "waymark_mail_suppressed"
# A new message belongs to the request that wrote it for this long; only after that may a
# retry run (`flask mail send`) take it, so the two never send the same message twice.
HANDOVER = timedelta(minutes=5)


def notify(users, kind: str, message: str, link: str | None = None, *, subject: str | None = None,
           dedupe_key: str | None = None) -> list[Notification]:
    rows, seen = [], set()
    for user in users:
        if user is None or not user.active or user.id in seen:
            continue  # a lead who also made the request hears it once
        seen.add(user.id)
        key = f"{dedupe_key}:{user.id}" if dedupe_key else None
        if key and db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
            continue  # sent before: each reminder goes once
        row = Notification(user_id=user.id, kind=kind, message=message, link=link, dedupe_key=key)
        db.session.add(row)
        rows.append(row)
        if not db.session.info.get(SUPPRESS_MAIL):
            db.session.add(OutgoingMail(to_address=user.email, subject=(subject or message)[:300],
                                        body=_email_body(message, link), next_attempt_at=utcnow() + HANDOVER))
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


@event.listens_for(OutgoingMail, "after_insert")
def _remember(mapper, connection, target):
    session = Session.object_session(target)
    if session is not None:
        session.info.setdefault(_PENDING, []).append(target.id)


@event.listens_for(Session, "after_commit")
def _deliver_committed(session):
    if session.in_nested_transaction():
        return  # a SAVEPOINT released (the ledger flushes in one): the real commit is still to come
    ids = session.info.pop(_PENDING, None)
    if not ids or not has_app_context():
        return
    if has_request_context():
        # After the response has gone: see _after_request below.
        g.setdefault("waymark_mail_ids", []).extend(ids)
        return
    from app.services.mail import deliver

    deliver(ids)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def deliver_after_response(response):
    """An after_request hook: hand this request's committed emails to the close callback."""
    ids = g.pop("waymark_mail_ids", None)
    if ids:
        response.call_on_close(partial(_deliver_in_app, current_app._get_current_object(), ids))
    return response


def _deliver_in_app(app, ids) -> None:
    from app.services.mail import deliver

    if has_app_context():
        # Served by Flask, the request's app context (and its session) is gone by now. Where
        # a caller keeps an outer context open (the test client), end that session's
        # transaction first: on SQLite it may still hold the write lock we are about to need.
        db.session.close()
    with app.app_context():
        try:
            deliver(ids)
        except Exception:  # the response is gone: log, and leave the rows for a retry
            app.logger.exception("Could not deliver mail %s", ids)
