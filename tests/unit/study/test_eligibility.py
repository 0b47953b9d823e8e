"""Eligibility of a screening patient of the real IAH-PRRT trial, from the data entered
through the one write path: inclusion only when all 24 criteria are satisfied; a criterion
the data show failing blocks it even when the investigator ticked it as met; the refusal
names the criteria; a screen failure records them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask

from ecrf import create_app
from ecrf.auth import services as auth_services
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import services
from ecrf.crf.services import ValidationFailed
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from ecrf.records.loader import current_study, load_study
from ecrf.records.models import Finding, FindingStatus, Subject, SubjectStatus
from ecrf.records.rule_failures import RuleFailed
from ecrf.records.sites import get_site
from ecrf.study import services as study_services
from ecrf.study import subjects
from ecrf.study.eligibility import Assessment, assess
from forms.iahprrt.eligibility import CRITERIA
from tests.capture import entry_of, events, value
from tests.conftest import (
    PASSWORD,
    KeptState,
    app_config,
    copy_checkpoints,
    discard_state,
    keep_state,
    put_back,
    release,
)
from tests.iahprrt_patient import (
    AGE,
    FORMS,
    birth_month,
    lut_cycles,
    save_screening,
    screening,
)

CONSENT = date(2025, 1, 6)
COMPUTABLE = [c.id for c in CRITERIA if c.computable]
TRIAL = "forms.iahprrt:STUDY"


@dataclass(frozen=True)
class Screenings:
    """The eligible patient's screening, entered once in the visit's order: ``snapshots[k]``
    is the database after the people (sites BDX and TLS, BDX's site staff and investigator,
    BDX-001 registered) and the first k screening forms, with its audit checkpoints."""

    snapshots: list[KeptState]
    staff_id: int
    investigator_id: int
    subject_id: int


@pytest.fixture(scope="module")
def screenings(databases, tmp_path_factory) -> Iterator[Screenings]:
    """Enter the screening once, through the write path as the tests do, keeping a copy of
    the database before the first form and after each."""
    url = databases.new_database()
    app = create_app(app_config(url, tmp_path_factory.mktemp("screenings"), STUDY_DEFINITION=TRIAL))
    snapshots: list[KeptState] = []

    def snapshot() -> None:
        snapshots.append(keep_state(app, databases))

    with app.app_context():
        for code in ("BDX", "TLS"):
            study_services.add_site(code, f"Hospital {code}", actor=None)
        people = [
            auth_services.create_user(
                username,
                username.title(),
                PASSWORD,
                role=role,
                site=get_site("BDX"),
                actor=None,
                must_change_password=False,
            )
            for username, role in (
                ("bdx.nurse", Role.SITE_STAFF),
                ("bdx.investigator", Role.INVESTIGATOR),
            )
        ]
        db.session.commit()
        subject = subjects.register_subject(get_site("BDX"), actor=people[0])
        db.session.commit()
        ids = Screenings([], people[0].id, people[1].id, subject.id)
    snapshot()
    for form_oid in FORMS:
        with app.app_context():
            subject, staff = (
                db.session.get(Subject, ids.subject_id),
                db.session.get(User, ids.staff_id),
            )
            save_screening(current_study(), subject, staff, CONSENT, forms=(form_oid,))
        snapshot()
    yield replace(ids, snapshots=snapshots)
    for state in snapshots:
        discard_state(databases, state)


@pytest.fixture
def app(make_app, screenings, databases) -> Iterator[Flask]:
    """A new app of the real trial on a copy of the people of the ``screenings`` (nothing
    entered yet)."""
    name, kept_checkpoints = screenings.snapshots[0]
    url = databases.new_database(name)
    app = make_app(STUDY_DEFINITION=TRIAL, SQLALCHEMY_DATABASE_URI=url)
    copy_checkpoints(app, kept_checkpoints)
    yield app
    release(app)
    databases.discard(url)


@pytest.fixture
def staff(app_ctx, screenings) -> User:
    """Site staff at BDX: may enter data there."""
    return db.session.get(User, screenings.staff_id)


@pytest.fixture
def investigator(app_ctx, screenings) -> User:
    """The investigator at BDX: enters data and decides inclusion and withdrawal there."""
    return db.session.get(User, screenings.investigator_id)


@pytest.fixture
def subject(app_ctx, screenings) -> Subject:
    """BDX-001, registered and committed."""
    return db.session.get(Subject, screenings.subject_id)


@pytest.fixture
def screened(app, databases, screenings):
    """``screened(k)``: the database as after the first k screening forms of the eligible
    patient were saved (complete) in the visit's order, before anything else is saved in
    the test. The test's objects stay in its session, read again from the copy."""

    def put(saved: int) -> None:
        db.session.rollback()  # no transaction left open on the database replaced
        db.engine.dispose()
        put_back(app, databases, screenings.snapshots[saved])
        db.session.expire_all()

    return put


