"""The adverse events of the safety report: the listing and its summaries (by worst grade,
by seriousness, by relationship to each cause)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from ecrf.exports.stream import iter_rows
from ecrf.records.loader import LoadedStudy
from ecrf.reporting.safety.values import as_int, missing, shown, text
from forms.language import MISSING_CODES
from forms.reports import AdverseEventLog

#: Row labels of the summaries for events whose item holds no value.
NOT_RECORDED = "Not recorded"
SERIOUS = "Serious"
NOT_SERIOUS = "Not serious"
#: The tally key of the related events (codes are never empty or lower case).
_RELATED = " related"


@dataclass
class Event:
    """One adverse event as the report shows it (plain values, labels already applied)."""

    site: str
    subject: str
    number: int | None
    term: str
    lab_term: str
    start: str
    end: str
    ongoing: bool
    grade: int | None
    grade_label: str
    #: "Y", "N" or None (not recorded).
    serious: str | None
    criteria: list[str]
    #: One per cause of the plan: {cause, code, label, related}.
    relationships: list[dict[str, Any]]
    treated: str
    outcome: str
    #: The raw codes by cause label, for the summaries ("" when not recorded).
    codes: dict[str, str] = field(default_factory=dict)

    def plain(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "subject": self.subject,
            "number": self.number,
            "term": self.term,
            "lab_term": self.lab_term,
            "start": self.start,
            "end": self.end,
            "ongoing": self.ongoing,
            "grade": self.grade,
            "grade_label": self.grade_label,
            "serious": self.serious,
            "criteria": self.criteria,
            "relationships": self.relationships,
            "treated": self.treated,
            "outcome": self.outcome,
        }


def read_events(
    study: LoadedStudy, log: AdverseEventLog, site_ids: Collection[int] | None
) -> list[Event]:
    """Every adverse event of the sites, by site, subject and AE number."""
    events = []
    related = set(log.related)
    for row in iter_rows(site_ids, form_oid=log.form):
        if row.visit_oid != log.visit or row.group_oid != log.group:
            continue
        serious = text(row, log.serious)
        relationships, codes = [], {}
        for cause in log.causes:
            code = text(row, cause.item) or ""
            codes[cause.label] = code or (missing(row, cause.item) or "")
            relationships.append(
                {
                    "cause": cause.label,
                    "short": cause.short or cause.label,
                    "code": code,
                    "label": shown(study, log.form, row, cause.item),
                    "related": code in related if code else None,
                }
            )
        ongoing = text(row, log.ongoing) == "Y"
        events.append(
            Event(
                site=row.site_code,
                subject=row.subject,
                number=as_int(text(row, log.number)),
                term=text(row, log.term) or "",
                lab_term=shown(study, log.form, row, log.lab_term) if log.lab_term else "",
                start=text(row, log.start) or "",
                end=text(row, log.end) or "",
                ongoing=ongoing,
                grade=as_int(text(row, log.grade)),
                grade_label=shown(study, log.form, row, log.grade),
                serious=serious,
                criteria=[c.label for c in log.criteria if text(row, c.item) == "Y"],
                relationships=relationships,
                treated=shown(study, log.form, row, log.treated) if log.treated else "",
                outcome=shown(study, log.form, row, log.outcome),
                codes=codes,
            )
        )
    # The stream is ordered by site and subject number; within a subject, by AE number.
    order = {
        subject: index for index, subject in enumerate(dict.fromkeys(e.subject for e in events))
    }
    events.sort(key=lambda e: (order[e.subject], e.number is None, e.number or 0))
    return events


def listing(events: Iterable[Event]) -> list[dict[str, Any]]:
    """The events gathered by subject: [{site, subject, events: [...]}]."""
    subjects: dict[str, dict[str, Any]] = {}
    for event in events:
        entry = subjects.setdefault(
            event.subject, {"site": event.site, "subject": event.subject, "events": []}
        )
        entry["events"].append(event.plain())
    return list(subjects.values())


class _Tally:
    """Events and subjects counted under named rows."""

    def __init__(self) -> None:
        self.events: dict[str, int] = defaultdict(int)
        self.subjects: dict[str, set[str]] = defaultdict(set)

    def add(self, key: str, event: Event) -> None:
        self.events[key] += 1
        self.subjects[key].add(event.subject)

    def row(self, key: str, label: str, **extra: Any) -> dict[str, Any]:
        return {
            "label": label,
            "events": self.events.get(key, 0),
            "subjects": len(self.subjects.get(key, ())),
            **extra,
        }


def by_grade(study: LoadedStudy, log: AdverseEventLog, events: list[Event]) -> dict[str, Any]:
    """Events by their grade; subjects by their worst grade (each subject counted once)."""
    _, item = study.item(log.form, log.grade)
    codelist = study.codelist_for(item)
    grades = [(int(code), label) for code, label in codelist.codes] if codelist else []
    event_counts: dict[int | None, int] = defaultdict(int)
    worst: dict[str, int | None] = {}
    for event in events:
        event_counts[event.grade] += 1
        if event.grade is not None:
            worst[event.subject] = max(worst.get(event.subject) or 0, event.grade)
        else:
            worst.setdefault(event.subject, None)
    subject_counts: dict[int | None, int] = defaultdict(int)
    for grade in worst.values():
        subject_counts[grade] += 1
    known = {grade for grade, _ in grades}
    extra = sorted(g for g in event_counts if g is not None and g not in known)
    rows = [
        {
            "grade": grade,
            "label": label,
            "events": event_counts[grade],
            "subjects": subject_counts[grade],
        }
        for grade, label in [*grades, *((g, str(g)) for g in extra)]
    ]
    if event_counts[None]:
        rows.append(
            {
                "grade": None,
                "label": NOT_RECORDED,
                "events": event_counts[None],
                "subjects": subject_counts[None],
            }
        )
    return {"rows": rows, "events": len(events), "subjects": len(worst)}


def by_seriousness(log: AdverseEventLog, events: list[Event]) -> dict[str, Any]:
    """Serious and non-serious events, and the serious ones by criterion (an event may meet
    several)."""
    tally = _Tally()
    for event in events:
        tally.add(event.serious or "", event)
        for criterion in event.criteria:
            tally.add(f"criterion:{criterion}", event)
    rows = [tally.row("Y", SERIOUS, level=0)]
    rows += [tally.row(f"criterion:{c.label}", c.label, level=1) for c in log.criteria]
    rows.append(tally.row("N", NOT_SERIOUS, level=0))
    if tally.events.get(""):
        rows.append(tally.row("", NOT_RECORDED, level=0))
    return {"rows": rows}


def by_relationship(
    study: LoadedStudy, log: AdverseEventLog, events: list[Event]
) -> list[dict[str, Any]]:
    """For each cause: events by relationship code, then the related ones together."""
    causes = []
    for cause in log.causes:
        _, item = study.item(log.form, cause.item)
        codelist = study.codelist_for(item)
        codes = list(codelist.codes) if codelist else []
        tally = _Tally()
        for event in events:
            code = event.codes[cause.label]
            tally.add(code, event)
            if code in log.related:
                tally.add(_RELATED, event)
        rows = [tally.row(code, label, related=code in log.related) for code, label in codes]
        seen = {code for code, _ in codes}
        rows += [
            tally.row(code, MISSING_CODES.get(code, code), related=False)
            for code in tally.events
            if code not in seen and code not in ("", _RELATED)
        ]
        if tally.events.get(""):
            rows.append(tally.row("", NOT_RECORDED, related=False))
        labels = dict(codes)
        causes.append(
            {
                "cause": cause.label,
                "rows": rows,
                "related": tally.row(_RELATED, ""),
                "related_labels": [labels.get(code, code) for code in log.related],
            }
        )
    return causes
