"""The imaging report's data: uptake per lesion on two PETs, paired by lesion identifier, the
tested/reference ratios and the gain of the primary endpoint, read from the stored values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from statistics import median
from typing import TYPE_CHECKING

from ecrf.errors import RuleViolation
from ecrf.exports.stream import RowRecord, iter_rows
from ecrf.records import fields
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import EntryStatus
from ecrf.reporting.scope import report_sites, scoped_site_ids, subject_for_report
from forms.reports import ImagingPlan, LesionTable, Metric, Scan

if TYPE_CHECKING:
    from ecrf.auth.models import User

NOT_AT_SITE = "Subject {subject} is not a subject of site {site}."


@dataclass(frozen=True)
class Value:
    """One stored value: the number (None when missing), and its text as people read it."""

    number: Decimal | None
    #: As stored (decimals keep their digits), or the missing-data code, or "".
    text: str


NO_VALUE = Value(None, "")


@dataclass(frozen=True)
class Measure:
    """One metric of one lesion on both scans, and their ratio tested / reference."""

    metric: Metric
    reference: Value
    tested: Value
    #: As the definition derives and stores it (``Metric.ratio_item``), else computed.
    ratio: Decimal | None


@dataclass(frozen=True)
class Lesion:
    """A lesion of one table, as seen on either scan or both (same identifier)."""

    identifier: str
    location: str
    on_reference: bool
    on_tested: bool
    measures: tuple[Measure, ...]
    #: Tested / reference of the primary metric, unrounded (index lesions with both values).
    gain: Decimal | None = None
    #: In the territory the tested injection reached: True, False, or None when not
    #: answered (a table that does not ask counts every lesion as reached).
    perfused: bool | None = True
    #: The same identifier names a lesion at another place on each scan: never paired.
    moved: bool = False

    @property
    def paired(self) -> bool:
        return self.on_reference and self.on_tested

    @property
    def higher(self) -> bool:
        """Higher uptake on the tested scan (the primary metric)."""
        return self.gain is not None and self.gain > 1


@dataclass(frozen=True)
class GainSummary:
    """Gains of the primary metric over a set of lesions (or of patients' medians)."""

    count: int
    median: Decimal | None
    low: Decimal | None
    high: Decimal | None
    #: How many of them are above 1 (higher uptake on the tested scan).
    higher: int

    @classmethod
    def of(cls, gains: Iterable[Decimal]) -> GainSummary:
        values = sorted(gains)
        if not values:
            return cls(0, None, None, None, 0)
        return cls(
            len(values),
            round_ratio(median(values)),
            values[0],
            values[-1],
            sum(1 for v in values if v > 1),
        )


@dataclass(frozen=True)
class ScanInfo:
    """One scan of one subject: whether it is entered, its form's status, its facts."""

    scan: Scan
    present: bool
    status: str = ""
    #: (label, text) of each of the plan's scan facts.
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LesionGroup:
    table: LesionTable
    lesions: tuple[Lesion, ...]

    @property
    def unpaired(self) -> tuple[Lesion, ...]:
        return tuple(lesion for lesion in self.lesions if not lesion.paired)


@dataclass(frozen=True)
class SubjectImaging:
    identifier: str
    site_code: str
    reference: ScanInfo
    tested: ScanInfo
    index: LesionGroup
    others: tuple[LesionGroup, ...]
    #: The subject's gains over the paired index lesions (those perfused, where the table
    #: asks); the count and median are the ones the definition derives and stores, where it
    #: does.
    summary: GainSummary
    #: The gains of the paired index lesions outside the territory injected (not perfused).
    outside: GainSummary = GainSummary(0, None, None, None, 0)


@dataclass(frozen=True)
class ImagingReport:
    plan: ImagingPlan
    #: Ids and codes of the sites covered, or None: every site.
    site_ids: frozenset[int] | None
    site_codes: tuple[str, ...] | None
    #: The one subject asked for, or None.
    subject: str | None
    subjects: tuple[SubjectImaging, ...]
    #: Over every paired index lesion of every subject.
    lesions: GainSummary
    #: Over the subjects' median gains.
    patients: GainSummary
    #: Over every paired index lesion outside the territory injected (apart from the
    #: endpoint).
    outside: GainSummary = GainSummary(0, None, None, None, 0)

    @property
    def compared(self) -> tuple[SubjectImaging, ...]:
        """Subjects with at least one index lesion compared on both scans."""
        return tuple(s for s in self.subjects if s.summary.count or s.outside.count)


def round_ratio(value: Decimal | None) -> Decimal | None:
    """A ratio to 2 decimals, half up, as the definition rounds its derived ratios."""
    return None if value is None else value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def lesion_key(identifier: str) -> str:
    """Identifiers compare without case or surrounding spaces ("l1 " is "L1")."""
    return identifier.strip().upper()


def _natural(identifier: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", lesion_key(identifier)))


class _Reader:
    """Typed values and their display text, from the stream's canonical text."""

    def __init__(self, study: LoadedStudy) -> None:
        self.study = study

    def value(self, form_oid: str, row: RowRecord | None, item_oid: str) -> Value:
        record = row.values.get(item_oid) if row is not None else None
        if record is None:
            return NO_VALUE
        if record.value is None:
            return Value(None, record.missing_code or "")
        _, item = self.study.item(form_oid, item_oid)
        typed = fields.load(item, record.value)
        number = Decimal(record.value) if isinstance(typed, (Decimal, int)) else None
        return Value(number, record.value)

    def display(self, form_oid: str, row: RowRecord | None, item_oid: str) -> str:
        record = row.values.get(item_oid) if row is not None else None
        if record is None:
            return ""
        if record.value is None:
            return record.missing_code or ""
        _, item = self.study.item(form_oid, item_oid)
        return fields.display(item, fields.load(item, record.value), self.study.codelist_for(item))


@dataclass
class _Entry:
    """The rows of one subject's form, by group and repeat key."""

    status: str
    rows: dict[tuple[str, int], RowRecord] = field(default_factory=dict)

    def first(self, group: str) -> RowRecord | None:
        keys = sorted(k for g, k in self.rows if g == group)
        return self.rows[(group, keys[0])] if keys else None

    def repeating(self, group: str) -> list[RowRecord]:
        return [self.rows[k] for k in sorted(k for k in self.rows if k[0] == group)]


@dataclass
class _SubjectRows:
    site_code: str
    entries: dict[str, _Entry] = field(default_factory=dict)  # by scan label


def _identifier(row: RowRecord, id_item: str) -> str:
    record = row.values.get(id_item)
    return (record.value or "").strip() if record is not None else ""


def _raw(row: RowRecord | None, item: str) -> str | None:
    record = row.values.get(item) if row is not None else None
    return record.value if record is not None else None


def _by_identifier(rows: list[RowRecord], id_item: str) -> dict[str, list[RowRecord]]:
    """Rows by lesion identifier; a row with none is kept under a key of its own (it pairs
    with nothing, and is listed all the same)."""
    found: dict[str, list[RowRecord]] = {}
    for row in rows:
        identifier = _identifier(row, id_item)
        key = (
            lesion_key(identifier)
            if identifier
            else f"\x00{row.visit_oid}.{row.form_oid}.{row.repeat_key}"
        )
        found.setdefault(key, []).append(row)
    return found


def _measure(
    reader: _Reader,
    plan: ImagingPlan,
    metric: Metric,
    ref_row: RowRecord | None,
    tested_row: RowRecord | None,
) -> Measure:
    before = reader.value(plan.reference.form, ref_row, metric.item)
    after = reader.value(plan.tested.form, tested_row, metric.item)
    ratio = None
    if ref_row is not None and tested_row is not None:
        if metric.ratio_item:
            ratio = reader.value(plan.tested.form, tested_row, metric.ratio_item).number
        elif before.number and after.number is not None:
            ratio = after.number / before.number
    return Measure(metric, before, after, ratio)


def _lesions(
    reader: _Reader,
    plan: ImagingPlan,
    table: LesionTable,
    reference: _Entry | None,
    tested: _Entry | None,
    gain_metric: str | None,
) -> tuple[Lesion, ...]:
    """The lesions of ``table`` on both scans, paired by identifier.

    An identifier entered twice in one scan's table pairs with nothing (as the definition's
    derivations see it: no ratio); each row is then listed on its own.
    """
    ref_form, tested_form = plan.reference.form, plan.tested.form
    ref_rows = _by_identifier(reference.repeating(table.group) if reference else [], table.id_item)
    tested_rows = _by_identifier(tested.repeating(table.group) if tested else [], table.id_item)
    pairs: list[tuple[RowRecord | None, RowRecord | None]] = []
    moved: set[int] = set()  # ids of rows whose identifier names another place on the other scan
    for key in ref_rows.keys() | tested_rows.keys():
        on_ref, on_tested = ref_rows.get(key, []), tested_rows.get(key, [])
        if len(on_ref) == 1 and len(on_tested) == 1:
            places = {_raw(row, table.location_item) for row in (on_ref[0], on_tested[0])}
            if len(places - {None}) > 1:  # same identifier, another segment: not a pair
                moved |= {id(on_ref[0]), id(on_tested[0])}
                pairs += [(on_ref[0], None), (None, on_tested[0])]
            else:
                pairs.append((on_ref[0], on_tested[0]))
        else:
            pairs += [(row, None) for row in on_ref] + [(None, row) for row in on_tested]
    lesions = []
    for ref_row, tested_row in pairs:
        shown = tested_row or ref_row
        assert shown is not None
        locations: list[str] = []
        for form_oid, row in ((ref_form, ref_row), (tested_form, tested_row)):
            text = reader.display(form_oid, row, table.location_item)
            if text and text not in locations:
                locations.append(text)
        measures = tuple(
            _measure(reader, plan, metric, ref_row, tested_row) for metric in table.metrics
        )
        gain = None
        for measure in measures:
            before, after = measure.reference.number, measure.tested.number
            if measure.metric.item == gain_metric and ref_row and tested_row and before:
                gain = after / before if after is not None else None
        perfused: bool | None = True
        if table.perfused_item is not None:
            answer = _raw(tested_row, table.perfused_item) if tested_row else None
            perfused = {"Y": True, "N": False}.get(answer or "")
        lesions.append(
            Lesion(
                _identifier(shown, table.id_item),
                " / ".join(locations),
                ref_row is not None,
                tested_row is not None,
                measures,
                gain,
                perfused,
                id(shown) in moved,
            )
        )
    return tuple(sorted(lesions, key=lambda lesion: _natural(lesion.identifier)))


def _scan_info(reader: _Reader, plan: ImagingPlan, scan: Scan, entry: _Entry | None) -> ScanInfo:
    if entry is None:
        return ScanInfo(scan, False)
    facts = tuple(
        (fact.label, reader.display(scan.form, entry.first(fact.group), fact.item))
        for fact in plan.scan_facts
    )
    return ScanInfo(scan, True, EntryStatus(entry.status).label, facts)


def _subject(
    reader: _Reader, plan: ImagingPlan, identifier: str, rows: _SubjectRows
) -> SubjectImaging:
    reference = rows.entries.get(plan.reference.label)
    tested = rows.entries.get(plan.tested.label)
    index = LesionGroup(
        plan.index_lesions,
        _lesions(reader, plan, plan.index_lesions, reference, tested, plan.primary_metric),
    )
    others = tuple(
        LesionGroup(table, _lesions(reader, plan, table, reference, tested, None))
        for table in plan.other_lesions
    )
    summary = GainSummary.of(
        lesion.gain for lesion in index.lesions if lesion.gain is not None and lesion.perfused
    )
    outside = GainSummary.of(
        lesion.gain
        for lesion in index.lesions
        if lesion.gain is not None and lesion.perfused is False
    )
    stored_count = stored_median = None
    if tested is not None and plan.paired_count is not None:
        row = tested.first(plan.paired_count.group)
        stored_count = reader.value(plan.tested.form, row, plan.paired_count.item).number
    if tested is not None and plan.median_gain is not None:
        row = tested.first(plan.median_gain.group)
        stored_median = reader.value(plan.tested.form, row, plan.median_gain.item).number
    if stored_count is not None or stored_median is not None:
        summary = GainSummary(
            int(stored_count) if stored_count is not None else summary.count,
            stored_median if stored_median is not None else summary.median,
            summary.low,
            summary.high,
            summary.higher,
        )
    return SubjectImaging(
        identifier,
        rows.site_code,
        _scan_info(reader, plan, plan.reference, reference),
        _scan_info(reader, plan, plan.tested, tested),
        index,
        others,
        summary,
        outside,
    )


def read_subjects(
    plan: ImagingPlan, site_ids: set[int] | None, subject: str | None = None
) -> dict[str, _SubjectRows]:
    """The rows of both scans' forms, by subject (in site and subject order)."""
    scans = {(plan.reference.visit, plan.reference.form): plan.reference.label}
    scans[(plan.tested.visit, plan.tested.form)] = plan.tested.label
    forms = sorted({plan.reference.form, plan.tested.form})
    subjects: dict[str, _SubjectRows] = {}
    for row in iter_rows(site_ids, form_oid=forms, subject=subject):
        label = scans.get((row.visit_oid, row.form_oid))
        if label is None or row.visit_repeat != 1:
            continue
        rows = subjects.setdefault(row.subject, _SubjectRows(row.site_code))
        entry = rows.entries.setdefault(label, _Entry(row.entry_status))
        entry.rows[(row.group_oid, row.repeat_key)] = row
    return subjects


def build_imaging_report(
    study: LoadedStudy,
    plan: ImagingPlan,
    *,
    actor: User | None,
    site_code: str | None = None,
    subject: str | None = None,
) -> ImagingReport:
    """The imaging report of the subjects ``actor`` may read in reports: every site's, one
    site's (``site_code``) or one subject's.

    :raises NotFound: no such subject, or one of a site outside the reader's (the same answer).
    :raises RuleViolation: no such site, or the subject is not of that site.
    :raises PermissionDenied: the reader may not download reports at that site or subject.
    """
    site_code = (site_code or "").strip() or None
    subject = (subject or "").strip() or None
    site_ids = scoped_site_ids(actor, site_code)
    site_codes: tuple[str, ...] | None = None
    if subject is not None:
        found = subject_for_report(subject, actor)
        if site_code and site_ids is not None and found.site_id not in site_ids:
            raise RuleViolation(
                NOT_AT_SITE.format(subject=found.identifier, site=site_code.upper()),
                field="site",
            )
        subject, site_ids, site_codes = found.identifier, {found.site_id}, (found.site.code,)
    elif site_ids is not None:
        site_codes = tuple(s.code for s in report_sites(actor) if s.id in site_ids)
    reader = _Reader(study)
    rows = read_subjects(plan, site_ids, subject)
    if subject is not None and subject not in rows:
        rows[subject] = _SubjectRows(site_codes[0] if site_codes else "")
    subjects = tuple(_subject(reader, plan, identifier, r) for identifier, r in rows.items())
    gains = [
        le.gain for s in subjects for le in s.index.lesions if le.gain is not None and le.perfused
    ]
    outside = [
        le.gain
        for s in subjects
        for le in s.index.lesions
        if le.gain is not None and le.perfused is False
    ]
    medians = [s.summary.median for s in subjects if s.summary.median is not None]
    return ImagingReport(
        plan,
        frozenset(site_ids) if site_ids is not None else None,
        site_codes,
        subject,
        subjects,
        GainSummary.of(gains),
        GainSummary.of(medians),
        GainSummary.of(outside),
    )
