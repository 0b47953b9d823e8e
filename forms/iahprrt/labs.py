"""Laboratory forms: haematology, biochemistry, coagulation.

Units are those of the protocol and of CTCAE v5.0: cell counts per mm³ (1500/mm³ =
1.5 × 10⁹/L), haemoglobin and albumin in g/dL, bilirubin in µmol/L, enzymes in U/L.
Creatinine is entered in µmol/L or mg/dL with its unit beside it; the unit entered is
kept and conversions happen only in derivations.

Each graded value carries the local laboratory's limit it is graded against (LLN for
the "decreased" terms, ULN for the "increased" ones: SDTM LBORNRLO / LBORNRHI), its
CTCAE v5.0 grade (derived), and a query when a grade ≥ 3 has no matching adverse event.
"""

from __future__ import annotations

from typing import Any

from forms.iahprrt import checks as ck
from forms.iahprrt import ctcae
from forms.iahprrt import derivations as dv
from forms.iahprrt.common import check, choice, clock, day, decimal, derive, derived, integer
from forms.iahprrt.visit_dates import sample_near_visit
from forms.language import Check, DataType, Derivation, Form, Item, ItemGroup, Severity, When

AE_LOG = "LOGS.AE.AE[]"


def _lab(testcd: str) -> dict[str, str]:
    return {"cdash": "LBORRES", "sdtm": f"LB.LBORRES[{testcd}]"}


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
    # oid, label, LBTESTCD, CTCAE term, units, precision, hard, soft, LLN hard range
    ("HGB", "Haemoglobin", "HGB", "ANEMIA", "g/dL", 1, (3, 25), (12, 17), (8, 16)),
    (
        "WBC",
        "Leucocytes",
        "WBC",
        "WBCDEC",
        "/mm3",
        None,
        (100, 500000),
        (4000, 10000),
        (1000, 6000),
    ),
    (
        "NEUT",
        "Neutrophils",
        "NEUT",
        "NEUTDEC",
        "/mm3",
        None,
        (0, 200000),
        (1800, 7500),
        (500, 3000),
    ),
    ("LYM", "Lymphocytes", "LYM", "LYMDEC", "/mm3", None, (0, 200000), (1000, 4000), (300, 2000)),
    (
        "PLAT",
        "Platelets",
        "PLAT",
        "PLATDEC",
        "/mm3",
        None,
        (1000, 2000000),
        (150000, 400000),
        (50000, 250000),
    ),
)


def _haematology_items() -> tuple[Item, ...]:
    items: list[Item] = [
        day("LBDAT", "Sample date", required=True, cdash="LBDAT", sdtm="LB.LBDTC"),
        clock("LBTIM", "Sample time", cdash="LBTIM"),
    ]
    for oid, label, testcd, _, units, precision, hard, soft, lln_hard in _DECREASED:
        items.append(_lab_value(oid, label, testcd, units, precision, hard, soft))
        items.append(
            _limit(f"{oid}LLN", label, testcd, units, "low", lln_hard, precision, graded=oid)
        )
        items.append(_grade_item(f"{oid}GR", label, testcd))
    return tuple(items)


