"""Synthetic IAH-PRRT patients for ``ecrf demo --subjects N --seed S``.

Pure functions of a random generator, a site code and today's date (nothing here imports
the engine): each patient is a *scenario*, the list of steps a site would take for them,
as plain data. The engine replays the steps through its one write path
(ecrf/demo_data.py), so every value is validated, derived, checked and audited exactly as
if it had been typed in the pages; nothing here computes what the engine derives, except
to choose answers a careful investigator would give (the eligibility checklist).

Steps are small frozen dataclasses, one per service of the write path (dates are
``datetime.date``; form values are the text a user would type): :class:`SetVisitDate`,
:class:`AddUnscheduledVisit`, :class:`SaveForm`, :class:`RemoveRow`, :class:`ChangeStatus`.

Every date lies on or before ``today``; everything else comes from the seed, so one seed
on one day always gives the same patients.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from forms.iahprrt import ctcae, recist
from forms.iahprrt import derivations as dv
from forms.iahprrt.codelists import LABTERM
from forms.iahprrt.eligibility import CRITERIA
from forms.iahprrt.study import STUDY
from forms.values import PartialDate

#: A form's rows as submitted: {(group OID, repeat key): {item OID: typed text}}.
Rows = Mapping[tuple[str, int], Mapping[str, str | list[str]]]


@dataclass(frozen=True)
class SetVisitDate:
    """Date occurrence ``repeat`` of ``visit``; ``deviation_reason`` when the day lies
    outside the visit's window."""

    visit: str
    repeat: int
    day: date
    deviation_reason: str | None = None


@dataclass(frozen=True)
class AddUnscheduledVisit:
    """Open the next occurrence of the unscheduled ``visit`` on ``day``: ``repeat`` is the
    occurrence the engine is expected to number it."""

    visit: str
    repeat: int
    day: date


@dataclass(frozen=True)
class SaveForm:
    """Save ``rows`` into ``form`` of occurrence ``repeat`` of ``visit``, marked complete or
    not; ``reason`` for a change to values already saved."""

    visit: str
    repeat: int
    form: str
    rows: Rows
    complete: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class RemoveRow:
    """Remove row ``key`` of the repeating ``group`` of a form, for ``reason`` (flagged
    removed, never deleted)."""

    visit: str
    repeat: int
    form: str
    group: str
    key: int
    reason: str


@dataclass(frozen=True)
class ChangeStatus:
    """The investigator's decision: the subject's new ``status``, as its value
    ("included", "screen_failure"...), and why."""

    status: str
    reason: str


Step = SetVisitDate | AddUnscheduledVisit | SaveForm | RemoveRow | ChangeStatus


@dataclass(frozen=True)
class Scenario:
    """One patient: the site registering them, the profile they were drawn for, the day
    they signed consent, and the steps the site takes for them, in order."""

    site: str
    profile: str
    consent: date
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Missing:
    """A missing-data code typed in place of a value."""

    code: str


ND, UNK, NA = Missing("ND"), Missing("UNK"), Missing("NA")

#: Where each patient stands today, with its share of a cohort. The order is the priority
#: when a cohort is too small to hold every profile.
PROFILES: dict[str, float] = {
    "therapy_completed": 0.20,  # 5th cycle by IAH, followed to M6
    "therapy_follow_up": 0.22,  # treated (THER), partway through W2..M6
    "imaging_completed": 0.16,  # PET-IV, PET-IAH, safety call, end of study
    "screen_failure": 0.15,
    "included": 0.06,  # eligible, imaging part ahead
    "withdrawn": 0.10,  # consent withdrawn, adverse event, progression, lost
    "death": 0.01,
    "screening": 0.06,  # screening forms in progress
    "imaging_follow_up": 0.04,  # IAH procedure done, safety call ahead
}
THERAPY_PROFILES = frozenset({"therapy_completed", "therapy_follow_up", "death"})

MILESTONES = ("SCR", "IE", "PETIV", "PETIAH", "CALL", "THER", "W2", "W4", "W6", "W8", "M3", "M6")
FOLLOW_UP = ("W2", "W4", "W6", "W8", "M3", "M6")
VISITS = {v.oid: v for v in STUDY.visits}
_GROUPS = {(f.oid, g.oid): g for f in STUDY.forms for g in f.groups}
_SINGLE = {
    (f.oid, i.oid): g.oid for f in STUDY.forms for g in f.groups if not g.repeating for i in g.items
}
#: Items holding a plan rather than an event: they may lie ahead.
_PLANNED = frozenset({"D0PLAN"})
_CRITERIA_BY_ID = {c.id: c for c in CRITERIA}

#: Why screen failures failed: what the data (or the investigator) show, and the
#: criteria only the investigator's judgement decides.
SCREEN_FAILURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "crcl": ("creatinine clearance below 50 mL/min", ()),
    "platelets": ("platelets below 100 000/mm³ after the 4 cycles", ()),
    "transaminases": ("ALT above 2.5 × ULN", ()),
    "lvef": ("carcinoid heart disease, LVEF below 40 %", ()),
    "child_pugh": ("Child-Pugh B liver function", ()),
    "portal": ("portal vein thrombosis on the inclusion MRI", ()),
    "anastomosis": ("bilio-digestive anastomosis (Whipple procedure)", ()),
    "uptake": ("no residual uptake on the 24 h scintigraphy after cycle 3", ()),
    "ecog": ("ECOG performance status 3", ()),
    "hypertension": ("uncontrolled arterial hypertension", ()),
    "no_progression": ("no documented progression, hepatic burden below 50 %", ()),
    "complete_response": ("complete response on the inclusion CT and MRI", ("INC04",)),
    "extrahepatic": ("dominant extra-hepatic (bone) disease", ("EXC04",)),
    "other_trial": ("already in another interventional trial", ("EXC10",)),
}

#: Local laboratories: units and normal limits (creatinine ULN by sex).
LABS: dict[str, dict[str, Any]] = {
    "BDX": {
        "CREATU": "umol/L",
        "CREATULN": {"M": Decimal(106), "F": Decimal(90)},
        "ULN": {"ALT": 41, "AST": 40, "BILI": Decimal("17.0"), "ALP": 130, "GGT": 55},
        "LLN": {"WBC": 4000, "NEUT": 1800, "LYM": 1000, "PLAT": 150000},
        "HGBLLN": {"M": Decimal("13.0"), "F": Decimal("12.0")},
        "ALBLLN": Decimal("3.5"),
        "CGAULN": 100,
        "PTULN": Decimal("13.0"),
        "SCANNER": "Siemens Biograph Vision 600",
    },
    "TLS": {
        "CREATU": "umol/L",
        "CREATULN": {"M": Decimal(104), "F": Decimal(84)},
        "ULN": {"ALT": 35, "AST": 35, "BILI": Decimal("21.0"), "ALP": 120, "GGT": 60},
        "LLN": {"WBC": 4000, "NEUT": 1500, "LYM": 1000, "PLAT": 150000},
        "HGBLLN": {"M": Decimal("13.5"), "F": Decimal("12.0")},
        "ALBLLN": Decimal("3.5"),
        "CGAULN": 98,
        "PTULN": Decimal("13.5"),
        "SCANNER": "GE Discovery MI",
    },
    "NTE": {
        "CREATU": "mg/dL",
        "CREATULN": {"M": Decimal("1.20"), "F": Decimal("1.00")},
        "ULN": {"ALT": 40, "AST": 40, "BILI": Decimal("20.5"), "ALP": 125, "GGT": 50},
        "LLN": {"WBC": 4000, "NEUT": 1800, "LYM": 1200, "PLAT": 150000},
        "HGBLLN": {"M": Decimal("13.0"), "F": Decimal("11.5")},
        "ALBLLN": Decimal("3.5"),
        "CGAULN": 100,
        "PTULN": Decimal("12.8"),
        "SCANNER": "Philips Vereos Digital PET/CT",
    },
}
LABS["*"] = LABS["BDX"]

#: Laboratory value → its CTCAE term, for the grades that call for an adverse event.
_LAB_TERMS = {
    "HGB": "ANEMIA",
    "WBC": "WBCDEC",
    "NEUT": "NEUTDEC",
    "LYM": "LYMDEC",
    "PLAT": "PLATDEC",
    "CREAT": "CREATINC",
    "ALT": "ALTINC",
    "AST": "ASTINC",
    "BILI": "BILIINC",
    "ALP": "ALPINC",
    "GGT": "GGTINC",
    "ALB": "HYPOALB",
}
_HAEMATOLOGY = ("HGB", "WBC", "NEUT", "LYM", "PLAT")

#: Fraction of the blood-count nadir, and of the liver-enzyme peak, reached at each visit.
_NADIR = {"THER": 0.0, "W2": 0.6, "W4": 1.0, "W6": 0.9, "W8": 0.6, "M3": 0.35, "M6": 0.15}
_PEAK = {"THER": 0.0, "W2": 1.0, "W4": 0.5, "W6": 0.25, "W8": 0.1, "M3": 0.0, "M6": 0.0}

_MEDICAL_HISTORY = (
    # term, kind, medication (INN, indication, dose, unit, frequency, route)
    ("Arterial hypertension", "chronic", ("Amlodipine", "Hypertension", "5", "mg", "once daily")),
    ("Type 2 diabetes mellitus", "chronic", ("Metformin", "Diabetes", "1000", "mg", "twice daily")),
    ("Hypothyroidism", "chronic", ("Levothyroxine", "Hypothyroidism", "75", "µg", "once daily")),
    (
        "Gastro-oesophageal reflux disease",
        "chronic",
        ("Pantoprazole", "Reflux", "20", "mg", "once daily"),
    ),
    ("Depressive disorder", "chronic", ("Sertraline", "Depression", "50", "mg", "once daily")),
    ("Knee osteoarthritis", "chronic", ("Paracetamol", "Knee pain", "1", "g", "as needed")),
    ("Hypercholesterolaemia", "chronic", ("Atorvastatin", "Dyslipidaemia", "20", "mg", "daily")),
    ("Cholecystectomy", "surgery", None),
    ("Appendicectomy", "childhood", None),
    ("Renal colic", "episode", None),
)

_DEVIATION_REASONS = (
    "Patient on holiday: visit postponed at the patient's request.",
    "Public holiday: the site was closed on the planned day.",
    "Patient hospitalised in another hospital on the planned day.",
    "Transport strike: the patient could not travel.",
    "Scheduling error at the site.",
)