@pytest.fixture
def screen(study, subject, staff, screened):
    """Enter the screening forms of BDX-001 (eligible unless ``changes`` say otherwise)
    and return the assessment of the data as stored. The forms before the first that
    ``changes`` alter are entered as for every patient: copied, as entered once."""

    def enter(changes=None) -> Assessment:
        first = min((FORMS.index(form_oid) for form_oid in changes or {}), default=len(FORMS))
        screened(first)
        save_screening(study, subject, staff, CONSENT, changes, forms=FORMS[first:])
        return assessment(study, subject)

    return enter


def assessment(study, subject) -> Assessment:
    db.session.expire_all()
    return assess(study, SubjectData.load(study, subject))


def by_id(result: Assessment) -> dict:
    return {r.criterion.id: r for r in result.results}


def include(study, subject, investigator):
    subjects.change_status(
        study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="Eligible"
    )
    db.session.commit()


def refused_inclusion(study, subject, investigator) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        subjects.change_status(
            study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="Eligible"
        )
    db.session.rollback()
    db.session.expire_all()
    assert subject.status is SubjectStatus.SCREENING
    assert events(subject.identifier, "subject_status_changed", entity="subject") == []
    assert refused.value.field == "status"
    return refused.value


# --- the eligible patient -------------------------------------------------------------------


def test_a_patient_meeting_all_24_criteria_is_included(screen, study, subject, staff, investigator):
    result = screen()

    assert len(result.results) == 24
    assert {r.criterion.id: r.state for r in result.results} == {
        c.id: "satisfied" for c in CRITERIA
    }
    assert result.eligible and result.blocking == [] and result.failing == []
    # What the data decide: inclusion criteria met, exclusion criteria absent; the rest
    # (investigator only, or parts only the investigator can judge) stays undecided.
    assert {r.criterion.id: r.computed for r in result.results if r.computed is not None} == {
        "INC01": True,
        "INC02": True,
        "INC03": True,
        "INC05": True,
        "INC06": True,
        "INC07": True,
        "INC08": True,
        "INC09": True,
        "INC11": True,
        "EXC01": False,
        "EXC02": False,
        "EXC03": False,
        "EXC05": False,
        "EXC06": False,
        "EXC09": False,
        "EXC11": False,
    }
    assert value(study, subject, "SCR.IE.ELIGIBLE") == "Y"
    assert value(study, subject, "SCR.IE.IEFAIL") == "none"

    include(study, subject, investigator)

    assert subject.status is SubjectStatus.INCLUDED
    (changed,) = events(subject.identifier, "subject_status_changed", entity="subject")
    assert (changed.old, changed.new, changed.reason) == ("screening", "included", "Eligible")


