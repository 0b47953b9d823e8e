"""Field types: turn what a user typed into a typed value, store it exactly, show it back.

One entry per forms.language.DataType, looked up by type (a registry, as the definition
language names types and the engine supplies their behaviour).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ecrf.records import dates
from forms.language import MISSING_CODES, CodeList, DataType, Item, Unit
from forms.values import PartialDate

Value = Any  # str | int | Decimal | date | PartialDate | time | list[str] | None


#: What a person is told when a typed value cannot be read ({codes}: the unknown answers,
#: {places}: the decimal places the item keeps).
MESSAGES = {
    "not_listed": "Not one of the listed answers: {codes}. Choose from the list.",
    "too_large": "This number is too large: use at most 18 digits before the decimal point.",
    "whole": "Use whole numbers (no decimal point).",
    "one_decimal": "Use at most one decimal place, e.g. 12.5.",
    "decimals": "Use at most {places} decimal places.",
}


class FieldError(ValueError):
    """What is wrong with a typed entry, in words for the person who typed it."""


@dataclass(frozen=True)
class Stored:
    text: str | None
    number: Decimal | None = None
    day: date | None = None
    #: UCUM symbol of the unit the value was entered in (items with several units).
    unit: str | None = None


_INT = re.compile(r"^[+-]?\d+$")
#: Numbers are also stored in NUMERIC(28, 10): at most 18 digits before the decimal point.
_LIMIT = Decimal(10) ** 18
_DEC = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse(
    item: Item,
    raw: str | list[str] | None,
    codelist: CodeList | None,
    *,
    today: date | None = None,
    unit: Unit | None = None,
) -> Value:
    """The typed value of ``raw`` for ``item``, None when empty; raises FieldError.

    Dates must be plausible against ``today`` (the day of the save; default the UTC date).
    A number entered in ``unit`` keeps that unit's decimal places.
    """
    if unit is not None and unit.precision is not None:
        item = replace(item, precision=unit.precision)
    if item.type is DataType.MULTI_CHOICE:
        if isinstance(raw, str):  # codes in one string, as stored: "FLUSH PAIN"
            raw = raw.split()
        codes = [c for c in (raw or []) if c]
        allowed = {code for code, _ in codelist.codes} if codelist else set()
        unknown = [c for c in codes if c not in allowed]
        if unknown:
            raise FieldError(MESSAGES["not_listed"].format(codes=", ".join(unknown)))
        return sorted(set(codes), key=[code for code, _ in codelist.codes].index) or None
    text = (raw[0] if isinstance(raw, list) and raw else raw) or ""
    text = text.strip()
    if not text:
        return None
    value = _PARSERS[item.type](item, text, codelist)
    if isinstance(value, (date, PartialDate)):
        problem = dates.year_problem(value.year, today or datetime.now(UTC).date())
        if problem:
            raise FieldError(problem)
    return value


def _text(item: Item, text: str, _codelist) -> str:
    if item.max_length is not None and len(text) > item.max_length:
        raise FieldError(f"Use at most {item.max_length} characters.")
    return text


def _integer(item: Item, text: str, _codelist) -> int:
    if not _INT.match(text):
        raise FieldError("Enter a whole number.")
    return _within_limit(int(text))


def _within_limit(value):
    if abs(value) >= _LIMIT:
        raise FieldError(MESSAGES["too_large"])
    return value


def _decimal(item: Item, text: str, _codelist) -> Decimal:
    if not _DEC.match(text):
        raise FieldError("Enter a number, e.g. 12.5.")
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise FieldError("Enter a number, e.g. 12.5.") from None
    _within_limit(value)
    if value.is_zero():
        value = abs(value)  # "-0.0" is 0.0: no negative zero stored or shown
    if item.precision is not None:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > item.precision:
            if item.precision == 0:
                raise FieldError(MESSAGES["whole"])
            key = "one_decimal" if item.precision == 1 else "decimals"
            raise FieldError(MESSAGES[key].format(places=item.precision))
        value = value.quantize(Decimal(1).scaleb(-item.precision))
    return value


def parse_day(text: str) -> date:
    """The one reading of a full date typed by a person (date items and visit dates alike):
    YYYY-MM-DD and a real day; raises FieldError."""
    text = text.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise FieldError("Enter a real date as YYYY-MM-DD, e.g. 2025-03-14.")


def _date(item: Item, text: str, _codelist) -> date:
    return parse_day(text)


def _partial_date(item: Item, text: str, _codelist) -> PartialDate:
    try:
        return PartialDate.parse(text)
    except ValueError:
        raise FieldError(
            "Enter a date as YYYY-MM-DD, or YYYY-MM or YYYY when the day or month is unknown."
        ) from None


def _time(item: Item, text: str, _codelist) -> time:
    match = _TIME.match(text)
    if not match:
        raise FieldError("Enter a time as HH:MM (24 h), e.g. 14:05.")
    return time(int(match.group(1)), int(match.group(2)))


def _choice(item: Item, text: str, codelist: CodeList | None) -> str:
    if codelist is None or text not in {code for code, _ in codelist.codes}:
        raise FieldError("Choose one of the listed answers.")
    return text


_PARSERS = {
    DataType.TEXT: _text,
    DataType.INTEGER: _integer,
    DataType.DECIMAL: _decimal,
    DataType.DATE: _date,
    DataType.PARTIAL_DATE: _partial_date,
    DataType.TIME: _time,
    DataType.CHOICE: _choice,
    DataType.YES_NO: _choice,
}


#: A value impossible in its unit but plausible in another of the item's units.
UNIT_QUESTION = (
    "{value}{units} is impossible here (expected {expected}{units}): was it reported in"
    " {other}? Please check the unit."
)


def _unit_it_fits(item: Item, value: Value, unit: Unit | None) -> Unit | None:
    if unit is None:
        return None
    return next(
        (u for u in item.measured_in if u is not unit and u.hard and u.hard.contains(value)),
        None,
    )


def range_problem(item: Item, value: Value, unit: Unit | None = None) -> tuple[str, str] | None:
    """("hard"|"soft", message) when a numeric value lies outside a range of the item, or
    of ``unit``, the unit it was entered in (an item with several units)."""
    if value is None or item.type not in (DataType.INTEGER, DataType.DECIMAL):
        return None
    hard, soft, label = item.hard, item.soft, item.units
    if unit is not None:
        hard, soft, label = unit.hard, unit.soft, unit.label
    units = f" {label}" if label else ""
    if hard and not hard.contains(value):
        other = _unit_it_fits(item, value, unit)
        if other is not None:  # plausible in another unit: typed in the wrong one?
            return "hard", UNIT_QUESTION.format(
                value=value, units=units, expected=hard.describe(), other=other.label
            )
        return "hard", f"{value}{units} is impossible here: expected {hard.describe()}{units}."
    if soft and not soft.contains(value):
        return (
            "soft",
            f"{value}{units} is outside the usual {soft.describe()}{units}; please check.",
        )
    return None


def store(item: Item, value: Value, unit: str | None = None) -> Stored:
    """Exact canonical text, plus typed copies for queries (and the unit, as entered)."""
    if value is None:
        return Stored(None)
    if unit is not None:
        return replace(store(item, value), unit=unit)
    if item.type is DataType.MULTI_CHOICE:
        return Stored(" ".join(value))
    if item.type is DataType.INTEGER:
        return Stored(str(value), number=Decimal(value))
    if item.type is DataType.DECIMAL:
        return Stored(format(value, "f"), number=value)
    if item.type is DataType.DATE:
        return Stored(value.isoformat(), day=value)
    if item.type is DataType.PARTIAL_DATE:
        return Stored(str(value), day=value.to_date())
    if item.type is DataType.TIME:
        return Stored(value.strftime("%H:%M"))
    return Stored(str(value))


def load(item: Item, text: str | None) -> Value:
    """The typed value back from its canonical text."""
    if text is None:
        return None
    if item.type is DataType.MULTI_CHOICE:
        return text.split(" ") if text else None
    if item.type is DataType.INTEGER:
        return int(text)
    if item.type is DataType.DECIMAL:
        return Decimal(text)
    if item.type is DataType.DATE:
        return date.fromisoformat(text)
    if item.type is DataType.PARTIAL_DATE:
        return PartialDate.parse(text)
    if item.type is DataType.TIME:
        return time.fromisoformat(text)
    return text


def display(
    item: Item, value: Value, codelist: CodeList | None = None, unit: str | None = None
) -> str:
    """The value as people read it (code list labels, units). For an item with several
    units, ``value`` is as entered in the unit ``unit`` (None: the standard unit)."""
    if value is None:
        return ""
    if item.multi_unit:
        chosen = item.unit(unit)
        text = store(item, value).text or ""
        return f"{text} {chosen.label if chosen else unit}"
    if item.type is DataType.MULTI_CHOICE:
        return ", ".join(codelist.label(c) if codelist else c for c in value)
    if item.type in (DataType.CHOICE, DataType.YES_NO):
        return codelist.label(value) if codelist else str(value)
    if item.derived and item.precision is not None and isinstance(value, Decimal):
        # A derived value is kept unrounded (thresholds compare it); shown as people round.
        value = value.quantize(Decimal(1).scaleb(-item.precision), ROUND_HALF_UP)
    text = store(item, value).text or ""
    return f"{text} {item.units}" if item.units else text


def raw_text(item: Item, value: Value) -> str | list[str]:
    """What to put back in the input for ``value``."""
    if value is None:
        return [] if item.type is DataType.MULTI_CHOICE else ""
    if item.type is DataType.MULTI_CHOICE:
        return list(value)
    return store(item, value).text or ""


#: Items answered from a code list: a missing-data code is picked, never typed.
CHOICE_TYPES = (DataType.CHOICE, DataType.YES_NO, DataType.MULTI_CHOICE)


def missing_codes_for(item: Item, codelist: CodeList | None = None) -> list[str]:
    """The missing-data codes ``item`` accepts: none where its definition refuses them
    (``missing_allowed=False``), for a derived value or a multiple choice; for an item
    answered from ``codelist``, those the list does not use as answers ("NA" may be one)."""
    if not item.missing_allowed or item.derived or item.type is DataType.MULTI_CHOICE:
        return []
    own = {code for code, _ in codelist.codes} if codelist else set()
    return [code for code in MISSING_CODES if code not in own]


def missing_code(
    raw: str | list[str] | None, item: Item | None = None, codelist: CodeList | None = None
) -> str | None:
    """The missing-data code ``raw`` stands for ("ND", "unk"... typed alone in the field,
    or picked in a list), or None. For an ``item`` answered from its ``codelist``, a code of
    that list ("NA": not applicable) is an answer, not a missing-data code."""
    if item is not None and item.type in CHOICE_TYPES:
        if not isinstance(raw, str) or raw not in MISSING_CODES:
            return None
        return None if codelist is not None and raw in dict(codelist.codes) else raw
    if isinstance(raw, list):
        raw = raw[0] if len(raw) == 1 else None
    if raw and raw.strip().upper() in MISSING_CODES:
        return raw.strip().upper()
    return None
