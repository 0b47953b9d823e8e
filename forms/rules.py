"""Declarative edit checks: comparisons between values, values between two others, dates
within days of another, uniqueness within rows, and identifiers that must name a row of
another table.

What most edit checks say is "this must come before that", "this cannot exceed that",
"this identifier is used once", "this lesion was declared at baseline" or "these two scans
were made alike" (the same scanner, uptake times at most 10 min apart). Written as
declarations, a data manager reads them as such, the engine checks their references and
types at start-up, and the annotated CRF can print them. Each returns a
:class:`forms.language.Check`, so the engine runs it like any other; the message is a named
argument, where ``{left}`` and ``{right}`` (comparisons) or ``{value}`` (the others) stand
for the values concerned.

    compare("AE_END_AFTER_START", "AEENDAT", ">=", "AESTDAT",
            message="The end date ({left}) is before the start date ({right}).",
            severity=Severity.REJECT)

Either side may be the entry's context ("@VISIT_DATE", "@D0", "@TODAY": see
``forms.language.CONTEXT``):

    within("LAB_NEAR_VISIT", "LBDAT", of="@VISIT_DATE", days=(-3, 0),
           message="The sample ({value}) is not within 3 days before the visit ({reference}).")

A partial date stands for every day it may mean: a comparison is broken only when it is
broken for all of them (2024-05 ≥ 2024-05-20 holds, since the day may be the 31st). A rule
with an empty value raises nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from forms.language import Check, Severity
from forms.values import PartialDate, earliest, latest, same_id

#: The comparisons a rule may require, in words (for people and the annotated CRF).
OPERATORS = {
    "<": "before / less than",
    "<=": "on or before / at most",
    ">": "after / greater than",
    ">=": "on or after / at least",
    "==": "the same as",
}


def _bounds(value: Any) -> tuple[Any, Any]:
    if isinstance(value, PartialDate):
        return earliest(value), latest(value)
    return value, value


def broken(left: Any, op: str, right: Any) -> bool:
    """Whether ``left op right`` fails for every value the two may stand for."""
    left_low, left_high = _bounds(left)
    right_low, right_high = _bounds(right)
    if op == "<":
        return left_low >= right_high
    if op == "<=":
        return left_low > right_high
    if op == ">":
        return left_high <= right_low
    if op == ">=":
        return left_high < right_low
    if op == "==":
        return left_high < right_low or right_high < left_low
    raise ValueError(f"unknown comparison {op!r}")


def _shown(value: Any) -> str:
    """A value as the site wrote it: clock times to the minute (the forms take no seconds)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return value.isoformat() if isinstance(value, date) else str(value)


@dataclass(frozen=True)
class Comparison:
    """``left op right`` must hold; called with the inputs, returns the message if not."""

    left: str
    op: str
    right: str
    message: str

    def __call__(self, values: dict[str, Any]) -> str | None:
        left, right = values.get(self.left), values.get(self.right)
        if left is None or right is None or not broken(left, self.op, right):
            return None
        return self.message.format(left=_shown(left), right=_shown(right))


def compare(
    name: str,
    left: str,
    op: str,
    right: str,
    *,
    message: str,
    severity: Severity = Severity.WARN,
    at: str | None = None,
) -> Check:
    """A check that ``left op right`` holds (``op``: <, <=, >, >=, ==), shown at ``at``
    (default: ``left``)."""
    if op not in OPERATORS:
        raise ValueError(f"{name}: unknown comparison {op!r} (use one of {', '.join(OPERATORS)})")
    return Check(name, at or left, (left, right), Comparison(left, op, right, message), severity)


@dataclass(frozen=True)
class Between:
    """``low <= item <= high``; called with the inputs, returns the message if not (an
    empty bound leaves that side open)."""

    item: str
    low: str
    high: str
    message: str

    def __call__(self, values: dict[str, Any]) -> str | None:
        value, low, high = values.get(self.item), values.get(self.low), values.get(self.high)
        if value is None or (low is None and high is None):
            return None
        if (low is None or not broken(value, ">=", low)) and (
            high is None or not broken(value, "<=", high)
        ):
            return None
        return self.message.format(
            value=_shown(value),
            low=_shown(low) if low is not None else "",
            high=_shown(high) if high is not None else "",
        )


def between(
    name: str,
    item: str,
    low: str,
    high: str,
    *,
    message: str,
    severity: Severity = Severity.WARN,
) -> Check:
    """A check that ``low <= item <= high`` (items or the context: "@WINDOW_START");
    ``{value}``, ``{low}`` and ``{high}`` in the message stand for the values concerned."""
    return Check(name, item, (item, low, high), Between(item, low, high, message), severity)


@dataclass(frozen=True)
class Window:
    """The date ``item`` lies from ``low`` to ``high`` days (inclusive) after the date ``of``
    (negative: before); called with the inputs, returns the message if it does not."""

    item: str
    of: str
    low: int
    high: int
    message: str

    def __call__(self, values: dict[str, Any]) -> str | None:
        value, base = values.get(self.item), values.get(self.of)
        if value is None or base is None:
            return None
        try:
            first = earliest(base) + timedelta(days=self.low)
            last = latest(base) + timedelta(days=self.high)
        except OverflowError:  # a window off the calendar holds no date to compare
            return None
        if not (broken(value, ">=", first) or broken(value, "<=", last)):
            return None
        return self.message.format(
            value=_shown(value),
            reference=_shown(base),
            earliest=first.isoformat(),
            latest=last.isoformat(),
        )


