"""The laboratory registry held against the audit trail: the application's own changes
agree with it; each change made behind its back is named by `ecrf audit verify`."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.laboratories import services
from ecrf.laboratories.services import RangeInput


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def registry(study, sites, create_user):
    manager = db.session.get(User, create_user("bdx.dm", Role.DATA_MANAGER, "BDX"))
    laboratory = services.add_laboratory(sites["BDX"], "CHU Bordeaux", actor=manager)
    typed = {"testcd": "NEUT", "unit": "10*9/L", "low": "1.8", "valid_from": "2024-01-01"}
    reference = services.add_range(study, laboratory, RangeInput(**typed), actor=manager)
    services.change_range(
        study,
        reference,
        RangeInput(**(typed | {"low": "1.7"})),
        actor=manager,
        reason="New reagent",
    )
    services.rename_laboratory(laboratory, "CHU Bordeaux – Biologie", actor=manager)
    db.session.commit()
    return laboratory


def problems() -> list[str]:
    return [str(p) for p in verify_trail().problems.shown]


def test_the_registrys_own_changes_agree_with_the_trail(registry):
    assert problems() == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "UPDATE laboratory_range SET low_text = '1.0'",
            "laboratory range 1 reads 'NEUT 1.0 to – 10*9/L; both sexes, age 0-;"
            " 2024-01-01 to …', the trail 'NEUT 1.7 to – 10*9/L; both sexes, age 0-;"
            " 2024-01-01 to …'",
        ),
        (
            "UPDATE laboratory SET name = 'Elsewhere'",
            "laboratory 1 is named 'Elsewhere', the trail 'CHU Bordeaux – Biologie'",
        ),
        (
            "INSERT INTO laboratory_range (laboratory_id, testcd, unit, low_text, valid_from)"
            " VALUES (1, 'HGB', 'g/L', '120', '2024-01-01')",
            "laboratory range 2 is not in the trail",
        ),
        (
            "DELETE FROM laboratory_range",
            "laboratory range 1 is missing from the data but not the trail",
        ),
    ],
)
def test_a_registry_changed_behind_the_applications_back_is_named(registry, statement, expected):
    db.session.execute(sa.text(statement))
    db.session.commit()
    assert expected in problems()
