"""Outgoing mail: SMTP when MAIL_SERVER is configured, otherwise an .eml file in the outbox.

The outbox default means a fresh install needs no mail server: every message can still be
read (and tested) as an RFC 822 file in instance/outbox/.
"""
import os
import smtplib
import ssl
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, has_request_context, url_for


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
