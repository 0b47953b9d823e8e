"""Therapy sub-group: the intra-arterial hepatic (IAH) administration of 177Lu-dotatate
(5th cycle), the 24 h post-therapy scintigraphy / SPECT-CT, and the lesion and organ
absorbed doses compared with the earlier IV cycles (dosimetry sub-group)."""

from __future__ import annotations

from forms.iahprrt import checks as ck
from forms.iahprrt import derivations as dv
from forms.iahprrt import dosimetry as ds
from forms.iahprrt.common import (
    check,
    choice,
    clock,
    day,
    decimal,
    derive,
    derived,
    integer,
    shown,
    text,
    yes_no,
)
from forms.iahprrt.pregnancy import pregnancy_checks, pregnancy_items
from forms.iahprrt.visit_dates import on_visit_date
from forms.language import DataType, Form, Item, ItemGroup, Severity, When
from forms.rules import compare, unique

#: Administered activity may differ from the prescribed one by at most this much.
ACTIVITY_TOLERANCE_PERCENT = 10

LUADM = Form(
    "LUADM",
    "IAH administration of 177Lu-dotatate (LUTATHERA®)",
    (
        ItemGroup(
            "ADM",
            "Administration",
            (
                day("EXSTDAT", "Date", required=True, cdash="EXSTDAT", sdtm="EX.EXSTDTC"),
                clock("EXSTTIM", "Start of the infusion", required=True, cdash="EXSTTIM"),
                clock(
                    "EXENTIM",
                    "End of the infusion",
                    required=True,
                    cdash="EXENTIM",
                    sdtm="EX.EXENDTC",
                ),
                derived("INFDUR", "Duration of the infusion", DataType.INTEGER, "min"),
                choice("ACCESS", "Arterial access", "ACCESS", required=True),
                choice(
                    "ARTERY",
                    "Artery infused (catheter tip)",
                    "ARTERY",
                    required=True,
                    sdtm="EX.EXLOC",
                    help="Route: intra-arterial hepatic (EXROUTE INTRA-ARTERIAL).",
                ),
                yes_no(
                    "SAMEPOS",
                    "Catheter position as for the 68Ga IAH injection",
                    required=True,
                ),
                decimal(
                    "PRESACT",
                    "Prescribed activity",
                    "MBq",
                    precision=0,
                    hard=(1000, 8000),
                    soft=(3700, 7400),
                    required=True,
                    help="Standard: 7400 MBq.",
                ),
                decimal(
                    "ACTSYR",
                    "Activity measured before administration (vial or syringe)",
                    "MBq",
                    precision=0,
                    hard=(100, 12000),
                    required=True,
                ),
                day("ACTSYRDT", "Measured on", help="Leave empty if on the day of administration."),
                clock("ACTSYRTM", "Measured at", required=True),
                decimal(
                    "ACTRES",
                    "Residual activity (vial, lines, catheter)",
                    "MBq",
                    precision=0,
                    hard=(0, 8000),
                    required=True,
                    help="0 if not measurable.",
                ),
                day("ACTRESDT", "Residual measured on", help="Leave empty if the same day."),
                clock(
                    "ACTRESTM",
                    "Residual measured at",
                    required_when=When("ACTRES", "gt", 0),
                ),
                derived(
                    "ADMACT",
                    "Administered activity (decay-corrected to the start)",
                    units="MBq",
                    sdtm="EX.EXDOSE",
                ),
                derived("ADMDEV", "Deviation from the prescribed activity", units="%"),
            ),
            domain="EX",
        ),
        ItemGroup(
            "RP",
            "Renal protection and premedication",
            (
                yes_no("RPYN", "Amino-acid renal protection given", required=True, cdash="CMYN"),
                choice(
                    "RPSOL", "Solution", "RENPROT", **shown(When("RPYN", "eq", "Y")), cdash="CMTRT"
                ),
                integer(
                    "RPVOL",
                    "Volume infused",
                    "mL",
                    hard=(100, 3000),
                    soft=(1000, 2000),
                    **shown(When("RPYN", "eq", "Y")),
                ),
                clock(
                    "RPSTTIM", "Start of the amino-acid infusion", **shown(When("RPYN", "eq", "Y"))
                ),
                yes_no("ANTIEM", "Antiemetic premedication", required=True),
            ),
            domain="CM",
        ),
        ItemGroup(
            "SAFE",
            "Safety",
            (
                *pregnancy_items("the administration"),
                yes_no("PRCOMP", "Complication of the procedure", required=True),
                text(
                    "PRCOMPD",
                    "Complication: describe (and record it as an adverse event)",
                    **shown(When("PRCOMP", "eq", "Y")),
                ),
            ),
        ),
    ),
    derivations=(
        derive(
            "INFDUR",
            dv.minutes_between,
            "EXSTTIM",
            "EXENTIM",
            formula="End − start of the infusion, in minutes.",
        ),
        derive(
            "ADMACT",
            dv.lu177_administered,
            "ACTSYR",
            "ACTSYRDT",
            "ACTSYRTM",
            "ACTRES",
            "ACTRESDT",
            "ACTRESTM",
            "EXSTDAT",
            "EXSTTIM",
            formula=dv.LU177_FORMULA,
        ),
        derive(
            "ADMDEV",
            dv.percent_deviation,
            "ADMACT",
            "PRESACT",
            formula="(administered − prescribed) / prescribed × 100.",
        ),
    ),
    checks=(
        check(
            "ACTIVITY_WITHIN_10PCT",
            "ADMACT",
            ck.activity_within,
            "ADMACT",
            "PRESACT",
            constants=(ACTIVITY_TOLERANCE_PERCENT,),
        ),
        compare(
            "END_AFTER_START",
            "EXENTIM",
            ">",
            "EXSTTIM",
            message="The infusion ends after it starts.",
            severity=Severity.REJECT,
        ),
        compare(
            "RENAL_PROTECTION_FIRST",
            "RPSTTIM",
            "<=",
            "EXSTTIM",
            message="The amino-acid infusion starts after the 177Lu: are both times right?",
        ),
        compare(
            "AFTER_PETIAH",
            "EXSTDAT",
            ">",
            "PETIAH.PETIAH.PETDAT",
            message="The 177Lu (T0) is not after the PET-IAH (D0): is the date right?",
        ),
        on_visit_date(
            "EXSTDAT",
            "The administration date ({left}) is not the date of this visit ({right}), "
            "which dates T0: which is right?",
        ),
        *pregnancy_checks("the administration"),
    ),
)

