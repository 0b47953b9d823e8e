"""The IAH-PRRT reports: which forms and items each report reads (forms/reports.py)."""

from __future__ import annotations

from forms.reports import (
    AdverseEventLog,
    Cause,
    LabGrades,
    SafetyPlan,
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
