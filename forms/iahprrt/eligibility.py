"""Eligibility of the IAH-PRRT trial: every inclusion and exclusion criterion of the
registry record (protocol STUDY.md), as data, and the screening checklist built from it.

Each :class:`Criterion` holds its text, the checklist item where the investigator
answers it (``SCR.IE.INC01``...), and, when the data entered elsewhere can decide it, a
pure ``function`` of the inputs it declares (references as everywhere in the
definition, e.g. ``"SCR.LBHEM.HGB"``). The function gets a dict of those references'
typed values and returns:

- True: the criterion is met (inclusion satisfied; for an exclusion: the patient HAS
  the excluding condition),
- False: not met,
- None: the data cannot tell (yet), e.g. a value is missing or the criterion has parts
  only the investigator can judge.

A patient is eligible when every inclusion criterion is met and no exclusion criterion
is: the checklist answer needed is ``Criterion.eligible_answer`` ("Y" for inclusion,
"N" for exclusion). The engine can show each computed result beside the answer with its
inputs as evidence, flag contradictions (the checklist form already does, as WARN
checks), and refuse inclusion while a criterion fails or is unanswered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from forms.iahprrt.codelists import GEP_SITES
from forms.iahprrt.common import day, dec, derive, derived, rows_of, yes_no
from forms.iahprrt.derivations import age_at_consent
from forms.language import (
    EXCLUSION,
    INCLUSION,
    Check,
    Criterion,
    DataType,
    Form,
    ItemGroup,
    Severity,
    Timing,
)

CHECKLIST = ("SCR", "IE")  # visit and form of the checklist

Values = Mapping[str, Any]


def _all(results: list[bool | None]) -> bool | None:
    """Every part met → True; any part not met → False; otherwise None."""
    if any(r is False for r in results):
        return False
    if all(r is True for r in results):
        return True
    return None


def _at_least(value: Any, threshold: Decimal | int) -> bool | None:
    return None if value is None else dec(value) >= threshold


# --- inclusion -------------------------------------------------------------------------


def gep_net(v: Values) -> bool | None:
    histology, differentiation, site = (
        v.get("SCR.NETHX.HISTO"),
        v.get("SCR.NETHX.DIFF"),
        v.get("SCR.NETHX.PRIMSITE"),
    )
    if histology == "N" or differentiation == "POOR" or site == "OTHER":
        return False
    if histology == "Y" and differentiation == "WELL" and site in GEP_SITES:
        return True
    return None


def progressive_or_bulky(v: Values) -> bool | None:
    progression, burden = v.get("SCR.PRTX.PROGSSA"), v.get("SCR.NETHX.HEPBURD")
    if progression == "Y" or burden == "GT50":
        return True
    if progression == "N" and burden in ("LT25", "25TO50"):
        return False
    return None


def four_cycles(v: Values) -> bool | None:
    rows = rows_of(v.get("SCR.PRTX.LUT[]"))
    if not rows:
        return None
    return sum(1 for row in rows if row.get("EXSTDAT") is not None) == 4


def liver_measurable(v: Values) -> bool | None:
    """Only the "assessable by RECIST 1.1" part can be computed: no measurable liver
    target lesion → not met. Dominance and resectability are the investigator's."""
    rows = rows_of(v.get("SCR.TUBL.TL[]"))
    if rows and not any(row.get("ORGAN") == "LIVER" for row in rows):
        return False
    return None


def ecog_0_to_2(v: Values) -> bool | None:
    score = v.get("SCR.ECOG.ECOG")
    return None if score is None else score in ("0", "1", "2")


def creatinine_clearance(v: Values) -> bool | None:
    return _at_least(v.get("SCR.LBCHEM.CRCL"), 50)


def transaminases(v: Values) -> bool | None:
    parts = []
    for analyte in ("ALT", "AST"):
        value, uln = v.get(f"SCR.LBCHEM.{analyte}"), v.get(f"SCR.LBCHEM.{analyte}ULN")
        parts.append(None if value is None or not uln else dec(value) <= Decimal("2.5") * dec(uln))
    return _all(parts)


def blood_counts(v: Values) -> bool | None:
    return _all(
        [
            _at_least(v.get("SCR.LBHEM.HGB"), Decimal(8)),
            _at_least(v.get("SCR.LBHEM.NEUT"), 1500),
            _at_least(v.get("SCR.LBHEM.PLAT"), 100000),
        ]
    )