SCINT = Form(
    "SCINT",
    "24 h post-therapy scintigraphy / SPECT-CT",
    (
        ItemGroup(
            "SCINT",
            "Post-therapy imaging",
            (
                day("SCDAT", "Date", required=True, cdash="PRSTDAT", sdtm="PR.PRSTDTC"),
                clock("SCTIM", "Time", required=True),
                derived("SCHRS", "Time after the start of administration", units="h"),
                yes_no("WBSCAN", "Whole-body planar scan", required=True),
                yes_no("SPECTCT", "SPECT/CT of the abdomen", required=True),
                choice(
                    "LIVUPT",
                    "Uptake in the liver metastases",
                    "KRENNING",
                    required=True,
                    sdtm="TR.TRORRES[KRENNING]",
                ),
                yes_no(
                    "EXTRAUPT",
                    "Unexpected extra-hepatic uptake in the arterial territory"
                    " (stomach, duodenum, pancreas)",
                    required=True,
                ),
                text("EXTRADESC", "Where", **shown(When("EXTRAUPT", "eq", "Y"))),
                text("SCCOM", "Conclusion", max_length=500),
            ),
            domain="PR",
        ),
    ),
    derivations=(
        derive(
            "SCHRS",
            dv.hours_between,
            "THER.LUADM.EXSTDAT",
            "THER.LUADM.EXSTTIM",
            "SCDAT",
            "SCTIM",
            formula="Scan date and time − start of the 177Lu administration, in hours.",
        ),
    ),
    checks=(
        check(
            "ABOUT_24H",
            "SCTIM",
            ck.hours_within,
            "SCHRS",
            constants=("Scan", 20, 28),
        ),
    ),
)


#: The activities the doses are normalised to: the IAH cycle's (derived on LUADM) and
#: the IV cycles' (one row per cycle at screening).
_IAH_ACTIVITY, _IV_CYCLES = "THER.LUADM.ADMACT", "SCR.PRTX.LUT[]"


def _doses(p: str) -> tuple[Item, ...]:
    """Absorbed doses of one lesion or organ: the IAH cycle, the 4 IV cycles, and derived
    beside them the doses per GBq administered, their IAH/IV ratio and the cumulative dose."""
    dose = {"precision": 2, "hard": (0, 1000)}
    return (
        decimal(f"{p}DIAH", "IAH cycle (5th)", "Gy", required=True, **dose),
        derived(f"{p}NIAH", "IAH, per GBq", units="Gy/GBq"),
        *(decimal(f"{p}DIV{n}", f"IV cycle {n}", "Gy", **dose) for n in range(1, 5)),
        derived(f"{p}NIVMEAN", "IV mean, per GBq", units="Gy/GBq"),
        derived(f"{p}DRATIO", "IAH / IV, per GBq"),
        derived(f"{p}DCUM", "Total, 5 cycles", units="Gy"),
    )


