"""CTCAE v5.0 laboratory grades at every boundary (standards/ctcae-v5-lab-grading.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from forms.iahprrt import ctcae
from forms.iahprrt.baseline import LAB_BASELINE
from tests.trial_definition import derivation, form

# term, LLN, [(value, grade)]: "<LLN – x" means LLN > value ≥ x.
DECREASED = [
    (
        "ANEMIA",
        D("12.0"),
        [("12.0", 0), ("11.9", 1), ("10.0", 1), ("9.9", 2), ("8.0", 2), ("7.9", 3), ("3.0", 3)],
    ),
    (
        "NEUTDEC",
        1800,
        [(1800, 0), (1799, 1), (1500, 1), (1499, 2), (1000, 2), (999, 3), (500, 3), (499, 4)],
    ),
    (
        "PLATDEC",
        150000,
        [
            (150000, 0),
            (149999, 1),
            (75000, 1),
            (74999, 2),
            (50000, 2),
            (49999, 3),
            (25000, 3),
            (24999, 4),
        ],
    ),
    (
        "LYMDEC",
        1000,
        [(1000, 0), (999, 1), (800, 1), (799, 2), (500, 2), (499, 3), (200, 3), (199, 4)],
    ),
    (
        "WBCDEC",
        4000,
        [(4000, 0), (3999, 1), (3000, 1), (2999, 2), (2000, 2), (1999, 3), (1000, 3), (999, 4)],
    ),
    ("HYPOALB", D("3.5"), [("3.5", 0), ("3.4", 1), ("3.0", 1), ("2.9", 2), ("2.0", 2), ("1.9", 3)]),
]


@pytest.mark.parametrize(
    ("term", "lln", "value", "grade"),
    [(term, lln, v, g) for term, lln, cases in DECREASED for v, g in cases],
)
def test_decreased_terms(term, lln, value, grade):
    value = D(value) if isinstance(value, str) else value
    assert ctcae.grade_decreased(term, value, lln) == grade


@pytest.mark.parametrize(
    ("term", "value", "grade"),
    [
        ("ANEMIA", D("11"), None),
        ("ANEMIA", D("9"), 2),
        ("NEUTDEC", 1600, None),
        ("NEUTDEC", 900, 3),
    ],
)
def test_without_the_lower_limit_only_the_absolute_grades_are_known(term, value, grade):
    assert ctcae.grade_decreased(term, value, None) == grade


def test_anemia_and_hypoalbuminemia_never_reach_a_numeric_grade_4():
    assert ctcae.grade_decreased("ANEMIA", D("3.0"), D("12")) == 3
    assert ctcae.grade_decreased("HYPOALB", D("0.5"), D("3.5")) == 3
    assert ctcae.grade_decreased("ANEMIA", None, D("12")) is None


# term, ULN, baseline normal: [(value, grade)] as multiples of ULN
INCREASED_ULN = [
    ("ALTINC", 40, [(40, 0), (41, 1), (120, 1), (121, 2), (200, 2), (201, 3), (800, 3), (801, 4)]),
    ("ASTINC", 40, [(40, 0), (41, 1), (120, 1), (121, 2), (200, 2), (201, 3), (800, 3), (801, 4)]),
    ("BILIINC", 20, [(20, 0), (21, 1), (30, 1), (31, 2), (60, 2), (61, 3), (200, 3), (201, 4)]),
    (
        "ALPINC",
        100,
        [(100, 0), (101, 1), (250, 1), (251, 2), (500, 2), (501, 3), (2000, 3), (2001, 4)],
    ),
    (
        "GGTINC",
        100,
        [(100, 0), (101, 1), (250, 1), (251, 2), (500, 2), (501, 3), (2000, 3), (2001, 4)],
    ),
]


@pytest.mark.parametrize(
    ("term", "uln", "value", "grade"),
    [(term, uln, v, g) for term, uln, cases in INCREASED_ULN for v, g in cases],
)
def test_increased_terms_with_a_normal_or_no_baseline(term, uln, value, grade):
    assert ctcae.grade_increased(term, value, uln) == grade
    # a baseline at most the ULN keeps the ULN scale
    assert ctcae.grade_increased(term, value, uln, uln, uln) == grade


# term, baseline (abnormal: above ULN), ULN, [(value, grade)] as multiples of baseline
INCREASED_BASELINE = [
    # ALT/AST: 1.5–3.0 × baseline is grade 1 (below 1.5 ×: grade 0)
    (
        "ALTINC",
        100,
        40,
        [(149, 0), (150, 1), (300, 1), (301, 2), (500, 2), (501, 3), (2000, 3), (2001, 4)],
    ),
    (
        "ASTINC",
        100,
        40,
        [(149, 0), (150, 1), (300, 1), (301, 2), (500, 2), (501, 3), (2000, 3), (2001, 4)],
    ),
    # bilirubin: > 1.0 × baseline is grade 1 already
    ("BILIINC", 30, 20, [(30, 0), (31, 1), (45, 1), (46, 2), (90, 2), (91, 3), (300, 3), (301, 4)]),
    # ALP/GGT: 2.0–2.5 × baseline is grade 1
    (
        "ALPINC",
        200,
        100,
        [(399, 0), (400, 1), (500, 1), (501, 2), (1000, 2), (1001, 3), (4000, 3), (4001, 4)],
    ),
    (
        "GGTINC",
        200,
        100,
        [(399, 0), (400, 1), (500, 1), (501, 2), (1000, 2), (1001, 3), (4000, 3), (4001, 4)],
    ),
]


@pytest.mark.parametrize(
    ("term", "baseline", "uln", "value", "grade"),
    [(term, b, uln, v, g) for term, b, uln, cases in INCREASED_BASELINE for v, g in cases],
)
def test_increased_terms_after_an_abnormal_baseline(term, baseline, uln, value, grade):
    assert ctcae.grade_increased(term, value, uln, baseline, uln) == grade


def test_alt_exactly_two_and_a_half_times_uln_is_grade_1():
    assert ctcae.grade_increased("ALTINC", 100, 40) == 1


@pytest.mark.parametrize(
    ("value", "uln", "baseline", "grade"),
    [
        (D(100), D(100), None, 0),
        (D(101), D(100), None, 1),
        (D(150), D(100), None, 1),
        (D(151), D(100), None, 2),
        (D(300), D(100), None, 2),
        (D(301), D(100), None, 3),
        (D(600), D(100), None, 3),
        (D(601), D(100), None, 4),
        # baseline criteria: > 1.5 × baseline grade 2, > 3 × baseline grade 3
        (D(90), D(100), D(60), 0),  # exactly 1.5 × baseline
        (D(91), D(100), D(60), 2),  # 1.52 × baseline, below ULN
        (D(180), D(100), D(60), 2),  # 3.0 × baseline, 1.8 × ULN
        (D(181), D(100), D(60), 3),  # 3.02 × baseline
        (D(601), D(100), D(300), 4),  # ULN criterion is worse
        (D(100), None, D(60), None),
    ],
)
def test_creatinine_takes_the_worse_of_uln_and_baseline(value, uln, baseline, grade):
    assert ctcae.grade_creatinine(value, uln, baseline) == grade


SCREENING = date(2025, 3, 5)
LATER = date(2025, 5, 19)


def test_baseline_rules_apply_only_after_the_screening_sample():
    # screening ALT 100 (ULN 40) is abnormal; 160 later is 1.6 × baseline → grade 1
    assert ctcae.visit_grade_increased("ALTINC", 160, 40, LATER, 100, 40, SCREENING) == 1
    # the screening sample itself is graded on the ULN scale: 100 = 2.5 × ULN → grade 1
    assert ctcae.visit_grade_increased("ALTINC", 100, 40, SCREENING, 100, 40, SCREENING) == 1
    # 160 on the ULN scale would be grade 2
    assert ctcae.visit_grade_increased("ALTINC", 160, 40, SCREENING, 100, 40, SCREENING) == 2
    # no sample date: the ULN scale
    assert ctcae.visit_grade_increased("ALTINC", 160, 40, None, 100, 40, SCREENING) == 2


def test_creatinine_grade_converts_units_of_value_uln_and_baseline():
    # 1.2 mg/dL with ULN 1.0 mg/dL: 1.2 × ULN → 1
    assert (
        ctcae.visit_grade_creatinine(D("1.2"), "mg/dL", D("1.0"), LATER, None, None, SCREENING) == 1
    )
    # baseline 0.5 mg/dL = 44.21 µmol/L; 110 µmol/L (ULN 100) is 2.49 × baseline → 2
    assert (
        ctcae.visit_grade_creatinine(D(110), "umol/L", D(100), LATER, D("0.5"), "mg/dL", SCREENING)
        == 2
    )
    # the same values at the screening sample: ULN scale only → 1
    assert (
        ctcae.visit_grade_creatinine(
            D(110), "umol/L", D(100), SCREENING, D("0.5"), "mg/dL", SCREENING
        )
        == 1
    )


def test_every_graded_lab_has_a_grade_derivation_with_its_formula():
    for form_oid, targets in {
        "LBHEM": ("HGBGR", "NEUTGR", "PLATGR", "LYMGR", "WBCGR"),
        "LBCHEM": ("ALTGR", "ASTGR", "BILIGR", "ALPGR", "GGTGR", "CREATGR", "ALBGR"),
    }.items():
        for target in targets:
            assert "CTCAE v5.0" in derivation(form_oid, target).formula


def test_the_alt_grade_derivation_reads_the_declared_baseline_sample():
    grade = derivation("LBCHEM", "ALTGR")
    values = {
        "ALT": 160,
        "ALTULN": 40,
        "LBDAT": LATER,
        "@BASELINE.ALT": 100,
        "@BASELINE.ALT.ALTULN": 40,
        "@BASELINE.ALT.LBDAT": SCREENING,
    }
    assert set(grade.inputs) == set(values)
    assert grade.function(values) == 1
    assert grade.function({**values, "@BASELINE.ALT": 30}) == 2  # normal baseline


def test_the_creatinine_grade_reads_the_baseline_of_creatinine():
    grade = derivation("LBCHEM", "CREATGR")
    assert "@BASELINE.CREAT" in grade.inputs and "@BASELINE.CREAT.LBDAT" in grade.inputs
    assert not any(ref.startswith("SCR.") for ref in grade.inputs)


def test_the_lab_forms_declare_their_baseline_before_the_first_68ga_injection():
    assert LAB_BASELINE.before == ("visit:PETIV",)
    assert LAB_BASELINE.same_day and LAB_BASELINE.dated_by == "LBDAT"
    assert "before the first study radiopharmaceutical administration" in LAB_BASELINE.rule
    for oid in ("LBHEM", "LBCHEM", "COAG"):
        assert form(oid).baseline is LAB_BASELINE
