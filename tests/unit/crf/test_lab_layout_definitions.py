"""Analyte rows, baselines and their references in the definition language: what the
loader refuses by name, and the flag a row shows against its limits (just inside, just
outside each one)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from ecrf.crf.analytes import HIGH, LOW, UNUSUAL, flag
from ecrf.records.data import RowData
from ecrf.records.loader import DefinitionError, load_study
from forms.language import (
    AnalyteRow,
    Baseline,
    DataType,
    Derivation,
    Item,
    Range,
    Unit,
    baseline_of,
    latest,
)
from tests.definitions.edit import add_item, replace_form
from tests.definitions.mini import STUDY

BASELINE = Baseline(
    "Before the baseline PET", "The last sample before the PET.", "LBDAT", ("visit:BASE",)
)


def problems_of(study) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_study(study)
    return caught.value.problems


def with_group(study, **changes):
    form = next(f for f in study.forms if f.oid == "LB")
    return replace_form(study, "LB", groups=(replace(form.groups[0], **changes),))


def test_analyte_rows_and_a_baseline_load_and_resolve():
    study = with_group(
        add_item(STUDY, "LB", Item("HGBLLN", "Haemoglobin LLN", DataType.DECIMAL)),
        analytes=(AnalyteRow("HGB", low="HGBLLN"),),
    )
    loaded = load_study(replace_form(study, "LB", baseline=BASELINE))
    resolved = loaded.resolve("LB", baseline_of("HGB", "LBDAT"))
    assert (resolved.lookup, resolved.analyte, resolved.item) == ("BASELINE", "HGB", "LBDAT")
    assert loaded.resolve("LB", baseline_of("HGB")).item == "HGB"
    weight = loaded.resolve("LB", latest("DM", "WEIGHT"))
    assert (weight.lookup, weight.form, weight.item) == ("LATEST", "DM", "WEIGHT")


def test_an_analyte_row_naming_an_unknown_or_twice_placed_item_is_refused():
    study = with_group(
        STUDY, analytes=(AnalyteRow("HGB", low="NOPE"), AnalyteRow("LBTIM", high="HGB"))
    )
    assert problems_of(study) == [
        "form LB, analyte row HGB: unknown item NOPE",
        "form LB, analyte row LBTIM: HGB is in another row",
    ]


def test_a_baseline_read_where_none_is_declared_or_dated_by_no_date_is_refused():
    grade = Item("HGBGR", "Grade", DataType.INTEGER, derived=True)
    study = replace_form(
        add_item(STUDY, "LB", grade),
        "LB",
        derivations=(Derivation("HGBGR", (baseline_of("HGB"),), lambda v: 0, "baseline"),),
    )
    assert problems_of(study) == ["form LB, derivation of HGBGR: unknown input @BASELINE.HGB"]
    wrong = replace(BASELINE, dated_by="HGB", before=("visit:NOPE",))
    assert problems_of(replace_form(study, "LB", baseline=wrong)) == [
        "form LB, baseline Before the baseline PET: HGB is not a date",
        "form LB, baseline Before the baseline PET: unknown visit NOPE",
    ]


# --- the flag of a saved value ----------------------------------------------------------

HGB = Item("HGB", "Haemoglobin", DataType.DECIMAL, soft=Range(12, 17))
ROW = AnalyteRow("HGB", low="HGBLLN", high="HGBULN")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("11.9"), LOW),
        (D("12.0"), None),  # at the LLN: normal
        (D("16.0"), None),  # at the ULN: normal
        (D("16.1"), HIGH),
    ],
)
def test_a_value_is_flagged_against_its_limits(value, expected):
    row = RowData("LB", 1, {"HGB": value, "HGBLLN": D("12.0"), "HGBULN": D("16.0")})
    assert flag(HGB, row, ROW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(D("17"), None), (D("17.1"), UNUSUAL), (D("11.9"), None)],
)
def test_without_an_upper_limit_the_usual_range_flags_the_high_side_only(value, expected):
    """An LLN was given (the lab's own): below the usual range but above the LLN is normal."""
    row = RowData("LB", 1, {"HGB": value, "HGBLLN": D("11.5")})
    assert flag(HGB, row, AnalyteRow("HGB", low="HGBLLN")) == expected


def test_a_value_entered_in_another_unit_is_judged_by_that_units_usual_range():
    counts = Item(
        "NEUT",
        "Neutrophils",
        DataType.DECIMAL,
        measured_in=(
            Unit("/mm3", soft=Range(1800, 7500)),
            Unit("10*9/L", "G/L", factor=1000, soft=Range("1.8", "7.5")),
        ),
    )
    inside = RowData("LB", 1, {"NEUT": D(7500)}, entered={"NEUT": (D("7.5"), "10*9/L")})
    outside = RowData("LB", 1, {"NEUT": D(7600)}, entered={"NEUT": (D("7.6"), "10*9/L")})
    assert flag(counts, inside, AnalyteRow("NEUT")) is None
    assert flag(counts, outside, AnalyteRow("NEUT")) == UNUSUAL
    assert flag(counts, None, AnalyteRow("NEUT")) is None
