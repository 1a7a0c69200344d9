"""Helpers shared by the account tests: row counts, the mail outbox and signing in over HTTP."""
import os
import re
from email import policy
from email.parser import BytesParser

from sqlalchemy import func, select

from app.extensions import db

PASSWORD = "correct horse battery"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def outbox(app):
    """The messages written to OUTBOX_DIR (mail without a server), oldest file name first."""
    folder = app.config["OUTBOX_DIR"]
    if not os.path.isdir(folder):
        return []
    messages = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as handle:
            messages.append(BytesParser(policy=policy.default).parse(handle))
    return messages


def sign_in(client, email, password, next_=None, **kwargs):
    """Post the sign-in form. With next_, first load the page and send back its hidden next field."""
    url = "/auth/login" + (f"?next={next_}" if next_ is not None else "")
    form = {"email": email, "password": password}
    if next_ is not None:
        # The page carries next in a hidden field; send what the page would.
        page = client.get(url)
        match = re.search(rb'name="next" type="hidden" value="([^"]*)"', page.data)
        form["next"] = match.group(1).decode() if match else ""
    return client.post("/auth/login", data=form, **kwargs)


def sign_in_as(client, user, password=PASSWORD):
    """Sign `user` in on `client` through the form (PASSWORD unless told otherwise)."""
    return sign_in(client, user.email, password)
