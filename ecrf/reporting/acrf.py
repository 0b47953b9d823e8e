"""The blank annotated CRF's data: the running study definition as plain dicts, every visit
and every form once, as site staff see them, with the annotations a sponsor reads the SDTM
datasets with (item OIDs, CDASH names, SDTM targets, code lists, ranges, rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecrf.records.dates import timing_of
from ecrf.records.loader import LoadedStudy
from ecrf.reporting import acrf_words as words
from forms.language import (
    CONTEXT,
    MISSING_CODES,
    REFERENCE_DATE,
    YES_NO,
    CodeList,
    Criterion,
    DataType,
    Form,
    Item,
    ItemGroup,
    Reference,
    Timing,
    Visit,
    VisitKind,
)

TITLE = "Annotated CRF (blank)"
HEADER = "{study} · Annotated CRF (blank) · study definition {version}"
GENERATED_BY = "the eCRF from study definition {version} (fingerprint {fingerprint})"

KIND_WORDS = {
    VisitKind.SCHEDULED: "Scheduled",
    VisitKind.UNSCHEDULED: "Unscheduled: repeatable, no due date",
    VisitKind.LOG: "Log: not bound to a visit date",
}
DAY_WORDS = "Day {day} from {reference}"
WINDOW_WORDS = "{low} to {high}"
WINDOW_EXACT = "that day only"
SOURCE_VISIT = "the date of the visit {name} ({oid})"
SOURCE_ITEM = "{label} ({form}, {visit})"
OFFSET_WORDS = "else {reference} + {days} days"
SUBGROUP_WORDS = "Subjects for whom {condition}"
UNUSED_FORMS = "Forms not used at any visit"
#: Characters of the definition's fingerprint printed (enough to tell versions apart).
FINGERPRINT_LENGTH = 12
#: Beyond this many inputs, a derivation or check lists them by reference (OID), not label:
#: the eligibility result reads all 24 criteria.
MAX_INPUTS_IN_WORDS = 6
#: An input of the same form whose label is longer (an eligibility criterion's text) is
#: named by its OID: the item is on the same pages.
MAX_INPUT_LABEL = 60


def signed(number: int) -> str:
    """A day number as printed: −28, 0, +14 (a true minus sign)."""
    if number < 0:
        return f"\u2212{-number}"
    return f"+{number}" if number > 0 else "0"


def acrf_data(study: LoadedStudy, check_words: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The aCRF of ``study`` as plain data for ``reports/templates/acrf.html``.

    :param check_words: edit checks in words, by ``FORM.CHECK`` or ``CHECK`` (a report plan
        of the study may give them); others are described from the definition itself.
    """
    builder = _Builder(study, check_words or {})
    return builder.build()


