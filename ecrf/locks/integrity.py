"""Locks held against the audit trail, both ways: a lock deleted, lifted, planted, moved to
another target or given other reasons in the database (to slip an edit past it, say) is
seen by `ecrf audit verify`."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.extensions import db
from ecrf.locks.models import DataLock


class LockReconciler:
    """Rebuilds each lock (target, whether active, its reasons) from the trail."""

    def __init__(self) -> None:
        self.locks: dict[int, dict] = {}  # id → {"target", "active", "reasons"}

    def handlers(self):
        return {"data_locked": self._locked, "data_unlocked": self._unlocked}

    def _locked(self, event: Event) -> None:
        self.locks[int(event.entity_id)] = {
            "target": event.field,
            "active": True,
            "reasons": (event.reason, None),
        }

    def _unlocked(self, event: Event) -> None:
        lock = self.locks.setdefault(
            int(event.entity_id), {"target": event.field, "active": True, "reasons": (None, None)}
        )
        lock["active"] = False
        lock["reasons"] = (lock["reasons"][0], event.reason)

    def compare(self, problems: Problems) -> None:
        for lock in db.session.scalars(sa.select(DataLock).order_by(DataLock.id)):
            expected = self.locks.pop(lock.id, None)
            if expected is None:
                problems.add(f"lock {lock.id} ({lock.target}) has no locking in the trail")
                continue
            if expected["target"] != lock.target:
                problems.add(
                    f"lock {lock.id} holds {lock.target} but the trail locked {expected['target']}"
                )
            if expected["active"] != lock.active:
                state = "active" if lock.active else "lifted"
                problems.add(f"lock {lock.id} ({lock.target}) is {state}, not as in the trail")
            if expected["reasons"] != (lock.lock_reason, lock.unlock_reason):
                problems.add(f"lock {lock.id} ({lock.target}): its reasons are not the trail's")
        for lock_id in sorted(self.locks):
            problems.add(f"lock {lock_id} is missing from the data but the trail locked it")
