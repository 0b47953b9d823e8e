"""The cold somatostatin analogue injections (LOGS.SSAINJ): the patient's monthly
lanreotide, stopped at least 4 weeks before the PET-IV and resumed after the PET-IAH (or
the day after the 177Lu cycle, as the LUTATHERA label advises), and now and then a
short-acting octreotide injection for symptoms, more than 24 h from any PET or 177Lu.

The patient with the feature "ssa_in_washout" had a lanreotide injection 3 weeks before
the PET-IV: a finding for the site.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from forms.iahprrt.demo.profile import Patient
from forms.iahprrt.demo.values import clock

#: Days between two monthly depot injections.
_MONTHLY = 28


def _depot(day: date) -> dict[str, Any]:
    return {"SSATRT": "LANREO", "SSADOSE": Decimal(120), "SSADAT": day}


def _short(p: Patient, day: date) -> dict[str, Any]:
    return {
        "SSATRT": "OCTSC",
        "SSADOSE": Decimal("0.1"),
        "SSADAT": day,
        "SSATIM": clock(p.i(8 * 60, 20 * 60)),
    }


def injections_before_pets(p: Patient) -> None:
    """The injections of the 3 months before the PET-IV, saved with the PET-IV."""
    pet_iv = p.day(p.plan["PETIV"])
    washout = 21 if "ssa_in_washout" in p.features else p.i(28, 35)
    last = pet_iv - timedelta(days=washout)
    p.ssa = [_depot(last - timedelta(days=_MONTHLY * n)) for n in (2, 1, 0)]
    if p.chance(0.25):  # bridging for flushes after the last depot
        p.ssa.append(_short(p, pet_iv - timedelta(days=p.i(2, 6))))
    _save(p)


def injections_after_pets(p: Patient, *, therapy: bool) -> None:
    """The lanreotide resumed: after the PET-IAH outside the therapy sub-group, the day
    after the 177Lu cycle within it (with, for some, a short-acting injection between the
    PET-IAH and the cycle, more than 24 h before it)."""
    if therapy:
        t0 = p.day(p.plan["THER"])
        d0 = p.day(p.plan["D0"])
        if p.chance(0.3) and (t0 - d0).days > 4:
            p.ssa.append(_short(p, d0 + timedelta(days=p.i(2, (t0 - d0).days - 2))))
        p.ssa.append(_depot(t0 + timedelta(days=1)))
    else:
        p.ssa.append(_depot(p.day(p.plan["D0"]) + timedelta(days=p.i(1, 7))))
    _save(p)


#: Why a complete log changes: the injections given since it was last saved.
_NEW_INJECTIONS = "Injections given since the last save of the log."


def _save(p: Patient) -> None:
    """Save the injections not saved yet (the log is complete with each save)."""
    saved = getattr(p, "ssa_saved", 0)
    rows = {
        ("SSA", n): row
        for n, row in enumerate(p.ssa, start=1)
        if n > saved and row["SSADAT"] <= p.horizon
    }
    if not rows:
        return
    p.form("LOGS", "SSAINJ", rows, reason=_NEW_INJECTIONS if saved else None)
    p.ssa_saved = max(n for _, n in rows)