def test_the_assessment_shows_each_criterion_with_the_evidence_it_used(
    screen, study, subject, investigator
):
    result = by_id(screen({"LBCHEM": {"ALB": "2.9"}}))

    assert result["INC01"].evidence == [
        ("Histologically proven (SCR)", "Yes"),
        ("Differentiation (SCR)", "Well differentiated (NET)"),
        ("Primary tumour site (SCR)", "Jejunum / ileum (small intestine)"),
    ]
    assert result["INC03"].evidence == [
        (
            "Prior somatostatin analogs and LUTATHERA cycles: Standard intravenous LUTATHERA®"
            " cycles",
            "4 row(s)",
        ),
    ]
    # The derived clearance, with the unit; its own inputs are on the biochemistry form.
    assert result["INC06"].evidence == [
        ("Creatinine clearance (Cockcroft-Gault) (SCR)", "70.0 mL/min"),
    ]
    assert result["INC07"].evidence == [
        ("ALT (alanine aminotransferase) (SCR)", "30 U/L"),
        ("ALT (alanine aminotransferase): upper limit of normal (SCR)", "40 U/L"),
        ("AST (aspartate aminotransferase) (SCR)", "28 U/L"),
        ("AST (aspartate aminotransferase): upper limit of normal (SCR)", "40 U/L"),
    ]
    assert result["INC09"].evidence == [
        ("Month and year of birth (SCR)", birth_month(CONSENT, AGE)),
        ("Date of signed written informed consent (SCR)", "2025-01-06"),
    ]
    assert result["EXC06"].evidence == [
        ("Albumin (SCR)", "2.9 g/dL"),
        ("Prothrombin time (SCR)", "12.5 s"),
        ("Prothrombin time: upper limit of normal (SCR)", "14.0 s"),
    ]
    # A value not entered reads as a dash; a criterion without a rule has no evidence.
    assert (
        "Woman of childbearing potential (pre-menopausal, not surgically sterile) (SCR)",
        "—",
    ) in result["EXC09"].evidence
    assert result["INC10"].evidence == [] and not result["INC10"].criterion.computable
    assert (result["EXC06"].answer, result["EXC06"].computed, result["EXC06"].state) == (
        "N",
        False,
        "satisfied",
    )


# --- each criterion the data can decide, at its boundary ------------------------------------

