"""The pregnancy test before each exposure (PET-IV, PET-IAH, the 177Lu administration) and
the contraception in use: women of childbearing potential tested a few days before, every
patient the registry asks it of on contraception (no random draw: the rest of the demo is
unchanged by it)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from forms.iahprrt.demo.profile import Patient


def pregnancy_values(p: Patient, exposure: date, days_before: int) -> dict[str, Any]:
    """The pregnancy items of the form before ``exposure``: a negative serum test
    ``days_before`` the exposure for a woman of childbearing potential."""
    values: dict[str, Any] = {"PREGPRE": "NA"}
    if p.childbearing:
        values = {
            "PREGPRE": "NEG",
            "PREGDAT": exposure - timedelta(days=days_before),
            "PREGSPEC": "SERUM",
        }
    if p.sex == "M" or p.childbearing:
        values |= {"CONTRA": "Y", "CONTRAMETH": "CONDOM" if p.sex == "M" else "HORMONAL"}
    else:
        values["CONTRA"] = "NA"
    return values


def pregnancy_before_pet(p: Patient, visit_oid: str, day: date, days_before: int) -> None:
    p.form(visit_oid, "PREG", p.single("PREG", pregnancy_values(p, day, days_before)))
