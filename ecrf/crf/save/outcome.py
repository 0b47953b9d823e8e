"""What a save gives back to its caller, and the refusals it raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from ecrf.audit.models import AuditEvent
from ecrf.errors import Conflict, RuleViolation
from ecrf.records.models import EntryStatus, FormEntry


@dataclass(frozen=True)
class FieldIssue:
    group_oid: str
    row_key: int
    item_oid: str | None  # None: about the whole row or group
    message: str
    severity: str = "error"  # or "warning"


class ValidationFailed(RuleViolation):
    """Some entries are invalid; nothing was written. ``issues`` say where and why."""

    def __init__(self, issues: list[FieldIssue], form_errors: list[str] | None = None) -> None:
        super().__init__("Some entries need correcting; nothing was saved.")
        self.issues = issues
        self.form_errors = form_errors or []


class StaleEntry(Conflict):
    """The form was saved by someone else since it was opened; ``changes`` lists what."""

    def __init__(self, changes: list[AuditEvent]) -> None:
        super().__init__(
            "Someone else saved this form after you opened it. Your entries were not saved; "
            "they are kept below beside the other changes: review them and save again."
        )
        self.changes = changes


@dataclass
class SaveResult:
    entry: FormEntry
    changes: int
    warnings: list[FieldIssue] = field(default_factory=list)
    #: The entry's status once saved (read after the commit without reloading the entry).
    status: EntryStatus | None = None
