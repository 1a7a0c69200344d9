"""Reading in-app notifications: a person's list, the unread count, marking them read.

app.services.notify writes them; a person only ever reads or marks their own.
"""
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Notification, User
from app.models.base import utcnow
from app.services.errors import NotFound
from app.services.paging import Page

PER_PAGE = 25
MAX_PAGE = 10_000
_MAX_ID = 2**63 - 1


def unread_count(user: User) -> int:
    return int(db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0)


def list_for(user: User, *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    page = min(max(1, page or 1), MAX_PAGE)
    total = db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user.id)) or 0
    rows = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(items=list(rows), total=total, page=page, per_page=per_page)


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def open_notification(user: User, notification_id: int) -> Notification:
    """The person's own notification, now marked read; anyone else's is not found."""
    row = db.session.get(Notification, notification_id) if 0 < notification_id <= _MAX_ID else None
    if row is None or row.user_id != user.id:
        raise NotFound("That notification could not be found.")
    if row.read_at is None:
        row.read_at = utcnow()
        db.session.flush()
    return row


def local_link(link: str | None) -> str | None:
    """A link to follow from a notification, only if it stays on this site."""
    if not link or not link.startswith("/") or link.startswith("//") or "\\" in link:
        return None
    if any(ord(ch) < 32 or ch.isspace() for ch in link):
        return None
    return link
