"""The IAH-PRRT reports: which forms and items each report reads (forms/reports.py)."""

from __future__ import annotations

from forms.reports import (
    AcrfPlan,
    AdverseEventLog,
    Cause,
    ImagingPlan,
    LabGrades,
    LesionTable,
    Metric,
    SafetyPlan,
    Scan,
    ScanFact,
    Seriousness,
    SeriousReportLog,
    TreatmentStart,
)

#: AE log, SAE reports (forms/iahprrt/logs.py), graded labs (labs.py) and T0, the 177Lu
#: administration (therapy.py, LUADM). "Related" follows the usual convention of a
#: possible causal relationship: possibly, probably or related (code list AEREL).
SAFETY = SafetyPlan(
    adverse_events=AdverseEventLog(
        visit="LOGS",
        form="AE",
        group="AE",
        number="AESPID",
        term="AETERM",
        start="AESTDAT",
        ongoing="AEONGO",
        end="AEENDAT",
        grade="AETOXGR",
        serious="AESER",
        criteria=(
            Seriousness("AESDTH", "death"),
            Seriousness("AESLIFE", "life-threatening"),
            Seriousness("AESHOSP", "hospitalisation"),
            Seriousness("AESDISAB", "disability"),
            Seriousness("AESCONG", "congenital anomaly"),
            Seriousness("AESMIE", "medically important"),
        ),
        causes=(
            Cause("IAH procedure", "AERELPR", short="IAH procedure"),
            Cause("177Lu-dotatate by IAH", "AEREL", short="177Lu"),
        ),
        related=("POSSIBLE", "PROBABLE", "RELATED"),
        outcome="AEOUT",
        treated="AECONTRT",
        lab_term="AELLTCD",
    ),
    serious_reports=SeriousReportLog(
        visit="LOGS",
        form="SAE",
        group="SAE",
        number="SAESPID",
        kind="SAETYPE",
        initial="INITIAL",
        aware_date="AWARDAT",
        aware_time="AWARTIM",
        sent_date="REPDAT",
        sent_time="REPTIM",
        deadline_hours=24,
        # The sites are French: the times they type are Paris wall-clock times.
        time_zone="Europe/Paris",
    ),
    labs=LabGrades(
        forms=("LBHEM", "LBCHEM", "COAG"),
        date="LBDAT",
        time="LBTIM",
        grade_annotation="LB.LBTOXGR",
        result_annotation="LB.LBORRES",
        terms=(
            ("HGB", "ANEMIA"),
            ("WBC", "WBCDEC"),
            ("NEUT", "NEUTDEC"),
            ("LYM", "LYMDEC"),
            ("PLAT", "PLATDEC"),
            ("CREAT", "CREATINC"),
            ("ALT", "ALTINC"),
            ("AST", "ASTINC"),
            ("BILI", "BILIINC"),
            ("ALP", "ALPINC"),
            ("GGT", "GGTINC"),
            ("ALB", "HYPOALB"),
        ),
        term_codelist="LABTERM",
    ),
    treatment=TreatmentStart(
        name="T0",
        label="177Lu-dotatate IAH administration",
        visit="THER",
        form="LUADM",
        group="ADM",
        date="EXSTDAT",
        time="EXSTTIM",
        subgroup="THERAPY",
    ),
)

