"""Laboratory forms: haematology, biochemistry, coagulation.

Standard units are those of the protocol and of CTCAE v5.0: cell counts per mm³
(1500/mm³ = 1.5 G/L = 1.5 × 10⁹/L), haemoglobin and albumin in g/dL, bilirubin and
creatinine in µmol/L, enzymes in U/L. French laboratories also report cell counts in G/L,
haemoglobin and albumin in g/L, creatinine and bilirubin in mg/dL: those values are
entered in the unit of the report, which is kept with the value; derivations, checks,
grades and eligibility read them converted to the standard unit. Each unit has its own
ranges (a count typed in the wrong unit lies outside them); a limit of normal is in the
unit of its value (``unit_of``).

Each graded value carries the local laboratory's limit it is graded against (LLN for
the "decreased" terms, ULN for the "increased" ones: SDTM LBORNRLO / LBORNRHI), its
CTCAE v5.0 grade (derived), and a query when a grade ≥ 3 has no matching adverse event.
"""

from __future__ import annotations

from typing import Any

from forms.iahprrt import checks as ck
from forms.iahprrt import ctcae
from forms.iahprrt import derivations as dv
from forms.iahprrt.baseline import LAB_BASELINE
from forms.iahprrt.common import check, clock, day, decimal, derive, derived, integer
from forms.iahprrt.visit_dates import sample_near_visit
from forms.language import (
    AnalyteRow,
    Check,
    DataType,
    Derivation,
    Form,
    Item,
    ItemGroup,
    Range,
    Unit,
    When,
    baseline_of,
    latest,
)

AE_LOG = "LOGS.AE.AE[]"


def _lab(testcd: str) -> dict[str, str]:
    return {"cdash": "LBORRES", "sdtm": f"LB.LBORRES[{testcd}]"}


def laboratory() -> Item:
    """The laboratory that measured the row's values, chosen from the subject's site's
    laboratory registry: the values are taken in the units it reports, and the limits of
    normal it gives for the sample (date, the subject's sex and age) fill those left empty;
    a limit typed otherwise needs a reason. Required, at completion, where the site declares
    laboratories."""
    return Item(
        "LBNAM",
        "Laboratory",
        DataType.TEXT,
        max_length=120,
        help="The laboratory of the report: its units and normal limits come from the site's"
        " laboratory registry (empty limits are filled in when you save).",
        cdash="LBNAM",
        sdtm="LB.LBNAM",
    )


def graded_by(value_oid: str, label: str, low_or_high: str) -> dict[str, Any]:
    """What makes a limit needed: the CTCAE grade of ``value_oid`` is computed against it,
    so a value given without its limit would lose its grade and the "grade ≥ 3 without an
    adverse event" query. Required (no missing-data code) once the value is entered;
    a draft may still lack it."""
    words = "lower" if low_or_high == "low" else "upper"
    return {
        "required_when": When(value_oid, "filled"),
        "missing_allowed": False,
        "required_message": f"Give the laboratory's {words} limit of normal: the CTCAE grade"
        f" of {label} needs it.",
    }


def _limit(
    oid: str,
    label: str,
    testcd: str,
    units: str,
    low_or_high: str,
    hard,
    precision=None,
    *,
    graded: str | None = None,
) -> Item:
    """A laboratory limit; ``graded``: the OID of the value graded against it."""
    which = "LBORNRLO" if low_or_high == "low" else "LBORNRHI"
    words = "Lower limit of normal" if low_or_high == "low" else "Upper limit of normal"
    kwargs: dict[str, Any] = {"help": f"{words} of the laboratory that measured {label.lower()}."}
    if graded is not None:
        kwargs |= graded_by(graded, label, low_or_high)
    if precision is None:
        return integer(
            oid,
            f"{label}: {words.lower()}",
            units,
            hard=hard,
            cdash=which,
            sdtm=f"LB.{which}[{testcd}]",
            **kwargs,
        )
    return decimal(
        oid,
        f"{label}: {words.lower()}",
        units,
        precision=precision,
        hard=hard,
        cdash=which,
        sdtm=f"LB.{which}[{testcd}]",
        **kwargs,
    )