def within(
    name: str,
    item: str,
    *,
    of: str,
    days: tuple[int, int],
    message: str,
    severity: Severity = Severity.WARN,
) -> Check:
    """A check that the date ``item`` lies ``days`` = (from, to) days after the date ``of``
    (an item or the context: "@VISIT_DATE", "@D0"...); ``{value}``, ``{reference}``,
    ``{earliest}`` and ``{latest}`` in the message stand for the dates concerned."""
    low, high = days
    if low > high:
        raise ValueError(f"{name}: days=({low}, {high}) is an empty window")
    return Check(name, item, (item, of), Window(item, of, low, high, message), severity)


@dataclass(frozen=True)
class Uniqueness:
    """The value of ``item`` is used in one row of ``among`` only (compared on the item's
    name in the rows; identifiers without case or surrounding spaces), and, with
    ``elsewhere``, in no row of that other table (compared on ``elsewhere_item``)."""

    item: str
    among: str
    message: str
    elsewhere: str | None = None
    elsewhere_item: str | None = None
    elsewhere_message: str = ""

    @property
    def key(self) -> str:
        return self.item.rsplit(".", 1)[-1]

    def __call__(self, values: dict[str, Any]) -> str | None:
        value = values.get(self.item)
        if value is None:
            return None
        if self.elsewhere is not None and any(
            same_id(row.get(self.elsewhere_item), value) for row in values.get(self.elsewhere) or []
        ):
            return self.elsewhere_message.format(value=_shown(value))
        count = sum(1 for row in values.get(self.among) or [] if _same(row.get(self.key), value))
        return self.message.format(value=_shown(value)) if count > 1 else None


def _same(a: Any, b: Any) -> bool:
    return same_id(a, b) if isinstance(b, str) else a == b


def unique(
    name: str,
    item: str,
    *,
    among: str,
    message: str,
    severity: Severity = Severity.WARN,
    elsewhere: str | None = None,
    elsewhere_item: str | None = None,
    elsewhere_message: str = "",
) -> Check:
    """A check that the value of ``item`` appears in one row of ``among`` (a rows
    reference, "GROUP[]" for the rows of this entry) and, given ``elsewhere``, in none of
    those rows (on ``elsewhere_item``)."""
    if (elsewhere is None) != (elsewhere_item is None) or (elsewhere and not elsewhere_message):
        raise ValueError(f"{name}: elsewhere, elsewhere_item and elsewhere_message go together")
    inputs = (item, among) + ((elsewhere,) if elsewhere else ())
    rule = Uniqueness(item, among, message, elsewhere, elsewhere_item, elsewhere_message)
    return Check(name, item, inputs, rule, severity)


@dataclass(frozen=True)
class Listing:
    """The value of ``item`` names a row of ``among`` (on ``key``, identifiers without case
    or surrounding spaces); called with the inputs, returns the message if it names none."""

    item: str
    among: tuple[str, ...]
    key: str
    message: str

    def __call__(self, values: dict[str, Any]) -> str | None:
        value = values.get(self.item)
        if value is None:
            return None
        for rows in self.among:
            if any(_same(row.get(self.key), value) for row in values.get(rows) or []):
                return None
        return self.message.format(value=_shown(value))


def listed(
    name: str,
    item: str,
    *,
    among: str | tuple[str, ...],
    key: str | None = None,
    message: str,
    severity: Severity = Severity.WARN,
) -> Check:
    """A check that the value of ``item`` names a row of ``among`` (one rows reference, or
    several: a row of any of them), compared on ``key`` (default: the item's name)."""
    tables = (among,) if isinstance(among, str) else tuple(among)
    rule = Listing(item, tables, key or item.rsplit(".", 1)[-1], message)
    return Check(name, item, (item, *tables), rule, severity)


@dataclass(frozen=True)
class Sameness:
    """``item`` is the same as ``of`` (texts as identifiers: without case or surrounding
    spaces); called with the inputs, returns the message if they differ."""

    item: str
    of: str
    message: str

    def __call__(self, values: dict[str, Any]) -> str | None:
        value, other = values.get(self.item), values.get(self.of)
        if value is None or other is None:
            return None
        if same_id(value, other) if isinstance(value, str) else value == other:
            return None
        return self.message.format(value=_shown(value), other=_shown(other))


def same(
    name: str, item: str, *, of: str, message: str, severity: Severity = Severity.WARN
) -> Check:
    """A check that ``item`` has the value of ``of`` (two scans made with the same tracer,
    scanner, reader...); ``{value}`` and ``{other}`` in the message stand for the two."""
    return Check(name, item, (item, of), Sameness(item, of, message), severity)


@dataclass(frozen=True)
class Nearness:
    """The number ``item`` differs from ``of`` by at most ``by`` (either way); called with
    the inputs, returns the message if it differs by more."""

    item: str
    of: str
    by: Decimal
    message: str

    def __call__(self, values: dict[str, Any]) -> str | None:
        value, other = values.get(self.item), values.get(self.of)
        if value is None or other is None:
            return None
        difference = abs(Decimal(str(value)) - Decimal(str(other)))
        if difference <= self.by:
            return None
        return self.message.format(
            value=_shown(value), other=_shown(other), difference=_shown(difference)
        )


def near(
    name: str,
    item: str,
    *,
    of: str,
    by: int | Decimal,
    message: str,
    severity: Severity = Severity.WARN,
) -> Check:
    """A check that the number ``item`` lies within ``by`` of ``of`` (uptake times of two
    scans at most 10 min apart); ``{value}``, ``{other}`` and ``{difference}`` in the
    message stand for the numbers concerned."""
    if by < 0:
        raise ValueError(f"{name}: by={by} is a negative tolerance")
    return Check(name, item, (item, of), Nearness(item, of, Decimal(str(by)), message), severity)