#: The primary endpoint (protocol STUDY.md, "The question the trial asks"): SUVmax of the
#: 5 liver index lesions on the PET after IAH injection against the PET after IV injection,
#: lesions paired by identifier and segment, over those in the arterial territory injected
#: (the others apart); SUVmean, SUVpeak and the tumour-to-liver ratio beside it.
IMAGING = ImagingPlan(
    reference=Scan("PETIV", "PETIV", "IV", "PET after intravenous injection"),
    tested=Scan("PETIAH", "PETIAH", "IAH", "PET after intra-arterial hepatic injection"),
    index_lesions=LesionTable(
        "IDX",
        "Liver index lesions",
        id_item="LESID",
        location_item="SEGMENT",
        location_label="Segment",
        perfused_item="PERF",
        metrics=(
            Metric("SUVMAX", "SUVmax", "GSUVMAX"),
            Metric("SUVMEAN", "SUVmean", "GSUVMEAN"),
            Metric("SUVPEAK", "SUVpeak", "GSUVPEAK"),
            Metric("TLR", "T/L ratio", "GTLR"),
        ),
    ),
    primary_metric="SUVMAX",
    other_lesions=(
        LesionTable(
            "EXH",
            "Extra-hepatic lesions",
            id_item="XLESID",
            location_item="XSITE",
            location_label="Site",
            perfused_item="XPERF",
            metrics=(
                Metric("XSUVMAX", "SUVmax", "XGSUVMAX"),
                Metric("XSUVMEAN", "SUVmean", "XGSUVMEAN"),
                Metric("XSUVPEAK", "SUVpeak", "XGSUVPEAK"),
                Metric("XTLR", "T/L ratio", "XGTLR"),
            ),
        ),
    ),
    scan_facts=(
        ScanFact("PET", "PETDAT", "Date"),
        ScanFact("PET", "TRACER", "Tracer"),
        ScanFact("PET", "SCANNER", "Scanner"),
        ScanFact("PET", "RECON", "Reconstruction"),
        ScanFact("PET", "SUVNORM", "SUV normalisation"),
        ScanFact("PET", "UPTKMIN", "Uptake delay"),
        ScanFact("PET", "READER", "Reader"),
        ScanFact("ORG", "LIVSUVMEAN", "Healthy-liver SUVmean"),
    ),
    paired_count=ScanFact("GAIN", "NPAIRED", "Index lesions paired"),
    median_gain=ScanFact("GAIN", "MEDGAIN", "Median SUVmax IAH / IV"),
)

_END_AFTER_START = "The end date is not before the start date."
_SUV_NOT_ABOVE_MAX = "The value does not exceed the SUVmax of the same region."
_GRADE3_AE = (
    "A value of CTCAE grade ≥ 3 after the screening sample has an adverse event of the same"
    " CTCAE term, grade ≥ 3, whose dates cover the sample."
)
#: The graded laboratory values (labs.py): each has its "grade ≥ 3 without an AE" check.
_GRADED = ("HGB", "WBC", "NEUT", "LYM", "PLAT", "CREAT", "ALT", "AST", "BILI", "ALP", "GGT", "ALB")

