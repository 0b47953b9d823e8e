"""Who each demo patient is: the profile (where they stand today) and its shares of a
cohort, what is drawn with it (the course of a withdrawal, the therapy sub-group, why a
screen failure fails), the patient's own randomness, and the time line of the protocol
dated so that what is done lies in the past and what is not still lies ahead.

:class:`Patient` holds all of one patient's state: the record written so far
(:class:`~forms.iahprrt.demo.record.Record`) and what each phase draws for the next ones;
the phases (screening, imaging, therapy, follow-up...) are functions of it in the modules
beside this one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from forms.iahprrt.demo.record import Record
from forms.iahprrt.demo.sites import LABS
from forms.iahprrt.demo.values import q
from forms.iahprrt.study import STUDY

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
    # One reading does not decide EXC07: the investigator does, on the readings and the
    # treatment (forms.iahprrt.eligibility.HighBloodPressure).
    "hypertension": ("uncontrolled arterial hypertension under optimal treatment", ("EXC07",)),
    "no_progression": ("no documented progression, hepatic burden below 50 %", ()),
    "complete_response": ("complete response on the inclusion CT and MRI", ("INC04",)),
    "extrahepatic": ("dominant extra-hepatic (bone) disease", ("EXC04",)),
    "other_trial": ("already in another interventional trial", ("EXC10",)),
}

_DEVIATION_REASONS = (
    "Patient on holiday: visit postponed at the patient's request.",
    "Public holiday: the site was closed on the planned day.",
    "Patient hospitalised in another hospital on the planned day.",
    "Transport strike: the patient could not travel.",
    "Scheduling error at the site.",
)


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


class Patient(Record):
    """One synthetic patient of ``site`` whose last event is on or before ``today``: the
    profile and the time line are drawn at once; the phases fill in the rest."""

    # The state of one patient, by the phase that draws it (days are offsets from consent).
    # --- drawn with the profile and the time line ----------------------------------------
    variant: str  # how a "withdrawn" patient leaves: consent, ae, progression, lost
    therapy: bool  # in the therapy sub-group
    failures: tuple[str, ...]  # why a screen failure fails (SCREEN_FAILURES)
    last: str  # the last milestone done by today (MILESTONES)
    plan: dict[str, int]  # the day of every event of the protocol
    late: str | None  # the visit done outside its window
    end: int | None  # the end of study, when the patient has left the study
    event: int  # the fatal event ("death" profile)
    death: int | None  # the death ("death" profile)
    consent: date
    # --- the logs (logs.py) --------------------------------------------------------------
    ae: dict[int, dict[str, Any]]
    cm: dict[int, dict[str, Any]]
    due: list[tuple[date, str, int]]  # (day, "AE" or "CM", key): ending after the last contact
    pending_ae: list[tuple[Any, ...]]  # adverse events starting after the last contact
    dirty: dict[str, dict[int, dict[str, Any]]]  # log rows changed since the logs' last save
    logs_saved: set[str]  # the logs saved at least once
    sae_rows: int
    cm_rows: int
    dv_rows: int
    uns: int  # unscheduled visits so far
    lab_ae: dict[str, int]  # CTCAE term → its open adverse event
    forgotten: set[str]  # CTCAE terms whose grade ≥ 3 the site missed
    # --- drawn at screening --------------------------------------------------------------
    dosimetry: bool
    sex: str
    childbearing: bool
    weight: Decimal  # at the last visit
    height: int
    creat: Decimal  # serum creatinine at screening
    medications: list[tuple[Any, ...]]  # ongoing at screening, with their start
    extra_sites: list[str]  # extra-hepatic disease
    baseline: dict[str, Any]  # laboratory values at screening
    baseline_day: date
    segments: list[str]  # liver segments of the index lesions
    targets: list[dict[str, Any]]  # RECIST 1.1 target lesions
    non_targets: list[dict[str, Any]]
    baseline_sum: Decimal | None
    # --- drawn for the imaging part ------------------------------------------------------
    index: list[dict[str, Any]]  # the 5 liver index lesions and their PET-IV uptake
    extra: list[dict[str, Any]]  # extra-hepatic lesions
    organs: dict[str, tuple[float, float]]  # SUVmax and SUVmean/SUVmax of each organ
    tracer: str
    artery: str  # the artery injected at the IAH procedure
    pet_weight: Decimal
    access: str
    gains: dict[str, float]  # IAH/IV uptake of each lesion
    # --- drawn at the therapy ------------------------------------------------------------
    nadir: dict[str, float]  # lowest blood counts, as a fraction of the baseline
    peak: dict[str, float]  # highest liver tests, as a multiple of the baseline
    others: float  # white cells other than neutrophils and lymphocytes
    response: str  # the tumour response to the cycle (PR, SD, PD)
    last_factor: float  # tumour size at the last assessment, as a fraction of baseline
    m3_sum: Decimal | None  # sum of the target diameters at M3

    def __init__(
        self, rng: random.Random, site: str, today: date, profile: str, features: frozenset[str]
    ) -> None:
        super().__init__()
        self.rng = rng
        self.site = site
        self.today = today
        self.profile = profile
        self.features = features
        self.lab = LABS.get(site, LABS["*"])
        self.reported_units = dict(self.lab.get("UNITS", {}))
        self.laboratory_name = self.lab["NAME"]
        self.ae = {}
        self.cm = {}
        self.due = []
        self.pending_ae = []
        self.sae_rows = 0
        self.cm_rows = 0
        self.dv_rows = 0
        self.dirty = {"AE": {}, "SAE": {}, "CM": {}, "DV": {}}
        self.logs_saved = set()
        self.uns = 0
        self.lab_ae = {}
        self.forgotten = set()

        self.variant = rng.choice(("consent", "ae", "progression", "lost"))
        if profile in THERAPY_PROFILES or (
            profile == "withdrawn" and self.variant in ("ae", "progression", "lost")
        ):
            self.therapy = True
        elif profile in ("imaging_completed", "imaging_follow_up"):
            self.therapy = False
        else:
            self.therapy = rng.random() < 0.55
        self.failures = ()
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
        """A whole number from ``low`` to ``high``, both included."""
        return self.rng.randint(low, high)

    def u(self, low: float, high: float, places: int | None = None) -> Any:
        """A number between ``low`` and ``high`` (a Decimal rounded to ``places``)."""
        value = self.rng.uniform(low, high)
        return value if places is None else q(value, places)

    def chance(self, probability: float) -> bool:
        """True with ``probability``."""
        return self.rng.random() < probability

    def pick(self, options: Sequence[Any]) -> Any:
        """One of ``options``, evenly."""
        return self.rng.choice(list(options))

    def weighted(self, options: dict[Any, float]) -> Any:
        """One of ``options`` by its weight."""
        return self.rng.choices(list(options), weights=list(options.values()))[0]

    def day(self, offset: int) -> date:
        """The day ``offset`` days after consent."""
        return self.consent + timedelta(days=offset)

    def done(self, milestone: str) -> bool:
        """Whether ``milestone`` is behind the patient today."""
        return MILESTONES.index(milestone) <= MILESTONES.index(self.last)

    # --- the time line ----------------------------------------------------------------------

    def _last_milestone(self) -> str:
        """The last milestone the profile has done by today."""
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
        # RECIST 1.1 baseline imaging: at most 28 days before the PET-IV (TUBL checks).
        plan["ct"] = max(plan["ct"], plan["PETIV"] - 28)
        plan["mri"] = max(plan["mri"], plan["ct"])
        plan["PETIAH"] = plan["D0"]
        done_follow_up = [v for v in ("CALL", *FOLLOW_UP) if self.done(v)]
        if not self.therapy:
            done_follow_up = [v for v in done_follow_up if v == "CALL"]
        late = None
        if done_follow_up and ("late_visit" in self.features or self.chance(0.08)):
            late = self.pick([v for v in done_follow_up if v != "CALL"] or done_follow_up)
        self.late = late
        plan["CALL"] = self._scheduled("CALL", plan["D0"])
        plan["THER"] = plan["D0"] + 28 + self.i(-3, 8)
        for oid in FOLLOW_UP:
            plan[oid] = self._scheduled(oid, plan["THER"])
        self.plan = plan

    def _scheduled(self, oid: str, base: int) -> int:
        """The day of visit ``oid`` from its reference day ``base``: within its window, the
        late visit after it."""
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
        self.end = None
        self.death = None
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
        self.horizon = self.consent + timedelta(days=horizon)

    def visit(self, oid: str, offset: int, repeat: int = 1) -> date:
        """Date visit ``oid`` on day ``offset``, with a deviation reason if it is the late
        visit."""
        deviation = self.pick(_DEVIATION_REASONS) if oid == self.late else None
        day = self.day(offset)
        self.date_visit(oid, repeat, day, deviation)
        return day
