"""Captured data held against the audit trail, both ways: form entries (place, status), item
group rows (removed or not), item values and edit-check findings (open or resolved)."""

from __future__ import annotations

import sys

import sqlalchemy as sa

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.crf.services import encode, field_path
from ecrf.extensions import db
from ecrf.records.models import (
    EntryStatus,
    Finding,
    FindingStatus,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Subject,
    SubjectVisit,
)

#: Item-level events: their ``new`` is the item's value from then on.
_VALUE_ACTIONS = ("item_entered", "item_changed", "item_cleared", "item_derived")


def entry_place(place: str | None) -> str:
    """ "BDX-001/SCR/1/DM" → "BDX-001 SCR DM" (the visit's repeat key shown when not 1)."""
    if place is None:
        return "place not recorded"
    subject, visit, key, form = place.split("/")
    return f"{subject} {visit}{'' if key == '1' else '#' + key} {form}"


class CapturedDataReconciler:
    """Rebuilds the captured data from the trail, keyed compactly by entry id and path."""

    def __init__(self) -> None:
        self.entries: dict[int, list] = {}  # entry id → [place or None, complete]
        self.rows: dict[tuple[int, str], bool] = {}  # (entry id, "G[k]") → removed
        self.values: dict[tuple[int, str], str | None] = {}  # (entry id, "G[k].I") → value
        self.findings: dict[int, list] = {}  # finding id → [status, path]

    def handlers(self):
        handlers = {
            "form_created": self._created,
            "form_completed": self._completed,
            "form_saved": self._entry,
            "row_added": self._row_added,
            "row_removed": self._row_removed,
            "finding_opened": self._finding_opened,
            "finding_resolved": self._finding_resolved,
        }
        return handlers | dict.fromkeys(_VALUE_ACTIONS, self._value)

    def _entry(self, event: Event) -> list:
        return self.entries.setdefault(int(event.entity_id), [None, False])

    def _created(self, event: Event) -> None:
        self._entry(event)[0] = event.new

    def _completed(self, event: Event) -> None:
        self._entry(event)[1] = True

    # Paths repeat across entries ("DM[1].WEIGHT"): interned, each is held once.
    def _row_added(self, event: Event) -> None:
        self._entry(event)
        self.rows[(int(event.entity_id), sys.intern(event.field))] = False

    def _row_removed(self, event: Event) -> None:
        self.rows[(int(event.entity_id), sys.intern(event.field))] = True

    def _value(self, event: Event) -> None:
        self.values[(int(event.entity_id), sys.intern(event.field))] = event.new

    def _finding_opened(self, event: Event) -> None:
        self.findings[int(event.entity_id)] = [FindingStatus.OPEN.value, event.field]

    def _finding_resolved(self, event: Event) -> None:
        self.findings.setdefault(int(event.entity_id), [None, event.field])[0] = (
            FindingStatus.RESOLVED.value
        )

    def compare(self, problems: Problems) -> None:
        labels = self._compare_entries(problems)
        self._compare_rows(problems, labels)
        self._compare_values(problems, labels)
        self._compare_findings(problems)

    def _compare_entries(self, problems: Problems) -> dict[int, str]:
        """Compare form entries; return every entry's label, stored or recorded."""
        labels = {entry_id: entry_place(place) for entry_id, (place, _) in self.entries.items()}
        stored = (
            sa.select(
                FormEntry.id,
                Subject.identifier,
                SubjectVisit.visit_oid,
                SubjectVisit.repeat_key,
                FormEntry.form_oid,
                FormEntry.status,
            )
            .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
            .join(Subject, SubjectVisit.subject_id == Subject.id)
        )
        for entry_id, identifier, visit_oid, key, form_oid, status in db.session.execute(stored):
            place = f"{identifier}/{visit_oid}/{key}/{form_oid}"
            label = labels[entry_id] = entry_place(place)
            recorded = self.entries.pop(entry_id, None)
            if recorded is None:
                problems.add(f"form entry {entry_id} ({label}) is not in the trail")
                continue
            trail_place, complete = recorded
            if trail_place is not None and trail_place != place:
                problems.add(
                    f"form entry {entry_id} is at {label} but the trail created it at "
                    f"{entry_place(trail_place)}"
                )
            expected = EntryStatus.COMPLETE if complete else EntryStatus.DRAFT
            if status is not expected:
                problems.add(
                    f"form entry {entry_id} ({label}) is {status.value} but the trail says "
                    f"{expected.value}"
                )
        for entry_id, (place, _) in self.entries.items():
            problems.add(
                f"form entry {entry_id} ({entry_place(place)}) is missing from the data but the "
                "trail records it"
            )
        return labels

    def _compare_rows(self, problems: Problems, labels: dict[int, str]) -> None:
        stored = sa.select(
            ItemGroupRow.entry_id,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemGroupRow.removed,
        ).execution_options(yield_per=5000)
        for entry_id, group_oid, key, removed in db.session.execute(stored):
            path = field_path(group_oid, key)
            where = f"row {path} of form entry {entry_id} ({labels.get(entry_id)})"
            recorded = self.rows.pop((entry_id, path), None)
            if recorded is None:
                problems.add(f"{where} is not in the trail")
            elif removed and not recorded:
                problems.add(f"{where} is removed but the trail never removed it")
            elif recorded and not removed:
                problems.add(f"{where} is present but the trail removed it")
        for entry_id, path in self.rows:
            problems.add(
                f"row {path} of form entry {entry_id} ({labels.get(entry_id)}) is missing from "
                "the data but the trail added it"
            )

    def _compare_values(self, problems: Problems, labels: dict[int, str]) -> None:
        stored = (
            sa.select(
                ItemGroupRow.entry_id,
                ItemGroupRow.group_oid,
                ItemGroupRow.repeat_key,
                ItemValue.item_oid,
                ItemValue.value_text,
                ItemValue.missing_code,
                ItemValue.unit,
            )
            .join(ItemGroupRow, ItemValue.row_id == ItemGroupRow.id)
            .execution_options(yield_per=5000)
        )
        last = self.values
        for entry_id, group_oid, key, item_oid, text, missing, unit in db.session.execute(stored):
            path = field_path(group_oid, key, item_oid)
            value = encode(text, missing, unit)
            where = f"form entry {entry_id} ({labels.get(entry_id)}) {path}"
            if (entry_id, path) not in last:
                if value is not None:
                    problems.add(f"{where} holds {value!r} with no audit event")
                continue
            recorded = last.pop((entry_id, path))
            if recorded != value:
                problems.add(
                    f"{where} holds {value!r} but the audit trail last recorded {recorded!r}"
                )
        for (entry_id, path), recorded in last.items():
            if recorded is not None:
                problems.add(
                    f"form entry {entry_id} ({labels.get(entry_id)}) {path} is missing from the "
                    f"data but the audit trail last recorded {recorded!r}"
                )

    def _compare_findings(self, problems: Problems) -> None:
        stored = sa.select(
            Finding.id, Finding.status, Finding.group_oid, Finding.repeat_key, Finding.item_oid
        )
        for finding_id, status, group_oid, key, item_oid in db.session.execute(stored):
            where = f"finding {finding_id} ({field_path(group_oid, key, item_oid)})"
            recorded = self.findings.pop(finding_id, None)
            if recorded is None:
                problems.add(f"{where} is not in the trail")
            elif recorded[0] != status.value:
                problems.add(f"{where} is {status.value} but the trail says {recorded[0]}")
        for finding_id, (status, path) in self.findings.items():
            problems.add(
                f"finding {finding_id} ({path}) is missing from the data but the trail records "
                f"it {status}"
            )
