"""The baseline of the CTCAE grades in the real IAH-PRRT trial: the last sample before the
first study radiopharmaceutical administration (the 68Ga PET after IV injection), as the
definition declares it, through the one write path; and the creatinine clearance from the
weight of its visit or the latest weighed before it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ecrf.crf import services, visits
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)  # screening samples on the 8th: ALT 30 (ULN 40), normal
PET_IV = CONSENT + timedelta(days=14)  # 2025-01-20, D-14 of the planned D0
LATER = PET_IV + timedelta(days=31)  # after the administration


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def screened(study, subject, staff):
    save_screening(study, subject, staff, CONSENT)
    return subject


def unscheduled(study, subject, staff, day: date, forms: dict[str, dict]) -> int:
    """An unscheduled visit on ``day`` with draft entries ({form: {item: text}})."""
    visit = visits.add_unscheduled_visit(study, subject, "UNS", day, actor=staff)
    db.session.commit()
    for form_oid, values in forms.items():
        entries = {(form_oid, 1): values}
        services.save_form(
            study,
            subject,
            "UNS",
            form_oid,
            entries,
            actor=staff,
            expected_version=0,
            visit_repeat=visit.repeat_key,
        )
        db.session.commit()
    return visit.repeat_key


def chemistry(day: date, **values: str) -> dict[str, str]:
    return {"LBDAT": day.isoformat(), **values}


def at(study, subject, repeat: int, item: str, form: str = "LBCHEM"):
    db.session.expire_all()
    entry = SubjectData.load(study, subject).entry("UNS", repeat, form)
    return entry.rows[(form, 1)].values.get(item)


def date_pet_iv(study, subject, staff, day: date = PET_IV) -> None:
    visits.set_visit_date(study, subject, "PETIV", day, actor=staff)
    db.session.commit()


# ALT 160 with ULN 40 is 4 × ULN (grade 2 on the ULN scale); after an abnormal baseline
# ALT of 100 it is 1.6 × baseline (grade 1).


@pytest.mark.parametrize(
    ("days_before", "grade"),
    [
        (1, 1),  # the day before the injection: the baseline
        (0, 1),  # the day of the injection: drawn before it, the baseline
        (-1, 2),  # the day after: not a baseline; the screening sample (normal) is
    ],
)
def test_the_baseline_is_the_last_sample_up_to_the_day_of_the_first_68ga_injection(
    study, screened, staff, days_before, grade
):
    date_pet_iv(study, screened, staff)
    sampled = PET_IV - timedelta(days=days_before)
    unscheduled(
        study, screened, staff, sampled, {"LBCHEM": chemistry(sampled, ALT="100", ALTULN="40")}
    )
    later = unscheduled(
        study, screened, staff, LATER, {"LBCHEM": chemistry(LATER, ALT="160", ALTULN="40")}
    )
    assert at(study, screened, later, "ALTGR") == grade


def test_an_unscheduled_sample_between_screening_and_pet_iv_replaces_the_screening_one(
    study, screened, staff
):
    date_pet_iv(study, screened, staff)
    between = CONSENT + timedelta(days=9)
    first = unscheduled(
        study, screened, staff, between, {"LBCHEM": chemistry(between, ALT="100", ALTULN="40")}
    )
    later = unscheduled(
        study, screened, staff, LATER, {"LBCHEM": chemistry(LATER, ALT="160", ALTULN="40")}
    )
    assert at(study, screened, later, "ALTGR") == 1
    # the baseline sample itself is graded on the ULN scale: 2.5 × ULN
    assert at(study, screened, first, "ALTGR") == 1
    # correcting the baseline sample regrades the later one: a normal baseline, ULN scale
    services.save_form(
        study,
        screened,
        "UNS",
        "LBCHEM",
        {("LBCHEM", 1): chemistry(between, ALT="35", ALTULN="40")},
        actor=staff,
        expected_version=1,
        visit_repeat=first,
    )
    db.session.commit()
    assert at(study, screened, later, "ALTGR") == 2


def test_an_analyte_missing_from_the_last_sample_takes_the_last_sample_that_gave_it(
    study, screened, staff
):
    date_pet_iv(study, screened, staff)
    between = CONSENT + timedelta(days=9)
    unscheduled(study, screened, staff, between, {"LBCHEM": chemistry(between, AST="28")})
    later = unscheduled(
        study, screened, staff, LATER, {"LBCHEM": chemistry(LATER, ALT="160", ALTULN="40")}
    )
    # ALT's baseline is the screening ALT 30 (normal): ULN scale
    assert at(study, screened, later, "ALTGR") == 2


def test_no_baseline_until_the_first_injection_is_dated_then_grades_follow(study, screened, staff):
    between = CONSENT + timedelta(days=9)
    unscheduled(
        study, screened, staff, between, {"LBCHEM": chemistry(between, ALT="100", ALTULN="40")}
    )
    later = unscheduled(
        study, screened, staff, LATER, {"LBCHEM": chemistry(LATER, ALT="160", ALTULN="40")}
    )
    assert at(study, screened, later, "ALTGR") == 2  # no baseline: the ULN scale
    date_pet_iv(study, screened, staff)
    assert at(study, screened, later, "ALTGR") == 1


# --- creatinine clearance: age 68, man, creatinine 1.00 mg/dL → clearance = weight in kg


def test_the_clearance_uses_the_weight_of_its_visit_or_the_latest_before(study, screened, staff):
    creatinine = {"CREAT": "1.00", "CREAT.unit": "mg/dL", "CREATULN": "1.20"}
    weighed_day = LATER
    weighed = unscheduled(
        study,
        screened,
        staff,
        weighed_day,
        {
            "VS": {"VSDAT": weighed_day.isoformat(), "WEIGHT": "60.0"},
            "LBCHEM": chemistry(weighed_day, **creatinine),
        },
    )
    next_day = LATER + timedelta(days=5)
    not_weighed = unscheduled(
        study, screened, staff, next_day, {"LBCHEM": chemistry(next_day, **creatinine)}
    )
    assert at(study, screened, weighed, "CRCL") == Decimal("60")
    assert at(study, screened, not_weighed, "CRCL") == Decimal("60")  # not the screening 70
    # the latest weight corrected: the clearance that read it follows
    services.save_form(
        study,
        screened,
        "UNS",
        "VS",
        {("VS", 1): {"VSDAT": weighed_day.isoformat(), "WEIGHT": "65.0"}},
        actor=staff,
        expected_version=1,
        visit_repeat=weighed,
    )
    db.session.commit()
    assert at(study, screened, not_weighed, "CRCL") == Decimal("65")


def test_a_sample_before_any_later_weight_keeps_the_screening_weight(study, screened, staff):
    creatinine = {"CREAT": "1.00", "CREAT.unit": "mg/dL", "CREATULN": "1.20"}
    early = unscheduled(study, screened, staff, LATER, {"LBCHEM": chemistry(LATER, **creatinine)})
    unscheduled(
        study,
        screened,
        staff,
        LATER + timedelta(days=1),
        {"VS": {"VSDAT": (LATER + timedelta(days=1)).isoformat(), "WEIGHT": "60.0"}},
    )
    assert at(study, screened, early, "CRCL") == Decimal("70")
