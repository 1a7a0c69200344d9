"""Distances between places given as British National Grid easting/northing (metres)."""
import math

from sqlalchemy import BigInteger, ColumnElement, cast


def km_between(e1: int | None, n1: int | None, e2: int | None, n2: int | None) -> float | None:
    if None in (e1, n1, e2, n2):
        return None
    return math.hypot(e1 - e2, n1 - n2) / 1000.0


def squared_metres_sql(easting_col, northing_col, easting: int, northing: int) -> ColumnElement:
    """A SQL expression for the squared distance in metres (portable: no sqrt needed to sort or filter)."""
    # 64-bit: a 50 km offset squared (2.5e9) already overflows PostgreSQL's 32-bit integer.
    dx = cast(easting_col, BigInteger) - easting
    dy = cast(northing_col, BigInteger) - northing
    return dx * dx + dy * dy
