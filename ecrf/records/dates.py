"""Plausible dates: the years a date may have, and when a clinical date may lie (Timing)."""

from __future__ import annotations

import calendar
from datetime import date

from forms.language import Item, Timing, Visit
from forms.values import PartialDate

#: No clinical date of a living patient's trial lies before this year (birth included).
FIRST_YEAR = 1900
#: A planned date may lie ahead, but not more than this many years after the current one.
YEARS_AHEAD = 2

TOO_EARLY = "Enter a date from 1900 on."
TOO_LATE = "This date is too far in the future: enter a date up to {last}."
AFTER_TODAY = "This date is after today ({today}): enter a date up to today."
BEFORE_CONSENT = "This date is before the informed consent ({consent})."
AFTER_END = "This date is after the end of study ({end})."


def year_problem(year: int, today: date) -> str | None:
    """Why a date of ``year`` is implausible whatever it records, or None."""
    if year < FIRST_YEAR:
        return TOO_EARLY
    if year > today.year + YEARS_AHEAD:
        return TOO_LATE.format(last=f"{today.year + YEARS_AHEAD}-12-31")
    return None


def timing_of(item: Item, visit: Visit) -> Timing:
    return item.timing or visit.timing


def span(value: date | PartialDate) -> tuple[date, date]:
    """The first and last day a (partial) date may stand for."""
    if isinstance(value, date):
        return value, value
    if value.day is not None:
        return value.earliest(), value.earliest()
    if value.month is not None:
        last = calendar.monthrange(value.year, value.month)[1]
        return value.earliest(), date(value.year, value.month, last)
    return value.earliest(), date(value.year, 12, 31)


def timing_problem(
    value: date | PartialDate,
    timing: Timing,
    *,
    today: date,
    consent: date | None = None,
    end: date | None = None,
) -> str | None:
    """Why ``value`` cannot be when ``timing`` says, or None (partial dates: only when no
    day they may stand for fits)."""
    if timing is Timing.PLANNED:
        return None
    first, last = span(value)
    if first > today:
        return AFTER_TODAY.format(today=today.isoformat())
    if timing is Timing.STUDY:
        if consent is not None and last < consent:
            return BEFORE_CONSENT.format(consent=consent.isoformat())
        if end is not None and first > end:
            return AFTER_END.format(end=end.isoformat())
    return None
