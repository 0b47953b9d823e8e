"""The form page's state: the WTForms form, messages at fields, derived values, conflicts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property, partial

import sqlalchemy as sa
from flask import abort, render_template
from werkzeug.datastructures import MultiDict

from ecrf.audit.models import AuditEvent
from ecrf.converters import MAX_INTEGER, bounded_int
from ecrf.crf import analytes
from ecrf.crf import web_forms as entry_forms
from ecrf.crf.evaluate import gather_inputs
from ecrf.crf.row_summary import column_kinds, opens_by_itself, summary_cells
from ecrf.crf.save.laboratory import annotation, laboratory_item, subject_sex_and_age
from ecrf.crf.save.plan import Submitted
from ecrf.crf.services import FieldIssue, StaleEntry, field_path
from ecrf.extensions import db
from ecrf.laboratories.services import site_laboratories
from ecrf.locks.models import DataLock
from ecrf.queries.listing import target_words
from ecrf.queries.models import Query, QueryState
from ecrf.records import fields
from ecrf.records.data import EntryData, RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import (
    Finding,
    FindingStatus,
    FormEntry,
    ItemGroupRow,
    Subject,
    SubjectVisit,
)
from ecrf.records.recorded import describe_recorded
from ecrf.sdv.display import FormVerification
from ecrf.study import gates
from forms.language import CONTEXT, REFERENCE_DATE, DataType, Form, ItemGroup, Visit

ROWS_EXHAUSTED = "No more rows can be added to this group."
#: Beside a value another user changed meanwhile ({value} as the form shows it).
ALSO_CHANGED = "Also changed by {actor} to {value}; yours is kept."
#: How a derivation's input read from another sample or visit is named beside its value.
BASELINE_INPUT = "baseline sample"
LATEST_INPUT = "{form}, this visit or the latest before it"

_PATH = re.compile(r"^(\w+)\[(\d+)\]\.(\w+)$")


@dataclass
class DerivedShown:
    value: str
    formula: str
    inputs: list[tuple[str, str]]


class FormPage:
    def __init__(
        self,
        study: LoadedStudy,
        subject: Subject,
        visit_def: Visit,
        repeat: int,
        form_def: Form,
        *,
        can_edit: bool,
        can_raise: bool = False,
        sees_queries: bool = False,
        lock: DataLock | None = None,
    ) -> None:
        self.study, self.subject, self.visit_def, self.repeat = study, subject, visit_def, repeat
        self.form_def = form_def
        self.can_edit = can_edit
        #: Whether the user raises queries here (monitors, data managers), and sees them.
        self.can_raise = can_raise
        self.sees_queries = sees_queries
        #: The lock that holds the form (then read-only), if any.
        self.lock = lock
        #: Source verification shown on the page (``ecrf.sdv.display``), set by the view.
        self.sdv: FormVerification | None = None
        self._load()
        self.formdata: MultiDict | None = None
        self.messages: dict[str, list[tuple[str, str]]] = {}
        self.form_errors: list[str] = []
        self.group_errors: dict[str, list[str]] = {}
        self.conflict: list[AuditEvent] | None = None
        self.version_override: int | None = None

    def _load(self) -> None:
        focus = (self.visit_def.oid, self.repeat, self.form_def.oid)
        self.data = SubjectData.load(self.study, self.subject, focus=focus)
        self.entry_data = self.data.entry(self.visit_def.oid, self.repeat, self.form_def.oid)
        self.entry: FormEntry | None = self.entry_data.entry if self.entry_data else None
        self.row_keys = entry_forms.row_keys_for(self.form_def, self.entry_data)
        self.gate = gates.form_gate(
            self.study, self.subject, self.data, self.visit_def.oid, self.repeat, self.form_def.oid
        )

    def bind(self, formdata: MultiDict) -> None:
        self.formdata = formdata
        try:
            extra = entry_forms.extra_rows_from(formdata, self.form_def)
        except ValueError:
            abort(400, "A row number of this form is out of range.")
        self.row_keys = entry_forms.row_keys_for(self.form_def, self.entry_data, extra)

    def add_blank_row(self, group_oid: str) -> None:
        group = next((g for g in self.form_def.groups if g.oid == group_oid and g.repeating), None)
        if group is None:
            abort(400)
        if group.max_rows is not None and len(self.row_keys[group.oid]) >= group.max_rows:
            self.group_errors.setdefault(group.oid, []).append(f"At most {group.max_rows} rows.")
            return
        used = (
            {r.repeat_key for r in self.entry.rows if r.group_oid == group.oid}
            if self.entry
            else set()
        )
        key = entry_forms.next_key(group, self.row_keys, used)
        if key > MAX_INTEGER:
            self.group_errors.setdefault(group.oid, []).append(ROWS_EXHAUSTED)
            return
        self.row_keys[group.oid].append(key)

    def submitted(self):
        return entry_forms.submitted_from(self.formdata, self.form_def, self.row_keys)

    def expected_version(self) -> int:
        return _expected_version(self.formdata or {})

    def show_issues(self, issues: list[FieldIssue], form_errors: list[str]) -> None:
        for issue in issues:
            if issue.item_oid is None:
                self.group_errors.setdefault(issue.group_oid, []).append(issue.message)
                continue
            name = entry_forms.field_name(issue.group_oid, issue.row_key, issue.item_oid)
            self.messages.setdefault(name, []).append((issue.severity, issue.message))
        self.form_errors.extend(form_errors)

    def reload_after_conflict(self, exc: StaleEntry, merge) -> None:
        """Keep the user's own changes, take the others' where the user changed nothing."""
        self.conflict = exc.changes
        self._load()
        extra = entry_forms.extra_rows_from(self.formdata, self.form_def)
        self.row_keys = entry_forms.row_keys_for(self.form_def, self.entry_data, extra)
        self.formdata = merge(self, exc.changes)
        self.version_override = self.entry.version if self.entry else 0
        self.form_errors.append(exc.message)

    # --- rendering -------------------------------------------------------------------------
    @staticmethod
    def analyte_flag_words() -> dict[str, str]:
        """The words of the H and L flags, for the page's script to show as it flags."""
        return {"high": analytes.HIGH[1], "low": analytes.LOW[1]}

    def analyte_layout(self, group: ItemGroup) -> list[analytes.Segment]:
        """A laboratory group's items, its analytes as table rows (``crf/_analytes.html``)."""
        return analytes.layout(
            self.study,
            self.data,
            self.form_def,
            group,
            self.entry_data,
            (self.visit_def.oid, self.repeat),
        )

    def _findings(self) -> dict[str, list[str]]:
        if self.entry is None:
            return {}
        rows = db.session.scalars(
            sa.select(Finding).where(
                Finding.entry_id == self.entry.id, Finding.status == FindingStatus.OPEN
            )
        )
        result: dict[str, list[str]] = {}
        for finding in rows:
            name = entry_forms.field_name(finding.group_oid, finding.repeat_key, finding.item_oid)
            result.setdefault(name, []).append(finding.message)
        return result

    def _queries(self) -> tuple[dict[str, list[Query]], list[tuple[Query, str]]]:
        """The form's queries not closed yet: by item field, and all with what they are
        about (the form's and its rows' are shown atop the form)."""
        if self.entry is None or not self.sees_queries:
            return {}, []
        rows = db.session.scalars(
            sa.select(Query)
            .where(Query.entry_id == self.entry.id, Query.state != QueryState.CLOSED)
            .order_by(Query.opened_at, Query.id)
        ).all()
        by_field: dict[str, list[Query]] = {}
        for query in rows:
            if query.item_oid is not None:
                name = entry_forms.field_name(query.group_oid, query.repeat_key, query.item_oid)
                by_field.setdefault(name, []).append(query)
        return by_field, [(q, target_words(self.study, q)) for q in rows]

    def _derived(self) -> dict[str, DerivedShown]:
        shown: dict[str, DerivedShown] = {}
        if self.entry_data is None:
            return shown
        for derivation in self.form_def.derivations:
            group, item = self.study.item(self.form_def.oid, derivation.target)
            for key in self.row_keys[group.oid]:
                row = self.entry_data.rows.get((group.oid, key))
                if row is None:
                    continue
                inputs = gather_inputs(
                    self.study,
                    self.data,
                    self.form_def,
                    row,
                    self.entry_data,
                    derivation.inputs,
                    (self.visit_def.oid, self.repeat),
                )
                listed = [
                    describe_input(self.study, self.form_def.oid, ref, value)
                    for ref, value in inputs.items()
                ]
                value = row.values.get(derivation.target)
                shown[entry_forms.field_name(group.oid, key, item.oid)] = DerivedShown(
                    fields.display(item, value, self.study.codelist_for(item))
                    if value is not None
                    else "not computable yet",
                    derivation.formula,
                    listed,
                )
        return shown

    def marked_required(self, group: ItemGroup, item) -> bool:
        """Whether the page stars ``item`` as needed to complete the form: required by the
        definition, or the laboratory of a lab form where the site declares laboratories
        (the save step asks for it then)."""
        if item.required:
            return True
        registry = self.lab_registry
        return bool(registry and registry["labs"]) and item == laboratory_item(group)

    @cached_property
    def lab_registry(self) -> dict | None:
        """What the page needs to fill units and limits as the laboratory is chosen (the
        server does the same on save): the site's laboratories' ranges, the subject's sex
        and age, and each row's fields by analyte. None for a form naming no laboratory."""
        rows = []
        for group in self.form_def.groups:
            lab_item = laboratory_item(group)
            if lab_item is None:
                continue
            date_item = next((i for i in group.items if i.cdash == "LBDAT"), None)
            for key in self.row_keys[group.oid]:
                rows.append(self._registry_row(group, key, lab_item, date_item))
        if not rows:
            return None
        sex, age = subject_sex_and_age(self.data)
        labs = {
            lab.name: [
                {
                    "testcd": r.testcd,
                    "unit": r.unit,
                    "sex": r.sex,
                    "age_low": r.age_low,
                    "age_high": r.age_high,
                    "low": r.low_text,
                    "high": r.high_text,
                    "from": r.valid_from.isoformat(),
                    "to": r.valid_to.isoformat() if r.valid_to else None,
                }
                for r in lab.ranges
            ]
            for lab in self._site_laboratories
        }
        return {"sex": sex, "age": age, "labs": labs, "rows": rows}

    @cached_property
    def _site_laboratories(self):
        return site_laboratories(self.subject.site_id)

    def _registry_row(self, group, key: int, lab_item, date_item) -> dict:
        name = partial(entry_forms.field_name, group.oid, key)
        analytes: dict[str, dict] = {}
        for item in group.items:
            kind, testcd = annotation(item)
            if kind is None or item.derived:
                continue
            fields_of = analytes.setdefault(testcd, {"unit": None, "low": None, "high": None})
            if kind == "LBORRES" and entry_forms.chooses_unit(item):
                fields_of["unit"] = entry_forms.unit_field_name(group.oid, key, item.oid)
            elif kind == "LBORNRLO":
                fields_of["low"] = name(item.oid)
            elif kind == "LBORNRHI":
                fields_of["high"] = name(item.oid)
        return {
            "lab": name(lab_item.oid),
            "date": name(date_item.oid) if date_item else None,
            "analytes": analytes,
        }

    def _laboratories(self, data: dict | None) -> list[str] | None:
        """The names a lab form's laboratory item offers: the site's laboratories, and the
        name already entered when it is no longer one of them (renamed since)."""
        items = [(g, i) for g in self.form_def.groups for i in g.items if i.cdash == "LBNAM"]
        if not items:
            return None
        names = [lab.name for lab in self._site_laboratories]
        for group, item in items:
            for key in self.row_keys[group.oid]:
                name = entry_forms.field_name(group.oid, key, item.oid)
                current = (data or {}).get(name) or (self.formdata or {}).get(name)
                if current and current not in names:
                    names.append(current)
        return names

    def render(self, status: int = 200):
        bound = self.formdata is not None
        data = (
            None
            if bound
            else entry_forms.initial_data(self.study, self.form_def, self.entry_data, self.row_keys)
        )
        form = entry_forms.build_entry_form(
            self.study,
            self.form_def,
            self.row_keys,
            formdata=self.formdata if bound else None,
            data=data,
            laboratories=self._laboratories(data),
        )
        if not bound:
            form.version.data = str(self.entry.version if self.entry else 0)
        if self.version_override is not None:
            form.version.data = str(self.version_override)
        for group in self.form_def.groups:
            if group.repeating:
                form[f"rows-{group.oid}"].data = ",".join(str(k) for k in self.row_keys[group.oid])
        queries_by_field, entry_queries = self._queries()
        return render_template(
            "crf/entry.html",
            page=self,
            form=form,
            queries_by_field=queries_by_field,
            entry_queries=entry_queries,
            findings=self._findings(),
            derived=self._derived(),
            field_name=entry_forms.field_name,
            field_path=field_path,
            codelist_for=self.study.codelist_for,
            row_summary=lambda group, key: summary_cells(self.study, form, group, key),
            row_columns=column_kinds,
            row_opens=lambda group, key, saved: opens_by_itself(
                self.messages, group, key, bool(saved)
            ),
        ), status