_ANGIO_AE = (
    # term, grade, relation to the procedure, days after D0 (start, duration)
    ("Puncture site haematoma", "1", "RELATED", (0, 10)),
    ("Abdominal pain", "1", "POSSIBLE", (0, 3)),
    ("Nausea", "1", "UNLIKELY", (0, 2)),
    ("Back pain", "1", "UNLIKELY", (1, 5)),
)
_THERAPY_AE = (
    # term, grades, relation to the procedure, to 177Lu, days after T0 (start, duration),
    # probability, treatment (medication, indication, dose, unit, frequency, route)
    (
        "Nausea",
        ("1", "2"),
        "UNLIKELY",
        "PROBABLE",
        (0, 2),
        0.35,
        ("Metoclopramide", "Nausea", "10", "mg", "three times daily", "ORAL"),
    ),
    ("Vomiting", ("1", "2"), "UNLIKELY", "PROBABLE", (0, 1), 0.10, None),
    (
        "Abdominal pain",
        ("1", "2"),
        "POSSIBLE",
        "POSSIBLE",
        (0, 4),
        0.20,
        ("Paracetamol", "Abdominal pain", "1", "g", "four times daily", "ORAL"),
    ),
    ("Fatigue", ("1", "2"), "NOT", "PROBABLE", (3, 30), 0.40, None),
    ("Puncture site haematoma", ("1",), "RELATED", "NOT", (0, 10), 0.05, None),
    ("Diarrhoea", ("1",), "NOT", "UNLIKELY", (5, 10), 0.10, None),
    ("Alopecia", ("1",), "NOT", "POSSIBLE", (20, 60), 0.05, None),
)
_SERIOUS_AE = (
    # term, relation to the procedure, to 177Lu, duration (days), medication
    (
        "Acute cholangitis",
        "POSSIBLE",
        "POSSIBLE",
        (6, 14),
        ("Ceftriaxone", "Acute cholangitis", "2", "g", "once daily", "INTRAVENOUS"),
    ),
    (
        "Liver abscess",
        "PROBABLE",
        "POSSIBLE",
        (14, 30),
        ("Amoxicillin-clavulanic acid", "Liver abscess", "1", "g", "three times daily", "ORAL"),
    ),
    ("Small bowel obstruction", "NOT", "UNLIKELY", (4, 9), None),
    (
        "Pneumonia",
        "NOT",
        "NOT",
        (7, 12),
        ("Amoxicillin", "Pneumonia", "1", "g", "three times daily", "ORAL"),
    ),
)


# --- a cohort ------------------------------------------------------------------------------


def allocate(count: int) -> list[str]:
    """Profiles of a cohort of ``count``: each present once as soon as the cohort can hold
    them all, the rest shared by the weights of :data:`PROFILES` (largest remainders)."""
    names = list(PROFILES)
    if count <= len(names):
        return names[:count]
    extra = count - len(names)
    shares = {name: 1 + PROFILES[name] * extra for name in names}
    counts = {name: int(share) for name, share in shares.items()}
    left = count - sum(counts.values())
    by_remainder = sorted(names, key=lambda n: (counts[n] - shares[n], names.index(n)))
    for name in by_remainder[:left]:
        counts[name] += 1
    return [name for name in names for _ in range(counts[name])]


def cohort(seed: int, count: int, sites: Sequence[str], today: date) -> Iterator[Scenario]:
    """``count`` patients spread over ``sites`` (the first recruits most), in the order
    they signed consent (the order they are registered in), generated one at a time."""
    if count <= 0 or not sites:
        return
    rng = random.Random(f"iahprrt-demo:{seed}")
    profiles = allocate(count)
    rng.shuffle(profiles)
    weights = [len(sites) + 1 - i for i in range(len(sites))]
    # Small cohorts still show every kind of finding: the first fully treated patient has
    # a grade 3 toxicity with no adverse event recorded, and a visit out of its window.
    special = next((i for i, p in enumerate(profiles) if p == "therapy_completed"), None)
    patients = []
    for index, profile in enumerate(profiles):
        site = rng.choices(list(sites), weights=weights)[0]
        features = ("toxicity", "forgotten_ae", "late_visit") if index == special else ()
        # Dating the consent needs the time line only, not the patient's data.
        consent = _Patient(_rng(seed, index), site, today, profile, frozenset(features)).consent
        patients.append((consent, index, site, profile, features))
    for _, index, site, profile, features in sorted(patients):
        yield patient(_rng(seed, index), site, today, profile, features)


def _rng(seed: int, index: int) -> random.Random:
    """Each patient's own generator: patients do not depend on one another."""
    return random.Random(f"iahprrt-demo:{seed}:{index}")


def patient(
    rng: random.Random,
    site: str,
    today: date,
    profile: str | None = None,
    features: Sequence[str] = (),
) -> Scenario:
    """One synthetic patient of ``site`` whose last event is on or before ``today``.

    ``profile``: one of :data:`PROFILES` (drawn by its weight when None); ``features``:
    "toxicity" (a grade 3 lymphopenia), "forgotten_ae" (its adverse event never recorded),
    "late_visit" (a follow-up visit outside its window).
    """
    if profile is None:
        profile = rng.choices(list(PROFILES), weights=list(PROFILES.values()))[0]
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}")
    return _Patient(rng, site, today, profile, frozenset(features)).build()


# --- values ------------------------------------------------------------------------------


def _text(value: Any) -> str | list[str]:
    """What a user types for ``value``."""
    if isinstance(value, Missing):
        return value.code
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value)  # str, int, date (ISO 8601), PartialDate (ISO 8601)