def adult(v: Values) -> bool | None:
    """Age ≥ 18 at consent. Only month and year of birth are known: in the birth month
    of the 18th birthday the patient may be 17 or 18, so the data cannot tell."""
    birth, consent = v.get("SCR.DM.BRTHYM"), v.get("SCR.IC.ICDAT")
    age = age_at_consent(birth, consent)
    if age is None:
        return None
    if consent.month == birth.month and age == 18:
        return None
    return age >= 18


def consent_signed(v: Values) -> bool | None:
    return True if v.get("SCR.IC.ICDAT") is not None else None


# --- exclusion -------------------------------------------------------------------------


def complete_response(v: Values) -> bool | None:
    answer = v.get("SCR.TUBL.LESYN")
    lesions = rows_of(v.get("SCR.TUBL.TL[]")) + rows_of(v.get("SCR.TUBL.NTL[]"))
    if answer == "N" and not lesions:
        return True
    if lesions:
        return False
    return None


def no_residual_uptake(v: Values) -> bool | None:
    """Met (excluded) when the 24 h scintigraphy after any IV cycle showed no residual
    uptake; not met when all 4 cycles showed residual uptake."""
    rows = rows_of(v.get("SCR.PRTX.LUT[]"))
    if any(row.get("RESUPT") == "N" for row in rows):
        return True
    if len(rows) == 4 and all(row.get("RESUPT") == "Y" for row in rows):
        return False
    return None


def low_lvef(v: Values) -> bool | None:
    lvef = v.get("SCR.LVEF.LVEF")
    return None if lvef is None else lvef < 40


_IAH_CONTRAINDICATIONS = ("COAGDIS", "PORTTHR", "BILDIL", "ANAST", "FISTULA")


def iah_contraindicated(v: Values) -> bool | None:
    answers = [v.get(f"SCR.HEPAT.{oid}") for oid in _IAH_CONTRAINDICATIONS]
    score = v.get("SCR.HEPAT.CPSCORE")
    if "Y" in answers or (score is not None and score >= 8):
        return True
    if all(a == "N" for a in answers) and score is not None:
        return False
    return None


def low_albumin(v: Values) -> bool | None:
    albumin, pt, pt_uln = v.get("SCR.LBCHEM.ALB"), v.get("SCR.COAG.PT"), v.get("SCR.COAG.PTULN")
    if albumin is None:
        return None
    if dec(albumin) >= Decimal("3.0"):
        return False
    if pt is None or pt_uln is None:
        return None
    return dec(pt) > dec(pt_uln)


def cardiovascular(v: Values) -> bool | None:
    """Only the blood pressure can be computed: ≥ 160 systolic or ≥ 95 diastolic on the
    screening measurement → met. Below that, the other events are the investigator's."""
    systolic, diastolic = v.get("SCR.VS.SYSBP"), v.get("SCR.VS.DIABP")
    if (systolic is not None and systolic >= 160) or (diastolic is not None and diastolic >= 95):
        return True
    return None


def pregnant_or_breastfeeding(v: Values) -> bool | None:
    sex = v.get("SCR.DM.SEX")
    if sex == "M":
        return False
    if sex != "F":
        return None
    test, breastfeeding = v.get("SCR.DM.PREGRES"), v.get("SCR.DM.BREASTF")
    if test == "POS" or breastfeeding == "Y":
        return True
    if breastfeeding == "N" and (test == "NEG" or v.get("SCR.DM.CHILDPOT") == "N"):
        return False
    return None


def mri_contraindicated(v: Values) -> bool | None:
    """A hepatic MRI done at inclusion shows MRI is possible (not met); otherwise the
    investigator judges."""
    return False if v.get("SCR.TUBL.MRIDAT") is not None else None


# --- the criteria ----------------------------------------------------------------------

CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "INC01",
        INCLUSION,
        "Histologically proven, well-differentiated neuroendocrine tumour of gastro-intestinal"
        " or pancreatic origin (GEP-NET).",
        ("SCR.NETHX.HISTO", "SCR.NETHX.DIFF", "SCR.NETHX.PRIMSITE"),
        gep_net,
        "NET history: histologically proven, well differentiated, GEP primary site.",
    ),
    Criterion(
        "INC02",
        INCLUSION,
        "Progressive after a cold somatostatin analog (within 12 months, RECIST 1.1), or at"
        " diagnosis when the hepatic invasion exceeds 50 %.",
        ("SCR.PRTX.PROGSSA", "SCR.NETHX.HEPBURD"),
        progressive_or_bulky,
        "Documented RECIST progression under cold SSA, or hepatic burden > 50 % at diagnosis.",
    ),
    Criterion(
        "INC03",
        INCLUSION,
        "Has received the 4 standard-of-care LUTATHERA® cycles.",
        ("SCR.PRTX.LUT[]",),
        four_cycles,
        "Exactly 4 dated LUTATHERA cycles recorded.",
    ),
    Criterion(
        "INC04",
        INCLUSION,
        "Liver metastatic disease dominant or exclusive, assessable by RECIST 1.1, and not"
        " amenable to surgical resection after the last cycle.",
        ("SCR.TUBL.TL[]",),
        liver_measurable,
        "Not met when no RECIST target lesion is in the liver; dominance and resectability"
        " are the investigator's judgement.",
    ),
    Criterion(
        "INC05",
        INCLUSION,
        "ECOG performance status 0–2.",
        ("SCR.ECOG.ECOG",),
        ecog_0_to_2,
        "Screening ECOG 0, 1 or 2.",
    ),
    Criterion(
        "INC06",
        INCLUSION,
        "Creatinine clearance ≥ 50 mL/min.",
        ("SCR.LBCHEM.CRCL",),
        creatinine_clearance,
        "Cockcroft-Gault clearance of the screening sample ≥ 50 mL/min, unrounded (49.96"
        " is not met although shown as 50.0).",
    ),
    Criterion(
        "INC07",
        INCLUSION,
        "ALT and AST ≤ 2.5 × the upper limit of normal.",
        ("SCR.LBCHEM.ALT", "SCR.LBCHEM.ALTULN", "SCR.LBCHEM.AST", "SCR.LBCHEM.ASTULN"),
        transaminases,
        "Screening ALT ≤ 2.5 × its ULN and AST ≤ 2.5 × its ULN.",
    ),
    Criterion(
        "INC08",
        INCLUSION,
        "No haematological alteration after the 4 LUTATHERA® cycles: haemoglobin ≥ 8 g/dL,"
        " neutrophils ≥ 1500/mm³, platelets ≥ 100 000/mm³.",
        ("SCR.LBHEM.HGB", "SCR.LBHEM.NEUT", "SCR.LBHEM.PLAT"),
        blood_counts,
        "Screening haemoglobin ≥ 8.0 g/dL, neutrophils ≥ 1500/mm³, platelets ≥ 100 000/mm³.",
    ),
    Criterion(
        "INC09",
        INCLUSION,
        "Age ≥ 18 years, no upper limit.",
        ("SCR.DM.BRTHYM", "SCR.IC.ICDAT"),
        adult,
        "Age at consent from the month and year of birth (undecided in the birth month of"
        " the 18th birthday).",
    ),
    Criterion(
        "INC10",
        INCLUSION,
        "Contraception for pre-menopausal women and for men, for at least 6 months after the"
        " last LUTATHERA® injection.",
    ),
    Criterion(
        "INC11",
        INCLUSION,
        "Signed written informed consent.",
        ("SCR.IC.ICDAT",),
        consent_signed,
        "A consent date is recorded.",
    ),
    Criterion("INC12", INCLUSION, "Affiliated to a social security system."),
    Criterion(
        "EXC01",
        EXCLUSION,
        "Complete response: no lesion according to RECIST 1.1 on the inclusion imaging"
        " (chest-abdomen-pelvis CT and hepatic MRI).",
        ("SCR.TUBL.LESYN", "SCR.TUBL.TL[]", "SCR.TUBL.NTL[]"),
        complete_response,
        "Baseline tumour assessment: no lesion declared and none listed.",
    ),
    Criterion(
        "EXC02",
        EXCLUSION,
        "No residual uptake on the standard 24 h 177Lu scintigraphy performed in routine"
        " after each LUTATHERA® IV cycle.",
        ("SCR.PRTX.LUT[]",),
        no_residual_uptake,
        "Met if any cycle's 24 h scintigraphy shows no residual uptake; not met when all 4"
        " show residual uptake.",
    ),
    Criterion(
        "EXC03",
        EXCLUSION,
        "Carcinoid heart disease (LVEF < 40 %).",
        ("SCR.LVEF.LVEF",),
        low_lvef,
        "Screening LVEF < 40 %.",
    ),
    Criterion(
        "EXC04",
        EXCLUSION,
        "Dominant or threatening extra-hepatic metastases, or metastases that may affect the"
        " vital prognosis.",
    ),
    Criterion(
        "EXC05",
        EXCLUSION,
        "Contraindication to intra-arterial hepatic infusion: coagulation disorder, portal"
        " thrombosis, intrahepatic biliary dilatation, digestive or biliary anastomosis or"
        " fistula, cirrhosis Child-Pugh B8 or C.",
        (*(f"SCR.HEPAT.{oid}" for oid in _IAH_CONTRAINDICATIONS), "SCR.HEPAT.CPSCORE"),
        iah_contraindicated,
        "Liver status form: any contraindication ticked, or Child-Pugh score ≥ 8.",
    ),
    Criterion(
        "EXC06",
        EXCLUSION,
        "Serum albumin < 3.0 g/dL, unless the prothrombin time is within the normal range.",
        ("SCR.LBCHEM.ALB", "SCR.COAG.PT", "SCR.COAG.PTULN"),
        low_albumin,
        "Screening albumin < 3.0 g/dL with a prothrombin time above the laboratory's upper limit.",
    ),
    Criterion(
        "EXC07",
        EXCLUSION,
        "In the last 12 months: heart failure, myocardial infarction, stroke, uncontrolled"
        " arterial hypertension under optimal treatment (≥ 160/95 mmHg), pulmonary embolism or"
        " revascularisation procedure, unstable angina, uncontrolled cardiac arrhythmia, or"
        " clinically significant bradycardia.",
        ("SCR.VS.SYSBP", "SCR.VS.DIABP"),
        cardiovascular,
        "Met when the screening blood pressure is ≥ 160 systolic or ≥ 95 mmHg diastolic; the"
        " other events are the investigator's.",
    ),
    Criterion(
        "EXC08",
        EXCLUSION,
        "Under legal protection, or unable to give informed consent.",
    ),
    Criterion(
        "EXC09",
        EXCLUSION,
        "Pregnancy or breast-feeding.",
        ("SCR.DM.SEX", "SCR.DM.CHILDPOT", "SCR.DM.PREGRES", "SCR.DM.BREASTF"),
        pregnant_or_breastfeeding,
        "Positive pregnancy test or breast-feeding; not met for men, or for women not"
        " breast-feeding with a negative test or without childbearing potential.",
    ),
    Criterion(
        "EXC10",
        EXCLUSION,
        "Currently participating in another clinical research protocol.",
    ),
    Criterion(
        "EXC11",
        EXCLUSION,
        "MRI contraindicated.",
        ("SCR.TUBL.MRIDAT",),
        mri_contraindicated,
        "Not met when the inclusion hepatic MRI was done.",
    ),
    Criterion("EXC12", EXCLUSION, "LUTATHERA® contraindicated."),
)

