"""The baseline of the laboratory values, as CTCAE v5.0 grades read it.

Several terms are graded against the subject's baseline when it was abnormal (ALT, AST,
ALP, GGT, bilirubin), or also as a multiple of it (creatinine). The baseline of an
analyte is the last sample before the first study radiopharmaceutical administration:
the 68Ga-DOTA-peptide injected intravenously for the PET after IV injection (visit
PETIV, D-7). A sample taken on the day of that injection counts: blood is drawn before
the injection (the forms record no time of injection to tell otherwise). An unscheduled
sample between screening and PET-IV therefore replaces the screening one; an analyte
missing from the last sample takes its value from the last sample that gave it.
"""

from __future__ import annotations

from forms.language import Baseline

LAB_BASELINE = Baseline(
    name="Last sample before the first 68Ga PET injection",
    rule=(
        "Baseline: the last sample giving the value before the first study"
        " radiopharmaceutical administration (the 68Ga PET after IV injection); a sample"
        " of that day counts."
    ),
    dated_by="LBDAT",
    before=("visit:PETIV",),
    same_day=True,
)