def _q(value: float | Decimal, places: int) -> Decimal:
    """Round half-up to ``places`` decimals."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _clock(minutes: int) -> time:
    minutes = max(0, min(minutes, 23 * 60 + 59))
    return time(minutes // 60, minutes % 60)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _partial(day: date, parts: int) -> PartialDate:
    """``day`` with its year only (1), year and month (2), or complete (3)."""
    return PartialDate(day.year, day.month if parts >= 2 else None, day.day if parts == 3 else None)


def _round_to(value: float, step: int) -> int:
    return int(round(value / step) * step)


# --- one patient ----------------------------------------------------------------------------


class _Patient:
    def __init__(
        self, rng: random.Random, site: str, today: date, profile: str, features: frozenset[str]
    ) -> None:
        self.rng = rng
        self.site = site
        self.today = today
        self.profile = profile
        self.features = features
        self.lab = LABS.get(site, LABS["*"])
        self.steps: list[Step] = []
        #: What the data hold: "VISIT.FORM.ITEM" → typed value; "VISIT.FORM.GROUP[]" →
        #: {key: row}. The eligibility answers are chosen from it.
        self.values: dict[str, Any] = {}
        self.ae: dict[int, dict[str, Any]] = {}
        self.cm: dict[int, dict[str, Any]] = {}
        #: (day, "AE" or "CM", row): events and treatments ending after the last contact.
        self.due: list[tuple[date, str, int]] = []
        self.pending_ae: list[tuple[Any, ...]] = []
        self.sae_rows = 0
        self.cm_rows = 0
        self.dv_rows = 0
        self.dirty: dict[str, dict[int, dict[str, Any]]] = {"AE": {}, "SAE": {}, "CM": {}, "DV": {}}
        self.logs_saved: set[str] = set()
        self.uns = 0
        self.lab_ae: dict[str, int] = {}  # CTCAE term → open adverse event
        self.forgotten: set[str] = set()  # CTCAE terms whose grade ≥ 3 the site missed

        self.variant = rng.choice(("consent", "ae", "progression", "lost"))
        if profile in THERAPY_PROFILES or (
            profile == "withdrawn" and self.variant in ("ae", "progression", "lost")
        ):
            self.therapy = True
        elif profile in ("imaging_completed", "imaging_follow_up"):
            self.therapy = False
        else:
            self.therapy = rng.random() < 0.55
        self.failures: tuple[str, ...] = ()
        if profile == "screen_failure":
            first = rng.choice(list(SCREEN_FAILURES))
            self.failures = (first,)
            if rng.random() < 0.15:
                second = rng.choice([f for f in SCREEN_FAILURES if f not in self.failures])
                if "complete_response" not in (first, second):  # that one comes alone
                    self.failures = (first, second)
        self.last = self._last_milestone()
        self._plan()
        self._anchor()

    # --- random helpers ---------------------------------------------------------------------

    def i(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def u(self, low: float, high: float, places: int | None = None) -> Any:
        value = self.rng.uniform(low, high)
        return value if places is None else _q(value, places)

    def p(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options: Sequence[Any]) -> Any:
        return self.rng.choice(list(options))

    def weighted(self, options: dict[Any, float]) -> Any:
        return self.rng.choices(list(options), weights=list(options.values()))[0]

    def day(self, offset: int) -> date:
        return self.consent + timedelta(days=offset)

    def done(self, milestone: str) -> bool:
        return MILESTONES.index(milestone) <= MILESTONES.index(self.last)

    # --- the time line ----------------------------------------------------------------------

    def _last_milestone(self) -> str:
        profile = self.profile
        if profile == "screening":
            return "SCR"
        if profile == "screen_failure":
            return "IE"
        if profile == "included":
            return self.pick(("IE", "PETIV"))
        if profile == "imaging_follow_up":
            return "PETIAH"
        if profile == "imaging_completed":
            return "CALL"
        if profile == "therapy_follow_up":
            return self.weighted({"THER": 1, "W2": 1.2, "W4": 1.2, "W6": 1, "W8": 1, "M3": 1.5})
        if profile == "therapy_completed":
            return "M6"
        if profile == "death":
            return "W4"
        return {"consent": "PETIV", "ae": "W4", "progression": "M3", "lost": "W6"}[self.variant]

    def _plan(self) -> None:
        """Days from consent (day 0, the screening visit) of every event of the protocol."""
        plan: dict[str, int] = {"SCR": 0}
        plan["lab"] = self.i(0, 3)
        plan["ct"] = self.i(0, 8)
        plan["mri"] = plan["ct"] + self.i(0, 3)
        plan["echo"] = self.i(0, 10)
        plan["IE"] = max(plan["lab"], plan["mri"], plan["echo"]) + self.i(1, 4)
        plan["D0"] = plan["IE"] + self.i(11, 20)
        plan["PETIV"] = plan["D0"] - self.i(3, 10)
        plan["PETIAH"] = plan["D0"]
        done_follow_up = [v for v in ("CALL", *FOLLOW_UP) if self.done(v)]
        if not self.therapy:
            done_follow_up = [v for v in done_follow_up if v == "CALL"]
        late = None
        if done_follow_up and ("late_visit" in self.features or self.p(0.08)):
            late = self.pick([v for v in done_follow_up if v != "CALL"] or done_follow_up)
        self.late = late
        plan["CALL"] = self._scheduled("CALL", plan["D0"])
        plan["THER"] = plan["D0"] + 28 + self.i(-3, 8)
        for oid in FOLLOW_UP:
            plan[oid] = self._scheduled(oid, plan["THER"])
        self.plan = plan

    def _scheduled(self, oid: str, base: int) -> int:
        visit = VISITS[oid]
        low, high = visit.window
        if oid == self.late:
            return base + high + self.i(1, 4)
        margin = min(visit.offset_days - low, high - visit.offset_days)
        jitter = min(margin - 1, {"M3": 4, "M6": 8}.get(oid, 2))
        return base + visit.offset_days + self.i(-jitter, jitter)

    def _anchor(self) -> None:
        """Date the consent so that what is done is past and what is not is still ahead."""
        plan = self.plan
        horizon = plan["lab"] if self.profile == "screening" else plan[self.last]
        if self.last == "THER":
            horizon += 1  # the 24 h scintigraphy
        upcoming: int | None = None
        self.end: int | None = None
        self.death: int | None = None
        if self.profile == "screen_failure":
            self.end = plan["IE"] + self.i(0, 2)
        elif self.profile == "imaging_completed":
            self.end = plan["CALL"]
        elif self.profile == "therapy_completed":
            self.end = plan["M6"]
        elif self.profile == "death":
            self.event = plan["W4"] + self.i(4, 12)
            self.death = self.event + self.i(2, 8)
            self.end = self.death
        elif self.profile == "withdrawn":
            self.end = {
                "consent": plan["PETIV"] + self.i(1, max(1, plan["D0"] - plan["PETIV"] - 1)),
                "ae": plan["W4"],
                "progression": plan["M3"] + self.i(0, 5),
                "lost": plan["W6"] + self.i(60, 80),
            }[self.variant]
        elif self.profile != "screening":
            following = MILESTONES[MILESTONES.index(self.last) + 1]
            if not self.therapy and following == "THER":
                following = "CALL"
            upcoming = plan[following]
        if self.end is not None:
            horizon = max(horizon, self.end)
            gap = self.i(3, 730)
        elif upcoming is not None:
            gap = self.i(0, max(0, upcoming - horizon - 1))
        else:
            gap = self.i(0, 6)
        self.consent = self.today - timedelta(days=horizon + gap)
        #: Nothing of this patient is dated after this day (at the latest, today).
        self.horizon = self.consent + timedelta(days=horizon)

    # --- steps ------------------------------------------------------------------------------

    def visit(self, oid: str, offset: int, repeat: int = 1) -> date:
        deviation = self.pick(_DEVIATION_REASONS) if oid == self.late else None
        day = self.day(offset)
        self.steps.append(SetVisitDate(oid, repeat, day, deviation))
        return day

    def form(
        self,
        visit: str,
        form: str,
        rows: dict[tuple[str, int], dict[str, Any]],
        *,
        complete: bool = True,
        repeat: int = 1,
        reason: str | None = None,
    ) -> None:
        submitted = {}
        for (group, key), row in rows.items():
            for item, value in row.items():
                first = value.earliest() if isinstance(value, PartialDate) else value
                future = isinstance(first, date) and first > self.horizon
                if future and item not in _PLANNED:  # a generator bug
                    raise AssertionError(f"{visit}.{form}.{group}: {value} after {self.horizon}")
            submitted[(group, key)] = {k: _text(v) for k, v in row.items() if v is not None}
            self._remember(visit, form, group, key, row)
        self.steps.append(SaveForm(visit, repeat, form, submitted, complete, reason))

    def single(self, form: str, values: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
        """Items of a form's non-repeating groups, each placed in its group."""
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        for item, value in values.items():
            rows.setdefault((_SINGLE[(form, item)], 1), {})[item] = value
        return rows

    def _remember(self, visit: str, form: str, group: str, key: int, row: dict[str, Any]) -> None:
        typed = {k: (None if isinstance(v, Missing) else v) for k, v in row.items()}
        if _GROUPS[(form, group)].repeating:
            rows = self.values.setdefault(f"{visit}.{form}.{group}[]", {})
            rows.setdefault(key, {}).update(typed)
        else:
            for item, value in typed.items():
                self.values[f"{visit}.{form}.{item}"] = value

    def lookup(self, ref: str) -> Any:
        if ref.endswith("[]"):
            rows = self.values.get(ref, {})
            return [rows[k] for k in sorted(rows)]
        return self.values.get(ref)

    def status(self, status: str, reason: str) -> None:
        self.steps.append(ChangeStatus(status, reason))

    # --- the patient ------------------------------------------------------------------------

    def build(self) -> Scenario:
        self._screening()
        if self.profile == "screening":
            return self._scenario()
        eligible = self._eligibility()
        if self.profile == "screen_failure":
            self._end_of_study("SCREENFAIL", self.end, self.plan["IE"])
            reasons = "; ".join(SCREEN_FAILURES[f][0] for f in self.failures)
            self.status("screen_failure", f"Not eligible: {reasons}.")
            return self._scenario()
        if not eligible:
            raise AssertionError("an included patient must be eligible")  # generator bug
        iedat = self.day(self.plan["IE"])
        self.status("included", f"Eligible on the checklist of {iedat}: all criteria satisfied.")
        self._lesions()
        if self.done("PETIV"):
            self._pet_iv()
        if self.profile == "withdrawn" and self.variant == "consent":
            self._flush_logs()
            self._end_of_study("WITHDRAWN", self.end, self.end)
            self.status("withdrawn", "Consent withdrawn before the IAH procedure.")
            return self._scenario()
        if not self.done("PETIAH"):
            self._flush_logs()
            return self._scenario()
        self._pet_iah()
        self.status("in_follow_up", f"IAH procedure (D0) done on {self.day(self.plan['D0'])}.")
        if not self.done("CALL"):
            self._flush_logs()
            return self._scenario()
        self._call()
        if not self.therapy:
            self._end_of_study("COMPLETED", self.plan["CALL"], self.plan["CALL"])
            self.status("completed", "Imaging part completed; end of study after the safety call.")
            return self._scenario()
        if self.done("THER"):
            self._therapy()
        previous = "THER"
        for oid in FOLLOW_UP:
            if not self.done(oid):
                break
            self._follow_up(oid, previous)
            previous = oid
        self._ending()
        return self._scenario()

    def _scenario(self) -> Scenario:
        for step in self.steps:
            dated = isinstance(step, (SetVisitDate, AddUnscheduledVisit))
            if dated and step.day > self.horizon:  # a generator bug
                raise AssertionError(f"{step} is after {self.horizon}")
        return Scenario(self.site, self.profile, self.consent, tuple(self.steps))

    def _ending(self) -> None:
        plan = self.plan
        if self.profile == "therapy_completed":
            self._end_of_study("COMPLETED", plan["M6"], plan["M6"])
            self.status("completed", "Completed the study as planned at M6.")
        elif self.profile == "death":
            self._death()
        elif self.profile == "withdrawn":
            if self.variant == "ae":
                self._end_of_study("AE", plan["W4"], plan["W4"])
                self.status(
                    "withdrawn", "Withdrawn for an adverse event (investigator's decision)."
                )
            elif self.variant == "progression":
                self._end_of_study("PROGRESSION", self.end, self.end)
                self.status("withdrawn", "Disease progression (RECIST 1.1) at month 3.")
            else:
                self._end_of_study("LOST", self.end, plan["W6"])
                self.status("withdrawn", "Lost to follow-up after week 6 (three contact attempts).")
        else:
            self._flush_logs()

    # --- screening --------------------------------------------------------------------------

    def _screening(self) -> None:
        plan, fails = self.plan, set(self.failures)
        consent = self.day(0)
        in_progress = self.profile == "screening"
        ic = {
            "ICDAT": consent,
            "ICVERS": self.pick(("2.0 of 2021-03-02", "2.1 of 2022-01-17", "3.0 of 2023-06-05")),
            "D0PLAN": self.day(plan["D0"]),
            "THERAPY": "Y" if self.therapy else "N",
        }
        if self.therapy:
            ic["DOSIM"] = "Y" if self.p(0.5) else "N"
        self.dosimetry = ic.get("DOSIM") == "Y"
        self.form("SCR", "IC", {("IC", 1): ic})
        self.visit("SCR", 0)

        # Demographics
        self.sex = "M" if self.p(0.55) else "F"
        age = self._physique(fails)
        month = self.i(1, 12)
        year = consent.year - age - (1 if month > consent.month else 0)
        dm: dict[str, Any] = {"BRTHYM": PartialDate(year, month), "SEX": self.sex}
        if self.sex == "F":
            childbearing = age < 52 and self.p(0.6)
            dm["CHILDPOT"] = "Y" if childbearing else "N"
            if childbearing:
                dm |= {"PREGDAT": self.day(plan["lab"]), "PREGSPEC": "SERUM", "PREGRES": "NEG"}
            dm["BREASTF"] = "N"
        self.childbearing = dm.get("CHILDPOT") == "Y"
        self.age = age
        self.form("SCR", "DM", self.single("DM", dm))
        self.values["SCR.DM.AGE"] = dv.age_at_consent(dm["BRTHYM"], consent)

        self._medical_history(consent)
        self._net_history(consent, fails)
        self.form(
            "SCR",
            "ECOG",
            {
                ("ECOG", 1): {
                    "ECOGDAT": consent,
                    "ECOG": "3"
                    if "ecog" in fails
                    else self.weighted({"0": 0.55, "1": 0.4, "2": 0.05}),
                }
            },
        )
        self._screening_vitals(consent, fails)
        lab_day = self.day(plan["lab"])
        self._screening_labs(lab_day, fails, complete=not (in_progress and self.p(0.5)))
        if in_progress:
            return
        hepat = {k: "N" for k in ("COAGDIS", "PORTTHR", "BILDIL", "ANAST", "FISTULA", "CIRRH")}
        hepat |= {"ASCITES": "MILD" if "child_pugh" in fails else "NONE", "HEPENC": "NONE"}
        if "portal" in fails:
            hepat["PORTTHR"] = "Y"
        if "anastomosis" in fails:
            hepat["ANAST"] = "Y"
        self.form("SCR", "HEPAT", self.single("HEPAT", hepat))
        self.values["SCR.HEPAT.CPSCORE"] = dv.child_pugh_score(
            self.lookup("SCR.LBCHEM.BILI"),
            self.lookup("SCR.LBCHEM.ALB"),
            self.lookup("SCR.COAG.INR"),
            hepat["ASCITES"],
            hepat["HEPENC"],
        )
        lvef = self.i(30, 38) if "lvef" in fails else self.i(52, 72)
        self.form(
            "SCR",
            "LVEF",
            {
                ("LVEF", 1): {
                    "LVEFDAT": self.day(plan["echo"]),
                    "LVEFMETH": self.weighted({"ECHO": 0.85, "MUGA": 0.05, "CMR": 0.1}),
                    "LVEF": lvef,
                    "CHDVALVE": "Y" if "lvef" in fails else (UNK if self.p(0.05) else "N"),
                }
            },
        )
        self._baseline_tumours(fails)

    def _medical_history(self, consent: date) -> None:
        chosen = [h for h in _MEDICAL_HISTORY if self.p(0.18)]
        rows: dict[tuple[str, int], dict[str, Any]] = {
            ("MHYN", 1): {"MHYN": "Y" if chosen else "N"}
        }
        self.medications: list[tuple[Any, ...]] = []
        for key, (term, kind, medication) in enumerate(chosen, start=1):
            start = consent - timedelta(days=self.i(400, 6000))
            row: dict[str, Any] = {"MHTERM": term}
            if kind == "childhood":
                row |= {"MHSTDAT": UNK, "MHONGO": "N", "MHENDAT": UNK}
            elif kind in ("surgery", "episode"):
                when = _partial(start, self.pick((1, 2, 2)))
                row |= {"MHSTDAT": when, "MHONGO": "N", "MHENDAT": when}
            else:
                row |= {"MHSTDAT": _partial(start, self.pick((1, 2, 2, 3))), "MHONGO": "Y"}
            rows[("MH", key)] = row
            if medication is not None:
                self.medications.append((*medication, "ORAL", row["MHSTDAT"]))
        self.form("SCR", "MH", rows)

    def _net_history(self, consent: date, fails: set[str]) -> None:
        last_cycle = consent - timedelta(days=self.i(70, 220))
        cycles = [last_cycle]
        for _ in range(3):
            cycles.insert(0, cycles[0] - timedelta(days=self.i(49, 63)))
        progression = cycles[0] - timedelta(days=self.i(30, 150))
        ssa_start = progression - timedelta(days=self.i(180, 1200))
        diagnosis = ssa_start - timedelta(days=self.i(10, 400))
        site = "PANCREAS" if "anastomosis" in fails else None
        site = site or self.weighted(
            {
                "SMALLINT": 0.45,
                "PANCREAS": 0.33,
                "GEPUNK": 0.05,
                "DUODENUM": 0.04,
                "STOMACH": 0.03,
                "COLON": 0.03,
                "RECTUM": 0.05,
                "APPENDIX": 0.02,
            }
        )
        grade = self.weighted({"G1": 0.3, "G2": 0.62, "G3": 0.08})
        ki67 = {"G1": self.u(0.5, 2.9, 1), "G2": self.u(3, 19, 1), "G3": self.u(21, 32, 1)}[grade]
        if self.p(0.1):
            ki67 = UNK  # not reported on an old histology report
        extra_sites: list[str] = []
        if "extrahepatic" in fails:
            extra_sites = ["BONE", "NODE"]
        elif self.p(0.4):
            extra_sites = self.pick(
                (["NODE"], ["NODE"], ["BONE"], ["NODE", "BONE"], ["PERITONEUM"])
            )
        self.extra_sites = extra_sites
        synchronous = self.p(0.7)
        liver_mets = diagnosis + timedelta(
            days=0 if synchronous else self.i(90, max(91, (progression - diagnosis).days // 2))
        )
        burden = "GT50" if self.p(0.25) else self.pick(("LT25", "25TO50", "25TO50"))
        if "no_progression" in fails:
            burden = self.pick(("LT25", "25TO50"))
        net = {
            "DIAGDAT": _partial(diagnosis, self.weighted({1: 0.1, 2: 0.7, 3: 0.2})),
            "PRIMSITE": site,
            "HISTO": "Y",
            "DIFF": "WELL",
            "GRADE": grade,
            "KI67": ki67,
            "SYNDROME": "Y" if site == "SMALLINT" and self.p(0.5) else "N",
        }
        resected = self.p(0.7 if site == "SMALLINT" else 0.3) or "anastomosis" in fails
        met = {
            "LIVMETDAT": _partial(liver_mets, self.weighted({1: 0.15, 2: 0.6, 3: 0.25})),
            "HEPBURD": burden,
            "EXTRAHEP": "Y" if extra_sites else "N",
            "EXHSITES": extra_sites or None,
            "PRIMRES": "Y" if resected else "N",
            "LIVERTX": self.pick((None, None, None, ["TACE"], ["RESECT"], ["ABLATION"])),
            "SYSTX": (
                self.pick((None, ["EVEROLIMUS"], ["CHEMO"], ["SUNITINIB"]))
                if site == "PANCREAS"
                else self.pick((None, None, None, ["EVEROLIMUS"]))
            ),
        }
        self.form("SCR", "NETHX", {("NET", 1): net, ("MET", 1): met})
        self.primary = site
        if net["SYNDROME"] == "Y":
            self.medications.append(
                ("Loperamide", "Carcinoid syndrome diarrhoea", "2", "mg", "as needed", "ORAL", None)
            )

        # Somatostatin analogs and the 4 LUTATHERA cycles
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        if self.p(0.35):
            switch = ssa_start + timedelta(
                days=self.i(120, max(121, (progression - ssa_start).days))
            )
            rows[("SSA", 1)] = {
                "SSATRT": "OCTLAR",
                "SSADOSE": Decimal(30),
                "SSASTDAT": _partial(ssa_start, 2),
                "SSAONGO": "N",
                "SSAENDAT": _partial(switch, 2),
            }
            ssa_start = switch
        rows[("SSA", len(rows) + 1)] = {
            "SSATRT": "LANREO",
            "SSADOSE": UNK if self.p(0.05) else Decimal(120),
            "SSASTDAT": _partial(ssa_start, self.pick((2, 3))),
            "SSAONGO": "Y",
        }
        progressed = "no_progression" not in fails and (burden != "GT50" or self.p(0.8))
        rows[("PROG", 1)] = {"PROGSSA": "Y" if progressed else "N"}
        if progressed:
            rows[("PROG", 1)]["PROGDAT"] = progression
        for n, day in enumerate(cycles, start=1):
            residual = "N" if ("uptake" in self.failures and n == 3) else "Y"
            rows[("LUT", n)] = {
                "CYCLE": n,
                "EXSTDAT": day,
                "EXDOSE": self.i(7250, 7550) if self.p(0.9) else self.i(5400, 5600),
                "SCINT24": "Y",
                "RESUPT": residual,
            }
        self.form("SCR", "PRTX", rows)
        self.last_cycle = last_cycle

    def _physique(self, fails: set[str]) -> int:
        """Age, weight and serum creatinine together: eligible patients have a creatinine
        clearance of at least 50 mL/min (screen failures on it, well below)."""
        sex, unit = self.sex, self.lab["CREATU"]
        uln = float(self.lab["CREATULN"][sex])
        low_clearance = "crcl" in fails
        for _ in range(200):
            if low_clearance:
                age, weight, factor = self.i(74, 84), self.u(46, 60, 1), self.u(1.3, 2.0)
            else:
                age = round(min(84, max(38, self.rng.gauss(63, 9))))
                weight = self.u(58, 98, 1) if sex == "M" else self.u(47, 84, 1)
                factor = self.u(0.55, 0.95)
            creat = _q(uln * factor, 2) if unit == "mg/dL" else _q(uln * factor, 0)
            clearance = dv.cockcroft_gault(age, weight, sex, creat, unit)
            if (clearance < 45) if low_clearance else (clearance >= 55):
                break
        self.weight, self.creat = weight, creat
        self.height = self.i(165, 190) if sex == "M" else self.i(152, 175)
        return age

    def _screening_vitals(self, consent: date, fails: set[str]) -> None:
        weight, height = self.weight, self.height
        systolic = self.i(165, 182) if "hypertension" in fails else self.i(108, 152)
        diastolic = (
            self.i(96, 104) if "hypertension" in fails else self.i(62, min(92, systolic - 30))
        )
        vs = {
            "VSDAT": consent,
            "WEIGHT": weight,
            "HEIGHT": height,
            "SYSBP": systolic,
            "DIABP": diastolic,
            "PULSE": self.i(58, 92),
            "TEMP": self.u(36.1, 37.2, 1),
        }
        self.form("SCR", "VS", {("VS", 1): vs})

    def _screening_labs(self, day: date, fails: set[str], *, complete: bool) -> None:
        lab, sex = self.lab, self.sex
        neut = _round_to(self.u(1900, 5200), 10)
        lym = _round_to(self.u(620, 1700), 10)
        plat = _round_to(self.u(62000, 95000), 1000) if "platelets" in fails else None
        baseline = {
            "HGB": self.u(11.6, 14.8, 1) if sex == "M" else self.u(10.6, 13.6, 1),
            "NEUT": neut,
            "LYM": lym,
            "WBC": neut + lym + _round_to(self.u(300, 900), 10),
            "PLAT": plat or _round_to(self.u(115000, 290000), 1000),
        }
        uln, unit = lab["ULN"], lab["CREATU"]
        alt_abnormal, alp_abnormal = self.p(0.2), self.p(0.45)
        if "transaminases" in fails:
            alt = self.u(2.7, 3.5)
        else:
            alt = self.u(1.1, 2.0) if alt_abnormal else self.u(0.3, 0.95)
        chem: dict[str, Any] = {"CREAT": self.creat, "ALT": round(uln["ALT"] * alt)}
        chem["AST"] = round(uln["AST"] * (self.u(1.05, 1.9) if alt_abnormal else self.u(0.4, 0.95)))
        if "child_pugh" in fails:
            chem["BILI"] = self.u(36, 48, 1)
            chem["ALB"] = self.u(2.8, 3.1, 1)
        else:
            chem["BILI"] = _q(
                float(uln["BILI"]) * (self.u(1.0, 1.4) if self.p(0.1) else self.u(0.3, 0.9)), 1
            )
            chem["ALB"] = self.u(3.1, 3.4, 1) if self.p(0.15) else self.u(3.5, 4.6, 1)
        chem["ALP"] = round(uln["ALP"] * (self.u(1.1, 2.4) if alp_abnormal else self.u(0.45, 0.95)))
        chem["GGT"] = round(uln["GGT"] * (self.u(1.1, 4.0) if self.p(0.5) else self.u(0.4, 0.95)))
        chem["CGA"] = ND if self.p(0.08) else round(lab["CGAULN"] * math.exp(self.u(-0.5, 3.5)))
        self.baseline = baseline | {k: v for k, v in chem.items() if not isinstance(v, Missing)}
        self.baseline_day = day
        hem = {"LBDAT": day, "LBTIM": _clock(self.i(7 * 60 + 30, 10 * 60 + 30))}
        hem |= self._haematology_values(baseline)
        self.form("SCR", "LBHEM", {("LBHEM", 1): hem}, complete=complete)
        chemistry = {"LBDAT": day, **self._chemistry_values(chem)}
        self.form("SCR", "LBCHEM", {("LBCHEM", 1): chemistry}, complete=complete)
        self.values["SCR.LBCHEM.CRCL"] = dv.cockcroft_gault(
            self.values["SCR.DM.AGE"], self.weight, sex, self.creat, unit
        )
        pt_uln = lab["PTULN"]
        coag = {
            "LBDAT": day,
            "PT": _q(float(pt_uln) * self.u(0.85, 1.04), 1),
            "PTULN": pt_uln,
            "INR": self.u(1.5, 1.9, 2) if "child_pugh" in fails else self.u(0.9, 1.15, 2),
            "APTTR": ND if self.p(0.1) else self.u(0.85, 1.15, 2),
        }
        if "child_pugh" in fails:
            coag["PT"] = _q(float(pt_uln) * self.u(1.15, 1.4), 1)
        self.form("SCR", "COAG", {("COAG", 1): coag}, complete=complete)

    def _haematology_values(self, values: dict[str, Any]) -> dict[str, Any]:
        lab = self.lab
        return {
            "HGB": values["HGB"],
            "HGBLLN": lab["HGBLLN"][self.sex],
            "WBC": values["WBC"],
            "WBCLLN": lab["LLN"]["WBC"],
            "NEUT": values["NEUT"],
            "NEUTLLN": lab["LLN"]["NEUT"],
            "LYM": values["LYM"],
            "LYMLLN": lab["LLN"]["LYM"],
            "PLAT": values["PLAT"],
            "PLATLLN": lab["LLN"]["PLAT"],
        }

    def _chemistry_values(self, values: dict[str, Any]) -> dict[str, Any]:
        lab = self.lab
        result = {
            "CREAT": values["CREAT"],
            "CREATU": lab["CREATU"],
            "CREATULN": lab["CREATULN"][self.sex],
        }
        for analyte in ("ALT", "AST", "BILI", "ALP", "GGT"):
            result[analyte] = values[analyte]
            result[f"{analyte}ULN"] = lab["ULN"][analyte]
        result |= {"ALB": values["ALB"], "ALBLLN": lab["ALBLLN"]}
        if "CGA" in values:
            result |= {"CGA": values["CGA"], "CGAULN": lab["CGAULN"]}
        return result

    def _baseline_tumours(self, fails: set[str]) -> None:
        plan = self.plan
        img = {
            "CTDAT": self.day(plan["ct"]),
            "MRIDAT": self.day(plan["mri"]),
            "LESYN": "N" if "complete_response" in fails else "Y",
        }
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        targets: list[dict[str, Any]] = []
        non_targets: list[dict[str, Any]] = []
        segments = [self.weighted(_SEGMENT_WEIGHTS) for _ in range(5)]
        self.segments = segments
        if "complete_response" not in fails:
            img["HEPBURD"] = self.pick(("LT25", "LT25", "25TO50"))
            for n in (1, 2):
                targets.append(
                    {
                        "LESID": f"L{n}",
                        "ORGAN": "LIVER",
                        "LIVSEG": segments[n - 1],
                        "METHOD": "MRI",
                        "DIAM": self.i(22, 68) if n == 1 else self.i(14, 40),
                    }
                )
            if "NODE" in self.extra_sites and self.p(0.6):
                targets.append(
                    {"LESID": "N1", "ORGAN": "NODE", "METHOD": "CT", "DIAM": self.i(16, 30)}
                )
            if self.p(0.6):
                non_targets.append(
                    {
                        "NTLID": "L6",
                        "NTLORGAN": "LIVER",
                        "NTLDESC": "Multiple small liver metastases (< 10 mm)",
                    }
                )
            if "BONE" in self.extra_sites:
                non_targets.append(
                    {
                        "NTLID": "B1",
                        "NTLORGAN": "BONE",
                        "NTLDESC": "Sclerotic bone metastases, no soft-tissue component",
                    }
                )
            if "PERITONEUM" in self.extra_sites:
                non_targets.append(
                    {"NTLID": "P1", "NTLORGAN": "PERITONEUM", "NTLDESC": "Mesenteric mass"}
                )
        self.targets = targets
        self.non_targets = non_targets
        rows[("IMG", 1)] = img
        for key, row in enumerate(targets, start=1):
            rows[("TL", key)] = row
        for key, row in enumerate(non_targets, start=1):
            rows[("NTL", key)] = row
        self.form("SCR", "TUBL", rows)
        self.baseline_sum = recist.baseline_sum(targets)
        self._concomitant_at_screening()

    def _concomitant_at_screening(self) -> None:
        for trt, indication, dose, unit, frequency, route, start in self.medications:
            self.cm_add(
                {
                    "CMTRT": trt,
                    "CMINDC": indication,
                    "CMDSTXT": UNK if self.p(0.05) else dose,
                    "CMDOSU": unit,
                    "CMDOSFRQ": frequency,
                    "CMROUTE": route,
                    "CMSTDAT": start if isinstance(start, PartialDate) else UNK,
                    "CMPRIOR": "Y",
                    "CMONGO": "Y",
                }
            )
        if self.medications and self.p(0.1):
            # Entered twice by mistake, then removed with its reason (never deleted).
            duplicate = dict(self.dirty["CM"][1])
            key = self.cm_add(duplicate)
            self._flush("CM")
            self.steps.append(
                RemoveRow(
                    "LOGS", 1, "CM", "CM", key, "Entered twice: the same medication is row 1."
                )
            )
            del self.values["LOGS.CM.CM[]"][key]
        self._flush("CM")

    # --- eligibility ------------------------------------------------------------------------

    def _eligibility(self) -> bool:
        """Answer the checklist as the data say where they can; otherwise as the
        investigator judges. Returns whether the patient is eligible."""
        judged = {c for f in self.failures for c in SCREEN_FAILURES[f][1]}
        inc: dict[str, str] = {}
        exc: dict[str, str] = {}
        eligible = True
        for criterion in CRITERIA:
            values = {ref: self.lookup(ref) for ref in criterion.inputs}
            computed = criterion.evaluate(values)
            if computed is None:
                computed = criterion.eligible_answer == "Y"
                if criterion.id in judged:
                    computed = not computed
            answer = "Y" if computed else "N"
            eligible = eligible and answer == criterion.eligible_answer
            (inc if criterion.category == "INCLUSION" else exc)[criterion.id] = answer
        self.form(
            "SCR",
            "IE",
            {("IE", 1): {"IEDAT": self.day(self.plan["IE"])}, ("INC", 1): inc, ("EXC", 1): exc},
        )
        if self.profile == "screen_failure" and eligible:
            raise AssertionError(f"screen failure {self.failures} is eligible")  # generator bug
        return eligible

    # --- imaging part -----------------------------------------------------------------------

    def _lesions(self) -> None:
        """The 5 liver index lesions and the extra-hepatic ones, with their PET-IV uptake."""
        self.index: list[dict[str, Any]] = []
        for n, segment in enumerate(self.segments, start=1):
            suvmax = self.u(9, 55)
            self.index.append(
                {
                    "id": f"L{n}",
                    "segment": segment,
                    "suvmax": suvmax,
                    "mean": self.u(0.52, 0.66),
                    "peak": self.u(0.74, 0.92),
                    "volume": self.u(1.5, 90) if n > 2 else self.u(12, 160),
                }
            )
        self.extra: list[dict[str, Any]] = []
        for site, prefix in (("NODE", "N"), ("BONE", "B"), ("PERITONEUM", "P")):
            if site in self.extra_sites:
                self.extra.append(
                    {
                        "id": f"{prefix}1",
                        "site": site,
                        "suvmax": self.u(8, 35),
                        "mean": self.u(0.5, 0.65),
                        "peak": self.u(0.72, 0.9),
                        "volume": self.u(1, 25),
                    }
                )
        self.organs = {
            "KID": (self.u(12, 24), self.u(0.6, 0.7)),
            "SPL": (self.u(18, 34), self.u(0.7, 0.8)),
            "LIV": (self.u(6.5, 11), self.u(0.62, 0.72)),
            "BM": (self.u(1.6, 3.2), self.u(0.55, 0.7)),
        }
        self.tracer = self.pick(("DOTATOC", "DOTATATE", "DOTATOC"))
        # The operator injects the artery feeding the tumour-bearing liver: a lobar artery
        # only when (nearly) all index lesions lie in that lobe.
        left = sum(segment in _LEFT_LOBE for segment in self.segments)
        arteries = {"PHA": 0.6, "CHA": 0.15, "SPLIT": 0.1}
        if left <= 1:
            arteries["RHA"] = 0.5
        if left >= 4:
            arteries["LHA"] = 0.5
        self.artery = self.weighted(arteries)

    def _pet(
        self,
        day: date,
        *,
        weight: Decimal,
        gains: dict[str, float] | None = None,
        organ_gains: dict[str, float] | None = None,
        scale: float = 1.0,
        iah: bool = False,
        follow_up: dict[str, Any] | None = None,
    ) -> dict[tuple[str, int], dict[str, Any]]:
        """One 68Ga PET/CT: acquisition, organs and lesions; ``gains`` multiply the PET-IV
        uptake per lesion (after IAH injection); ``scale`` the lesions at follow-up."""
        injection = self.i(9 * 60, 15 * 60)
        syringe_at = injection - self.i(5, 20)
        activity = self.u(2.0, 2.6) * float(weight) * 2 ** ((injection - syringe_at) / 67.71)
        residual = self.u(1.0, 8.0, 1)
        pet: dict[str, Any] = {
            "PETDAT": day,
            "TRACER": self.tracer,
            "WEIGHT": weight,
            "ACTSYR": _q(min(activity, 290), 1),
            "ACTSYRTM": _clock(syringe_at),
            "ACTRES": residual,
            "ACTRESTM": _clock(injection + self.i(3, 15)),
            "INJTIM": _clock(injection),
        }
        if iah:
            pet |= {"ARTERY": self.artery, "INJDUR": self.i(1, 5)}
            uptake = self.i(60, 95)
        else:
            uptake = self.i(52, 75)
        pet |= {
            "ACQTIM": _clock(injection + uptake),
            "SCANNER": self.lab["SCANNER"],
            "SEGMETH": "ISO41" if self.p(0.85) else "ISO50",
            "LIVREF": self.pick(("S5", "S6", "S7", "S8")),
        }
        if follow_up is not None:
            pet["NEWPET"] = follow_up["NEWPET"]
            if follow_up.get("comment"):
                pet["PETCOM"] = follow_up["comment"]
        elif self.p(0.1):
            pet["PETCOM"] = "Slight patient motion; lesions re-registered on the CT."
        organs: dict[str, Any] = {}
        for prefix, (suvmax, ratio) in self.organs.items():
            g = (organ_gains or {}).get(prefix, 1.0) * self.u(0.95, 1.05)
            organs[f"{prefix}SUVMAX"] = _q(suvmax * g, 2)
            organs[f"{prefix}SUVMEAN"] = _q(suvmax * g * ratio, 2)
        rows: dict[tuple[str, int], dict[str, Any]] = {("PET", 1): pet, ("ORG", 1): organs}
        for key, lesion in enumerate(self.index, start=1):
            g = (gains or {}).get(lesion["id"], 1.0) * scale * self.u(0.96, 1.04)
            suvmax = lesion["suvmax"] * g
            rows[("IDX", key)] = {
                "LESID": lesion["id"],
                "SEGMENT": lesion["segment"],
                "SUVMAX": _q(suvmax, 2),
                "SUVMEAN": _q(suvmax * lesion["mean"] * self.u(0.97, 1.0), 2),
                "SUVPEAK": _q(suvmax * lesion["peak"] * self.u(0.97, 1.0), 2),
                "VOLUME": _q(
                    lesion["volume"] * self.u(0.95, 1.05) * (scale if scale < 1 else 1), 1
                ),
            }
        for key, lesion in enumerate(self.extra, start=1):
            g = (gains or {}).get(lesion["id"], 1.0) * scale * self.u(0.96, 1.04)
            suvmax = lesion["suvmax"] * g
            rows[("EXH", key)] = {
                "XLESID": lesion["id"],
                "XSITE": lesion["site"],
                "XSUVMAX": _q(suvmax, 2),
                "XSUVMEAN": _q(suvmax * lesion["mean"] * self.u(0.97, 1.0), 2),
                "XSUVPEAK": _q(suvmax * lesion["peak"] * self.u(0.97, 1.0), 2),
                "XVOLUME": _q(lesion["volume"] * self.u(0.95, 1.05), 1),
            }
        return rows

    def _pet_iv(self) -> None:
        day = self.visit("PETIV", self.plan["PETIV"])
        self.pet_weight = _q(float(self.weight) + self.u(-1.5, 1.0), 1)
        self.form("PETIV", "PETIV", self._pet(day, weight=self.pet_weight))

    def _gains(self) -> dict[str, float]:
        """IAH/IV uptake per lesion: most liver lesions gain 1.5–3×; those outside the
        injected artery's territory, and a few poorly vascularised ones, lose uptake."""
        fed = {"RHA": lambda s: s not in _LEFT_LOBE, "LHA": lambda s: s in _LEFT_LOBE}
        gains: dict[str, float] = {}
        for lesion in self.index:
            in_territory = fed.get(self.artery, lambda s: True)(lesion["segment"])
            if not in_territory or self.p(0.06):
                gains[lesion["id"]] = self.u(0.65, 0.97)
            else:
                gains[lesion["id"]] = min(3.6, max(1.15, math.exp(self.rng.gauss(0.72, 0.22))))
        for lesion in self.extra:
            gains[lesion["id"]] = self.u(0.7, 1.0)
        return gains

    def _pet_iah(self) -> None:
        plan = self.plan
        day = self.visit("PETIAH", plan["D0"])
        complication = self.p(0.05)
        anatomy = "VARIANT" if self.p(0.2) else "STANDARD"
        angio: dict[str, Any] = {
            "PRDAT": day,
            "ACCESS": "FEMORAL" if self.p(0.85) else "RADIAL",
            "ANATOMY": anatomy,
            "CATHPOS": self.artery,
            "EMBOL": "Y" if self.p(0.15) else "N",
            "EXTRAFLOW": "N",
            "CONTRAST": self.i(40, 140),
            "FLUORO": self.u(4, 28, 1),
            "DAP": self.u(15, 220, 1),
            "COMPL": "Y" if complication else "N",
        }
        self.access = angio["ACCESS"]
        if anatomy == "VARIANT":
            angio["VARIANT"] = self.pick(
                (
                    "Replaced right hepatic artery from the superior mesenteric artery",
                    "Left hepatic artery from the left gastric artery",
                    "Trifurcation of the coeliac trunk",
                )
            )
        if complication:
            angio["COMPLDESC"] = "Groin haematoma at the puncture site, manual compression"
        self.form("PETIAH", "ANGIO", {("ANGIO", 1): angio})
        self.gains = self._gains()
        organ_gains = {
            "KID": self.u(0.72, 0.95),
            "SPL": self.u(0.7, 0.93),
            "LIV": self.u(1.05, 1.35),
            "BM": self.u(0.8, 1.0),
        }
        weight = _q(float(self.pet_weight) + self.u(-0.8, 0.8), 1)
        self.form(
            "PETIAH",
            "PETIAH",
            self._pet(day, weight=weight, gains=self.gains, organ_gains=organ_gains, iah=True),
        )
        if complication:
            self.ae_add(
                "Puncture site haematoma",
                day,
                "1",
                procedure="RELATED",
                therapy="NOT" if self.therapy else NA,
                end=day + timedelta(days=self.i(5, 12)),
                known=day,
            )

    def _call(self) -> None:
        plan = self.plan
        day = self.visit("CALL", plan["CALL"])
        d0 = self.day(plan["D0"])
        self._resolve(day)
        self._deviation_if_late("CALL", "D0")
        new = False
        logged = {row["AETERM"] for row in self.ae.values()}
        for term, grade, relation, (start, length) in _ANGIO_AE:
            if term not in logged and self.p(0.1):
                begin = d0 + timedelta(days=start)
                partial = self.p(0.3) and (begin.month == day.month)
                self.ae_add(
                    term,
                    _partial(begin, 2) if partial else begin,
                    grade,
                    procedure=relation,
                    therapy="NOT" if self.therapy else NA,
                    end=min(day, begin + timedelta(days=self.i(1, length + 1))),
                    known=day,
                )
                new = True
        if self.p(0.03 if self.therapy else 0.05):
            begin = d0 + timedelta(days=self.i(0, 2))
            key = self.ae_add(
                "Femoral pseudoaneurysm",
                begin,
                "3",
                procedure="RELATED",
                therapy="NOT" if self.therapy else NA,
                serious="AESHOSP",
                treated=True,
                end=begin + timedelta(days=self.i(3, 6)),
                known=day,
            )
            self.sae_report(
                key,
                begin,
                "Pseudoaneurysm of the common femoral artery after the IAH procedure, treated by"
                " ultrasound-guided thrombin injection; hospitalisation prolonged by 3 days.",
            )
            new = True
        self.form(
            "CALL",
            "CALL",
            {
                ("CALL", 1): {
                    "CALLDAT": day,
                    "CALLMODE": "PHONE" if self.p(0.8) else "VISIT",
                    "AEYN": "Y" if new else "N",
                    "CMYN": "N",
                }
            },
        )
        self._flush_logs()

    # --- therapy sub-group ------------------------------------------------------------------

    def _therapy(self) -> None:
        plan = self.plan
        t0 = self.visit("THER", plan["THER"])
        sample = t0 - timedelta(days=self.i(0, 2))
        self._toxicity_profile()
        self.vitals("THER", t0)
        self.labs("THER", sample)
        coag = {
            "LBDAT": sample,
            "PT": _q(float(self.lab["PTULN"]) * self.u(0.85, 1.02), 1),
            "PTULN": self.lab["PTULN"],
            "INR": self.u(0.9, 1.15, 2),
            "APTTR": self.u(0.85, 1.15, 2),
        }
        self.form("THER", "COAG", {("COAG", 1): coag})

        # 177Lu-dotatate by IAH infusion
        start = self.i(9 * 60 + 30, 12 * 60)
        duration = self.i(20, 45)
        prescribed = 7400 if self.p(0.92) else 5550
        measured_before = self.i(30, 150)
        previous_day = self.p(0.1)
        hours_before = measured_before / 60 + (24 if previous_day else 0)
        residual = self.i(60, 320)
        residual_after = duration + self.i(5, 25)
        half_life = 6.647 * 24
        shortfall = self.u(-0.15, -0.12) if self.p(0.05) else self.u(-0.04, 0.03)
        target = prescribed * (1 + shortfall)
        syringe = (target + residual * 2 ** ((residual_after / 60) / half_life)) * 2 ** (
            hours_before / half_life
        )
        same_artery = self.p(0.9)
        luadm: dict[str, Any] = {
            "EXSTDAT": t0,
            "EXSTTIM": _clock(start),
            "EXENTIM": _clock(start + duration),
            "ACCESS": self.access,
            "ARTERY": self.artery if same_artery else self.pick(("PHA", "RHA", "CHA")),
            "SAMEPOS": "Y" if same_artery else "N",
            "PRESACT": prescribed,
            "ACTSYR": round(syringe),
            "ACTSYRTM": _clock(start - measured_before),
            "ACTRES": residual,
            "ACTRESTM": _clock(start + residual_after),
        }
        if previous_day:
            luadm["ACTSYRDT"] = t0 - timedelta(days=1)
        antiemetic = self.p(0.9)
        rp = {
            "RPYN": "Y",
            "RPSOL": "LYSARG" if self.p(0.9) else "AAMIX",
            "RPVOL": 1000 if self.p(0.85) else 2000,
            "RPSTTIM": _clock(start - self.i(30, 60)),
            "ANTIEM": "Y" if antiemetic else "N",
        }
        complication = self.p(0.03)
        safe = {
            # A man, or a woman who cannot bear children: the test does not apply.
            "PREGPRE": "NEG" if self.childbearing else "NA",
            "PRCOMP": "Y" if complication else "N",
        }
        if complication:
            safe["PRCOMPD"] = (
                "Spasm of the hepatic artery, relieved by intra-arterial nitroglycerin"
            )
        self.form("THER", "LUADM", self.single("LUADM", luadm | rp | safe))
        if shortfall < -0.1:
            self.dv_add(
                t0,
                "THER",
                "ADMIN",
                "Administered 177Lu activity more than 10 % below the prescribed activity"
                " (activity retained in the lines and catheter).",
                "MAJOR",
                "Radiopharmacy and interventional radiology informed; procedure reviewed.",
            )
        if antiemetic:
            self.cm_add(
                {
                    "CMTRT": "Ondansetron",
                    "CMINDC": "Prevention of nausea (amino-acid infusion)",
                    "CMDSTXT": "8",
                    "CMDOSU": "mg",
                    "CMDOSFRQ": "once",
                    "CMROUTE": "INTRAVENOUS",
                    "CMSTDAT": t0,
                    "CMPRIOR": "N",
                    "CMONGO": "N",
                    "CMENDAT": t0,
                }
            )

        # 24 h scintigraphy / SPECT-CT
        scan_day = t0 + timedelta(days=1)
        late_scan = self.p(0.05)
        scan_at = start + (self.i(240, 330) if late_scan else self.i(-90, 90))
        extra_uptake = self.p(0.04)
        scint: dict[str, Any] = {
            "SCDAT": scan_day,
            "SCTIM": _clock(scan_at),
            "WBSCAN": "Y",
            "SPECTCT": "Y",
            "LIVUPT": "4" if self.p(0.75) else "3",
            "EXTRAUPT": "Y" if extra_uptake else "N",
            "SCCOM": "Intense uptake in the liver metastases, higher than after the IV cycles.",
        }
        if extra_uptake:
            scint["EXTRADESC"] = "Duodenal wall (gastroduodenal artery territory)"
        self.form("THER", "SCINT", {("SCINT", 1): scint})
        self._dosimetry()

        # Adverse events of the administration
        for term, grades, procedure, therapy, (begin, length), chance, treatment in _THERAPY_AE:
            if self.p(chance):
                first = t0 + timedelta(days=begin)
                if first > scan_day:
                    self.pending_ae.append((term, grades, procedure, therapy, first, length))
                    continue
                key = self.ae_add(
                    term,
                    first,
                    self.pick(grades),
                    procedure=procedure,
                    therapy=therapy,
                    end=first + timedelta(days=self.i(0, length)),
                    treated=treatment is not None,
                    known=scan_day,
                )
                if treatment is not None:
                    self.treat(key, treatment, first, known=scan_day)
        if self.p(0.03):
            first = t0 + timedelta(days=self.i(0, 1))
            key = self.ae_add(
                "Carcinoid crisis",
                first,
                "3",
                procedure="POSSIBLE",
                therapy="PROBABLE",
                serious="AESHOSP",
                treated=True,
                end=first + timedelta(days=self.i(2, 5)),
                known=scan_day,
            )
            self.sae_report(
                key,
                first,
                "Flushing, diarrhoea and hypotension a few hours after the 177Lu infusion;"
                " octreotide infusion and fluids in the ward.",
            )
        self._flush_logs()

    def _dosimetry(self) -> None:
        if not self.dosimetry:
            self.form("THER", "DOSI", {("DOS", 1): {"DOSYN": "N"}})
            return
        rows: dict[tuple[str, int], dict[str, Any]] = {
            ("DOS", 1): {
                "DOSYN": "Y",
                "DOSMETH": self.weighted({"MTP": 0.6, "HYBRID": 0.3, "STP": 0.1}),
                "TIMEPTS": self.pick(("4, 24, 96, 168", "24, 96, 168", "24")),
                "SOFTWARE": self.pick(
                    ("PLANET Dose", "MIM SurePlan MRT", "Hermes Voxel Dosimetry")
                ),
            }
        }
        for key, lesion in enumerate(self.index, start=1):
            dose = self.u(8, 45)
            row: dict[str, Any] = {"LESID": lesion["id"]}
            ivs = []
            for cycle in range(1, 5):
                cycle_dose = dose * (1 - 0.08 * (cycle - 1)) * self.u(0.9, 1.1)
                ivs.append(cycle_dose)
                row[f"DIV{cycle}"] = None if (cycle == 1 and self.p(0.15)) else _q(cycle_dose, 2)
            row["DIAH"] = _q(sum(ivs) / 4 * self.gains[lesion["id"]] * self.u(0.85, 1.15), 2)
            rows[("LDOSE", key)] = row
        for key, (organ, (low, high), (g_low, g_high)) in enumerate(
            (
                ("KIDNEYS", (2.5, 4.5), (0.6, 0.9)),
                ("SPLEEN", (3.0, 6.0), (0.6, 0.9)),
                ("LIVER", (1.5, 3.0), (1.2, 1.8)),
                ("MARROW", (0.1, 0.3), (0.7, 0.95)),
            ),
            start=1,
        ):
            dose = self.u(low, high)
            row = {"ORGAN": organ}
            for cycle in range(1, 5):
                row[f"ODIV{cycle}"] = _q(dose * self.u(0.9, 1.1), 2)
            row["ODIAH"] = _q(dose * self.u(g_low, g_high), 2)
            rows[("ODOSE", key)] = row
        self.form("THER", "DOSI", rows)

    def _toxicity_profile(self) -> None:
        """How this patient's blood counts and liver tests respond to the IAH cycle."""
        b, uln = self.baseline, self.lab["ULN"]
        severe_lym = "toxicity" in self.features or self.p(0.22)
        nadir = {
            "LYM": (self.u(250, 470) / b["LYM"]) if severe_lym else self.u(0.55, 0.9),
            "NEUT": (self.u(700, 950) / b["NEUT"]) if self.p(0.03) else self.u(0.7, 0.95),
            "HGB": (self.u(7.3, 7.9) / float(b["HGB"])) if self.p(0.02) else self.u(0.9, 0.98),
            "OTHER": self.u(0.75, 1.0),
        }
        platelets = self.weighted({"severe": 0.06, "moderate": 0.15, "mild": 0.79})
        nadir["PLAT"] = {
            "severe": self.u(30000, 48000) / b["PLAT"],
            "moderate": self.u(52000, 74000) / b["PLAT"],
            "mild": self.u(0.7, 0.95),
        }[platelets]
        peak: dict[str, float] = {}
        liver = self.weighted({"severe": 0.05, "moderate": 0.15, "mild": 0.8})
        if self.profile == "withdrawn" and self.variant == "ae":
            liver = "severe"  # the reason for withdrawal, recorded as an adverse event
        for analyte in ("ALT", "AST"):
            normal = b[analyte] <= uln[analyte]
            reference = uln[analyte] if normal else b[analyte]
            target = {
                "severe": reference * self.u(5.5, 8.0),
                "moderate": reference * self.u(3.2, 4.6),
                "mild": b[analyte] * self.u(1.0, 2.0),
            }[liver]
            peak[analyte] = max(1.0, target / b[analyte])
        peak |= {"BILI": self.u(1.0, 1.4), "ALP": self.u(1.0, 1.3), "GGT": self.u(1.0, 1.5)}
        self.nadir, self.peak = nadir, peak
        self.others = self.u(300, 800)
        self.response = self.weighted({"PR": 0.3, "SD": 0.7})
        if self.profile == "withdrawn" and self.variant == "progression":
            self.response = "PD"
        if "forgotten_ae" in self.features:
            self.forgotten.add("LYMDEC")

    # --- follow-up --------------------------------------------------------------------------

    def vitals(self, visit: str, day: date, repeat: int = 1) -> None:
        self.weight = _q(float(self.weight) + self.u(-1.2, 0.8), 1)
        systolic = self.i(105, 150)
        vs = {
            "VSDAT": day,
            "WEIGHT": self.weight,
            "SYSBP": systolic,
            "DIABP": self.i(60, min(92, systolic - 30)),
            "PULSE": ND if self.p(0.04) else self.i(58, 96),
            "TEMP": ND if self.p(0.06) else self.u(36.1, 37.4, 1),
        }
        self.form(visit, "VS", {("VS", 1): vs}, repeat=repeat)
        if self.p(0.04) and not isinstance(vs["PULSE"], Missing):
            wrong, right = vs["PULSE"], vs["PULSE"] + self.pick((-9, 9, 10, -10))
            self.form(
                visit,
                "VS",
                {("VS", 1): {"PULSE": right}},
                repeat=repeat,
                reason=f"Transcription error: {wrong} corrected to {right} from the nurse's"
                " observation chart.",
            )

    def labs(self, visit: str, sample: date, repeat: int = 1, *, chemistry: bool = True) -> None:
        """Blood counts (and chemistry) at ``visit``: the toxicity profile at that point."""
        b = self.baseline
        effect = _NADIR.get(visit, 0.9)
        counts: dict[str, Any] = {}
        for analyte in ("NEUT", "LYM", "PLAT", "HGB"):
            factor = 1 - (1 - self.nadir[analyte]) * effect
            value = (
                float(b[analyte]) * factor * (self.u(0.94, 1.06) if effect else self.u(0.95, 1.08))
            )
            counts[analyte] = (
                _q(value, 1)
                if analyte == "HGB"
                else _round_to(value, 1000 if analyte == "PLAT" else 10)
            )
        others = self.others * (1 - (1 - self.nadir["OTHER"]) * effect)
        counts["WBC"] = counts["NEUT"] + counts["LYM"] + _round_to(others, 10)
        hem = {"LBDAT": sample, "LBTIM": _clock(self.i(7 * 60 + 30, 11 * 60))}
        hem |= self._haematology_values(counts)
        self.form(visit, "LBHEM", {("LBHEM", 1): hem}, repeat=repeat)
        values = dict(counts)
        if chemistry:
            rise = _PEAK.get(visit, 0.6)
            chem: dict[str, Any] = {
                "CREAT": _q(
                    float(b["CREAT"]) * self.u(0.95, 1.12),
                    2 if self.lab["CREATU"] == "mg/dL" else 0,
                ),
            }
            for analyte in ("ALT", "AST", "BILI", "ALP", "GGT"):
                factor = 1 + (self.peak[analyte] - 1) * rise
                value = float(b[analyte]) * factor * self.u(0.92, 1.08)
                chem[analyte] = _q(value, 1) if analyte == "BILI" else max(1, round(value))
            chem["ALB"] = _q(float(b["ALB"]) * self.u(0.94, 1.02), 1)
            if visit in ("M3", "M6") and "CGA" in b:
                chem["CGA"] = max(0, round(b["CGA"] * self.u(0.4, 1.1)))
            elif visit in FOLLOW_UP:
                chem["CGA"] = ND  # the tumour marker is measured at screening, M3 and M6
            self.form(
                visit,
                "LBCHEM",
                {("LBCHEM", 1): {"LBDAT": sample, **self._chemistry_values(chem)}},
                repeat=repeat,
            )
            values |= chem
        if visit != "THER":
            self._lab_adverse_events(sample, values)

    def _grades(self, sample: date, values: dict[str, Any]) -> dict[str, int]:
        """CTCAE v5.0 grade of each value, as the definition's derivations compute it."""
        lab, b = self.lab, self.baseline
        grades: dict[str, int | None] = {}
        for analyte in _HAEMATOLOGY:
            lln = lab["HGBLLN"][self.sex] if analyte == "HGB" else lab["LLN"][analyte]
            grades[analyte] = ctcae.grade_decreased(_LAB_TERMS[analyte], values[analyte], lln)
        if "ALT" in values:
            for analyte in ("ALT", "AST", "BILI", "ALP", "GGT"):
                uln = lab["ULN"][analyte]
                grades[analyte] = ctcae.visit_grade_increased(
                    _LAB_TERMS[analyte],
                    values[analyte],
                    uln,
                    sample,
                    b[analyte],
                    uln,
                    self.baseline_day,
                )
            unit = lab["CREATU"]
            uln = lab["CREATULN"][self.sex]
            grades["CREAT"] = ctcae.visit_grade_creatinine(
                values["CREAT"], unit, uln, sample, b["CREAT"], unit, self.baseline_day
            )
            grades["ALB"] = ctcae.grade_decreased("HYPOALB", values["ALB"], lab["ALBLLN"])
        return {k: v for k, v in grades.items() if v is not None}

    def _lab_adverse_events(self, sample: date, values: dict[str, Any]) -> None:
        """Record (or close) the adverse events the laboratory values call for: grade ≥ 3
        always (unless the site missed it: an open query), worsened grade 2 sometimes."""
        baseline = self._grades(self.baseline_day, self.baseline)
        for analyte, grade in self._grades(sample, values).items():
            term = _LAB_TERMS[analyte]
            key = self.lab_ae.get(term)
            if key is not None:
                row = self.ae[key]
                if grade < 2:
                    self.ae_update(key, AEONGO="N", AEENDAT=sample, AEOUT="RECOVERED")
                    del self.lab_ae[term]
                elif grade > int(row["AETOXGR"]):
                    self.ae_update(key, AETOXGR=str(grade))
                continue
            if term in self.forgotten:
                continue
            withdrawal = self.profile == "withdrawn" and self.variant == "ae"
            if grade >= 3 and not withdrawal and self.p(0.12):
                self.forgotten.add(term)  # never recorded: the query stays open
                continue
            if grade >= 3 or (grade == 2 and grade > baseline.get(analyte, 0) and self.p(0.35)):
                label = LABTERM.label(term)
                self.lab_ae[term] = self.ae_add(
                    label,
                    sample,
                    str(grade),
                    procedure="NOT",
                    therapy="PROBABLE" if analyte in _HAEMATOLOGY else "POSSIBLE",
                    lab=term,
                    end=None,
                    treated=analyte == "HGB" and grade >= 3,
                )

    def _follow_up(self, oid: str, previous: str) -> None:
        plan = self.plan
        before = self.day(plan[previous])
        day = self.visit(oid, plan[oid])
        self._deviation_if_late(oid, "THER")
        new_ae = self._clinical_events(before, day)
        self.vitals(oid, day)
        keys_before = set(self.ae)
        self.labs(oid, day)
        new_ae = new_ae or set(self.ae) != keys_before
        if oid in ("M3", "M6"):
            self._response(oid, day)
        self.form(
            oid,
            "AEREV",
            {
                ("AEREV", 1): {
                    "REVDAT": day,
                    "AEYN": "Y" if new_ae else "N",
                    "CMYN": "Y" if self.dirty["CM"] else "N",
                }
            },
        )
        self._flush_logs()
        if oid in ("W4", "W6") and self.done(FOLLOW_UP[FOLLOW_UP.index(oid) + 1]):
            self._maybe_unscheduled(day, self.day(plan[FOLLOW_UP[FOLLOW_UP.index(oid) + 1]]))

    def _deviation_if_late(self, oid: str, reference: str) -> None:
        """The protocol deviation of a visit done outside its window."""
        if oid != self.late:
            return
        visit, plan = VISITS[oid], self.plan
        low, high = visit.window
        self.dv_add(
            self.day(plan[oid]),
            oid,
            "WINDOW",
            f"{visit.name} on day {plan[oid] - plan[reference]} after {visit.reference},"
            f" outside its window (days {low} to {high}).",
            "MINOR",
            "Following visits kept on their protocol dates.",
        )

    def _clinical_events(self, since: date, until: date) -> bool:
        """Adverse events between two visits, learnt at the second; True if any is new."""
        self._resolve(until)
        new = False
        for pending in list(self.pending_ae):
            term, grades, procedure, therapy, first, length = pending
            if first <= until:
                self.pending_ae.remove(pending)
                self.ae_add(
                    term,
                    first,
                    self.pick(grades),
                    procedure=procedure,
                    therapy=therapy,
                    end=first + timedelta(days=self.i(1, length)),
                    known=until,
                )
                new = True
        if (until - since).days > 9 and self.p(0.03) and self.profile != "death":
            term, procedure, therapy, (low, high), treatment = self.pick(_SERIOUS_AE)
            first = since + timedelta(days=self.i(2, (until - since).days - 6))
            end = first + timedelta(days=self.i(low, high))
            key = self.ae_add(
                term,
                first,
                "3",
                procedure=procedure,
                therapy=therapy,
                serious="AESHOSP",
                treated=treatment is not None,
                end=end,
                known=until,
            )
            days = (first - self.day(self.plan["THER"])).days
            self.sae_report(
                key,
                first,
                f"{term} requiring hospitalisation {days} days after the IAH 177Lu-dotatate cycle.",
            )
            if end <= until:
                self.sae_report(key, end, f"Follow-up: {term.lower()} resolved.", kind="FOLLOWUP")
            if treatment is not None:
                self.treat(key, treatment, first, known=until)
            new = True
        return new

    def _resolve(self, until: date) -> None:
        """Adverse events and treatments that ended by ``until``, now known to have."""
        for day, form, key in sorted(self.due):
            if day > until:
                continue
            self.due.remove((day, form, key))
            if form == "CM":
                self.cm[key] |= {"CMONGO": "N", "CMENDAT": day}
                self.dirty["CM"][key] = self.cm[key]
                continue
            self.ae_update(key, AEONGO="N", AEENDAT=day, AEOUT="RECOVERED")
            if self.ae[key]["AESER"] == "Y":
                self.sae_report(key, day, "Follow-up: resolved.", kind="FOLLOWUP")

    def _maybe_unscheduled(self, since: date, until: date) -> None:
        """A control blood count between two visits, after a low count."""
        low = self.nadir["PLAT"] < 0.5 or self.nadir["LYM"] * self.baseline["LYM"] < 500
        if not (low and self.p(0.5)) and not self.p(0.08):
            return
        day = since + timedelta(days=max(1, (until - since).days // 2))
        self.uns += 1
        self.steps.append(AddUnscheduledVisit("UNS", self.uns, day))
        keys = set(self.ae)
        self.labs("UNS", day, self.uns, chemistry=False)
        self.form(
            "UNS",
            "AEREV",
            {
                ("AEREV", 1): {
                    "REVDAT": day,
                    "AEYN": "Y" if set(self.ae) != keys else "N",
                    "CMYN": "N",
                }
            },
            repeat=self.uns,
        )
        self._flush_logs()

    def _response(self, oid: str, day: date) -> None:
        """RECIST 1.1 at M3 / M6 and the follow-up 68Ga PET."""
        response = self.response
        if oid == "M6" and response != "PD" and self.p(0.1):
            response = "PD"
        factor = {"PR": self.u(0.55, 0.68), "SD": self.u(0.86, 1.08), "PD": self.u(1.22, 1.4)}[
            response
        ]
        if oid == "M6":
            factor *= self.last_factor if response != "PD" else 1.0
        self.last_factor = factor
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        follow = []
        for key, target in enumerate(self.targets, start=1):
            diam = max(0, round(target["DIAM"] * factor * self.u(0.95, 1.05)))
            follow.append({"LESID": target["LESID"], "DIAM": diam})
            rows[("TL", key)] = {"LESID": target["LESID"], "DIAM": diam}
        ntl = []
        for key, lesion in enumerate(self.non_targets, start=1):
            status = "PD" if (response == "PD" and self.p(0.3)) else "PRESENT"
            ntl.append({"NTLID": lesion["NTLID"], "NTLSTAT": status})
            rows[("NTL", key)] = {"NTLID": lesion["NTLID"], "NTLSTAT": status}
        new_lesion = "Y" if response == "PD" else ("EQ" if self.p(0.05) else "N")
        earlier = [self.m3_sum] if oid == "M6" else []
        total = recist.follow_up_sum(self.targets, follow)
        lowest = recist.nadir(self.baseline_sum, *earlier)
        overall = recist.overall_response(
            recist.target_response(self.targets, follow, lowest),
            recist.non_target_response(self.non_targets, ntl),
            new_lesion,
        )
        if oid == "M3":
            self.m3_sum = total
        reader = overall
        if overall in ("PR", "SD") and self.p(0.1):
            reader = "SD" if overall == "PR" else "PR"  # the radiologist read it otherwise
        img: dict[str, Any] = {
            "TRDAT": day - timedelta(days=self.i(0, 5)),
            "METHOD": "CT" if any(t["ORGAN"] == "NODE" for t in self.targets) else "MRI",
            "NEWLES": new_lesion,
            "INVRESP": reader or "NE",
        }
        if new_lesion != "N":
            img["NEWLOC"] = self.pick(
                ("Liver, segment VI, 8 mm", "Bone, T10 vertebral body", "Peritoneum, 12 mm")
            )
        rows[("IMG", 1)] = img
        self.form(oid, f"TR{oid}", rows)
        pet_day = day - timedelta(days=self.i(0, 6))
        follow_up = {"NEWPET": "Y" if new_lesion == "Y" else "N"}
        if new_lesion == "Y":
            follow_up["comment"] = "New somatostatin-receptor-positive lesion."
        self.form(
            oid,
            "PETFU",
            self._pet(pet_day, weight=self.weight, scale=min(1.1, factor), follow_up=follow_up),
        )

    # --- logs ---------------------------------------------------------------------------

    def ae_add(
        self,
        term: str,
        start: date | PartialDate,
        grade: str,
        *,
        procedure: str,
        therapy: str | Missing,
        serious: str | None = None,
        lab: str | None = None,
        treated: bool = False,
        end: date | None = None,
        known: date | None = None,
    ) -> int:
        """Log an adverse event; an ``end`` after ``known`` (the day the site learns of the
        event) is not known yet: the event stays ongoing until a later contact."""
        key = len(self.ae) + 1
        if end is not None and known is not None and end > known:
            self.due.append((end, "AE", key))
            end = None
        row: dict[str, Any] = {
            "AESPID": key,
            "AETERM": term,
            "AESTDAT": start,
            "AEONGO": "N" if end else "Y",
            "AEENDAT": end,
            "AETOXGR": grade,
            "AELBTERM": lab,
            "AESER": "Y" if serious else "N",
        }
        if serious:
            for criterion in ("AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE"):
                row[criterion] = "Y" if criterion == serious else "N"
        row |= {
            "AERELPR": procedure,
            "AEREL": therapy,
            "AECONTRT": "Y" if treated else "N",
            "AEOUT": "RECOVERED" if end else "NOTRECOVERED",
        }
        self.ae[key] = row
        self.dirty["AE"][key] = row
        return key

    def ae_update(self, key: int, **changes: Any) -> None:
        self.ae[key] |= changes
        self.dirty["AE"][key] = self.ae[key]

    def sae_report(self, ae_key: int, aware: date, narrative: str, kind: str = "INITIAL") -> None:
        aware_at = self.i(8 * 60, 18 * 60)
        late = self.p(0.1) and kind == "INITIAL"
        sent_day = aware + timedelta(days=self.i(2, 4) if late else 0)
        if sent_day > self.horizon:  # not sent yet by the horizon: sent on time after all
            late, sent_day = False, aware
        sent_at = aware_at + self.i(30, 300) if not late else self.i(9 * 60, 17 * 60)
        if sent_at >= 24 * 60:
            sent_day, sent_at = sent_day + timedelta(days=1), sent_at - 24 * 60
        self.sae_rows += 1
        self.dirty["SAE"][self.sae_rows] = {
            "SAESPID": ae_key,
            "SAETYPE": kind,
            "AWARDAT": aware,
            "AWARTIM": _clock(aware_at),
            "REPDAT": sent_day,
            "REPTIM": _clock(sent_at),
            "SAENARR": narrative,
        }

    def cm_add(self, row: dict[str, Any]) -> int:
        self.cm_rows += 1
        self.cm[self.cm_rows] = row
        self.dirty["CM"][self.cm_rows] = row
        return self.cm_rows

    def treat(self, ae_key: int, medication: tuple[Any, ...], start: date, *, known: date) -> None:
        """A medication given for an adverse event, stopped when the event ends."""
        trt, indication, dose, unit, frequency, route = medication
        end = self.ae[ae_key]["AEENDAT"]
        due = next((day for day, form, key in self.due if (form, key) == ("AE", ae_key)), None)
        key = self.cm_add(
            {
                "CMTRT": trt,
                "CMINDC": indication,
                "CMDSTXT": dose,
                "CMDOSU": unit,
                "CMDOSFRQ": frequency,
                "CMROUTE": route,
                "CMSTDAT": start,
                "CMPRIOR": "N",
                "CMONGO": "N" if end else "Y",
                "CMENDAT": end,
            }
        )
        if due is not None:
            self.due.append((due, "CM", key))

    def dv_add(self, day: date, visit: str, category: str, text: str, severity: str, action: str):
        self.dv_rows += 1
        self.dirty["DV"][self.dv_rows] = {
            "DVSTDAT": day,
            "DVVISIT": visit,
            "DVCAT": category,
            "DVTERM": text,
            "DVSEV": severity,
            "DVACT": action,
        }

    def _flush(self, form: str, *, complete: bool = False) -> None:
        rows = self.dirty[form]
        if not rows and not (complete and form in self.logs_saved):
            return
        group = form
        self.form(
            "LOGS",
            form,
            {(group, key): dict(row) for key, row in sorted(rows.items())},
            complete=complete,
        )
        self.logs_saved.add(form)
        self.dirty[form] = {}

    def _flush_logs(self, *, complete: bool = False) -> None:
        for form in ("AE", "SAE", "CM", "DV"):
            self._flush(form, complete=complete)

    def _end_of_study(self, status: str, day_offset: int | None, last_contact: int) -> None:
        self._flush_logs(complete=True)
        day = self.day(day_offset if day_offset is not None else last_contact)
        self.form(
            "LOGS",
            "EOS",
            {
                ("EOS", 1): {
                    "EOSDAT": day,
                    "EOSSTAT": status,
                    "LASTCONT": self.day(last_contact),
                }
            },
        )

    def _death(self) -> None:
        start, death = self.day(self.event), self.day(self.death)
        self._resolve(death)
        key = self.ae_add(
            "Septic shock (acute cholangitis)",
            start,
            "5",
            procedure="POSSIBLE",
            therapy="POSSIBLE",
            serious="AESHOSP",
            treated=True,
            end=death,
            known=death,
        )
        self.ae_update(key, AESDTH="Y", AESLIFE="Y", AEOUT="FATAL")
        self.sae_report(
            key,
            start,
            "Fever, jaundice and hypotension; admitted to intensive care for septic shock"
            " from acute cholangitis.",
        )
        self.sae_report(key, death, "Follow-up: died of refractory septic shock.", kind="FOLLOWUP")
        antibiotic = ("Piperacillin-tazobactam", "Septic shock", "4", "g", "four times daily")
        self.treat(key, (*antibiotic, "INTRAVENOUS"), start, known=death)
        self._flush_logs()
        self.form(
            "LOGS",
            "DD",
            {
                ("DD", 1): {
                    "DTHDAT": death,
                    "DTHCAUSE": "Septic shock secondary to acute cholangitis",
                    "AUTOPSY": "N",
                    "DTHREL": "POSSIBLE",
                }
            },
        )
        self._end_of_study("DEATH", self.death, self.death)
        self.status(
            "withdrawn", f"Died on {death}: septic shock from acute cholangitis (AE {key})."
        )


_LEFT_LOBE = frozenset({"S2", "S3", "S4"})
_SEGMENT_WEIGHTS = {
    "S2": 0.1,
    "S3": 0.1,
    "S4": 0.14,
    "S5": 0.14,
    "S6": 0.16,
    "S7": 0.18,
    "S8": 0.18,
}
