"""The therapy sub-group's 177Lu-dotatate cycle by IAH infusion (THER): pre-treatment
checks, the administration and its activities, the 24 h scintigraphy, the dosimetry,
the adverse events of the administration, and the patient's response to the cycle
(toxicity profile and tumour response) that the follow-up visits show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from forms.iahprrt.demo.logs import ae_add, cm_add, dv_add, flush_logs, sae_report, treat
from forms.iahprrt.demo.measurements import labs, vitals
from forms.iahprrt.demo.pregnancy import pregnancy_values
from forms.iahprrt.demo.profile import Patient
from forms.iahprrt.demo.values import clock, q

_THERAPY_AE = (
    # term, grades, relation to the procedure, to 177Lu, days after T0 (start, duration),
    # probability, treatment (medication, indication, dose, unit, frequency, route)
    (
        "Nausea",
        ("1", "2"),
        "UNLIKELY",
        "PROBABLE",
        (0, 2),
        0.35,
        ("Metoclopramide", "Nausea", "10", "mg", "three times daily", "ORAL"),
    ),
    ("Vomiting", ("1", "2"), "UNLIKELY", "PROBABLE", (0, 1), 0.10, None),
    (
        "Abdominal pain",
        ("1", "2"),
        "POSSIBLE",
        "POSSIBLE",
        (0, 4),
        0.20,
        ("Paracetamol", "Abdominal pain", "1", "g", "four times daily", "ORAL"),
    ),
    ("Fatigue", ("1", "2"), "NOT", "PROBABLE", (3, 30), 0.40, None),
    ("Puncture site haematoma", ("1",), "RELATED", "NOT", (0, 10), 0.05, None),
    ("Diarrhoea", ("1",), "NOT", "UNLIKELY", (5, 10), 0.10, None),
    ("Alopecia", ("1",), "NOT", "POSSIBLE", (20, 60), 0.05, None),
)


def therapy_cycle(p: Patient) -> None:
    """The THER visit: pre-treatment checks, the 177Lu-dotatate administration by IAH
    infusion, the 24 h scintigraphy, the dosimetry and the events of the administration."""
    plan = p.plan
    t0 = p.visit("THER", plan["THER"])
    sample = t0 - timedelta(days=p.i(0, 2))
    _toxicity_profile(p)
    vitals(p, "THER", t0)
    labs(p, "THER", sample)
    coag = {
        "LBDAT": sample,
        "PT": q(float(p.lab["PTULN"]) * p.u(0.85, 1.02), 1),
        "PTULN": p.lab["PTULN"],
        "INR": p.u(0.9, 1.15, 2),
        "APTTR": p.u(0.85, 1.15, 2),
    }
    p.form("THER", "COAG", {("COAG", 1): coag})

    # 177Lu-dotatate by IAH infusion
    start = p.i(9 * 60 + 30, 12 * 60)
    duration = p.i(20, 45)
    prescribed = 7400 if p.chance(0.92) else 5550
    measured_before = p.i(30, 150)
    previous_day = p.chance(0.1)
    hours_before = measured_before / 60 + (24 if previous_day else 0)
    residual = p.i(60, 320)
    residual_after = duration + p.i(5, 25)
    half_life = 6.647 * 24
    shortfall = p.u(-0.15, -0.12) if p.chance(0.05) else p.u(-0.04, 0.03)
    target = prescribed * (1 + shortfall)
    syringe = (target + residual * 2 ** ((residual_after / 60) / half_life)) * 2 ** (
        hours_before / half_life
    )
    same_artery = p.chance(0.9)
    luadm: dict[str, Any] = {
        "EXSTDAT": t0,
        "EXSTTIM": clock(start),
        "EXENTIM": clock(start + duration),
        "ACCESS": p.access,
        "ARTERY": p.artery if same_artery else p.pick(("PHA", "RHA", "CHA")),
        "SAMEPOS": "Y" if same_artery else "N",
        "PRESACT": prescribed,
        "ACTSYR": round(syringe),
        "ACTSYRTM": clock(start - measured_before),
        "ACTRES": residual,
        "ACTRESTM": clock(start + residual_after),
    }
    if previous_day:
        luadm["ACTSYRDT"] = t0 - timedelta(days=1)
    antiemetic = p.chance(0.9)
    rp = {
        "RPYN": "Y",
        "RPSOL": "LYSARG" if p.chance(0.9) else "AAMIX",
        "RPVOL": 1000 if p.chance(0.85) else 2000,
        "RPSTTIM": clock(start - p.i(30, 60)),
        "ANTIEM": "Y" if antiemetic else "N",
    }
    complication = p.chance(0.03)
    safe = {
        # A man, or a woman who cannot bear children: the test does not apply.
        **pregnancy_values(p, t0, 2),
        "PRCOMP": "Y" if complication else "N",
    }
    if complication:
        safe["PRCOMPD"] = "Spasm of the hepatic artery, relieved by intra-arterial nitroglycerin"
    p.form("THER", "LUADM", p.single("LUADM", luadm | rp | safe))
    if shortfall < -0.1:
        dv_add(
            p,
            t0,
            "THER",
            "ADMIN",
            "Administered 177Lu activity more than 10 % below the prescribed activity"
            " (activity retained in the lines and catheter).",
            "MAJOR",
            "Radiopharmacy and interventional radiology informed; procedure reviewed.",
        )
    if antiemetic:
        cm_add(
            p,
            {
                "CMTRT": "Ondansetron",
                "CMINDC": "Prevention of nausea (amino-acid infusion)",
                "CMDSTXT": "8",
                "CMDOSU": "mg",
                "CMDOSFRQ": "once",
                "CMROUTE": "INTRAVENOUS",
                "CMSTDAT": t0,
                "CMPRIOR": "N",
                "CMONGO": "N",
                "CMENDAT": t0,
            },
        )

    # 24 h scintigraphy / SPECT-CT
    scan_day = t0 + timedelta(days=1)
    late_scan = p.chance(0.05)
    scan_at = start + (p.i(240, 330) if late_scan else p.i(-90, 90))
    extra_uptake = p.chance(0.04)
    scint: dict[str, Any] = {
        "SCDAT": scan_day,
        "SCTIM": clock(scan_at),
        "WBSCAN": "Y",
        "SPECTCT": "Y",
        "LIVUPT": "4" if p.chance(0.75) else "3",
        "EXTRAUPT": "Y" if extra_uptake else "N",
        "SCCOM": "Intense uptake in the liver metastases, higher than after the IV cycles.",
    }
    if extra_uptake:
        scint["EXTRADESC"] = "Duodenal wall (gastroduodenal artery territory)"
    p.form("THER", "SCINT", {("SCINT", 1): scint})
    _dosimetry(p)

    # Adverse events of the administration
    for term, grades, procedure, therapy, (begin, length), chance, treatment in _THERAPY_AE:
        if p.chance(chance):
            first = t0 + timedelta(days=begin)
            if first > scan_day:
                p.pending_ae.append((term, grades, procedure, therapy, first, length))
                continue
            key = ae_add(
                p,
                term,
                first,
                p.pick(grades),
                procedure=procedure,
                therapy=therapy,
                end=first + timedelta(days=p.i(0, length)),
                treated=treatment is not None,
                known=scan_day,
            )
            if treatment is not None:
                treat(p, key, treatment, first, known=scan_day)
    if p.chance(0.03):
        first = t0 + timedelta(days=p.i(0, 1))
        key = ae_add(
            p,
            "Carcinoid crisis",
            first,
            "3",
            procedure="POSSIBLE",
            therapy="PROBABLE",
            serious="AESHOSP",
            treated=True,
            end=first + timedelta(days=p.i(2, 5)),
            known=scan_day,
        )
        sae_report(
            p,
            key,
            first,
            "Flushing, diarrhoea and hypotension a few hours after the 177Lu infusion;"
            " octreotide infusion and fluids in the ward.",
        )
    flush_logs(p)


def _dosimetry(p: Patient) -> None:
    """Dosimetry (DOSI) of the index lesions and the organs, for patients who consented to it."""
    if not p.dosimetry:
        p.form("THER", "DOSI", {("DOS", 1): {"DOSYN": "N"}})
        return
    rows: dict[tuple[str, int], dict[str, Any]] = {
        ("DOS", 1): {
            "DOSYN": "Y",
            "DOSMETH": p.weighted({"MTP": 0.6, "HYBRID": 0.3, "STP": 0.1}),
            "TIMEPTS": p.pick(("4, 24, 96, 168", "24, 96, 168", "24")),
            "SOFTWARE": p.pick(("PLANET Dose", "MIM SurePlan MRT", "Hermes Voxel Dosimetry")),
        }
    }
    for key, lesion in enumerate(p.index, start=1):
        dose = p.u(8, 45)
        row: dict[str, Any] = {"LESID": lesion["id"]}
        ivs = []
        for cycle in range(1, 5):
            cycle_dose = dose * (1 - 0.08 * (cycle - 1)) * p.u(0.9, 1.1)
            ivs.append(cycle_dose)
            row[f"DIV{cycle}"] = None if (cycle == 1 and p.chance(0.15)) else q(cycle_dose, 2)
        row["DIAH"] = q(sum(ivs) / 4 * p.gains[lesion["id"]] * p.u(0.85, 1.15), 2)
        rows[("LDOSE", key)] = row
    for key, (organ, (low, high), (g_low, g_high)) in enumerate(
        (
            ("KIDNEYS", (2.5, 4.5), (0.6, 0.9)),
            ("SPLEEN", (3.0, 6.0), (0.6, 0.9)),
            ("LIVER", (1.5, 3.0), (1.2, 1.8)),
            ("MARROW", (0.1, 0.3), (0.7, 0.95)),
        ),
        start=1,
    ):
        dose = p.u(low, high)
        row = {"ORGAN": organ}
        for cycle in range(1, 5):
            row[f"ODIV{cycle}"] = q(dose * p.u(0.9, 1.1), 2)
        row["ODIAH"] = q(dose * p.u(g_low, g_high), 2)
        rows[("ODOSE", key)] = row
    p.form("THER", "DOSI", rows)


def _toxicity_profile(p: Patient) -> None:
    """How this patient's blood counts and liver tests respond to the IAH cycle."""
    b, uln = p.baseline, p.lab["ULN"]
    severe_lym = "toxicity" in p.features or p.chance(0.22)
    nadir = {
        "LYM": (p.u(250, 470) / b["LYM"]) if severe_lym else p.u(0.55, 0.9),
        "NEUT": (p.u(700, 950) / b["NEUT"]) if p.chance(0.03) else p.u(0.7, 0.95),
        "HGB": (p.u(7.3, 7.9) / float(b["HGB"])) if p.chance(0.02) else p.u(0.9, 0.98),
        "OTHER": p.u(0.75, 1.0),
    }
    platelets = p.weighted({"severe": 0.06, "moderate": 0.15, "mild": 0.79})
    nadir["PLAT"] = {
        "severe": p.u(30000, 48000) / b["PLAT"],
        "moderate": p.u(52000, 74000) / b["PLAT"],
        "mild": p.u(0.7, 0.95),
    }[platelets]
    peak: dict[str, float] = {}
    liver = p.weighted({"severe": 0.05, "moderate": 0.15, "mild": 0.8})
    if p.profile == "withdrawn" and p.variant == "ae":
        liver = "severe"  # the reason for withdrawal, recorded as an adverse event
    for analyte in ("ALT", "AST"):
        normal = b[analyte] <= uln[analyte]
        reference = uln[analyte] if normal else b[analyte]
        target = {
            "severe": reference * p.u(5.5, 8.0),
            "moderate": reference * p.u(3.2, 4.6),
            "mild": b[analyte] * p.u(1.0, 2.0),
        }[liver]
        peak[analyte] = max(1.0, target / b[analyte])
    peak |= {"BILI": p.u(1.0, 1.4), "ALP": p.u(1.0, 1.3), "GGT": p.u(1.0, 1.5)}
    p.nadir, p.peak = nadir, peak
    p.others = p.u(300, 800)
    p.response = p.weighted({"PR": 0.3, "SD": 0.7})
    if p.profile == "withdrawn" and p.variant == "progression":
        p.response = "PD"
    if "forgotten_ae" in p.features:
        p.forgotten.add("LYMDEC")
