"""A woman of childbearing potential tested 8 days before her PET-IV is asked about it
(a finding at the test's date, its automatic query); the test of 7 days before, entered in
its place, resolves it. Saved through the one write path, audited."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ecrf.crf import services, visits
from ecrf.extensions import db
from ecrf.queries.models import Query
from ecrf.records.models import Finding, FindingStatus, SubjectStatus
from ecrf.study import subjects
from tests.capture import entry_of, events
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)
PETIV = date(2025, 1, 27)
WOCBP = {
    "DM": {
        "SEX": "F",
        "CHILDPOT": "Y",
        "PREGDAT": "2025-01-08",
        "PREGSPEC": "SERUM",
        "PREGRES": "NEG",
        "BREASTF": "N",
    }
}


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


def open_findings(subject, check):
    return list(
        db.session.scalars(
            sa.select(Finding).where(
                Finding.subject_id == subject.id,
                Finding.check_name == check,
                Finding.status == FindingStatus.OPEN,
            )
        )
    )


def test_a_test_8_days_before_the_pet_is_asked_about_and_one_7_days_before_resolves_it(
    study, subject, staff, investigator
):
    save_screening(study, subject, staff, CONSENT, WOCBP)
    subjects.change_status(
        study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="Eligible"
    )
    visits.set_visit_date(study, subject, "PETIV", PETIV, actor=staff)
    db.session.commit()

    values = {
        "PREGPRE": "NEG",
        "PREGDAT": "2025-01-19",  # 8 days before
        "PREGSPEC": "URINE",
        "CONTRA": "Y",
        "CONTRAMETH": "IUD",
    }
    services.save_form(
        study,
        subject,
        "PETIV",
        "PREG",
        {("PREG", 1): values},
        actor=staff,
        expected_version=0,
        complete=True,
    )
    db.session.commit()

    (finding,) = open_findings(subject, "PREGNANCY_TEST_RECENT")
    assert finding.item_oid == "PREGDAT"
    assert "was a test done from 2025-01-20 to 2025-01-27?" in finding.message
    assert db.session.scalar(sa.select(Query).where(Query.finding_id == finding.id)) is not None
    assert open_findings(subject, "PREGNANCY_TEST") == []
    assert open_findings(subject, "CONTRACEPTION") == []

    entry = entry_of(subject, "PETIV", "PREG")
    services.save_form(
        study,
        subject,
        "PETIV",
        "PREG",
        {("PREG", 1): {"PREGDAT": "2025-01-20"}},  # 7 days before
        actor=staff,
        expected_version=entry.version,
        reason="The test of 2025-01-20 was the one before the PET",
    )
    db.session.commit()

    assert open_findings(subject, "PREGNANCY_TEST_RECENT") == []
    assert [e.new for e in events(entry.id, "item_changed") if e.field.endswith("PREGDAT")] == [
        "2025-01-20"
    ]


def test_a_pet_done_with_no_pregnancy_form_is_asked_about_at_screening_until_it_is_entered(
    study, subject, staff, investigator
):
    save_screening(study, subject, staff, CONSENT, WOCBP)
    subjects.change_status(
        study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="Eligible"
    )
    visits.set_visit_date(study, subject, "PETIV", PETIV, actor=staff)
    services.save_form(
        study,
        subject,
        "PETIV",
        "PETIV",
        {("PET", 1): {"PETDAT": PETIV.isoformat()}},
        actor=staff,
        expected_version=0,
    )
    db.session.commit()

    (finding,) = open_findings(subject, "PREGNANCY_TEST_MISSING")
    assert (finding.entry.form_oid, finding.item_oid) == ("DM", "CHILDPOT")
    assert finding.message == (
        "This woman of childbearing potential had the PET after IV injection (2025-01-27)"
        " with no pregnancy test recorded before: was one done in the 7 days before? Please"
        " enter it with the visit."
    )

    services.save_form(
        study,
        subject,
        "PETIV",
        "PREG",
        {("PREG", 1): {"PREGPRE": "NEG", "PREGDAT": "2025-01-24", "CONTRA": "Y"}},
        actor=staff,
        expected_version=0,
    )
    db.session.commit()
    assert open_findings(subject, "PREGNANCY_TEST_MISSING") == []
    assert open_findings(subject, "PREGNANCY_TEST_RECENT") == []
