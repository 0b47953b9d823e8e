"""IAH-PRRT (LUTARTERIAL, NCT04837885): the visit schedule, reference events, sub-group
and the forms of each visit (protocol STUDY.md, "Visit schedule").

D0 is the day of the IAH procedure (PET-IAH); T0 the day of the IAH 177Lu-dotatate
administration (therapy sub-group). Windows are in days from the reference, inclusive.
"""

from __future__ import annotations

from forms.iahprrt.codelists import ALL_CODELISTS
from forms.iahprrt.eligibility import CRITERIA, IE
from forms.iahprrt.examination import ECOG, LVEF, VS
from forms.iahprrt.followup import AEREV, CALL
from forms.iahprrt.imaging import ANGIO, PETFU, PETIAH, PETIV, TRM3, TRM6, TUBL
from forms.iahprrt.labs import COAG, LBCHEM, LBHEM
from forms.iahprrt.logs import AE, CM, DD, DV, EOS, SAE
from forms.iahprrt.pregnancy import PREG
from forms.iahprrt.screening import DM, HEPAT, IC, MH, NETHX, PRTX
from forms.iahprrt.ssa import SSAINJ
from forms.iahprrt.therapy import DOSI, LUADM, SCINT
from forms.language import (
    Reference,
    SeriousEventReporting,
    Severity,
    Study,
    Subgroup,
    Timing,
    Visit,
    VisitKind,
    When,
)

#: Vital signs, labs and adverse-event review: every safety visit.
SAFETY = ("VS", "LBHEM", "LBCHEM", "AEREV")

SCREENING = (
    "IC",
    "DM",
    "MH",
    "NETHX",
    "PRTX",
    "ECOG",
    "VS",
    "LBHEM",
    "LBCHEM",
    "COAG",
    "HEPAT",
    "LVEF",
    "TUBL",
    "IE",
)

ALL_FORMS = (
    # screening
    IC,
    DM,
    MH,
    NETHX,
    PRTX,
    ECOG,
    VS,
    LBHEM,
    LBCHEM,
    COAG,
    HEPAT,
    LVEF,
    TUBL,
    IE,
    # imaging part
    PREG,
    PETIV,
    ANGIO,
    PETIAH,
    CALL,
    # therapy sub-group
    LUADM,
    SCINT,
    DOSI,
    AEREV,
    TRM3,
    TRM6,
    PETFU,
    # logs
    AE,
    SAE,
    CM,
    SSAINJ,
    DV,
    EOS,
    DD,
)


def _safety_visit(oid: str, name: str, day: int, margin: int, extra: tuple[str, ...] = ()) -> Visit:
    return Visit(
        oid,
        name,
        SAFETY + extra,
        reference="T0",
        offset_days=day,
        window=(day - margin, day + margin),
        subgroup="THERAPY",
        timing=Timing.STUDY,
    )