#: The blank annotated CRF: the rules of the edit checks whose definition does not say them.
ACRF = AcrfPlan(
    check_words={
        "BIRTH_MONTH_YEAR": "Only the month and the year of birth are collected (YYYY-MM).",
        "MH_END_AFTER_START": _END_AFTER_START,
        "SSA_END_AFTER_START": _END_AFTER_START,
        "AE_END_AFTER_START": _END_AFTER_START,
        "CM_END_AFTER_START": _END_AFTER_START,
        "CYCLE_ONCE": "Each LUTATHERA cycle number appears in one row only.",
        "CYCLE_ORDER": "The cycles' dates follow their numbers (cycle 2 after cycle 1…).",
        "DIASTOLIC_BELOW_SYSTOLIC": "The diastolic pressure is below the systolic pressure.",
        "DIFFERENTIAL_WITHIN_WBC": "Neutrophils + lymphocytes do not exceed the leucocytes"
        " (all per mm³).",
        "AFTER_LAST_CYCLE": "The sample is taken after the last of the 4 LUTATHERA cycles.",
        "CREAT_PLAUSIBLE": "Creatinine lies within 10 to 2000 µmol/L (0.1 to 23 mg/dL) in the"
        " unit given.",
        "CREAT_ULN_PLAUSIBLE": "The creatinine upper limit of normal lies within 10 to"
        " 2000 µmol/L (0.1 to 23 mg/dL) in the unit given.",
        "CREAT_USUAL": "Creatinine outside 45 to 110 µmol/L (0.5 to 1.25 mg/dL) is queried"
        " for confirmation.",
        "TARGET_MEASURABLE": "A target lesion measures ≥ 10 mm in longest diameter; a lymph"
        " node ≥ 15 mm in short axis.",
        "LESIONS_DECLARED": "The answer on lesions agrees with the tables: no lesion listed"
        " when none is declared, at least one target lesion when lesions are.",
        "KID_SUVMEAN_LE_SUVMAX": _SUV_NOT_ABOVE_MAX,
        "SPL_SUVMEAN_LE_SUVMAX": _SUV_NOT_ABOVE_MAX,
        "LIV_SUVMEAN_LE_SUVMAX": _SUV_NOT_ABOVE_MAX,
        "BM_SUVMEAN_LE_SUVMAX": _SUV_NOT_ABOVE_MAX,
        "IDX_SUVMEAN_LE_SUVMAX": _SUV_NOT_ABOVE_MAX,
        "IDX_SUVPEAK_LE_SUVMAX": _SUV_NOT_ABOVE_MAX,
        "EXH_SUVMEAN_LE_SUVMAX": _SUV_NOT_ABOVE_MAX,
        "EXH_SUVPEAK_LE_SUVMAX": _SUV_NOT_ABOVE_MAX,
        "AE_IN_LOG": "An adverse event reported here is recorded in the adverse event log.",
        "END_OF_STUDY_OUTSIDE_THERAPY": "Outside the therapy sub-group the study ends with"
        " this call: the end-of-study form is completed.",
        "ACTIVITY_WITHIN_10PCT": "The administered activity is within ±10 % of the"
        " prescribed activity.",
        "PREGNANCY_TEST": "A woman of childbearing potential has a test before the PET or"
        " the administration, a man none, and a positive test is asked about"
        " (contraindication).",
        "PREGNANCY_TEST_MISSING": "A woman of childbearing potential has a pregnancy test"
        " recorded before each PET and the 177Lu administration that took place.",
        "PREGNANCY_TEST_RECENT": "The pregnancy test lies in the 7 days before the PET or the"
        " administration (the day itself included).",
        "CONTRACEPTION": "Men and women of childbearing potential use effective"
        " contraception, until 6 months after the last LUTATHERA® injection.",
        "EXC07_BLOOD_PRESSURE": "A screening blood pressure ≥ 160/95 mmHg with EXC07 answered"
        " no asks the investigator to confirm the hypertension is controlled under optimal"
        " treatment.",
        "ABOUT_24H": "The scan is acquired 20 to 28 h after the administration.",
        "LESION_ONCE": "Each lesion appears in one row only.",
        "ORGAN_ONCE": "Each organ appears in one row only.",
        "TARGET_ONCE": "Each target lesion appears in one row only.",
        "NON_TARGET_ONCE": "Each non-target lesion appears in one row only.",
        "RESPONSE_AS_DERIVED": "The investigator's overall response agrees with the"
        " RECIST 1.1 derivation.",
        "AE_NUMBER_ONCE": "Each adverse event number appears in one row only.",
        "SAE_REPORTED": "A serious adverse event has its SAE report in the SAE report log.",
        "SAE_CRITERION": "A serious adverse event meets at least one seriousness criterion.",
        "GRADE5_FATAL": "Grade 5 and a fatal outcome go together.",
        "FATAL_DEATH_FORM": "A fatal adverse event has its death form.",
        "AE_AFTER_CONSENT": "An adverse event starts after the consent (before it, the"
        " condition belongs in the medical history unless it worsened).",
        "LINKS_AE": "The report names an adverse event of the log that is marked serious.",
        "WITHIN_24H": "The SAE is reported to the sponsor within 24 h of the site becoming"
        " aware of it.",
        "DEATH_FORM": "An end of study by death has its death form.",
        "COMPLETED_AS_PLANNED": "A completed study ends at its last visit: M6 in the therapy"
        " sub-group, the safety call otherwise.",
        "DD.END_OF_STUDY": "A recorded death has its end-of-study form with the status death.",
        **{f"{test}_GRADE3_AE": _GRADE3_AE for test in _GRADED},
    }
)
