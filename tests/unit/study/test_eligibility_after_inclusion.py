"""Decisions that stay true: once a patient is included, a screening value corrected so that
a computed criterion now contradicts the investigator's checklist answer raises a finding
(a question to the investigator, with its automatic query), shown with the criterion; it
clears when the data or the answer resolve it. A high screening blood pressure never
decides EXC07 but asks the investigator to confirm."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ecrf.crf import services
from ecrf.extensions import db
from ecrf.queries.models import Query, QueryState
from ecrf.records.data import SubjectData
from ecrf.records.models import Finding, FindingStatus, SubjectStatus
from ecrf.study import subjects
from ecrf.study.eligibility import assess, open_questions
from tests.capture import entry_of, events
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def included(study, subject, staff, investigator):
    save_screening(study, subject, staff, CONSENT)
    subjects.change_status(
        study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="Eligible"
    )
    db.session.commit()
    return subject


def correct(study, subject, actor, form_oid, group_oid, values, reason="Transcription error"):
    services.save_form(
        study,
        subject,
        "SCR",
        form_oid,
        {(group_oid, 1): values},
        actor=actor,
        expected_version=entry_of(subject, "SCR", form_oid).version,
        reason=reason,
    )
    db.session.commit()
    db.session.expire_all()


def findings(subject, check: str, status=FindingStatus.OPEN) -> list[Finding]:
    return list(
        db.session.scalars(
            sa.select(Finding).where(
                Finding.subject_id == subject.id,
                Finding.check_name == check,
                Finding.status == status,
            )
        )
    )


def auto_queries(subject, finding: Finding) -> list[Query]:
    return list(db.session.scalars(sa.select(Query).where(Query.finding_id == finding.id)))


def test_a_corrected_screening_value_after_inclusion_raises_a_finding_then_the_data_clear_it(
    study, included, staff
):
    assert findings(included, "INC08_COMPUTED") == []

    # The platelet count was mistyped: 99 999/mm³, just under the 100 000 of INC08.
    correct(study, included, staff, "LBHEM", "LBHEM", {"PLAT": "99999"})

    (finding,) = findings(included, "INC08_COMPUTED")
    assert finding.item_oid == "INC08" and finding.entry.form_oid == "IE"
    assert finding.message == (
        "INC08: the data say this criterion is not met (Screening haemoglobin ≥ 8.0 g/dL,"
        " neutrophils ≥ 1500/mm³, platelets ≥ 100 000/mm³), but the checklist answers yes."
        " Which is right? Please correct the data or the answer."
    )
    (query,) = auto_queries(included, finding)
    assert query.state is QueryState.OPEN
    assert [e.new for e in events(finding.id, "finding_opened", entity="finding")] == [
        finding.message
    ]
    # The eligibility panel shows the question beside the criterion; inclusion stands.
    data = SubjectData.load(study, included)
    assert assess(study, data).results[7].state == "contradiction"
    assert open_questions(study, [finding])["INC08"] == [finding.message]
    assert included.status is SubjectStatus.INCLUDED

    # Exactly at the threshold again: resolved, the query closed with it.
    correct(study, included, staff, "LBHEM", "LBHEM", {"PLAT": "100000"})

    assert findings(included, "INC08_COMPUTED") == []
    (resolved,) = findings(included, "INC08_COMPUTED", FindingStatus.RESOLVED)
    assert resolved.id == finding.id
    assert auto_queries(included, resolved)[0].state is QueryState.CLOSED
    assert len(events(finding.id, "finding_resolved", entity="finding")) == 1


def test_after_inclusion_the_investigator_answer_can_resolve_the_finding(
    study, included, staff, investigator
):
    correct(study, included, staff, "LVEF", "LVEF", {"LVEF": "39"})
    (finding,) = findings(included, "EXC03_COMPUTED")
    assert finding.message.startswith("EXC03: the data say this criterion is met")

    # The investigator agrees with the data: the answer changes, the finding closes (the
    # patient is then not eligible on the checklist: the investigator decides what follows).
    correct(study, included, investigator, "IE", "EXC", {"EXC03": "Y"}, reason="LVEF 39 %")

    assert findings(included, "EXC03_COMPUTED") == []
    assert assess(study, SubjectData.load(study, included)).results[14].state == "fails"


@pytest.mark.parametrize(
    ("systolic", "diastolic", "asked"),
    [("160", "80", True), ("159", "95", True), ("159", "94", False)],
)
def test_a_high_screening_blood_pressure_asks_about_exc07_without_deciding_it(
    study, subject, staff, investigator, systolic, diastolic, asked
):
    save_screening(study, subject, staff, CONSENT, {"VS": {"SYSBP": systolic, "DIABP": diastolic}})

    result = assess(study, SubjectData.load(study, subject))
    exc07 = next(r for r in result.results if r.criterion.id == "EXC07")
    assert (exc07.computed, exc07.state) == (None, "satisfied")
    found = findings(subject, "EXC07_BLOOD_PRESSURE")
    assert bool(found) is asked
    if asked:
        assert found[0].message.startswith(
            f"The screening blood pressure is {systolic}/{diastolic} mmHg (160/95 or above):"
            " is the hypertension controlled under optimal treatment?"
        )
    # One reading does not exclude: the investigator's "no" stands, inclusion is possible.
    subjects.change_status(
        study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="Eligible"
    )
    db.session.commit()
    assert subject.status is SubjectStatus.INCLUDED
