"""The review tests run on the mini study with critical forms (tests/unit/review/critical.py)."""

from __future__ import annotations

import pytest

CRITICAL_STUDY = "tests.unit.review.critical:STUDY"


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION=CRITICAL_STUDY)
