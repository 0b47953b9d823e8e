"""The screening visit and the eligibility checklist: consent, demographics (age, weight
and creatinine drawn together), medical history, ECOG, vital signs, laboratory, hepatic
function, LVEF, the baseline tumour assessment and the medications ongoing at screening;
then the checklist, answered as the data say where they can (a screen failure fails on
what its profile drew)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from forms.iahprrt import derivations as dv
from forms.iahprrt.demo.history import net_history
from forms.iahprrt.demo.imaging import baseline_tumours
from forms.iahprrt.demo.logs import cm_add, flush
from forms.iahprrt.demo.measurements import chemistry_values, haematology_values
from forms.iahprrt.demo.profile import SCREEN_FAILURES, Patient
from forms.iahprrt.demo.values import ND, UNK, Missing, clock, partial_date, q, round_to
from forms.iahprrt.eligibility import CRITERIA
from forms.values import PartialDate

_MEDICAL_HISTORY = (
    # term, kind, medication (INN, indication, dose, unit, frequency, route)
    ("Arterial hypertension", "chronic", ("Amlodipine", "Hypertension", "5", "mg", "once daily")),
    ("Type 2 diabetes mellitus", "chronic", ("Metformin", "Diabetes", "1000", "mg", "twice daily")),
    ("Hypothyroidism", "chronic", ("Levothyroxine", "Hypothyroidism", "75", "µg", "once daily")),
    (
        "Gastro-oesophageal reflux disease",
        "chronic",
        ("Pantoprazole", "Reflux", "20", "mg", "once daily"),
    ),
    ("Depressive disorder", "chronic", ("Sertraline", "Depression", "50", "mg", "once daily")),
    ("Knee osteoarthritis", "chronic", ("Paracetamol", "Knee pain", "1", "g", "as needed")),
    ("Hypercholesterolaemia", "chronic", ("Atorvastatin", "Dyslipidaemia", "20", "mg", "daily")),
    ("Cholecystectomy", "surgery", None),
    ("Appendicectomy", "childhood", None),
    ("Renal colic", "episode", None),
)


def screening(p: Patient) -> None:
    """The screening visit (SCR), as far as it goes: a patient still in screening
    stops after the laboratory."""
    plan, fails = p.plan, set(p.failures)
    consent = p.day(0)
    in_progress = p.profile == "screening"
    ic = {
        "ICDAT": consent,
        "ICVERS": p.pick(("2.0 of 2021-03-02", "2.1 of 2022-01-17", "3.0 of 2023-06-05")),
        "D0PLAN": p.day(plan["D0"]),
        "THERAPY": "Y" if p.therapy else "N",
    }
    if p.therapy:
        ic["DOSIM"] = "Y" if p.chance(0.5) else "N"
    p.dosimetry = ic.get("DOSIM") == "Y"
    p.form("SCR", "IC", {("IC", 1): ic})
    p.visit("SCR", 0)

    # Demographics
    p.sex = "M" if p.chance(0.55) else "F"
    age = _physique(p, fails)
    month = p.i(1, 12)
    year = consent.year - age - (1 if month > consent.month else 0)
    dm: dict[str, Any] = {"BRTHYM": PartialDate(year, month), "SEX": p.sex}
    if p.sex == "F":
        childbearing = age < 52 and p.chance(0.6)
        dm["CHILDPOT"] = "Y" if childbearing else "N"
        if childbearing:
            dm |= {"PREGDAT": p.day(plan["lab"]), "PREGSPEC": "SERUM", "PREGRES": "NEG"}
        dm["BREASTF"] = "N"
    p.childbearing = dm.get("CHILDPOT") == "Y"
    p.form("SCR", "DM", p.single("DM", dm))
    p.values["SCR.DM.AGE"] = dv.age_at_consent(dm["BRTHYM"], consent)

    _medical_history(p, consent)
    net_history(p, consent, fails)
    p.form(
        "SCR",
        "ECOG",
        {
            ("ECOG", 1): {
                "ECOGDAT": consent,
                "ECOG": "3" if "ecog" in fails else p.weighted({"0": 0.55, "1": 0.4, "2": 0.05}),
            }
        },
    )
    _screening_vitals(p, consent, fails)
    lab_day = p.day(plan["lab"])
    _screening_labs(p, lab_day, fails, complete=not (in_progress and p.chance(0.5)))
    if in_progress:
        return
    hepat = {k: "N" for k in ("COAGDIS", "PORTTHR", "BILDIL", "ANAST", "FISTULA", "CIRRH")}
    hepat |= {"ASCITES": "MILD" if "child_pugh" in fails else "NONE", "HEPENC": "NONE"}
    if "portal" in fails:
        hepat["PORTTHR"] = "Y"
    if "anastomosis" in fails:
        hepat["ANAST"] = "Y"
    p.form("SCR", "HEPAT", p.single("HEPAT", hepat))
    p.values["SCR.HEPAT.CPSCORE"] = dv.child_pugh_score(
        p.lookup("SCR.LBCHEM.BILI"),
        p.lookup("SCR.LBCHEM.ALB"),
        p.lookup("SCR.COAG.INR"),
        hepat["ASCITES"],
        hepat["HEPENC"],
    )
    lvef = p.i(30, 38) if "lvef" in fails else p.i(52, 72)
    p.form(
        "SCR",
        "LVEF",
        {
            ("LVEF", 1): {
                "LVEFDAT": p.day(plan["echo"]),
                "LVEFMETH": p.weighted({"ECHO": 0.85, "MUGA": 0.05, "CMR": 0.1}),
                "LVEF": lvef,
                "CHDVALVE": "Y" if "lvef" in fails else (UNK if p.chance(0.05) else "N"),
            }
        },
    )
    baseline_tumours(p, fails)
    _concomitant_at_screening(p)


def _medical_history(p: Patient, consent: date) -> None:
    """Medical history (MH); the medications of chronic conditions, for later."""
    chosen = [h for h in _MEDICAL_HISTORY if p.chance(0.18)]
    rows: dict[tuple[str, int], dict[str, Any]] = {("MHYN", 1): {"MHYN": "Y" if chosen else "N"}}
    p.medications = []
    for key, (term, kind, medication) in enumerate(chosen, start=1):
        start = consent - timedelta(days=p.i(400, 6000))
        row: dict[str, Any] = {"MHTERM": term}
        if kind == "childhood":
            row |= {"MHSTDAT": UNK, "MHONGO": "N", "MHENDAT": UNK}
        elif kind in ("surgery", "episode"):
            when = partial_date(start, p.pick((1, 2, 2)))
            row |= {"MHSTDAT": when, "MHONGO": "N", "MHENDAT": when}
        else:
            row |= {"MHSTDAT": partial_date(start, p.pick((1, 2, 2, 3))), "MHONGO": "Y"}
        rows[("MH", key)] = row
        if medication is not None:
            p.medications.append((*medication, "ORAL", row["MHSTDAT"]))
    p.form("SCR", "MH", rows)


def _physique(p: Patient, fails: set[str]) -> int:
    """Age, weight and serum creatinine together: eligible patients have a creatinine
    clearance of at least 50 mL/min (screen failures on it, well below)."""
    sex, unit = p.sex, p.lab["CREATU"]
    uln = float(p.lab["CREATULN"][sex])
    low_clearance = "crcl" in fails
    for _ in range(200):
        if low_clearance:
            age, weight, factor = p.i(74, 84), p.u(46, 60, 1), p.u(1.3, 2.0)
        else:
            age = round(min(84, max(38, p.rng.gauss(63, 9))))
            weight = p.u(58, 98, 1) if sex == "M" else p.u(47, 84, 1)
            factor = p.u(0.55, 0.95)
        creat = q(uln * factor, 2) if unit == "mg/dL" else q(uln * factor, 0)
        clearance = dv.cockcroft_gault(age, weight, sex, creat, unit)
        if (clearance < 45) if low_clearance else (clearance >= 55):
            break
    p.weight, p.creat = weight, creat
    p.height = p.i(165, 190) if sex == "M" else p.i(152, 175)
    return age


def _screening_vitals(p: Patient, consent: date, fails: set[str]) -> None:
    """Vital signs at screening (uncontrolled hypertension for that screen failure)."""
    weight, height = p.weight, p.height
    systolic = p.i(165, 182) if "hypertension" in fails else p.i(108, 152)
    diastolic = p.i(96, 104) if "hypertension" in fails else p.i(62, min(92, systolic - 30))
    vs = {
        "VSDAT": consent,
        "WEIGHT": weight,
        "HEIGHT": height,
        "SYSBP": systolic,
        "DIABP": diastolic,
        "PULSE": p.i(58, 92),
        "TEMP": p.u(36.1, 37.2, 1),
    }
    p.form("SCR", "VS", {("VS", 1): vs})


def _screening_labs(p: Patient, day: date, fails: set[str], *, complete: bool) -> None:
    """Haematology, chemistry and coagulation at screening, with the failures drawn;
    the patient's baseline for the CTCAE grades."""
    lab, sex = p.lab, p.sex
    neut = round_to(p.u(1900, 5200), 10)
    lym = round_to(p.u(620, 1700), 10)
    plat = round_to(p.u(62000, 95000), 1000) if "platelets" in fails else None
    baseline = {
        "HGB": p.u(11.6, 14.8, 1) if sex == "M" else p.u(10.6, 13.6, 1),
        "NEUT": neut,
        "LYM": lym,
        "WBC": neut + lym + round_to(p.u(300, 900), 10),
        "PLAT": plat or round_to(p.u(115000, 290000), 1000),
    }
    uln, unit = lab["ULN"], lab["CREATU"]
    alt_abnormal, alp_abnormal = p.chance(0.2), p.chance(0.45)
    if "transaminases" in fails:
        alt = p.u(2.7, 3.5)
    else:
        alt = p.u(1.1, 2.0) if alt_abnormal else p.u(0.3, 0.95)
    chem: dict[str, Any] = {"CREAT": p.creat, "ALT": round(uln["ALT"] * alt)}
    chem["AST"] = round(uln["AST"] * (p.u(1.05, 1.9) if alt_abnormal else p.u(0.4, 0.95)))
    if "child_pugh" in fails:
        chem["BILI"] = p.u(36, 48, 1)
        chem["ALB"] = p.u(2.8, 3.1, 1)
    else:
        chem["BILI"] = q(
            float(uln["BILI"]) * (p.u(1.0, 1.4) if p.chance(0.1) else p.u(0.3, 0.9)), 1
        )
        chem["ALB"] = p.u(3.1, 3.4, 1) if p.chance(0.15) else p.u(3.5, 4.6, 1)
    chem["ALP"] = round(uln["ALP"] * (p.u(1.1, 2.4) if alp_abnormal else p.u(0.45, 0.95)))
    chem["GGT"] = round(uln["GGT"] * (p.u(1.1, 4.0) if p.chance(0.5) else p.u(0.4, 0.95)))
    chem["CGA"] = ND if p.chance(0.08) else round(lab["CGAULN"] * math.exp(p.u(-0.5, 3.5)))
    p.baseline = baseline | {k: v for k, v in chem.items() if not isinstance(v, Missing)}
    p.baseline_day = day
    hem = {"LBDAT": day, "LBTIM": clock(p.i(7 * 60 + 30, 10 * 60 + 30))}
    hem |= haematology_values(p, baseline)
    p.form("SCR", "LBHEM", {("LBHEM", 1): hem}, complete=complete)
    chemistry = {"LBDAT": day, **chemistry_values(p, chem)}
    p.form("SCR", "LBCHEM", {("LBCHEM", 1): chemistry}, complete=complete)
    p.values["SCR.LBCHEM.CRCL"] = dv.cockcroft_gault(
        p.values["SCR.DM.AGE"], p.weight, sex, p.creat, unit
    )
    pt_uln = lab["PTULN"]
    coag = {
        "LBDAT": day,
        "PT": q(float(pt_uln) * p.u(0.85, 1.04), 1),
        "PTULN": pt_uln,
        "INR": p.u(1.5, 1.9, 2) if "child_pugh" in fails else p.u(0.9, 1.15, 2),
        "APTTR": ND if p.chance(0.1) else p.u(0.85, 1.15, 2),
    }
    if "child_pugh" in fails:
        coag["PT"] = q(float(pt_uln) * p.u(1.15, 1.4), 1)
    p.form("SCR", "COAG", {("COAG", 1): coag}, complete=complete)


