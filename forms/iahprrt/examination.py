"""Clinical examination: vital signs (every visit with labs), ECOG performance status and
left-ventricular ejection fraction (screening)."""

from __future__ import annotations

from forms.iahprrt import derivations as dv
from forms.iahprrt.common import (
    choice,
    day,
    decimal,
    derive,
    derived,
    integer,
    yes_no,
)
from forms.iahprrt.visit_dates import measured_at_visit
from forms.language import Form, ItemGroup, Severity
from forms.rules import compare


def _vs(testcd: str) -> dict[str, str]:
    return {"cdash": "VSORRES", "sdtm": f"VS.VSORRES[{testcd}]"}


VS = Form(
    "VS",
    "Vital signs",
    (
        ItemGroup(
            "VS",
            "Vital signs",
            (
                day("VSDAT", "Date of measurement", required=True, cdash="VSDAT", sdtm="VS.VSDTC"),
                decimal(
                    "WEIGHT",
                    "Weight",
                    "kg",
                    precision=1,
                    hard=(25, 250),
                    soft=(40, 130),
                    required=True,
                    **_vs("WEIGHT"),
                ),
                integer(
                    "HEIGHT",
                    "Height",
                    "cm",
                    hard=(120, 220),
                    soft=(145, 200),
                    help="At screening; later visits reuse the screening height.",
                    **_vs("HEIGHT"),
                ),
                derived("BMI", "Body-mass index", units="kg/m2", **_vs("BMI")),
                integer(
                    "SYSBP",
                    "Systolic blood pressure",
                    "mmHg",
                    hard=(50, 260),
                    soft=(90, 159),
                    required=True,
                    help="Seated, after 5 minutes' rest.",
                    **_vs("SYSBP"),
                ),
                integer(
                    "DIABP",
                    "Diastolic blood pressure",
                    "mmHg",
                    hard=(30, 160),
                    soft=(50, 94),
                    required=True,
                    **_vs("DIABP"),
                ),
                integer(
                    "PULSE",
                    "Heart rate",
                    "/min",
                    hard=(20, 250),
                    soft=(50, 100),
                    **_vs("PULSE"),
                ),
                decimal(
                    "TEMP",
                    "Body temperature",
                    "°C",
                    precision=1,
                    hard=(32, 43),
                    soft=(36, 38),
                    **_vs("TEMP"),
                ),
            ),
            domain="VS",
        ),
    ),
    derivations=(
        derive(
            "BMI",
            dv.bmi,
            "WEIGHT",
            "HEIGHT",
            "SCR.VS.HEIGHT",
            formula="Weight (kg) / height (m)²; the screening height when not measured again.",
        ),
    ),
    checks=(
        compare(
            "DIASTOLIC_BELOW_SYSTOLIC",
            "DIABP",
            "<",
            "SYSBP",
            message="Diastolic pressure ({left} mmHg) must be below systolic ({right} mmHg).",
            severity=Severity.REJECT,
        ),
        measured_at_visit("VSDAT"),
    ),
)

ECOG = Form(
    "ECOG",
    "ECOG performance status",
    (
        ItemGroup(
            "ECOG",
            "Performance status",
            (
                day("ECOGDAT", "Date of assessment", required=True, cdash="QSDAT", sdtm="QS.QSDTC"),
                choice(
                    "ECOG",
                    "ECOG performance status",
                    "ECOG",
                    required=True,
                    help="Inclusion requires 0–2.",
                    cdash="QSORRES",
                    sdtm="QS.QSORRES[ECOG101]",
                ),
            ),
            domain="QS",
        ),
    ),
)

LVEF = Form(
    "LVEF",
    "Cardiac function",
    (
        ItemGroup(
            "LVEF",
            "Left-ventricular ejection fraction",
            (
                day("LVEFDAT", "Date of examination", required=True, cdash="PRSTDAT"),
                choice("LVEFMETH", "Method", "LVEFMETH", required=True, sdtm="CV.CVMETHOD"),
                integer(
                    "LVEF",
                    "LVEF",
                    "%",
                    hard=(5, 90),
                    soft=(50, 75),
                    required=True,
                    help="LVEF < 40 % (carcinoid heart disease) excludes.",
                    sdtm="CV.CVORRES[LVEF]",
                ),
                yes_no(
                    "CHDVALVE",
                    "Carcinoid valvular heart disease (right-sided valve involvement)",
                    sdtm="CV.CVORRES[CHD]",
                ),
            ),
            domain="CV",
        ),
    ),
)
