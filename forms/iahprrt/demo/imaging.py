"""Baseline imaging and the PET pair: the tumour assessment of screening (RECIST 1.1
targets on CT and MRI), the index lesions, the 68Ga PET/CT after intravenous injection
(PET-IV) and after intra-arterial hepatic injection at the angiography of D0 (PET-IAH),
and the gains in uptake from one to the other. :func:`pet_scan` also writes the
follow-up PET of the response assessment."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from forms.iahprrt import recist
from forms.iahprrt.demo.logs import ae_add
from forms.iahprrt.demo.pregnancy import pregnancy_before_pet
from forms.iahprrt.demo.profile import Patient
from forms.iahprrt.demo.values import NA, clock, q

_LEFT_LOBE = frozenset({"S2", "S3", "S4"})

#: How each demo site reconstructs and reads its PETs: reconstruction, its parameters,
#: SUV normalisation, and the nuclear medicine physicians who read them.
_PET_SITES = {
    "BDX": ("EARL2", "4i5s, Gaussian 4 mm", "BW", ("Dr A. Martin", "Dr C. Dubois")),
    "TLS": ("BSREM", "beta 600", "BW", ("Dr L. Garcia", "Dr P. Roux")),
    "NTE": ("OSEMTOF", "3i9s, Gaussian 4 mm", "LBM", ("Dr M. Leroy",)),
}


def _territory(artery: str, segment: str) -> bool:
    """Whether the artery injected feeds the liver segment (lobar arteries their lobe)."""
    if artery == "RHA":
        return segment not in _LEFT_LOBE
    if artery == "LHA":
        return segment in _LEFT_LOBE
    return True


_SEGMENT_WEIGHTS = {
    "S2": 0.1,
    "S3": 0.1,
    "S4": 0.14,
    "S5": 0.14,
    "S6": 0.16,
    "S7": 0.18,
    "S8": 0.18,
}


def baseline_tumours(p: Patient, fails: set[str]) -> None:
    """The tumour assessment of screening (TUBL): RECIST 1.1 target and non-target
    lesions, none for a complete response."""
    plan = p.plan
    img = {
        "CTDAT": p.day(plan["ct"]),
        "MRIDAT": p.day(plan["mri"]),
        "LESYN": "N" if "complete_response" in fails else "Y",
    }
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    targets: list[dict[str, Any]] = []
    non_targets: list[dict[str, Any]] = []
    segments = [p.weighted(_SEGMENT_WEIGHTS) for _ in range(5)]
    p.segments = segments
    if "complete_response" not in fails:
        img["HEPBURD"] = p.pick(("LT25", "LT25", "25TO50"))
        for n in (1, 2):
            targets.append(
                {
                    "LESID": f"L{n}",
                    "ORGAN": "LIVER",
                    "LIVSEG": segments[n - 1],
                    "METHOD": "MRI",
                    "DIAM": p.i(22, 68) if n == 1 else p.i(14, 40),
                }
            )
        if "NODE" in p.extra_sites and p.chance(0.6):
            targets.append({"LESID": "N1", "ORGAN": "NODE", "METHOD": "CT", "DIAM": p.i(16, 30)})
        if p.chance(0.6):
            non_targets.append(
                {
                    "NTLID": "L6",
                    "NTLORGAN": "LIVER",
                    "NTLDESC": "Multiple small liver metastases (< 10 mm)",
                }
            )
        if "BONE" in p.extra_sites:
            non_targets.append(
                {
                    "NTLID": "B1",
                    "NTLORGAN": "BONE",
                    "NTLDESC": "Sclerotic bone metastases, no soft-tissue component",
                }
            )
        if "PERITONEUM" in p.extra_sites:
            non_targets.append(
                {"NTLID": "P1", "NTLORGAN": "PERITONEUM", "NTLDESC": "Mesenteric mass"}
            )
    p.targets = targets
    p.non_targets = non_targets
    rows[("IMG", 1)] = img
    for key, row in enumerate(targets, start=1):
        rows[("TL", key)] = row
    for key, row in enumerate(non_targets, start=1):
        rows[("NTL", key)] = row
    p.form("SCR", "TUBL", rows)
    p.baseline_sum = recist.baseline_sum(targets)


def lesions(p: Patient) -> None:
    """The 5 liver index lesions and the extra-hepatic ones, with their PET-IV uptake."""
    p.index = []
    for n, segment in enumerate(p.segments, start=1):
        suvmax = p.u(9, 55)
        p.index.append(
            {
                "id": f"L{n}",
                "segment": segment,
                "suvmax": suvmax,
                "mean": p.u(0.52, 0.66),
                "peak": p.u(0.74, 0.92),
                "volume": p.u(1.5, 90) if n > 2 else p.u(12, 160),
            }
        )
    p.extra = []
    for site, prefix in (("NODE", "N"), ("BONE", "B"), ("PERITONEUM", "P")):
        if site in p.extra_sites:
            p.extra.append(
                {
                    "id": f"{prefix}1",
                    "site": site,
                    "suvmax": p.u(8, 35),
                    "mean": p.u(0.5, 0.65),
                    "peak": p.u(0.72, 0.9),
                    "volume": p.u(1, 25),
                }
            )
    p.organs = {
        "KID": (p.u(12, 24), p.u(0.6, 0.7)),
        "SPL": (p.u(18, 34), p.u(0.7, 0.8)),
        "LIV": (p.u(6.5, 11), p.u(0.62, 0.72)),
        "BM": (p.u(1.6, 3.2), p.u(0.55, 0.7)),
    }
    p.tracer = p.pick(("DOTATOC", "DOTATATE", "DOTATOC"))
    # The operator injects the artery feeding the tumour-bearing liver: a lobar artery
    # only when (nearly) all index lesions lie in that lobe.
    left = sum(segment in _LEFT_LOBE for segment in p.segments)
    arteries = {"PHA": 0.6, "CHA": 0.15, "SPLIT": 0.1}
    if left <= 1:
        arteries["RHA"] = 0.5
    if left >= 4:
        arteries["LHA"] = 0.5
    p.artery = p.weighted(arteries)
    recon, parameters, norm, readers = _PET_SITES.get(p.site, _PET_SITES["BDX"])
    # One reader reads both PETs of a patient; the uptake delay is kept within minutes.
    p.pet_setup = {
        "RECON": recon,
        "RECONPAR": parameters,
        "SUVNORM": norm,
        "READER": p.pick(readers),
    }
    p.uptake = p.i(55, 70)


def pet_scan(
    p: Patient,
    day: date,
    *,
    weight: Decimal,
    gains: dict[str, float] | None = None,
    organ_gains: dict[str, float] | None = None,
    scale: float = 1.0,
    iah: bool = False,
    follow_up: dict[str, Any] | None = None,
) -> dict[tuple[str, int], dict[str, Any]]:
    """One 68Ga PET/CT: acquisition, organs and lesions; ``gains`` multiply the PET-IV
    uptake per lesion (after IAH injection); ``scale`` the lesions at follow-up."""
    injection = p.i(9 * 60, 15 * 60)
    syringe_at = injection - p.i(5, 20)
    activity = p.u(2.0, 2.6) * float(weight) * 2 ** ((injection - syringe_at) / 67.71)
    residual = p.u(1.0, 8.0, 1)
    pet: dict[str, Any] = {
        "PETDAT": day,
        "TRACER": p.tracer,
        "WEIGHT": weight,
        "ACTSYR": q(min(activity, 290), 1),
        "ACTSYRTM": clock(syringe_at),
        "ACTRES": residual,
        "ACTRESTM": clock(injection + p.i(3, 15)),
        "INJTIM": clock(injection),
    }
    if iah:
        pet |= {"ARTERY": p.artery, "INJDUR": p.i(1, 5)}
        uptake = p.uptake + p.i(-8, 8)
    else:
        uptake = p.uptake if follow_up is None else p.i(52, 75)
    if follow_up is None and not iah:
        p.segmeth = "ISO41" if p.chance(0.85) else "ISO50"
        p.livref = p.pick(("S5", "S6", "S7", "S8"))
    pet |= {
        "ACQTIM": clock(injection + uptake),
        "SCANNER": p.lab["SCANNER"],
        **p.pet_setup,
        "SEGMETH": p.segmeth,
        "LIVREF": p.livref,
    }
    if iah:
        pet["LIVPERF"] = "Y" if _territory(p.artery, p.livref) else "N"
    if follow_up is not None:
        pet["NEWPET"] = follow_up["NEWPET"]
        if follow_up.get("comment"):
            pet["PETCOM"] = follow_up["comment"]
    elif p.chance(0.1):
        pet["PETCOM"] = "Slight patient motion; lesions re-registered on the CT."
    organs: dict[str, Any] = {}
    for prefix, (suvmax, ratio) in p.organs.items():
        g = (organ_gains or {}).get(prefix, 1.0) * p.u(0.95, 1.05)
        organs[f"{prefix}SUVMAX"] = q(suvmax * g, 2)
        organs[f"{prefix}SUVMEAN"] = q(suvmax * g * ratio, 2)
    rows: dict[tuple[str, int], dict[str, Any]] = {("PET", 1): pet, ("ORG", 1): organs}
    for key, lesion in enumerate(p.index, start=1):
        g = (gains or {}).get(lesion["id"], 1.0) * scale * p.u(0.96, 1.04)
        suvmax = lesion["suvmax"] * g
        rows[("IDX", key)] = {
            "LESID": lesion["id"],
            "SEGMENT": lesion["segment"],
            "SUVMAX": q(suvmax, 2),
            "SUVMEAN": q(suvmax * lesion["mean"] * p.u(0.97, 1.0), 2),
            "SUVPEAK": q(suvmax * lesion["peak"] * p.u(0.97, 1.0), 2),
            "VOLUME": q(lesion["volume"] * p.u(0.95, 1.05) * (scale if scale < 1 else 1), 1),
        }
        if iah:
            rows[("IDX", key)]["PERF"] = "Y" if _territory(p.artery, lesion["segment"]) else "N"
    for key, lesion in enumerate(p.extra, start=1):
        g = (gains or {}).get(lesion["id"], 1.0) * scale * p.u(0.96, 1.04)
        suvmax = lesion["suvmax"] * g
        rows[("EXH", key)] = {
            "XLESID": lesion["id"],
            "XSITE": lesion["site"],
            "XSUVMAX": q(suvmax, 2),
            "XSUVMEAN": q(suvmax * lesion["mean"] * p.u(0.97, 1.0), 2),
            "XSUVPEAK": q(suvmax * lesion["peak"] * p.u(0.97, 1.0), 2),
            "XVOLUME": q(lesion["volume"] * p.u(0.95, 1.05), 1),
        }
        if iah:  # outside the liver: not in the hepatic arterial territory
            rows[("EXH", key)]["XPERF"] = "N"
    return rows


def pet_iv(p: Patient) -> None:
    """The PET-IV visit: 68Ga PET/CT after intravenous injection."""
    day = p.visit("PETIV", p.plan["PETIV"])
    pregnancy_before_pet(p, "PETIV", day, 3)
    p.pet_weight = q(float(p.weight) + p.u(-1.5, 1.0), 1)
    p.form("PETIV", "PETIV", pet_scan(p, day, weight=p.pet_weight))


def _iah_gains(p: Patient) -> dict[str, float]:
    """IAH/IV uptake per lesion: most liver lesions gain 1.5–3×; those outside the
    injected artery's territory, and a few poorly vascularised ones, lose uptake."""
    gains: dict[str, float] = {}
    for lesion in p.index:
        in_territory = _territory(p.artery, lesion["segment"])
        if not in_territory or p.chance(0.06):
            gains[lesion["id"]] = p.u(0.65, 0.97)
        else:
            gains[lesion["id"]] = min(3.6, max(1.15, math.exp(p.rng.gauss(0.72, 0.22))))
    for lesion in p.extra:
        gains[lesion["id"]] = p.u(0.7, 1.0)
    return gains