def _lab_value(oid, label, testcd, units, precision, hard, soft) -> Item:
    """A required lab result: a whole number when no precision is given, else a decimal."""
    if precision is None:
        return integer(oid, label, units, hard=hard, soft=soft, required=True, **_lab(testcd))
    return decimal(
        oid, label, units, precision=precision, hard=hard, soft=soft, required=True, **_lab(testcd)
    )


# --- units: (UCUM symbol, label, factor to the standard unit, precision) ---------------------

PER_MM3 = ("/mm3", "/mm3", 1, 0)
GIGA_PER_L = ("10*9/L", "G/L", 1000, None)  # 1 G/L = 10⁹/L = 1000/mm³, digits as reported
G_PER_DL = ("g/dL", "g/dL", 1, 1)
G_PER_L = ("g/L", "g/L", "0.1", 0)
UMOL_PER_L = ("umol/L", "µmol/L", 1, None)
UMOL_PER_L_1 = ("umol/L", "µmol/L", 1, 1)  # one decimal kept
#: Creatinine: 88.42 µmol/L per mg/dL (the protocol's factor, molar mass 113.12 g/mol).
CREAT_MG_PER_DL = ("mg/dL", "mg/dL", dv.CREATININE_UMOL_PER_MGDL, None)
#: Bilirubin: 17.1 µmol/L per mg/dL (molar mass 584.7 g/mol).
BILI_MG_PER_DL = ("mg/dL", "mg/dL", "17.1", 2)


def units(*declared: tuple) -> tuple[Unit, ...]:
    """Units with their ranges: ``(unit, hard, soft)``, the standard unit first."""
    result = []
    for (symbol, label, factor, precision), hard, soft in declared:
        result.append(
            Unit(
                symbol,
                label,
                factor=factor,
                precision=precision,
                hard=Range(*hard) if hard else None,
                soft=Range(*soft) if soft else None,
            )
        )
    return tuple(result)


def _measured_value(oid: str, label: str, testcd: str, measured: tuple[Unit, ...], **kw) -> Item:
    """A required lab result entered in one of several units."""
    return Item(
        oid,
        label,
        DataType.DECIMAL,
        measured_in=measured,
        required=True,
        help=kw.pop("help", "In the unit of the laboratory report: choose it beside the value."),
        **_lab(testcd),
        **kw,
    )


def _measured_limit(
    oid: str,
    label: str,
    testcd: str,
    value_oid: str,
    low_or_high: str,
    measured: tuple[Unit, ...],
    graded_label: str | None = None,
) -> Item:
    """The laboratory's limit of normal of ``value_oid``, in that value's unit; the value is
    graded against it (``graded_label``: how its message names the value)."""
    which = "LBORNRLO" if low_or_high == "low" else "LBORNRHI"
    words = "Lower limit of normal" if low_or_high == "low" else "Upper limit of normal"
    kwargs: dict[str, Any] = graded_by(value_oid, graded_label or label, low_or_high)
    return Item(
        oid,
        f"{label}: {words.lower()}",
        DataType.DECIMAL,
        help=f"{words} of the laboratory that measured {label.lower()}, in the unit of the value.",
        measured_in=measured,
        unit_of=value_oid,
        cdash=which,
        sdtm=f"LB.{which}[{testcd}]",
        **kwargs,
    )


def _grade_item(oid: str, label: str, testcd: str) -> Item:
    return derived(
        oid, f"{label}: CTCAE v5.0 grade", DataType.INTEGER, sdtm=f"LB.LBTOXGR[{testcd}]"
    )


