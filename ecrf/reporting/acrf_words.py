"""The rules of a study definition in words, for the annotated CRF: conditions, data types,
ranges, date timing, SDTM annotations and edit checks.

Every sentence shown is a named template below (a French translation will follow); the
pieces filled in are labels, codes and numbers from the definition.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from forms.language import (
    AllOf,
    AnyOf,
    Check,
    CodeList,
    Condition,
    Criterion,
    DataType,
    Item,
    Range,
    Severity,
    Timing,
    When,
)
from forms.rules import Between, Comparison, Listing, Nearness, Sameness, Uniqueness, Window

# --- conditions ---------------------------------------------------------------------------

#: One condition on one item: ``{item}`` is its label, ``{value}`` the value as people read it.
CONDITION_WORDS = {
    "eq": "“{item}” is {value}",
    "ne": "“{item}” is not {value}",
    "in": "“{item}” is {value}",
    "gt": "“{item}” is more than {value}",
    "ge": "“{item}” is at least {value}",
    "lt": "“{item}” is less than {value}",
    "le": "“{item}” is at most {value}",
    "filled": "“{item}” is entered",
    "empty": "“{item}” is left empty",
}
#: A multiple-choice item "is" a value when the value is among those ticked.
CONDITION_WORDS_MULTI = {
    "eq": "“{item}” includes {value}",
    "ne": "“{item}” does not include {value}",
}
ALL_OF = " and "
ANY_OF = " or "
#: The values of an "in" condition (labels may hold commas: "Yes, unequivocal").
VALUE_LIST = " or "
NESTED = "({condition})"
CODED_VALUE = "{label} ({code})"

ASKED_WHEN = "Asked only when {condition}."
REQUIRED_WHEN = "Required when {condition}."
ASKED_AND_REQUIRED_WHEN = "Asked, and then required, only when {condition}."
NO_MISSING_CODE = "No missing-data code: a value is needed."

# --- data types ---------------------------------------------------------------------------

TYPE_WORDS = {
    DataType.TEXT: "Text",
    DataType.INTEGER: "Whole number",
    DataType.DECIMAL: "Decimal number",
    DataType.DATE: "Date",
    DataType.PARTIAL_DATE: "Date (day, or month and day, may be unknown)",
    DataType.TIME: "Time (24 h)",
    DataType.CHOICE: "One choice",
    DataType.MULTI_CHOICE: "Any number of choices",
    DataType.YES_NO: "Yes / No",
}
MAX_LENGTH = "at most {length} characters"
PRECISION = {0: "no decimals", 1: "1 decimal"}
PRECISION_MANY = "{places} decimals"
DATE_FORMAT = {
    DataType.DATE: "YYYY-MM-DD",
    DataType.PARTIAL_DATE: "YYYY-MM-DD, YYYY-MM or YYYY",
    DataType.TIME: "HH:MM",
}

HARD_RANGE = "Refused outside {range}"
SOFT_RANGE = "Warning outside {range}"
RANGE_BOTH = "{low} to {high}"
HARD_RANGE_LOW = "Refused below {low}"
HARD_RANGE_HIGH = "Refused above {high}"
SOFT_RANGE_LOW = "Warning below {low}"
SOFT_RANGE_HIGH = "Warning above {high}"
WITH_UNITS = "{value} {units}"

# --- date timing --------------------------------------------------------------------------

TIMING_WORDS = {
    Timing.PAST: "Up to the day of entry (may predate the consent).",
    Timing.STUDY: "From the informed consent to the end of study, and not after the day of entry.",
    Timing.PLANNED: "A plan: may lie ahead (up to the end of the year after next).",
}
TIMING_BY_VISIT = "{timing} At {visits}."

# --- derived items ------------------------------------------------------------------------

INPUT_HERE = "{label}"
INPUT_ELSEWHERE = "{label} ({form}, {visit})"
INPUT_ROWS = "every row of {group} ({form}, {visit})"
#: Declarative checks (forms.rules), in words.
COMPARISON_RULE = "{left} {op} {right}"
COMPARISON_SIGNS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "="}
UNIQUE_RULE = "{item} is used once among {among}"
UNIQUE_ELSEWHERE = ", and never in {elsewhere}"
LISTED_RULE = "{item} names a row of {among}"
BETWEEN_RULE = "{low} ≤ {item} ≤ {high}"
WINDOW_RULE = "{item} from {low} to {high} days after {of}"
SAME_RULE = "{item} is the same as {of}"
NEAR_RULE = "{item} differs from {of} by at most {by}"
INPUT_CONTEXT = "{words} (context)"
INPUT_ROWS_HERE = "every row of {group} (this form)"
INPUT_SAME_VISIT = "{label} ({form}, same visit)"
INPUT_BASELINE = "{label} of the baseline sample ({rule})"
INPUT_LATEST = "{label} ({form}, this visit or the latest before it)"

# --- SDTM annotations ---------------------------------------------------------------------

#: SDTM domains and their dataset labels (SDTMIG 3.4); others are shown by their code.
DOMAIN_NAMES = {
    "AE": "Adverse Events",
    "AG": "Procedure Agents",
    "CE": "Clinical Events",
    "CM": "Concomitant/Prior Medications",
    "CV": "Cardiovascular System Findings",
    "DD": "Death Details",
    "DM": "Demographics",
    "DS": "Disposition",
    "DV": "Protocol Deviations",
    "EC": "Exposure as Collected",
    "EG": "ECG Test Results",
    "EX": "Exposure",
    "FA": "Findings About Events or Interventions",
    "HO": "Healthcare Encounters",
    "IE": "Inclusion/Exclusion Criteria Not Met",
    "LB": "Laboratory Test Results",
    "MH": "Medical History",
    "PE": "Physical Examination",
    "PR": "Procedures",
    "QS": "Questionnaires",
    "RP": "Reproductive System Findings",
    "RS": "Disease Response and Clin Classification",
    "SC": "Subject Characteristics",
    "SU": "Substance Use",
    "TR": "Tumor/Lesion Results",
    "TU": "Tumor/Lesion Identification",
    "VS": "Vital Signs",
}
SUPP_NAME = "Supplemental Qualifiers for {domain}"
#: Events and interventions have no test code: a bracketed key names their category.
CATEGORY_KEYED = frozenset({"AE", "CE", "CM", "DS", "DV", "EC", "EX", "HO", "MH", "PR", "AG", "SU"})
#: "LB.LBORRES[HGB]": the variable of the record whose key variable holds HGB.
SDTM_WHERE = "{variable} when {key} = {value}"
SDTM_SUPP_WHERE = "{variable} when QNAM = {value}"
NOT_ANNOTATED = "not annotated"

_ANNOTATION = re.compile(
    r"^(?P<domain>[A-Z0-9]+)\.(?P<variable>[A-Z0-9]+)(?:\[(?P<key>[^\]]+)\])?$"
)

# --- edit checks --------------------------------------------------------------------------

SEVERITY_WORDS = {
    Severity.REJECT: "Refuses the save",
    Severity.WARN: "Saved; stays open as a finding",
}
CRITERION_CHECK = "The answer agrees with the result computed from the data: {rule}."
NAMED_CHECK = "{name}."


def value_words(item: Item | None, value: Any, codelist: CodeList | None) -> str:
    """A condition's value as people read it: a code with its label, a number, a list."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return VALUE_LIST.join(value_words(item, v, codelist) for v in value)
    if codelist is not None and isinstance(value, str):
        label = dict(codelist.codes).get(value)
        if label is not None:
            if item is not None and item.type is DataType.YES_NO:
                return label
            return CODED_VALUE.format(label=label, code=value)
    if item is not None and item.units and not isinstance(value, str):
        return WITH_UNITS.format(value=value, units=item.units)
    return str(value)


