"""The study definition language: what a study, visit, form, item, derivation and check are.

Plain frozen dataclasses and pure functions. A definition is data a clinician can read;
the engine (ecrf.records.loader) validates it when the application starts.

References between items are strings:
- ``"ITEM"``: an item of the same form (the same row when both sit in one repeating group);
- ``"VISIT.FORM.ITEM"``: an item of a non-repeating group of another form;
- ``"VISIT.FORM.GROUP[]"``: every (non-removed) row of a repeating group, as a list of dicts.

Derivations and checks may also read the context of the entry, as dates (``CONTEXT``):
- ``"@VISIT_DATE"``: the date of the visit the entry belongs to;
- ``"@TODAY"``: the day of the save;
- ``"@D0"``, ``"@T0"``: a reference event of the schedule (``Reference``), by its name;
- ``"@WINDOW_START"``, ``"@WINDOW_END"``: the first and last day of the visit's window.
Or other samples and visits, found by a declared rule:
- ``"@BASELINE.ALT"``, ``"@BASELINE.ALT.ALTULN"``: the analyte's value, or another item,
  of its baseline sample (the form's ``Baseline``: ``baseline_of``);
- ``"@LATEST.VS.WEIGHT"``: an item of another form at this visit, or else at the latest
  visit dated before it where it was given (``latest``).
Conditions (``When``) read items only: the page evaluates them as the user types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class DataType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    PARTIAL_DATE = "partial_date"
    TIME = "time"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"


#: CDISC-style reasons for an absent value, allowed wherever an item says so.
MISSING_CODES: dict[str, str] = {
    "NA": "Not applicable",
    "ND": "Not done",
    "UNK": "Unknown",
    "NASK": "Not asked",
}


#: What a derivation or check may read besides items, by name ("@" + name in an input).
CONTEXT: dict[str, str] = {
    "VISIT_DATE": "the date of the visit",
    "TODAY": "the day of the save",
    "WINDOW_START": "the first day of the visit's window",
    "WINDOW_END": "the last day of the visit's window",
}
VISIT_DATE, TODAY, WINDOW_START, WINDOW_END = (f"@{name}" for name in CONTEXT)
#: What "@D0" reads, in words.
REFERENCE_DATE = "the date of {name}"


def reference_date(name: str) -> str:
    """The input reference to a reference event's date (``"@D0"``)."""
    return f"@{name}"


class Severity(StrEnum):
    #: The value cannot be saved (physiologically impossible, contradictory).
    REJECT = "reject"
    #: Saved, but stays open at the item until the data change (later: a query).
    WARN = "warn"


class Timing(StrEnum):
    """When the value of a date item may lie, against the day it is saved.

    Every date is plausible (from 1900, and never years ahead); beyond that:
    """

    #: Up to the day of the save: birth, history, prior treatments, screening exams (which
    #: the protocol accepts from before the consent).
    PAST = "past"
    #: Data of the study itself: up to the day of the save, not before the informed consent
    #: and not after the end of study, once those dates are recorded (``Study.consent``,
    #: ``Study.end_of_study``). Partial dates are refused only when wholly outside.
    STUDY = "study"
    #: A plan (the planned D0): may lie ahead.
    PLANNED = "planned"


class VisitKind(StrEnum):
    SCHEDULED = "scheduled"
    UNSCHEDULED = "unscheduled"  # repeatable, no due date
    LOG = "log"  # not bound to a date: adverse events, medications...


@dataclass(frozen=True)
class CodeList:
    oid: str
    name: str
    codes: tuple[tuple[str, str], ...]  # (code, label)
    #: For a long list: (code, heading) pairs; the page shows the options under their
    #: heading (CTCAE terms under their system organ class). Empty: one flat list.
    groups: tuple[tuple[str, str], ...] = ()

    def label(self, code: str) -> str:
        return dict(self.codes).get(code, code)

    def heading(self, code: str) -> str | None:
        """The heading ``code`` is shown under (``groups``), if any."""
        return dict(self.groups).get(code)


