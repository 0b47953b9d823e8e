"""The disease's history at screening: the neuroendocrine tumour (site, grade, Ki-67),
its liver metastases and extra-hepatic sites, the somatostatin analogues, the
progression under them, and the four 177Lu-dotatate (LUTATHERA) cycles before the
trial."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from forms.iahprrt.demo.profile import Patient
from forms.iahprrt.demo.values import UNK, partial_date


def net_history(p: Patient, consent: date, fails: set[str]) -> None:
    """The NET history (NETHX) and the treatments before the trial (PRTX)."""
    # The progression under SSA (before the 4 cycles) lies within the 12 months before
    # consent that INC02 asks for: the last cycle 6 to 14 weeks before consent.
    last_cycle = consent - timedelta(days=p.i(42, 100))
    cycles = [last_cycle]
    for _ in range(3):
        cycles.insert(0, cycles[0] - timedelta(days=p.i(49, 63)))
    progression = cycles[0] - timedelta(days=p.i(14, 70))
    ssa_start = progression - timedelta(days=p.i(180, 1200))
    diagnosis = ssa_start - timedelta(days=p.i(10, 400))
    site = "PANCREAS" if "anastomosis" in fails else None
    site = site or p.weighted(
        {
            "SMALLINT": 0.45,
            "PANCREAS": 0.33,
            "GEPUNK": 0.05,
            "DUODENUM": 0.04,
            "STOMACH": 0.03,
            "COLON": 0.03,
            "RECTUM": 0.05,
            "APPENDIX": 0.02,
        }
    )
    grade = p.weighted({"G1": 0.3, "G2": 0.62, "G3": 0.08})
    ki67 = {"G1": p.u(0.5, 2.9, 1), "G2": p.u(3, 19, 1), "G3": p.u(21, 32, 1)}[grade]
    if p.chance(0.1):
        ki67 = UNK  # not reported on an old histology report
    extra_sites: list[str] = []
    if "extrahepatic" in fails:
        extra_sites = ["BONE", "NODE"]
    elif p.chance(0.4):
        extra_sites = p.pick((["NODE"], ["NODE"], ["BONE"], ["NODE", "BONE"], ["PERITONEUM"]))
    p.extra_sites = extra_sites
    synchronous = p.chance(0.7)
    liver_mets = diagnosis + timedelta(
        days=0 if synchronous else p.i(90, max(91, (progression - diagnosis).days // 2))
    )
    burden = "GT50" if p.chance(0.25) else p.pick(("LT25", "25TO50", "25TO50"))
    if "no_progression" in fails:
        burden = p.pick(("LT25", "25TO50"))
    net = {
        "DIAGDAT": partial_date(diagnosis, p.weighted({1: 0.1, 2: 0.7, 3: 0.2})),
        "PRIMSITE": site,
        "HISTO": "Y",
        "DIFF": "WELL",
        "GRADE": grade,
        "KI67": ki67,
        "SYNDROME": "Y" if site == "SMALLINT" and p.chance(0.5) else "N",
    }
    resected = p.chance(0.7 if site == "SMALLINT" else 0.3) or "anastomosis" in fails
    met = {
        "LIVMETDAT": partial_date(liver_mets, p.weighted({1: 0.15, 2: 0.6, 3: 0.25})),
        "HEPBURD": burden,
        "EXTRAHEP": "Y" if extra_sites else "N",
        "EXHSITES": extra_sites or None,
        "PRIMRES": "Y" if resected else "N",
        "LIVERTX": p.pick((None, None, None, ["TACE"], ["RESECT"], ["ABLATION"])),
        "SYSTX": (
            p.pick((None, ["EVEROLIMUS"], ["CHEMO"], ["SUNITINIB"]))
            if site == "PANCREAS"
            else p.pick((None, None, None, ["EVEROLIMUS"]))
        ),
    }
    p.form("SCR", "NETHX", {("NET", 1): net, ("MET", 1): met})
    if net["SYNDROME"] == "Y":
        p.medications.append(
            ("Loperamide", "Carcinoid syndrome diarrhoea", "2", "mg", "as needed", "ORAL", None)
        )

    # Somatostatin analogs and the 4 LUTATHERA cycles
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    if p.chance(0.35):
        switch = ssa_start + timedelta(days=p.i(120, max(121, (progression - ssa_start).days)))
        rows[("SSA", 1)] = {
            "SSATRT": "OCTLAR",
            "SSADOSE": Decimal(30),
            "SSASTDAT": partial_date(ssa_start, 2),
            "SSAONGO": "N",
            "SSAENDAT": partial_date(switch, 2),
        }
        ssa_start = switch
    rows[("SSA", len(rows) + 1)] = {
        "SSATRT": "LANREO",
        "SSADOSE": UNK if p.chance(0.05) else Decimal(120),
        "SSASTDAT": partial_date(ssa_start, p.pick((2, 3))),
        "SSAONGO": "Y",
    }
    progressed = "no_progression" not in fails and (burden != "GT50" or p.chance(0.8))
    rows[("PROG", 1)] = {"PROGSSA": "Y" if progressed else "N"}
    if progressed:
        rows[("PROG", 1)]["PROGDAT"] = progression
    for n, day in enumerate(cycles, start=1):
        residual = "N" if ("uptake" in p.failures and n == 3) else "Y"
        rows[("LUT", n)] = {
            "CYCLE": n,
            "EXSTDAT": day,
            "EXDOSE": p.i(7250, 7550) if p.chance(0.9) else p.i(5400, 5600),
            "SCINT24": "Y",
            "RESUPT": residual,
        }
    p.form("SCR", "PRTX", rows)
