"""The demo generator is a function of its seed (and of today): the same seed gives the same
patients, step for step, in this process or another; another seed gives other patients.
The steps are typed, frozen values."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from forms.iahprrt.demo import SaveForm, Scenario, cohort
from forms.iahprrt.demo.steps import STEP_TYPES

TODAY = date(2025, 6, 30)
SITES = ["BDX", "TLS", "NTE"]
ROOT = Path(__file__).resolve().parents[3]


def dump(scenarios: list[Scenario]) -> list[str]:
    """Each patient as text: ``repr`` keeps the order of rows and items, which ``==`` on
    dicts does not."""
    return [repr(scenario) for scenario in scenarios]


def digest(seed: int, count: int) -> str:
    text = "\n".join(dump(list(cohort(seed, count, SITES, TODAY))))
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("seed", [1, 7, 11])
def test_a_seed_gives_the_same_steps_run_after_run(seed):
    first = list(cohort(seed, 12, SITES, TODAY))
    second = list(cohort(seed, 12, SITES, TODAY))
    assert len(first) == 12
    assert first == second
    assert dump(first) == dump(second)


def test_a_seed_gives_the_same_steps_in_another_process():
    """Nothing depends on the process (hash randomisation of str keys, sets): two
    interpreters with different hash seeds produce the same patients as this one."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from tests.unit.forms.test_demo_determinism import digest; print(digest(7, 12))"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = os.environ | {"PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", script, str(ROOT)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        digests.add(done.stdout.strip())
    assert digests == {digest(7, 12)}


def test_other_seeds_give_other_patients():
    cohorts = {seed: dump(list(cohort(seed, 12, SITES, TODAY))) for seed in (1, 7, 11)}
    for seed, patients in cohorts.items():
        others = {p for other, ps in cohorts.items() if other != seed for p in ps}
        assert not set(patients) & others, seed
        assert len(set(patients)) == len(patients)  # nor twice the same patient in one


def test_steps_are_frozen_values_of_the_step_types():
    scenario = next(iter(cohort(1, 12, SITES, TODAY)))
    assert scenario.steps and all(isinstance(step, STEP_TYPES) for step in scenario.steps)
    step = next(step for step in scenario.steps if isinstance(step, SaveForm))
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.form = "DM"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.steps = ()  # type: ignore[misc]
