"""The definition's enrolment target and SAE reporting, checked when the study loads."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ecrf.records.loader import DefinitionError, load_study
from forms.iahprrt.study import STUDY as TRIAL
from tests.definitions.dashboards import STUDY


def problems_of(study) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_study(study)
    return caught.value.problems


def test_the_trial_plans_23_patients_and_reports_serious_events_within_24_hours():
    loaded = load_study(TRIAL).study
    assert loaded.enrolment_target == 23
    assert (loaded.serious_events.events, loaded.serious_events.hours) == ("LOGS.AE.AE[]", 24)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"enrolment_target": 0}, "enrolment target: at least 1 subject"),
        ({"enrolment_target": "23"}, "enrolment target: a whole number of subjects"),
        ({"enrolment_target": True}, "enrolment target: a whole number of subjects"),
    ],
)
def test_a_bad_enrolment_target_is_refused(changes, problem):
    assert problem in problems_of(replace(STUDY, **changes))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"events": "LOGS.AE.NOPE[]"}, "serious events: LOGS.AE.NOPE[] is not the rows of a"),
        ({"events": "LOGS.AE.AESER"}, "serious events: LOGS.AE.AESER is not the rows of a"),
        ({"reports": "SCR.SAE.SAE[]"}, "serious events: SCR.SAE.SAE[] is not the rows of a"),
        ({"serious": "AESERX"}, "serious events: unknown item AESERX in LOGS.AE.AE[]"),
        ({"number": "SAENUM"}, "serious events: unknown item SAENUM in LOGS.AE.AE[]"),
        ({"report_number": "AENUM"}, "serious events: unknown item AENUM in LOGS.SAE.SAE[]"),
        ({"hours": 0}, "serious events: hours must be at least 1"),
        ({"hours": 1.5}, "serious events: hours must be a whole number"),
    ],
)
def test_a_bad_sae_reporting_is_refused_naming_the_problem(changes, problem):
    broken = replace(STUDY, serious_events=replace(STUDY.serious_events, **changes))
    assert any(p.startswith(problem) for p in problems_of(broken)), problems_of(broken)