def posted_entries(
    subject: Subject, visit_def: Visit, repeat: int, form_def: Form, formdata: MultiDict
) -> tuple[Submitted, int]:
    """What a POST of the form page submits, and the version it started from, read without
    building the page (whose data a save reads again under the subject's lock): the rows
    the page carried, plus the saved rows (those it left out are submitted empty, as the
    page would), whose keys one statement reads when the form repeats a group.
    """
    try:
        extra = entry_forms.extra_rows_from(formdata, form_def)
    except ValueError:
        abort(400, "A row number of this form is out of range.")
    saved = EntryData(form_def.oid, None)
    if any(group.repeating for group in form_def.groups):
        where = {
            "subject_id": subject.id,
            "visit_oid": visit_def.oid,
            "repeat": repeat,
            "form_oid": form_def.oid,
        }
        for group_oid, key in db.session.execute(_saved_row_keys(), where).all():
            saved.rows[(group_oid, key)] = RowData(group_oid, key)
    row_keys = entry_forms.row_keys_for(form_def, saved, extra)
    submitted = entry_forms.submitted_from(formdata, form_def, row_keys)
    return submitted, _expected_version(formdata)


@cache
def _saved_row_keys() -> sa.Select:
    """The keys of an entry's rows (``posted_entries``), built once: every save asks it."""
    return (
        sa.select(ItemGroupRow.group_oid, ItemGroupRow.repeat_key)
        .join(FormEntry, FormEntry.id == ItemGroupRow.entry_id)
        .join(SubjectVisit, SubjectVisit.id == FormEntry.visit_id)
        .where(
            SubjectVisit.subject_id == sa.bindparam("subject_id"),
            SubjectVisit.visit_oid == sa.bindparam("visit_oid"),
            SubjectVisit.repeat_key == sa.bindparam("repeat"),
            FormEntry.form_oid == sa.bindparam("form_oid"),
            ItemGroupRow.removed.is_(False),
        )
    )


