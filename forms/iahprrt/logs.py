"""Logs not bound to a visit: adverse events, serious adverse event reports, concomitant
medications, protocol deviations, end of study / withdrawal, death."""

from __future__ import annotations

from typing import Any

from forms.iahprrt import checks as ck
from forms.iahprrt.ae_checks import grade_outside_term, lutetium_relationship
from forms.iahprrt.common import (
    check,
    choice,
    clock,
    day,
    derived,
    integer,
    partial_day,
    shown,
    text,
    yes_no,
)
from forms.iahprrt.ctcae_terms import grades_by_code
from forms.iahprrt.eligibility import CRITERIA, NotMet
from forms.language import (
    DataType,
    Derivation,
    Form,
    ItemGroup,
    OptionsBy,
    Severity,
    Timing,
    When,
)
from forms.rules import compare, unique

_SERIOUS = When("AESER", "eq", "Y")
_SERIOUSNESS = (
    ("AESDTH", "Resulted in death"),
    ("AESLIFE", "Life-threatening"),
    ("AESHOSP", "Required or prolonged hospitalisation"),
    ("AESDISAB", "Persistent or significant disability / incapacity"),
    ("AESCONG", "Congenital anomaly / birth defect"),
    ("AESMIE", "Other medically important event"),
)

AE = Form(
    "AE",
    "Adverse events",
    (
        ItemGroup(
            "AE",
            "Adverse events (from consent to end of study)",
            (
                integer(
                    "AESPID",
                    "AE number",
                    hard=(1, 999),
                    required=True,
                    help="1, 2, 3… in order of entry; the SAE report refers to it.",
                    cdash="AESPID",
                    sdtm="AE.AESPID",
                ),
                text(
                    "AETERM",
                    "Adverse event as reported (diagnosis if known)",
                    required=True,
                    help='The investigator\'s words. With an "Other, specify" CTCAE term,'
                    " they say what the event was.",
                    cdash="AETERM",
                    sdtm="AE.AETERM",
                ),
                choice(
                    "AELLTCD",
                    "CTCAE v5.0 term",
                    "CTCAE",
                    required=True,
                    # Coding is part of the report: no "unknown" or "not done" term.
                    missing_allowed=False,
                    help="Under its system organ class; type the first letters to jump. No"
                    ' term fits: the class\'s "Other, specify" term.',
                    cdash="AELLTCD",
                    sdtm="AE.AELLTCD",
                ),
                partial_day(
                    "AESTDAT",
                    "Start",
                    required=True,
                    cdash="AESTDAT",
                    sdtm="AE.AESTDTC",
                    # Before consent it is medical history; after the end of study, not
                    # collected. Its end (and the SAE reports) may come after the end.
                    timing=Timing.STUDY,
                ),
                yes_no("AEONGO", "Ongoing", required=True, cdash="AEONGO", sdtm="AE.AEENRTPT"),
                partial_day(
                    "AEENDAT",
                    "End",
                    **shown(When("AEONGO", "eq", "N")),
                    cdash="AEENDAT",
                    sdtm="AE.AEENDTC",
                ),
                choice(
                    "AETOXGR",
                    "CTCAE v5.0 grade (worst)",
                    "AETOXGR",
                    required=True,
                    # The page offers the term's grades; grade_outside_term refuses others.
                    options_by=OptionsBy("AELLTCD", grades_by_code),
                    cdash="AETOXGR",
                    sdtm="AE.AETOXGR",
                ),
                yes_no("AESER", "Serious", required=True, cdash="AESER", sdtm="AE.AESER"),
                *(
                    yes_no(oid, label, **shown(_SERIOUS), cdash=oid, sdtm=f"AE.{oid}")
                    for oid, label in _SERIOUSNESS
                ),
                choice(
                    "AERELPR",
                    "Relationship to the IAH procedure (arteriography, catheterisation)",
                    "AEREL",
                    required=True,
                    sdtm="SUPPAE.QVAL[AERELPR]",
                ),
                choice(
                    "AEREL",
                    "Relationship to 177Lu-dotatate given by IAH",
                    "AEREL",
                    help="Therapy sub-group only (then always); empty for imaging-only patients.",
                    cdash="AEREL",
                    sdtm="AE.AEREL",
                ),
                yes_no(
                    "AECONTRT",
                    "Treatment given",
                    required=True,
                    cdash="AECONTRT",
                    sdtm="AE.AECONTRT",
                ),
                choice("AEOUT", "Outcome", "AEOUT", required=True, cdash="AEOUT", sdtm="AE.AEOUT"),
            ),
            repeating=True,
            domain="AE",
            # One line per event on the page; the rest in the event's panel.
            summary=(
                ("AESPID", "No."),
                ("AELLTCD", "CTCAE term"),
                ("AETOXGR", "Grade"),
                ("AESTDAT", "Start"),
                ("AEENDAT", "End"),
                ("AESER", "Serious"),
                ("AERELPR", "IAH procedure"),
                ("AEREL", "177Lu"),
                ("AEOUT", "Outcome"),
            ),
        ),
    ),
    checks=(
        check(
            "GRADE_OF_TERM",
            "AETOXGR",
            grade_outside_term,
            "AELLTCD",
            "AETOXGR",
            severity=Severity.REJECT,
        ),
        check("LU_RELATIONSHIP", "AEREL", lutetium_relationship, "SCR.IC.THERAPY", "AEREL"),
        compare(
            "AE_END_AFTER_START",
            "AEENDAT",
            ">=",
            "AESTDAT",
            message="The end date ({left}) is before the start date ({right}).",
            severity=Severity.REJECT,
        ),
        unique(
            "AE_NUMBER_ONCE",
            "AESPID",
            among="LOGS.AE.AE[]",
            message="AE number {value} is used more than once.",
            severity=Severity.REJECT,
        ),
        check(
            "SAE_REPORTED", "AESER", ck.serious_needs_report, "AESER", "AESPID", "LOGS.SAE.SAE[]"
        ),
        check(
            "SAE_CRITERION",
            "AESER",
            ck.serious_needs_criterion,
            "AESER",
            *(oid for oid, _ in _SERIOUSNESS),
        ),
        check("GRADE5_FATAL", "AEOUT", ck.fatal_consistent, "AETOXGR", "AEOUT"),
        check(
            "FATAL_DEATH_FORM", "AEOUT", ck.death_needs_form, "AEOUT", "AESDTH", "LOGS.DD.DTHDAT"
        ),
        check("AE_AFTER_CONSENT", "AESTDAT", ck.ae_before_consent, "AESTDAT", "SCR.IC.ICDAT"),
    ),
)