YES_NO = CodeList("NY", "No / Yes", (("Y", "Yes"), ("N", "No")))


@dataclass(frozen=True)
class Range:
    """Inclusive bounds; either may be None."""

    low: Decimal | None = None
    high: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                object.__setattr__(self, name, Decimal(str(value)))

    def contains(self, value: Decimal | int) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low} to {self.high}"
        if self.low is not None:
            return f"at least {self.low}"
        return f"at most {self.high}"


@dataclass(frozen=True)
class Unit:
    """A unit an item's value may be entered in.

    ``symbol`` is the UCUM symbol (``"umol/L"``, ``"10*9/L"``), ``label`` how people write
    it (``"µmol/L"``, ``"G/L"``). ``factor`` converts to the item's standard unit (its first
    unit): value × factor = value in the standard unit (1 for the standard unit itself).
    ``hard`` and ``soft`` are the unit's own ranges, in this unit; ``precision`` the
    decimal places kept in this unit (None: the item's).
    """

    symbol: str
    label: str = ""
    factor: Decimal | None = None
    hard: Range | None = None
    soft: Range | None = None
    precision: int | None = None

    def __post_init__(self) -> None:
        if self.factor is not None and not isinstance(self.factor, Decimal):
            object.__setattr__(self, "factor", Decimal(str(self.factor)))
        if not self.label:
            object.__setattr__(self, "label", self.symbol)


# --- conditions (declarative, so references are checked at load and pages can show them)


@dataclass(frozen=True)
class When:
    """A condition on one item: ``op`` is eq, ne, in, gt, ge, lt, le, filled or empty."""

    item: str
    op: str = "eq"
    value: Any = None


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


Condition = When | AllOf | AnyOf
CONDITION_OPS = frozenset({"eq", "ne", "in", "gt", "ge", "lt", "le", "filled", "empty"})


def condition_items(condition: Condition) -> list[str]:
    if isinstance(condition, When):
        return [condition.item]
    return [ref for c in condition.conditions for ref in condition_items(c)]


def holds(condition: Condition, values: Mapping[str, Any]) -> bool:
    """Evaluate a condition against typed values (None for empty or missing)."""
    if isinstance(condition, AllOf):
        return all(holds(c, values) for c in condition.conditions)
    if isinstance(condition, AnyOf):
        return any(holds(c, values) for c in condition.conditions)
    value = values.get(condition.item)
    op, expected = condition.op, condition.value
    if op == "filled":
        return value not in (None, "", [])
    if op == "empty":
        return value in (None, "", [])
    if value is None:
        return False
    if isinstance(value, list):  # multiple choice: "eq" means "includes"
        return (
            (expected in value) if op == "eq" else (expected not in value if op == "ne" else False)
        )
    if op == "eq":
        return value == expected
    if op == "ne":
        return value != expected
    if op == "in":
        return value in expected
    try:
        return {
            "gt": value > expected,
            "ge": value >= expected,
            "lt": value < expected,
            "le": value <= expected,
        }[op]
    except TypeError:
        return False


# --- choices that depend on another item ---------------------------------------------------


@dataclass(frozen=True)
class OptionsBy:
    """The codes of a choice item that go with each code of another item of the same row
    (a CTCAE term's grades). The page offers only those; the definition's own check refuses
    the others on save (the browser may be old or scripted).

    ``table`` returns {code of ``item``: allowed codes}; a code missing from it allows all.
    """

    item: str
    table: Callable[[], Mapping[str, tuple[str, ...]]]