#: (criterion, changes to the eligible patient, what the data say, eligible on it).
#: The investigator's checklist always answers for inclusion: a failing case is then a
#: contradiction between the tick and the data.
BOUNDARIES = [
    # Cockcroft-Gault at 68 years, male: (140 − 68) × weight / (72 × creatinine mg/dL)
    # = weight / creatinine: the weight chooses the clearance.
    ("INC06", {"VS": {"WEIGHT": "50.0"}}, True, True, "50.0 mL/min"),
    ("INC06", {"VS": {"WEIGHT": "49.9"}}, False, False, "49.9 mL/min"),
    # The same 1.00 mg/dL entered in µmol/L (× 88.42), kept as entered.
    (
        "INC06",
        {
            "VS": {"WEIGHT": "50.0"},
            "LBCHEM": {"CREAT": "88.42", "CREAT.unit": "umol/L", "CREATULN": "106"},
        },
        True,
        True,
        "50.0 mL/min",
    ),
    # Compared unrounded, shown to one decimal: 70 × 88.42 / 123.8 = 49.996 is not met,
    # 70 × 88.42 / 123.7 = 50.036 is; both read 50.0.
    (
        "INC06",
        {"LBCHEM": {"CREAT": "123.8", "CREAT.unit": "umol/L", "CREATULN": "106"}},
        False,
        False,
        "50.0 mL/min",
    ),
    (
        "INC06",
        {"LBCHEM": {"CREAT": "123.7", "CREAT.unit": "umol/L", "CREATULN": "106"}},
        True,
        True,
        "50.0 mL/min",
    ),
    ("INC07", {"LBCHEM": {"ALT": "100"}}, True, True, "100 U/L"),  # exactly 2.5 × 40
    ("INC07", {"LBCHEM": {"ALT": "101"}}, False, False, "101 U/L"),
    ("INC07", {"LBCHEM": {"AST": "101"}}, False, False, "101 U/L"),
    ("INC08", {"LBHEM": {"PLAT": "100000"}}, True, True, "100000 /mm3"),
    ("INC08", {"LBHEM": {"PLAT": "99999"}}, False, False, "99999 /mm3"),
    ("INC08", {"LBHEM": {"HGB": "8.0"}}, True, True, "8.0 g/dL"),
    ("INC08", {"LBHEM": {"HGB": "7.9"}}, False, False, "7.9 g/dL"),
    ("INC08", {"LBHEM": {"NEUT": "1500"}}, True, True, "1500 /mm3"),
    ("INC08", {"LBHEM": {"NEUT": "1499"}}, False, False, "1499 /mm3"),
    ("INC09", {"DM": {"BRTHYM": birth_month(CONSENT, 18)}}, True, True, "2006-12"),
    ("INC09", {"DM": {"BRTHYM": birth_month(CONSENT, 17)}}, False, False, "2007-12"),
    # Born in the consent month 18 years earlier: 17 or 18, the data cannot tell; the
    # investigator's answer (who saw the birth date) stands.
    ("INC09", {"DM": {"BRTHYM": "2007-01"}}, None, True, "2007-01"),
    ("EXC03", {"LVEF": {"LVEF": "40"}}, False, True, "40 %"),
    ("EXC03", {"LVEF": {"LVEF": "39"}}, True, False, "39 %"),
    # Albumin < 3.0 g/dL excludes unless the prothrombin time is normal (≤ its ULN 14.0 s).
    ("EXC06", {"LBCHEM": {"ALB": "2.9"}, "COAG": {"PT": "14.0"}}, False, True, "2.9 g/dL"),
    ("EXC06", {"LBCHEM": {"ALB": "2.9"}, "COAG": {"PT": "14.1"}}, True, False, "2.9 g/dL"),
    ("EXC06", {"LBCHEM": {"ALB": "3.0"}, "COAG": {"PT": "16.0"}}, False, True, "3.0 g/dL"),
    ("EXC06", {"LBCHEM": {"ALB": "2.9"}, "COAG": {"PT": None}}, None, True, "2.9 g/dL"),
    # Progression under SSA within 12 months before consent (2025-01-06), to the day.
    ("INC02", {"PRTX": {"PROGDAT": "2024-01-06"}}, True, True, "2024-01-06"),
    ("INC02", {"PRTX": {"PROGDAT": "2024-01-05"}}, False, False, "2024-01-05"),
    # ... unless the hepatic burden at diagnosis exceeded 50 %.
    (
        "INC02",
        {"PRTX": {"PROGDAT": "2024-01-05"}, "NETHX": {"HEPBURD": "GT50"}},
        True,
        True,
        "2024-01-05",
    ),
    # Child-Pugh B8 excludes, B7 does not: bilirubin 40 µmol/L (2) or 60 (3), INR 1.8 (2).
    ("EXC05", {"LBCHEM": {"BILI": "40.0"}, "COAG": {"INR": "1.80"}}, False, True, "7 points"),
    ("EXC05", {"LBCHEM": {"BILI": "60.0"}, "COAG": {"INR": "1.80"}}, True, False, "8 points"),
]


@pytest.mark.parametrize(
    ("criterion", "changes", "computed", "eligible", "shown"),
    BOUNDARIES,
    ids=[f"{c}-{'ok' if e else 'fails'}-{n}" for n, (c, _, _, e, _) in enumerate(BOUNDARIES)],
)
def test_a_criterion_at_its_boundary(
    screen,
    study,
    subject,
    staff,
    criterion,
    changes,
    computed,
    eligible,
    shown,
    investigator,
):
    result = screen(changes)
    r = by_id(result)[criterion]

    assert r.answer == r.criterion.eligible_answer  # ticked for inclusion
    assert r.computed is computed
    assert shown in [v for _, v in r.evidence], r.evidence
    if eligible:
        assert r.state == "satisfied"
        assert result.eligible, result.summary(result.blocking)
        include(study, subject, investigator)
        assert subject.status is SubjectStatus.INCLUDED
    else:
        assert r.state == "contradiction" and r.fails
        assert [b.criterion.id for b in result.blocking] == [criterion]
        refusal = refused_inclusion(study, subject, investigator)
        assert f"{criterion} (answer contradicts the data)" in refusal.message