BY_ID: dict[str, Criterion] = {c.id: c for c in CRITERIA}


# --- the checklist form ------------------------------------------------------------------


def computed_result(criterion: Criterion, values: Values) -> bool | None:
    """The criterion's computed result, as :meth:`Criterion.evaluate` but letting an
    exception through: in an edit check or a derivation, a criterion that raises is a bug
    of the definition the engine reports (the functions above return None for data that
    cannot decide)."""
    return criterion.function(values) if criterion.function is not None else None


@dataclass(frozen=True)
class Contradiction:
    """Edit check: the computed result of ``criterion`` contradicts the answer."""

    criterion: Criterion

    def __call__(self, values: Values) -> str | None:
        computed = computed_result(self.criterion, values)
        answer = values.get(self.criterion.id)
        if computed is None or answer not in ("Y", "N") or (answer == "Y") == computed:
            return None
        said = "met" if computed else "not met"
        rule = self.criterion.rule.rstrip(".")
        answered = "yes" if answer == "Y" else "no"
        return (
            f"{self.criterion.id}: the data say the criterion is {said} ({rule});"
            f" the answer is {answered}."
        )


def eligible(expected: tuple[str, ...], *answers: str | None) -> str | None:
    """ "Y" when every answer is the one needed for inclusion; "N" as soon as one is not;
    None while unanswered ones leave it open."""
    if any(a is not None and a != e for a, e in zip(answers, expected, strict=True)):
        return "N"
    if any(a is None for a in answers):
        return None
    return "Y"


