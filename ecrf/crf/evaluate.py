"""Run a form's derivations and edit checks over a subject's data (no database writes)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ecrf.records.data import EntryData, RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.rule_graph import Scope
from forms.language import Form, Severity

log = logging.getLogger(__name__)

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


# --- rules that raise ------------------------------------------------------------------------

#: Characters of the inputs' repr kept in a log line or an error (a repeating group can be long).
INPUTS_REPR_LIMIT = 2000


class RuleFailed(RuntimeError):
    """A derivation or an edit check raised (``STRICT_RULES`` on): a bug of the definition.

    Names where: the subject, the visit, the form, the row, the rule and its inputs; the
    exception the rule raised is the ``__cause__``.
    """

    def __init__(
        self,
        kind: str,
        rule: str,
        subject: str | None,
        visit: tuple[str, int, str],
        row: tuple[str, int],
        inputs: str,
        error: BaseException,
    ) -> None:
        self.kind, self.rule, self.subject = kind, rule, subject
        self.visit_oid, self.visit_repeat, self.form_oid = visit
        self.group_oid, self.row_key = row
        self.inputs = inputs
        super().__init__(
            f"{kind} {rule} raised {type(error).__name__}: {error} (subject {subject},"
            f" visit {self.visit_oid}[{self.visit_repeat}], form {self.form_oid},"
            f" row {self.group_oid}[{self.row_key}]; inputs {inputs})"
        )


def strict_rules() -> bool:
    """``STRICT_RULES`` of the running app (off outside an app context)."""
    from flask import current_app, has_app_context

    return has_app_context() and bool(current_app.config.get("STRICT_RULES", False))


def shortened_repr(value: Any, limit: int = INPUTS_REPR_LIMIT) -> str:
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def rule_failed(
    kind: str,
    rule: str,
    data: SubjectData,
    where: tuple[str, int, str],
    row: RowData,
    inputs: dict[str, Any],
    error: Exception,
) -> None:
    """A derivation (``kind`` "derivation", ``rule`` its target) or an edit check (``rule``
    its name) raised on ``inputs``: raise :class:`RuleFailed` in strict mode; otherwise log
    it (ERROR, with the traceback) and let the caller go on (no value, no finding), for a
    definition bug must not block data entry.

    Rules express "cannot be computed" by returning None: raising is always a bug.
    """
    subject = getattr(getattr(data, "subject", None), "identifier", None)
    failure = RuleFailed(
        kind, rule, subject, where, (row.group_oid, row.repeat_key), shortened_repr(inputs), error
    )
    if strict_rules():
        raise failure from error
    if _first_report(data, str(failure)):
        log.error("%s", failure, exc_info=error)


#: The failures already logged, by the SubjectData they were found on (a WeakKeyDictionary,
#: made at first use): run_derivations() runs every rule again at each pass over the same data.
_reported: Any = None


def _first_report(data: SubjectData, text: str) -> bool:
    global _reported
    if _reported is None:
        import weakref  # local, like flask's in strict_rules(): the module's head is unchanged

        _reported = weakref.WeakKeyDictionary()
    seen = _reported.setdefault(data, set())
    if text in seen:
        return False
    seen.add(text)
    return True
