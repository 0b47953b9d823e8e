"""Verifications and sites' shares held against the audit trail: each change made behind
the application's back is named by `ecrf audit verify`; the application's own work is not."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.sdv import services as sdv
from ecrf.sdv.services import SdvTarget

LB_VALUES = {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}}


@pytest.fixture
def verified(study, sites, subject, save, monitor, create_user):
    save(subject, "SCR", "LB", LB_VALUES)
    sdv.verify(study, subject, SdvTarget("SCR", 1, "LB"), actor=monitor)
    db.session.commit()
    save(subject, "SCR", "LB", {("LB", 1): {"HGB": "12"}})  # withdraws HGB's
    manager = db.session.get(User, create_user("data.manager", Role.DATA_MANAGER))
    sdv.set_site_plan(study, sites["BDX"], "40", "More findings here", actor=manager)
    db.session.commit()
    return subject


def problems() -> list[str]:
    return [str(p) for p in verify_trail().problems.shown]


def test_the_applications_own_verifications_agree_with_the_trail(verified):
    assert problems() == []


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (
            ["UPDATE source_verification SET value = '99' WHERE item_oid = 'LBDAT'"],
            "verification 1: its value is not the one the trail verified",
        ),
        (
            ["UPDATE source_verification SET withdrawn_at = NULL WHERE item_oid = 'HGB'"],
            "verification 2 is current, unlike the trail",
        ),
        (
            ["UPDATE source_verification SET item_oid = 'LBTIM' WHERE id = 1"],
            "verification 1 is on SCR[1]/LB/LB[1].LBTIM but the trail verified "
            "SCR[1]/LB/LB[1].LBDAT",
        ),
        (
            ["DELETE FROM source_verification WHERE id = 1"],
            "verification 1 is missing from the data but the trail has it",
        ),
        (
            [
                "INSERT INTO source_verification (subject_id, entry_id, group_oid, repeat_key,"
                " item_oid, value, verified_at) SELECT subject_id, entry_id, group_oid,"
                " repeat_key, 'LBTIM', '08:00', verified_at FROM source_verification"
                " WHERE id = 1"
            ],
            "verification 3 has no event in the trail",
        ),
        (
            ["UPDATE sdv_site_plan SET percentage = 5"],
            "its share to verify is not the trail's",
        ),
        (["DELETE FROM sdv_site_plan"], "the share to verify the trail set is missing"),
    ],
    ids=["value", "restored", "moved", "deleted", "planted", "share changed", "share deleted"],
)
def test_a_change_behind_the_applications_back_is_named(verified, statements, expected):
    for statement in statements:
        db.session.execute(sa.text(statement))
    db.session.commit()
    found = problems()
    assert any(expected in p for p in found), found
