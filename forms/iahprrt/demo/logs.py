"""The patient's running logs, saved at the LOGS visit whenever a contact adds to them:
adverse events (AE), their serious-event reports (SAE), concomitant medications (CM) and
protocol deviations (DV). An event or treatment ending after the last contact stays
ongoing until a later contact learns of its end (:func:`resolve`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from forms.iahprrt.ctcae_terms import LAB_TERM_CODES, term_of
from forms.iahprrt.demo.profile import Patient
from forms.iahprrt.demo.values import NA, Missing, clock
from forms.values import PartialDate

#: The CTCAE v5.0 term (MedDRA code) each event the demo reports is coded with.
CODED: dict[str, str] = {
    "Puncture site haematoma": "10019428",  # Hematoma
    "Abdominal pain": "10000081",
    "Nausea": "10028813",
    "Back pain": "10003988",
    "Vomiting": "10047700",
    "Fatigue": "10016256",
    "Diarrhoea": "10012727",  # Diarrhea
    "Alopecia": "10001760",
    # No CTCAE term for a pseudoaneurysm: its class's "Other, specify", the verbatim term
    # saying what it was.
    "Femoral pseudoaneurysm": "10047065",  # Vascular disorders - Other, specify
    "Acute cholangitis": "10061695",  # Biliary tract infection
    "Liver abscess": "10056522",  # Hepatic infection
    "Small bowel obstruction": "10041101",  # Small intestinal obstruction
    "Pneumonia": "10061229",  # Lung infection
    "Carcinoid crisis": "10014698",  # Endocrine disorders - Other, specify
    "Septic shock (acute cholangitis)": "10040047",  # Sepsis
}


def ctcae_code(term: str, lab: str | None, grade: str) -> str:
    """The code of the event's CTCAE term; the demo never reports a grade the term lacks."""
    code = LAB_TERM_CODES[lab] if lab else CODED[term]
    coded = term_of(code)
    if coded is None or int(grade) not in coded.grades:
        raise ValueError(f"demo AE {term!r}: grade {grade} is not a grade of CTCAE {code}")
    return code


def ae_add(
    p: Patient,
    term: str,
    start: date | PartialDate,
    grade: str,
    *,
    procedure: str,
    therapy: str | Missing,
    serious: str | None = None,
    lab: str | None = None,
    treated: bool = False,
    end: date | None = None,
    known: date | None = None,
) -> int:
    """Log an adverse event, coded with its CTCAE term (``lab``: the LABTERM term of a
    laboratory abnormality); an ``end`` after ``known`` (the day the site learns of the
    event) is not known yet: the event stays ongoing until a later contact. Outside the
    therapy sub-group no relationship to 177Lu is given (no 177Lu was)."""
    key = len(p.ae) + 1
    if not p.therapy:
        therapy = NA
    if end is not None and known is not None and end > known:
        p.due.append((end, "AE", key))
        end = None
    row: dict[str, Any] = {
        "AESPID": key,
        "AETERM": term,
        "AELLTCD": ctcae_code(term, lab, grade),
        "AESTDAT": start,
        "AEONGO": "N" if end else "Y",
        "AEENDAT": end,
        "AETOXGR": grade,
        "AESER": "Y" if serious else "N",
    }
    if serious:
        for criterion in ("AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE"):
            row[criterion] = "Y" if criterion == serious else "N"
    row |= {
        "AERELPR": procedure,
        "AEREL": therapy,
        "AECONTRT": "Y" if treated else "N",
        "AEOUT": "RECOVERED" if end else "NOTRECOVERED",
    }
    p.ae[key] = row
    p.dirty["AE"][key] = row
    return key


def ae_update(p: Patient, key: int, **changes: Any) -> None:
    """Change adverse event ``key``."""
    p.ae[key] |= changes
    p.dirty["AE"][key] = p.ae[key]


