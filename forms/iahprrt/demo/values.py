"""Values as a site types them: missing-data codes, rounding, clock times, partial dates,
and the text of each value in a form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from forms.values import PartialDate


@dataclass(frozen=True)
class Missing:
    """A missing-data code typed in place of a value."""

    code: str


ND, UNK, NA = Missing("ND"), Missing("UNK"), Missing("NA")


def typed_text(value: Any) -> str | list[str]:
    """What a user types for ``value``."""
    if isinstance(value, Missing):
        return value.code
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value)  # str, int, date (ISO 8601), PartialDate (ISO 8601)


def q(value: float | Decimal, places: int) -> Decimal:
    """Round half-up to ``places`` decimals."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def clock(minutes: int) -> time:
    """The time of day ``minutes`` after midnight (kept within the day)."""
    minutes = max(0, min(minutes, 23 * 60 + 59))
    return time(minutes // 60, minutes % 60)


def partial_date(day: date, parts: int) -> PartialDate:
    """``day`` with its year only (1), year and month (2), or complete (3)."""
    return PartialDate(day.year, day.month if parts >= 2 else None, day.day if parts == 3 else None)


def round_to(value: float, step: int) -> int:
    """``value`` rounded to a multiple of ``step``."""
    return int(round(value / step) * step)
