"""A code list may hold a code spelled like a missing-data code: the IAH-PRRT pregnancy test
before the 177Lu administration answers "NA" (not applicable: a man, or a woman without
childbearing potential). It is an answer, kept as such, and the checks read it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ecrf.crf import services
from ecrf.crf.web_forms import build_entry_form
from ecrf.extensions import db
from ecrf.records.models import Finding, FindingStatus
from forms.iahprrt.pregnancy import NO_TEST
from tests.capture import value
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


def test_a_code_of_the_list_named_na_is_an_answer_not_a_missing_code(study, subject, staff):
    woman = {
        "DM": {
            "SEX": "F",
            "CHILDPOT": "Y",
            "PREGDAT": "2025-01-08",
            "PREGSPEC": "SERUM",
            "PREGRES": "NEG",
            "BREASTF": "N",
        },
        "IC": {"D0PLAN": "2025-02-03"},
    }
    save_screening(study, subject, staff, CONSENT, woman, forms=("IC", "DM"))

    result = services.save_form(
        study,
        subject,
        "THER",
        "LUADM",
        {("SAFE", 1): {"PREGPRE": "NA"}},
        actor=staff,
        expected_version=0,
    )
    db.session.commit()

    assert value(study, subject, "THER.LUADM.PREGPRE") == "NA"
    entry = result.entry
    (stored,) = [v for r in entry.rows for v in r.values if v.item_oid == "PREGPRE"]
    assert (stored.value_text, stored.missing_code) == ("NA", None)
    # So the check sees it: a woman of childbearing potential needs the test.
    assert [f.message for f in services_findings(subject) if f.check_name == "PREGNANCY_TEST"] == [
        NO_TEST
    ]


def test_the_choice_lists_na_once(app, study):
    with app.test_request_context():
        form = build_entry_form(study, study.forms["LUADM"], {"ADM": [1], "RP": [1], "SAFE": [1]})
        choices = [code for code, _ in form["SAFE-1-PREGPRE"].choices]
    assert choices.count("NA") == 1
    assert choices[-3:] == ["ND", "UNK", "NASK"]  # the other missing-data codes remain


def services_findings(subject):
    return db.session.scalars(
        sa.select(Finding).where(
            Finding.subject_id == subject.id, Finding.status == FindingStatus.OPEN
        )
    ).all()
