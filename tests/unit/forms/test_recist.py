"""RECIST 1.1: sums, nadir, changes and responses (Eisenhauer 2009)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from forms.iahprrt import recist
from tests.trial_definition import derivation

BASELINE = [
    {"LESID": "L1", "ORGAN": "LIVER", "DIAM": 40},
    {"LESID": "L2", "ORGAN": "LIVER", "DIAM": 30},
    {"LESID": "N1", "ORGAN": "NODE", "DIAM": 20},
]  # sum 90


def at(l1, l2, n1):
    return [
        {"LESID": lesion, "DIAM": diam}
        for lesion, diam in (("L1", l1), ("L2", l2), ("N1", n1))
        if diam != "missing"
    ]


def test_baseline_sum_counts_node_short_axes():
    assert recist.baseline_sum(BASELINE) == D(90)
    assert recist.baseline_sum([*BASELINE, {"LESID": "L3", "DIAM": None}]) is None
    assert recist.baseline_sum([]) is None


def test_follow_up_sum_needs_every_baseline_target():
    assert recist.follow_up_sum(BASELINE, at(20, 20, 9)) == D(49)
    assert recist.follow_up_sum(BASELINE, at(20, 20, "missing")) is None
    assert recist.follow_up_sum(BASELINE, at(20, 20, None)) is None


def test_nadir_and_percent_change():
    assert recist.nadir(D(90), D(70)) == D(70)
    assert recist.nadir(D(90), None) == D(90)
    assert recist.nadir(None) is None
    assert recist.percent_change(D(63), D(90)) == D("-30.0")
    assert recist.percent_change(D(84), D(70)) == D("20.0")
    assert recist.percent_change(D(10), D(0)) is None


@pytest.mark.parametrize(
    ("rows", "nadir", "response"),
    [
        (at(0, 0, 9), D(90), "CR"),  # non-nodal gone, node < 10 mm (sum 9 ≠ 0)
        (at(0, 0, 10), D(90), "PR"),  # node 10 mm: not CR
        (at(5, 0, 0), D(90), "PR"),  # too small to measure (5 mm) is not gone
        (at(30, 23, 10), D(90), "PR"),  # 63 = −30.0 %
        (at(30, 24, 10), D(90), "SD"),  # 64 = −28.9 %
        (at(40, 30, 20), D(90), "SD"),  # unchanged
        (at(50, 40, 24), D(90), "PD"),  # 114: +26.7 % and +24 mm
        (at(40, 34, 10), D(70), "PD"),  # 84 vs nadir 70: +20.0 % and +14 mm
        (at(40, 33, 10), D(70), "SD"),  # 83: +18.6 %
        (at(2, 2, 2), D(5), "PR"),  # 6 vs nadir 5: +20 % but +1 mm → not PD
        (at(40, 30, "missing"), D(90), "NE"),
        (at(40, 30, None), D(90), "NE"),
    ],
)
def test_target_response(rows, nadir, response):
    assert recist.target_response(BASELINE, rows, nadir) == response


def test_without_a_baseline_there_is_no_target_response():
    assert recist.target_response([], at(1, 1, 1), D(90)) is None


NTL_BASELINE = [{"NTLID": "B1"}, {"NTLID": "M1"}]


@pytest.mark.parametrize(
    ("statuses", "response"),
    [
        (("ABSENT", "ABSENT"), "CR"),
        (("PRESENT", "ABSENT"), "NON-CR/NON-PD"),
        (("PD", "ABSENT"), "PD"),
        (("PD", "NE"), "PD"),
        (("NE", "ABSENT"), "NE"),
        (("ABSENT", None), "NE"),
    ],
)
def test_non_target_response(statuses, response):
    rows = [
        {"NTLID": lesion, "NTLSTAT": status}
        for lesion, status in zip(("B1", "M1"), statuses, strict=True)
        if status is not None
    ]
    assert recist.non_target_response(NTL_BASELINE, rows) == response


def test_no_non_target_lesion_at_baseline_is_na():
    assert recist.non_target_response([], []) == "NA"


@pytest.mark.parametrize(
    ("target", "non_target", "new", "overall"),
    [
        ("CR", "CR", "N", "CR"),
        ("CR", "NA", "N", "CR"),
        ("CR", "NON-CR/NON-PD", "N", "PR"),
        ("CR", "NE", "N", "PR"),
        ("PR", "NON-CR/NON-PD", "N", "PR"),
        ("PR", "NE", "N", "PR"),
        ("SD", "NON-CR/NON-PD", "N", "SD"),
        ("SD", "NE", "N", "SD"),
        ("NE", "NON-CR/NON-PD", "N", "NE"),
        ("PD", "CR", "N", "PD"),
        ("SD", "PD", "N", "PD"),
        ("CR", "CR", "Y", "PD"),
        ("CR", "CR", "EQ", "CR"),  # equivocal new lesion: not yet progression
        ("PD", None, None, "PD"),
        ("SD", "NON-CR/NON-PD", None, None),  # new-lesion question not answered
        (None, "CR", "N", None),
    ],
)
def test_overall_response(target, non_target, new, overall):
    assert recist.overall_response(target, non_target, new) == overall


@pytest.mark.parametrize(
    ("organ", "diameter", "refused"),
    [
        ("LIVER", 9, True),
        ("LIVER", 10, False),
        ("NODE", 14, True),
        ("NODE", 15, False),
        ("LUNG", None, False),
    ],
)
def test_measurable_target_lesions(organ, diameter, refused):
    assert (recist.target_problem(organ, diameter) is not None) is refused


def test_at_most_two_targets_per_organ():
    two = [{"ORGAN": "LIVER"}, {"ORGAN": "LIVER"}, {"ORGAN": "NODE"}]
    assert recist.too_many_in_organ("LIVER", two) is None
    assert "at most 2" in recist.too_many_in_organ("LIVER", [*two, {"ORGAN": "LIVER"}])


def test_month_6_nadir_includes_the_month_3_sum():
    nadir = derivation("TRM6", "NADIR")
    assert nadir.inputs == ("SCR.TUBL.SUMDIAM", "M3.TRM3.SUMDIAM")
    assert nadir.function({"SCR.TUBL.SUMDIAM": D(90), "M3.TRM3.SUMDIAM": D(49)}) == D(49)
    assert derivation("TRM3", "NADIR").inputs == ("SCR.TUBL.SUMDIAM",)


def test_response_derivations_read_their_own_visit():
    response = derivation("TRM3", "TRGRESP")
    values = {"SCR.TUBL.TL[]": BASELINE, "M3.TRM3.TL[]": at(20, 20, 9), "NADIR": D(90)}
    assert set(response.inputs) == set(values)
    assert response.function(values) == "PR"
