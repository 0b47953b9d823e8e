"""How a patient leaves the study: the end-of-study form (logs completed first), the
death of the "death" profile with its serious adverse event, and the ending each
profile calls for, with the investigator's decision on the subject's status."""

from __future__ import annotations

from forms.iahprrt.demo.logs import ae_add, ae_update, flush_logs, resolve, sae_report, treat
from forms.iahprrt.demo.profile import Patient


def end_of_study(p: Patient, status: str, day_offset: int | None, last_contact: int) -> None:
    """The end-of-study form, the logs completed first: ``day_offset`` is the day of the
    end of study, the last contact's when None."""
    flush_logs(p, complete=True)
    day = p.day(day_offset if day_offset is not None else last_contact)
    p.form(
        "LOGS",
        "EOS",
        {
            ("EOS", 1): {
                "EOSDAT": day,
                "EOSSTAT": status,
                "LASTCONT": p.day(last_contact),
            }
        },
    )


def _record_death(p: Patient) -> None:
    """The fatal serious adverse event of the "death" profile, its treatment, the death
    form and the end of study."""
    start, death = p.day(p.event), p.day(p.death)
    resolve(p, death)
    key = ae_add(
        p,
        "Septic shock (acute cholangitis)",
        start,
        "5",
        procedure="POSSIBLE",
        therapy="POSSIBLE",
        serious="AESHOSP",
        treated=True,
        end=death,
        known=death,
    )
    ae_update(p, key, AESDTH="Y", AESLIFE="Y", AEOUT="FATAL")
    sae_report(
        p,
        key,
        start,
        "Fever, jaundice and hypotension; admitted to intensive care for septic shock"
        " from acute cholangitis.",
    )
    sae_report(p, key, death, "Follow-up: died of refractory septic shock.", kind="FOLLOWUP")
    antibiotic = ("Piperacillin-tazobactam", "Septic shock", "4", "g", "four times daily")
    treat(p, key, (*antibiotic, "INTRAVENOUS"), start, known=death)
    flush_logs(p)
    p.form(
        "LOGS",
        "DD",
        {
            ("DD", 1): {
                "DTHDAT": death,
                "DTHCAUSE": "Septic shock secondary to acute cholangitis",
                "AUTOPSY": "N",
                "DTHREL": "POSSIBLE",
            }
        },
    )
    end_of_study(p, "DEATH", p.death, p.death)
    p.status("withdrawn", f"Died on {death}: septic shock from acute cholangitis (AE {key}).")


def ending(p: Patient) -> None:
    """The end of a patient treated by IAH, as their profile has it: completed at M6,
    dead, withdrawn (adverse event, progression, lost) or still in follow-up."""
    plan = p.plan
    if p.profile == "therapy_completed":
        end_of_study(p, "COMPLETED", plan["M6"], plan["M6"])
        p.status("completed", "Completed the study as planned at M6.")
    elif p.profile == "death":
        _record_death(p)
    elif p.profile == "withdrawn":
        if p.variant == "ae":
            end_of_study(p, "AE", plan["W4"], plan["W4"])
            p.status("withdrawn", "Withdrawn for an adverse event (investigator's decision).")
        elif p.variant == "progression":
            end_of_study(p, "PROGRESSION", p.end, p.end)
            p.status("withdrawn", "Disease progression (RECIST 1.1) at month 3.")
        else:
            end_of_study(p, "LOST", p.end, plan["W6"])
            p.status("withdrawn", "Lost to follow-up after week 6 (three contact attempts).")
    else:
        flush_logs(p)
