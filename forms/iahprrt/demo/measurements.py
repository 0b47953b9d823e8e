"""What is measured at the visits from the therapy on: vital signs, blood counts and
chemistry as the patient's toxicity profile has them at that point, their CTCAE v5.0
grades, and the adverse events those grades call for (the haematology and chemistry
values of screening are written by the same helpers)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from forms.iahprrt import ctcae
from forms.iahprrt.codelists import LABTERM
from forms.iahprrt.demo.logs import ae_add, ae_update
from forms.iahprrt.demo.profile import FOLLOW_UP, Patient
from forms.iahprrt.demo.values import ND, Missing, clock, q, round_to

#: Laboratory value → its CTCAE term, for the grades that call for an adverse event.
_LAB_TERMS = {
    "HGB": "ANEMIA",
    "WBC": "WBCDEC",
    "NEUT": "NEUTDEC",
    "LYM": "LYMDEC",
    "PLAT": "PLATDEC",
    "CREAT": "CREATINC",
    "ALT": "ALTINC",
    "AST": "ASTINC",
    "BILI": "BILIINC",
    "ALP": "ALPINC",
    "GGT": "GGTINC",
    "ALB": "HYPOALB",
}
_HAEMATOLOGY = ("HGB", "WBC", "NEUT", "LYM", "PLAT")

#: Fraction of the blood-count nadir, and of the liver-enzyme peak, reached at each visit.
_NADIR = {"THER": 0.0, "W2": 0.6, "W4": 1.0, "W6": 0.9, "W8": 0.6, "M3": 0.35, "M6": 0.15}
_PEAK = {"THER": 0.0, "W2": 1.0, "W4": 0.5, "W6": 0.25, "W8": 0.1, "M3": 0.0, "M6": 0.0}


def vitals(p: Patient, visit: str, day: date, repeat: int = 1) -> None:
    """Vital signs at ``visit``, now and then corrected afterwards (with its reason)."""
    p.weight = q(float(p.weight) + p.u(-1.2, 0.8), 1)
    systolic = p.i(105, 150)
    vs = {
        "VSDAT": day,
        "WEIGHT": p.weight,
        "SYSBP": systolic,
        "DIABP": p.i(60, min(92, systolic - 30)),
        "PULSE": ND if p.chance(0.04) else p.i(58, 96),
        "TEMP": ND if p.chance(0.06) else p.u(36.1, 37.4, 1),
    }
    p.form(visit, "VS", {("VS", 1): vs}, repeat=repeat)
    if p.chance(0.04) and not isinstance(vs["PULSE"], Missing):
        wrong, right = vs["PULSE"], vs["PULSE"] + p.pick((-9, 9, 10, -10))
        p.form(
            visit,
            "VS",
            {("VS", 1): {"PULSE": right}},
            repeat=repeat,
            reason=f"Transcription error: {wrong} corrected to {right} from the nurse's"
            " observation chart.",
        )


def labs(p: Patient, visit: str, sample: date, repeat: int = 1, *, chemistry: bool = True) -> None:
    """Blood counts (and chemistry) at ``visit``: the toxicity profile at that point."""
    b = p.baseline
    effect = _NADIR.get(visit, 0.9)
    counts: dict[str, Any] = {}
    for analyte in ("NEUT", "LYM", "PLAT", "HGB"):
        factor = 1 - (1 - p.nadir[analyte]) * effect
        value = float(b[analyte]) * factor * (p.u(0.94, 1.06) if effect else p.u(0.95, 1.08))
        counts[analyte] = (
            q(value, 1) if analyte == "HGB" else round_to(value, 1000 if analyte == "PLAT" else 10)
        )
    others = p.others * (1 - (1 - p.nadir["OTHER"]) * effect)
    counts["WBC"] = counts["NEUT"] + counts["LYM"] + round_to(others, 10)
    hem = {"LBDAT": sample, "LBTIM": clock(p.i(7 * 60 + 30, 11 * 60))}
    hem |= haematology_values(p, counts)
    p.form(visit, "LBHEM", {("LBHEM", 1): hem}, repeat=repeat)
    values = dict(counts)
    if chemistry:
        rise = _PEAK.get(visit, 0.6)
        chem: dict[str, Any] = {
            "CREAT": q(
                float(b["CREAT"]) * p.u(0.95, 1.12),
                2 if p.lab["CREATU"] == "mg/dL" else 0,
            ),
        }
        for analyte in ("ALT", "AST", "BILI", "ALP", "GGT"):
            factor = 1 + (p.peak[analyte] - 1) * rise
            value = float(b[analyte]) * factor * p.u(0.92, 1.08)
            chem[analyte] = q(value, 1) if analyte == "BILI" else max(1, round(value))
        chem["ALB"] = q(float(b["ALB"]) * p.u(0.94, 1.02), 1)
        if visit in ("M3", "M6") and "CGA" in b:
            chem["CGA"] = max(0, round(b["CGA"] * p.u(0.4, 1.1)))
        elif visit in FOLLOW_UP:
            chem["CGA"] = ND  # the tumour marker is measured at screening, M3 and M6
        p.form(
            visit,
            "LBCHEM",
            {("LBCHEM", 1): {"LBDAT": sample, **chemistry_values(p, chem)}},
            repeat=repeat,
        )
        values |= chem
    if visit != "THER":
        _lab_adverse_events(p, sample, values)


def haematology_values(p: Patient, values: dict[str, Any]) -> dict[str, Any]:
    """Blood counts with the site's lower limits, as the form holds them."""
    lab = p.lab
    return {
        "HGB": values["HGB"],
        "HGBLLN": lab["HGBLLN"][p.sex],
        "WBC": values["WBC"],
        "WBCLLN": lab["LLN"]["WBC"],
        "NEUT": values["NEUT"],
        "NEUTLLN": lab["LLN"]["NEUT"],
        "LYM": values["LYM"],
        "LYMLLN": lab["LLN"]["LYM"],
        "PLAT": values["PLAT"],
        "PLATLLN": lab["LLN"]["PLAT"],
    }