def _ae_check(name: str, target: str, term: str, grade: str, form: str) -> Check:
    return check(
        name,
        target,
        ck.lab_grade_without_ae,
        grade,
        "LBDAT",
        f"SCR.{form}.LBDAT",
        AE_LOG,
        constants=(term,),
    )


# --- haematology --------------------------------------------------------------------------

_DECREASED = (
    # oid, label, LBTESTCD, CTCAE term, units of the value (unit, hard, soft), units of its
    # lower limit of normal (unit, hard, no soft). The hard ranges of one unit exclude the
    # values of the other (3 neutrophils/mm³ is 3 G/L typed in the wrong unit).
    (
        "HGB",
        "Haemoglobin",
        "HGB",
        "ANEMIA",
        units((G_PER_DL, (3, 25), (12, 17)), (G_PER_L, (30, 250), (120, 170))),
        units((G_PER_DL, (8, 16), None), (G_PER_L, (80, 160), None)),
    ),
    (
        "WBC",
        "Leucocytes",
        "WBC",
        "WBCDEC",
        units((PER_MM3, (100, 500000), (4000, 10000)), (GIGA_PER_L, (0.1, 500), (4, 10))),
        units((PER_MM3, (1000, 6000), None), (GIGA_PER_L, (1, 6), None)),
    ),
    (
        "NEUT",
        "Neutrophils",
        "NEUT",
        "NEUTDEC",
        units((PER_MM3, (10, 200000), (1800, 7500)), (GIGA_PER_L, (0, 200), (1.8, 7.5))),
        units((PER_MM3, (500, 3000), None), (GIGA_PER_L, (0.5, 3), None)),
    ),
    (
        "LYM",
        "Lymphocytes",
        "LYM",
        "LYMDEC",
        units((PER_MM3, (10, 200000), (1000, 4000)), (GIGA_PER_L, (0, 200), (1, 4))),
        units((PER_MM3, (300, 2000), None), (GIGA_PER_L, (0.3, 2), None)),
    ),
    (
        "PLAT",
        "Platelets",
        "PLAT",
        "PLATDEC",
        units((PER_MM3, (1000, 2000000), (150000, 400000)), (GIGA_PER_L, (1, 2000), (150, 400))),
        units((PER_MM3, (50000, 250000), None), (GIGA_PER_L, (50, 250), None)),
    ),
)

_COUNT_HELP = (
    "In the unit of the laboratory report: per mm³, or G/L (10⁹/L). Below 10/mm³, enter"
    " the count in G/L."
)


def _haematology_items() -> tuple[Item, ...]:
    items: list[Item] = [
        day("LBDAT", "Sample date", required=True, cdash="LBDAT", sdtm="LB.LBDTC"),
        clock("LBTIM", "Sample time", cdash="LBTIM"),
        laboratory(),
    ]
    for oid, label, testcd, _, measured, limit_units in _DECREASED:
        extra = {"help": _COUNT_HELP} if oid != "HGB" else {}
        items.append(_measured_value(oid, label, testcd, measured, **extra))
        items.append(_measured_limit(f"{oid}LLN", label, testcd, oid, "low", limit_units))
        items.append(_grade_item(f"{oid}GR", label, testcd))
    return tuple(items)


LBHEM = Form(
    "LBHEM",
    "Haematology",
    (
        ItemGroup(
            "LBHEM",
            "Blood count",
            _haematology_items(),
            domain="LB",
            analytes=tuple(
                AnalyteRow(oid, low=f"{oid}LLN", grade=f"{oid}GR") for oid, *_ in _DECREASED
            ),
        ),
    ),
    baseline=LAB_BASELINE,
    derivations=tuple(
        derive(
            f"{oid}GR",
            ctcae.grade_decreased,
            oid,
            f"{oid}LLN",
            constants=(term,),
            formula=ctcae.GRADE_FORMULA[term],
        )
        for oid, _, _, term, *_ in _DECREASED
    ),
    checks=(
        *(
            _ae_check(f"{oid}_GRADE3_AE", oid, term, f"{oid}GR", "LBHEM")
            for oid, _, _, term, *_ in _DECREASED
        ),
        check(
            "DIFFERENTIAL_WITHIN_WBC",
            "WBC",
            ck.differential_within_total,
            "NEUT",
            "LYM",
            "WBC",
        ),
        check("AFTER_LAST_CYCLE", "LBDAT", ck.sample_after_last_cycle, "LBDAT", "SCR.PRTX.LUT[]"),
        sample_near_visit(),
    ),
)

