"""Safety follow-up: the safety call after the IAH procedure, the therapy follow-up
visits (W2 to M6) with their vital signs, laboratory and adverse-event review, the
events learnt of between visits (serious ones reported), visits out of their window,
and the control blood counts of unscheduled visits."""

from __future__ import annotations

from datetime import date, timedelta

from forms.iahprrt.demo.logs import ae_add, dv_add, flush_logs, resolve, sae_report, treat
from forms.iahprrt.demo.measurements import labs, vitals
from forms.iahprrt.demo.profile import FOLLOW_UP, VISITS, Patient
from forms.iahprrt.demo.response import response_assessment
from forms.iahprrt.demo.values import NA, partial_date

_ANGIO_AE = (
    # term, grade, relation to the procedure, days after D0 (start, duration)
    ("Puncture site haematoma", "1", "RELATED", (0, 10)),
    ("Abdominal pain", "1", "POSSIBLE", (0, 3)),
    ("Nausea", "1", "UNLIKELY", (0, 2)),
    ("Back pain", "1", "UNLIKELY", (1, 5)),
)
_SERIOUS_AE = (
    # term, relation to the procedure, to 177Lu, duration (days), medication
    (
        "Acute cholangitis",
        "POSSIBLE",
        "POSSIBLE",
        (6, 14),
        ("Ceftriaxone", "Acute cholangitis", "2", "g", "once daily", "INTRAVENOUS"),
    ),
    (
        "Liver abscess",
        "PROBABLE",
        "POSSIBLE",
        (14, 30),
        ("Amoxicillin-clavulanic acid", "Liver abscess", "1", "g", "three times daily", "ORAL"),
    ),
    ("Small bowel obstruction", "NOT", "UNLIKELY", (4, 9), None),
    (
        "Pneumonia",
        "NOT",
        "NOT",
        (7, 12),
        ("Amoxicillin", "Pneumonia", "1", "g", "three times daily", "ORAL"),
    ),
)


def safety_call(p: Patient) -> None:
    """The safety call after the IAH procedure: the adverse events of the angiography
    learnt of then (rarely a serious one)."""
    plan = p.plan
    day = p.visit("CALL", plan["CALL"])
    d0 = p.day(plan["D0"])
    resolve(p, day)
    _deviation_if_late(p, "CALL", "D0")
    new = False
    logged = {row["AETERM"] for row in p.ae.values()}
    for term, grade, relation, (start, length) in _ANGIO_AE:
        if term not in logged and p.chance(0.1):
            begin = d0 + timedelta(days=start)
            partial = p.chance(0.3) and (begin.month == day.month)
            ae_add(
                p,
                term,
                partial_date(begin, 2) if partial else begin,
                grade,
                procedure=relation,
                therapy="NOT" if p.therapy else NA,
                end=min(day, begin + timedelta(days=p.i(1, length + 1))),
                known=day,
            )
            new = True
    if p.chance(0.03 if p.therapy else 0.05):
        begin = d0 + timedelta(days=p.i(0, 2))
        key = ae_add(
            p,
            "Femoral pseudoaneurysm",
            begin,
            "3",
            procedure="RELATED",
            therapy="NOT" if p.therapy else NA,
            serious="AESHOSP",
            treated=True,
            end=begin + timedelta(days=p.i(3, 6)),
            known=day,
        )
        sae_report(
            p,
            key,
            begin,
            "Pseudoaneurysm of the common femoral artery after the IAH procedure, treated by"
            " ultrasound-guided thrombin injection; hospitalisation prolonged by 3 days.",
        )
        new = True
    p.form(
        "CALL",
        "CALL",
        {
            ("CALL", 1): {
                "CALLDAT": day,
                "CALLMODE": "PHONE" if p.chance(0.8) else "VISIT",
                "AEYN": "Y" if new else "N",
                "CMYN": "N",
            }
        },
    )
    flush_logs(p)


