"""The demo's locks: a locked subject (its participation over), a locked form at another
site, and a lock lifted with its reason; all audited, and the trail still verifies."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.locks.demo import SUBJECT_REASON, UNLOCK_REASON, seed_demo_locks
from ecrf.locks.models import DataLock, LockLevel
from ecrf.locks.services import covering_lock
from ecrf.records.loader import current_study


def test_the_demo_data_manager_locks_a_subject_and_a_form_and_lifts_a_lock(seeded):
    with seeded.app.app_context():
        line = seed_demo_locks(current_study())
        db.session.commit()
        locks = db.session.scalars(sa.select(DataLock).order_by(DataLock.id)).all()
        assert [(lock.level, lock.active) for lock in locks] == [
            (LockLevel.SUBJECT, True),
            (LockLevel.FORM, True),
            (LockLevel.FORM, False),
        ]
        subject = locks[0].subject
        assert subject.site.code == "BDX" and locks[0].lock_reason == SUBJECT_REASON
        assert f"locked {subject.identifier}" in line
        assert locks[1].site.code == "TLS"
        assert locks[2].unlock_reason == UNLOCK_REASON
        assert {lock.locked_by.username for lock in locks} == {"datamanager"}
        assert covering_lock(subject) is locks[0]
        assert verify_trail().intact
