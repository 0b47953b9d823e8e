"""Screening / inclusion forms: consent, demographics (with the pregnancy test), NET
history, prior somatostatin analogs and the 4 LUTATHERA cycles, medical history, and the
liver status that decides whether an intra-arterial infusion is possible (Child-Pugh).
"""

from __future__ import annotations

from forms.iahprrt import checks as ck
from forms.iahprrt import derivations as dv
from forms.iahprrt.common import (
    check,
    choice,
    choices,
    day,
    decimal,
    derive,
    derived,
    integer,
    partial_day,
    shown,
    text,
    yes_no,
)
from forms.iahprrt.pregnancy import untested_exposures
from forms.iahprrt.visit_dates import d0_planned_in_window
from forms.language import AllOf, DataType, Form, ItemGroup, Severity, Timing, When
from forms.rules import compare, unique

IC = Form(
    "IC",
    "Informed consent and study part",
    (
        ItemGroup(
            "IC",
            "Informed consent",
            (
                day(
                    "ICDAT",
                    "Date of signed written informed consent",
                    required=True,
                    cdash="DSSTDAT",
                    sdtm="DS.DSSTDTC",
                ),
                text(
                    "ICVERS",
                    "Version of the information sheet and consent form",
                    max_length=40,
                    required=True,
                ),
                day(
                    "D0PLAN",
                    "Planned date of the IAH procedure (D0)",
                    help="Schedules the visits until the PET-IAH takes place.",
                    timing=Timing.PLANNED,
                ),
                yes_no(
                    "THERAPY",
                    "Patient in the therapy sub-group (5th cycle of 177Lu-dotatate by IAH)",
                    required=True,
                    help="No: the study ends after the safety call (CALL).",
                    sdtm="DM.ARMCD",
                ),
                yes_no(
                    "DOSIM",
                    "Patient in the dosimetry sub-group",
                    **shown(When("THERAPY", "eq", "Y")),
                ),
            ),
            domain="DS",
        ),
    ),
    checks=(
        compare(
            "D0_AFTER_CONSENT",
            "D0PLAN",
            ">=",
            "ICDAT",
            message="D0 is planned before the consent date: which date is right?",
        ),
        d0_planned_in_window(),
    ),
)

_WOMAN = When("SEX", "eq", "F")
_CHILDBEARING = AllOf((_WOMAN, When("CHILDPOT", "eq", "Y")))

DM = Form(
    "DM",
    "Demographics",
    (
        ItemGroup(
            "DM",
            "Demographics",
            (
                partial_day(
                    "BRTHYM",
                    "Month and year of birth",
                    required=True,
                    help="YYYY-MM; the day is not collected (data minimisation).",
                    cdash="BRTHDAT",
                    sdtm="DM.BRTHDTC",
                ),
                choice("SEX", "Sex", "SEX", required=True, cdash="SEX", sdtm="DM.SEX"),
                derived("AGE", "Age at consent", DataType.INTEGER, "years", sdtm="DM.AGE"),
            ),
            domain="DM",
        ),
        ItemGroup(
            "PREG",
            "Childbearing potential and pregnancy test (women)",
            (
                yes_no(
                    "CHILDPOT",
                    "Woman of childbearing potential (pre-menopausal, not surgically sterile)",
                    **shown(_WOMAN),
                    sdtm="RP.RPORRES[CHILDPOT]",
                ),
                day(
                    "PREGDAT",
                    "Date of the pregnancy test",
                    **shown(_CHILDBEARING),
                    cdash="LBDAT",
                    sdtm="LB.LBDTC[HCG]",
                ),
                choice("PREGSPEC", "Specimen", "PREGSPEC", **shown(_CHILDBEARING)),
                choice(
                    "PREGRES",
                    "β-hCG pregnancy test",
                    "PREGRES",
                    **shown(_CHILDBEARING),
                    cdash="LBORRES",
                    sdtm="LB.LBORRES[HCG]",
                ),
                yes_no("BREASTF", "Currently breast-feeding", **shown(_WOMAN)),
            ),
            domain="LB",
        ),
    ),
    derivations=(
        derive(
            "AGE",
            dv.age_at_consent,
            "BRTHYM",
            "SCR.IC.ICDAT",
            formula="Completed years from the month of birth (birthday taken as the 1st) to"
            " the date of consent.",
        ),
    ),
    checks=(
        check(
            "BIRTH_MONTH_YEAR",
            "BRTHYM",
            ck.birth_month_and_year,
            "BRTHYM",
            severity=Severity.REJECT,
        ),
        compare(
            "PREG_TEST_AFTER_CONSENT",
            "PREGDAT",
            ">=",
            "SCR.IC.ICDAT",
            message="The pregnancy test predates consent: was it repeated after consent?",
        ),
        untested_exposures(),
    ),
)