def _dose_derivations(p: str):
    iv = tuple(f"{p}DIV{n}" for n in range(1, 5))
    return (
        derive(
            f"{p}NIAH",
            ds.per_gbq,
            f"{p}DIAH",
            _IAH_ACTIVITY,
            formula="IAH cycle dose (Gy) / administered 177Lu activity of the IAH cycle (GBq).",
        ),
        derive(
            f"{p}NIVMEAN",
            ds.mean_iv_per_gbq,
            _IV_CYCLES,
            *iv,
            formula="Mean over the IV cycles of dose (Gy) / activity of that cycle (GBq),"
            " cycles with both known.",
        ),
        derive(
            f"{p}DRATIO",
            ds.ratio_per_gbq,
            f"{p}DIAH",
            _IAH_ACTIVITY,
            _IV_CYCLES,
            *iv,
            formula="IAH dose per GBq / mean IV dose per GBq (normalised doses, unrounded).",
        ),
        derive(
            f"{p}DCUM",
            dv.cumulative_dose,
            f"{p}DIAH",
            *iv,
            formula="IAH + IV cycles 1–4 (only when all five are known).",
        ),
    )


_DOSIMETRY_DONE = When("DOSYN", "eq", "Y")

#: The cumulative doses derived for the organs that limit PRRT: target item, organ code
#: (DOSORG), whether the IAH cycle counts ("Y"), label, formula.
_CUMULATIVE = (
    (
        "KIDCUMIV",
        ds.KIDNEYS,
        "N",
        "Kidneys, the 4 IV cycles",
        "Sum of the kidney doses of IV cycles 1–4 (the row for both kidneys, else the higher"
        " of the left and right kidney).",
    ),
    (
        "KIDCUM",
        ds.KIDNEYS,
        "Y",
        "Kidneys, the 4 IV cycles and the IAH cycle",
        "Sum of the kidney doses of IV cycles 1–4 and of the IAH cycle (the row for both"
        " kidneys, else the higher of the left and right kidney).",
    ),
    (
        "BMCUMIV",
        ds.MARROW,
        "N",
        "Red bone marrow, the 4 IV cycles",
        "Sum of the red-marrow doses of IV cycles 1–4.",
    ),
    (
        "BMCUM",
        ds.MARROW,
        "Y",
        "Red bone marrow, the 4 IV cycles and the IAH cycle",
        "Sum of the red-marrow doses of IV cycles 1–4 and of the IAH cycle.",
    ),
)

DOSI = Form(
    "DOSI",
    "Lesion and organ absorbed doses (dosimetry sub-group)",
    (
        ItemGroup(
            "DOS",
            "Dosimetry",
            (
                yes_no("DOSYN", "Dosimetry performed after the IAH cycle", required=True),
                choice("DOSMETH", "Method", "DOSMETH", **shown(_DOSIMETRY_DONE)),
                text(
                    "TIMEPTS",
                    "Imaging time points after administration (h)",
                    max_length=60,
                    help="e.g. 4, 24, 96, 168.",
                    **shown(_DOSIMETRY_DONE),
                ),
                text("SOFTWARE", "Dosimetry software", max_length=60, **shown(_DOSIMETRY_DONE)),
            ),
        ),
        ItemGroup(
            "LDOSE",
            "Lesions: absorbed doses (Gy) and doses per GBq administered (Gy/GBq)",
            (
                text(
                    "LESID",
                    "Lesion identifier (as on the PET)",
                    max_length=8,
                    required=True,
                    sdtm="TR.TRLNKID",
                ),
                *_doses(""),
            ),
            repeating=True,
            domain="TR",
        ),
        ItemGroup(
            "ODOSE",
            "Organs: absorbed doses (Gy) and doses per GBq administered (Gy/GBq)",
            (choice("ORGAN", "Organ", "DOSORG", required=True), *_doses("O")),
            repeating=True,
            domain="TR",
        ),
        ItemGroup(
            "CUM",
            "Cumulative doses of the dose-limiting organs",
            tuple(derived(oid, label, units="Gy") for oid, _, _, label, _ in _CUMULATIVE),
        ),
    ),
    derivations=(
        *_dose_derivations(""),
        *_dose_derivations("O"),
        *(
            derive(
                oid,
                ds.organ_cumulative,
                "THER.DOSI.ODOSE[]",
                constants=(code, with_iah),
                formula=formula,
            )
            for oid, code, with_iah, _, formula in _CUMULATIVE
        ),
    ),
    checks=(
        unique(
            "LESION_ONCE",
            "LESID",
            among="THER.DOSI.LDOSE[]",
            message="Lesion {value} is used more than once.",
            severity=Severity.REJECT,
        ),
        unique(
            "ORGAN_ONCE",
            "ORGAN",
            among="THER.DOSI.ODOSE[]",
            message="Organ {value} is used more than once.",
            severity=Severity.REJECT,
        ),
        check(
            "LESION_ON_PET",
            "LESID",
            ck.lesion_on_pet,
            "LESID",
            "PETIV.PETIV.IDX[]",
            "PETIV.PETIV.EXH[]",
        ),
    ),
)