def condition_words(
    condition: Condition, lookup: Callable[[str], tuple[Item | None, CodeList | None]]
) -> str:
    """``condition`` in words; ``lookup(ref)`` gives the item a reference names and its codes."""
    if isinstance(condition, When):
        item, codelist = lookup(condition.item)
        label = item.label if item is not None else condition.item
        templates = CONDITION_WORDS
        if item is not None and item.type is DataType.MULTI_CHOICE:
            templates = {**CONDITION_WORDS, **CONDITION_WORDS_MULTI}
        return templates[condition.op].format(
            item=label, value=value_words(item, condition.value, codelist)
        )
    joiner = ALL_OF if isinstance(condition, AllOf) else ANY_OF
    parts = []
    for inner in condition.conditions:
        words = condition_words(inner, lookup)
        nested = isinstance(inner, (AllOf, AnyOf)) and len(inner.conditions) > 1
        parts.append(NESTED.format(condition=words) if nested else words)
    return joiner.join(parts)


def type_words(item: Item) -> str:
    """The data type, with its length or precision."""
    words = TYPE_WORDS[item.type]
    if item.type is DataType.TEXT and item.max_length:
        return f"{words}, {MAX_LENGTH.format(length=item.max_length)}"
    if item.type is DataType.DECIMAL and item.precision is not None:
        places = PRECISION.get(item.precision) or PRECISION_MANY.format(places=item.precision)
        return f"{words}, {places}"
    if item.type in DATE_FORMAT:
        return f"{words}, {DATE_FORMAT[item.type]}"
    return words


