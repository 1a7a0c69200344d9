"""Outgoing mail: SMTP when MAIL_SERVER is configured, otherwise an .eml file in the outbox.

The outbox default means a fresh install needs no mail server: every message can still be
read (and tested) as an RFC 822 file in instance/outbox/.

Messages are rows in outgoing_mail first (app.services.notify writes them in the same
transaction as the news); deliver() sends pending rows and records the result, so a mail
server that is down delays a message rather than losing it.
"""
import os
import smtplib
import ssl
import uuid
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, has_request_context, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.extensions import db, write_transaction
from app.models import OutgoingMail
from app.models.base import utcnow

# After a failed attempt, wait this long times the number of attempts (capped) before the next.
RETRY_STEP = timedelta(minutes=10)
RETRY_MAX = timedelta(hours=6)
# After this many failures a message is left for a person to look at (it stays in the table).
MAX_ATTEMPTS = 20


def send_mail(to: str, subject: str, body_text: str) -> str | None:
    """Send one plain-text message. Returns the outbox file path, or None when sent by SMTP.

    Raises OSError or smtplib.SMTPException if the server cannot be reached; callers send
    after commit and decide what to tell the user.
    """
    config = current_app.config
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM") or "Waymark <no-reply@waymark.test>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=_message_id_domain(message["From"]))
    message.set_content(body_text)

    if config.get("MAIL_SERVER"):
        _send_smtp(message, config)
        return None
    return _write_outbox(message, config["OUTBOX_DIR"])


def deliver(ids: list[int] | None = None, *, limit: int = 200) -> tuple[int, int]:
    """Send pending messages: the given ids (just committed), or every one due for a retry.

    Runs in its own database session, so it can be called straight after another session's
    commit. Returns (sent, failed). Each message is marked sent in the same short write
    transaction as the others of its batch; a crash between sending and marking can at worst
    send a message twice, never lose one.
    """
    now = utcnow()
    query = select(OutgoingMail).where(OutgoingMail.sent_at.is_(None)).order_by(OutgoingMail.id).limit(limit)
    if ids is not None:
        query = query.where(OutgoingMail.id.in_(ids))
    else:
        query = query.where(OutgoingMail.next_attempt_at <= now, OutgoingMail.attempts < MAX_ATTEMPTS)
    with Session(db.engine) as session:
        messages = [(row.id, row.to_address, row.subject, row.body, row.attempts) for row in session.scalars(query)]
        session.rollback()  # end the read before the slow part
        sent, failed = [], {}
        for message_id, to, subject, body, attempts in messages:
            try:
                send_mail(to, subject, body)
                sent.append(message_id)
            except (OSError, smtplib.SMTPException) as error:
                current_app.logger.warning("Could not send mail %s to %s: %s", message_id, to, error)
                failed[message_id] = (attempts, f"{type(error).__name__}: {error}"[:500])
        if not sent and not failed:
            return 0, 0
        done = utcnow()
        with write_transaction():
            if sent:
                session.execute(
                    update(OutgoingMail)
                    .where(OutgoingMail.id.in_(sent), OutgoingMail.sent_at.is_(None))
                    .values(sent_at=done, attempts=OutgoingMail.attempts + 1, last_error=None)
                )
            for message_id, (attempts, error) in failed.items():
                session.execute(
                    update(OutgoingMail).where(OutgoingMail.id == message_id)
                    .values(attempts=OutgoingMail.attempts + 1, last_error=error,
                            next_attempt_at=done + min(RETRY_STEP * (attempts + 1), RETRY_MAX))
                )
            session.commit()
    return len(sent), len(failed)


def backlog() -> dict:
    """Pending and failing messages, for /healthz and `flask mail send`."""
    pending = db.session.scalar(
        select(db.func.count()).select_from(OutgoingMail).where(OutgoingMail.sent_at.is_(None))
    ) or 0
    failing = db.session.scalar(
        select(db.func.count()).select_from(OutgoingMail)
        .where(OutgoingMail.sent_at.is_(None), OutgoingMail.attempts > 0)
    ) or 0
    return {"pending": pending, "failing": failing}


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for a link in an email.

    In a request the link uses the address the user reached us on (request.url_root); from
    the command line (reminders) it uses SERVER_NAME_FOR_MAIL.
    """
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = (current_app.config.get("SERVER_NAME_FOR_MAIL") or "http://127.0.0.1:5000").rstrip("/")
    with current_app.test_request_context(base_url=base + "/"):
        return url_for(endpoint, _external=True, **values)


def _send_smtp(message: EmailMessage, config) -> None:
    port = int(config.get("MAIL_PORT") or 25)
    with smtplib.SMTP(config["MAIL_SERVER"], port, timeout=config.get("MAIL_TIMEOUT", 15)) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def _write_outbox(message: EmailMessage, outbox: str) -> str:
    os.makedirs(outbox, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}-{uuid.uuid4().hex}.eml"
    path = os.path.join(outbox, name)
    # Write then rename, so anything watching the folder never reads half a message.
    partial = path + ".part"
    with open(partial, "wb") as handle:
        handle.write(message.as_bytes())
    os.replace(partial, path)
    return path


def _message_id_domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] if "@" in address else "waymark.invalid"
