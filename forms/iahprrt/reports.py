"""The IAH-PRRT reports: which forms and items each report reads (forms/reports.py)."""

from __future__ import annotations

from forms.reports import (
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
        lab_term="AELBTERM",
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
#: lesions paired by identifier; SUVmean, SUVpeak and the tumour-to-liver ratio beside it.
IMAGING = ImagingPlan(
    reference=Scan("PETIV", "PETIV", "IV", "PET after intravenous injection"),
    tested=Scan("PETIAH", "PETIAH", "IAH", "PET after intra-arterial hepatic injection"),
    index_lesions=LesionTable(
        "IDX",
        "Liver index lesions",
        id_item="LESID",
        location_item="SEGMENT",
        location_label="Segment",
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
        ScanFact("PET", "UPTKMIN", "Uptake delay"),
        ScanFact("ORG", "LIVSUVMEAN", "Healthy-liver SUVmean"),
    ),
    paired_count=ScanFact("GAIN", "NPAIRED", "Index lesions paired"),
    median_gain=ScanFact("GAIN", "MEDGAIN", "Median SUVmax IAH / IV"),
)
