"""A patient's whole story, phase after phase as far as the profile goes, and a cohort
of them: the entry points of the demo generator."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date

from forms.iahprrt.demo.end_of_study import end_of_study, ending
from forms.iahprrt.demo.follow_up import follow_up_visit, safety_call
from forms.iahprrt.demo.imaging import lesions, pet_iah, pet_iv
from forms.iahprrt.demo.laboratories import laboratory
from forms.iahprrt.demo.logs import flush_logs
from forms.iahprrt.demo.measurements import repeat_chemistry_before_pet
from forms.iahprrt.demo.profile import FOLLOW_UP, PROFILES, SCREEN_FAILURES, Patient, allocate
from forms.iahprrt.demo.screening import eligibility_checklist, screening
from forms.iahprrt.demo.ssa import injections_after_pets, injections_before_pets
from forms.iahprrt.demo.steps import AddUnscheduledVisit, Scenario, SetVisitDate
from forms.iahprrt.demo.therapy import therapy_cycle


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
    # a grade 3 toxicity with no adverse event recorded, a visit out of its window, and a
    # lanreotide injection inside the 4-week washout before the PET-IV.
    special = next((i for i, p in enumerate(profiles) if p == "therapy_completed"), None)
    patients = []
    for index, profile in enumerate(profiles):
        site = rng.choices(list(sites), weights=weights)[0]
        features = (
            ("toxicity", "forgotten_ae", "late_visit", "ssa_in_washout") if index == special else ()
        )
        # Dating the consent needs the time line only, not the patient's data.
        consent = Patient(_rng(seed, index), site, today, profile, frozenset(features)).consent
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
    return story(Patient(rng, site, today, profile, frozenset(features)))


def story(p: Patient) -> Scenario:
    """The patient's whole story, phase after phase, as far as the profile goes."""
    screening(p)
    if p.profile == "screening":
        return _scenario(p)
    eligible = eligibility_checklist(p)
    if p.profile == "screen_failure":
        end_of_study(p, "SCREENFAIL", p.end, p.plan["IE"])
        reasons = "; ".join(SCREEN_FAILURES[f][0] for f in p.failures)
        p.status("screen_failure", f"Not eligible: {reasons}.")
        return _scenario(p)
    if not eligible:
        raise AssertionError("an included patient must be eligible")  # generator bug
    iedat = p.day(p.plan["IE"])
    p.status("included", f"Eligible on the checklist of {iedat}: all criteria satisfied.")
    lesions(p)
    if p.done("PETIV"):
        repeat_chemistry_before_pet(p, p.day(p.plan["PETIV"]))
        pet_iv(p)
        injections_before_pets(p)
    if p.profile == "withdrawn" and p.variant == "consent":
        flush_logs(p)
        end_of_study(p, "WITHDRAWN", p.end, p.end)
        p.status("withdrawn", "Consent withdrawn before the IAH procedure.")
        return _scenario(p)
    if not p.done("PETIAH"):
        flush_logs(p)
        return _scenario(p)
    pet_iah(p)
    p.status("in_follow_up", f"IAH procedure (D0) done on {p.day(p.plan['D0'])}.")
    if not p.done("CALL"):
        flush_logs(p)
        return _scenario(p)
    safety_call(p)
    if not p.therapy:
        injections_after_pets(p, therapy=False)
        end_of_study(p, "COMPLETED", p.plan["CALL"], p.plan["CALL"])
        p.status("completed", "Imaging part completed; end of study after the safety call.")
        return _scenario(p)
    if p.done("THER"):
        therapy_cycle(p)
        injections_after_pets(p, therapy=True)
    previous = "THER"
    for oid in FOLLOW_UP:
        if not p.done(oid):
            break
        follow_up_visit(p, oid, previous)
        previous = oid
    ending(p)
    return _scenario(p)


def _scenario(p: Patient) -> Scenario:
    """The steps written, checked to lie on or before the horizon."""
    for step in p.steps:
        dated = isinstance(step, (SetVisitDate, AddUnscheduledVisit))
        if dated and step.day > p.horizon:  # a generator bug
            raise AssertionError(f"{step} is after {p.horizon}")
    return Scenario(p.site, p.profile, p.consent, tuple(p.steps), laboratory(p.site))