def failed(ids: tuple[str, ...], expected: tuple[str, ...], *answers: str | None) -> str | None:
    """The criteria answered against inclusion, e.g. "INC06, EXC03"; "none" once every
    criterion is answered and none fails; None while some are unanswered and none fails."""
    names = [i for i, e, a in zip(ids, expected, answers, strict=True) if a is not None and a != e]
    if names:
        return ", ".join(names)
    return "none" if all(a is not None for a in answers) else None


@dataclass(frozen=True)
class NotMet:
    """The criteria not met, as the eligibility engine judges them: answered against
    inclusion, or computed against it from the data (a contradiction either way), e.g.
    "INC06, EXC03"; None when none. Reads the checklist answers and every computed
    criterion's inputs (``inputs``)."""

    criteria: tuple[Criterion, ...]

    @property
    def inputs(self) -> tuple[str, ...]:
        refs = [c.item for c in self.criteria]
        refs += [ref for c in self.criteria for ref in c.inputs]
        return tuple(dict.fromkeys(refs))

    def __call__(self, values: Mapping[str, Any]) -> str | None:
        names = []
        for criterion in self.criteria:
            answer, computed = values.get(criterion.item), computed_result(criterion, values)
            needed = criterion.eligible_answer
            against = answer in ("Y", "N") and answer != needed
            if against or (computed is not None and computed is not (needed == "Y")):
                names.append(criterion.id)
        return ", ".join(names) or None


def _answer(criterion: Criterion):
    help_text = (
        "Yes: the criterion is met."
        if criterion.category == INCLUSION
        else "Yes: the patient has this condition (not eligible)."
    )
    if criterion.computable:
        help_text += f" Computed from the data: {criterion.rule}"
    return yes_no(
        criterion.id,
        f"{criterion.id}. {criterion.text}",
        required=True,
        help=help_text,
        cdash="IEORRES",
        sdtm=f"IE.IEORRES[{criterion.id}]",
    )


_IDS = tuple(c.id for c in CRITERIA)
_EXPECTED = tuple(c.eligible_answer for c in CRITERIA)

IE = Form(
    "IE",
    "Eligibility checklist",
    (
        ItemGroup(
            "IE",
            "Assessment",
            (
                day(
                    "IEDAT",
                    "Date of the eligibility assessment",
                    required=True,
                    timing=Timing.STUDY,
                    cdash="IEDAT",
                    sdtm="IE.IEDTC",
                ),
            ),
        ),
        ItemGroup(
            "INC",
            "Inclusion criteria (yes = met)",
            tuple(_answer(c) for c in CRITERIA if c.category == INCLUSION),
            domain="IE",
        ),
        ItemGroup(
            "EXC",
            "Exclusion criteria (yes = present: not eligible)",
            tuple(_answer(c) for c in CRITERIA if c.category == EXCLUSION),
            domain="IE",
        ),
        ItemGroup(
            "RES",
            "Result",
            (
                derived("ELIGIBLE", "Eligible on the answers", DataType.YES_NO),
                derived("IEFAIL", "Criteria not met", DataType.TEXT, sdtm="IE.IETESTCD"),
            ),
        ),
    ),
    derivations=(
        derive(
            "ELIGIBLE",
            eligible,
            *_IDS,
            constants=(_EXPECTED,),
            formula="Yes when every inclusion criterion is met and no exclusion criterion is;"
            " no as soon as one answer is against inclusion.",
        ),
        derive(
            "IEFAIL",
            failed,
            *_IDS,
            constants=(_IDS, _EXPECTED),
            formula="Inclusion criteria answered no, exclusion criteria answered yes.",
        ),
    ),
    checks=tuple(
        Check(
            f"{c.id}_COMPUTED",
            c.id,
            (*c.inputs, c.id),
            Contradiction(c),
            Severity.WARN,
        )
        for c in CRITERIA
        if c.computable
    ),
)