# --- items, groups, forms -----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    oid: str
    label: str
    type: DataType
    help: str = ""
    units: str | None = None
    #: Decimal places kept for DECIMAL items.
    precision: int | None = None
    max_length: int | None = None
    codelist: str | None = None
    #: Values outside are refused; values outside ``soft`` are saved with a warning.
    hard: Range | None = None
    soft: Range | None = None
    required: bool = False
    required_when: Condition | None = None
    shown_when: Condition | None = None
    missing_allowed: bool = True
    #: CDASH variable name and SDTM target ("DOMAIN.VARIABLE", e.g. "LB.LBORRES").
    cdash: str | None = None
    sdtm: str | None = None
    #: Filled by a derivation of the form: shown read-only, never typed.
    derived: bool = False
    #: What to say when the item is required (``required``/``required_when``) and left
    #: empty at completion, instead of the generic "required" (say why it is needed).
    required_message: str = ""
    #: For date items: when the value may lie; None takes the visit's ``timing``.
    timing: Timing | None = None
    #: Several units the value may be entered in (instead of one ``units`` text): the first
    #: is the standard unit, the one derivations and checks read (values entered in another
    #: unit are converted); each unit has its own ranges (then none on the item).
    measured_in: tuple[Unit, ...] = ()
    #: For a value that is always in the unit of another item of the same row (a
    #: laboratory's limit of normal "in the same unit"): that item's OID. The unit is not
    #: chosen for this item; both are converted together.
    unit_of: str | None = None
    #: For a choice: which of its codes the page offers, by the value of another item.
    options_by: OptionsBy | None = None

    @property
    def multi_unit(self) -> bool:
        return bool(self.measured_in)

    @property
    def standard_unit(self) -> Unit | None:
        return self.measured_in[0] if self.measured_in else None

    def unit(self, symbol: str | None) -> Unit | None:
        """The unit of this item with ``symbol`` (None: the standard unit)."""
        if symbol is None:
            return self.standard_unit
        return next((u for u in self.measured_in if u.symbol == symbol), None)


@dataclass(frozen=True)
class AnalyteRow:
    """One analyte of a laboratory form, laid out as one table row: its value (with the
    unit chosen beside it), the laboratory's limits of normal, its CTCAE grade and
    ``extra`` derived items (× ULN...). Every part but the value may be absent; each names
    an item of the group. The page flags the value H or L against the limits."""

    value: str
    low: str | None = None
    high: str | None = None
    grade: str | None = None
    extra: tuple[str, ...] = ()

    @property
    def items(self) -> tuple[str, ...]:
        parts = (self.value, self.low, self.high, self.grade, *self.extra)
        return tuple(p for p in parts if p is not None)


@dataclass(frozen=True)
class Baseline:
    """Which sample later values of a form are compared with (CTCAE v5.0 "baseline").

    For each analyte, the baseline sample is the last entry of the form, at any visit,
    where the analyte's value is given and whose ``dated_by`` date lies before the event
    dated by ``before`` (sources as in ``Reference``: ``"visit:PETIV"``...); a sample of
    the day of the event counts when ``same_day`` (it is drawn before the event). No
    baseline while the event is not dated. Rules read it as ``baseline_of(analyte, item)``.
    """

    name: str
    #: The rule in words, as the page and the annotated CRF show it.
    rule: str
    dated_by: str
    before: tuple[str, ...]
    same_day: bool = True


#: How a rule reads the baseline sample of an analyte: "@BASELINE.ALT" (its value) or
#: "@BASELINE.ALT.ALTULN" (another item of that same sample: its limit, its date).
BASELINE_PREFIX = "@BASELINE."
#: How a rule reads an item of another form at this visit, or else at the latest visit
#: dated before this one where it was given: "@LATEST.VS.WEIGHT".
LATEST_PREFIX = "@LATEST."


def baseline_of(analyte: str, item: str | None = None) -> str:
    """The input reference to ``item`` (default: the analyte's value) of the baseline
    sample of ``analyte`` (``Baseline``)."""
    return f"{BASELINE_PREFIX}{analyte}" + (f".{item}" if item and item != analyte else "")


def latest(form: str, item: str) -> str:
    """The input reference to ``form``'s ``item`` at this visit or the latest before it."""
    return f"{LATEST_PREFIX}{form}.{item}"


