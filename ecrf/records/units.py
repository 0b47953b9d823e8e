"""Units of measure: the UCUM symbols the engine recognises, conversion to an item's
standard unit, and the definition problems of an item's units (checked at load).

No UCUM parser: a small table of the symbols laboratories report in. A symbol outside it
is refused at start-up (add it here, with its kind and scale, when a study needs it).
"""

from __future__ import annotations

from decimal import Decimal

from forms.language import DataType, Item, ItemGroup, Unit

#: UCUM symbol → (kind of quantity, scale to the kind's base unit). Two units of one kind
#: convert by the ratio of their scales; units of different kinds (mg/dL and µmol/L of one
#: substance) by the factor the definition gives (a molar mass).
UCUM: dict[str, tuple[str, Decimal]] = {
    # mass concentration, base g/L
    "g/L": ("mass/volume", Decimal(1)),
    "g/dL": ("mass/volume", Decimal(10)),
    "mg/dL": ("mass/volume", Decimal("0.01")),
    "mg/L": ("mass/volume", Decimal("0.001")),
    "ug/L": ("mass/volume", Decimal("0.000001")),
    "ng/mL": ("mass/volume", Decimal("0.000001")),
    # substance concentration, base mol/L
    "mol/L": ("substance/volume", Decimal(1)),
    "mmol/L": ("substance/volume", Decimal("0.001")),
    "umol/L": ("substance/volume", Decimal("0.000001")),
    # number concentration (cell counts), base /L
    "/L": ("number/volume", Decimal(1)),
    "10*9/L": ("number/volume", Decimal(10) ** 9),
    "10*12/L": ("number/volume", Decimal(10) ** 12),
    "10*3/uL": ("number/volume", Decimal(10) ** 9),
    "/uL": ("number/volume", Decimal(10) ** 6),
    "/mm3": ("number/volume", Decimal(10) ** 6),
    # catalytic activity concentration, base U/L
    "U/L": ("catalytic/volume", Decimal(1)),
    "ukat/L": ("catalytic/volume", Decimal("60")),
}

NUMERIC = (DataType.INTEGER, DataType.DECIMAL)


def to_standard(item: Item, value, symbol: str | None):
    """``value`` (entered in the unit ``symbol``; None: the standard unit) in the item's
    standard unit, exactly (no rounding). Values of single-unit items pass unchanged.

    :raises KeyError: ``symbol`` is not a unit of the item.
    """
    if value is None or not item.multi_unit:
        return value
    unit = item.unit(symbol)
    if unit is None:
        raise KeyError(symbol)
    if unit is item.standard_unit:
        return value
    # Exact; trailing zeros of the product dropped (1.00 mg/dL is 88.42 µmol/L, not 88.4200).
    return (Decimal(value) * unit.factor).normalize()


def unit_problems(group: ItemGroup, item: Item) -> list[str]:
    """What is wrong with the units of ``item`` (of ``group``), in words."""
    problems: list[str] = []
    if item.unit_of is not None:
        problems += _follow_problems(group, item)
    if not item.measured_in:
        return problems
    if item.type not in NUMERIC:
        problems.append("units to choose from on a non-numeric item")
    if item.units:
        problems.append("both a units text and units to choose from")
    if item.derived:
        problems.append("a derived item is computed in one unit: give it a units text")
    if item.hard is not None or item.soft is not None:
        problems.append("ranges given both on the item and on its units: give them per unit")
    seen: set[str] = set()
    for unit in item.measured_in:
        problems += [f"unit {unit.symbol}: {p}" for p in _unit_problems(item, unit)]
        if unit.symbol in seen:
            problems.append(f"unit {unit.symbol} listed twice")
        seen.add(unit.symbol)
    standard = item.measured_in[0]
    if standard.factor is not None and standard.factor != 1:
        problems.append(f"the standard unit {standard.symbol} (the first) must have factor 1")
    for unit in item.measured_in[1:]:
        expected = _same_kind_factor(unit.symbol, standard.symbol)
        if expected is not None and unit.factor is not None and unit.factor != expected:
            problems.append(
                f"unit {unit.symbol}: factor {unit.factor} to {standard.symbol}, but UCUM "
                f"gives {expected.normalize():f}"
            )
    return problems


def _unit_problems(item: Item, unit: Unit) -> list[str]:
    problems = []
    if unit.symbol not in UCUM:
        problems.append("not a UCUM symbol this engine knows (e.g. umol/L, g/dL, 10*9/L, /mm3)")
    if unit.factor is None:
        problems.append("no factor to the standard unit")
    elif unit.factor <= 0:
        problems.append(f"factor {unit.factor} must be above 0")
    if unit.precision is not None and item.type is not DataType.DECIMAL:
        problems.append("precision applies to decimal items only")
    for name in ("hard", "soft"):
        bounds = getattr(unit, name)
        if (
            bounds is not None
            and None not in (bounds.low, bounds.high)
            and bounds.low > bounds.high
        ):
            problems.append(f"{name} range low {bounds.low} > high {bounds.high}")
    if unit.hard and unit.soft and _reaches_outside(unit.soft, unit.hard):
        problems.append("soft range reaches outside the hard range")
    return problems


def _reaches_outside(soft, hard) -> bool:
    low = soft.low is not None and hard.low is not None and soft.low < hard.low
    return low or (soft.high is not None and hard.high is not None and soft.high > hard.high)


def _same_kind_factor(symbol: str, standard: str) -> Decimal | None:
    if symbol not in UCUM or standard not in UCUM:
        return None
    (kind, scale), (standard_kind, standard_scale) = UCUM[symbol], UCUM[standard]
    return scale / standard_scale if kind == standard_kind else None


def _follow_problems(group: ItemGroup, item: Item) -> list[str]:
    """A value in the unit of another item of its row: that item exists, has several units,
    chooses its own, and this one has the same units (symbols and factors)."""
    leader = next((i for i in group.items if i.oid == item.unit_of), None)
    if leader is None:
        return [f"unit_of {item.unit_of}: no such item in group {group.oid}"]
    if not leader.multi_unit:
        return [f"unit_of {item.unit_of}: that item has one unit, nothing to follow"]
    if leader.unit_of is not None:
        return [f"unit_of {item.unit_of}: that item follows another's unit itself"]
    if not item.multi_unit:
        return [f"unit_of {item.unit_of}: give this item the same units (with its own ranges)"]
    mine = [(u.symbol, u.factor) for u in item.measured_in]
    theirs = [(u.symbol, u.factor) for u in leader.measured_in]
    if mine != theirs:
        return [f"unit_of {item.unit_of}: its units and factors differ from that item's"]
    return []
