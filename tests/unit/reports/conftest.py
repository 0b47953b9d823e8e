"""The capture fixtures of the CRF unit tests (a study, sites, staff, a subject, save)."""

from tests.unit.crf.conftest import save, sites, staff, study, subject  # noqa: F401
