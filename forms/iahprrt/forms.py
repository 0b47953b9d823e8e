"""IAH-PRRT case report forms (first part: consent, demographics, vitals, AE)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from forms.language import CodeList, DataType, Derivation, Form, Item, ItemGroup, Range

SEX = CodeList("SEX", "Sex", (("M", "Male"), ("F", "Female")))
AESEV = CodeList(
    "AETOXGR",
    "CTCAE grade",
    (("1", "Grade 1"), ("2", "Grade 2"), ("3", "Grade 3"), ("4", "Grade 4"), ("5", "Grade 5")),
)


def bmi(values):
    weight, height = values["WEIGHT"], values["HEIGHT"]
    if weight is None or not height:
        return None
    return (weight / (Decimal(height) / 100) ** 2).quantize(Decimal("0.1"), ROUND_HALF_UP)


IC = Form(
    "IC",
    "Informed consent and inclusion",
    (
        ItemGroup(
            "IC",
            "Informed consent",
            (
                Item(
                    "ICDAT",
                    "Date of written informed consent",
                    DataType.DATE,
                    required=True,
                    cdash="DSSTDTC",
                    sdtm="DS.DSSTDTC",
                ),
                Item(
                    "D0PLAN",
                    "Planned date of the IAH procedure (D0)",
                    DataType.DATE,
                    help="Schedules the visits until the procedure takes place.",
                ),
                Item(
                    "THERAPY",
                    "Patient in the therapy sub-group (5th cycle by IAH)",
                    DataType.YES_NO,
                    required=True,
                ),
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
                    "Month and year of birth",
                    DataType.PARTIAL_DATE,
                    required=True,
                    help="YYYY-MM; the day is not collected.",
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
            ),
        ),
    ),
)

VS = Form(
    "VS",
    "Vital signs",
    (
        ItemGroup(
            "VS",
            "Vital signs",
            (
                Item("VSDAT", "Date of measurement", DataType.DATE, required=True, cdash="VSDAT"),
                Item(
                    "WEIGHT",
                    "Weight",
                    DataType.DECIMAL,
                    units="kg",
                    precision=1,
                    hard=Range(25, 250),
                    soft=Range(40, 130),
                    cdash="VSORRES",
                    sdtm="VS.VSORRES",
                ),
                Item(
                    "HEIGHT",
                    "Height",
                    DataType.INTEGER,
                    units="cm",
                    hard=Range(120, 220),
                    soft=Range(145, 200),
                    cdash="VSORRES",
                    sdtm="VS.VSORRES",
                ),
                Item("BMI", "Body-mass index", DataType.DECIMAL, units="kg/m2", derived=True),
                Item(
                    "SYSBP",
                    "Systolic blood pressure",
                    DataType.INTEGER,
                    units="mmHg",
                    hard=Range(50, 260),
                    soft=Range(90, 159),
                ),
                Item(
                    "DIABP",
                    "Diastolic blood pressure",
                    DataType.INTEGER,
                    units="mmHg",
                    hard=Range(30, 160),
                    soft=Range(50, 94),
                ),
            ),
        ),
    ),
    derivations=(Derivation("BMI", ("WEIGHT", "HEIGHT"), bmi, "weight (kg) / height (m)²"),),
)

LBHEM = Form(
    "LBHEM",
    "Haematology",
    (
        ItemGroup(
            "LBHEM",
            "Haematology",
            (
                Item("LBDAT", "Sample date", DataType.DATE, required=True),
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
)

LBCHEM = Form(
    "LBCHEM",
    "Biochemistry",
    (
        ItemGroup(
            "LBCHEM",
            "Biochemistry",
            (
                Item("LBDAT", "Sample date", DataType.DATE, required=True),
                Item(
                    "CREAT",
                    "Creatinine",
                    DataType.DECIMAL,
                    units="µmol/L",
                    precision=0,
                    hard=Range(10, 2000),
                    soft=Range(45, 110),
                    sdtm="LB.LBORRES",
                ),
            ),
        ),
    ),
)

AEREV = Form(
    "AEREV",
    "Adverse event review",
    (
        ItemGroup(
            "AEREV",
            "Review",
            (
                Item(
                    "AEYN",
                    "Any new or worsened adverse event since the last visit?",
                    DataType.YES_NO,
                    required=True,
                    help="If yes, record it in the adverse event log.",
                ),
            ),
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
                Item(
                    "AETERM",
                    "Adverse event",
                    DataType.TEXT,
                    required=True,
                    cdash="AETERM",
                    sdtm="AE.AETERM",
                ),
                Item(
                    "AESTDAT", "Start date", DataType.PARTIAL_DATE, required=True, cdash="AESTDAT"
                ),
                Item("AEENDAT", "End date", DataType.PARTIAL_DATE, cdash="AEENDAT"),
                Item(
                    "AETOXGR",
                    "CTCAE grade",
                    DataType.CHOICE,
                    codelist="AETOXGR",
                    required=True,
                    cdash="AETOXGR",
                ),
                Item("AESER", "Serious", DataType.YES_NO, required=True, cdash="AESER"),
            ),
            repeating=True,
            domain="AE",
        ),
    ),
)

ALL_FORMS = (IC, DM, VS, LBHEM, LBCHEM, AEREV, AE)
ALL_CODELISTS = (SEX, AESEV)
