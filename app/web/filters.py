"""Jinja filters for dates, numbers and labels."""
from datetime import date, datetime


def _date(value, fmt="%-d %B %Y"):
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.strftime(fmt)
    return str(value)


def _number(value):
    if value is None:
        return ""
    return f"{value:,}"


def register(app):
    app.jinja_env.filters["date"] = _date
    app.jinja_env.filters["number"] = _number
