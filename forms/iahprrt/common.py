"""Small helpers the IAH-PRRT definition is written with: item shorthands, exact decimal
rounding, partial-date bounds, and adapters that let a pure function of plain arguments
serve as a derivation or an edit check.

The language calls ``Derivation.function`` and ``Check.function`` with one dict of
input reference → typed value. Clinical rules read better (and test better) as functions
of named arguments, so :class:`Call` binds one to the other: ``Call(f, ("WEIGHT",
"HEIGHT"))({"WEIGHT": w, "HEIGHT": h}) == f(w, h)``. A ``Call`` is a frozen dataclass, so
the definition's fingerprint covers the function's name and the references it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, getcontext
from typing import Any

from forms.language import (
    Check,
    Condition,
    DataType,
    Derivation,
    Item,
    Range,
    Severity,
)

# --- numbers and dates -----------------------------------------------------------------


def dec(value: Any) -> Decimal | None:
    """``value`` as a Decimal (ints and Decimals pass; None stays None)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a yes/no is not a number")
    return Decimal(str(value))


def rounded(value: Decimal | None, places: str = "0.1") -> Decimal | None:
    """Half-up rounding as clinicians round (2.25 → 2.3), to ``places`` (e.g. "0.01").

    None when ``value`` has more digits before ``places`` than Decimal arithmetic keeps
    (28): only inputs that cannot belong together give such a number (e.g. an activity
    decay-corrected over years).
    """
    if value is None:
        return None
    context = getcontext().copy()
    context.traps[InvalidOperation] = False
    result = value.quantize(Decimal(places), rounding=ROUND_HALF_UP, context=context)
    return None if result.is_nan() else result


def moment(day: date | None, clock: time | None) -> datetime | None:
    """A date and a time of day as one naive local datetime (None if either is missing)."""
    if day is None or clock is None:
        return None
    return datetime.combine(day, clock)


def rows_of(rows: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return list(rows or [])


# --- adapters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """Call ``function(*constants, *values of inputs)``: a pure function as a language rule."""

    function: Callable[..., Any]
    inputs: tuple[str, ...]
    constants: tuple[Any, ...] = ()

    def __call__(self, values: dict[str, Any]) -> Any:
        return self.function(*self.constants, *(values.get(ref) for ref in self.inputs))


def derive(
    target: str,
    function: Callable[..., Any],
    *inputs: str,
    formula: str,
    constants: tuple[Any, ...] = (),
) -> Derivation:
    return Derivation(target, tuple(inputs), Call(function, tuple(inputs), constants), formula)


def check(
    name: str,
    target: str,
    function: Callable[..., str | None],
    *inputs: str,
    severity: Severity = Severity.WARN,
    constants: tuple[Any, ...] = (),
) -> Check:
    return Check(name, target, tuple(inputs), Call(function, tuple(inputs), constants), severity)


# --- item shorthands ---------------------------------------------------------------------


def text(oid: str, label: str, *, max_length: int | None = 200, **kw: Any) -> Item:
    return Item(oid, label, DataType.TEXT, max_length=max_length, **kw)


def day(oid: str, label: str, **kw: Any) -> Item:
    return Item(oid, label, DataType.DATE, **kw)


def partial_day(oid: str, label: str, **kw: Any) -> Item:
    return Item(oid, label, DataType.PARTIAL_DATE, **kw)


def clock(oid: str, label: str, **kw: Any) -> Item:
    return Item(oid, label, DataType.TIME, **kw)


def choice(oid: str, label: str, codelist: str, **kw: Any) -> Item:
    return Item(oid, label, DataType.CHOICE, codelist=codelist, **kw)


def choices(oid: str, label: str, codelist: str, **kw: Any) -> Item:
    return Item(oid, label, DataType.MULTI_CHOICE, codelist=codelist, **kw)


def yes_no(oid: str, label: str, **kw: Any) -> Item:
    return Item(oid, label, DataType.YES_NO, **kw)


def integer(
    oid: str,
    label: str,
    units: str | None = None,
    hard: tuple[Any, Any] | None = None,
    soft: tuple[Any, Any] | None = None,
    **kw: Any,
) -> Item:
    return Item(
        oid,
        label,
        DataType.INTEGER,
        units=units,
        hard=Range(*hard) if hard else None,
        soft=Range(*soft) if soft else None,
        **kw,
    )


def decimal(
    oid: str,
    label: str,
    units: str | None = None,
    precision: int | None = 1,
    hard: tuple[Any, Any] | None = None,
    soft: tuple[Any, Any] | None = None,
    **kw: Any,
) -> Item:
    return Item(
        oid,
        label,
        DataType.DECIMAL,
        units=units,
        precision=precision,
        hard=Range(*hard) if hard else None,
        soft=Range(*soft) if soft else None,
        **kw,
    )


def derived(
    oid: str,
    label: str,
    type: DataType = DataType.DECIMAL,
    units: str | None = None,
    codelist: str | None = None,
    **kw: Any,
) -> Item:
    return Item(oid, label, type, units=units, codelist=codelist, derived=True, **kw)


def shown(condition: Condition) -> dict[str, Condition]:
    """``shown_when`` and ``required_when`` together: asked only (and then always) when."""
    return {"shown_when": condition, "required_when": condition}