UNIT_STANDARD = "{label} ({symbol}): the standard unit, read by derivations and checks"
UNIT_OTHER = "{label} ({symbol}): × {factor} gives {standard}"
UNIT_OF = "In the unit chosen for {leader} ({oid})"


def units_words(item, form) -> list[dict[str, str]]:
    """Each unit of an item with several units, its conversion and its ranges, in words."""
    result = []
    standard = item.standard_unit
    if item.unit_of is not None:
        leader = next((i for _, i in form.items() if i.oid == item.unit_of), None)
        label = leader.label.lower() if leader is not None else item.unit_of
        result.append({"unit": UNIT_OF.format(leader=label, oid=item.unit_of), "ranges": []})
    for unit in item.measured_in:
        if unit is standard:
            text = UNIT_STANDARD.format(label=unit.label, symbol=unit.symbol)
        else:
            factor = format(unit.factor.normalize(), "f")
            text = UNIT_OTHER.format(
                label=unit.label, symbol=unit.symbol, factor=factor, standard=standard.label
            )
        ranges = [
            words
            for words in (
                range_words(unit.hard, unit.label, hard=True),
                range_words(unit.soft, unit.label, hard=False),
            )
            if words
        ]
        result.append({"unit": text, "ranges": ranges})
    return result


def range_words(bounds: Range | None, units: str | None, *, hard: bool) -> str:
    """A hard or soft range in words ("" when the item has none)."""
    if bounds is None or (bounds.low is None and bounds.high is None):
        return ""

    def shown(value) -> str:
        return WITH_UNITS.format(value=value, units=units) if units else str(value)

    if bounds.low is not None and bounds.high is not None:
        text = RANGE_BOTH.format(low=bounds.low, high=shown(bounds.high))
        return (HARD_RANGE if hard else SOFT_RANGE).format(range=text)
    if bounds.low is not None:
        return (HARD_RANGE_LOW if hard else SOFT_RANGE_LOW).format(low=shown(bounds.low))
    return (HARD_RANGE_HIGH if hard else SOFT_RANGE_HIGH).format(high=shown(bounds.high))


def sdtm_words(annotation: str | None) -> dict[str, str] | None:
    """An SDTM target ("LB.LBORRES[HGB]") as a CDISC aCRF writes it: dataset, and the
    variable with the record it lands in ("LBORRES when LBTESTCD = HGB")."""
    if not annotation:
        return None
    match = _ANNOTATION.match(annotation.strip())
    if match is None:
        return {"dataset": "", "text": annotation, "raw": annotation}
    domain, variable, key = match["domain"], match["variable"], match["key"]
    if key is None:
        text = variable
    elif domain.startswith("SUPP"):
        text = SDTM_SUPP_WHERE.format(variable=variable, value=key)
    else:
        suffix = "CAT" if domain in CATEGORY_KEYED else "TESTCD"
        text = SDTM_WHERE.format(variable=variable, key=f"{domain}{suffix}", value=key)
    return {"dataset": domain, "text": text, "raw": annotation}


