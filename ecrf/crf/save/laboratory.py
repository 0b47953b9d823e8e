"""Step 3b, for a lab form that names its laboratory (an item annotated CDASH ``LBNAM``):
the site's laboratory registry gives the unit each value is taken in and the normal limits
of the sample (its date, the subject's sex and age); a limit that differs from the
registry's changes only with a reason.

The form's items are found by their CDISC annotations, so no trial's OIDs are named here:
results ``LB.LBORRES[TESTCD]``, limits ``LB.LBORNRLO[TESTCD]`` / ``LB.LBORNRHI[TESTCD]``,
the sample date CDASH ``LBDAT``, the subject's sex and age SDTM ``DM.SEX`` / ``DM.AGE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ecrf.crf.save.outcome import FieldIssue
from ecrf.crf.save.plan import FormSave, Planned, Submitted, ValueChange, unit_key
from ecrf.laboratories import services as registry
from ecrf.laboratories.models import StoredLaboratory
from ecrf.records.data import EntryData, SubjectData
from ecrf.records.loader import LoadedStudy
from forms.language import Form, Item, ItemGroup

_ANNOTATION = re.compile(r"^LB\.(LBORRES|LBORNRLO|LBORNRHI)(?:\[(\w+)\])?$")

#: What the site is told, in one place (a French translation will follow).
MESSAGES = {
    "choose": "Choose the laboratory that measured these values: their units and normal"
    " limits come from the site's laboratory registry.",
    "unknown": "{name} is not a laboratory of this site. Choose one of: {names}.",
    "differs": "The registry of {laboratory} gives {expected} {unit} for this sample: why is"
    " this limit different? Give the reason for the change below, or leave the limit empty"
    " to take the registry's.",
}


@dataclass(frozen=True)
class RegistryLimit:
    """A limit the registry gives for one row's item, in the unit of its value."""

    laboratory: str
    value: Decimal
    unit_label: str


#: (group OID, repeat key, item OID) → the registry's limit.
Expected = dict[tuple[str, int, str], RegistryLimit]


def apply_registry(
    save: FormSave,
    data: SubjectData,
    entry_data: EntryData,
    submitted: Submitted,
    *,
    require: bool,
) -> tuple[Submitted, list[FieldIssue], Expected]:
    """The submission with the registry's units and empty limits filled in, the issues of
    the laboratory named, and the limits the registry gives (to compare after parsing).

    :param require: the form is (or is being marked) complete: a site that declares
        laboratories must have one named.
    """
    issues: list[FieldIssue] = []
    expected: Expected = {}
    groups = [g for g in save.form.groups if _laboratory_item(g) is not None]
    if not groups:
        return submitted, issues, expected
    laboratories = registry.site_registry(save.site_id)
    sex, age = subject_sex_and_age(data)
    result = {key: dict(row) for key, row in submitted.items()}
    for group in groups:
        lab_item = _laboratory_item(group)
        keys = {k for g, k in submitted if g == group.oid}
        keys |= {r.repeat_key for r in entry_data.group_rows(group.oid)}
        for key in sorted(keys):
            existing = entry_data.rows.get((group.oid, key))
            raw = result.get((group.oid, key))
            if raw is None:
                continue  # not submitted: its values and their limits stay as they are
            name = _text(raw.get(lab_item.oid)) if lab_item.oid in raw else None
            if lab_item.oid not in raw and existing is not None:
                name = existing.values.get(lab_item.oid)
            if not name:
                coded = existing is not None and lab_item.oid in existing.missing
                if require and laboratories and not coded:
                    issues.append(FieldIssue(group.oid, key, lab_item.oid, MESSAGES["choose"]))
                continue
            if not laboratories:
                continue  # a site that declares none names its laboratory freely
            laboratory = next((lab for lab in laboratories if lab.name == name), None)
            if (
                laboratory is None
                and existing is not None
                and existing.values.get(lab_item.oid) == name
            ):
                continue  # kept as entered (the laboratory was renamed since): no registry
            if laboratory is None:
                problem = _unknown(name, laboratories)
                issues.append(FieldIssue(group.oid, key, lab_item.oid, problem))
                continue
            on = _sample_date(group, raw, existing)
            _fill_row(group, key, raw, existing, laboratory, on, sex, age, expected)
    return result, issues, expected


def limit_issues(
    expected: Expected, planned: Planned, changes: list[ValueChange], reason: str | None
) -> tuple[list[FieldIssue], bool]:
    """The limits this save changes to a value other than the registry's: an issue at each
    when no reason is given; and whether any such change needs the reason recorded."""
    issues: list[FieldIssue] = []
    differs = False
    changed = {(c.group_oid, c.row_key, c.item_oid) for c in changes}
    for (group_oid, key, item_oid), limit in expected.items():
        row = planned.get((group_oid, key))
        if row is None or (group_oid, key, item_oid) not in changed:
            continue
        entered = row.entered.get(item_oid)
        value = entered[0] if entered is not None else row.values.get(item_oid)
        if value is None or Decimal(value) == limit.value:
            continue
        differs = True
        if reason is None:
            message = MESSAGES["differs"].format(
                laboratory=limit.laboratory, expected=limit.value, unit=limit.unit_label
            )
            issues.append(FieldIssue(group_oid, key, item_oid, message.replace("  ", " ")))
    return issues, differs


