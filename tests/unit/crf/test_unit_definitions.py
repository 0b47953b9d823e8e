"""Items with several units in the definition language: what the loader accepts, what it
refuses at start-up (by name), and how a value converts to the standard unit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ecrf.records import fields, units
from ecrf.records.loader import DefinitionError, load_study
from forms.language import DataType, Item, Range, Unit, When
from tests.definitions.edit import add_item, replace_item
from tests.definitions.mini import STUDY

G_DL = Unit("g/dL", "g/dL", factor=1, hard=Range(2, 25), soft=Range(12, 17))
G_L = Unit("g/L", "g/L", factor="0.1", precision=0, hard=Range(20, 250), soft=Range(120, 170))
LLN_G_DL = Unit("g/dL", "g/dL", factor=1, hard=Range(8, 16))
LLN_G_L = Unit("g/L", "g/L", factor="0.1", precision=0, hard=Range(80, 160))


def with_hgb(**changes):
    """The mini study with its haemoglobin in g/dL or g/L, and an LLN in the same unit."""
    study = replace_item(
        STUDY, "LB", "HGB", units=None, hard=None, soft=None, measured_in=(G_DL, G_L)
    )
    lln = Item(
        "HGBLLN",
        "Haemoglobin LLN",
        DataType.DECIMAL,
        measured_in=(LLN_G_DL, LLN_G_L),
        unit_of="HGB",
    )
    study = add_item(study, "LB", lln)
    return replace_item(study, "LB", "HGB", **changes) if changes else study


def problems_of(study) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_study(study)
    return caught.value.problems


def test_an_item_with_several_units_loads_and_converts_exactly():
    loaded = load_study(with_hgb())
    item = loaded.item("LB", "HGB")[1]
    assert item.multi_unit and item.standard_unit.symbol == "g/dL"
    assert item.unit("g/L").factor == Decimal("0.1") and item.unit(None) is item.standard_unit
    assert units.to_standard(item, Decimal("125"), "g/L") == Decimal("12.5")
    assert units.to_standard(item, Decimal("12.5"), None) == Decimal("12.5")
    assert units.to_standard(item, None, "g/L") is None
    with pytest.raises(KeyError):
        units.to_standard(item, Decimal(1), "mg/dL")
    assert fields.display(item, Decimal("125"), unit="g/L") == "125 g/L"
    assert fields.display(item, Decimal("12.5")) == "12.5 g/dL"


def test_creatinine_converts_by_the_protocols_factor_without_rounding():
    from forms.iahprrt.labs import LBCHEM

    creat = next(i for _, i in LBCHEM.items() if i.oid == "CREAT")
    assert units.to_standard(creat, Decimal("1.13"), "mg/dL") == Decimal("99.9146")


def test_a_single_units_text_still_works():
    loaded = load_study(STUDY)
    item = loaded.item("LB", "HGB")[1]
    assert item.units == "g/dL" and not item.multi_unit and item.measured_in == ()


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (
            lambda: with_hgb(measured_in=(G_DL, Unit("g/L", "g/L", hard=Range(20, 250)))),
            "form LB, item HGB: unit g/L: no factor to the standard unit",
        ),
        (
            lambda: with_hgb(measured_in=(G_DL, Unit("g/L", factor=0))),
            "form LB, item HGB: unit g/L: factor 0 must be above 0",
        ),
        (
            lambda: with_hgb(measured_in=(G_DL, Unit("g/L", factor="-0.1"))),
            "form LB, item HGB: unit g/L: factor -0.1 must be above 0",
        ),
        (
            lambda: with_hgb(measured_in=(G_DL, G_DL)),
            "form LB, item HGB: unit g/dL listed twice",
        ),
        (
            lambda: with_hgb(measured_in=(G_DL, Unit("grammes/litre", factor="0.1"))),
            "form LB, item HGB: unit grammes/litre: not a UCUM symbol this engine knows "
            "(e.g. umol/L, g/dL, 10*9/L, /mm3)",
        ),
        (
            lambda: with_hgb(measured_in=(G_DL, Unit("g/L", factor=10))),
            "form LB, item HGB: unit g/L: factor 10 to g/dL, but UCUM gives 0.1",
        ),
        (
            lambda: with_hgb(measured_in=(Unit("g/L", factor="0.1"), G_DL)),
            "form LB, item HGB: the standard unit g/L (the first) must have factor 1",
        ),
        (
            lambda: with_hgb(hard=Range(2, 25)),
            "form LB, item HGB: ranges given both on the item and on its units: give them per unit",
        ),
        (
            lambda: with_hgb(units="g/dL"),
            "form LB, item HGB: both a units text and units to choose from",
        ),
        (
            lambda: with_hgb(
                measured_in=(
                    G_DL,
                    Unit("g/L", factor="0.1", hard=Range(20, 250), soft=Range(10, 30)),
                )
            ),
            "form LB, item HGB: unit g/L: soft range reaches outside the hard range",
        ),
        (
            lambda: replace_item(with_hgb(), "LB", "HGBLLN", unit_of="NOPE"),
            "form LB, item HGBLLN: unit_of NOPE: no such item in group LB",
        ),
        (
            lambda: replace_item(with_hgb(), "LB", "HGBLLN", unit_of="LBDAT"),
            "form LB, item HGBLLN: unit_of LBDAT: that item has one unit, nothing to follow",
        ),
        (
            lambda: replace_item(with_hgb(), "LB", "HGBLLN", measured_in=()),
            "form LB, item HGBLLN: unit_of HGB: give this item the same units (with its own "
            "ranges)",
        ),
        (
            lambda: replace_item(with_hgb(), "LB", "HGBLLN", measured_in=(LLN_G_DL,)),
            "form LB, item HGBLLN: unit_of HGB: its units and factors differ from that item's",
        ),
        (
            lambda: replace_item(with_hgb(), "LB", "LBTIM", measured_in=(Unit("g/L", factor=1),)),
            "form LB, item LBTIM: units to choose from on a non-numeric item",
        ),
        (
            lambda: replace_item(with_hgb(), "LB", "LBTIM", shown_when=When("HGB", "lt", 10)),
            "form LB, item LBTIM: a condition on HGB (several units) can only be filled or empty",
        ),
    ],
)
def test_broken_units_stop_start_up_by_name(broken, problem):
    assert problem in problems_of(broken())