def follow_up_visit(p: Patient, oid: str, previous: str) -> None:
    """Follow-up visit ``oid`` of the therapy sub-group (``previous``: the visit before):
    events since then, vital signs, laboratory, the response at M3 and M6, the AE review."""
    plan = p.plan
    before = p.day(plan[previous])
    day = p.visit(oid, plan[oid])
    _deviation_if_late(p, oid, "THER")
    new_ae = _clinical_events(p, before, day)
    vitals(p, oid, day)
    keys_before = set(p.ae)
    labs(p, oid, day)
    new_ae = new_ae or set(p.ae) != keys_before
    if oid in ("M3", "M6"):
        response_assessment(p, oid, day)
    p.form(
        oid,
        "AEREV",
        {
            ("AEREV", 1): {
                "REVDAT": day,
                "AEYN": "Y" if new_ae else "N",
                "CMYN": "Y" if p.dirty["CM"] else "N",
            }
        },
    )
    flush_logs(p)
    if oid in ("W4", "W6") and p.done(FOLLOW_UP[FOLLOW_UP.index(oid) + 1]):
        _maybe_unscheduled(p, day, p.day(plan[FOLLOW_UP[FOLLOW_UP.index(oid) + 1]]))


def _deviation_if_late(p: Patient, oid: str, reference: str) -> None:
    """The protocol deviation of a visit done outside its window."""
    if oid != p.late:
        return
    visit, plan = VISITS[oid], p.plan
    low, high = visit.window
    dv_add(
        p,
        p.day(plan[oid]),
        oid,
        "WINDOW",
        f"{visit.name} on day {plan[oid] - plan[reference]} after {visit.reference},"
        f" outside its window (days {low} to {high}).",
        "MINOR",
        "Following visits kept on their protocol dates.",
    )


def _clinical_events(p: Patient, since: date, until: date) -> bool:
    """Adverse events between two visits, learnt at the second; True if any is new."""
    resolve(p, until)
    new = False
    for pending in list(p.pending_ae):
        term, grades, procedure, therapy, first, length = pending
        if first <= until:
            p.pending_ae.remove(pending)
            ae_add(
                p,
                term,
                first,
                p.pick(grades),
                procedure=procedure,
                therapy=therapy,
                end=first + timedelta(days=p.i(1, length)),
                known=until,
            )
            new = True
    if (until - since).days > 9 and p.chance(0.03) and p.profile != "death":
        term, procedure, therapy, (low, high), treatment = p.pick(_SERIOUS_AE)
        first = since + timedelta(days=p.i(2, (until - since).days - 6))
        end = first + timedelta(days=p.i(low, high))
        key = ae_add(
            p,
            term,
            first,
            "3",
            procedure=procedure,
            therapy=therapy,
            serious="AESHOSP",
            treated=treatment is not None,
            end=end,
            known=until,
        )
        days = (first - p.day(p.plan["THER"])).days
        sae_report(
            p,
            key,
            first,
            f"{term} requiring hospitalisation {days} days after the IAH 177Lu-dotatate cycle.",
        )
        if end <= until:
            sae_report(p, key, end, f"Follow-up: {term.lower()} resolved.", kind="FOLLOWUP")
        if treatment is not None:
            treat(p, key, treatment, first, known=until)
        new = True
    return new


def _maybe_unscheduled(p: Patient, since: date, until: date) -> None:
    """A control blood count between two visits, after a low count."""
    low = p.nadir["PLAT"] < 0.5 or p.nadir["LYM"] * p.baseline["LYM"] < 500
    if not (low and p.chance(0.5)) and not p.chance(0.08):
        return
    day = since + timedelta(days=max(1, (until - since).days // 2))
    p.uns += 1
    p.unscheduled_visit("UNS", p.uns, day)
    keys = set(p.ae)
    labs(p, "UNS", day, p.uns, chemistry=False)
    p.form(
        "UNS",
        "AEREV",
        {
            ("AEREV", 1): {
                "REVDAT": day,
                "AEYN": "Y" if set(p.ae) != keys else "N",
                "CMYN": "N",
            }
        },
        repeat=p.uns,
    )
    flush_logs(p)