#: Share of patients whose liver panel is repeated between screening and the first PET.
REPEAT_BEFORE_PET = 0.2


def repeat_chemistry_before_pet(p: Patient, pet: date) -> None:
    """Some sites repeat the chemistry between screening and the PET after IV injection
    (an unscheduled visit): that sample, the last before the first study radiopharmaceutical
    administration, becomes the baseline of the CTCAE grades (forms.iahprrt.baseline).

    Drawn from its own generator, seeded by the patient's dates, so that the rest of the
    story (and every other patient) draws exactly as without it."""
    pick = random.Random(f"repeat-chemistry:{p.site}:{p.consent}:{p.baseline_day}:{pet}")
    gap = (pet - p.baseline_day).days
    if gap < 2 or pick.random() >= REPEAT_BEFORE_PET:
        return
    day = p.baseline_day + timedelta(days=pick.randint(1, gap - 1))
    b = p.baseline
    chem: dict[str, Any] = {
        "CREAT": q(
            float(b["CREAT"]) * pick.uniform(0.95, 1.08), 2 if p.lab["CREATU"] == "mg/dL" else 0
        )
    }
    for analyte in ("ALT", "AST", "BILI", "ALP", "GGT"):
        if analyte in b:
            value = float(b[analyte]) * pick.uniform(0.9, 1.15)
            chem[analyte] = q(value, 1) if analyte == "BILI" else max(1, round(value))
    if "ALB" not in b or len(chem) < 6:
        return  # a panel the screening left incomplete is not repeated
    chem["ALB"] = q(float(b["ALB"]) * pick.uniform(0.96, 1.03), 1)
    p.uns += 1
    p.unscheduled_visit("UNS", p.uns, day)
    p.form(
        "UNS",
        "LBCHEM",
        {("LBCHEM", 1): {"LBDAT": day, **chemistry_values(p, chem)}},
        repeat=p.uns,
    )
    p.baseline = b | chem
    p.baseline_day = day