NETHX = Form(
    "NETHX",
    "Neuroendocrine tumour history",
    (
        ItemGroup(
            "NET",
            "Primary tumour",
            (
                partial_day(
                    "DIAGDAT",
                    "Date of diagnosis",
                    required=True,
                    cdash="MHSTDAT",
                    sdtm="MH.MHSTDTC[PRIMARY DIAGNOSIS]",
                ),
                choice(
                    "PRIMSITE",
                    "Primary tumour site",
                    "PRIMSITE",
                    required=True,
                    sdtm="MH.MHLOC[PRIMARY DIAGNOSIS]",
                ),
                yes_no("HISTO", "Histologically proven", required=True),
                choice("DIFF", "Differentiation", "DIFF", required=True),
                choice("GRADE", "WHO 2019 grade", "NETGRADE", required=True),
                decimal(
                    "KI67",
                    "Ki-67 index",
                    "%",
                    precision=1,
                    hard=(0, 100),
                    soft=(0, 55),
                    help="Highest value on the histology reports.",
                ),
                yes_no("SYNDROME", "Functioning tumour (e.g. carcinoid syndrome)"),
            ),
            domain="MH",
        ),
        ItemGroup(
            "MET",
            "Metastatic disease",
            (
                partial_day("LIVMETDAT", "Date liver metastases were diagnosed", required=True),
                choice(
                    "HEPBURD",
                    "Hepatic tumour burden at diagnosis",
                    "HEPBURD",
                    required=True,
                    help="> 50 % allows inclusion without waiting for progression.",
                ),
                yes_no("EXTRAHEP", "Extra-hepatic metastases", required=True),
                choices(
                    "EXHSITES",
                    "Extra-hepatic sites",
                    "METSITE",
                    **shown(When("EXTRAHEP", "eq", "Y")),
                ),
                yes_no("PRIMRES", "Primary tumour resected"),
                choices("LIVERTX", "Prior liver-directed treatments", "LIVERTX"),
                choices("SYSTX", "Prior systemic treatments (besides SSA, LUTATHERA)", "SYSTX"),
            ),
            domain="MH",
        ),
    ),
    checks=(check("KI67_GRADE", "KI67", ck.ki67_matches_grade, "GRADE", "KI67"),),
)

PRTX = Form(
    "PRTX",
    "Prior somatostatin analogs and LUTATHERA cycles",
    (
        ItemGroup(
            "SSA",
            "Cold somatostatin analogs",
            (
                choice("SSATRT", "Somatostatin analog", "SSADRUG", required=True, cdash="CMTRT"),
                decimal(
                    "SSADOSE",
                    "Dose per injection",
                    "mg",
                    precision=1,
                    hard=(0.1, 500),
                    cdash="CMDOSE",
                ),
                partial_day("SSASTDAT", "Start", required=True, cdash="CMSTDAT"),
                yes_no("SSAONGO", "Ongoing", required=True, cdash="CMONGO"),
                partial_day(
                    "SSAENDAT", "End", **shown(When("SSAONGO", "eq", "N")), cdash="CMENDAT"
                ),
            ),
            repeating=True,
            domain="CM",
        ),
        ItemGroup(
            "PROG",
            "Progression under cold somatostatin analog",
            (
                yes_no(
                    "PROGSSA",
                    "Progression under cold SSA documented by RECIST 1.1",
                    required=True,
                    help="Eligibility (INC02) counts 12 months back from the date of consent"
                    " to the date of the imaging below.",
                ),
                day(
                    "PROGDAT",
                    "Date of the imaging showing progression",
                    **shown(When("PROGSSA", "eq", "Y")),
                ),
            ),
        ),
        ItemGroup(
            "LUT",
            "Standard intravenous LUTATHERA® cycles",
            (
                integer("CYCLE", "Cycle", hard=(1, 4), required=True),
                day("EXSTDAT", "Date", required=True, cdash="EXSTDAT", sdtm="EX.EXSTDTC"),
                decimal(
                    "EXDOSE",
                    "Activity administered",
                    "MBq",
                    precision=0,
                    hard=(500, 10000),
                    soft=(6660, 8140),
                    help="Standard activity 7400 MBq (200 mCi).",
                    cdash="EXDOSE",
                    sdtm="EX.EXDOSE",
                ),
                yes_no("SCINT24", "24 h post-therapy scintigraphy performed", required=True),
                yes_no(
                    "RESUPT",
                    "Residual tumour uptake on the 24 h scintigraphy",
                    **shown(When("SCINT24", "eq", "Y")),
                    help="No residual uptake after a cycle excludes the patient.",
                ),
            ),
            repeating=True,
            max_rows=4,
            domain="EX",
        ),
        ItemGroup(
            "LUTSUM",
            "LUTATHERA summary",
            (
                derived("LUTN", "Number of cycles recorded", DataType.INTEGER),
                derived("LUTLAST", "Date of the last cycle", DataType.DATE),
            ),
        ),
    ),
    derivations=(
        derive(
            "LUTN",
            dv.count_rows,
            "SCR.PRTX.LUT[]",
            constants=("EXSTDAT",),
            formula="Number of LUTATHERA cycles with a date.",
        ),
        derive(
            "LUTLAST",
            dv.last_date,
            "SCR.PRTX.LUT[]",
            constants=("EXSTDAT",),
            formula="Latest LUTATHERA cycle date (contraception runs 6 months from it).",
        ),
    ),
    checks=(
        compare(
            "SSA_END_AFTER_START",
            "SSAENDAT",
            ">=",
            "SSASTDAT",
            message="The end date ({left}) is before the start date ({right}).",
            severity=Severity.REJECT,
        ),
        unique(
            "CYCLE_ONCE",
            "CYCLE",
            among="SCR.PRTX.LUT[]",
            message="Cycle {value} is used more than once.",
            severity=Severity.REJECT,
        ),
        check("CYCLE_ORDER", "EXSTDAT", ck.cycles_in_order, "CYCLE", "EXSTDAT", "SCR.PRTX.LUT[]"),
        compare(
            "PROGRESSION_AFTER_DIAGNOSIS",
            "PROGDAT",
            ">=",
            "SCR.NETHX.DIAGDAT",
            message="Progression is dated before the diagnosis: which date is right?",
        ),
    ),
)

