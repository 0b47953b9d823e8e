"""Load a study definition from forms/ and validate it; a broken one stops start-up."""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import MISSING, Field, dataclass, fields, is_dataclass
from decimal import Decimal
from enum import Enum
from functools import cached_property
from typing import Any

from flask import current_app

from ecrf.records.rule_graph import RuleGraph
from ecrf.records.units import unit_problems
from forms.language import (
    BASELINE_PREFIX,
    CONDITION_OPS,
    CONTEXT,
    LATEST_PREFIX,
    TODAY,
    YES_NO,
    AllOf,
    AnyOf,
    CodeList,
    DataType,
    Form,
    Item,
    ItemGroup,
    Study,
    Visit,
    VisitKind,
    When,
    condition_items,
)
from forms.rules import Between, Comparison, Nearness, Sameness, Uniqueness, Window

NUMERIC = frozenset({DataType.INTEGER, DataType.DECIMAL})
CODED = frozenset({DataType.CHOICE, DataType.MULTI_CHOICE})


class DefinitionError(Exception):
    """The study definition is inconsistent; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("study definition invalid:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class ResolvedRef:
    """Where an input reference points: same form, another form's item, or a group's rows."""

    text: str
    visit: str | None  # None: the visit of the entry where the reference is used
    form: str | None
    item: str | None
    group: str | None  # set for "[]" references (every row)
    local: bool  # in the entry where the reference is used ("ITEM", "GROUP[]")
    same_visit: bool = False  # another form of the same visit ("FORM.ITEM")
    #: The entry's context ("@VISIT_DATE", "@D0"...), by name: a date, not an item.
    context: str | None = None
    #: Read from another entry found by a rule: "BASELINE" (``item`` of the baseline sample
    #: of ``analyte``, in this form) or "LATEST" (``form``.``item`` at this visit or the
    #: latest dated before it).
    lookup: str | None = None
    analyte: str | None = None


class LoadedStudy:
    """A validated study definition with lookups the engine needs."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self.visits = {v.oid: v for v in study.visits}
        self.forms = {f.oid: f for f in study.forms}
        self.codelists = {c.oid: c for c in study.codelists} | {YES_NO.oid: YES_NO}
        self.references = {r.name: r for r in study.references}
        self.subgroups = {s.name: s for s in study.subgroups}
        self._items: dict[str, dict[str, tuple[ItemGroup, Item]]] = {
            f.oid: {item.oid: (group, item) for group, item in f.items()} for f in study.forms
        }
        #: (form, reference) → where it points; the definition never changes once loaded.
        self._resolved: dict[tuple[str, str], ResolvedRef] = {}

    @property
    def version(self) -> str:
        return self.study.version

    def item(self, form_oid: str, item_oid: str) -> tuple[ItemGroup, Item]:
        return self._items[form_oid][item_oid]

    def items_of(self, form_oid: str) -> dict[str, tuple[ItemGroup, Item]]:
        """The form's items by OID, each with its group (empty for an unknown form)."""
        return self._items.get(form_oid, {})

    def has_item(self, form_oid: str, item_oid: str) -> bool:
        return item_oid in self._items.get(form_oid, {})

    def group(self, form_oid: str, group_oid: str) -> ItemGroup | None:
        return next((g for g in self.forms[form_oid].groups if g.oid == group_oid), None)

    def codelist_for(self, item: Item) -> CodeList | None:
        if item.type is DataType.YES_NO:
            return YES_NO
        return self.codelists.get(item.codelist) if item.codelist else None

    def resolve(self, form_oid: str, ref: str) -> ResolvedRef:
        """Interpret an input reference written in ``form_oid``; KeyError when unknown."""
        resolved = self._resolved.get((form_oid, ref))
        if resolved is None:
            resolved = self._resolved[(form_oid, ref)] = self._resolve(form_oid, ref)
        return resolved

    def _resolve(self, form_oid: str, ref: str) -> ResolvedRef:
        if ref.startswith(BASELINE_PREFIX):
            return self._resolve_baseline(form_oid, ref)
        if ref.startswith(LATEST_PREFIX):
            form, _, item = ref[len(LATEST_PREFIX) :].partition(".")
            if form not in self.forms or self.item(form, item)[0].repeating:
                raise KeyError(ref)
            return ResolvedRef(ref, None, form, item, None, False, lookup="LATEST")
        if ref.startswith("@"):
            name = ref[1:]
            if name not in CONTEXT and name not in self.references:
                raise KeyError(ref)
            return ResolvedRef(ref, None, None, None, None, False, context=name)
        parts = ref.split(".")
        if len(parts) == 1 and ref.endswith("[]"):  # the rows of this entry
            group = self.group(form_oid, ref[:-2])
            if group is None or not group.repeating:
                raise KeyError(ref)
            return ResolvedRef(ref, None, form_oid, None, group.oid, True)
        if len(parts) == 1:
            self.item(form_oid, ref)
            return ResolvedRef(ref, None, form_oid, ref, None, True)
        if len(parts) == 2:  # an item of another form of the same visit
            form, item = parts
            if form == form_oid or form not in self.forms:
                raise KeyError(ref)
            group, _ = self.item(form, item)
            if group.repeating or not any(
                form_oid in v.forms and form in v.forms for v in self.study.visits
            ):
                raise KeyError(ref)
            return ResolvedRef(ref, None, form, item, None, False, same_visit=True)
        if len(parts) != 3:
            raise KeyError(ref)
        visit, form, last = parts
        if visit not in self.visits or form not in self.visits[visit].forms:
            raise KeyError(ref)
        if last.endswith("[]"):
            group = self.group(form, last[:-2])
            if group is None or not group.repeating:
                raise KeyError(ref)
            return ResolvedRef(ref, visit, form, None, group.oid, False)
        group, _ = self.item(form, last)
        if group.repeating:
            raise KeyError(ref)
        return ResolvedRef(ref, visit, form, last, None, False)

    def _resolve_baseline(self, form_oid: str, ref: str) -> ResolvedRef:
        """ "@BASELINE.ANALYTE[.ITEM]": both items of this form, outside repeating groups,
        in a form that declares its baseline."""
        analyte, _, item = ref[len(BASELINE_PREFIX) :].partition(".")
        item = item or analyte
        if self.forms[form_oid].baseline is None:
            raise KeyError(ref)
        for oid in (analyte, item):
            if self.item(form_oid, oid)[0].repeating:
                raise KeyError(ref)
        return ResolvedRef(
            ref, None, form_oid, item, None, False, lookup="BASELINE", analyte=analyte
        )

    @cached_property
    def rules(self) -> RuleGraph:
        """Which derivation and check reads which item (``ecrf.records.rule_graph``)."""
        return RuleGraph(self.study, self.resolve)

    @cached_property
    def digest(self) -> str:
        """Fingerprint of the definition: the same version must always mean the same content."""
        encoded = json.dumps(_canonical(self.study), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(encoded.encode()).hexdigest()

    def visits_in_order(self) -> list[Visit]:
        return list(self.study.visits)


def _canonical(value: Any) -> Any:
    # Fields left at their default are not written: a field the language gains later does
    # not change the fingerprint of definitions that do not use it.
    if is_dataclass(value):
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in fields(value)
            if not _is_default(f, getattr(value, f.name))
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if callable(value):
        return f"{value.__module__}.{value.__qualname__}"
    return value


def _is_default(field: Field, value: Any) -> bool:
    if field.default is not MISSING:
        return value == field.default
    if field.default_factory is not MISSING:
        return value == field.default_factory()
    return False


def current_study() -> LoadedStudy:
    """The study definition the running application was started with."""
    return current_app.extensions["ecrf_study"]


def import_study(path: str) -> Study:
    """Import ``module:attribute`` (e.g. ``forms.iahprrt:STUDY``)."""
    module_name, _, attribute = path.partition(":")
    study = getattr(importlib.import_module(module_name), attribute or "STUDY")
    if not isinstance(study, Study):
        raise DefinitionError([f"{path} is not a forms.language.Study"])
    return study


def load_study(study: Study) -> LoadedStudy:
    """Validate ``study``; raise :class:`DefinitionError` naming every problem."""
    problems: list[str] = []
    if not study.version.strip():
        problems.append("the study has no version")
    _duplicates(problems, "visit", [v.oid for v in study.visits])
    _duplicates(problems, "form", [f.oid for f in study.forms])
    _duplicates(problems, "code list", [c.oid for c in study.codelists])
    loaded = LoadedStudy(study)
    for form in study.forms:
        _check_form(problems, loaded, form)
    _check_schedule(problems, loaded)
    if not problems:  # the graph needs every input resolved
        for cycle in loaded.rules.cycles():
            problems.append(f"derivations feed each other in a cycle: {' → '.join(cycle)}")
    if problems:
        raise DefinitionError(problems)
    return loaded


def _check_summary(problems: list[str], where: str, group: ItemGroup) -> None:
    """The summary line of a log's rows names items of its own, repeating, group."""
    if not group.summary:
        return
    if not group.repeating:
        problems.append(f"{where}: only a repeating group has a summary line per row")
    own = {item.oid for item in group.items}
    for oid, heading in group.summary:
        if oid not in own:
            problems.append(f"{where}: the summary names {oid}, not an item of the group")
        if not heading.strip():
            problems.append(f"{where}: the summary column of {oid} has no heading")
    _duplicates(problems, "summary item", [oid for oid, _ in group.summary], where)


def _duplicates(problems: list[str], what: str, oids: list[str], where: str = "") -> None:
    seen: set[str] = set()
    for oid in oids:
        if oid in seen:
            problems.append(f"duplicate {what} OID {oid}" + (f" in {where}" if where else ""))
        seen.add(oid)


def _check_form(problems: list[str], loaded: LoadedStudy, form: Form) -> None:
    where = f"form {form.oid}"
    _duplicates(problems, "item group", [g.oid for g in form.groups], where)
    _duplicates(problems, "item", [i.oid for _, i in form.items()], where)
    for group, item in form.items():
        _check_item(problems, loaded, form, group, item)
    for group in form.groups:
        _check_summary(problems, f"{where}, group {group.oid}", group)
        _check_analytes(problems, where, group)
        _check_options_by(problems, loaded, f"{where}, group {group.oid}", group)
    if form.baseline is not None:
        _check_baseline(problems, loaded, form)
    derived_targets = set()
    for derivation in form.derivations:
        label = f"{where}, derivation of {derivation.target}"
        if not loaded.has_item(form.oid, derivation.target):
            problems.append(f"{label}: unknown target item")
        elif not loaded.item(form.oid, derivation.target)[1].derived:
            problems.append(f"{label}: target item is not marked derived=True")
        if derivation.target in derived_targets:
            problems.append(f"{label}: item derived twice")
        derived_targets.add(derivation.target)
        _check_inputs(problems, loaded, form, label, derivation.target, derivation.inputs)
        if TODAY in derivation.inputs:
            problems.append(f"{label}: a derived value cannot depend on the day it is computed")
    for _, item in form.items():
        if item.derived and item.oid not in derived_targets:
            problems.append(f"{where}, item {item.oid}: derived=True but no derivation computes it")
    names = [c.name for c in form.checks]
    _duplicates(problems, "check", names, where)
    for check in form.checks:
        label = f"{where}, check {check.name}"
        if not loaded.has_item(form.oid, check.target):
            problems.append(f"{label}: unknown target item {check.target}")
            continue
        _check_inputs(problems, loaded, form, label, check.target, check.inputs)
        _check_declared(problems, loaded, form, label, check)


def _check_options_by(problems: list[str], loaded: LoadedStudy, where: str, group) -> None:
    """A choice whose codes depend on another item names a choice of its own row, and its
    table speaks of codes both lists have."""
    for item in group.items:
        if item.options_by is None:
            continue
        label = f"{where}, item {item.oid}: options_by {item.options_by.item}"
        by = next((i for i in group.items if i.oid == item.options_by.item), None)
        mine, theirs = loaded.codelist_for(item), by and loaded.codelist_for(by)
        if by is None or mine is None or theirs is None:
            problems.append(f"{label}: both items must be choices of the same group")
            continue
        codes, keys = {c for c, _ in mine.codes}, {c for c, _ in theirs.codes}
        for key, allowed in item.options_by.table().items():
            if key not in keys or not set(allowed) <= codes:
                problems.append(f"{label}: {key} → {allowed} is not in the code lists")
                break


def _check_analytes(problems: list[str], where: str, group) -> None:
    """An analyte row names items of its group, each in one row only; never in a
    repeating group (whose rows are already a table)."""
    if not group.analytes:
        return
    if group.repeating:
        problems.append(f"{where}, group {group.oid}: a repeating group has no analyte rows")
    oids = {item.oid for item in group.items}
    placed: set[str] = set()
    for row in group.analytes:
        for oid in row.items:
            if oid not in oids:
                problems.append(f"{where}, analyte row {row.value}: unknown item {oid}")
            elif oid in placed:
                problems.append(f"{where}, analyte row {row.value}: {oid} is in another row")
            placed.add(oid)


def _check_baseline(problems: list[str], loaded: LoadedStudy, form: Form) -> None:
    """The baseline is dated by a date item of the form and by existing visits or items."""
    baseline, label = form.baseline, f"form {form.oid}, baseline {form.baseline.name}"
    if not loaded.has_item(form.oid, baseline.dated_by):
        problems.append(f"{label}: unknown date item {baseline.dated_by}")
    elif loaded.item(form.oid, baseline.dated_by)[1].type is not DataType.DATE:
        problems.append(f"{label}: {baseline.dated_by} is not a date")
    if not baseline.before:
        problems.append(f"{label}: no event dates it")
    for source in baseline.before:
        if source.startswith("visit:"):
            if source[6:] not in loaded.visits:
                problems.append(f"{label}: unknown visit {source[6:]}")
            continue
        try:
            _resolve_absolute(loaded, source)
        except KeyError:
            problems.append(f"{label}: unknown source {source}")


#: Types a declared comparison may set side by side.
COMPARABLE = (
    {DataType.DATE, DataType.PARTIAL_DATE},
    {DataType.INTEGER, DataType.DECIMAL},
    {DataType.TIME},
    {DataType.TEXT},
    {DataType.CHOICE, DataType.YES_NO},
)


def _check_declared(problems, loaded: LoadedStudy, form: Form, label: str, check) -> None:
    """A comparison sets two items of comparable types side by side (an order: not texts
    nor choices); a uniqueness reads an item and rows."""
    rule = check.function
    if isinstance(rule, Window):
        for ref in (rule.item, rule.of):
            kind = _value_type(problems, loaded, form, label, ref)
            if kind is not None and kind not in (DataType.DATE, DataType.PARTIAL_DATE):
                problems.append(f"{label}: {ref} ({kind.value}) is not a date")
    elif isinstance(rule, Comparison):
        _check_comparable(problems, loaded, form, label, rule.left, rule.op, rule.right)
    elif isinstance(rule, Between):  # the item and each bound, as by "<="
        _check_comparable(problems, loaded, form, label, rule.low, "<=", rule.item)
        _check_comparable(problems, loaded, form, label, rule.item, "<=", rule.high)
    elif isinstance(rule, Sameness):
        _check_comparable(problems, loaded, form, label, rule.item, "==", rule.of)
    elif isinstance(rule, Nearness):
        for ref in (rule.item, rule.of):
            kind = _value_type(problems, loaded, form, label, ref)
            if kind is not None and kind not in (DataType.INTEGER, DataType.DECIMAL):
                problems.append(f"{label}: {ref} ({kind.value}) is not a number")
    elif isinstance(rule, Uniqueness):
        for ref in (rule.among, rule.elsewhere):
            if ref is not None and not ref.endswith("[]"):
                problems.append(f"{label}: {ref} must name rows (GROUP[] or VISIT.FORM.GROUP[])")


def _check_comparable(problems, loaded, form: Form, label: str, left, op, right) -> None:
    """Two values of comparable types (an order: not texts nor choices)."""
    types = []
    for ref in (left, right):
        kind = _value_type(problems, loaded, form, label, ref)
        if kind is None:
            return
        types.append(kind)
    ordered = op != "=="
    if not any(set(types) <= kinds for kinds in COMPARABLE) or (
        ordered and types[0] in (DataType.TEXT, DataType.CHOICE, DataType.YES_NO)
    ):
        problems.append(
            f"{label}: cannot compare {left} ({types[0].value}) {op} {right} ({types[1].value})"
        )


def _value_type(problems, loaded: LoadedStudy, form: Form, label: str, ref: str):
    """The type of the value ``ref`` gives a declared rule (context: a date), or None when
    it gives none (an unknown input, reported with the inputs; rows: reported here)."""
    try:
        resolved = loaded.resolve(form.oid, ref)
    except KeyError:
        return None
    if resolved.context is not None:
        return DataType.DATE
    if resolved.item is None:
        problems.append(f"{label}: {ref} is rows, not an item to compare")
        return None
    return loaded.item(resolved.form, resolved.item)[1].type


#: Context that only the entries of a dated visit have, and only of a scheduled one.
DATED_CONTEXT = frozenset({"VISIT_DATE", "WINDOW_START", "WINDOW_END"})
WINDOW_CONTEXT = frozenset({"WINDOW_START", "WINDOW_END"})


def _check_context(problems, loaded: LoadedStudy, form: Form, label: str, name: str) -> None:
    """The visit context a form reads exists at every visit the form belongs to."""
    for visit in loaded.study.visits:
        if form.oid not in visit.forms:
            continue
        if name in DATED_CONTEXT and visit.kind is VisitKind.LOG:
            problems.append(f"{label}: @{name} is read in the log {visit.oid}, which has no date")
        elif name in WINDOW_CONTEXT and visit.kind is not VisitKind.SCHEDULED:
            problems.append(f"{label}: @{name} is read at {visit.oid}, which has no window")


def _check_inputs(problems, loaded, form, label, target, inputs) -> None:
    target_group = loaded.item(form.oid, target)[0] if loaded.has_item(form.oid, target) else None
    for ref in inputs:
        try:
            resolved = loaded.resolve(form.oid, ref)
        except KeyError:
            problems.append(f"{label}: unknown input {ref}")
            continue
        if resolved.context is not None:
            _check_context(problems, loaded, form, label, resolved.context)
            continue
        if resolved.local and resolved.item is not None and target_group is not None:
            group = loaded.item(form.oid, ref)[0]
            if group.repeating and group is not target_group:
                problems.append(f"{label}: input {ref} is in another repeating group")


def _check_item(problems, loaded: LoadedStudy, form: Form, group: ItemGroup, item: Item) -> None:
    where = f"form {form.oid}, item {item.oid}"
    if not item.oid.replace("_", "").isalnum() or not item.oid.isupper():
        problems.append(f"{where}: OIDs are upper-case letters, digits and '_'")
    if item.type in CODED:
        if not item.codelist:
            problems.append(f"{where}: a {item.type} item needs a code list")
        elif item.codelist not in loaded.codelists:
            problems.append(f"{where}: unknown code list {item.codelist}")
    elif item.codelist:
        problems.append(f"{where}: only choice items take a code list")
    for name in ("hard", "soft"):
        bounds = getattr(item, name)
        if bounds is None:
            continue
        if item.type not in NUMERIC:
            problems.append(f"{where}: {name} range on a non-numeric item")
        elif bounds.low is not None and bounds.high is not None and bounds.low > bounds.high:
            problems.append(f"{where}: {name} range low {bounds.low} > high {bounds.high}")
    if item.hard and item.soft:
        low_out = (
            item.soft.low is not None
            and item.hard.low is not None
            and item.soft.low < item.hard.low
        )
        high_out = (
            item.soft.high is not None
            and item.hard.high is not None
            and item.soft.high > item.hard.high
        )
        if low_out or high_out:
            problems.append(f"{where}: soft range reaches outside the hard range")
    if item.precision is not None and item.type is not DataType.DECIMAL:
        problems.append(f"{where}: precision applies to decimal items only")
    problems += [f"{where}: {problem}" for problem in unit_problems(group, item)]
    if item.timing is not None and item.type not in (DataType.DATE, DataType.PARTIAL_DATE):
        problems.append(f"{where}: timing applies to date items only")
    if item.derived and (item.required or item.required_when):
        problems.append(f"{where}: a derived item cannot be required")
    for name in ("shown_when", "required_when"):
        condition = getattr(item, name)
        if condition is None:
            continue
        for ref in condition_items(condition):
            if not loaded.has_item(form.oid, ref):
                problems.append(f"{where}: {name} refers to unknown item {ref}")
            else:
                other_group = loaded.item(form.oid, ref)[0]
                if other_group.repeating and other_group is not group:
                    problems.append(f"{where}: {name} refers to {ref} in another repeating group")
        _check_condition_ops(problems, where, condition)
        _check_condition_values(problems, loaded, form, where, condition)


#: The Python type a condition's value has for each type of item (codes are text).
CONDITION_VALUE_TYPES = {
    DataType.TEXT: (str,),
    DataType.CHOICE: (str,),
    DataType.MULTI_CHOICE: (str,),
    DataType.YES_NO: (str,),
    DataType.INTEGER: (int,),
    DataType.DECIMAL: (int, Decimal),
}


def _check_condition_values(problems, loaded: LoadedStudy, form: Form, where, condition) -> None:
    """A condition's value has the type of its item's values, so that the page and the
    server compare alike (a code as text, a number as a number)."""
    if isinstance(condition, (AllOf, AnyOf)):
        for c in condition.conditions:
            _check_condition_values(problems, loaded, form, where, c)
        return
    if condition.op in ("filled", "empty") or not loaded.has_item(form.oid, condition.item):
        return
    item = loaded.item(form.oid, condition.item)[1]
    if item.multi_unit:  # the page would compare the number typed, in whichever unit
        problems.append(
            f"{where}: a condition on {condition.item} (several units) can only be filled or empty"
        )
        return
    allowed = CONDITION_VALUE_TYPES.get(item.type)
    values = condition.value if condition.op == "in" else (condition.value,)
    if allowed is None or not isinstance(values, (tuple, list)):
        problems.append(f"{where}: a condition on {condition.item} cannot use {condition.op!r}")
        return
    if any(isinstance(v, bool) or not isinstance(v, allowed) for v in values):
        problems.append(
            f"{where}: the condition on {condition.item} ({item.type.value}) compares it with "
            f"{condition.value!r}"
        )


def _check_condition_ops(problems, where, condition) -> None:
    if isinstance(condition, When):
        if condition.op not in CONDITION_OPS:
            problems.append(f"{where}: unknown condition operator {condition.op!r}")
    elif isinstance(condition, (AllOf, AnyOf)):
        for c in condition.conditions:
            _check_condition_ops(problems, where, c)


def _check_schedule(problems: list[str], loaded: LoadedStudy) -> None:
    study = loaded.study
    for visit in study.visits:
        where = f"visit {visit.oid}"
        for form_oid in visit.forms:
            if form_oid not in loaded.forms:
                problems.append(f"{where}: unknown form {form_oid}")
        if len(set(visit.forms)) != len(visit.forms):
            problems.append(f"{where}: a form is listed twice")
        if visit.kind is VisitKind.SCHEDULED:
            if visit.reference is None:
                problems.append(f"{where}: a scheduled visit needs a reference event")
            elif visit.reference not in loaded.references:
                problems.append(f"{where}: unknown reference event {visit.reference}")
            low, high = visit.window
            if not low <= visit.offset_days <= high:
                problems.append(f"{where}: target day {visit.offset_days} outside its window")
        if visit.subgroup is not None and visit.subgroup not in loaded.subgroups:
            problems.append(f"{where}: unknown sub-group {visit.subgroup}")
    for reference in study.references:
        where = f"reference {reference.name}"
        if reference.name in CONTEXT:
            problems.append(f"{where}: the name is taken by the visit context (@{reference.name})")
        for source in reference.sources:
            if source.startswith("visit:"):
                if source[6:] not in loaded.visits:
                    problems.append(f"{where}: unknown visit {source[6:]}")
                continue
            try:
                resolved = _resolve_absolute(loaded, source)
            except KeyError:
                problems.append(f"{where}: unknown source {source}")
                continue
            item = loaded.item(resolved.form, resolved.item)[1]
            if item.type is not DataType.DATE:
                problems.append(f"{where}: source {source} is not a date item")
        if reference.offset_from and reference.offset_from[0] not in loaded.references:
            problems.append(f"{where}: unknown reference {reference.offset_from[0]}")
    if (ref := study.end_of_study) is not None:  # the consent is checked with the gates
        try:
            resolved = _resolve_absolute(loaded, ref)
        except KeyError:
            problems.append(f"study end_of_study: unknown item {ref}")
        else:
            if loaded.item(resolved.form, resolved.item)[1].type is not DataType.DATE:
                problems.append(f"study end_of_study: {ref} is not a date item")
    _duplicates(problems, "eligibility criterion", [c.id for c in study.eligibility])
    for criterion in study.eligibility:
        where = f"criterion {criterion.id}"
        if criterion.category not in ("INCLUSION", "EXCLUSION"):
            problems.append(f"{where}: category must be INCLUSION or EXCLUSION")
        try:
            _resolve_absolute(loaded, criterion.item)
        except KeyError:
            problems.append(f"{where}: unknown checklist item {criterion.item}")
        for ref in criterion.inputs:
            try:
                _resolve_any(loaded, ref)
            except KeyError:
                problems.append(f"{where}: unknown input {ref}")
    for subgroup in study.subgroups:
        try:
            _resolve_absolute(loaded, subgroup.item)
        except KeyError:
            problems.append(f"sub-group {subgroup.name}: unknown item {subgroup.item}")
    _check_gating(problems, loaded)
    _check_monitoring(problems, loaded)


def _check_gating(problems: list[str], loaded: LoadedStudy) -> None:
    """The consent date, the visits open before it, the end forms and the end condition."""
    study = loaded.study
    if study.consent is not None:
        try:
            resolved = _resolve_absolute(loaded, study.consent)
        except KeyError:
            problems.append(f"consent: unknown item {study.consent}")
        else:
            if loaded.item(resolved.form, resolved.item)[1].type is not DataType.DATE:
                problems.append(f"consent: {study.consent} is not a date item")
            if resolved.visit not in study.before_consent:
                problems.append(f"consent: visit {resolved.visit} must be open before consent")
    for visit_oid in study.before_consent:
        if visit_oid not in loaded.visits:
            problems.append(f"before consent: unknown visit {visit_oid}")
    for ref in study.end_forms:
        visit_oid, _, form_oid = ref.partition(".")
        visit = loaded.visits.get(visit_oid)
        if visit is None or form_oid not in visit.forms:
            problems.append(f"end forms: unknown form {ref}")
    for form_oid in study.critical_forms:
        if form_oid not in loaded.forms:
            problems.append(f"critical forms: unknown form {form_oid}")
    percent = study.sdv_sample_percent
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        problems.append(
            f"source verification: sdv_sample_percent must be a whole number from 0 to 100,"
            f" not {percent!r}"
        )
    if study.ended_when is not None:
        _check_condition_ops(problems, "ended when", study.ended_when)
        for ref in condition_items(study.ended_when):
            try:
                _resolve_absolute(loaded, ref)
            except KeyError:
                problems.append(f"ended when: unknown item {ref}")


def _check_monitoring(problems: list[str], loaded: LoadedStudy) -> None:
    """The enrolment target and the reporting of serious adverse events."""
    study = loaded.study
    target = study.enrolment_target
    if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
        problems.append("enrolment target: a whole number of subjects")
    elif target is not None and target < 1:
        problems.append("enrolment target: at least 1 subject")
    reporting = study.serious_events
    if reporting is None:
        return
    where = "serious events"
    if isinstance(reporting.hours, bool) or not isinstance(reporting.hours, int):
        problems.append(f"{where}: hours must be a whole number")
    elif reporting.hours < 1:
        problems.append(f"{where}: hours must be at least 1")
    for rows, items in (
        (reporting.events, (reporting.serious, reporting.number)),
        (reporting.reports, (reporting.report_number,)),
    ):
        try:
            resolved = _resolve_any(loaded, rows)
        except KeyError:
            resolved = None
        if resolved is None or resolved.group is None:
            problems.append(f"{where}: {rows} is not the rows of a repeating group")
            continue
        for item_oid in items:
            if (
                not loaded.has_item(resolved.form, item_oid)
                or loaded.item(resolved.form, item_oid)[0].oid != resolved.group
            ):
                problems.append(f"{where}: unknown item {item_oid} in {rows}")


def _resolve_any(loaded: LoadedStudy, ref: str) -> ResolvedRef:
    """An absolute reference, to an item ("V.F.I") or to a group's rows ("V.F.G[]")."""
    if ref.count(".") != 2:
        raise KeyError(ref)
    _, form, _ = ref.split(".")
    if form not in loaded.forms:
        raise KeyError(ref)
    return loaded.resolve(form, ref)


def _resolve_absolute(loaded: LoadedStudy, ref: str) -> ResolvedRef:
    if ref.count(".") != 2 or ref.endswith("[]"):
        raise KeyError(ref)
    _, form, _ = ref.split(".")
    if form not in loaded.forms:
        raise KeyError(ref)
    return loaded.resolve(form, ref)
