"""What a study's reports read: plain data a study definition may declare beside its STUDY.

A study package (``forms.iahprrt``) holds a module ``reports`` whose attributes are report
plans (``IMAGING``, ``SAFETY``…) naming the forms and items each report reads. A report
whose plan a study does not declare is not offered for that study. Plans are not part of
the definition's fingerprint: they change what is printed, never what is captured.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- the safety report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """Something an adverse event may be related to, and the item where its relationship is
    judged (a code of the item's code list)."""

    label: str
    item: str
    #: A name short enough for a narrow column or a phone.
    short: str = ""


@dataclass(frozen=True)
class Seriousness:
    """A seriousness criterion: its yes/no item and a short name for listings."""

    item: str
    label: str


@dataclass(frozen=True)
class AdverseEventLog:
    """The adverse-event log: one row per event, and the item holding each of its facts."""

    visit: str
    form: str
    group: str
    number: str
    term: str
    start: str
    ongoing: str
    end: str
    #: The event's worst grade (its code list labels the grades).
    grade: str
    serious: str
    criteria: tuple[Seriousness, ...]
    causes: tuple[Cause, ...]
    #: The relationship codes counted as "related" in the summaries (the others are not).
    related: tuple[str, ...]
    outcome: str
    treated: str | None = None
    #: The CTCAE term of a laboratory abnormality, when the event is one.
    lab_term: str | None = None


@dataclass(frozen=True)
class SeriousReportLog:
    """The log of serious adverse event reports to the sponsor, and its deadline."""

    visit: str
    form: str
    group: str
    #: The adverse event's number in the adverse-event log the report is about.
    number: str
    kind: str
    #: The ``kind`` code of the first report (the one the deadline applies to).
    initial: str
    aware_date: str
    aware_time: str
    sent_date: str
    sent_time: str
    deadline_hours: int
    #: The time zone of the dates and times the sites type (IANA name).
    time_zone: str


@dataclass(frozen=True)
class LabGrades:
    """Where graded laboratory values are: forms whose derived CTCAE grades are annotated
    ``<grade_annotation>[TESTCD]`` (the result ``<result_annotation>[TESTCD]``)."""

    forms: tuple[str, ...]
    date: str
    #: The sample time, on the forms that have one.
    time: str | None
    grade_annotation: str
    result_annotation: str
    #: (test code, CTCAE term code) pairs; ``term_codelist`` labels the terms.
    terms: tuple[tuple[str, str], ...]
    term_codelist: str
    #: The grades a shift table has rows and columns for.
    grades: tuple[int, ...] = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class TreatmentStart:
    """The reference that separates baseline from post-treatment values: the date (and
    time) of the treatment's administration, for the subjects of a sub-group."""

    name: str
    label: str
    visit: str
    form: str
    group: str
    date: str
    time: str | None
    subgroup: str


@dataclass(frozen=True)
class SafetyPlan:
    """What the safety report reads (``ecrf report safety``, /reports/safety)."""

    adverse_events: AdverseEventLog
    serious_reports: SeriousReportLog
    labs: LabGrades
    treatment: TreatmentStart
