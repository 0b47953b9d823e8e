"""TU, TR and RS: RECIST 1.1 lesions and responses, and the 68Ga uptake per lesion.

The uptake (SUVmax, SUVmean, SUVpeak, tumour-to-liver ratio, VOI volume) is a
measurement of an identified lesion at a visit, which is what TR holds; SDTM CT has no SUV
test code, so TRTESTCD is extended with sponsor terms (SUVMAX, SUVMEAN, SUVPEAK, TLRATIO,
VOLUME). The route of the 68Ga injection the PET followed (IV or IAH: the primary endpoint
compares them per lesion) is carried by TRGRPID ("68GA PET IV" / "68GA PET IAH") and, as a
non-standard qualifier, by SUPPTR.TRROUTE. Lesions seen only on the PET (index lesions
beyond the RECIST targets) are identified in TU as "PET INDEX LESION" so every TR record
links to a TU record. Organ uptake (kidney, spleen, healthy liver, bone marrow) is not a
lesion result and is not in this extract.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecrf.exports.sdtm.context import Context, FormData, number, plain

TU_FORMS = ("TUBL", "PETIV", "PETIAH", "PETFU")
TR_FORMS = ("TUBL", "TRM3", "TRM6", "PETIV", "PETIAH", "PETFU")
RS_FORMS = ("TRM3", "TRM6")

#: PET forms → (TRGRPID, route of the 68Ga injection).
PET = {
    "PETIV": ("68GA PET IV", "INTRAVENOUS"),
    "PETIAH": ("68GA PET IAH", "INTRA-ARTERIAL"),
    "PETFU": ("68GA PET IV", "INTRAVENOUS"),
}
#: PET item groups → (lesion id item, location item or None, {test code: item}).
PET_GROUPS = {
    "IDX": (
        "LESID",
        None,
        {
            "SUVMAX": "SUVMAX",
            "SUVMEAN": "SUVMEAN",
            "SUVPEAK": "SUVPEAK",
            "TLRATIO": "TLR",
            "VOLUME": "VOLUME",
        },
    ),
    "EXH": (
        "XLESID",
        "XSITE",
        {
            "SUVMAX": "XSUVMAX",
            "SUVMEAN": "XSUVMEAN",
            "SUVPEAK": "XSUVPEAK",
            "TLRATIO": "XTLR",
            "VOLUME": "XVOLUME",
        },
    ),
}
TR_TESTS = {
    "LDIAM": ("Longest Diameter", "mm"),
    "SUMDIAM": ("Sum of Diameters", "mm"),
    "TUMSTATE": ("Tumor State", ""),
    "SUVMAX": ("Maximum Standardized Uptake Value", ""),
    "SUVMEAN": ("Mean Standardized Uptake Value", ""),
    "SUVPEAK": ("Peak Standardized Uptake Value", ""),
    "TLRATIO": ("Tumor to Healthy Liver SUV Ratio", ""),
    "VOLUME": ("Volume", "mL"),
}
RS_TESTS = {
    "TRGRESP": "Target Response",
    "NTRGRESP": "Non-target Response",
    "OVRLRESP": "Overall Response",
    "NEWLPROG": "New Lesion Progression",
    "BESTRESP": "Best Overall Response",
}
#: The CRF's organ codes → CDISC LOC (C74456).
LOCATIONS = {
    "LIVER": "LIVER",
    "NODE": "LYMPH NODE",
    "LUNG": "LUNG",
    "PANCREAS": "PANCREAS",
    "BOWEL": "INTESTINE",
    "PERITONEUM": "PERITONEUM",
    "BONE": "BONE",
    "ADRENAL": "ADRENAL GLAND",
    "OTHER": "",
}
METHODS = {"CT": "CT SCAN", "MRI": "MRI"}
NEW_LESION = {"N": "NO", "EQ": "EQUIVOCAL", "Y": "UNEQUIVOCAL"}
TUMOUR_STATE = {
    "PRESENT": "PRESENT",
    "ABSENT": "ABSENT",
    "PD": "UNEQUIVOCAL PROGRESSION",
    "NE": "NOT EVALUABLE",
}


def _baseline_date(ctx: Context, form: FormData) -> str:
    images = form.row("IMG")
    return ctx.value(images, "CTDAT") or ctx.value(images, "MRIDAT")


def map_tu(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    usubjid = ctx.usubjid(subject)
    seen: set[str] = set()

    def record(form, group, lesion, result, location, method, day) -> dict:
        seen.add(lesion.upper())
        return {
            **ctx.keys("TU", subject),
            "TUGRPID": group,
            "TULNKID": lesion,
            "TUTESTCD": "TUMIDENT",
            "TUTEST": "Tumor Identification",
            "TUORRES": result,
            "TUSTRESC": result,
            "TULOC": location,
            "TUMETHOD": method,
            "TUEVAL": "INVESTIGATOR",
            **ctx.visit(form),
            "TUDTC": day,
            "TUDY": ctx.study_day(usubjid, day),
        }

    # Baseline CT/MRI first: a lesion also seen on the PET keeps its RECIST identity.
    for form in sorted(forms, key=lambda f: f.form_oid != "TUBL"):
        if form.form_oid == "TUBL":
            day = _baseline_date(ctx, form)
            for row in form.rows("TL"):
                lesion = ctx.value(row, "LESID")
                if lesion and lesion.upper() not in seen:
                    organ = ctx.value(row, "ORGAN")
                    method = METHODS.get(ctx.value(row, "METHOD"), "")
                    yield record(
                        form, "RECIST", lesion, "TARGET", LOCATIONS.get(organ, ""), method, day
                    )
            for row in form.rows("NTL"):
                lesion = ctx.value(row, "NTLID")
                if lesion and lesion.upper() not in seen:
                    organ = ctx.value(row, "NTLORGAN")
                    yield record(
                        form, "RECIST", lesion, "NON-TARGET", LOCATIONS.get(organ, ""), "", day
                    )
            continue
        pet = form.row("PET")
        day = ctx.value(pet, "PETDAT")
        for group_oid, (id_item, site_item, _) in PET_GROUPS.items():
            for row in form.rows(group_oid):
                lesion = ctx.value(row, id_item)
                if not lesion or lesion.upper() in seen:
                    continue
                location = LOCATIONS.get(ctx.value(row, site_item), "") if site_item else "LIVER"
                result = "PET INDEX LESION" if group_oid == "IDX" else "PET LESION"
                yield record(
                    form, PET[form.form_oid][0], lesion, result, location, "PET/CT SCAN", day
                )


def map_tr(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    usubjid = ctx.usubjid(subject)

    def record(form, group, lesion, code, result, method, day, linkgroup="", route="") -> dict:
        name, unit = TR_TESTS[code]
        value = number(result)
        return {
            **ctx.keys("TR", subject),
            "TRGRPID": group,
            "TRLNKID": lesion,
            "TRLNKGRP": linkgroup,
            "TRTESTCD": code,
            "TRTEST": name,
            "TRORRES": result,
            "TRORRESU": unit if result else "",
            "TRSTRESC": plain(value) if value is not None else result,
            "TRSTRESN": plain(value) if value is not None else None,
            "TRSTRESU": unit if value is not None else "",
            "TRMETHOD": method,
            "TREVAL": "INVESTIGATOR",
            **ctx.visit(form),
            "TRDTC": day,
            "TRDY": ctx.study_day(usubjid, day),
            "_supp": {"TRROUTE": route},
        }

    for form in forms:
        if form.form_oid in PET:
            group, route = PET[form.form_oid]
            day = ctx.value(form.row("PET"), "PETDAT")
            for group_oid, (id_item, _, tests) in PET_GROUPS.items():
                for row in form.rows(group_oid):
                    lesion = ctx.value(row, id_item)
                    for code, item in tests.items():
                        result = ctx.value(row, item)
                        if result:
                            yield record(
                                form, group, lesion, code, result, "PET/CT SCAN", day, route=route
                            )
            continue
        baseline = form.form_oid == "TUBL"
        images = form.row("IMG")
        day = _baseline_date(ctx, form) if baseline else ctx.value(images, "TRDAT")
        linkgroup = form.visit_oid
        visit_method = "" if baseline else METHODS.get(ctx.value(images, "METHOD"), "")
        for row in form.rows("TL"):
            result = ctx.value(row, "DIAM")
            if result:
                method = METHODS.get(ctx.value(row, "METHOD"), "") if baseline else visit_method
                yield record(
                    form, "RECIST", ctx.value(row, "LESID"), "LDIAM", result, method, day, linkgroup
                )
        for row in form.rows("NTL"):
            state = TUMOUR_STATE.get(ctx.value(row, "NTLSTAT"), "")
            if state:
                yield record(
                    form,
                    "RECIST",
                    ctx.value(row, "NTLID"),
                    "TUMSTATE",
                    state,
                    visit_method,
                    day,
                    linkgroup,
                )
        summary = form.row("IMG") if baseline else form.row("RESP")
        total = ctx.value(summary, "SUMDIAM")
        if total:
            yield record(form, "RECIST", "", "SUMDIAM", total, visit_method, day, linkgroup)


def map_rs(ctx: Context, subject: str, forms: list[FormData]) -> Iterator[dict]:
    usubjid = ctx.usubjid(subject)
    for form in forms:
        images, responses = form.row("IMG"), form.row("RESP")
        day = ctx.value(images, "TRDAT")
        results = {code: ctx.value(responses, code) for code in ("TRGRESP", "NTRGRESP", "OVRLRESP")}
        results["NEWLPROG"] = NEW_LESION.get(ctx.value(images, "NEWLES"), "")
        # The best response so far, confirmed (RECIST 1.1): on the last assessment it is
        # the subject's best overall response.
        results["BESTRESP"] = ctx.value(responses, "BESTRESP")
        for code, result in results.items():
            if not result:
                continue
            yield {
                **ctx.keys("RS", subject),
                "RSLNKGRP": form.visit_oid,
                "RSTESTCD": code,
                "RSTEST": RS_TESTS[code],
                "RSCAT": "RECIST 1.1",
                "RSORRES": result,
                "RSSTRESC": result,
                "RSEVAL": "INVESTIGATOR",
                **ctx.visit(form),
                "RSDTC": day,
                "RSDY": ctx.study_day(usubjid, day),
            }
