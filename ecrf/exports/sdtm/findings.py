"""LB and VS, mapped from the definition's annotations ("LB.LBORRES[HGB]",
"LB.LBORNRLO[HGB]", "LB.LBTOXGR[HGB]"…): each annotated item says which test and which
variable it feeds, so a test added to a form reaches the dataset without code. What the
annotations cannot say (test names, categories, standard units) is in the tables below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from ecrf.exports.sdtm.context import Context, FormData, dtc, number, plain
from ecrf.records.units import to_standard
from forms.language import Form

_ANNOTATION = re.compile(r"^(LB|VS)\.([A-Z]+)\[([A-Z0-9]+)\]$")


@dataclass(frozen=True)
class Test:
    name: str
    category: str = ""
    #: Standard unit and the factor from each original unit to it.
    standard_unit: str = ""
    factors: tuple[tuple[str, str], ...] = ()


#: CDISC LBTEST names (C67154) and SI standard units.
LB_TESTS = {
    "HGB": Test("Hemoglobin", "HEMATOLOGY", "g/L", (("g/dL", "10"), ("g/L", "1"))),
    "WBC": Test("Leukocytes", "HEMATOLOGY", "10^9/L", (("/mm3", "0.001"), ("10^9/L", "1"))),
    "NEUT": Test("Neutrophils", "HEMATOLOGY", "10^9/L", (("/mm3", "0.001"), ("10^9/L", "1"))),
    "LYM": Test("Lymphocytes", "HEMATOLOGY", "10^9/L", (("/mm3", "0.001"), ("10^9/L", "1"))),
    "PLAT": Test("Platelets", "HEMATOLOGY", "10^9/L", (("/mm3", "0.001"), ("10^9/L", "1"))),
    "CREAT": Test("Creatinine", "CHEMISTRY", "umol/L", (("umol/L", "1"), ("mg/dL", "88.42"))),
    "CREATCLR": Test("Creatinine Clearance", "CHEMISTRY", "mL/min", (("mL/min", "1"),)),
    "ALT": Test("Alanine Aminotransferase", "CHEMISTRY", "U/L", (("U/L", "1"),)),
    "AST": Test("Aspartate Aminotransferase", "CHEMISTRY", "U/L", (("U/L", "1"),)),
    "BILI": Test("Bilirubin", "CHEMISTRY", "umol/L", (("umol/L", "1"),)),
    "ALP": Test("Alkaline Phosphatase", "CHEMISTRY", "U/L", (("U/L", "1"),)),
    "GGT": Test("Gamma Glutamyl Transferase", "CHEMISTRY", "U/L", (("U/L", "1"),)),
    "ALB": Test("Albumin", "CHEMISTRY", "g/L", (("g/dL", "10"), ("g/L", "1"))),
    "CHROMGRA": Test("Chromogranin A", "CHEMISTRY", "ug/L", (("ug/L", "1"),)),
    "PT": Test("Prothrombin Time", "COAGULATION", "sec", (("sec", "1"),)),
    # The French "taux de prothrombine" (verify the test code in the current CDISC CT).
    "PTPCT": Test("Prothrombin Activity", "COAGULATION", "%", (("%", "1"),)),
    "INR": Test("Prothrombin Intl. Normalized Ratio", "COAGULATION", "RATIO", (("", "1"),)),
    "APTT": Test("Activated Partial Thromboplastin Time", "COAGULATION", "RATIO", (("", "1"),)),
    "HCG": Test("Choriogonadotropin Beta", "CHEMISTRY"),
}
VS_TESTS = {
    "WEIGHT": Test("Weight", standard_unit="kg"),
    "HEIGHT": Test("Height", standard_unit="cm"),
    "BMI": Test("Body Mass Index", standard_unit="kg/m2"),
    "SYSBP": Test("Systolic Blood Pressure", standard_unit="mmHg"),
    "DIABP": Test("Diastolic Blood Pressure", standard_unit="mmHg"),
    "PULSE": Test("Pulse Rate", standard_unit="beats/min"),
    "TEMP": Test("Temperature", standard_unit="C"),
}
#: The CRF's unit spellings (and UCUM symbols) → CDISC UNIT submission values.
UNITS = {
    "µmol/L": "umol/L",
    "µg/L": "ug/L",
    "s": "sec",
    "/min": "beats/min",
    "°C": "C",
    "10*9/L": "10^9/L",
}
PREGNANCY = {"NEG": "NEGATIVE", "POS": "POSITIVE"}

LB_FORMS = ("LBHEM", "LBCHEM", "COAG", "DM")
VS_FORMS = ("VS",)


def annotated_tests(form: Form, domain: str) -> dict[str, dict[str, str]]:
    """test code → {SDTM variable: item OID} for the items of ``form`` annotated so."""
    tests: dict[str, dict[str, str]] = {}
    for _, item in form.items():
        match = _ANNOTATION.match(item.sdtm or "")
        if match and match.group(1) == domain:
            tests.setdefault(match.group(3), {})[match.group(2)] = item.oid
    return tests


def _indicator(result: Decimal | None, low: Decimal | None, high: Decimal | None) -> str:
    """LBNRIND against the site's limits (in the original unit); "" without a limit."""
    if result is None or (low is None and high is None):
        return ""
    if low is not None and result < low:
        return "LOW"
    if high is not None and result > high:
        return "HIGH"
    return "NORMAL"


