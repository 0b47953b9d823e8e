"""A coded adverse event through the one write path of the real trial: a grade the CTCAE
term lacks is refused at the grade field (nothing written); the relationship to 177Lu is
asked as a finding in the therapy sub-group only."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ecrf.crf import services
from ecrf.extensions import db
from ecrf.records.models import Finding, FindingStatus, ItemValue
from tests.capture import count, last_seq
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)
ALOPECIA = "10001760"


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


def _ae(**changes: str | None) -> dict:
    row = {
        "AESPID": "1",
        "AETERM": "Hair thinning",
        "AELLTCD": ALOPECIA,
        "AESTDAT": "2025-02-10",
        "AEONGO": "Y",
        "AETOXGR": "2",
        "AESER": "N",
        "AERELPR": "NOT",
        "AEREL": "POSSIBLE",
        "AECONTRT": "N",
        "AEOUT": "NOTRECOVERED",
    }
    return {("AE", 1): row | changes}


def _save(study, subject, staff, entries):
    result = services.save_form(
        study, subject, "LOGS", "AE", entries, actor=staff, expected_version=0
    )
    db.session.commit()
    return result


def _open_findings(subject, check: str) -> list[Finding]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Finding).where(
                Finding.subject_id == subject.id,
                Finding.status == FindingStatus.OPEN,
                Finding.check_name == check,
            )
        )
    )


def test_a_grade_the_term_lacks_is_refused_at_the_grade(study, subject, staff):
    save_screening(study, subject, staff, CONSENT, forms=("IC",))
    before = (last_seq(), count(ItemValue))
    with pytest.raises(services.ValidationFailed) as caught:
        services.save_form(
            study, subject, "LOGS", "AE", _ae(AETOXGR="3"), actor=staff, expected_version=0
        )
    db.session.rollback()
    (issue,) = caught.value.issues
    assert (issue.group_oid, issue.row_key, issue.item_oid, issue.severity) == (
        "AE",
        1,
        "AETOXGR",
        "error",
    )
    assert "Alopecia has grades 1 to 2, not grade 3" in issue.message
    assert (last_seq(), count(ItemValue)) == before

    entry = _save(study, subject, staff, _ae(AETOXGR="2")).entry  # its highest grade is kept
    (row,) = entry.rows
    assert {v.item_oid: v.value_text for v in row.values}["AELLTCD"] == ALOPECIA


def test_a_term_outside_the_list_is_refused(study, subject, staff):
    save_screening(study, subject, staff, CONSENT, forms=("IC",))
    with pytest.raises(services.ValidationFailed) as caught:
        services.save_form(
            study, subject, "LOGS", "AE", _ae(AELLTCD="10099999"), actor=staff, expected_version=0
        )
    db.session.rollback()
    assert [i.item_oid for i in caught.value.issues] == ["AELLTCD"]


def test_the_177lu_relationship_is_asked_in_the_therapy_subgroup(study, subject, staff):
    save_screening(study, subject, staff, CONSENT, forms=("IC",))  # in the therapy sub-group
    _save(study, subject, staff, _ae(AEREL=None))
    (finding,) = _open_findings(subject, "LU_RELATIONSHIP")
    assert (finding.item_oid, finding.repeat_key) == ("AEREL", 1)
    assert finding.message.startswith("This patient is in the therapy sub-group")


def test_the_177lu_relationship_is_not_asked_outside_the_therapy_subgroup(study, subject, staff):
    imaging_only = {"IC": {"THERAPY": "N"}}
    save_screening(study, subject, staff, CONSENT, imaging_only, forms=("IC",))
    _save(study, subject, staff, _ae(AEREL=None))
    assert _open_findings(subject, "LU_RELATIONSHIP") == []