STUDY = Study(
    oid="IAHPRRT",
    name="IAH-PRRT (LUTARTERIAL)",
    # 1.1: dates bounded by when they may lie (Timing; consent and end of study); consent
    # and end-of-participation gates; graded lab values need their limits.
    # 1.2: comparisons and uniqueness checks written as declarations (forms.rules); the
    # check that a prior LUTATHERA cycle number is given once (PRTX CYCLE_ONCE) compares
    # cycle numbers (it lacked its key and never ran).
    # 1.3: lab values in several units (haemoglobin, cell counts, creatinine, bilirubin,
    # albumin), the unit kept with the value; creatinine's unit is no longer an item
    # (CREATU) and its plausible and usual ranges are those of its units.
    # Also: the visit context in edit checks (samples, vital signs, PETs, the safety call
    # and the 177Lu administration against the visit date; imaging in its visit's window;
    # the planned D0 against the screening visit), and an automatic query per warning.
    # 1.4: monitoring: the critical forms (verified for every subject, reviewed in the
    # audit trail), the share of subjects whose other forms are verified, the enrolment
    # target and the SAE reporting clock. The data captured are those of 1.3.
    # 1.5: site-ready content: lab forms name their laboratory (ranges from the site's
    # registry), the prothrombin ratio in %, tables per analyte, the CTCAE baseline
    # declared (last sample before the first 68Ga injection), the clearance from the
    # weight of its visit; comparable PET pairs, lesions matched by identifier and
    # segment, perfusion and the gain over perfused lesions; cold SSA injections and their
    # washouts; doses per GBq and cumulative doses; AEs coded with CTCAE v5.0 terms;
    # eligibility as the registry writes it; pregnancy tests before each exposure; RECIST
    # best overall response with confirmation; findings worded as questions.
    # 1.6: CTCAE v5.0 terms checked against the NCI spreadsheet (grades of 8 terms, the
    # class of 2 corrected); the AE grade offers only the chosen term's grades. The
    # fingerprint leaves out what the definition leaves at its default.
    version="1.6",
    protocol="CHUBX 2017/47 · NCT04837885 · EudraCT 2019-003023-38",
    description=(
        "Intra-arterial hepatic infusion of radiolabelled somatostatin analogs in GEP-NET "
        "patients with dominant liver metastases, after their 4 standard IV LUTATHERA "
        "cycles: 68Ga-DOTA-peptide PET after IV and after IAH injection (all patients; "
        "primary endpoint SUVmax of 5 liver metastases), and one 5th cycle of "
        "177Lu-dotatate by IAH infusion (therapy sub-group)."
    ),
    codelists=ALL_CODELISTS,
    forms=ALL_FORMS,
    references=(
        # D0: the IAH procedure (PET-IAH); planned at screening until it happens.
        Reference("D0", ("visit:PETIAH", "SCR.IC.D0PLAN")),
        # T0: the 177Lu IAH administration; planned D0 + 28 until it happens.
        Reference("T0", ("visit:THER",), offset_from=("D0", 28)),
    ),
    subgroups=(Subgroup("THERAPY", "Therapy sub-group", "SCR.IC.THERAPY", "Y"),),
    # Screening exams may predate the consent (standard care within the screening window);
    # the data of every later visit belong to the study: from consent to end of study.
    consent="SCR.IC.ICDAT",
    end_of_study="LOGS.EOS.EOSDAT",
    # A warning left open by a save asks the site through a query, closed by the data.
    query_severities=(Severity.WARN,),
    # Consent, eligibility, the two PETs' uptake and their injections, the 177Lu dose, and
    # adverse events: verified for every subject, reviewed in the audit trail.
    critical_forms=("IC", "IE", "PETIV", "ANGIO", "PETIAH", "LUADM", "AE", "SAE"),
    # About 23 patients planned (registry record, background.md "Enrolment (planned)").
    enrolment_target=23,
    # A serious AE (AESER) is reported to the sponsor within 24 h of the site becoming
    # aware; the SAE report log names the AE it reports by its number (protocol, edit checks).
    serious_events=SeriousEventReporting(
        events="LOGS.AE.AE[]",
        serious="AESER",
        number="AESPID",
        reports="LOGS.SAE.SAE[]",
        report_number="SAESPID",
        hours=24,
    ),
    # The other forms (vital signs, labs, history, follow-up...) are verified for one subject
    # in five per site (20 %), chosen reproducibly; a data manager may raise a site's share.
    sdv_sample_percent=20,
    visits=(
        Visit(
            "SCR",
            "Screening / inclusion",
            SCREENING,
            reference="D0",
            offset_days=-28,
            window=(-42, -7),
        ),
        Visit(
            "PETIV",
            "68Ga PET after IV injection",
            # The pregnancy test before the exposure, then the PET.
            ("PREG", "PETIV"),
            reference="D0",
            offset_days=-7,
            window=(-21, -1),
            timing=Timing.STUDY,
        ),
        Visit(
            "PETIAH",
            "68Ga PET after IAH injection (D0)",
            ("PREG", "ANGIO", "PETIAH"),
            reference="D0",
            offset_days=0,
            window=(0, 0),
            timing=Timing.STUDY,
        ),
        Visit(
            "CALL",
            "Safety call",
            ("CALL",),
            reference="D0",
            offset_days=14,
            window=(11, 17),
            timing=Timing.STUDY,
        ),
        Visit(
            "THER",
            "IAH 177Lu-dotatate (T0)",
            # Pre-administration vital signs and labs (LUTATHERA label), then the cycle.
            ("VS", "LBHEM", "LBCHEM", "COAG", "LUADM", "SCINT", "DOSI"),
            reference="D0",
            offset_days=28,
            window=(14, 56),
            subgroup="THERAPY",
            timing=Timing.STUDY,
        ),
        _safety_visit("W2", "Week 2", 14, 3),
        _safety_visit("W4", "Week 4", 28, 3),
        _safety_visit("W6", "Week 6", 42, 3),
        _safety_visit("W8", "Week 8", 56, 3),
        _safety_visit("M3", "Month 3 response", 90, 7, ("TRM3", "PETFU")),
        _safety_visit("M6", "Month 6 end of study", 180, 14, ("TRM6", "PETFU")),
        Visit(
            "UNS",
            "Unscheduled",
            (*SAFETY[:3], "COAG", "AEREV"),
            kind=VisitKind.UNSCHEDULED,
            timing=Timing.STUDY,
        ),
        Visit(
            "LOGS",
            "Logs",
            ("AE", "SAE", "CM", "SSAINJ", "DV", "EOS", "DD"),
            kind=VisitKind.LOG,
        ),
    ),
    eligibility=CRITERIA,
    # Nothing but screening (where consent is recorded) before the date of consent.
    before_consent=("SCR",),
    # The end of participation is documented by these forms, after the status changes.
    end_forms=("LOGS.EOS", "LOGS.DD"),
    # A recorded death ends participation, even before the status is changed.
    ended_when=When("LOGS.DD.DTHDAT", "filled"),
    ended_label="death recorded",
)
