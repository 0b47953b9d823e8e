"""The gates of the real IAH-PRRT trial around a subject's data: nothing but screening
before the consent date; after withdrawal, completion or a recorded death no new visit,
and every change needs its reason, except on the forms documenting the end."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ecrf.crf import services, visits
from ecrf.crf.services import ValidationFailed
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.records.models import FormEntry, SubjectStatus, SubjectVisit
from ecrf.study import subjects
from tests.capture import count, entry_of, events, last_seq
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)
NO_CONSENT = (
    "No consent date is recorded for BDX-001 yet: record the date of signed informed consent"
    " on the informed consent and study part form (screening / inclusion) before entering"
    " data of {visit}."
)
CM_ROW = {
    ("CM", 1): {
        "CMTRT": "Paracetamol",
        "CMINDC": "Pain",
        "CMSTDAT": "2025-01-10",
        "CMPRIOR": "N",
        "CMONGO": "Y",
    }
}


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


def save(study, subject, actor, visit, form, entries, *, version=0, **kwargs):
    result = services.save_form(
        study, subject, visit, form, entries, actor=actor, expected_version=version, **kwargs
    )
    db.session.commit()
    return result


def refused_save(study, subject, actor, visit, form, entries, **kwargs) -> ValidationFailed:
    """The save is refused with nothing written: no visit, entry, value or audit event."""
    before = (last_seq(), count(SubjectVisit), count(FormEntry))
    with pytest.raises(ValidationFailed) as refused:
        services.save_form(
            study, subject, visit, form, entries, actor=actor, expected_version=0, **kwargs
        )
    db.session.rollback()
    assert (last_seq(), count(SubjectVisit), count(FormEntry)) == before
    return refused.value


def refused_date(study, subject, actor, visit, day, **kwargs) -> RuleViolation:
    before = (last_seq(), count(SubjectVisit))
    with pytest.raises(RuleViolation) as refused:
        visits.set_visit_date(study, subject, visit, day, actor=actor, **kwargs)
    db.session.rollback()
    assert (last_seq(), count(SubjectVisit)) == before
    assert refused.value.field == "visit_date"
    return refused.value


# --- before consent -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("visit", "form", "entries", "name"),
    [
        ("PETIV", "PETIV", {("PET", 1): {"PETDAT": "2025-01-20"}}, "68ga pet after iv injection"),
        ("LOGS", "CM", CM_ROW, "logs"),
        ("CALL", "CALL", {("CALL", 1): {"CALLDAT": "2025-01-20"}}, "safety call"),
    ],
)
def test_no_data_of_a_visit_other_than_screening_before_the_consent_date(
    study, subject, staff, visit, form, entries, name
):
    refusal = refused_save(study, subject, staff, visit, form, entries)
    assert refusal.form_errors == [NO_CONSENT.format(visit=name)]


def test_screening_data_may_be_entered_before_the_consent_date(study, subject, staff):
    save(study, subject, staff, "SCR", "DM", {("DM", 1): {"SEX": "F"}})
    visits.set_visit_date(study, subject, "SCR", CONSENT, actor=staff)
    db.session.commit()
    assert entry_of(subject, "SCR", "DM") is not None


def test_a_draft_consent_form_without_its_date_opens_nothing(study, subject, staff):
    save(study, subject, staff, "SCR", "IC", {("IC", 1): {"ICVERS": "2.0"}})
    refused_save(study, subject, staff, "LOGS", "CM", CM_ROW)


def test_once_the_consent_date_is_recorded_the_other_visits_open(study, subject, staff):
    refused_save(study, subject, staff, "LOGS", "CM", CM_ROW)
    save(study, subject, staff, "SCR", "IC", {("IC", 1): {"ICDAT": CONSENT.isoformat()}})
    save(study, subject, staff, "LOGS", "CM", CM_ROW)
    assert entry_of(subject, "LOGS", "CM") is not None


def test_no_visit_date_nor_unscheduled_visit_before_the_consent_date(study, subject, staff):
    refusal = refused_date(study, subject, staff, "PETIV", CONSENT)
    assert refusal.message == NO_CONSENT.format(visit="68ga pet after iv injection")
    before = (last_seq(), count(SubjectVisit))
    with pytest.raises(RuleViolation) as refused:
        visits.add_unscheduled_visit(study, subject, "UNS", CONSENT, actor=staff)
    db.session.rollback()
    assert refused.value.message == NO_CONSENT.format(visit="unscheduled")
    assert (last_seq(), count(SubjectVisit)) == before


# --- after the end of participation --------------------------------------------------------


@pytest.fixture
def included(study, subject, staff, investigator):
    """BDX-001 screened (consent recorded), included by the investigator, with a draft
    concomitant medication log and the PET-IV visit dated."""
    save_screening(study, subject, staff, CONSENT)
    subjects.change_status(
        study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="Eligible"
    )
    save(study, subject, staff, "LOGS", "CM", CM_ROW)
    visits.set_visit_date(study, subject, "PETIV", CONSENT + timedelta(days=20), actor=staff)
    db.session.commit()
    return subject


def withdraw(study, subject, investigator):
    subjects.change_status(
        study, subject, SubjectStatus.WITHDRAWN, actor=investigator, reason="Consent"
    )
    db.session.commit()


def test_after_withdrawal_no_new_visit_is_started(study, included, staff, investigator):
    withdraw(study, included, investigator)
    left = "BDX-001 has left the study (withdrawn): no new visit can be started."

    refusal = refused_save(study, included, staff, "W2", "VS", {("VS", 1): {"WEIGHT": "70.0"}})
    assert refusal.form_errors == [left]
    assert refused_date(study, included, staff, "PETIAH", date(2025, 2, 3)).message == left
    before = last_seq()
    with pytest.raises(RuleViolation) as refused:
        visits.add_unscheduled_visit(study, included, "UNS", date(2025, 2, 3), actor=staff)
    db.session.rollback()
    assert refused.value.message == left and last_seq() == before


def test_after_withdrawal_a_change_needs_its_reason_even_on_a_draft(
    study, subject, included, staff, investigator
):
    withdraw(study, included, investigator)
    version = entry_of(included, "LOGS", "CM").version
    change = {("CM", 1): {"CMDSTXT": "1 g"}}
    with pytest.raises(ValidationFailed) as refused:
        services.save_form(
            study, included, "LOGS", "CM", change, actor=staff, expected_version=version
        )
    db.session.rollback()
    assert refused.value.form_errors == [
        "BDX-001 has left the study (withdrawn): give the reason for this change."
    ]

    save(study, included, staff, "LOGS", "CM", change, version=version, reason=" Dose found ")
    entry = entry_of(included, "LOGS", "CM")
    (changed,) = [e for e in events(entry.id, "item_entered") if e.field == "CM[1].CMDSTXT"]
    assert (changed.new, changed.reason) == ("1 g", "Dose found")


def test_a_visit_started_before_withdrawal_keeps_its_data_with_a_reason(
    study, included, staff, investigator
):
    withdraw(study, included, investigator)
    pet = {("PET", 1): {"PETDAT": (CONSENT + timedelta(days=20)).isoformat()}}
    with pytest.raises(ValidationFailed) as refused:
        services.save_form(study, included, "PETIV", "PETIV", pet, actor=staff, expected_version=0)
    db.session.rollback()
    assert "give the reason" in refused.value.form_errors[0]
    save(study, included, staff, "PETIV", "PETIV", pet, reason="Late entry of the PET-IV")
    # Its date too may be corrected, with the reason any change of date needs.
    visits.set_visit_date(
        study, included, "PETIV", CONSENT + timedelta(days=21), actor=staff, reason="Typo"
    )
    db.session.commit()


def test_the_end_of_study_form_stays_open_without_a_reason(study, included, staff, investigator):
    withdraw(study, included, investigator)
    eos = {
        ("EOS", 1): {
            "EOSDAT": "2025-02-01",
            "EOSSTAT": "WITHDRAWN",
            "LASTCONT": "2025-02-01",
        }
    }
    save(study, included, staff, "LOGS", "EOS", eos, complete=True)
    entry = entry_of(included, "LOGS", "EOS")
    assert [e.reason for e in events(entry.id, "item_entered")] == [None, None, None]


def test_a_recorded_death_ends_participation_before_any_change_of_status(study, included, staff):
    death = {
        ("DD", 1): {
            "DTHDAT": "2025-02-01",
            "DTHCAUSE": "Septic shock",
            "AUTOPSY": "N",
            "DTHREL": "POSSIBLE",
        }
    }
    save(study, included, staff, "LOGS", "DD", death, complete=True)
    assert included.status is SubjectStatus.INCLUDED

    refusal = refused_save(study, included, staff, "W2", "VS", {("VS", 1): {"WEIGHT": "70.0"}})
    assert refusal.form_errors == [
        "BDX-001 has left the study (death recorded): no new visit can be started."
    ]
    eos = {("EOS", 1): {"EOSDAT": "2025-02-01", "EOSSTAT": "DEATH", "LASTCONT": "2025-01-31"}}
    save(study, included, staff, "LOGS", "EOS", eos, complete=True)


def test_after_a_screen_failure_no_new_visit_either(study, subject, staff, investigator):
    save_screening(study, subject, staff, CONSENT)
    subjects.change_status(
        study, subject, SubjectStatus.SCREEN_FAILURE, actor=investigator, reason="X"
    )
    db.session.commit()
    refusal = refused_save(study, subject, staff, "PETIV", "PETIV", {("PET", 1): {"TRACER": "X"}})
    assert refusal.form_errors == [
        "BDX-001 has left the study (screen failure): no new visit can be started."
    ]