LBHEM = Form(
    "LBHEM",
    "Haematology",
    (ItemGroup("LBHEM", "Blood count", _haematology_items(), domain="LB"),),
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
    ("BILI", "Total bilirubin", "BILI", "BILIINC", "µmol/L", 1, (1, 800), (3, 21), (10, 40)),
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


def _biochemistry_items() -> tuple[Item, ...]:
    items: list[Item] = [
        day("LBDAT", "Sample date", required=True, cdash="LBDAT", sdtm="LB.LBDTC"),
        decimal(
            "CREAT",
            "Creatinine",
            None,
            precision=None,
            hard=(0.1, 2000),
            required=True,
            help="As on the laboratory report, in its unit (given beside it); kept as entered.",
            **_lab("CREAT"),
        ),
        choice(
            "CREATU",
            "Creatinine unit",
            "CREATU",
            required=True,
            cdash="LBORRESU",
            sdtm="LB.LBORRESU[CREAT]",
        ),
        decimal(
            "CREATULN",
            "Creatinine: upper limit of normal (same unit)",
            None,
            precision=None,
            hard=(0.3, 200),
            cdash="LBORNRHI",
            sdtm="LB.LBORNRHI[CREAT]",
            **graded_by("CREAT", "creatinine", "high"),
        ),
        derived(
            "CREATGR", "Creatinine: CTCAE v5.0 grade", DataType.INTEGER, sdtm="LB.LBTOXGR[CREAT]"
        ),
        derived(
            "CRCL",
            "Creatinine clearance (Cockcroft-Gault)",
            units="mL/min",
            sdtm="LB.LBSTRESN[CREATCLR]",
        ),
    ]
    for oid, label, testcd, _, units, precision, hard, soft, uln_hard in _INCREASED:
        items.append(_lab_value(oid, label, testcd, units, precision, hard, soft))
        items.append(
            _limit(f"{oid}ULN", label, testcd, units, "high", uln_hard, precision, graded=oid)
        )
        if oid in ("ALT", "AST"):
            items.append(derived(f"{oid}XULN", f"{oid} × ULN", units="× ULN"))
        items.append(_grade_item(f"{oid}GR", label, testcd))
    items += [
        decimal(
            "ALB",
            "Albumin",
            "g/dL",
            precision=1,
            hard=(0.5, 7),
            soft=(3.5, 5),
            required=True,
            help="g/dL (g/L ÷ 10).",
            **_lab("ALB"),
        ),
        _limit("ALBLLN", "Albumin", "ALB", "g/dL", "low", (2.5, 4.5), 1, graded="ALB"),
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
        f"SCR.LBCHEM.{oid}",
        f"SCR.LBCHEM.{oid}ULN",
        "SCR.LBCHEM.LBDAT",
        constants=(term,),
        formula=ctcae.GRADE_FORMULA[term],
    )


LBCHEM = Form(
    "LBCHEM",
    "Biochemistry",
    (
        ItemGroup(
            "LBCHEM", "Renal and liver function, tumour marker", _biochemistry_items(), domain="LB"
        ),
    ),
    derivations=(
        derive(
            "CRCL",
            dv.cockcroft_gault,
            "SCR.DM.AGE",
            "SCR.VS.WEIGHT",
            "SCR.DM.SEX",
            "CREAT",
            "CREATU",
            formula=dv.CG_FORMULA,
        ),
        derive(
            "CREATGR",
            ctcae.visit_grade_creatinine,
            "CREAT",
            "CREATU",
            "CREATULN",
            "LBDAT",
            "SCR.LBCHEM.CREAT",
            "SCR.LBCHEM.CREATU",
            "SCR.LBCHEM.LBDAT",
            formula=ctcae.GRADE_FORMULA["CREATINC"],
        ),
        derive("ALTXULN", dv.times_uln, "ALT", "ALTULN", formula="ALT / ULN of the laboratory."),
        derive("ASTXULN", dv.times_uln, "AST", "ASTULN", formula="AST / ULN of the laboratory."),
        *(_increased_derivation(oid, term) for oid, _, _, term, *_ in _INCREASED),
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
        check(
            "CREAT_PLAUSIBLE",
            "CREAT",
            ck.creatinine_plausible,
            "CREAT",
            "CREATU",
            severity=Severity.REJECT,
        ),
        check("CREAT_USUAL", "CREAT", ck.creatinine_usual, "CREAT", "CREATU"),
        check(
            "CREAT_ULN_PLAUSIBLE",
            "CREATULN",
            ck.creatinine_plausible,
            "CREATULN",
            "CREATU",
            severity=Severity.REJECT,
        ),
        _ae_check("CREAT_GRADE3_AE", "CREAT", "CREATINC", "CREATGR", "LBCHEM"),
        *(
            _ae_check(f"{oid}_GRADE3_AE", oid, term, f"{oid}GR", "LBCHEM")
            for oid, _, _, term, *_ in _INCREASED
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
                decimal(
                    "PT",
                    "Prothrombin time",
                    "s",
                    precision=1,
                    hard=(5, 150),
                    soft=(10, 14),
                    **_lab("PT"),
                ),
                _limit("PTULN", "Prothrombin time", "PT", "s", "high", (8, 25), 1),
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
        ),
    ),
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
