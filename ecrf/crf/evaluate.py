"""Run a form's derivations and edit checks over a subject's data (no database writes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecrf.crf.rule_failures import rule_failed
from ecrf.records.data import EntryData, RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.rule_graph import Scope
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


def gather_inputs(
    study: LoadedStudy,
    data: SubjectData,
    form: Form,
    row: RowData,
    entry: EntryData,
    refs,
    visit: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """The typed value of each reference, read where it points from ``row`` of ``entry``
    (at ``visit``, the entry's visit OID and repeat key, for "FORM.ITEM" references)."""
    inputs: dict[str, Any] = {}
    for ref in refs:
        resolved = study.resolve(form.oid, ref)
        if resolved.local and resolved.group is not None:
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
    study: LoadedStudy, data: SubjectData, scope: Scope | None = None
) -> dict[tuple, Any]:
    """Recompute the derived items in ``scope`` (default: every one of every entry), in place
    in ``data``.

    Returns {(visit_oid, visit_repeat, form_oid, group_oid, row_key, item_oid): value}.
    """
    results: dict[tuple, Any] = {}
    for _ in range(MAX_PASSES):
        changed = False
        for (visit_oid, visit_key, form_oid), entry in data.entries.items():
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
                        study, data, form, row, entry, derivation.inputs, (visit_oid, visit_key)
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


def run_checks(study: LoadedStudy, data: SubjectData, scope: Scope | None = None) -> list[Found]:
    """Every finding the edit checks in ``scope`` (default: all) raise on the subject's
    current data."""
    found: list[Found] = []
    for (visit_oid, visit_key, form_oid), entry in data.entries.items():
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
                    study, data, form, row, entry, check.inputs, (visit_oid, visit_key)
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