# --- biochemistry -------------------------------------------------------------------------

_INCREASED = (
    # oid, label, LBTESTCD, CTCAE term, units, precision, hard, soft, ULN hard range
    (
        "ALT",
        "ALT (alanine aminotransferase)",
        "ALT",
        "ALTINC",
        "U/L",
        None,
        (1, 10000),
        (5, 45),
        (10, 100),
    ),
    (
        "AST",
        "AST (aspartate aminotransferase)",
        "AST",
        "ASTINC",
        "U/L",
        None,
        (1, 10000),
        (5, 40),
        (10, 100),
    ),
    ("ALP", "Alkaline phosphatase", "ALP", "ALPINC", "U/L", None, (10, 5000), (40, 130), (50, 250)),
    (
        "GGT",
        "Gamma-glutamyl transferase",
        "GGT",
        "GGTINC",
        "U/L",
        None,
        (3, 5000),
        (8, 60),
        (20, 150),
    ),
)


#: Bilirubin, graded against its ULN like the enzymes, in µmol/L or mg/dL.
BILIRUBIN = (
    units((UMOL_PER_L_1, (1, 800), (3, 21)), (BILI_MG_PER_DL, (0.06, 46.8), (0.18, 1.23))),
    units((UMOL_PER_L_1, (10, 40), None), (BILI_MG_PER_DL, (0.58, 2.34), None)),
)
#: Creatinine in µmol/L or mg/dL; the ULN in the unit of the value.
CREATININE = (
    units((UMOL_PER_L, (10, 2000), (45, 110)), (CREAT_MG_PER_DL, (0.1, 23), (0.5, 1.25))),
    units((UMOL_PER_L, (10, 200), None), (CREAT_MG_PER_DL, (0.3, 23), None)),
)
ALBUMIN = (
    units((G_PER_DL, (0.5, 7), (3.5, 5)), (G_PER_L, (5, 70), (35, 50))),
    units((G_PER_DL, (2.5, 4.5), None), (G_PER_L, (25, 45), None)),
)


#: The "increased" terms graded against a ULN: the enzymes, and bilirubin.
_GRADED_INCREASED = (
    ("ALT", "ALTINC"),
    ("AST", "ASTINC"),
    ("BILI", "BILIINC"),
    ("ALP", "ALPINC"),
    ("GGT", "GGTINC"),
)


