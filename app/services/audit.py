"""Writes audit rows in the caller's transaction."""
from app.extensions import db
from app.models import AuditLog


def record(actor, action: str, obj=None, *, object_type: str | None = None, object_id: int | None = None, **detail):
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else "system"),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        detail=detail,
    )
    db.session.add(entry)
    return entry