def test_the_derived_clearance_lands_on_the_boundary_and_follows_a_correction(
    screen,
    study,
    subject,
    staff,
    investigator,
):
    assert by_id(screen({"VS": {"WEIGHT": "49.9"}}))["INC06"].state == "contradiction"
    assert value(study, subject, "SCR.DM.AGE") == AGE
    assert str(value(study, subject, "SCR.LBCHEM.CRCL")) == "49.9"

    # Correcting the weight on the vital signs recomputes the clearance of the biochemistry.
    services.save_form(
        study,
        subject,
        "SCR",
        "VS",
        {("VS", 1): {"WEIGHT": "50.0"}},
        actor=staff,
        expected_version=entry_of(subject, "SCR", "VS").version,
        reason="Re-weighed on a calibrated scale",
    )
    db.session.commit()

    assert str(value(study, subject, "SCR.LBCHEM.CRCL")) == "50"  # kept unrounded
    assert by_id(assessment(study, subject))["INC06"].state == "satisfied"
    include(study, subject, investigator)


#: Every criterion the data can show failing, made to fail by the data alone.
FAILING_BY_DATA = {
    "INC01": {"NETHX": {"DIFF": "POOR"}},
    "INC02": {"PRTX": {"PROGSSA": "N", "PROGDAT": None}},  # and liver burden 25–50 %
    "INC03": {"PRTX": {"LUT": lut_cycles(CONSENT)[:3]}},
    "INC04": {
        "TUBL": {
            "TL": [{"LESID": "N1", "ORGAN": "NODE", "METHOD": "CT", "DIAM": "22"}],
        }
    },
    "INC05": {"ECOG": {"ECOG": "3"}},
    "INC06": {"LBCHEM": {"CREAT": "2.00"}},
    "INC07": {"LBCHEM": {"ALT": "120"}},
    "INC08": {"LBHEM": {"PLAT": "90000"}},
    "INC09": {"DM": {"BRTHYM": birth_month(CONSENT, 17)}},
    "EXC01": {"TUBL": {"LESYN": "N", "TL": []}},
    "EXC02": {"PRTX": {"LUT": lut_cycles(CONSENT, ("Y", "Y", "N", "Y"))}},
    "EXC03": {"LVEF": {"LVEF": "35"}},
    "EXC05": {"HEPAT": {"PORTTHR": "Y"}},
    "EXC06": {"LBCHEM": {"ALB": "2.5"}, "COAG": {"PT": "16.0"}},
    "EXC09": {
        "DM": {
            "SEX": "F",
            "CHILDPOT": "Y",
            "PREGDAT": "2025-01-08",
            "PREGSPEC": "SERUM",
            "PREGRES": "POS",
            "BREASTF": "N",
        }
    },
}


def test_every_computable_criterion_but_two_can_fail_by_the_data(investigator):
    # Consent signed (INC11) and MRI possible (EXC11) are only ever confirmed by the data:
    # a consent date, an MRI done. Their failure is the investigator's to record.
    assert sorted(FAILING_BY_DATA) == sorted(set(COMPUTABLE) - {"INC11", "EXC11"})


@pytest.mark.parametrize("criterion", sorted(FAILING_BY_DATA))
def test_a_criterion_failing_by_the_data_blocks_inclusion_though_ticked_as_met(
    screen,
    study,
    subject,
    staff,
    criterion,
    investigator,
):
    result = screen(FAILING_BY_DATA[criterion])
    r = by_id(result)[criterion]

    assert r.answer == r.criterion.eligible_answer
    assert r.computed is (r.criterion.eligible_answer == "N")
    assert (r.state, r.contradiction, r.fails) == ("contradiction", True, True)
    assert [b.criterion.id for b in result.blocking] == [criterion]
    assert [f.criterion.id for f in result.failing] == [criterion]
    # The checklist's own edit check flags the tick at the item, for the investigator.
    flagged = [f for f in subject_findings(subject) if f.check_name == f"{criterion}_COMPUTED"]
    assert [f.item_oid for f in flagged] == [criterion]
    assert flagged[0].message.startswith(f"{criterion}: the data say this criterion is")

    refusal = refused_inclusion(study, subject, investigator)
    assert refusal.message == (
        "Inclusion is not possible while eligibility criteria are not all satisfied: "
        f"{criterion} (answer contradicts the data)."
    )


