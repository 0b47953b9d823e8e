"""The demo patient generator (forms/iahprrt/demo/): pure, deterministic, in the past,
and speaking the definition's language (its visits, forms, groups, items and codes)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from forms.iahprrt import STUDY
from forms.iahprrt.demo import (
    PROFILES,
    AddUnscheduledVisit,
    ChangeStatus,
    RemoveRow,
    SaveForm,
    SetVisitDate,
    allocate,
    cohort,
    patient,
)
from forms.language import MISSING_CODES, YES_NO, DataType

TODAY = date(2025, 6, 30)
SITES = ["BDX", "TLS", "NTE"]
VISITS = {v.oid: v for v in STUDY.visits}
FORMS = {f.oid: f for f in STUDY.forms}
CODELISTS = {c.oid: c for c in STUDY.codelists} | {YES_NO.oid: YES_NO}
STATUSES = {"screen_failure", "included", "in_follow_up", "completed", "withdrawn"}


STEP_TYPES = (SetVisitDate, AddUnscheduledVisit, SaveForm, RemoveRow, ChangeStatus)


def dates_of(step) -> list[date]:
    found = [step.day] if isinstance(step, (SetVisitDate, AddUnscheduledVisit)) else []
    if isinstance(step, SaveForm):
        for row in step.rows.values():
            for item, text in row.items():
                planned = item == "D0PLAN"  # a plan, not an event: may lie ahead
                if not planned and isinstance(text, str) and len(text) == 10 and text[4] == "-":
                    found.append(date.fromisoformat(text))
    return found


@pytest.mark.parametrize("count", [1, 5, 9, 12, 40, 1000])
def test_a_cohort_holds_every_profile_as_soon_as_it_can(count):
    profiles = allocate(count)
    assert len(profiles) == count
    if count >= len(PROFILES):
        assert set(profiles) == set(PROFILES)
    else:
        assert profiles == list(PROFILES)[:count]


def test_large_cohorts_follow_the_weights():
    shares = Counter(allocate(1000))
    for name, weight in PROFILES.items():
        assert abs(shares[name] - 1000 * weight) <= 10, name


def test_the_same_seed_and_day_give_the_same_patients_and_another_seed_others():
    first = list(cohort(7, 30, SITES, TODAY))
    assert first == list(cohort(7, 30, SITES, TODAY))
    assert first != list(cohort(8, 30, SITES, TODAY))


def test_patients_come_in_consent_order_spread_over_the_sites():
    scenarios = list(cohort(1, 60, SITES, TODAY))
    assert [s.consent for s in scenarios] == sorted(s.consent for s in scenarios)
    assert {s.site for s in scenarios} == set(SITES)


@pytest.mark.parametrize("seed", range(4))
def test_nothing_happens_after_today(seed):
    for scenario in cohort(seed, 80, SITES, TODAY):
        for step in scenario.steps:
            assert all(day <= TODAY for day in dates_of(step)), (scenario.profile, step)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_step_speaks_the_definition(profile):
    for n in range(5):
        scenario = patient(random.Random(n), "TLS", TODAY, profile)
        statuses = [step.status for step in scenario.steps if isinstance(step, ChangeStatus)]
        assert set(statuses) <= STATUSES
        for step in scenario.steps:
            assert isinstance(step, STEP_TYPES), step
            if isinstance(step, (SetVisitDate, AddUnscheduledVisit)):
                assert step.visit in VISITS
            if not isinstance(step, SaveForm):
                continue
            form_oid, rows = step.form, step.rows
            assert form_oid in VISITS[step.visit].forms
            groups = {g.oid: g for g in FORMS[form_oid].groups}
            for (group_oid, key), row in rows.items():
                group = groups[group_oid]
                assert key >= 1 and (group.repeating or key == 1)
                items = {i.oid: i for i in group.items}
                for item_oid, text in row.items():
                    if item_oid.endswith(".unit"):  # the unit chosen beside a value
                        item = items[item_oid.removesuffix(".unit")]
                        assert text in {u.symbol for u in item.measured_in}, (item_oid, text)
                        assert item.unit_of is None and item.oid in row
                        continue
                    item = items[item_oid]
                    assert not item.derived, item_oid
                    if item.codelist or item.type is DataType.YES_NO:
                        codes = {c for c, _ in CODELISTS[item.codelist or "NY"].codes}
                        chosen = text if isinstance(text, list) else [text]
                        assert set(chosen) <= codes | set(MISSING_CODES), (item_oid, text)


def test_screen_failures_fail_and_included_patients_pass_the_checklist():
    for n in range(20):
        failed = patient(random.Random(n), "BDX", TODAY, "screen_failure")
        answers = _checklist(failed)
        assert any(answers[c.id] != c.eligible_answer for c in STUDY.eligibility)
        included = patient(random.Random(n), "BDX", TODAY, "included")
        answers = _checklist(included)
        assert all(answers[c.id] == c.eligible_answer for c in STUDY.eligibility)


def _checklist(scenario) -> dict[str, str]:
    step = next(s for s in scenario.steps if isinstance(s, SaveForm) and s.form == "IE")
    return step.rows[("INC", 1)] | step.rows[("EXC", 1)]


def test_an_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown profile"):
        patient(random.Random(1), "BDX", TODAY, "cured")
