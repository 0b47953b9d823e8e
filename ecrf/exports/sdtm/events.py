"""Interventions and events: IE, MH, CM, EX, AE (explicit mapping where the definition's
annotations do not say it all: pre-specified history, prior analogs, 177Lu cycles)."""

from __future__ import annotations

from collections.abc import Iterator

from ecrf.exports.sdtm.context import Context, FormData, dtc

# --- IE ------------------------------------------------------------------------------------

IE_FORMS = ("IE",)


def map_ie(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    """Only the criteria not met: an inclusion answered N, an exclusion answered Y."""
    for form in forms:
        header = form.row("IE")
        day = ctx.value(header, "IEDAT")
        for criterion in ctx.study.study.eligibility:
            group = "INC" if criterion.category == "INCLUSION" else "EXC"
            answer = ctx.value(form.row(group), criterion.id)
            if not answer or answer == criterion.eligible_answer:
                continue
            yield {
                **ctx.keys("IE", subject),
                "IETESTCD": criterion.id,
                "IETEST": criterion.text[:200].rstrip(),  # SDTM: at most 200 characters
                "IECAT": criterion.category,
                "IEORRES": answer,
                "IESTRESC": answer,
                **ctx.visit(form),
                "IEDTC": day,
                "IEDY": ctx.study_day(ctx.usubjid(subject), day),
            }


# --- MH ------------------------------------------------------------------------------------

MH_FORMS = ("MH", "NETHX", "HEPAT")

#: Pre-specified conditions asked on the liver-status form (contraindications to IAH).
PRESPECIFIED = {
    "COAGDIS": "COAGULATION DISORDER",
    "PORTTHR": "PORTAL VEIN THROMBOSIS",
    "BILDIL": "INTRAHEPATIC BILIARY DILATATION",
    "ANAST": "DIGESTIVE OR BILIARY ANASTOMOSIS",
    "FISTULA": "DIGESTIVE OR BILIARY FISTULA",
    "CIRRH": "CIRRHOSIS",
}


def map_mh(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    def record(form: FormData, **values) -> dict:
        return {
            **ctx.keys("MH", subject),
            "MHPRESP": "",
            "MHOCCUR": "",
            "MHLOC": "",
            "MHSTDTC": "",
            "MHENDTC": "",
            "MHENRTPT": "",
            "MHENTPT": "",
            **values,
            **ctx.visit(form),
        }

    for form in forms:
        if form.form_oid == "MH":
            for row in form.rows("MH"):
                ongoing = ctx.value(row, "MHONGO") == "Y"
                yield record(
                    form,
                    MHTERM=ctx.value(row, "MHTERM"),
                    MHCAT="GENERAL MEDICAL HISTORY",
                    MHSTDTC=ctx.value(row, "MHSTDAT"),
                    MHENDTC=ctx.value(row, "MHENDAT"),
                    MHENRTPT="ONGOING" if ongoing else "",
                    MHENTPT="SCREENING" if ongoing else "",
                )
        elif form.form_oid == "NETHX":
            net = form.row("NET")
            if net is not None:
                yield record(
                    form,
                    MHTERM="GASTROENTEROPANCREATIC NEUROENDOCRINE TUMOUR",
                    MHCAT="PRIMARY DIAGNOSIS",
                    MHLOC=ctx.decode("PRIMSITE", ctx.value(net, "PRIMSITE")),
                    MHSTDTC=ctx.value(net, "DIAGDAT"),
                    MHENRTPT="ONGOING",
                    MHENTPT="SCREENING",
                )
        elif form.form_oid == "HEPAT":
            answers = form.row("CI")
            for item, term in PRESPECIFIED.items():
                answer = ctx.value(answers, item)
                if answer:
                    yield record(
                        form,
                        MHTERM=term,
                        MHCAT="CONTRAINDICATION TO IAH INFUSION",
                        MHPRESP="Y",
                        MHOCCUR=answer,
                    )


# --- CM ------------------------------------------------------------------------------------

CM_FORMS = ("PRTX", "CM")

#: Somatostatin analogs (coded on the CRF) by their INN, as a dictionary would code them.
SSA_NAMES = {
    "OCTLAR": "OCTREOTIDE",
    "LANREO": "LANREOTIDE",
    "OCTSC": "OCTREOTIDE",
    "OTHER": "OTHER SOMATOSTATIN ANALOG",
}


def map_cm(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    usubjid = ctx.usubjid(subject)
    for form in forms:
        if form.form_oid == "PRTX":
            for row in form.rows("SSA"):
                ongoing = ctx.value(row, "SSAONGO") == "Y"
                start, end = ctx.value(row, "SSASTDAT"), ctx.value(row, "SSAENDAT")
                yield {
                    **ctx.keys("CM", subject),
                    "CMSPID": f"SSA-{row.repeat_key}",
                    "CMTRT": SSA_NAMES.get(ctx.value(row, "SSATRT"), ""),
                    "CMCAT": "SOMATOSTATIN ANALOG",
                    "CMINDC": "NEUROENDOCRINE TUMOUR",
                    "CMDOSE": ctx.value(row, "SSADOSE") or None,
                    "CMDOSTXT": "",
                    "CMDOSU": "mg" if ctx.value(row, "SSADOSE") else "",
                    "CMDOSFRQ": "",
                    "CMROUTE": "",
                    "CMSTDTC": start,
                    "CMENDTC": end,
                    "CMSTDY": ctx.study_day(usubjid, start),
                    "CMENDY": ctx.study_day(usubjid, end),
                    "CMENRTPT": "ONGOING" if ongoing else "",
                    "CMENTPT": "SCREENING" if ongoing else "",
                }
        else:
            for row in form.rows("CM"):
                ongoing = ctx.value(row, "CMONGO") == "Y"
                start, end = ctx.value(row, "CMSTDAT"), ctx.value(row, "CMENDAT")
                route = ctx.value(row, "CMROUTE")
                yield {
                    **ctx.keys("CM", subject),
                    "CMSPID": f"CM-{row.repeat_key}",
                    "CMTRT": ctx.value(row, "CMTRT"),
                    "CMCAT": "CONCOMITANT MEDICATION",
                    "CMINDC": ctx.value(row, "CMINDC"),
                    "CMDOSE": None,
                    "CMDOSTXT": ctx.value(row, "CMDSTXT"),
                    "CMDOSU": ctx.value(row, "CMDOSU"),
                    "CMDOSFRQ": ctx.value(row, "CMDOSFRQ"),
                    "CMROUTE": "" if route == "OTHER" else route,
                    "CMSTDTC": start,
                    "CMENDTC": end,
                    "CMSTDY": ctx.study_day(usubjid, start),
                    "CMENDY": ctx.study_day(usubjid, end),
                    "CMENRTPT": "ONGOING" if ongoing else "",
                    "CMENTPT": "END OF STUDY" if ongoing else "",
                }


# --- EX ------------------------------------------------------------------------------------

EX_FORMS = ("PRTX", "LUADM")
LUTETIUM = "LUTETIUM LU 177 DOTATATE"


def map_ex(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    """The 4 standard IV cycles (recorded at screening) and the 5th, IAH, cycle."""
    usubjid = ctx.usubjid(subject)
    for form in forms:
        if form.form_oid == "PRTX":
            for row in form.rows("LUT"):
                day = ctx.value(row, "EXSTDAT")
                yield {
                    **ctx.keys("EX", subject),
                    "EXSPID": ctx.value(row, "CYCLE"),
                    "EXTRT": LUTETIUM,
                    "EXCAT": "STANDARD IV CYCLE",
                    "EXDOSE": ctx.value(row, "EXDOSE") or None,
                    "EXDOSU": "MBq",
                    "EXDOSFRM": "SOLUTION",
                    "EXROUTE": "INTRAVENOUS",
                    "EXLOC": "",
                    **ctx.visit(form),
                    "EXSTDTC": day,
                    "EXENDTC": day,
                    "EXSTDY": ctx.study_day(usubjid, day),
                    "EXENDY": ctx.study_day(usubjid, day),
                }
        else:
            row = form.row("ADM")
            day = ctx.value(row, "EXSTDAT")
            if not day:
                continue
            start = dtc(day, ctx.value(row, "EXSTTIM"))
            end = dtc(day, ctx.value(row, "EXENTIM"))
            yield {
                **ctx.keys("EX", subject),
                "EXSPID": "5",
                "EXTRT": LUTETIUM,
                "EXCAT": "STUDY TREATMENT, IAH CYCLE",
                "EXDOSE": ctx.value(row, "ADMACT") or None,
                "EXDOSU": "MBq",
                "EXDOSFRM": "SOLUTION",
                "EXROUTE": "INTRA-ARTERIAL",
                "EXLOC": ctx.decode("ARTERY", ctx.value(row, "ARTERY")),
                **ctx.visit(form),
                "EXSTDTC": start,
                "EXENDTC": end,
                "EXSTDY": ctx.study_day(usubjid, start),
                "EXENDY": ctx.study_day(usubjid, end),
            }


# --- AE ------------------------------------------------------------------------------------

AE_FORMS = ("AE",)

#: The trial's outcome codes → CDISC OUT (C66768).
OUTCOMES = {
    "RECOVERED": "RECOVERED/RESOLVED",
    "RECOVERING": "RECOVERING/RESOLVING",
    "NOTRECOVERED": "NOT RECOVERED/NOT RESOLVED",
    "SEQUELAE": "RECOVERED/RESOLVED WITH SEQUELAE",
    "FATAL": "FATAL",
    "UNKNOWN": "UNKNOWN",
}
SERIOUSNESS = ("AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE")


def coded_term(ctx: Context, code: str) -> dict[str, str]:
    """The MedDRA variables of an event coded with a CTCAE v5.0 term (code list CTCAE:
    code = the MedDRA LLT code, label = the term, heading = its system organ class). CTCAE
    terms are MedDRA terms: the term is both the lowest level and the decoded term."""
    codelist = ctx.study.codelists.get("CTCAE")
    soc = (codelist.heading(code) or "") if codelist and code else ""
    term = ctx.decode("CTCAE", code)
    return {
        "AELLT": term,
        "AELLTCD": code,
        "AEDECOD": term,
        "AEBODSYS": soc.upper(),
        "AESOC": soc.upper(),
    }


def map_ae(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    """AEREL is the causality to 177Lu-dotatate by IAH (the study treatment); the causality
    to the IAH procedure itself goes to SUPPAE (QNAM AERELPR), as SDTM keeps one AEREL."""
    usubjid = ctx.usubjid(subject)
    for form in forms:
        for row in form.rows("AE"):
            start, end = ctx.value(row, "AESTDAT"), ctx.value(row, "AEENDAT")
            serious = ctx.value(row, "AESER")
            ongoing = ctx.value(row, "AEONGO") == "Y"
            yield {
                **ctx.keys("AE", subject),
                "AESPID": ctx.value(row, "AESPID"),
                "AETERM": ctx.value(row, "AETERM"),
                **coded_term(ctx, ctx.value(row, "AELLTCD")),
                "AETOXGR": ctx.value(row, "AETOXGR"),
                "AESER": serious,
                # Seriousness criteria are asked only for a serious event: N otherwise.
                **{
                    flag: ctx.value(row, flag) or ("N" if serious == "N" else "")
                    for flag in SERIOUSNESS
                },
                "AEREL": ctx.decode("AEREL", ctx.value(row, "AEREL")),
                "AECONTRT": ctx.value(row, "AECONTRT"),
                "AEOUT": OUTCOMES.get(ctx.value(row, "AEOUT"), ""),
                "AESTDTC": start,
                "AEENDTC": end,
                "AESTDY": ctx.study_day(usubjid, start),
                "AEENDY": ctx.study_day(usubjid, end),
                "AEENRTPT": "ONGOING" if ongoing else "",
                "AEENTPT": "END OF STUDY" if ongoing else "",
                "_supp": {"AERELPR": ctx.decode("AEREL", ctx.value(row, "AERELPR"))},
            }