def _expected_version(formdata) -> int:
    version = bounded_int(formdata.get("version") or "0")
    if version is None:  # the page's own hidden field: only a forged request gets here
        abort(400, "The form's version is not a valid number.")
    return version


def merge_stale(page: FormPage, changes: list[AuditEvent]) -> MultiDict:
    """The user's entries, except where only the other user changed a value."""
    merged = MultiDict(page.formdata)
    first_old: dict[str, str | None] = {}
    last: dict[str, AuditEvent] = {}
    for event in changes:
        if event.field and _PATH.match(event.field):
            first_old.setdefault(event.field, event.old)
            last[event.field] = event
    for path, event in last.items():
        group_oid, key, item_oid = _PATH.match(path).groups()
        if not page.study.has_item(page.form_def.oid, item_oid):
            continue
        item = page.study.item(page.form_def.oid, item_oid)[1]
        if item.derived:
            continue  # nobody typed it: it is recomputed at the next save
        name = entry_forms.field_name(group_oid, int(key), item_oid)
        original = _as_entered(first_old[path])
        current = _as_entered(event.new)
        unit_name = entry_forms.unit_field_name(group_oid, int(key), item_oid)
        if item.type is DataType.MULTI_CHOICE:
            mine = sorted(page.formdata.getlist(name))
            untouched = mine == sorted(original.split())
            replacement = current.split()
        elif item.multi_unit:  # "1.2 mg/dL": the value and its unit
            original, _, original_unit = original.partition(" ")
            current, _, current_unit = current.partition(" ")
            untouched = (page.formdata.get(name) or "").strip() == original
            if entry_forms.chooses_unit(item):
                untouched = untouched and page.formdata.get(unit_name, "") == original_unit
                if untouched:
                    merged.setlist(unit_name, [current_unit])
            replacement = [current]
        else:
            untouched = (page.formdata.get(name) or "").strip() == original
            replacement = [current]
        if untouched:
            merged.setlist(name, replacement)
        else:
            page.messages.setdefault(name, []).append(
                (
                    "warning",
                    ALSO_CHANGED.format(
                        actor=event.actor,
                        value=describe_recorded(page.study, page.form_def.oid, path, event.new)
                        if event.new
                        else "empty",
                    ),
                )
            )
    return merged


