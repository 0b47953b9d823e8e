"""The PET pair made comparable (forms/iahprrt/pet_pairs.py): the acquisition of the PET-IAH
against the PET-IV's within the tolerances the definition declares, lesions matched by
identifier AND segment across the baseline imaging and both PETs, and the IAH/IV gain over
the perfused lesions apart from the others."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from forms.iahprrt import pet_pairs as pp
from forms.language import DataType, Severity
from forms.rules import near, same
from tests.trial_definition import check_named, derivation, form

IV = "PETIV.PETIV."


# --- the declared rules same / near -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "other", "differs"),
    [
        ("Siemens Biograph Vision 600", "Siemens Biograph Vision 600", False),
        ("siemens biograph vision 600 ", "Siemens Biograph Vision 600", False),
        ("GE Discovery MI", "Siemens Biograph Vision 600", True),
        ("DOTATOC", "DOTATATE", True),
        (None, "DOTATATE", False),
    ],
)
def test_same_compares_texts_as_identifiers(value, other, differs):
    rule = same("R", "A", of="B", message="{value} is not {other}?")
    assert rule.inputs == ("A", "B")
    assert (rule.function({"A": value, "B": other}) is not None) is differs


@pytest.mark.parametrize(
    ("value", "other", "differs"),
    [(70, 60, False), (71, 60, True), (50, 60, False), (49, 60, True), (60, None, False)],
)
def test_near_allows_the_tolerance_either_way_and_no_more(value, other, differs):
    rule = near("R", "A", of="B", by=10, message="{value} and {other}: {difference} apart?")
    assert (rule.function({"A": value, "B": other}) is not None) is differs


def test_near_refuses_a_negative_tolerance():
    with pytest.raises(ValueError):
        near("R", "A", of="B", by=-1, message="?")


# --- what the two PETs must share -------------------------------------------------------------


def test_both_pets_record_the_acquisition_parameters_and_the_reader():
    for oid in ("PETIV", "PETIAH"):
        items = {item.oid: item for _, item in form(oid).items()}
        for required in ("TRACER", "SCANNER", "RECON", "SUVNORM", "SEGMETH", "READER", "LIVREF"):
            assert items[required].required, (oid, required)
        assert items["UPTKMIN"].derived
        assert items["RECONPAR"].type is DataType.TEXT


@pytest.mark.parametrize(
    "item", ["TRACER", "SCANNER", "RECON", "RECONPAR", "SUVNORM", "SEGMETH", "READER"]
)
def test_a_pet_iah_acquired_otherwise_than_the_pet_iv_raises_a_finding(item):
    check = check_named("PETIAH", f"SAME_{item}_AS_PETIV")
    assert check.inputs == (item, IV + item)
    assert check.severity is Severity.WARN
    assert check.function({item: "A", IV + item: "A"}) is None
    message = check.function({item: "A", IV + item: "B"})
    assert message is not None and "?" in message


@pytest.mark.parametrize(
    ("iah", "iv", "finding"),
    [
        (70, 60, False),  # 10 min apart: within the tolerance
        (71, 60, True),  # 11 min apart
        (50, 60, False),
        (49, 60, True),
        (60, None, False),  # the PET-IV's delay not known yet
    ],
)
def test_uptake_delays_more_than_10_min_apart_raise_a_finding(iah, iv, finding):
    check = check_named("PETIAH", "SAME_UPTKMIN_AS_PETIV")
    assert check.inputs == ("UPTKMIN", IV + "UPTKMIN")
    message = check.function({"UPTKMIN": iah, IV + "UPTKMIN": iv})
    assert (message is not None) is finding
    if finding:
        assert "11 min away" in message


def test_the_pet_iv_itself_has_no_pair_rules():
    assert not [c for c in form("PETIV").checks if c.name.startswith("SAME_")]


# --- lesions: identifier and segment --------------------------------------------------------

BASELINE = [
    {"LESID": "L1", "ORGAN": "LIVER", "LIVSEG": "S7"},
    {"LESID": "N1", "ORGAN": "NODE"},
]


@pytest.mark.parametrize(
    ("lesion", "segment", "finding"),
    [
        ("L1", "S7", False),
        ("l1 ", "S7", False),
        ("L1", "S6", True),  # same identifier, another segment
        ("N1", "S6", True),  # a node at baseline
        ("L3", "S2", False),  # not a baseline target: nothing to compare
        ("L1", None, False),
    ],
)
def test_a_pet_lesion_lies_in_the_segment_the_baseline_gives_it(lesion, segment, finding):
    for oid in ("PETIV", "PETIAH"):
        check = check_named(oid, "IDX_SEGMENT_AS_BASELINE")
        assert check.inputs == ("LESID", "SEGMENT", "SCR.TUBL.TL[]")
        values = {"LESID": lesion, "SEGMENT": segment, "SCR.TUBL.TL[]": BASELINE}
        assert (check.function(values) is not None) is finding


def test_the_segment_finding_names_both_segments_as_radiologists_write_them():
    message = pp.segment_as_baseline("L1", "S6", BASELINE)
    assert "segment VI here but in segment VII" in message
    assert message.rstrip().endswith(".") and "?" in message


IV_ROWS = [
    {"LESID": "L1", "SEGMENT": "S7", "SUVMAX": D("20")},
    {"LESID": "L2", "SEGMENT": "S6", "SUVMAX": D("10")},
    {"LESID": "L3", "SEGMENT": "S2", "SUVMAX": D("30")},
]


def test_a_pet_iah_lesion_in_another_segment_than_on_the_pet_iv_is_a_finding_not_a_pair():
    check = check_named("PETIAH", "IDX_SEGMENT_AS_PETIV")
    values = {"LESID": "L1", "SEGMENT": "S7", "PETIV.PETIV.IDX[]": IV_ROWS}
    assert check.function(values) is None
    assert "segment VIII here but in segment VII" in check.function({**values, "SEGMENT": "S8"})
    gain = derivation("PETIAH", "GSUVMAX")
    row = {"LESID": "L1", "SUVMAX": D("40"), "PETIV.PETIV.IDX[]": IV_ROWS}
    assert gain.function({**row, "SEGMENT": "S7"}) == D("2.00")
    assert gain.function({**row, "SEGMENT": "S8"}) is None  # never a silent pair
    tl = derivation("PETIAH", "GTLR")
    liver = {"LIVSUVMEAN": D("4"), "PETIV.PETIV.LIVSUVMEAN": D("5")}
    assert tl.function({**row, **liver, "SEGMENT": "S7"}) == D("2.50")
    assert tl.function({**row, **liver, "SEGMENT": "S8"}) is None


def test_a_lesion_on_the_pet_iah_only_is_a_finding():
    check = check_named("PETIAH", "IDX_ON_PETIV")
    assert check.function({"LESID": "L1", "PETIV.PETIV.IDX[]": IV_ROWS}) is None
    assert "L9" in check.function({"LESID": "L9", "PETIV.PETIV.IDX[]": IV_ROWS})


def test_a_lesion_measured_on_the_pet_iv_and_absent_from_the_pet_iah_is_a_finding():
    check = check_named("PETIAH", "IDX_ALL_ON_PETIAH")
    assert check.target == "NPAIRED"
    assert check.inputs == ("PETIAH.PETIAH.IDX[]", "PETIV.PETIV.IDX[]")
    all_there = [{"LESID": r["LESID"]} for r in IV_ROWS]
    assert check.function({"PETIAH.PETIAH.IDX[]": all_there, "PETIV.PETIV.IDX[]": IV_ROWS}) is None
    message = check.function({"PETIAH.PETIAH.IDX[]": all_there[:1], "PETIV.PETIV.IDX[]": IV_ROWS})
    assert "(L2, L3)" in message
    extra = check_named("PETIAH", "EXH_ALL_ON_PETIAH")
    values = {"PETIAH.PETIAH.EXH[]": [], "PETIV.PETIV.EXH[]": [{"XLESID": "B1"}]}
    assert "(B1)" in extra.function(values)


# --- perfusion and the gain -------------------------------------------------------------------


def test_each_pet_iah_lesion_and_the_liver_reference_say_whether_they_were_perfused():
    items = {item.oid: item for _, item in form("PETIAH").items()}
    for oid in ("PERF", "XPERF", "LIVPERF"):
        assert items[oid].type is DataType.YES_NO and items[oid].required
    assert "PERF" not in {item.oid for _, item in form("PETIV").items()}


IAH_ROWS = [
    {"LESID": "L1", "SEGMENT": "S7", "SUVMAX": D("40"), "PERF": "Y"},  # 2.0
    {"LESID": "L2", "SEGMENT": "S6", "SUVMAX": D("30"), "PERF": "Y"},  # 3.0
    {"LESID": "L3", "SEGMENT": "S2", "SUVMAX": D("24"), "PERF": "N"},  # 0.8
]


def test_the_primary_endpoint_is_the_median_gain_over_the_perfused_lesions_only():
    values = {"PETIAH.PETIAH.IDX[]": IAH_ROWS, "PETIV.PETIV.IDX[]": IV_ROWS}
    assert derivation("PETIAH", "MEDGAIN").function(values) == D("2.50")
    assert derivation("PETIAH", "NPAIRED").function(values) == 2
    assert derivation("PETIAH", "MEDGAINNP").function(values) == D("0.80")
    assert derivation("PETIAH", "NPAIRNP").function(values) == 1


def test_a_lesion_without_a_perfusion_answer_or_in_another_segment_counts_nowhere():
    rows = [
        {**IAH_ROWS[0], "PERF": None},
        {**IAH_ROWS[1], "SEGMENT": "S5"},
        IAH_ROWS[2],
    ]
    assert pp.count_paired("Y", rows, IV_ROWS) == 0
    assert pp.median_gain("Y", rows, IV_ROWS) is None
    assert pp.median_gain("N", rows, IV_ROWS) == D("0.80")
    assert pp.count_paired("Y", None, IV_ROWS) is None
