"""A subject's casebook as plain data for ``reports/templates/casebook.html``.

Every visit of the schedule with its window status and deviation, every form with every
item (value as people read it, its code, unit, missing-data code, derived values with
their formula and inputs), repeating groups as tables (removed rows kept, with their
reason), the findings, the eligibility assessment, the status history and the subject's
audit trail; the monitoring of it: each form's queries and source-data verification, each
visit's queries and investigator signatures, and every signature of the subject.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.auth.models import User
from ecrf.crf.evaluate import gather_inputs
from ecrf.crf.page import describe_input
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.records import fields, units
from ecrf.records.data import EntryData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Finding, FindingStatus, FormEntry, ItemGroupRow, Subject
from ecrf.reporting.casebook_monitoring import casebook_monitoring
from ecrf.reporting.casebook_queries import casebook_queries
from ecrf.reporting.casebook_trail import status_history, subject_trail
from ecrf.reporting.page import STUDY_HEADER, page_context
from ecrf.study.eligibility import assess
from ecrf.study.schedule import VisitSlot, build_schedule, reference_dates
from forms.language import MISSING_CODES, Form, Item, ItemGroup, VisitKind, holds

if TYPE_CHECKING:
    from ecrf.audit.checkpoints import Checkpoint
    from ecrf.records.models import ItemValue

TITLE = "Casebook of subject {identifier}"
HEADER_RIGHT = "Site {site} · Subject {identifier}"
#: A repeating group wider than this is printed as several tables, the row number and the
#: group's first item (its identifier: lesion, AE number, medication) repeated.
COLUMNS_PER_TABLE = 7
#: A derived value computed from more inputs than this says how many, not each one (the
#: eligibility summary reads every criterion: a page of values already printed above).
MAX_INPUTS_LISTED = 8
MANY_INPUTS = "{count} values of the forms above"

FORM_STATUS = {"not_started": "Not started", "draft": "In progress", "complete": "Complete"}
WINDOW_STATUS = {
    "in_window": "Within the window",
    "out_of_window": "Outside the window (protocol deviation)",
    "no_window": "No window",
    "overdue": "Not done, overdue",
    "not_done": "Not done",
    "not_applicable": "Not applicable",
    "ended": "Not done (the subject left the study)",
    "log": "Log (not bound to a date)",
}
NOT_ASKED = "not asked (condition not met)"
CRITERION_STATE = {
    "satisfied": "Met",
    "fails": "Not met",
    "contradiction": "Answer contradicts the data",
    "unanswered": "Not answered",
}
COMPUTED = {True: "met", False: "not met", None: "cannot tell"}


@cache
def derivation_numbers(study: LoadedStudy) -> dict[tuple[str, str], int]:
    """(form, derived item) → its number, D1, D2… in the definition's order: the same
    derivation has the same number in every casebook of the study."""
    numbers: dict[tuple[str, str], int] = {}
    for form in study.study.forms:
        for derivation in form.derivations:
            numbers[(form.oid, derivation.target)] = len(numbers) + 1
    return numbers


def _derivations(study: LoadedStudy, numbers, visits) -> list[dict[str, Any]]:
    """The derivations of the forms printed, each once: its number, form, item, formula and
    the inputs it reads (the values are printed beside each derived value)."""
    printed = {f["oid"] for v in visits for f in v["forms"] if f["status_code"] != "not_started"}
    listed = []
    for form in study.study.forms:
        if form.oid not in printed:
            continue
        for derivation in form.derivations:
            item = study.item(form.oid, derivation.target)[1]
            inputs = [describe_input(study, form.oid, ref, None)[0] for ref in derivation.inputs]
            listed.append(
                {
                    "number": numbers[(form.oid, derivation.target)],
                    "form": form.name,
                    "item": item.label,
                    "oid": item.oid,
                    "formula": derivation.formula,
                    "inputs": inputs,
                }
            )
    return listed


def build_casebook(
    study: LoadedStudy,
    subject: Subject,
    *,
    actor: User | None,
    checkpoint: Checkpoint | None = None,
) -> dict[str, Any]:
    """The casebook's plain data (writes an audit checkpoint for its footer, unless a batch
    gives the one it wrote).

    Callers check that ``actor`` may read this subject's reports
    (``ecrf.reporting.scope.subject_for_report``).
    """
    data = SubjectData.load(study, subject)
    entries = _entries_with_removed_rows(subject)
    findings = _findings(subject)
    users = _usernames({e.updated_by_id for e in entries.values()} | {subject.created_by_id})
    today = utcnow().date()
    ended = subject.status.value in ("screen_failure", "withdrawn", "completed")
    numbers = derivation_numbers(study)
    visits = [
        _visit(study, data, slot, entries, findings, users, today, ended)
        for slot in build_schedule(study, data)
    ]
    queries = casebook_queries(study, subject.id)
    monitoring = casebook_monitoring(study, subject)
    for visit in visits:
        here = (visit["oid"], visit["repeat"])
        visit["queries"] = queries.by_visit.get(here, [])
        visit["signatures"] = monitoring.by_visit.get(here, [])
        for form in visit["forms"]:
            form["queries"] = queries.by_form.get((*here, form["oid"]), [])
            form["verification"] = monitoring.verification.get((*here, form["oid"]))
    references = reference_dates(study, data)
    page = page_context(
        TITLE.format(identifier=subject.identifier),
        actor=actor,
        header_left=STUDY_HEADER,
        header_right=HEADER_RIGHT.format(site=subject.site.code, identifier=subject.identifier),
        checkpoint=checkpoint,
    )
    trail = subject_trail(study, subject, entries.values(), findings)
    return {
        "page": page,
        "lang": "en",
        "study": {
            "name": study.study.name,
            "protocol": study.study.protocol,
            "description": study.study.description,
            "version": study.version,
        },
        "subject": _subject(study, subject, data, references, users),
        "signatures": monitoring.signatures,
        "verification": monitoring.summary,
        "status_history": status_history(subject),
        "eligibility": _eligibility(study, data),
        "visits": visits,
        "deviations": [v for v in visits if v["deviation"] is not None],
        "derivations": _derivations(study, numbers, visits),
        "findings": {
            "open": sum(f["open"] for f in _all_findings(visits)),
            "resolved": sum(not f["open"] for f in _all_findings(visits)),
        },
        "queries": queries.counts,
        "trail": trail,
    }


def _all_findings(visits):
    return [f for v in visits for form in v["forms"] for f in form["findings"]]


# --- reads --------------------------------------------------------------------------------


def _entries_with_removed_rows(subject: Subject) -> dict[tuple[str, int, str], FormEntry]:
    """Every form entry of the subject with all its rows, removed ones too (a casebook
    shows what was removed and why)."""
    query = (
        sa.select(FormEntry)
        .join(FormEntry.visit)
        .where(FormEntry.visit.has(subject_id=subject.id))
        .options(
            selectinload(FormEntry.rows).selectinload(ItemGroupRow.values),
            selectinload(FormEntry.visit),
            selectinload(FormEntry.definition_version),
        )
    )
    return {
        (e.visit.visit_oid, e.visit.repeat_key, e.form_oid): e
        for e in db.session.scalars(query).unique()
    }


def _findings(subject: Subject) -> dict[int, list[Finding]]:
    by_entry: dict[int, list[Finding]] = defaultdict(list)
    query = sa.select(Finding).where(Finding.subject_id == subject.id).order_by(Finding.id)
    for finding in db.session.scalars(query):
        by_entry[finding.entry_id].append(finding)
    return by_entry


def _usernames(ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(User.id, User.username).where(User.id.in_(wanted)))
    return dict(rows.all())


# --- subject ------------------------------------------------------------------------------


def _subject(study, subject: Subject, data, references, users) -> dict[str, Any]:
    consent = _value_at(study, data, study.study.consent)
    end = _value_at(study, data, study.study.end_of_study)
    return {
        "identifier": subject.identifier,
        "site_code": subject.site.code,
        "site_name": subject.site.name,
        "status": subject.status.label,
        "status_reason": subject.status_reason,
        "registered_at": subject.created_at,
        "registered_by": users.get(subject.created_by_id, "command-line operator"),
        "consent": consent,
        "end_of_study": end,
        "references": [(name, day) for name, day in references.items()],
        "subgroups": [s.label for s in study.subgroups.values() if data.in_subgroup(s.name)],
    }


def _value_at(study: LoadedStudy, data: SubjectData, ref: str | None) -> str | None:
    if not ref:
        return None
    visit_oid, form_oid, item_oid = ref.split(".")
    value = data.value(visit_oid, form_oid, item_oid)
    if value is None:
        return None
    return fields.display(study.item(form_oid, item_oid)[1], value)


def _eligibility(study: LoadedStudy, data: SubjectData) -> dict[str, Any] | None:
    if not study.study.eligibility:
        return None
    assessment = assess(study, data)
    return {
        "eligible": assessment.eligible,
        "criteria": [
            {
                "id": r.criterion.id,
                "category": r.criterion.category.capitalize(),
                "text": r.criterion.text,
                "answer": {"Y": "Yes", "N": "No"}.get(r.answer or "", r.answer or "—"),
                "computed": COMPUTED[r.computed] if r.criterion.computable else "—",
                "state": CRITERION_STATE[r.state],
                "evidence": r.evidence,
            }
            for r in assessment.results
        ],
    }


# --- visits and forms ---------------------------------------------------------------------


def _window_status(slot: VisitSlot, today: date, ended: bool) -> str:
    kind = slot.definition.kind
    if not slot.applicable:
        return "not_applicable"
    if kind is VisitKind.LOG:
        return "log"
    if slot.visit_date is None:
        if ended:
            return "ended"
        return "overdue" if slot.overdue(today) else "not_done"
    if slot.out_of_window:
        return "out_of_window"
    return "in_window" if slot.earliest is not None else "no_window"


def _visit(study, data, slot: VisitSlot, entries, findings, users, today, ended) -> dict:
    definition = slot.definition
    status = _window_status(slot, today, ended)
    forms = [
        _form(study, data, (definition.oid, slot.repeat_key, form_oid), entries, findings, users)
        for form_oid in definition.forms
    ]
    name = definition.name
    if definition.kind is VisitKind.UNSCHEDULED:
        name = f"{definition.name} #{slot.repeat_key}"
    return {
        "anchor": f"visit-{definition.oid}-{slot.repeat_key}",
        "oid": definition.oid,
        "name": name,
        "repeat": slot.repeat_key,
        "kind": definition.kind.value,
        "date": slot.visit_date,
        "due": slot.due,
        "earliest": slot.earliest,
        "latest": slot.latest,
        "window_status": WINDOW_STATUS[status],
        "window_state": status,
        "deviation": slot.record.deviation_reason if slot.out_of_window else None,
        "applicable": slot.applicable,
        "forms": forms,
        "started": any(f["status_code"] != "not_started" for f in forms),
        "queries": [],
        "signatures": [],
    }


def _form(study, data, place, entries, findings, users) -> dict:
    visit_oid, repeat, form_oid = place
    form = study.forms[form_oid]
    entry = entries.get((visit_oid, repeat, form_oid))
    entry_data = data.entry(visit_oid, repeat, form_oid)
    status = "not_started" if entry is None else entry.status.value
    result: dict[str, Any] = {
        "anchor": f"form-{visit_oid}-{repeat}-{form_oid}",
        "oid": form_oid,
        "name": form.name,
        "status": FORM_STATUS[status],
        "status_code": status,
        "groups": [],
        "findings": [],
        # Filled by build_casebook: its queries and its source-data verification.
        "queries": [],
        "verification": None,
    }
    if entry is None:
        return result
    result |= {
        "saves": entry.version,
        "definition_version": entry.definition_version.version,
        "updated_at": entry.updated_at,
        "updated_by": users.get(entry.updated_by_id, "command-line operator"),
    }
    rows = {(r.group_oid, r.repeat_key): r for r in entry.rows}
    derived = _derived_inputs(study, data, form, entry_data, (visit_oid, repeat))
    for group in form.groups:
        if group.repeating:
            result["groups"].append(_table(study, form, group, rows, derived))
        else:
            result["groups"].append(_fields(study, form, group, rows.get((group.oid, 1)), derived))
    result["findings"] = [_finding(study, form, f) for f in findings.get(entry.id, [])]
    return result


def _derived_inputs(study, data, form: Form, entry_data: EntryData | None, visit) -> dict:
    """(group, row key, item) → (formula, [(input label, value)]) of each derived value."""
    shown: dict[tuple[str, int, str], tuple[str, list[tuple[str, str]]]] = {}
    if entry_data is None:
        return shown
    for derivation in form.derivations:
        group, _ = study.item(form.oid, derivation.target)
        for row in entry_data.group_rows(group.oid):
            inputs = gather_inputs(study, data, form, row, entry_data, derivation.inputs, visit)
            listed = [describe_input(study, form.oid, ref, v) for ref, v in inputs.items()]
            shown[(group.oid, row.repeat_key, derivation.target)] = (derivation.formula, listed)
    return shown


def _cell(study, item: Item, stored: ItemValue | None) -> dict[str, Any]:
    """One value as printed: what people read, the code behind it, its missing-data code."""
    if stored is None or (stored.value_text is None and stored.missing_code is None):
        return {"text": "", "code": None, "missing": None, "not_asked": False}
    if stored.missing_code:
        code = stored.missing_code
        missing = f"{code} — {MISSING_CODES.get(code, code)}"
        return {"text": "", "code": None, "missing": missing, "not_asked": False}
    value = fields.load(item, stored.value_text)
    codelist = study.codelist_for(item)
    # a value with several units prints as entered, with its unit ("1.13 mg/dL")
    text = fields.display(item, value, codelist, unit=stored.unit)
    if item.units:  # the unit has its own column
        text = fields.store(item, value).text or ""
    code = stored.value_text if codelist is not None and text != stored.value_text else None
    return {"text": text, "code": code, "missing": None, "not_asked": False}


def _typed(study, form: Form, row: ItemGroupRow | None) -> dict[str, Any]:
    if row is None:
        return {}
    values = {}
    for stored in row.values:
        if study.has_item(form.oid, stored.item_oid) and stored.value_text is not None:
            item = study.item(form.oid, stored.item_oid)[1]
            typed = fields.load(item, stored.value_text)
            values[stored.item_oid] = units.to_standard(
                item, typed, stored.unit if item.multi_unit else None
            )
    return values


def _fields(study, form: Form, group: ItemGroup, row: ItemGroupRow | None, derived) -> dict:
    stored = {v.item_oid: v for v in row.values} if row is not None else {}
    typed = _typed(study, form, row)
    items = []
    for item in group.items:
        cell = _cell(study, item, stored.get(item.oid))
        asked = item.shown_when is None or holds(item.shown_when, typed)
        if not asked and not cell["text"] and not cell["missing"]:
            cell["text"] = NOT_ASKED
            cell["not_asked"] = True
        _, inputs = derived.get((group.oid, 1, item.oid), (None, []))
        if not cell["text"] or cell.get("not_asked"):
            inputs = []  # nothing was computed: the formula says what would be
        elif len(inputs) > MAX_INPUTS_LISTED:
            inputs = [(MANY_INPUTS.format(count=len(inputs)), "")]
        items.append(
            {
                "oid": item.oid,
                "label": item.label,
                "units": item.units or "",
                "derived": item.derived,
                **cell,
                "derivation": derivation_numbers(study).get((form.oid, item.oid)),
                "inputs": inputs,
            }
        )
    return {"oid": group.oid, "label": group.label, "repeating": False, "fields": items}


def _table(study, form: Form, group: ItemGroup, rows, derived) -> dict:
    group_rows = sorted(
        (r for (g, _), r in rows.items() if g == group.oid), key=lambda r: r.repeat_key
    )
    numbers = derivation_numbers(study)
    columns = [
        {
            "oid": i.oid,
            "label": i.label,
            "units": i.units or "",
            "derived": i.derived,
            "derivation": numbers.get((form.oid, i.oid)),
        }
        for i in group.items
    ]
    printed = []
    for row in group_rows:
        stored = {v.item_oid: v for v in row.values}
        printed.append(
            {
                "key": row.repeat_key,
                "removed": row.removed,
                "removed_reason": row.removed_reason,
                "cells": [_cell(study, item, stored.get(item.oid)) for item in group.items],
            }
        )
    chunks = [list(range(min(COLUMNS_PER_TABLE, len(columns))))]
    width = COLUMNS_PER_TABLE - 1
    for start in range(COLUMNS_PER_TABLE, len(columns), width):
        chunks.append([0, *range(start, min(start + width, len(columns)))])
    return {
        "oid": group.oid,
        "label": group.label,
        "repeating": True,
        "columns": columns,
        "chunks": chunks,
        "rows": printed,
    }


def _finding(study, form: Form, finding: Finding) -> dict[str, Any]:
    label = finding.item_oid
    if study.has_item(form.oid, finding.item_oid):
        label = study.item(form.oid, finding.item_oid)[1].label
    group = study.group(form.oid, finding.group_oid)
    return {
        "check": finding.check_name,
        "item": label,
        "row": finding.repeat_key if group is not None and group.repeating else None,
        "severity": finding.severity,
        "message": finding.message,
        "open": finding.status is FindingStatus.OPEN,
        "opened_at": finding.opened_at,
        "resolved_at": finding.resolved_at,
    }