def pet_iah(p: Patient) -> None:
    """The IAH procedure (D0): the angiography, then the 68Ga PET/CT after injection
    into the hepatic artery."""
    plan = p.plan
    day = p.visit("PETIAH", plan["D0"])
    pregnancy_before_pet(p, "PETIAH", day, 1)
    complication = p.chance(0.05)
    anatomy = "VARIANT" if p.chance(0.2) else "STANDARD"
    angio: dict[str, Any] = {
        "PRDAT": day,
        "ACCESS": "FEMORAL" if p.chance(0.85) else "RADIAL",
        "ANATOMY": anatomy,
        "CATHPOS": p.artery,
        "EMBOL": "Y" if p.chance(0.15) else "N",
        "EXTRAFLOW": "N",
        "CONTRAST": p.i(40, 140),
        "FLUORO": p.u(4, 28, 1),
        "DAP": p.u(15, 220, 1),
        "COMPL": "Y" if complication else "N",
    }
    p.access = angio["ACCESS"]
    if anatomy == "VARIANT":
        angio["VARIANT"] = p.pick(
            (
                "Replaced right hepatic artery from the superior mesenteric artery",
                "Left hepatic artery from the left gastric artery",
                "Trifurcation of the coeliac trunk",
            )
        )
    if complication:
        angio["COMPLDESC"] = "Groin haematoma at the puncture site, manual compression"
    p.form("PETIAH", "ANGIO", {("ANGIO", 1): angio})
    p.gains = _iah_gains(p)
    organ_gains = {
        "KID": p.u(0.72, 0.95),
        "SPL": p.u(0.7, 0.93),
        "LIV": p.u(1.05, 1.35),
        "BM": p.u(0.8, 1.0),
    }
    weight = q(float(p.pet_weight) + p.u(-0.8, 0.8), 1)
    p.form(
        "PETIAH",
        "PETIAH",
        pet_scan(p, day, weight=weight, gains=p.gains, organ_gains=organ_gains, iah=True),
    )
    if complication:
        ae_add(
            p,
            "Puncture site haematoma",
            day,
            "1",
            procedure="RELATED",
            therapy="NOT" if p.therapy else NA,
            end=day + timedelta(days=p.i(5, 12)),
            known=day,
        )