class _Builder:
    def __init__(self, study: LoadedStudy, check_words: Mapping[str, str]) -> None:
        self.study = study
        self.check_words = check_words
        #: form OID → its eligibility criteria by checklist item (the answers' form).
        self.criteria: dict[str, dict[str, Criterion]] = {}
        for criterion in study.study.eligibility:
            form_oid = criterion.checklist.partition(".")[2]
            self.criteria.setdefault(form_oid, {})[criterion.id] = criterion
        self.visits = study.visits_in_order()
        #: form OID → the visits using it, in schedule order.
        self.used_at: dict[str, list[Visit]] = {}
        for visit in self.visits:
            for form_oid in visit.forms:
                self.used_at.setdefault(form_oid, []).append(visit)
        #: code list OID → the items using it (form, item), for the appendix.
        self.codelist_use: dict[str, list[dict[str, str]]] = {}

    def build(self) -> dict[str, Any]:
        definition = self.study.study
        fingerprint = self.study.digest[:FINGERPRINT_LENGTH]
        forms = {oid: self._form(form) for oid, form in self.study.forms.items()}
        return {
            "title": TITLE,
            "study": {
                "oid": definition.oid,
                "name": definition.name,
                "protocol": definition.protocol,
                "version": definition.version,
                "description": definition.description,
                "digest": self.study.digest,
                "fingerprint": fingerprint,
            },
            "header": HEADER.format(study=definition.name, version=definition.version),
            "generated_by": GENERATED_BY.format(
                version=definition.version, fingerprint=fingerprint
            ),
            "references": [self._reference(r) for r in definition.references],
            "subgroups": [self._subgroup(s) for s in definition.subgroups],
            "schedule": [self._visit(v) for v in self.visits],
            "matrix": self._matrix(),
            "parts": self._parts(forms),
            "codelists": self._codelists(),
            "missing_codes": [
                {"code": code, "label": label} for code, label in MISSING_CODES.items()
            ],
            "form_count": len(forms),
            "item_count": sum(len(f.items()) for f in definition.forms),
        }

    # --- schedule -----------------------------------------------------------------------

    def _reference(self, reference: Reference) -> dict[str, Any]:
        sources = []
        for source in reference.sources:
            if source.startswith("visit:"):
                visit = self.study.visits[source[6:]]
                sources.append(SOURCE_VISIT.format(name=visit.name, oid=visit.oid))
            else:
                sources.append(self._absolute_item_words(source))
        if reference.offset_from:
            name, days = reference.offset_from
            sources.append(OFFSET_WORDS.format(reference=name, days=days))
        return {"name": reference.name, "sources": sources}

    def _absolute_item_words(self, ref: str) -> str:
        visit_oid, form_oid, item_oid = ref.split(".")
        item = self.study.item(form_oid, item_oid)[1]
        return SOURCE_ITEM.format(
            label=item.label,
            form=self.study.forms[form_oid].name,
            visit=self.study.visits[visit_oid].name,
        )

    def _subgroup(self, subgroup) -> dict[str, str]:
        _visit, form_oid, item_oid = subgroup.item.split(".")
        item = self.study.item(form_oid, item_oid)[1]
        codelist = self.study.codelist_for(item)
        condition = words.CONDITION_WORDS["eq"].format(
            item=item.label,
            value=words.value_words(item, subgroup.value, codelist),
        )
        return {
            "name": subgroup.name,
            "label": subgroup.label,
            "words": SUBGROUP_WORDS.format(condition=condition),
            "item": subgroup.item,
        }

    def _visit(self, visit: Visit) -> dict[str, Any]:
        day = window = ""
        if visit.kind is VisitKind.SCHEDULED and visit.reference:
            day = DAY_WORDS.format(day=signed(visit.offset_days), reference=visit.reference)
            low, high = visit.window
            window = (
                WINDOW_EXACT
                if low == high
                else WINDOW_WORDS.format(low=signed(low), high=signed(high))
            )
        subgroup = self.study.subgroups.get(visit.subgroup) if visit.subgroup else None
        return {
            "oid": visit.oid,
            "name": visit.name,
            "kind": visit.kind.value,
            "kind_words": KIND_WORDS[visit.kind],
            "day": day,
            "window": window,
            "subgroup": subgroup.label if subgroup else "",
            "timing": words.TIMING_WORDS[visit.timing],
            "forms": [
                {"oid": oid, "name": self.study.forms[oid].name, "anchor": form_anchor(oid)}
                for oid in visit.forms
            ],
            "anchor": f"visit-{visit.oid}",
        }

    def _form_order(self) -> list[str]:
        order = list(dict.fromkeys(oid for visit in self.visits for oid in visit.forms))
        return order + [oid for oid in self.study.forms if oid not in order]

    def _matrix(self) -> dict[str, Any]:
        return {
            "visits": [{"oid": v.oid, "name": v.name} for v in self.visits],
            "rows": [
                {
                    "oid": oid,
                    "name": self.study.forms[oid].name,
                    "anchor": form_anchor(oid),
                    "marks": [oid in v.forms for v in self.visits],
                }
                for oid in self._form_order()
            ],
        }

    def _parts(self, forms: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """The visits in order, each with the forms first used there (every form once).

        A visit bringing no new form shares its page with the visits before it that brought
        none either, so that week after week of the same safety forms costs one page.
        """
        parts: list[dict[str, Any]] = []
        printed: set[str] = set()
        previous_had_forms = True
        for visit in self.visits:
            new = [oid for oid in visit.forms if oid not in printed]
            printed.update(new)
            parts.append(
                {
                    "visit": self._visit(visit),
                    "forms": [forms[oid] for oid in new],
                    "new_page": bool(new) or previous_had_forms,
                }
            )
            previous_had_forms = bool(new)
        unused = [oid for oid in self.study.forms if oid not in printed]
        if unused:
            parts.append(
                {
                    "visit": None,
                    "title": UNUSED_FORMS,
                    "forms": [forms[oid] for oid in unused],
                    "new_page": True,
                }
            )
        return parts

    # --- forms --------------------------------------------------------------------------

    def _form(self, form: Form) -> dict[str, Any]:
        visits = self.used_at.get(form.oid, [])
        domains: list[str] = []
        for group, item in form.items():
            for domain in (group.domain, (words.sdtm_words(item.sdtm) or {}).get("dataset")):
                if domain and domain not in domains:
                    domains.append(domain)
        derivations = {d.target: d for d in form.derivations}
        return {
            "oid": form.oid,
            "name": form.name,
            "help": form.help,
            "anchor": form_anchor(form.oid),
            "used_at": [{"oid": v.oid, "name": v.name, "anchor": f"visit-{v.oid}"} for v in visits],
            "domains": [{"code": d, "name": words.domain_name(d)} for d in domains],
            "groups": [
                {
                    "oid": group.oid,
                    "label": group.label,
                    "repeating": group.repeating,
                    "max_rows": group.max_rows,
                    "domain": group.domain or "",
                    "items": [
                        self._item(form, group, item, visits, derivations) for item in group.items
                    ],
                }
                for group in form.groups
            ],
            "checks": [self._check(form, check) for check in form.checks],
        }

    def _lookup(self, form: Form):
        def lookup(ref: str) -> tuple[Item | None, CodeList | None]:
            if not self.study.has_item(form.oid, ref):
                return None, None
            item = self.study.item(form.oid, ref)[1]
            return item, self.study.codelist_for(item)

        return lookup

    def _item(
        self, form: Form, group: ItemGroup, item: Item, visits: list[Visit], derivations
    ) -> dict[str, Any]:
        codelist = self.study.codelist_for(item)
        if codelist is not None:
            self.codelist_use.setdefault(codelist.oid, []).append(
                {"form": form.oid, "form_name": form.name, "item": item.oid, "label": item.label}
            )
        derivation = derivations.get(item.oid)
        return {
            "oid": item.oid,
            "label": item.label,
            "help": item.help,
            "type": item.type.value,
            "answer": "derived" if item.derived else item.type.value,
            "type_words": words.type_words(item),
            "units": item.units or " or ".join(u.label for u in item.measured_in),
            "measured_in": words.units_words(item, form),
            "precision": item.precision,
            "max_length": item.max_length,
            "hard": words.range_words(item.hard, item.units, hard=True),
            "soft": words.range_words(item.soft, item.units, hard=False),
            "rules": self._rules(form, item),
            "required": bool(item.required),
            "missing": "" if item.missing_allowed or item.derived else words.NO_MISSING_CODE,
            "timing": self._timing(item, visits),
            "derived": (
                {
                    "formula": derivation.formula,
                    "inputs": self._inputs(form, derivation.inputs),
                }
                if derivation is not None
                else None
            ),
            "cdash": item.cdash or "",
            "sdtm": words.sdtm_words(item.sdtm),
            "codelist": (
                {
                    "oid": codelist.oid,
                    "name": codelist.name,
                    "codes": [{"code": c, "label": label} for c, label in codelist.codes],
                    "anchor": codelist_anchor(codelist.oid),
                }
                if codelist is not None
                else None
            ),
            "repeating": group.repeating,
        }

    def _rules(self, form: Form, item: Item) -> list[str]:
        """When the item is asked and when it is required, in words."""
        lookup = self._lookup(form)
        rules = []
        shown, required_when = item.shown_when, item.required_when
        if shown is not None and shown == required_when:
            condition = words.condition_words(shown, lookup)
            return [words.ASKED_AND_REQUIRED_WHEN.format(condition=condition)]
        if shown is not None:
            rules.append(words.ASKED_WHEN.format(condition=words.condition_words(shown, lookup)))
        if not item.required and required_when is not None:
            condition = words.condition_words(required_when, lookup)
            rules.append(words.REQUIRED_WHEN.format(condition=condition))
        return rules

    def _timing(self, item: Item, visits: list[Visit]) -> list[str]:
        """When a date may lie: the same at every visit, or visit by visit."""
        if item.type not in (DataType.DATE, DataType.PARTIAL_DATE):
            return []
        if item.timing is not None or not visits:
            return [words.TIMING_WORDS[item.timing or Timing.PAST]]
        by_timing: dict[Timing, list[str]] = {}
        for visit in visits:
            by_timing.setdefault(timing_of(item, visit), []).append(visit.oid)
        if len(by_timing) == 1:
            return [words.TIMING_WORDS[next(iter(by_timing))]]
        return [
            words.TIMING_BY_VISIT.format(timing=words.TIMING_WORDS[timing], visits=", ".join(oids))
            for timing, oids in by_timing.items()
        ]

    def _inputs(self, form: Form, refs: tuple[str, ...]) -> list[str]:
        if len(refs) > MAX_INPUTS_IN_WORDS:
            return list(refs)
        return [self._input_words(form, ref) for ref in refs]

    def _input_words(self, form: Form, ref: str) -> str:
        resolved = self.study.resolve(form.oid, ref)
        if resolved.lookup is not None:
            item = self.study.item(resolved.form, resolved.item)[1]
            if resolved.lookup == "BASELINE":
                return words.INPUT_BASELINE.format(label=item.label, rule=form.baseline.name)
            return words.INPUT_LATEST.format(
                label=item.label, form=self.study.forms[resolved.form].name
            )
        if resolved.context is not None:
            said = CONTEXT.get(resolved.context) or REFERENCE_DATE.format(name=resolved.context)
            return words.INPUT_CONTEXT.format(words=said)
        if resolved.local and resolved.group is not None:
            group = self.study.group(resolved.form, resolved.group)
            return words.INPUT_ROWS_HERE.format(group=group.label)
        if resolved.same_visit:
            item = self.study.item(resolved.form, resolved.item)[1]
            return words.INPUT_SAME_VISIT.format(
                label=item.label, form=self.study.forms[resolved.form].name
            )
        if resolved.group is not None:
            group = self.study.group(resolved.form, resolved.group)
            return words.INPUT_ROWS.format(
                group=group.label,
                form=self.study.forms[resolved.form].name,
                visit=self.study.visits[resolved.visit].name,
            )
        item = self.study.item(resolved.form, resolved.item)[1]
        if resolved.local:
            if len(item.label) > MAX_INPUT_LABEL:
                return item.oid
            return words.INPUT_HERE.format(label=item.label)
        return words.INPUT_ELSEWHERE.format(
            label=item.label,
            form=self.study.forms[resolved.form].name,
            visit=self.study.visits[resolved.visit].name,
        )

    def _check(self, form: Form, check) -> dict[str, Any]:
        target = self.study.item(form.oid, check.target)[1]
        return {
            "name": check.name,
            "target": {"oid": target.oid, "label": target.label},
            "severity": check.severity.value,
            "severity_words": words.SEVERITY_WORDS[check.severity],
            **words.check_words(
                check,
                planned=self.check_words,
                form_oid=form.oid,
                criteria=self.criteria.get(form.oid, {}),
            ),
            "inputs": self._inputs(form, check.inputs),
        }

    # --- code lists ---------------------------------------------------------------------

    def _codelists(self) -> list[dict[str, Any]]:
        lists = [*self.study.study.codelists]
        if YES_NO.oid in self.codelist_use and YES_NO not in lists:
            lists.append(YES_NO)
        return [
            {
                "oid": codelist.oid,
                "name": codelist.name,
                "codes": [{"code": c, "label": label} for c, label in codelist.codes],
                "anchor": codelist_anchor(codelist.oid),
                "used_by": self.codelist_use.get(codelist.oid, []),
            }
            for codelist in lists
        ]


def form_anchor(oid: str) -> str:
    return f"form-{oid}"


def codelist_anchor(oid: str) -> str:
    return f"codelist-{oid}"
