"""CTCAE v5.0 grades of the laboratory values the IAH-PRRT eCRF collects.

Source: shared/standards/ctcae-v5-lab-grading.md (NCI CTCAE v5.0, 27 Nov 2017). Interval
conventions from that file: "<LLN – 10.0" means LLN > value ≥ 10.0; ">3.0 – 5.0 × ULN"
means 3.0 × ULN < value ≤ 5.0 × ULN. Grades 4–5 of anemia and hypoalbuminemia are
clinical (life-threatening, death) and cannot come from a number: the grader returns at
most 3 for them. A grade is None when the data cannot decide it (e.g. the value lies
between the absolute grade-2 cut-off and a lower limit of normal that was not entered).

Baseline rules of v5 (ALT, AST, ALP, GGT, bilirubin: "baseline normal" scale as multiples
of ULN, "baseline abnormal" scale as multiples of the subject's baseline; creatinine:
grades 2–3 also met by the multiple of baseline) apply to samples taken after the
baseline sample: the last sample before the first study radiopharmaceutical
administration, as forms.iahprrt.baseline declares it. The baseline sample itself (or any
earlier one) is graded on the ULN scale.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from forms.iahprrt.common import dec
from forms.iahprrt.derivations import creatinine_umol

# Counts are per mm³ (= 10⁶/L), haemoglobin and albumin g/dL: the units the forms collect.
#: term: (grade 2 below, grade 3 below, grade 4 below or None when grade 4 is clinical)
DECREASED: dict[str, tuple[Decimal, Decimal, Decimal | None]] = {
    "ANEMIA": (Decimal("10.0"), Decimal("8.0"), None),
    "NEUTDEC": (Decimal(1500), Decimal(1000), Decimal(500)),
    "PLATDEC": (Decimal(75000), Decimal(50000), Decimal(25000)),
    "LYMDEC": (Decimal(800), Decimal(500), Decimal(200)),
    "WBCDEC": (Decimal(3000), Decimal(2000), Decimal(1000)),
    "HYPOALB": (Decimal(3), Decimal(2), None),
}

#: term: (grade 2 above, grade 3 above, grade 4 above) as multiples of ULN or baseline,
#: with the grade-1 floor of the baseline-abnormal scale and whether it is inclusive.
INCREASED: dict[str, tuple[tuple[Decimal, Decimal, Decimal], Decimal, bool]] = {
    "ALTINC": ((Decimal(3), Decimal(5), Decimal(20)), Decimal("1.5"), True),
    "ASTINC": ((Decimal(3), Decimal(5), Decimal(20)), Decimal("1.5"), True),
    "BILIINC": ((Decimal("1.5"), Decimal(3), Decimal(10)), Decimal(1), False),
    "ALPINC": ((Decimal("2.5"), Decimal(5), Decimal(20)), Decimal(2), True),
    "GGTINC": ((Decimal("2.5"), Decimal(5), Decimal(20)), Decimal(2), True),
}


def grade_decreased(
    term: str, value: Decimal | int | None, lln: Decimal | int | None
) -> int | None:
    """Grade of a "decreased" term (anemia, cytopenias, hypoalbuminemia)."""
    if value is None:
        return None
    value = dec(value)
    grade2, grade3, grade4 = DECREASED[term]
    if grade4 is not None and value < grade4:
        return 4
    if value < grade3:
        return 3
    if value < grade2:
        return 2
    if lln is None:
        return None
    return 1 if value < dec(lln) else 0


def grade_increased(
    term: str,
    value: Decimal | int | None,
    uln: Decimal | int | None,
    baseline: Decimal | int | None = None,
    baseline_uln: Decimal | int | None = None,
) -> int | None:
    """Grade of ALT, AST, bilirubin, ALP or GGT increased.

    With no ``baseline`` (or a baseline at most its ULN: "baseline normal"), the value is
    graded as a multiple of ``uln``; with a baseline above its ULN ("baseline abnormal"),
    as a multiple of the baseline.
    """
    if value is None or not uln:
        return None
    (grade2, grade3, grade4), floor, inclusive = INCREASED[term]
    reference_uln = dec(baseline_uln) if baseline_uln else dec(uln)
    abnormal = baseline is not None and dec(baseline) > reference_uln
    multiple = dec(value) / (dec(baseline) if abnormal else dec(uln))
    if multiple > grade4:
        return 4
    if multiple > grade3:
        return 3
    if multiple > grade2:
        return 2
    if abnormal:
        return 1 if (multiple >= floor if inclusive else multiple > floor) else 0
    return 1 if multiple > 1 else 0


def grade_creatinine(
    value: Decimal | None, uln: Decimal | None, baseline: Decimal | None = None
) -> int | None:
    """Grade of creatinine increased (value, ULN and baseline in one unit): the worse of
    the ULN criteria (>1–1.5, >1.5–3, >3–6, >6 × ULN) and, when a baseline is given, the
    baseline criteria (>1.5–3 × baseline: 2; >3 × baseline: 3)."""
    if value is None or not uln:
        return None
    by_uln = dec(value) / dec(uln)
    grade = 4 if by_uln > 6 else 3 if by_uln > 3 else 2 if by_uln > Decimal("1.5") else 0
    if grade == 0 and by_uln > 1:
        grade = 1
    if baseline:
        by_baseline = dec(value) / dec(baseline)
        grade = max(grade, 3 if by_baseline > 3 else 2 if by_baseline > Decimal("1.5") else 0)
    return grade


def _after_baseline(sample: date | None, baseline_sample: date | None) -> bool:
    return sample is not None and baseline_sample is not None and sample > baseline_sample


def visit_grade_increased(
    term: str,
    value: Decimal | int | None,
    uln: Decimal | int | None,
    sample: date | None,
    baseline: Decimal | int | None,
    baseline_uln: Decimal | int | None,
    baseline_sample: date | None,
) -> int | None:
    """Grade at one visit: the baseline rules apply to samples after the baseline sample."""
    if not _after_baseline(sample, baseline_sample):
        baseline = baseline_uln = None
    return grade_increased(term, value, uln, baseline, baseline_uln)


def visit_grade_creatinine(
    value: Decimal | None,
    unit: str | None,
    uln: Decimal | None,
    sample: date | None,
    baseline: Decimal | None,
    baseline_unit: str | None,
    baseline_sample: date | None,
) -> int | None:
    """Creatinine grade at one visit, units converted (the ULN is in the result's unit)."""
    value_umol, uln_umol = creatinine_umol(value, unit), creatinine_umol(uln, unit)
    baseline_umol = (
        creatinine_umol(baseline, baseline_unit)
        if _after_baseline(sample, baseline_sample)
        else None
    )
    return grade_creatinine(value_umol, uln_umol, baseline_umol)


def visit_grade_creatinine_umol(
    value: Decimal | None,
    uln: Decimal | None,
    sample: date | None,
    baseline: Decimal | None,
    baseline_sample: date | None,
) -> int | None:
    """Creatinine grade at one visit from values in µmol/L (the item's standard unit: the
    engine converts what was entered in mg/dL, and the ULN in the value's unit with it)."""
    if not _after_baseline(sample, baseline_sample):
        baseline = None
    return grade_creatinine(value, uln, baseline)


GRADE_FORMULA = {
    "ANEMIA": "CTCAE v5.0 anemia: <LLN–10.0 g/dL 1; <10.0–8.0 2; <8.0 3 (grade 4 is clinical).",
    "NEUTDEC": "CTCAE v5.0 neutrophil count decreased: <LLN–1500/mm³ 1; <1500–1000 2;"
    " <1000–500 3; <500 4.",
    "PLATDEC": "CTCAE v5.0 platelet count decreased: <LLN–75 000/mm³ 1; <75 000–50 000 2;"
    " <50 000–25 000 3; <25 000 4.",
    "LYMDEC": "CTCAE v5.0 lymphocyte count decreased: <LLN–800/mm³ 1; <800–500 2; <500–200 3;"
    " <200 4.",
    "WBCDEC": "CTCAE v5.0 white blood cell decreased: <LLN–3000/mm³ 1; <3000–2000 2;"
    " <2000–1000 3; <1000 4.",
    "HYPOALB": "CTCAE v5.0 hypoalbuminemia: <LLN–3 g/dL 1; <3–2 2; <2 3 (grade 4 is clinical).",
    "ALTINC": "CTCAE v5.0 ALT increased: baseline normal >ULN–3 × ULN 1, >3–5 2, >5–20 3,"
    " >20 4; after an abnormal (> ULN) baseline value: 1.5–3 × baseline 1, >3–5 2, >5–20 3,"
    " >20 4.",
    "ASTINC": "CTCAE v5.0 AST increased: baseline normal >ULN–3 × ULN 1, >3–5 2, >5–20 3,"
    " >20 4; after an abnormal (> ULN) baseline value: 1.5–3 × baseline 1, >3–5 2, >5–20 3,"
    " >20 4.",
    "BILIINC": "CTCAE v5.0 blood bilirubin increased: baseline normal >ULN–1.5 × ULN 1,"
    " >1.5–3 2, >3–10 3, >10 4; after an abnormal baseline value: >1–1.5 × baseline 1,"
    " >1.5–3 2, >3–10 3, >10 4.",
    "ALPINC": "CTCAE v5.0 alkaline phosphatase increased: baseline normal >ULN–2.5 × ULN 1,"
    " >2.5–5 2, >5–20 3, >20 4; after an abnormal baseline value: 2–2.5 × baseline 1,"
    " >2.5–5 2, >5–20 3, >20 4.",
    "GGTINC": "CTCAE v5.0 GGT increased: baseline normal >ULN–2.5 × ULN 1, >2.5–5 2, >5–20 3,"
    " >20 4; after an abnormal baseline value: 2–2.5 × baseline 1, >2.5–5 2, >5–20 3,"
    " >20 4.",
    "CREATINC": "CTCAE v5.0 creatinine increased: >ULN–1.5 × ULN 1; >1.5–3 × ULN or"
    " >1.5–3 × baseline value 2; >3–6 × ULN or >3 × baseline value 3; >6 × ULN 4"
    " (units converted, 88.42 µmol/L per mg/dL).",
}
