"""Run a form's derivations and edit checks over a subject's data (no database writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ecrf.db import utcnow
from ecrf.records.data import EntryData, RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.lookups import BaselineSample, baseline_fixed, baseline_sample, latest_value
from ecrf.records.rule_failures import rule_failed
from ecrf.records.rule_graph import Scope
from ecrf.study.schedule import reference_dates, visit_window
from forms.language import Form, Severity

#: Derivations feeding derivations settle within this many passes (chains are short).
MAX_PASSES = 5


@dataclass(frozen=True)
class FindingKey:
    visit_oid: str
    repeat_key: int  # of the visit
    form_oid: str
    group_oid: str
    row_key: int
    item_oid: str
    check: str


@dataclass(frozen=True)
class Found:
    key: FindingKey
    severity: Severity
    message: str


class RuleContext:
    """The context of the entries a run of rules reads ("@VISIT_DATE", "@D0", "@TODAY"...:
    ``forms.language.CONTEXT``), the reference dates computed once, when first read."""

    def __init__(self, study: LoadedStudy, data: SubjectData, today: date | None = None) -> None:
        self.study = study
        self.data = data
        self.today = today or utcnow().date()
        self._references: dict[str, date | None] | None = None
        self._baselines: dict[tuple[str, str], BaselineSample | None] = {}

    def baseline(self, form_oid: str, analyte: str) -> BaselineSample | None:
        """The baseline sample of ``analyte`` in ``form_oid`` (``baseline_sample``), found
        once for the run when no derived value can move it (a lab form's rules ask for each
        analyte's several times)."""
        key = (form_oid, analyte)
        if key in self._baselines:
            return self._baselines[key]
        sample = baseline_sample(self.study, self.data, form_oid, analyte)
        if baseline_fixed(self.study, form_oid, analyte):
            self._baselines[key] = sample
        return sample

    def value(self, name: str, visit: tuple[str, int] | None) -> date | None:
        """The date ``name`` stands for at ``visit`` (visit OID, repeat key)."""
        if name == "TODAY":
            return self.today
        if name == "VISIT_DATE":
            record = self.data.visits.get(visit) if visit else None
            return record.visit_date if record else None
        if self._references is None:
            self._references = reference_dates(self.study, self.data)
        if name in ("WINDOW_START", "WINDOW_END"):
            definition = self.study.visits.get(visit[0]) if visit else None
            window = visit_window(definition, self._references) if definition else None
            return None if window is None else window[1 if name == "WINDOW_START" else 2]
        return self._references.get(name)


def gather_inputs(
    study: LoadedStudy,
    data: SubjectData,
    form: Form,
    row: RowData,
    entry: EntryData,
    refs,
    visit: tuple[str, int] | None = None,
    context: RuleContext | None = None,
) -> dict[str, Any]:
    """The typed value of each reference, read where it points from ``row`` of ``entry``
    (at ``visit``, the entry's visit OID and repeat key, for "FORM.ITEM" references and
    the visit context, read from ``context``: default, as of today)."""
    inputs: dict[str, Any] = {}
    for ref in refs:
        resolved = study.resolve(form.oid, ref)
        if resolved.lookup == "BASELINE":
            context = context or RuleContext(study, data)
            sample = context.baseline(form.oid, resolved.analyte)
            inputs[ref] = sample.row.values.get(resolved.item) if sample else None
        elif resolved.lookup == "LATEST":
            inputs[ref] = latest_value(study, data, visit, resolved.form, resolved.item)
        elif resolved.context is not None:
            context = context or RuleContext(study, data)
            inputs[ref] = context.value(resolved.context, visit)
        elif resolved.local and resolved.group is not None:
            inputs[ref] = [dict(r.values) for r in entry.group_rows(resolved.group)]
        elif resolved.local:
            group, _ = study.item(form.oid, ref)
            source = row if group.oid == row.group_oid else entry.rows.get((group.oid, 1))
            inputs[ref] = source.values.get(ref) if source else None
        elif resolved.same_visit:
            other = data.entry(*visit, resolved.form) if visit is not None else None
            group, _ = study.item(resolved.form, resolved.item)
            source = other.rows.get((group.oid, 1)) if other is not None else None
            inputs[ref] = source.values.get(resolved.item) if source else None
        elif resolved.group is not None:
            inputs[ref] = data.rows(resolved.visit, resolved.form, resolved.group)
        else:
            inputs[ref] = data.value(resolved.visit, resolved.form, resolved.item)
    return inputs


def _target_rows(study: LoadedStudy, form: Form, entry: EntryData, target: str) -> list[RowData]:
    group, _ = study.item(form.oid, target)
    if group.repeating:
        return entry.group_rows(group.oid)
    return [entry.single(group.oid)]


def run_derivations(
    study: LoadedStudy, data: SubjectData, scope: Scope | None = None, today: date | None = None
) -> dict[tuple, Any]:
    """Recompute the derived items in ``scope`` (default: every one of every entry), in place
    in ``data``; ``today`` is the day of the save (default: the UTC date).

    Returns {(visit_oid, visit_repeat, form_oid, group_oid, row_key, item_oid): value}.
    """
    results: dict[tuple, Any] = {}
    context = RuleContext(study, data, today)
    # The entries with a derivation to run (a save's scope names few of dozens).
    reached = None if scope is None else {entry for entry, _ in scope.derivations}
    for _ in range(MAX_PASSES):
        changed = False
        for (visit_oid, visit_key, form_oid), entry in data.entries.items():
            if reached is not None and (visit_oid, visit_key, form_oid) not in reached:
                continue
            form = study.forms.get(form_oid)
            if form is None:
                continue
            for derivation in form.derivations:
                if (
                    scope is not None
                    and (
                        (visit_oid, visit_key, form_oid),
                        derivation.target,
                    )
                    not in scope.derivations
                ):
                    continue
                for row in _target_rows(study, form, entry, derivation.target):
                    inputs = gather_inputs(
                        study,
                        data,
                        form,
                        row,
                        entry,
                        derivation.inputs,
                        (visit_oid, visit_key),
                        context,
                    )
                    try:
                        value = derivation.function(inputs)
                    except Exception as exc:  # a definition bug: see rule_failed
                        rule_failed(
                            "derivation",
                            derivation.target,
                            data,
                            (visit_oid, visit_key, form_oid),
                            row,
                            inputs,
                            exc,
                        )
                        value = None
                    key = (
                        visit_oid,
                        visit_key,
                        form_oid,
                        row.group_oid,
                        row.repeat_key,
                        derivation.target,
                    )
                    if row.values.get(derivation.target) != value:
                        row.values[derivation.target] = value
                        changed = True
                    results[key] = value
        if not changed:
            break
    return results


def run_checks(
    study: LoadedStudy, data: SubjectData, scope: Scope | None = None, today: date | None = None
) -> list[Found]:
    """Every finding the edit checks in ``scope`` (default: all) raise on the subject's
    current data; ``today`` is the day of the save (default: the UTC date)."""
    found: list[Found] = []
    context = RuleContext(study, data, today)
    reached = None if scope is None else {entry for entry, _ in scope.checks}
    for (visit_oid, visit_key, form_oid), entry in data.entries.items():
        if reached is not None and (visit_oid, visit_key, form_oid) not in reached:
            continue
        form = study.forms.get(form_oid)
        if form is None:
            continue
        for check in form.checks:
            if scope is not None and ((visit_oid, visit_key, form_oid), check.name) not in (
                scope.checks
            ):
                continue
            for row in _target_rows(study, form, entry, check.target):
                if not row.values and row.row is None:
                    continue
                inputs = gather_inputs(
                    study, data, form, row, entry, check.inputs, (visit_oid, visit_key), context
                )
                try:
                    message = check.function(inputs)
                except Exception as exc:  # a definition bug: see rule_failed
                    rule_failed(
                        "edit check",
                        check.name,
                        data,
                        (visit_oid, visit_key, form_oid),
                        row,
                        inputs,
                        exc,
                    )
                    continue
                if message:
                    key = FindingKey(
                        visit_oid,
                        visit_key,
                        form_oid,
                        row.group_oid,
                        row.repeat_key,
                        check.target,
                        check.name,
                    )
                    found.append(Found(key, check.severity, message))
    return found
