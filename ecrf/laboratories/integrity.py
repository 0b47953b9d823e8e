"""The laboratory registry held against the audit trail, both ways: a laboratory renamed,
a normal range widened or planted in the database (which would change the limits filled
into every later lab form) is seen by `ecrf audit verify`."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.extensions import db
from ecrf.laboratories.models import Laboratory, ReferenceRange
from ecrf.laboratories.services import describe

_RANGE = "range "


class LaboratoryReconciler:
    """Rebuilds each laboratory's name and each range's one-line description from the trail."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}  # laboratory id → name
        self.ranges: dict[int, tuple[int, str]] = {}  # range id → (laboratory id, described)

    def handlers(self):
        return {
            "laboratory_added": self._named,
            "laboratory_renamed": self._named,
            "laboratory_range_added": self._range,
            "laboratory_range_changed": self._range,
        }

    def _named(self, event: Event) -> None:
        self.names[int(event.entity_id)] = event.new

    def _range(self, event: Event) -> None:
        range_id = int(str(event.field).removeprefix(_RANGE))
        self.ranges[range_id] = (int(event.entity_id), event.new)

    def compare(self, problems: Problems) -> None:
        for laboratory in db.session.scalars(sa.select(Laboratory).order_by(Laboratory.id)):
            expected = self.names.pop(laboratory.id, None)
            if expected is None:
                problems.add(f"laboratory {laboratory.id} ({laboratory.name}) is not in the trail")
            elif expected != laboratory.name:
                problems.add(
                    f"laboratory {laboratory.id} is named {laboratory.name!r}, the trail"
                    f" {expected!r}"
                )
        for laboratory_id in sorted(self.names):
            problems.add(f"laboratory {laboratory_id} is missing from the data but not the trail")
        query = sa.select(ReferenceRange).order_by(ReferenceRange.id)
        for reference in db.session.scalars(query):
            trail = self.ranges.pop(reference.id, None)
            if trail is None:
                problems.add(f"laboratory range {reference.id} is not in the trail")
            elif trail != (reference.laboratory_id, describe(reference)):
                problems.add(
                    f"laboratory range {reference.id} reads {describe(reference)!r},"
                    f" the trail {trail[1]!r}"
                )
        for range_id in sorted(self.ranges):
            problems.add(f"laboratory range {range_id} is missing from the data but not the trail")