def _fill_row(
    group: ItemGroup,
    key: int,
    raw: dict[str, Any],
    existing,
    laboratory: StoredLaboratory,
    on: date | None,
    sex: str | None,
    age: int | None,
    expected: Expected,
) -> None:
    """The units the laboratory reports in, taken for the row's values; its limits written
    where the row leaves them empty, and kept to compare where it gives its own."""
    annotated = [(item, *_annotation(item)) for item in group.items]
    for item, kind, testcd in annotated:
        if kind != "LBORRES":
            continue
        unit = registry.unit_for(laboratory, testcd, on)
        if unit is not None and item.multi_unit and item.unit(unit) is not None:
            raw[unit_key(item.oid)] = unit  # the laboratory's unit, whatever was chosen
        limits = registry.limits_for(laboratory, testcd, on, sex, age)
        if limits is None:
            continue
        declared = item.unit(limits.unit) if item.multi_unit else None
        label = declared.label if declared is not None else limits.unit
        for limit_item, limit_kind, limit_testcd in annotated:
            if limit_testcd != testcd or limit_kind not in ("LBORNRLO", "LBORNRHI"):
                continue
            value = limits.low if limit_kind == "LBORNRLO" else limits.high
            if value is None:
                continue
            expected[(group.oid, key, limit_item.oid)] = RegistryLimit(
                laboratory.name, value, label
            )
            typed = raw.get(limit_item.oid) if limit_item.oid in raw else None
            kept = existing is not None and (
                existing.values.get(limit_item.oid) is not None
                or limit_item.oid in existing.missing
            )
            if (limit_item.oid in raw and not _text(typed)) or (
                limit_item.oid not in raw and not kept
            ):
                raw[limit_item.oid] = format(value, "f")


def annotation(item: Item) -> tuple[str | None, str | None]:
    """("LBORRES" | "LBORNRLO" | "LBORNRHI", LBTESTCD) of a lab item, else (None, None)."""
    return _annotation(item)


def laboratory_item(group: ItemGroup) -> Item | None:
    """The group's item naming the laboratory (CDASH LBNAM), if any."""
    return _laboratory_item(group)


def _annotation(item: Item) -> tuple[str | None, str | None]:
    match = _ANNOTATION.match(item.sdtm or "")
    if match is None:
        return None, None
    return match.group(1), match.group(2) or item.oid


def _laboratory_item(group: ItemGroup) -> Item | None:
    return next((i for i in group.items if i.cdash == "LBNAM"), None)


def _sample_date(group: ItemGroup, raw: dict[str, Any], existing) -> date | None:
    item = next((i for i in group.items if i.cdash == "LBDAT"), None)
    if item is None:
        return None
    if item.oid in raw:
        try:
            return date.fromisoformat(_text(raw[item.oid]))
        except ValueError:
            return None  # refused at its field by the parsing that follows
    value = existing.values.get(item.oid) if existing is not None else None
    return value if isinstance(value, date) else None


def registry_reads(study: LoadedStudy, form: Form) -> set[str]:
    """The forms ``apply_registry`` reads for a save of ``form``: those giving the subject's
    sex and age, when the form names its laboratory."""
    if not any(_laboratory_item(g) is not None for g in form.groups):
        return set()
    return {
        other.oid
        for other in study.forms.values()
        for _, item in other.items()
        if item.sdtm in ("DM.SEX", "DM.AGE")
    }


def subject_sex_and_age(data: SubjectData) -> tuple[str | None, int | None]:
    """The subject's sex and age, from the items annotated SDTM DM.SEX and DM.AGE."""
    found: dict[str, Any] = {}
    for sdtm, form_oid, item_oid in _sex_and_age_items(data.study):
        if sdtm not in found:
            for (visit_oid, _, entry_form), _entry in data.entries.items():
                if entry_form == form_oid:
                    found[sdtm] = data.value(visit_oid, form_oid, item_oid)
                    break
    age = found.get("DM.AGE")
    return found.get("DM.SEX"), int(age) if age is not None else None


@lru_cache(maxsize=8)
def _sex_and_age_items(study: LoadedStudy) -> tuple[tuple[str, str, str], ...]:
    """(SDTM name, form OID, item OID) of the items annotated DM.SEX or DM.AGE, in the
    definition's order (found once: the definition never changes while it runs)."""
    return tuple(
        (item.sdtm, form.oid, item.oid)
        for form in study.forms.values()
        for _, item in form.items()
        if item.sdtm in ("DM.SEX", "DM.AGE")
    )


def _text(raw: Any) -> str:
    if isinstance(raw, list):
        return " ".join(raw).strip()
    return (raw or "").strip()


def _unknown(name: str, laboratories: list[StoredLaboratory]) -> str:
    return MESSAGES["unknown"].format(name=name, names=", ".join(lab.name for lab in laboratories))
