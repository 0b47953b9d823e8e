"""The IAH-PRRT reports: which forms and items each report reads (forms/reports.py)."""

from __future__ import annotations

from forms.reports import ImagingPlan, LesionTable, Metric, Scan, ScanFact

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
