"""An IAH-PRRT screening patient who meets every eligibility criterion, as the screening
forms' entries, for the service, web and browser tests that run the real trial.

``screening(consent, changes)`` gives each screening form's entries as the write path takes
them ({(group OID, repeat key): {item OID: text}}), dated from the consent date; ``changes``
alter the patient: ``{"LVEF": {"LVEF": "39"}}`` sets an item of a non-repeating group
(None leaves it empty), ``{"PRTX": {"LUT": [row, ...]}}`` replaces a repeating group's rows.
``save_screening`` saves them all, complete, through ``save_form``; ``field_names`` turns
one form's entries into the names of the page's fields (GROUP-KEY-ITEM).

The patient: a man of 68 (born in the month before the consent month), 70 kg, creatinine
1.00 mg/dL (Cockcroft-Gault 70.0 mL/min), a well-differentiated small-intestine NET with
liver metastases, 4 LUTATHERA cycles each with residual uptake, two liver target lesions.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ecrf.auth.models import User
from ecrf.crf import services
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Subject
from forms.iahprrt.eligibility import CRITERIA
from forms.iahprrt.study import SCREENING

AGE = 68

#: The screening forms in the order a site enters them (the visit's order).
FORMS = SCREENING

Entries = dict[tuple[str, int], dict[str, Any]]
Changes = dict[str, dict[str, Any]]


def birth_month(consent: date, age: int) -> str:
    """Month and year of birth (YYYY-MM) of someone exactly ``age`` at ``consent``, born in
    the month before the consent month (so the age is decided, not the birth month's)."""
    if consent.month > 1:
        return f"{consent.year - age:04d}-{consent.month - 1:02d}"
    return f"{consent.year - age - 1:04d}-12"


def lut_cycle(n: int, day: date, uptake: str = "Y") -> dict[str, str]:
    return {
        "CYCLE": str(n),
        "EXSTDAT": day.isoformat(),
        "EXDOSE": "7400",
        "SCINT24": "Y",
        "RESUPT": uptake,
    }


def lut_cycles(consent: date, uptake: tuple[str, ...] = ("Y", "Y", "Y", "Y")) -> list[dict]:
    """The 4 standard cycles, 8 weeks apart, the last 4 months before consent."""
    last = consent - timedelta(days=120)
    return [
        lut_cycle(n, last - timedelta(days=56 * (len(uptake) - n)), resupt)
        for n, resupt in enumerate(uptake, start=1)
    ]


def checklist_answers(**answers: str | None) -> dict[str, str | None]:
    """Every criterion answered for inclusion (Y for inclusion, N for exclusion criteria),
    except those given."""
    result: dict[str, str | None] = {c.id: c.eligible_answer for c in CRITERIA}
    unknown = set(answers) - set(result)
    assert not unknown, unknown
    result.update(answers)
    return result


def screening(consent: date, changes: Changes | None = None) -> dict[str, Entries]:
    """Each screening form's entries for the eligible patient, with ``changes`` applied."""
    d0 = consent + timedelta(days=28)
    seen = (consent + timedelta(days=2)).isoformat()
    imaging = (consent - timedelta(days=5)).isoformat()  # within 28 days of the PET-IV
    single: dict[str, dict[str, dict[str, Any]]] = {
        "IC": {
            "IC": {
                "ICDAT": consent.isoformat(),
                "ICVERS": "3.0 of 2024-10-01",
                "D0PLAN": d0.isoformat(),
                "THERAPY": "Y",
                "DOSIM": "N",
            }
        },
        "DM": {"DM": {"BRTHYM": birth_month(consent, AGE), "SEX": "M"}},
        "MH": {"MHYN": {"MHYN": "N"}},
        "NETHX": {
            "NET": {
                "DIAGDAT": f"{consent.year - 6}-03",
                "PRIMSITE": "SMALLINT",
                "HISTO": "Y",
                "DIFF": "WELL",
                "GRADE": "G2",
                "KI67": "8.0",
            },
            "MET": {
                "LIVMETDAT": f"{consent.year - 6}-03",
                "HEPBURD": "25TO50",
                "EXTRAHEP": "N",
            },
        },
        "PRTX": {
            "PROG": {
                "PROGSSA": "Y",
                "PROGDAT": (consent - timedelta(days=60)).isoformat(),
            }
        },
        "ECOG": {"ECOG": {"ECOGDAT": seen, "ECOG": "1"}},
        "VS": {
            "VS": {
                "VSDAT": seen,
                "WEIGHT": "70.0",
                "HEIGHT": "175",
                "SYSBP": "130",
                "DIABP": "80",
                "PULSE": "72",
            }
        },
        "LBHEM": {
            "LBHEM": {
                "LBDAT": seen,
                "HGB": "12.5",
                "HGBLLN": "12.0",
                "WBC": "5600",
                "WBCLLN": "4000",
                "NEUT": "3200",
                "NEUTLLN": "1800",
                "LYM": "1500",
                "LYMLLN": "1000",
                "PLAT": "180000",
                "PLATLLN": "150000",
            }
        },
        "LBCHEM": {
            "LBCHEM": {
                "LBDAT": seen,
                "CREAT": "1.00",
                "CREAT.unit": "mg/dL",
                "CREATULN": "1.20",
                "ALT": "30",
                "ALTULN": "40",
                "AST": "28",
                "ASTULN": "40",
                "BILI": "9.0",
                "BILIULN": "21.0",
                "ALP": "95",
                "ALPULN": "130",
                "GGT": "40",
                "GGTULN": "55",
                "ALB": "4.0",
                "ALBLLN": "3.5",
            }
        },
        "COAG": {
            "COAG": {"LBDAT": seen, "PT": "12.5", "PTULN": "14.0", "INR": "1.05"},
        },
        "HEPAT": {
            "CI": {
                "COAGDIS": "N",
                "PORTTHR": "N",
                "BILDIL": "N",
                "ANAST": "N",
                "FISTULA": "N",
                "CIRRH": "N",
            },
            "CP": {"ASCITES": "NONE", "HEPENC": "NONE"},
        },
        "LVEF": {"LVEF": {"LVEFDAT": seen, "LVEFMETH": "ECHO", "LVEF": "62"}},
        "TUBL": {"IMG": {"CTDAT": imaging, "MRIDAT": imaging, "LESYN": "Y"}},
        "IE": {"IE": {"IEDAT": (consent + timedelta(days=5)).isoformat()}},
    }
    answers = checklist_answers()
    repeating: dict[str, dict[str, list[dict[str, Any]]]] = {
        "PRTX": {
            "SSA": [
                {"SSATRT": "LANREO", "SSASTDAT": f"{consent.year - 5}-01", "SSAONGO": "Y"},
            ],
            "LUT": lut_cycles(consent),
        },
        "TUBL": {
            "TL": [
                {"LESID": "L1", "ORGAN": "LIVER", "LIVSEG": "S6", "METHOD": "CT", "DIAM": "35"},
                {"LESID": "L2", "ORGAN": "LIVER", "LIVSEG": "S7", "METHOD": "CT", "DIAM": "22"},
            ],
        },
    }
    for form_oid, items in (changes or {}).items():
        assert form_oid in FORMS, form_oid
        for name, value in items.items():
            if isinstance(value, list):
                repeating.setdefault(form_oid, {})[name] = value
            elif form_oid == "IE" and name in answers:
                answers[name] = value
            else:
                group = _group_of(form_oid, name)
                single.setdefault(form_oid, {}).setdefault(group, {})[name] = value
    single["IE"]["INC"] = {k: v for k, v in answers.items() if k.startswith("INC")}
    single["IE"]["EXC"] = {k: v for k, v in answers.items() if k.startswith("EXC")}

    result: dict[str, Entries] = {}
    for form_oid in FORMS:
        entries: Entries = {}
        for group, values in single.get(form_oid, {}).items():
            entries[(group, 1)] = {k: ("" if v is None else v) for k, v in values.items()}
        for group, rows in repeating.get(form_oid, {}).items():
            for key, row in enumerate(rows, start=1):
                entries[(group, key)] = dict(row)
        result[form_oid] = entries
    return result


def _group_of(form_oid: str, item_oid: str) -> str:
    from forms.iahprrt import STUDY

    form = next(f for f in STUDY.forms if f.oid == form_oid)
    item_oid = item_oid.removesuffix(".unit")  # the unit chosen beside a value
    for group in form.groups:
        if not group.repeating and any(i.oid == item_oid for i in group.items):
            return group.oid
    raise KeyError(f"{form_oid}.{item_oid} is not an item of a non-repeating group")


def save_screening(
    study: LoadedStudy,
    subject: Subject,
    actor: User | None,
    consent: date,
    changes: Changes | None = None,
    *,
    forms: tuple[str, ...] = FORMS,
) -> dict[str, services.SaveResult]:
    """Save the screening forms (complete) through the one write path, committing each."""
    results = {}
    for form_oid, entries in screening(consent, changes).items():
        if form_oid not in forms:
            continue
        try:
            results[form_oid] = services.save_form(
                study,
                subject,
                "SCR",
                form_oid,
                entries,
                actor=actor,
                expected_version=0,
                complete=True,
            )
        except services.ValidationFailed as exc:
            db.session.rollback()
            raise AssertionError(f"SCR.{form_oid} refused: {exc.issues} {exc.form_errors}") from exc
        db.session.commit()
    return results


def field_names(entries: Entries) -> dict[str, Any]:
    """One form's entries as the page's field names (GROUP-KEY-ITEM) and values."""
    return {
        # the unit of a value ("CREAT.unit") is the list beside its input ("...-CREAT-unit")
        f"{group}-{key}-{item.replace('.unit', '-unit')}": value
        for (group, key), values in entries.items()
        for item, value in values.items()
    }
