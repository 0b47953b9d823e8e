"""What the demo generator hands the engine: one small frozen dataclass per service of the
write path, in the order a site would take them.

The engine (ecrf/demo_data.py) replays each step through that service, so every value is
validated, derived, checked and audited as if typed in the pages: :class:`SetVisitDate`
(``set_visit_date``), :class:`AddUnscheduledVisit` (``add_unscheduled_visit``),
:class:`SaveForm` (``save_form``), :class:`RemoveRow` (``remove_row``) and
:class:`ChangeStatus` (``change_status``, recorded by the site's investigator). Dates are
``datetime.date``; form values are the text a user would type. Nothing here is specific
to the trial.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

#: A form's rows as submitted: {(group OID, repeat key): {item OID: typed text}} (a list
#: of codes for a multiple choice).
Rows = Mapping[tuple[str, int], Mapping[str, str | list[str]]]


@dataclass(frozen=True)
class SetVisitDate:
    """Date occurrence ``repeat`` of ``visit``; ``deviation_reason`` when the day lies
    outside the visit's window."""

    visit: str
    repeat: int
    day: date
    deviation_reason: str | None = None


@dataclass(frozen=True)
class AddUnscheduledVisit:
    """Open the next occurrence of the unscheduled ``visit`` on ``day``: ``repeat`` is the
    occurrence the engine is expected to number it."""

    visit: str
    repeat: int
    day: date


@dataclass(frozen=True)
class SaveForm:
    """Save ``rows`` into ``form`` of occurrence ``repeat`` of ``visit``, marked complete or
    not; ``reason`` for a change to values already saved."""

    visit: str
    repeat: int
    form: str
    rows: Rows
    complete: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class RemoveRow:
    """Remove row ``key`` of the repeating ``group`` of a form, for ``reason`` (flagged
    removed, never deleted)."""

    visit: str
    repeat: int
    form: str
    group: str
    key: int
    reason: str


@dataclass(frozen=True)
class ChangeStatus:
    """The investigator's decision: the subject's new ``status``, as its value
    ("included", "screen_failure"...), and why."""

    status: str
    reason: str


Step = SetVisitDate | AddUnscheduledVisit | SaveForm | RemoveRow | ChangeStatus
STEP_TYPES = (SetVisitDate, AddUnscheduledVisit, SaveForm, RemoveRow, ChangeStatus)


@dataclass(frozen=True)
class DeclaredRange:
    """A normal range of a laboratory (``laboratories.add_range``): texts as typed."""

    testcd: str
    unit: str
    low: str = ""
    high: str = ""
    sex: str = ""


@dataclass(frozen=True)
class DeclaredLaboratory:
    """A laboratory of the patient's site, declared (once per site, by the operator who
    seeds the demo) before the patient's lab forms name it."""

    name: str
    valid_from: date
    ranges: tuple[DeclaredRange, ...]


@dataclass(frozen=True)
class Scenario:
    """One patient: the site registering them, the profile they were drawn for, the day
    they signed consent, and the steps the site takes for them, in order; the laboratory
    their lab forms name, when the site declares one."""

    site: str
    profile: str
    consent: date
    steps: tuple[Step, ...]
    laboratory: DeclaredLaboratory | None = None