def _biochemistry_items() -> tuple[Item, ...]:
    items: list[Item] = [
        day("LBDAT", "Sample date", required=True, cdash="LBDAT", sdtm="LB.LBDTC"),
        laboratory(),
        _measured_value(
            "CREAT",
            "Creatinine",
            "CREAT",
            CREATININE[0],
            help="As on the laboratory report, in its unit (chosen beside it); kept as entered.",
        ),
        _measured_limit(
            "CREATULN", "Creatinine", "CREAT", "CREAT", "high", CREATININE[1], "creatinine"
        ),
        derived(
            "CREATGR", "Creatinine: CTCAE v5.0 grade", DataType.INTEGER, sdtm="LB.LBTOXGR[CREAT]"
        ),
        derived(
            "CRCL",
            "Creatinine clearance (Cockcroft-Gault)",
            units="mL/min",
            precision=1,  # shown to one decimal; kept and compared unrounded
            sdtm="LB.LBSTRESN[CREATCLR]",
        ),
    ]
    for oid, label, testcd, _, unit, precision, hard, soft, uln_hard in _INCREASED:
        items.append(_lab_value(oid, label, testcd, unit, precision, hard, soft))
        items.append(
            _limit(f"{oid}ULN", label, testcd, unit, "high", uln_hard, precision, graded=oid)
        )
        if oid in ("ALT", "AST"):
            items.append(derived(f"{oid}XULN", f"{oid} × ULN", units="× ULN"))
        items.append(_grade_item(f"{oid}GR", label, testcd))
        if oid == "AST":  # bilirubin keeps its place between AST and ALP
            items.append(_measured_value("BILI", "Total bilirubin", "BILI", BILIRUBIN[0]))
            items.append(
                _measured_limit("BILIULN", "Total bilirubin", "BILI", "BILI", "high", BILIRUBIN[1])
            )
            items.append(_grade_item("BILIGR", "Total bilirubin", "BILI"))
    items += [
        _measured_value("ALB", "Albumin", "ALB", ALBUMIN[0]),
        _measured_limit("ALBLLN", "Albumin", "ALB", "ALB", "low", ALBUMIN[1]),
        _grade_item("ALBGR", "Albumin", "ALB"),
        decimal(
            "CGA",
            "Chromogranin A",
            "µg/L",
            precision=0,
            hard=(0, 200000),
            soft=(0, 100),
            help="Tumour marker (LBTESTCD CHROMGRA: verify in the current CDISC CT).",
            **_lab("CHROMGRA"),
        ),
        _limit("CGAULN", "Chromogranin A", "CHROMGRA", "µg/L", "high", (10, 500), 0),
    ]
    return tuple(items)


def _increased_derivation(oid: str, term: str) -> Derivation:
    return derive(
        f"{oid}GR",
        ctcae.visit_grade_increased,
        oid,
        f"{oid}ULN",
        "LBDAT",
        baseline_of(oid),
        baseline_of(oid, f"{oid}ULN"),
        baseline_of(oid, "LBDAT"),
        constants=(term,),
        formula=ctcae.GRADE_FORMULA[term],
    )


LBCHEM = Form(
    "LBCHEM",
    "Biochemistry",
    (
        ItemGroup(
            "LBCHEM",
            "Renal and liver function, tumour marker",
            _biochemistry_items(),
            domain="LB",
            analytes=(
                AnalyteRow("CREAT", high="CREATULN", grade="CREATGR"),
                AnalyteRow("CRCL"),
                AnalyteRow("ALT", high="ALTULN", grade="ALTGR", extra=("ALTXULN",)),
                AnalyteRow("AST", high="ASTULN", grade="ASTGR", extra=("ASTXULN",)),
                AnalyteRow("BILI", high="BILIULN", grade="BILIGR"),
                AnalyteRow("ALP", high="ALPULN", grade="ALPGR"),
                AnalyteRow("GGT", high="GGTULN", grade="GGTGR"),
                AnalyteRow("ALB", low="ALBLLN", grade="ALBGR"),
                AnalyteRow("CGA", high="CGAULN"),
            ),
        ),
    ),
    baseline=LAB_BASELINE,
    derivations=(
        derive(
            "CRCL",
            dv.creatinine_clearance,
            "SCR.DM.AGE",
            # The weight of this visit, or the latest weighed before it (a patient losing
            # weight under treatment clears less than the screening weight says).
            latest("VS", "WEIGHT"),
            "SCR.DM.SEX",
            "CREAT",
            formula=dv.CG_FORMULA,
        ),
        derive(
            "CREATGR",
            ctcae.visit_grade_creatinine_umol,
            "CREAT",
            "CREATULN",
            "LBDAT",
            baseline_of("CREAT"),
            baseline_of("CREAT", "LBDAT"),
            formula=ctcae.GRADE_FORMULA["CREATINC"],
        ),
        derive("ALTXULN", dv.times_uln, "ALT", "ALTULN", formula="ALT / ULN of the laboratory."),
        derive("ASTXULN", dv.times_uln, "AST", "ASTULN", formula="AST / ULN of the laboratory."),
        *(_increased_derivation(oid, term) for oid, term in _GRADED_INCREASED),
        derive(
            "ALBGR",
            ctcae.grade_decreased,
            "ALB",
            "ALBLLN",
            constants=("HYPOALB",),
            formula=ctcae.GRADE_FORMULA["HYPOALB"],
        ),
    ),
    checks=(
        _ae_check("CREAT_GRADE3_AE", "CREAT", "CREATINC", "CREATGR", "LBCHEM"),
        *(
            _ae_check(f"{oid}_GRADE3_AE", oid, term, f"{oid}GR", "LBCHEM")
            for oid, term in _GRADED_INCREASED
        ),
        _ae_check("ALB_GRADE3_AE", "ALB", "HYPOALB", "ALBGR", "LBCHEM"),
        check("AFTER_LAST_CYCLE", "LBDAT", ck.sample_after_last_cycle, "LBDAT", "SCR.PRTX.LUT[]"),
        sample_near_visit(),
    ),
)