SAE = Form(
    "SAE",
    "Serious adverse event reports",
    (
        ItemGroup(
            "SAE",
            "Reports to the sponsor's pharmacovigilance",
            (
                integer("SAESPID", "AE number (adverse event log)", hard=(1, 999), required=True),
                choice("SAETYPE", "Report", "SAETYPE", required=True),
                day("AWARDAT", "Date the site became aware", required=True),
                clock("AWARTIM", "Time the site became aware"),
                day("REPDAT", "Date sent to the sponsor", required=True),
                clock("REPTIM", "Time sent"),
                text("SAENARR", "Narrative", max_length=4000, required=True),
            ),
            repeating=True,
        ),
    ),
    checks=(
        check("LINKS_AE", "SAESPID", ck.report_links_ae, "SAESPID", "LOGS.AE.AE[]"),
        check(
            "WITHIN_24H", "REPDAT", ck.report_within_24h, "AWARDAT", "AWARTIM", "REPDAT", "REPTIM"
        ),
    ),
)

CM = Form(
    "CM",
    "Concomitant medications",
    (
        ItemGroup(
            "CM",
            "Medications (ongoing at screening or started later)",
            (
                text("CMTRT", "Medication (INN)", required=True, cdash="CMTRT", sdtm="CM.CMTRT"),
                text("CMINDC", "Indication", required=True, cdash="CMINDC", sdtm="CM.CMINDC"),
                text("CMDSTXT", "Dose", max_length=40, cdash="CMDSTXT", sdtm="CM.CMDOSTXT"),
                text("CMDOSU", "Unit", max_length=20, cdash="CMDOSU", sdtm="CM.CMDOSU"),
                text("CMDOSFRQ", "Frequency", max_length=40, cdash="CMDOSFRQ", sdtm="CM.CMDOSFRQ"),
                choice("CMROUTE", "Route", "CMROUTE", cdash="CMROUTE", sdtm="CM.CMROUTE"),
                partial_day("CMSTDAT", "Start", required=True, cdash="CMSTDAT", sdtm="CM.CMSTDTC"),
                yes_no("CMPRIOR", "Started before screening", required=True, cdash="CMPRIOR"),
                yes_no("CMONGO", "Ongoing", required=True, cdash="CMONGO", sdtm="CM.CMENRTPT"),
                partial_day(
                    "CMENDAT",
                    "End",
                    **shown(When("CMONGO", "eq", "N")),
                    cdash="CMENDAT",
                    sdtm="CM.CMENDTC",
                ),
            ),
            repeating=True,
            domain="CM",
        ),
    ),
    checks=(
        compare(
            "CM_END_AFTER_START",
            "CMENDAT",
            ">=",
            "CMSTDAT",
            message="The end date ({left}) is before the start date ({right}).",
            severity=Severity.REJECT,
        ),
    ),
)

