"""The English school year the demo's dates follow, for any year: terms, half terms, bank holidays.

The rules are those most local authorities' calendars follow within a few days: the autumn
term from early September to the Friday before Christmas week, spring from the first full
week of January to the Friday before Holy Week, summer from the Monday after Easter week to
late July, each with a half-term week (late October, mid February, late May). The demo only
needs dates that look like a school's, for whichever anchor it is given.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache


@dataclass(frozen=True)
class Term:
    name: str  # "autumn", "spring" or "summer"
    start: date
    end: date
    # Weekdays without school inside the term: the half-term week and bank holidays.
    closed: frozenset[date]

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def is_school_day(self, day: date) -> bool:
        return day in self and day.weekday() < 5 and day not in self.closed


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


MONDAY, FRIDAY = 0, 4


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _weekday_on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _last_weekday_on_or_before(day: date) -> date:
    return day if day.weekday() <= FRIDAY else _weekday_on_or_before(day, FRIDAY)


def _week(monday: date) -> set[date]:
    return {monday + timedelta(days=n) for n in range(5)}


@lru_cache(maxsize=64)
def terms_of(academic_year: int) -> tuple[Term, Term, Term]:
    """The three terms of the school year that starts in September of academic_year."""
    year, next_year = academic_year, academic_year + 1
    easter = easter_sunday(next_year)
    autumn = Term(
        "autumn",
        _weekday_on_or_after(date(year, 9, 2), MONDAY),
        _weekday_on_or_before(date(year, 12, 20), FRIDAY),
        frozenset(_week(_weekday_on_or_before(date(year, 10, 31), MONDAY))),
    )
    spring = Term(
        "spring",
        _weekday_on_or_after(date(next_year, 1, 4), MONDAY),
        easter - timedelta(days=9),  # the Friday before Holy Week
        frozenset(_week(_weekday_on_or_after(date(next_year, 2, 15), MONDAY))),
    )
    summer = Term(
        "summer",
        easter + timedelta(days=8),  # the Monday after Easter week
        _last_weekday_on_or_before(date(next_year, 7, 21)),
        frozenset(_week(_weekday_on_or_before(date(next_year, 5, 31), MONDAY))
                  | {_weekday_on_or_after(date(next_year, 5, 1), MONDAY)}),  # early May bank holiday
    )
    return autumn, spring, summer


def academic_year_of(day: date) -> int:
    """The school year a day belongs to, named by the calendar year it starts in (August ends it)."""
    return day.year if day.month >= 9 else day.year - 1


def terms_between(start: date, end: date) -> list[Term]:
    """Every term that overlaps [start, end], in order."""
    found = []
    for year in range(academic_year_of(start) - 1, academic_year_of(end) + 1):
        found += [t for t in terms_of(year) if t.end >= start and t.start <= end]
    return found


def school_days(start: date, end: date) -> list[date]:
    """Every school day in [start, end], in order."""
    days = []
    for term in terms_between(start, end):
        day = max(start, term.start)
        while day <= min(end, term.end):
            if term.is_school_day(day):
                days.append(day)
            day += timedelta(days=1)
    return days


def is_school_day(day: date) -> bool:
    return any(term.is_school_day(day) for term in terms_between(day, day))


def terms_starting_after(day: date, count: int) -> list[Term]:
    """The next `count` terms that begin after `day`."""
    found: list[Term] = []
    year = academic_year_of(day)
    while len(found) < count:
        found += [t for t in terms_of(year) if t.start > day]
        year += 1
    return found[:count]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())
