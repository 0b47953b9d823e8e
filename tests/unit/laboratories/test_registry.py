"""The laboratory registry: laboratories and normal ranges added and changed by those who
keep it at their sites, audited; the range that applies to a sample at its boundaries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.errors import PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.laboratories import services
from ecrf.laboratories.models import StoredLaboratory
from ecrf.laboratories.services import RangeInput


def events(action: str) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    return list(db.session.scalars(query))


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def manager(sites, create_user) -> User:
    """A data manager of BDX only."""
    return db.session.get(User, create_user("bdx.dm", Role.DATA_MANAGER, "BDX"))


@pytest.fixture
def laboratory(sites, manager):
    added = services.add_laboratory(sites["BDX"], "CHU Bordeaux – Biologie", actor=manager)
    db.session.commit()
    return added


def neutrophils(**typed: str) -> RangeInput:
    fields = {"testcd": "NEUT", "unit": "10*9/L", "low": "1.8", "valid_from": "2024-01-01"}
    return RangeInput(**(fields | typed))


def test_a_data_manager_adds_a_laboratory_at_their_site_and_it_is_audited(laboratory, sites):
    assert services.site_laboratories(sites["BDX"].id) == [laboratory]
    # As a save reads it: no range yet.
    assert services.site_registry(sites["BDX"].id) == [
        StoredLaboratory("CHU Bordeaux – Biologie", ())
    ]
    added = events("laboratory_added")
    assert [(e.actor, e.new, e.site_id) for e in added] == [
        ("bdx.dm", "CHU Bordeaux – Biologie", sites["BDX"].id)
    ]


def test_a_data_manager_may_not_declare_a_laboratory_at_another_site(sites, manager):
    with pytest.raises(PermissionDenied):
        services.add_laboratory(sites["TLS"], "CHU Toulouse", actor=manager)
    assert services.get_laboratory(1, actor=manager) is None  # nothing at BDX yet


def test_site_staff_may_not_declare_a_laboratory(sites, staff):
    with pytest.raises(PermissionDenied):
        services.add_laboratory(sites["BDX"], "CHU Bordeaux", actor=staff)


def test_a_laboratory_of_another_site_is_not_found_for_a_data_manager(sites, manager):
    other = services.add_laboratory(sites["TLS"], "CHU Toulouse", actor=None)
    db.session.commit()
    assert services.get_laboratory(other.id, actor=manager) is None


def test_one_name_once_per_site(laboratory, sites, manager):
    with pytest.raises(RuleViolation) as refused:
        services.add_laboratory(sites["BDX"], "  CHU Bordeaux –  Biologie ", actor=manager)
    assert refused.value.field == "name"


def test_a_range_is_added_and_audited(study, laboratory, manager):
    services.add_range(study, laboratory, neutrophils(), actor=manager)
    db.session.commit()
    assert [e.new for e in events("laboratory_range_added")] == [
        "NEUT 1.8 to – 10*9/L; both sexes, age 0-; 2024-01-01 to …"
    ]


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ({"testcd": "XYZ"}, "testcd"),
        ({"unit": "g/L"}, "unit"),  # not a unit of the neutrophil count
        ({"low": "", "high": ""}, "low"),
        ({"low": "abc"}, "low"),
        ({"low": "-1"}, "low"),
        ({"high": "1.8"}, "high"),  # LLN must be below ULN: equal is refused
        ({"age_low": "65", "age_high": "65"}, "age_high"),
        ({"age_low": "x"}, "age_low"),
        ({"valid_from": ""}, "valid_from"),
        ({"valid_to": "2023-12-31"}, "valid_to"),  # the day before it starts
        ({"sex": "X"}, "sex"),
    ],
)
def test_a_malformed_range_is_refused_at_its_field(study, laboratory, manager, typed, field):
    with pytest.raises(RuleViolation) as refused:
        services.add_range(study, laboratory, neutrophils(**typed), actor=manager)
    assert refused.value.field == field


def test_a_range_may_end_the_day_it_starts(study, laboratory, manager):
    services.add_range(study, laboratory, neutrophils(valid_to="2024-01-01"), actor=manager)


def test_two_ranges_for_the_same_people_and_days_are_refused(study, laboratory, manager):
    services.add_range(study, laboratory, neutrophils(valid_to="2024-06-30"), actor=manager)
    with pytest.raises(RuleViolation) as refused:
        services.add_range(study, laboratory, neutrophils(valid_from="2024-06-30"), actor=manager)
    assert refused.value.field == "valid_from"
    # from the next day on, a new range takes over
    services.add_range(study, laboratory, neutrophils(valid_from="2024-07-01"), actor=manager)


def test_a_unit_changes_on_a_date_for_everyone(study, laboratory, manager):
    services.add_range(study, laboratory, neutrophils(sex="M"), actor=manager)
    with pytest.raises(RuleViolation) as refused:
        services.add_range(
            study, laboratory, neutrophils(sex="F", unit="/mm3", low="1800"), actor=manager
        )
    assert refused.value.field == "unit"


def test_a_change_needs_a_reason_and_is_audited_with_it(study, laboratory, manager):
    reference = services.add_range(study, laboratory, neutrophils(), actor=manager)
    with pytest.raises(RuleViolation) as refused:
        services.change_range(study, reference, neutrophils(low="1.5"), actor=manager, reason="")
    assert refused.value.field == "reason"
    services.change_range(
        study, reference, neutrophils(low="1.5"), actor=manager, reason="Typo on entry"
    )
    db.session.commit()
    changed = events("laboratory_range_changed")
    assert [(e.old.split(";")[0], e.new.split(";")[0], e.reason) for e in changed] == [
        ("NEUT 1.8 to – 10*9/L", "NEUT 1.5 to – 10*9/L", "Typo on entry")
    ]


@pytest.fixture
def haemoglobin(study, laboratory):
    """Haemoglobin in g/L: men 130, women 120 from 18 years; 110 for both below 18; from
    2024-01-01 to 2024-12-31."""
    common = {"testcd": "HGB", "unit": "g/L", "valid_from": "2024-01-01"}
    common["valid_to"] = "2024-12-31"
    for typed in (
        {"sex": "M", "low": "130", "age_low": "18"},
        {"sex": "F", "low": "120", "age_low": "18"},
        {"low": "110", "age_high": "18"},
    ):
        services.add_range(study, laboratory, RangeInput(**(common | typed)), actor=None)
    return laboratory


@pytest.mark.parametrize(
    ("on", "sex", "age", "low"),
    [
        (date(2024, 1, 1), "M", 68, Decimal(130)),  # first day
        (date(2024, 12, 31), "F", 68, Decimal(120)),  # last day
        (date(2023, 12, 31), "M", 68, None),  # the day before
        (date(2025, 1, 1), "M", 68, None),  # the day after
        (date(2024, 6, 1), "M", 18, Decimal(130)),  # 18: the adult band
        (date(2024, 6, 1), "M", 17, Decimal(110)),  # 17: below it
        (date(2024, 6, 1), None, 68, None),  # sex unknown: no sex-specific range applies
        (date(2024, 6, 1), "M", None, None),  # age unknown: no age band applies
    ],
)
@pytest.mark.parametrize("read_as", ["models", "plain rows (a save's)"])
def test_the_range_of_a_sample_by_date_sex_and_age(haemoglobin, read_as, on, sex, age, low):
    laboratory = haemoglobin
    if read_as != "models":
        (laboratory,) = services.site_registry(haemoglobin.site_id)
        assert len(laboratory.ranges) == len(haemoglobin.ranges) == 3
    limits = services.limits_for(laboratory, "HGB", on, sex, age)
    assert (limits.low if limits else None) == low
    if limits:
        assert limits.unit == "g/L"
