"""Response assessment at M3 and M6: RECIST 1.1 on the target and non-target lesions of
screening (the radiologist now and then reading it otherwise) and the follow-up 68Ga
PET."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from forms.iahprrt import recist
from forms.iahprrt.demo.imaging import pet_scan
from forms.iahprrt.demo.profile import Patient


def response_assessment(p: Patient, oid: str, day: date) -> None:
    """RECIST 1.1 at M3 / M6 and the follow-up 68Ga PET."""
    response = p.response
    if oid == "M6" and response != "PD" and p.chance(0.1):
        response = "PD"
    factor = {"PR": p.u(0.55, 0.68), "SD": p.u(0.86, 1.08), "PD": p.u(1.22, 1.4)}[response]
    if oid == "M6":
        factor *= p.last_factor if response != "PD" else 1.0
    p.last_factor = factor
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    follow = []
    for key, target in enumerate(p.targets, start=1):
        diam = max(0, round(target["DIAM"] * factor * p.u(0.95, 1.05)))
        follow.append({"LESID": target["LESID"], "DIAM": diam})
        rows[("TL", key)] = {"LESID": target["LESID"], "DIAM": diam}
    ntl = []
    for key, lesion in enumerate(p.non_targets, start=1):
        status = "PD" if (response == "PD" and p.chance(0.3)) else "PRESENT"
        ntl.append({"NTLID": lesion["NTLID"], "NTLSTAT": status})
        rows[("NTL", key)] = {"NTLID": lesion["NTLID"], "NTLSTAT": status}
    new_lesion = "Y" if response == "PD" else ("EQ" if p.chance(0.05) else "N")
    earlier = [p.m3_sum] if oid == "M6" else []
    total = recist.follow_up_sum(p.targets, follow)
    lowest = recist.nadir(p.baseline_sum, *earlier)
    overall = recist.overall_response(
        recist.target_response(p.targets, follow, lowest),
        recist.non_target_response(p.non_targets, ntl),
        new_lesion,
    )
    if oid == "M3":
        p.m3_sum = total
    reader = overall
    if overall in ("PR", "SD") and p.chance(0.1):
        reader = "SD" if overall == "PR" else "PR"  # the radiologist read it otherwise
    img: dict[str, Any] = {
        "TRDAT": day - timedelta(days=p.i(0, 5)),
        "METHOD": "CT" if any(t["ORGAN"] == "NODE" for t in p.targets) else "MRI",
        "NEWLES": new_lesion,
        "INVRESP": reader or "NE",
    }
    if new_lesion != "N":
        img["NEWLOC"] = p.pick(
            ("Liver, segment VI, 8 mm", "Bone, T10 vertebral body", "Peritoneum, 12 mm")
        )
    rows[("IMG", 1)] = img
    p.form(oid, f"TR{oid}", rows)
    pet_day = day - timedelta(days=p.i(0, 6))
    follow_up = {"NEWPET": "Y" if new_lesion == "Y" else "N"}
    if new_lesion == "Y":
        follow_up["comment"] = "New somatostatin-receptor-positive lesion."
    p.form(
        oid,
        "PETFU",
        pet_scan(p, pet_day, weight=p.weight, scale=min(1.1, factor), follow_up=follow_up),
    )
