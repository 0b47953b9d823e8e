"""A subject migrated from another system keeps its number; later ones never collide."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.extensions import db
from ecrf.records.models import Site
from ecrf.study import subjects


def test_a_kept_number_moves_the_counter_past_it(sites, staff):
    kept = subjects.register_subject(sites["BDX"], actor=staff, number=7)
    following = subjects.register_subject(sites["BDX"], actor=staff)
    lower = subjects.register_subject(sites["BDX"], actor=staff, number=3)
    after_lower = subjects.register_subject(sites["BDX"], actor=staff)
    db.session.commit()
    assert [s.identifier for s in (kept, following, lower, after_lower)] == [
        "BDX-007",
        "BDX-008",
        "BDX-003",
        "BDX-009",
    ]
    assert db.session.get(Site, sites["BDX"].id).last_subject_number == 9


def test_a_number_already_taken_is_refused(sites, staff):
    subjects.register_subject(sites["BDX"], actor=staff, number=4)
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        subjects.register_subject(sites["BDX"], actor=staff, number=4)
    db.session.rollback()