def subject_findings(subject):
    return list(
        db.session.scalars(
            sa.select(Finding).where(
                Finding.subject_id == subject.id, Finding.status == FindingStatus.OPEN
            )
        )
    )


def test_an_answer_against_inclusion_the_data_contradict_also_blocks(
    screen, study, subject, staff, investigator
):
    result = by_id(screen({"IE": {"INC06": "N"}}))  # clearance 70.0 mL/min

    assert (result["INC06"].computed, result["INC06"].state) == (True, "contradiction")
    assert (
        "INC06 (answer contradicts the data)"
        in refused_inclusion(study, subject, investigator).message
    )


def test_an_answer_against_inclusion_the_data_confirm_is_not_met(
    screen, study, subject, staff, investigator
):
    result = by_id(screen({"IE": {"EXC03": "Y"}, "LVEF": {"LVEF": "35"}}))

    assert (result["EXC03"].computed, result["EXC03"].state) == (True, "fails")
    assert "EXC03 (not met)" in refused_inclusion(study, subject, investigator).message


# --- unanswered criteria, the refusal, the screen failure -----------------------------------


def test_an_unanswered_criterion_blocks_inclusion(screened, study, subject, staff, investigator):
    screened(len(FORMS) - 1)  # every screening form but the checklist
    checklist = screening(CONSENT, {"IE": {"INC12": None}})["IE"]
    # The checklist cannot be completed without the answer, but a draft keeps the others.
    with pytest.raises(ValidationFailed) as refused:
        services.save_form(
            study, subject, "SCR", "IE", checklist, actor=staff, expected_version=0, complete=True
        )
    db.session.rollback()
    assert [(i.group_oid, i.item_oid) for i in refused.value.issues] == [("INC", "INC12")]
    services.save_form(study, subject, "SCR", "IE", checklist, actor=staff, expected_version=0)
    db.session.commit()

    result = assessment(study, subject)
    assert [(r.criterion.id, r.answer, r.state) for r in result.blocking] == [
        ("INC12", None, "unanswered")
    ]
    assert refused_inclusion(study, subject, investigator).message == (
        "Inclusion is not possible while eligibility criteria are not all satisfied: "
        "INC12 (not answered)."
    )


def test_a_missing_data_code_is_no_answer(screen, study, subject, staff, investigator):
    result = by_id(screen({"IE": {"EXC10": "UNK"}}))

    assert (result["EXC10"].answer, result["EXC10"].state) == ("UNK", "unanswered")
    assert "EXC10 (not answered)" in refused_inclusion(study, subject, investigator).message


def test_the_refusal_names_every_blocking_criterion_in_protocol_order(
    screen, study, subject, staff, investigator
):
    result = screen(
        {
            "IE": {"INC12": "UNK", "EXC08": "Y"},
            "LVEF": {"LVEF": "38"},
            "LBCHEM": {"CREAT": "2.00"},
        }
    )

    assert [(r.criterion.id, r.state) for r in result.blocking] == [
        ("INC06", "contradiction"),
        ("INC12", "unanswered"),
        ("EXC03", "contradiction"),
        ("EXC08", "fails"),
    ]
    assert refused_inclusion(study, subject, investigator).message == (
        "Inclusion is not possible while eligibility criteria are not all satisfied: "
        "INC06 (answer contradicts the data); INC12 (not answered); "
        "EXC03 (answer contradicts the data); EXC08 (not met)."
    )


def test_a_screen_failure_records_the_failing_criteria_in_the_reason_and_the_trail(
    screen,
    study,
    subject,
    staff,
    investigator,
):
    screen(
        {
            "IE": {"EXC03": "Y", "INC10": "UNK"},  # answered honestly; one not answered
            "LVEF": {"LVEF": "35"},
            "LBCHEM": {"CREAT": "2.00"},  # 35.0 mL/min, though ticked as met
        }
    )
    assert value(study, subject, "SCR.IE.IEFAIL") == "EXC03"  # the checklist's answers only

    subjects.change_status(
        study,
        subject,
        SubjectStatus.SCREEN_FAILURE,
        actor=investigator,
        reason=" Carcinoid heart disease ",
    )
    db.session.commit()

    expected = "Carcinoid heart disease [criteria not met: INC06, EXC03]"
    assert (subject.status, subject.status_reason) == (SubjectStatus.SCREEN_FAILURE, expected)
    (changed,) = events(subject.identifier, "subject_status_changed", entity="subject")
    assert (changed.old, changed.new, changed.reason, changed.actor_id) == (
        "screening",
        "screen_failure",
        expected,
        investigator.id,
    )