def _as_entered(recorded: str | None) -> str:
    """An audit value as it is typed in the form: "[ND]" is the code ND, None is empty."""
    if not recorded:
        return ""
    return recorded[1:-1] if recorded.startswith("[") and recorded.endswith("]") else recorded


def history_entry(
    subject: Subject, visit_oid: str, repeat_key: int, form_oid: str
) -> FormEntry | None:
    """The entry whose history is shown, read alone: its events are all the page needs (the
    subject's data, read whole, holds a thousand values once the subject is documented)."""
    return db.session.scalar(
        sa.select(FormEntry)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(
            SubjectVisit.subject_id == subject.id,
            SubjectVisit.visit_oid == visit_oid,
            SubjectVisit.repeat_key == repeat_key,
            FormEntry.form_oid == form_oid,
        )
    )


def history_events(entry: FormEntry, field: str | None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(
        AuditEvent.entity == "form_entry", AuditEvent.entity_id == str(entry.id)
    )
    if field:
        query = query.where(AuditEvent.field == field)
    return list(db.session.scalars(query.order_by(AuditEvent.seq)))


def describe_input(study: LoadedStudy, form_oid: str, ref: str, value) -> tuple[str, str]:
    """(label, value as people read it) of a derivation's input written in ``form_oid``; an
    input from another form names its visit, as the eligibility evidence does."""
    resolved = study.resolve(form_oid, ref)
    if resolved.lookup is not None:
        ref_item = study.item(resolved.form, resolved.item)[1]
        where = (
            BASELINE_INPUT
            if resolved.lookup == "BASELINE"
            else LATEST_INPUT.format(form=study.forms[resolved.form].name)
        )
        shown = "—" if value in (None, "") else fields.display(ref_item, value)
        return f"{ref_item.label} ({where})", shown
    if resolved.context is not None:
        label = CONTEXT.get(resolved.context) or REFERENCE_DATE.format(name=resolved.context)
        return label[0].upper() + label[1:], value.isoformat() if value else "—"
    if resolved.group is not None:
        group = study.group(resolved.form, resolved.group)
        form_name = study.forms[resolved.form].name
        where = "this form" if resolved.local else resolved.visit
        return f"{form_name}: {group.label} ({where})", f"{len(value or [])} row(s)"
    ref_item = study.item(resolved.form, resolved.item)[1]
    if resolved.local:
        label = ref_item.label
    elif resolved.same_visit:
        label = f"{ref_item.label} ({study.forms[resolved.form].name}, this visit)"
    else:
        label = f"{ref_item.label} ({resolved.visit})"
    if value in (None, ""):
        return label, "—"
    return label, fields.display(ref_item, value, study.codelist_for(ref_item))