def domain_name(domain: str) -> str:
    if domain.startswith("SUPP") and len(domain) > 4:
        return SUPP_NAME.format(domain=domain[4:])
    return DOMAIN_NAMES.get(domain, "")


def check_words(
    check: Check,
    *,
    planned: Mapping[str, str],
    form_oid: str,
    criteria: Mapping[str, Criterion],
) -> dict[str, str]:
    """The rule an edit check enforces, in the best words the definition gives, and the
    message it shows when the definition passes one in (``Call`` constants).

    The rule comes from, in order: the words a report plan gives (``FORM.CHECK`` or
    ``CHECK``); the eligibility criterion whose answer the check compares with the data
    (``criteria``: those answered on this form, by answer item); the check function's
    docstring; else, when there is no message either, its name.
    """
    declared = _declared(check.function)
    message = _message_constant(check.function) or declared[1]
    rule = next(
        (planned[key] for key in (f"{form_oid}.{check.name}", check.name) if key in planned), ""
    )
    criterion = criteria.get(check.target)
    if not rule and criterion is not None and criterion.rule:
        rule = CRITERION_CHECK.format(rule=criterion.rule.rstrip("."))
    rule = rule or declared[0] or _docstring_sentence(check.function)
    if not rule and not message:
        rule = NAMED_CHECK.format(name=check.name.replace("_", " ").capitalize())
    return {"rule": rule, "message": message}


def _declared(function: Any) -> tuple[str, str]:
    """(rule, message) of a declarative check (``forms.rules``), else empty."""
    if isinstance(function, Comparison):
        sign = COMPARISON_SIGNS[function.op]
        rule = COMPARISON_RULE.format(left=function.left, op=sign, right=function.right)
    elif isinstance(function, Listing):
        rule = LISTED_RULE.format(item=function.item, among=" or ".join(function.among))
    elif isinstance(function, Between):
        rule = BETWEEN_RULE.format(item=function.item, low=function.low, high=function.high)
    elif isinstance(function, Window):
        rule = WINDOW_RULE.format(
            item=function.item, low=function.low, high=function.high, of=function.of
        )
    elif isinstance(function, Sameness):
        rule = SAME_RULE.format(item=function.item, of=function.of)
    elif isinstance(function, Nearness):
        rule = NEAR_RULE.format(item=function.item, of=function.of, by=function.by)
    elif isinstance(function, Uniqueness):
        rule = UNIQUE_RULE.format(item=function.item, among=function.among)
        if function.elsewhere:
            rule += UNIQUE_ELSEWHERE.format(elsewhere=function.elsewhere)
    else:
        return "", ""
    return rule, _without_placeholders(function.message)


def _without_placeholders(message: str) -> str:
    """A message as the definition writes it, its values ("{value}") shown as "…"."""
    return re.sub(r"\{[^}]*\}", "…", message)


def _message_constant(function: Any) -> str:
    """A sentence the definition binds to a generic check function (``Call`` constants)."""
    for constant in getattr(function, "constants", ()) or ():
        if isinstance(constant, str) and " " in constant and constant.rstrip().endswith("."):
            return _without_placeholders(constant)
    return ""


def _docstring_sentence(function: Any) -> str:
    """The first paragraph of the check function's docstring, when it speaks of the data
    rather than of its parameters (no ``name`` markup)."""
    target = getattr(function, "function", function)
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        return ""
    doc = inspect.getdoc(target) or ""
    paragraph = " ".join(doc.split("\n\n", 1)[0].split())
    if not paragraph or "``" in paragraph or paragraph.endswith("or None."):
        return ""  # about its parameters or what it returns, not about the data
    return paragraph
