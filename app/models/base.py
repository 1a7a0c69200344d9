"""Shared column helpers."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    # Stored naive in UTC: SQLite has no time zones and PostgreSQL columns are
    # "timestamp without time zone", so both engines hold the same value.
    return datetime.now(timezone.utc).replace(tzinfo=None)