# --- coagulation --------------------------------------------------------------------------

COAG = Form(
    "COAG",
    "Coagulation",
    (
        ItemGroup(
            "COAG",
            "Coagulation",
            (
                day("LBDAT", "Sample date", required=True, cdash="LBDAT", sdtm="LB.LBDTC"),
                laboratory(),
                # In seconds: above 60 s it is a prothrombin ratio in % typed here.
                decimal(
                    "PT",
                    "Prothrombin time",
                    "s",
                    precision=1,
                    hard=(5, 60),
                    soft=(10, 14),
                    help="Where the laboratory reports the time in seconds. A percentage goes"
                    " in the prothrombin ratio below.",
                    **_lab("PT"),
                ),
                _limit("PTULN", "Prothrombin time", "PT", "s", "high", (8, 25), 1),
                # French laboratories report the prothrombin ratio (taux de prothrombine) in %
                # of a normal plasma: not convertible to seconds (it depends on the reagent).
                decimal(
                    "PTPCT",
                    "Prothrombin ratio (%)",
                    "%",
                    precision=0,
                    hard=(1, 150),
                    soft=(70, 130),
                    help="Taux de prothrombine, where the laboratory reports it in %. A time"
                    " in seconds goes in the prothrombin time above.",
                    **_lab("PTPCT"),
                ),
                _limit("PTPCTLLN", "Prothrombin ratio", "PTPCT", "%", "low", (40, 100), 0),
                derived("PTNORM", "Prothrombin time within the normal range", DataType.YES_NO),
                decimal(
                    "INR",
                    "INR",
                    None,
                    precision=2,
                    hard=(0.5, 15),
                    soft=(0.8, 1.2),
                    required=True,
                    **_lab("INR"),
                ),
                decimal(
                    "APTTR",
                    "aPTT ratio (patient / control)",
                    None,
                    precision=2,
                    hard=(0.5, 10),
                    soft=(0.8, 1.2),
                    **_lab("APTT"),
                ),
            ),
            domain="LB",
            analytes=(
                AnalyteRow("PT", high="PTULN", extra=("PTNORM",)),
                AnalyteRow("PTPCT", low="PTPCTLLN"),
                AnalyteRow("INR"),
                AnalyteRow("APTTR"),
            ),
        ),
    ),
    baseline=LAB_BASELINE,
    derivations=(
        derive(
            "PTNORM",
            dv.within_normal,
            "PT",
            "PTULN",
            formula="Yes when the prothrombin time is at most the laboratory's upper limit.",
        ),
    ),
    checks=(sample_near_visit(),),
)