@dataclass(frozen=True)
class ItemGroup:
    oid: str
    label: str
    items: tuple[Item, ...]
    repeating: bool = False
    max_rows: int | None = None
    #: SDTM domain the rows feed (e.g. "AE", "TU").
    domain: str | None = None
    #: For a repeating group of many items (a log): the columns of a row's one-line
    #: summary, as (item OID, short column heading) pairs in order. The page then shows
    #: one line per row with these values, and all the row's items in a panel that opens
    #: below it, instead of one table as wide as the items are many.
    summary: tuple[tuple[str, str], ...] = ()
    #: Laboratory results laid out as a table, one row per analyte (``AnalyteRow``);
    #: the group's other items are laid out as usual, in their order.
    analytes: tuple[AnalyteRow, ...] = ()

    def analyte_of(self, item_oid: str) -> AnalyteRow | None:
        """The analyte row ``item_oid`` sits in, if any."""
        return next((a for a in self.analytes if item_oid in a.items), None)


@dataclass(frozen=True)
class Derivation:
    """Computes ``target`` (an item of the form) from ``inputs`` with a pure function.

    ``function`` receives a dict of input reference → typed value (None when empty) and
    returns the value, or None when it cannot be computed. ``formula`` says how, for people.
    """

    target: str
    inputs: tuple[str, ...]
    function: Callable[[dict[str, Any]], Any]
    formula: str


@dataclass(frozen=True)
class Check:
    """An edit check: ``function`` gets the typed inputs and returns a message when violated.

    The finding is shown at ``target`` (an item of the form; per row when it sits in a
    repeating group). REJECT findings block the save; WARN findings stay open until the
    data resolve them.
    """

    name: str
    target: str
    inputs: tuple[str, ...]
    function: Callable[[dict[str, Any]], str | None]
    severity: Severity = Severity.WARN


@dataclass(frozen=True)
class Form:
    oid: str
    name: str
    groups: tuple[ItemGroup, ...]
    derivations: tuple[Derivation, ...] = ()
    checks: tuple[Check, ...] = ()
    help: str = ""
    #: The baseline its rules read (``baseline_of``), if any.
    baseline: Baseline | None = None

    def items(self) -> list[tuple[ItemGroup, Item]]:
        return [(group, item) for group in self.groups for item in group.items]


# --- schedule -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A reference event (D0, T0) dated by the first available source.

    Sources are the actual date of a visit (``"visit:PETIAH"``) or a date item
    (``"SCR.REG.D0PLAN"``), tried in order.
    """

    name: str
    sources: tuple[str, ...]
    #: Alternatively: another reference plus days (planned T0 = D0 + 28).
    offset_from: tuple[str, int] | None = None


@dataclass(frozen=True)
class Subgroup:
    """Subjects for whom ``condition`` holds on the item ``item`` (``VISIT.FORM.ITEM``)."""

    name: str
    label: str
    item: str
    value: Any


@dataclass(frozen=True)
class Visit:
    oid: str
    name: str
    forms: tuple[str, ...]
    kind: VisitKind = VisitKind.SCHEDULED
    reference: str | None = None
    #: Target day relative to the reference, and the allowed window (inclusive).
    offset_days: int = 0
    window: tuple[int, int] = (0, 0)
    subgroup: str | None = None
    #: When the dates of this visit's forms may lie, unless an item says otherwise.
    timing: Timing = Timing.PAST


# --- eligibility ----------------------------------------------------------------------------

INCLUSION, EXCLUSION = "INCLUSION", "EXCLUSION"
Values = Mapping[str, Any]


@dataclass(frozen=True)
class Criterion:
    """An inclusion or exclusion criterion, answered by the investigator on a checklist item
    (``checklist``.``id``) and, when the data entered elsewhere can decide it, computed by
    ``function`` from the ``inputs`` it declares: True met (for an exclusion: the patient has
    the excluding condition), False not met, None cannot tell yet.
    """

    id: str  # IETESTCD: INC01..., EXC01...
    category: str  # IECAT: INCLUSION or EXCLUSION
    text: str
    inputs: tuple[str, ...] = ()
    function: Callable[[Values], bool | None] | None = None
    #: What the computed part decides, in words (shown with the evidence).
    rule: str = ""
    #: "VISIT.FORM" of the checklist holding the investigator's answers.
    checklist: str = "SCR.IE"

    def __post_init__(self) -> None:
        # The eligibility page shows, beside the evidence, the rule a computed result
        # applied: a computed criterion without one would show a verdict nobody can check.
        if self.function is not None and not self.rule.strip():
            raise ValueError(f"criterion {self.id}: a computed criterion states its rule")

    @property
    def item(self) -> str:
        """The checklist item holding the investigator's answer (Y = criterion met)."""
        return f"{self.checklist}.{self.id}"

    @property
    def computable(self) -> bool:
        return self.function is not None

    @property
    def eligible_answer(self) -> str:
        return "Y" if self.category == INCLUSION else "N"

    def evaluate(self, values: Values) -> bool | None:
        """The computed result; None when not computable. A function expresses "cannot be
        decided on these inputs" by returning None: one that raises has a bug, which the
        caller reports (``ecrf.records.rule_failures``), never hides."""
        if self.function is None:
            return None
        return self.function(values)


