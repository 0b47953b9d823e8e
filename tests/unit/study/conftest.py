"""The capture-engine fixtures of tests/unit/crf, shared with the study tests."""

from tests.unit.crf.conftest import (  # noqa: F401  (fixtures, found by name)
    investigator,
    monitor,
    other_staff,
    save,
    sites,
    slow_reads,
    staff,
    study,
    subject,
)
