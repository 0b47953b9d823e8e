"""What a study's reports read: plain data a study definition may declare beside its STUDY.

A study package (``forms.iahprrt``) holds a module ``reports`` whose attributes are report
plans (``IMAGING``, ``SAFETY``…) naming the forms and items each report reads. A report
whose plan a study does not declare is not offered for that study. Plans are not part of
the definition's fingerprint: they change what is printed, never what is captured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
    #: The CTCAE term the event is coded with (shown under the reported term).
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


# --- imaging report: one PET against another, lesion by lesion --------------------------------


@dataclass(frozen=True)
class Scan:
    """One PET of the comparison: the visit and form it is captured on, and its names."""

    visit: str
    form: str
    #: Short label of columns and plot positions ("IV").
    label: str
    #: What the scan is, in headings ("PET after IV injection").
    name: str


@dataclass(frozen=True)
class Metric:
    """One uptake value of a lesion, read on both scans."""

    #: Item OID of the value in the lesion table (the same on both scans).
    item: str
    label: str
    #: The derived tested/reference ratio of the same row of the tested scan, when the
    #: definition derives one (the report shows it as stored); None: none is derived.
    ratio_item: str | None = None


@dataclass(frozen=True)
class LesionTable:
    """A repeating group of lesions, the same on both scans, paired by identifier."""

    group: str
    label: str
    id_item: str
    location_item: str
    location_label: str
    metrics: tuple[Metric, ...]
    #: The tested scan's yes/no item saying whether the lesion lies in the territory the
    #: tested injection reached (an intra-arterial injection): the gain of the endpoint
    #: then counts the lesions answered yes, and those answered no are summarised apart.
    perfused_item: str | None = None


@dataclass(frozen=True)
class ScanFact:
    """A value of a scan's non-repeating groups shown for each scan (date, tracer...)."""

    group: str
    item: str
    label: str


@dataclass(frozen=True)
class ImagingPlan:
    """The imaging report: uptake per lesion on the ``tested`` scan against the
    ``reference`` scan, their ratios, and the gain of the primary endpoint.

    The primary endpoint is the tested/reference ratio of ``primary_metric`` over the
    lesions of ``index_lesions``; ``other_lesions`` are shown beside it, outside the
    endpoint. ``paired_count`` and ``median_gain`` name the values the definition derives
    per subject on the tested scan (None: the report computes them).
    """

    reference: Scan
    tested: Scan
    index_lesions: LesionTable
    primary_metric: str
    other_lesions: tuple[LesionTable, ...] = ()
    scan_facts: tuple[ScanFact, ...] = ()
    paired_count: ScanFact | None = None
    median_gain: ScanFact | None = None

    def __post_init__(self) -> None:
        if self.primary_metric not in {m.item for m in self.index_lesions.metrics}:
            raise ValueError(f"primary metric {self.primary_metric} is not an index metric")

    @property
    def primary(self) -> Metric:
        return next(m for m in self.index_lesions.metrics if m.item == self.primary_metric)


# --- the blank annotated CRF ------------------------------------------------------------


@dataclass(frozen=True)
class AcrfPlan:
    """What the blank annotated CRF says beyond the definition itself.

    An edit check's function returns the message for the case at hand; the blank form
    needs the rule it enforces. ``check_words`` gives it, by "FORM.CHECK" or by "CHECK"
    for every form having a check of that name. Checks not listed are described from the
    definition (the message they are given, the eligibility rule, the function's docstring).
    """

    check_words: Mapping[str, str] = field(default_factory=dict)
