"""A small study used to test the capture engine: every data type, a repeating group,
conditions, derivations (same form and cross-form), edit checks, references, a sub-group,
an unscheduled visit and a log."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from forms.language import (
    AllOf,
    Check,
    CodeList,
    DataType,
    Derivation,
    Form,
    Item,
    ItemGroup,
    Range,
    Reference,
    Severity,
    Study,
    Subgroup,
    Visit,
    VisitKind,
    When,
)

SEX = CodeList("SEX", "Sex", (("M", "Male"), ("F", "Female")))
ORGAN = CodeList("ORGAN", "Organ", (("LIVER", "Liver"), ("BONE", "Bone"), ("NODE", "Lymph node")))
SYMPTOMS = CodeList(
    "SYMPT", "Symptoms", (("FLUSH", "Flushing"), ("DIAR", "Diarrhoea"), ("PAIN", "Pain"))
)


def bmi(values):
    weight, height = values["WEIGHT"], values["HEIGHT"]
    if weight is None or not height:
        return None
    return (weight / (Decimal(height) / 100) ** 2).quantize(Decimal("0.1"), ROUND_HALF_UP)


def age_at_enrolment(values):
    birth, enrolled = values["BRTHYM"], values["SCR.ENR.ENRDAT"]
    if birth is None or enrolled is None or birth.month is None:
        return None
    return enrolled.year - birth.year - (1 if enrolled.month < birth.month else 0)


def ratio(values):
    suvmax, liver = values["SUVMAX"], values["LIVSUV"]
    if suvmax is None or not liver:
        return None
    return (suvmax / liver).quantize(Decimal("0.01"), ROUND_HALF_UP)


def suvmean_not_above_suvmax(values):
    mean, peak = values["SUVMEAN"], values["SUVMAX"]
    if mean is not None and peak is not None and mean > peak:
        return "SUVmean cannot exceed SUVmax."
    return None


def ae_end_after_start(values):
    start, end = values["AESTDAT"], values["AEENDAT"]
    if start is not None and end is not None and end.earliest() < start.earliest():
        return "The end date is before the start date."
    return None


def low_hgb_needs_ae(values):
    hgb = values["HGB"]
    if (
        hgb is not None
        and hgb < 8
        and not any(
            row.get("AETERM") and "anaemia" in row["AETERM"].lower()
            for row in values["LOGS.AE.AE[]"]
        )
    ):
        return "Haemoglobin below 8 g/dL (grade 3): record an anaemia adverse event."
    return None


ENR = Form(
    "ENR",
    "Enrolment",
    (
        ItemGroup(
            "ENR",
            "Enrolment",
            (
                Item("ENRDAT", "Date of consent", DataType.DATE, required=True, cdash="DSSTDTC"),
                Item(
                    "D0PLAN", "Planned day 0", DataType.DATE, help="Planned date of the procedure."
                ),
                Item("THERAPY", "In the therapy sub-group", DataType.YES_NO),
            ),
        ),
    ),
)

DM = Form(
    "DM",
    "Demographics",
    (
        ItemGroup(
            "DM",
            "Demographics",
            (
                Item(
                    "BRTHYM",
                    "Birth month",
                    DataType.PARTIAL_DATE,
                    required=True,
                    cdash="BRTHDTC",
                    sdtm="DM.BRTHDTC",
                ),
                Item(
                    "SEX",
                    "Sex",
                    DataType.CHOICE,
                    codelist="SEX",
                    required=True,
                    cdash="SEX",
                    sdtm="DM.SEX",
                ),
                Item(
                    "PREG",
                    "Pregnant",
                    DataType.YES_NO,
                    shown_when=When("SEX", "eq", "F"),
                    required_when=When("SEX", "eq", "F"),
                ),
                Item(
                    "WEIGHT",
                    "Weight",
                    DataType.DECIMAL,
                    units="kg",
                    precision=1,
                    hard=Range(20, 300),
                    soft=Range(40, 150),
                    cdash="VSORRES",
                    sdtm="VS.VSORRES",
                ),
                Item("HEIGHT", "Height", DataType.INTEGER, units="cm", hard=Range(100, 230)),
                Item("BMI", "Body-mass index", DataType.DECIMAL, units="kg/m2", derived=True),
                Item("AGE", "Age at consent", DataType.INTEGER, units="years", derived=True),
                Item("SYMPT", "Symptoms", DataType.MULTI_CHOICE, codelist="SYMPT"),
                Item("NOTE", "Comment", DataType.TEXT, max_length=200, missing_allowed=False),
            ),
        ),
    ),
    derivations=(
        Derivation("BMI", ("WEIGHT", "HEIGHT"), bmi, "weight / (height in m)²"),
        Derivation(
            "AGE",
            ("BRTHYM", "SCR.ENR.ENRDAT"),
            age_at_enrolment,
            "whole years from birth month to the date of consent",
        ),
    ),
)

LB = Form(
    "LB",
    "Haematology",
    (
        ItemGroup(
            "LB",
            "Haematology",
            (
                Item("LBDAT", "Sample date", DataType.DATE),
                Item("LBTIM", "Sample time", DataType.TIME),
                Item(
                    "HGB",
                    "Haemoglobin",
                    DataType.DECIMAL,
                    units="g/dL",
                    precision=1,
                    hard=Range(2, 25),
                    soft=Range(12, 17),
                    sdtm="LB.LBORRES",
                ),
            ),
        ),
    ),
    checks=(Check("HGB_GRADE3_AE", "HGB", ("HGB", "LOGS.AE.AE[]"), low_hgb_needs_ae),),
)

LES = Form(
    "LES",
    "PET lesions",
    (
        ItemGroup(
            "ORG",
            "Reference organ",
            (Item("LIVSUV", "Healthy liver SUVmean", DataType.DECIMAL, precision=2),),
        ),
        ItemGroup(
            "LESION",
            "Lesions",
            (
                Item("LESID", "Lesion", DataType.TEXT, required=True, max_length=10),
                Item("ORGAN", "Organ", DataType.CHOICE, codelist="ORGAN"),
                Item("SUVMAX", "SUVmax", DataType.DECIMAL, precision=2, hard=Range(0, 200)),
                Item("SUVMEAN", "SUVmean", DataType.DECIMAL, precision=2, hard=Range(0, 200)),
                Item("TLR", "Tumour/liver ratio", DataType.DECIMAL, derived=True),
            ),
            repeating=True,
            max_rows=5,
            domain="TR",
        ),
    ),
    derivations=(Derivation("TLR", ("SUVMAX", "LIVSUV"), ratio, "SUVmax / healthy liver SUVmean"),),
    checks=(
        Check(
            "SUVMEAN_LE_SUVMAX",
            "SUVMEAN",
            ("SUVMEAN", "SUVMAX"),
            suvmean_not_above_suvmax,
            Severity.REJECT,
        ),
    ),
)

AE = Form(
    "AE",
    "Adverse events",
    (
        ItemGroup(
            "AE",
            "Adverse events",
            (
                Item("AETERM", "Term", DataType.TEXT, required=True),
                Item("AESTDAT", "Start", DataType.PARTIAL_DATE, required=True),
                Item("AEENDAT", "End", DataType.PARTIAL_DATE),
                Item("AESER", "Serious", DataType.YES_NO),
                Item(
                    "AESDTH",
                    "Resulted in death",
                    DataType.YES_NO,
                    shown_when=AllOf((When("AESER", "eq", "Y"),)),
                ),
            ),
            repeating=True,
            domain="AE",
        ),
    ),
    checks=(Check("AE_END_AFTER_START", "AEENDAT", ("AESTDAT", "AEENDAT"), ae_end_after_start),),
)

STUDY = Study(
    oid="MINI",
    name="Mini study",
    version="1.0",
    protocol="TEST-001",
    codelists=(SEX, ORGAN, SYMPTOMS),
    forms=(ENR, DM, LB, LES, AE),
    references=(
        Reference("D0", ("visit:BASE", "SCR.ENR.D0PLAN")),
        Reference("T0", ("visit:TX",), offset_from=("D0", 28)),
    ),
    subgroups=(Subgroup("THERAPY", "Therapy sub-group", "SCR.ENR.THERAPY", "Y"),),
    visits=(
        Visit(
            "SCR",
            "Screening",
            ("ENR", "DM", "LB"),
            reference="D0",
            offset_days=-14,
            window=(-21, -7),
        ),
        Visit("BASE", "Baseline PET", ("LES",), reference="D0", offset_days=0, window=(0, 0)),
        Visit(
            "TX",
            "Treatment",
            ("LB",),
            reference="D0",
            offset_days=28,
            window=(14, 56),
            subgroup="THERAPY",
        ),
        Visit(
            "FU",
            "Follow-up",
            ("LB",),
            reference="T0",
            offset_days=14,
            window=(11, 17),
            subgroup="THERAPY",
        ),
        Visit("UNS", "Unscheduled", ("LB",), kind=VisitKind.UNSCHEDULED),
        Visit("LOGS", "Logs", ("AE",), kind=VisitKind.LOG),
    ),
)