def _concomitant_at_screening(p: Patient) -> None:
    """The medications ongoing at screening (now and then one entered twice, then
    removed)."""
    for trt, indication, dose, unit, frequency, route, start in p.medications:
        cm_add(
            p,
            {
                "CMTRT": trt,
                "CMINDC": indication,
                "CMDSTXT": UNK if p.chance(0.05) else dose,
                "CMDOSU": unit,
                "CMDOSFRQ": frequency,
                "CMROUTE": route,
                "CMSTDAT": start if isinstance(start, PartialDate) else UNK,
                "CMPRIOR": "Y",
                "CMONGO": "Y",
            },
        )
    if p.medications and p.chance(0.1):
        # Entered twice by mistake, then removed with its reason (never deleted).
        duplicate = dict(p.dirty["CM"][1])
        key = cm_add(p, duplicate)
        flush(p, "CM")
        p.remove_row("LOGS", "CM", "CM", key, "Entered twice: the same medication is row 1.")
    flush(p, "CM")


def eligibility_checklist(p: Patient) -> bool:
    """Answer the checklist as the data say where they can; otherwise as the
    investigator judges. Returns whether the patient is eligible."""
    judged = {c for f in p.failures for c in SCREEN_FAILURES[f][1]}
    inc: dict[str, str] = {}
    exc: dict[str, str] = {}
    eligible = True
    for criterion in CRITERIA:
        values = {ref: p.lookup(ref) for ref in criterion.inputs}
        computed = criterion.evaluate(values)
        if computed is None:
            computed = criterion.eligible_answer == "Y"
            if criterion.id in judged:
                computed = not computed
        answer = "Y" if computed else "N"
        eligible = eligible and answer == criterion.eligible_answer
        (inc if criterion.category == "INCLUSION" else exc)[criterion.id] = answer
    p.form(
        "SCR",
        "IE",
        {("IE", 1): {"IEDAT": p.day(p.plan["IE"])}, ("INC", 1): inc, ("EXC", 1): exc},
    )
    if p.profile == "screen_failure" and eligible:
        raise AssertionError(f"screen failure {p.failures} is eligible")  # generator bug
    return eligible
