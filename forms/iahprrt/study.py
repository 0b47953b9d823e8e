"""IAH-PRRT: the visit schedule, reference events and sub-groups (protocol STUDY.md)."""

from __future__ import annotations

from forms.iahprrt.forms import ALL_CODELISTS, ALL_FORMS
from forms.language import Reference, Study, Subgroup, Visit, VisitKind

# Lab, vitals and AE review at every safety visit.
SAFETY = ("VS", "LBHEM", "LBCHEM", "AEREV")

STUDY = Study(
    oid="IAHPRRT",
    name="IAH-PRRT (LUTARTERIAL)",
    version="0.1",
    protocol="CHUBX 2017/47 · NCT04837885 · EudraCT 2019-003023-38",
    description=(
        "Intra-arterial hepatic infusion of radiolabelled somatostatin analogs in GEP-NET "
        "patients with dominant liver metastases."
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
    visits=(
        Visit(
            "SCR",
            "Screening / inclusion",
            ("IC", "DM", "VS"),
            reference="D0",
            offset_days=-28,
            window=(-42, -7),
        ),
        Visit(
            "PETIV",
            "68Ga PET after IV injection",
            (),
            reference="D0",
            offset_days=-7,
            window=(-21, -1),
        ),
        Visit(
            "PETIAH",
            "68Ga PET after IAH injection",
            (),
            reference="D0",
            offset_days=0,
            window=(0, 0),
        ),
        Visit("CALL", "Safety call", ("AEREV",), reference="D0", offset_days=14, window=(11, 17)),
        Visit(
            "THER",
            "IAH 177Lu-dotatate",
            (),
            reference="D0",
            offset_days=28,
            window=(14, 56),
            subgroup="THERAPY",
        ),
        Visit(
            "W2",
            "Week 2",
            SAFETY,
            reference="T0",
            offset_days=14,
            window=(11, 17),
            subgroup="THERAPY",
        ),
        Visit(
            "W4",
            "Week 4",
            SAFETY,
            reference="T0",
            offset_days=28,
            window=(25, 31),
            subgroup="THERAPY",
        ),
        Visit(
            "W6",
            "Week 6",
            SAFETY,
            reference="T0",
            offset_days=42,
            window=(39, 45),
            subgroup="THERAPY",
        ),
        Visit(
            "W8",
            "Week 8",
            SAFETY,
            reference="T0",
            offset_days=56,
            window=(53, 59),
            subgroup="THERAPY",
        ),
        Visit(
            "M3",
            "Month 3 response",
            SAFETY,
            reference="T0",
            offset_days=90,
            window=(83, 97),
            subgroup="THERAPY",
        ),
        Visit(
            "M6",
            "Month 6 end of study",
            SAFETY,
            reference="T0",
            offset_days=180,
            window=(166, 194),
            subgroup="THERAPY",
        ),
        Visit("UNS", "Unscheduled", SAFETY, kind=VisitKind.UNSCHEDULED),
        Visit("LOGS", "Logs", ("AE",), kind=VisitKind.LOG),
    ),
)
