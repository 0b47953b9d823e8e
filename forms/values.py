"""Value types that definitions compute with, beyond Python's own."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from typing import Any

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    """An ISO 8601 date that may lack its day, or its month and day ("2024", "2024-05")."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        if not 1 <= self.year <= 9999:
            raise ValueError("year out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError("month out of range")
        if self.day is not None:
            date(self.year, self.month, self.day)  # raises for 2023-02-30

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _PARTIAL.match(text.strip())
        if not match:
            raise ValueError(f"not an ISO 8601 date: {text!r}")
        year, month, day = (int(g) if g else None for g in match.groups())
        return cls(year, month, day)

    @property
    def complete(self) -> bool:
        return self.day is not None

    def to_date(self) -> date | None:
        return date(self.year, self.month, self.day) if self.day is not None else None

    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text


def earliest(value: date | PartialDate | None) -> date | None:
    """First day a (possibly partial) date can mean."""
    if value is None:
        return None
    if isinstance(value, PartialDate):
        return value.earliest()
    return value


def latest(value: date | PartialDate | None) -> date | None:
    """Last day a (possibly partial) date can mean (2024-02 → 2024-02-29)."""
    if value is None:
        return None
    if isinstance(value, PartialDate):
        if value.day is not None:
            return date(value.year, value.month, value.day)
        month = value.month or 12
        return date(value.year, month, monthrange(value.year, month)[1])
    return value


def definitely_before(first: date | PartialDate | None, second: date | PartialDate | None) -> bool:
    """True only when ``first`` lies before ``second`` whatever the missing parts are."""
    end, start = latest(first), earliest(second)
    return end is not None and start is not None and end < start


def same_id(a: Any, b: Any) -> bool:
    """Identifiers compare without case or surrounding spaces ("l1 " is "L1")."""
    return (
        isinstance(a, str) and isinstance(b, str) and a.strip().upper() == b.strip().upper() != ""
    )