def chemistry_values(p: Patient, values: dict[str, Any]) -> dict[str, Any]:
    """Chemistry with the site's units and limits, as the form holds them."""
    lab = p.lab
    result = {
        "CREAT": values["CREAT"],
        "CREAT.unit": lab["CREATU"],  # the values are in the laboratory's unit
        "CREATULN": lab["CREATULN"][p.sex],
    }
    for analyte in ("ALT", "AST", "BILI", "ALP", "GGT"):
        result[analyte] = values[analyte]
        result[f"{analyte}ULN"] = lab["ULN"][analyte]
    result |= {"ALB": values["ALB"], "ALBLLN": lab["ALBLLN"]}
    if "CGA" in values:
        result |= {"CGA": values["CGA"], "CGAULN": lab["CGAULN"]}
    return result


def _ctcae_grades(p: Patient, sample: date, values: dict[str, Any]) -> dict[str, int]:
    """CTCAE v5.0 grade of each value, as the definition's derivations compute it."""
    lab, b = p.lab, p.baseline
    grades: dict[str, int | None] = {}
    for analyte in _HAEMATOLOGY:
        lln = lab["HGBLLN"][p.sex] if analyte == "HGB" else lab["LLN"][analyte]
        grades[analyte] = ctcae.grade_decreased(_LAB_TERMS[analyte], values[analyte], lln)
    if "ALT" in values:
        for analyte in ("ALT", "AST", "BILI", "ALP", "GGT"):
            uln = lab["ULN"][analyte]
            grades[analyte] = ctcae.visit_grade_increased(
                _LAB_TERMS[analyte],
                values[analyte],
                uln,
                sample,
                b[analyte],
                uln,
                p.baseline_day,
            )
        unit = lab["CREATU"]
        uln = lab["CREATULN"][p.sex]
        grades["CREAT"] = ctcae.visit_grade_creatinine(
            values["CREAT"], unit, uln, sample, b["CREAT"], unit, p.baseline_day
        )
        grades["ALB"] = ctcae.grade_decreased("HYPOALB", values["ALB"], lab["ALBLLN"])
    return {k: v for k, v in grades.items() if v is not None}


def _lab_adverse_events(p: Patient, sample: date, values: dict[str, Any]) -> None:
    """Record (or close) the adverse events the laboratory values call for: grade ≥ 3
    always (unless the site missed it: an open query), worsened grade 2 sometimes."""
    baseline = _ctcae_grades(p, p.baseline_day, p.baseline)
    for analyte, grade in _ctcae_grades(p, sample, values).items():
        term = _LAB_TERMS[analyte]
        key = p.lab_ae.get(term)
        if key is not None:
            row = p.ae[key]
            if grade < 2:
                ae_update(p, key, AEONGO="N", AEENDAT=sample, AEOUT="RECOVERED")
                del p.lab_ae[term]
            elif grade > int(row["AETOXGR"]):
                ae_update(p, key, AETOXGR=str(grade))
            continue
        if term in p.forgotten:
            continue
        withdrawal = p.profile == "withdrawn" and p.variant == "ae"
        if grade >= 3 and not withdrawal and p.chance(0.12):
            p.forgotten.add(term)  # never recorded: the query stays open
            continue
        if grade >= 3 or (grade == 2 and grade > baseline.get(analyte, 0) and p.chance(0.35)):
            label = LABTERM.label(term)
            p.lab_ae[term] = ae_add(
                p,
                label,
                sample,
                str(grade),
                procedure="NOT",
                therapy="PROBABLE" if analyte in _HAEMATOLOGY else "POSSIBLE",
                lab=term,
                end=None,
                treated=analyte == "HGB" and grade >= 3,
            )