@dataclass(frozen=True)
class SeriousEventReporting:
    """Serious adverse events to report to the sponsor within ``hours`` of the site
    becoming aware (the dashboards' SAE clock).

    ``events`` are the rows of the adverse event log ("VISIT.FORM.GROUP[]"); an event is
    serious when its item ``serious`` holds ``serious_value``; ``number`` numbers the event.
    ``reports`` are the rows of the report log ("VISIT.FORM.GROUP[]"), each naming the event
    it reports in ``report_number``.
    """

    events: str
    serious: str
    number: str
    reports: str
    report_number: str
    serious_value: str = "Y"
    hours: int = 24


@dataclass(frozen=True)
class Study:
    oid: str
    name: str
    version: str
    protocol: str
    visits: tuple[Visit, ...]
    forms: tuple[Form, ...]
    codelists: tuple[CodeList, ...] = ()
    references: tuple[Reference, ...] = ()
    subgroups: tuple[Subgroup, ...] = ()
    #: Inclusion and exclusion criteria; inclusion is refused until all are satisfied.
    eligibility: tuple[Criterion, ...] = ()
    #: The date of consent ("VISIT.FORM.ITEM"): until it is recorded, only the visits of
    #: ``before_consent`` take data (no study procedure before consent, ICH E6). With
    #: ``end_of_study``, it also bounds the dates of ``Timing.STUDY``.
    consent: str | None = None
    before_consent: tuple[str, ...] = ()
    #: The forms ("VISIT.FORM") documenting the end of a subject's participation (end of
    #: study, death): still fillable, without a reason, once it has ended.
    end_forms: tuple[str, ...] = ()
    #: Data that end participation whatever the status says (a death recorded), over
    #: "VISIT.FORM.ITEM" references.
    ended_when: Condition | None = None
    #: What ``ended_when`` means, in words (shown to say why a subject has left).
    ended_label: str = ""
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: "VISIT.FORM.ITEM" of the end-of-study date: the upper bound of Timing.STUDY dates.
    end_of_study: str | None = None
    #: Findings of these severities open a query each, closed when the data resolve them.
    query_severities: tuple[Severity, ...] = ()
    #: The forms (OIDs, at whichever visit) holding the data the trial's conclusions and
    #: its subjects' safety rest on: verified against source for every subject, and listed
    #: for audit review.
    critical_forms: tuple[str, ...] = ()
    #: How many subjects the protocol plans to include (the dashboards' enrolment target).
    enrolment_target: int | None = None
    #: The reporting of serious adverse events (the dashboards' SAE clock).
    serious_events: SeriousEventReporting | None = None
    #: The targeted source-verification plan: the critical forms are verified for every
    #: subject; the other forms for this percentage of each site's subjects (0 to 100),
    #: chosen reproducibly from the subject's identifier (raising it only adds subjects).
    #: A data manager may set another percentage for one site.
    sdv_sample_percent: int = 100