MH = Form(
    "MH",
    "Medical history",
    (
        ItemGroup(
            "MHYN",
            "Medical history",
            (
                yes_no(
                    "MHYN",
                    "Any relevant medical history or condition ongoing at screening"
                    " (other than the NET)?",
                    required=True,
                    cdash="MHYN",
                ),
            ),
        ),
        ItemGroup(
            "MH",
            "Conditions",
            (
                text(
                    "MHTERM",
                    "Condition or surgery",
                    required=True,
                    cdash="MHTERM",
                    sdtm="MH.MHTERM",
                ),
                partial_day("MHSTDAT", "Start", cdash="MHSTDAT", sdtm="MH.MHSTDTC"),
                yes_no("MHONGO", "Ongoing", required=True, cdash="MHONGO", sdtm="MH.MHENRTPT"),
                partial_day(
                    "MHENDAT",
                    "End",
                    **shown(When("MHONGO", "eq", "N")),
                    cdash="MHENDAT",
                    sdtm="MH.MHENDTC",
                ),
            ),
            repeating=True,
            domain="MH",
        ),
    ),
    checks=(
        compare(
            "MH_END_AFTER_START",
            "MHENDAT",
            ">=",
            "MHSTDAT",
            message="The end date ({left}) is before the start date ({right}).",
            severity=Severity.REJECT,
        ),
    ),
)

HEPAT = Form(
    "HEPAT",
    "Liver status and contraindications to intra-arterial hepatic infusion",
    (
        ItemGroup(
            "CI",
            "Contraindications to IAH infusion",
            (
                yes_no("COAGDIS", "Coagulation disorder", required=True),
                yes_no("PORTTHR", "Portal vein thrombosis", required=True),
                yes_no("BILDIL", "Intrahepatic biliary dilatation", required=True),
                yes_no(
                    "ANAST",
                    "Digestive or biliary anastomosis (e.g. Whipple, hepatico-jejunostomy)",
                    required=True,
                ),
                yes_no("FISTULA", "Digestive or biliary fistula", required=True),
                yes_no("CIRRH", "Cirrhosis", required=True),
            ),
            domain="MH",
        ),
        ItemGroup(
            "CP",
            "Child-Pugh",
            (
                choice("ASCITES", "Ascites", "ASCITES", required=True),
                choice("HEPENC", "Hepatic encephalopathy", "HEPENC", required=True),
                derived("CPSCORE", "Child-Pugh score", DataType.INTEGER, "points"),
                derived("CPCLASS", "Child-Pugh class", DataType.TEXT),
            ),
        ),
    ),
    derivations=(
        derive(
            "CPSCORE",
            dv.child_pugh_score,
            "SCR.LBCHEM.BILI",
            "SCR.LBCHEM.ALB",
            "SCR.COAG.INR",
            "ASCITES",
            "HEPENC",
            formula=dv.CHILD_PUGH_FORMULA + " Bilirubin, albumin, INR: screening samples.",
        ),
        derive(
            "CPCLASS",
            dv.child_pugh_class,
            "CPSCORE",
            formula="A: 5–6, B: 7–9, C: 10–15, written with the score (B8 and above exclude).",
        ),
    ),
)
