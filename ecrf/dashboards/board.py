"""The dashboard: its sections in the order they show."""

from __future__ import annotations

from collections.abc import Callable

from ecrf.dashboards.locking import locks
from ecrf.dashboards.scope import Scope
from ecrf.dashboards.sections import (
    Context,
    Section,
    enrolment,
    forms,
    queries,
    serious_events,
    visits,
)
from ecrf.dashboards.signing import signatures
from ecrf.dashboards.verification import verification
from ecrf.records.loader import LoadedStudy

#: Each ``(Context) -> Section | None`` (None: the study declares nothing for it).
SECTIONS: list[Callable[[Context], Section | None]] = [
    enrolment,
    visits,
    forms,
    queries,
    verification,
    signatures,
    serious_events,
    locks,
]


def compute(study: LoadedStudy, scope: Scope) -> list[Section]:
    ctx = Context(study, scope)
    return [s for s in (section(ctx) for section in SECTIONS) if s is not None]