def test_the_end_of_study_record_of_a_screen_failure_names_every_criterion_not_met(
    screen, study, subject, staff, investigator
):
    """Not only those the checklist answers against: the criteria the data decide against
    (INC06, ticked as met) and those where the answer contradicts the data."""
    screen(
        {
            "IE": {"EXC03": "Y", "INC10": "UNK", "EXC05": "Y"},
            "LVEF": {"LVEF": "35"},
            "LBCHEM": {"CREAT": "2.00"},  # 35.0 mL/min, though ticked as met
        }
    )
    assert value(study, subject, "SCR.IE.IEFAIL") == "EXC03, EXC05"  # the checklist's only
    failing = [r.criterion.id for r in assessment(study, subject).failing]
    subjects.change_status(
        study, subject, SubjectStatus.SCREEN_FAILURE, actor=investigator, reason="Not eligible"
    )
    eos = {("EOS", 1): {"EOSDAT": "2025-01-20", "EOSSTAT": "SCREENFAIL", "LASTCONT": "2025-01-20"}}
    services.save_form(
        study, subject, "LOGS", "EOS", eos, actor=staff, expected_version=0, complete=True
    )
    db.session.commit()

    assert failing == ["INC06", "EXC03", "EXC05"]
    assert value(study, subject, "LOGS.EOS.SFCRIT") == "INC06, EXC03, EXC05"
    assert subject.status_reason == "Not eligible [criteria not met: INC06, EXC03, EXC05]"


def test_the_end_of_study_record_names_no_criterion_for_other_endings(
    screen, study, subject, staff
):
    screen({"LVEF": {"LVEF": "35"}})
    eos = {("EOS", 1): {"EOSDAT": "2025-01-20", "EOSSTAT": "WITHDRAWN", "LASTCONT": "2025-01-20"}}
    services.save_form(study, subject, "LOGS", "EOS", eos, actor=staff, expected_version=0)
    db.session.commit()
    assert value(study, subject, "LOGS.EOS.SFCRIT") is None


def test_a_screen_failure_of_an_eligible_patient_keeps_the_reason_as_given(
    screen, study, subject, staff, investigator
):
    screen()
    subjects.change_status(
        study,
        subject,
        SubjectStatus.SCREEN_FAILURE,
        actor=investigator,
        reason="Withdrew before D0",
    )
    db.session.commit()
    assert subject.status_reason == "Withdrew before D0"


def _unguarded_clearance(values):
    """INC06 without its guard on a missing clearance: None > 50 raises."""
    return values["SCR.LBCHEM.CRCL"] >= 50


def _with_broken_inc06(study):
    criteria = tuple(
        replace(c, function=_unguarded_clearance) if c.id == "INC06" else c
        for c in study.study.eligibility
    )
    return load_study(replace(study.study, version="broken", eligibility=criteria))


def test_a_criterion_that_raises_stops_the_assessment_when_strict(study, subject):
    with pytest.raises(RuleFailed) as caught:
        assessment(_with_broken_inc06(study), subject)
    failure = caught.value
    assert (failure.kind, failure.rule, failure.subject) == ("criterion", "INC06", "BDX-001")
    assert (failure.visit_oid, failure.form_oid) == ("SCR", "IE")
    assert isinstance(failure.__cause__, TypeError)


def test_a_criterion_that_raises_is_logged_and_left_undecided(app, study, subject, caplog):
    app.config["STRICT_RULES"] = False
    result = by_id(assessment(_with_broken_inc06(study), subject))
    assert result["INC06"].computed is None
    (record,) = [r for r in caplog.records if "criterion INC06 raised TypeError" in r.getMessage()]
    assert record.levelno == logging.ERROR and "subject BDX-001" in record.getMessage()