def map_lb(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    usubjid = ctx.usubjid(subject)
    for form in forms:
        definition = ctx.study.forms[form.form_oid]
        if form.form_oid == "DM":
            yield from _pregnancy_test(ctx, subject, form)
            continue
        group = definition.groups[0].oid
        row = form.row(group)
        day = dtc(ctx.value(row, "LBDAT"), ctx.value(row, "LBTIM"))
        laboratory = next(
            (ctx.value(row, i.oid) for _, i in definition.items() if i.sdtm == "LB.LBNAM"), ""
        )
        for code, items in annotated_tests(definition, "LB").items():
            source = items.get("LBORRES") or items.get("LBSTRESN")
            if source is None or row is None or source not in row.values:
                continue
            test = LB_TESTS[code]
            result = ctx.value(row, source)
            _, item = ctx.study.item(form.form_oid, source)
            value = number(result)
            if item.multi_unit:  # entered in one of its units: converted as rules read it
                symbol = ctx.unit(row, source) or item.standard_unit.symbol
                unit = UNITS.get(symbol, symbol)
                value_std = to_standard(item, value, symbol) if value is not None else None
                std_symbol = item.standard_unit.symbol
                factor = dict(test.factors).get(UNITS.get(std_symbol, std_symbol))
            else:
                if "LBORRESU" in items:
                    unit = ctx.value(row, items["LBORRESU"])
                else:
                    unit = UNITS.get(item.units or "", item.units or "")
                value_std, factor = value, dict(test.factors).get(unit)
            low = ctx.value(row, items["LBORNRLO"]) if "LBORNRLO" in items else ""
            high = ctx.value(row, items["LBORNRHI"]) if "LBORNRHI" in items else ""
            standard = value_std * Decimal(factor) if value_std is not None and factor else None
            not_done = not result and ctx.missing(row, source) == "ND"
            yield {
                **ctx.keys("LB", subject),
                "LBTESTCD": code,
                "LBTEST": test.name,
                "LBCAT": test.category,
                "LBORRES": result,
                "LBORRESU": unit if result else "",
                "LBORNRLO": low,
                "LBORNRHI": high,
                "LBSTRESC": plain(standard) if standard is not None else result,
                "LBSTRESN": plain(standard) if standard is not None else None,
                "LBSTRESU": test.standard_unit if standard is not None else "",
                "LBNRIND": _indicator(value, number(low), number(high)),
                "LBSTAT": "NOT DONE" if not_done else "",
                "LBNAM": laboratory,
                "LBSPEC": "BLOOD" if test.category == "HEMATOLOGY" else "SERUM OR PLASMA",
                "LBTOXGR": ctx.value(row, items["LBTOXGR"]) if "LBTOXGR" in items else "",
                **ctx.visit(form),
                "LBDTC": day,
                "LBDY": ctx.study_day(usubjid, day),
            }


def _pregnancy_test(ctx: Context, subject: str, form: FormData) -> Iterator[dict]:
    row = form.row("PREG")
    result = PREGNANCY.get(ctx.value(row, "PREGRES"), "")
    if not result:
        return
    day = ctx.value(row, "PREGDAT")
    yield {
        **ctx.keys("LB", subject),
        "LBTESTCD": "HCG",
        "LBTEST": LB_TESTS["HCG"].name,
        "LBCAT": "CHEMISTRY",
        "LBORRES": result,
        "LBORRESU": "",
        "LBORNRLO": "",
        "LBORNRHI": "",
        "LBSTRESC": result,
        "LBSTRESN": None,
        "LBSTRESU": "",
        "LBNRIND": "",
        "LBSTAT": "",
        "LBNAM": "",
        "LBSPEC": ctx.value(row, "PREGSPEC"),
        "LBTOXGR": "",
        **ctx.visit(form),
        "LBDTC": day,
        "LBDY": ctx.study_day(ctx.usubjid(subject), day),
    }


def map_vs(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    usubjid = ctx.usubjid(subject)
    for form in forms:
        definition = ctx.study.forms[form.form_oid]
        row = form.row(definition.groups[0].oid)
        if row is None:
            continue
        day = ctx.value(row, "VSDAT")
        for code, items in annotated_tests(definition, "VS").items():
            source = items.get("VSORRES")
            if source is None or source not in row.values:
                continue
            _, item = ctx.study.item(form.form_oid, source)
            result = ctx.value(row, source)
            unit = UNITS.get(item.units or "", item.units or "")
            yield {
                **ctx.keys("VS", subject),
                "VSTESTCD": code,
                "VSTEST": VS_TESTS[code].name,
                "VSORRES": result,
                "VSORRESU": unit if result else "",
                "VSSTRESC": result,
                "VSSTRESN": result or None,
                "VSSTRESU": VS_TESTS[code].standard_unit if result else "",
                "VSSTAT": "NOT DONE" if not result and ctx.missing(row, source) == "ND" else "",
                **ctx.visit(form),
                "VSDTC": day,
                "VSDY": ctx.study_day(usubjid, day),
            }
