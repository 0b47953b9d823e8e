"""The report tests share the seeded trial (tests/seeded_trial.py)."""

from tests.seeded_trial import Seeded, dispose, seed, seeded, trial_app  # noqa: F401
