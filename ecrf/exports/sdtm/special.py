"""DM: one record per subject, and the subject's reference start date (RFSTDTC) that every
other domain's study days count from.

RFSTDTC is D0, the protocol's reference day: the 68Ga intra-arterial (IAH) injection, the
first procedure of the study for every patient. RFXSTDTC/RFXENDTC are the 177Lu-dotatate
IAH cycle (therapy sub-group only), the study treatment proper.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecrf.exports.sdtm.context import Context, FormData, dtc, full_date

FORMS = ("IC", "DM", "PETIAH", "LUADM", "EOS", "DD")

#: Arms: code → description (ARMCD ≤ 20 characters).
ARMS = {
    "IAHLU": "68GA PET IV AND IAH, 177LU-DOTATATE IAH",
    "IAHPET": "68GA PET IV AND IAH",
    "SCRNFAIL": "SCREEN FAILURE",
    "NOTASSGN": "NOT ASSIGNED",
    "NOTTRT": "NOT TREATED",
}
COUNTRY = "FRA"


def map_dm(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    by_form = {form.form_oid: form for form in forms}

    def row(form: str, group: str):
        found = by_form.get(form)
        return found.row(group) if found else None

    consent, demog = row("IC", "IC"), row("DM", "DM")
    pet, therapy = row("PETIAH", "PET"), row("LUADM", "ADM")
    end, death = row("EOS", "EOS"), row("DD", "DD")
    usubjid = ctx.usubjid(subject)

    rfstdtc = dtc(ctx.value(pet, "PETDAT"), ctx.value(pet, "INJTIM"))
    reference = full_date(rfstdtc)
    if reference is not None:
        ctx.reference_dates[usubjid] = reference
    treated = ctx.value(therapy, "EXSTDAT")
    rfxstdtc = dtc(treated, ctx.value(therapy, "EXSTTIM"))
    rfxendtc = dtc(treated, ctx.value(therapy, "EXENTIM"))

    if ctx.value(end, "EOSSTAT") == "SCREENFAIL":
        armcd = actarmcd = "SCRNFAIL"
    else:
        armcd = {"Y": "IAHLU", "N": "IAHPET"}.get(ctx.value(consent, "THERAPY"), "NOTASSGN")
        actarmcd = "IAHLU" if treated else ("IAHPET" if rfstdtc else "NOTTRT")
    died = ctx.value(death, "DTHDAT")
    site = subject.split("-", 1)[0]
    yield {
        **ctx.keys("DM", subject),
        "SUBJID": subject,
        "RFSTDTC": rfstdtc,
        "RFENDTC": ctx.value(end, "EOSDAT"),
        "RFXSTDTC": rfxstdtc,
        "RFXENDTC": rfxendtc,
        "RFICDTC": ctx.value(consent, "ICDAT"),
        "DTHDTC": died,
        "DTHFL": "Y" if died else "",
        "SITEID": site,
        "BRTHDTC": ctx.value(demog, "BRTHYM"),
        "AGE": ctx.value(demog, "AGE") or None,
        "AGEU": "YEARS" if ctx.value(demog, "AGE") else "",
        "SEX": ctx.value(demog, "SEX"),
        "ARMCD": armcd,
        "ARM": ARMS[armcd],
        "ACTARMCD": actarmcd,
        "ACTARM": ARMS[actarmcd],
        "COUNTRY": COUNTRY,
    }