DV = Form(
    "DV",
    "Protocol deviations",
    (
        ItemGroup(
            "DV",
            "Deviations",
            (
                day(
                    "DVSTDAT",
                    "Date",
                    required=True,
                    cdash="DVSTDAT",
                    sdtm="DV.DVSTDTC",
                    timing=Timing.STUDY,
                ),
                choice("DVVISIT", "Visit concerned", "VISITS", required=True, sdtm="DV.VISIT"),
                choice("DVCAT", "Category", "DVCAT", required=True, sdtm="DV.DVCAT"),
                text(
                    "DVTERM",
                    "Description",
                    max_length=500,
                    required=True,
                    cdash="DVTERM",
                    sdtm="DV.DVTERM",
                ),
                choice("DVSEV", "Importance", "DVSEV", required=True, sdtm="SUPPDV.QVAL[DVSEV]"),
                text("DVACT", "Action taken", max_length=500),
            ),
            repeating=True,
            domain="DV",
        ),
    ),
)

_NOT_MET = NotMet(CRITERIA)


def _screen_failure_criteria(values: dict[str, Any]) -> str | None:
    """The criteria not met (``NotMet``), recorded only for a screen failure."""
    return _NOT_MET(values) if values.get("EOSSTAT") == "SCREENFAIL" else None


EOS = Form(
    "EOS",
    "End of study / withdrawal",
    (
        ItemGroup(
            "EOS",
            "End of study",
            (
                day(
                    "EOSDAT",
                    "Date of end of study",
                    required=True,
                    timing=Timing.STUDY,
                    cdash="DSSTDAT",
                    sdtm="DS.DSSTDTC",
                ),
                choice(
                    "EOSSTAT",
                    "Status",
                    "EOSSTAT",
                    required=True,
                    cdash="DSDECOD",
                    sdtm="DS.DSDECOD",
                ),
                text(
                    "EOSOTH",
                    "Other: specify",
                    **shown(When("EOSSTAT", "eq", "OTHER")),
                    cdash="DSTERM",
                    sdtm="DS.DSTERM",
                ),
                day("LASTCONT", "Date of last contact", required=True, timing=Timing.STUDY),
                derived(
                    "SFCRIT",
                    "Screen failure: eligibility criteria not met",
                    DataType.TEXT,
                    sdtm="IE.IETESTCD",
                ),
            ),
            domain="DS",
        ),
    ),
    derivations=(
        Derivation(
            "SFCRIT",
            ("EOSSTAT", *_NOT_MET.inputs),
            _screen_failure_criteria,
            formula="For a screen failure: every criterion not met, by the checklist's answer"
            " or by the data it is computed from (a contradiction either way).",
        ),
    ),
    checks=(
        check("DEATH_FORM", "EOSSTAT", ck.end_of_study_death, "EOSSTAT", "LOGS.DD.DTHDAT"),
        check(
            "COMPLETED_AS_PLANNED",
            "EOSSTAT",
            ck.completion_consistent,
            "EOSSTAT",
            "SCR.IC.THERAPY",
            "CALL.CALL.CALLDAT",
            "M6.AEREV.REVDAT",
        ),
        compare(
            "AFTER_CONSENT",
            "EOSDAT",
            ">=",
            "SCR.IC.ICDAT",
            message="The end of study is before the consent date: which date is right?",
        ),
        compare(
            "LAST_CONTACT",
            "EOSDAT",
            ">=",
            "LASTCONT",
            message="The end of study is before the last contact: which date is right?",
            at="LASTCONT",
        ),
    ),
)

DD = Form(
    "DD",
    "Death",
    (
        ItemGroup(
            "DD",
            "Death",
            (
                day("DTHDAT", "Date of death", required=True, cdash="DTHDAT", sdtm="DM.DTHDTC"),
                text(
                    "DTHCAUSE", "Primary cause of death", required=True, sdtm="DD.DDORRES[PRCDTH]"
                ),
                yes_no("AUTOPSY", "Autopsy performed", required=True),
                choice(
                    "DTHREL",
                    "Relationship to the study procedures or treatment",
                    "AEREL",
                    required=True,
                ),
            ),
            domain="DD",
        ),
    ),
    checks=(
        check("END_OF_STUDY", "DTHDAT", ck.death_forces_end_of_study, "DTHDAT", "LOGS.EOS.EOSSTAT"),
        compare(
            "AFTER_CONSENT",
            "DTHDAT",
            ">=",
            "SCR.IC.ICDAT",
            message="The date of death is before the consent date: which date is right?",
        ),
    ),
)