def sae_report(p: Patient, ae_key: int, aware: date, narrative: str, kind: str = "INITIAL") -> None:
    """Report adverse event ``ae_key`` as serious (or follow it up): the day the site
    learnt of it and when it sent the report (now and then late)."""
    aware_at = p.i(8 * 60, 18 * 60)
    late = p.chance(0.1) and kind == "INITIAL"
    sent_day = aware + timedelta(days=p.i(2, 4) if late else 0)
    if sent_day > p.horizon:  # not sent yet by the horizon: sent on time after all
        late, sent_day = False, aware
    sent_at = aware_at + p.i(30, 300) if not late else p.i(9 * 60, 17 * 60)
    if sent_at >= 24 * 60:
        sent_day, sent_at = sent_day + timedelta(days=1), sent_at - 24 * 60
    p.sae_rows += 1
    p.dirty["SAE"][p.sae_rows] = {
        "SAESPID": ae_key,
        "SAETYPE": kind,
        "AWARDAT": aware,
        "AWARTIM": clock(aware_at),
        "REPDAT": sent_day,
        "REPTIM": clock(sent_at),
        "SAENARR": narrative,
    }


def cm_add(p: Patient, row: dict[str, Any]) -> int:
    """Log a concomitant medication; its row key."""
    p.cm_rows += 1
    p.cm[p.cm_rows] = row
    p.dirty["CM"][p.cm_rows] = row
    return p.cm_rows


def treat(
    p: Patient, ae_key: int, medication: tuple[Any, ...], start: date, *, known: date
) -> None:
    """A medication given for an adverse event, stopped when the event ends."""
    trt, indication, dose, unit, frequency, route = medication
    end = p.ae[ae_key]["AEENDAT"]
    due = next((day for day, form, key in p.due if (form, key) == ("AE", ae_key)), None)
    key = cm_add(
        p,
        {
            "CMTRT": trt,
            "CMINDC": indication,
            "CMDSTXT": dose,
            "CMDOSU": unit,
            "CMDOSFRQ": frequency,
            "CMROUTE": route,
            "CMSTDAT": start,
            "CMPRIOR": "N",
            "CMONGO": "N" if end else "Y",
            "CMENDAT": end,
        },
    )
    if due is not None:
        p.due.append((due, "CM", key))


def dv_add(
    p: Patient, day: date, visit: str, category: str, text: str, severity: str, action: str
) -> None:
    """Log a protocol deviation."""
    p.dv_rows += 1
    p.dirty["DV"][p.dv_rows] = {
        "DVSTDAT": day,
        "DVVISIT": visit,
        "DVCAT": category,
        "DVTERM": text,
        "DVSEV": severity,
        "DVACT": action,
    }


def flush(p: Patient, form: str, *, complete: bool = False) -> None:
    """Save the rows of log ``form`` changed since its last save (``complete``: mark it
    complete, changed or not, once saved at all)."""
    rows = p.dirty[form]
    if not rows and not (complete and form in p.logs_saved):
        return
    group = form
    p.form(
        "LOGS",
        form,
        {(group, key): dict(row) for key, row in sorted(rows.items())},
        complete=complete,
    )
    p.logs_saved.add(form)
    p.dirty[form] = {}


def flush_logs(p: Patient, *, complete: bool = False) -> None:
    """Save every log changed since its last save."""
    for form in ("AE", "SAE", "CM", "DV"):
        flush(p, form, complete=complete)


def resolve(p: Patient, until: date) -> None:
    """Adverse events and treatments that ended by ``until``, now known to have."""
    for day, form, key in sorted(p.due):
        if day > until:
            continue
        p.due.remove((day, form, key))
        if form == "CM":
            p.cm[key] |= {"CMONGO": "N", "CMENDAT": day}
            p.dirty["CM"][key] = p.cm[key]
            continue
        ae_update(p, key, AEONGO="N", AEENDAT=day, AEOUT="RECOVERED")
        if p.ae[key]["AESER"] == "Y":
            sae_report(p, key, day, "Follow-up: resolved.", kind="FOLLOWUP")
