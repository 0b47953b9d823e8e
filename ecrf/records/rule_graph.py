"""Which derivation and edit check reads which item, built once when the definition loads.

A derivation or check of form F reads its inputs in the same entry ("ITEM", or "GROUP[]"
for the rows of a group: "local"), in another form of the same visit ("FORM.ITEM"), or at a
named visit ("VISIT.FORM.ITEM", or "VISIT.FORM.GROUP[]": "remote"), or in the entry's
context: its visit's date ("@VISIT_DATE"), a reference date ("@D0", which reads the visit
dates and items the reference is dated by), the visit's window (from its reference) or
the day of the save ("@TODAY", read when the rule runs). From these the graph answers two
questions:

* at start-up, whether derivations feed each other in a cycle (refused, with its path);
* at a save, or when a visit is dated, which derivations and checks the changed items
  and dates reach, directly or through the derived values they change (``reach``), so
  that only those run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from forms.language import Check, Derivation, Study, VisitKind

#: (visit OID, visit repeat key, form OID): one form entry of a subject.
EntryKey = tuple[str, int, str]
#: (visit OID, visit repeat key, form OID, item OID): one item of one entry.
ItemKey = tuple[str, int, str, str]
#: (visit OID, form OID) of the entries whose values something reads; visit None: the
#: form's entries at every visit.
FormRead = tuple[str | None, str]
#: In a rule's reads, the visit of the entry the rule runs on.
_HERE = ""


@dataclass(frozen=True)
class Rule:
    """A derivation (``name`` is its target) or an edit check (``name`` is the check's)."""

    form_oid: str
    name: str
    derivation: Derivation | None = None
    check: Check | None = None

    @property
    def target(self) -> str:
        return self.derivation.target if self.derivation else self.check.target


@dataclass
class Scope:
    """The derivations and checks to run, each on one entry."""

    derivations: set[tuple[EntryKey, str]] = field(default_factory=set)  # (entry, target)
    checks: set[tuple[EntryKey, str]] = field(default_factory=set)  # (entry, check name)


class RuleGraph:
    def __init__(self, study: Study, resolve) -> None:
        """``resolve(form_oid, ref)`` interprets an input reference (``LoadedStudy.resolve``)."""
        self._forms = {form.oid: form for form in study.forms}
        self._visits_of: dict[str, list[str]] = defaultdict(list)
        for visit in study.visits:
            for form_oid in visit.forms:
                self._visits_of[form_oid].append(visit.oid)
        self.rules_of: dict[str, list[Rule]] = defaultdict(list)
        #: (form OID, item OID) -> rules of that form reading the item in their own entry.
        self.local_readers: dict[tuple[str, str], list[Rule]] = defaultdict(list)
        #: (form OID, item OID) -> rules of other forms reading it at their own visit.
        self.visit_readers: dict[tuple[str, str], list[Rule]] = defaultdict(list)
        #: (visit OID, form OID, item OID) -> rules (of any form) reading it at that visit.
        self.remote_readers: dict[tuple[str, str, str], list[Rule]] = defaultdict(list)
        #: form OID -> rules of that form reading the date of their own visit.
        self.own_date_readers: dict[str, list[Rule]] = defaultdict(list)
        #: visit OID -> rules (of any form, in every entry) reading a date computed from
        #: that visit's date (a reference event, a window).
        self.dated_visit_readers: dict[str, list[Rule]] = defaultdict(list)
        #: (form OID, item OID) -> rules reading the item at whichever visit a rule finds it
        #: (a baseline sample, the latest visit): run in every entry of their form.
        self.any_visit_readers: dict[tuple[str, str], list[Rule]] = defaultdict(list)
        #: Rules that read "the latest visit before this one": any visit dated moves it.
        self.any_date_readers: list[Rule] = []
        self._references = {r.name: r for r in study.references}
        self._study_visits = {v.oid: v for v in study.visits}
        #: rule -> the entries whose values it reads: its own (its target's rows) and
        #: its inputs' (a reference date, what dates each reference: ``reference_dates``
        #: computes them together); visit ``_HERE``: the visit of the entry it runs on.
        self._reads_of: dict[Rule, set[FormRead]] = {}
        self._save_reads: dict[tuple[str, str], frozenset[FormRead]] = {}
        for form in study.forms:
            for derivation in form.derivations:
                self._add(
                    form.oid, Rule(form.oid, derivation.target, derivation=derivation), resolve
                )
            for check in form.checks:
                self._add(form.oid, Rule(form.oid, check.name, check=check), resolve)

    def _add(self, form_oid: str, rule: Rule, resolve) -> None:
        self.rules_of[form_oid].append(rule)
        inputs = rule.derivation.inputs if rule.derivation else rule.check.inputs
        reads = self._reads_of[rule] = {(_HERE, form_oid)}
        for ref in inputs:
            resolved = resolve(form_oid, ref)
            if resolved.lookup is not None:
                reads.add((None, resolved.form))
                if resolved.lookup == "BASELINE":
                    reads |= _source_reads(self._forms[form_oid].baseline.before)
            elif resolved.context is not None and resolved.context not in ("TODAY", "VISIT_DATE"):
                for reference in self._references.values():
                    reads |= _source_reads(reference.sources)
            elif resolved.context is None:
                reads.add((_HERE if resolved.visit is None else resolved.visit, resolved.form))
            if resolved.lookup is not None:
                self._add_lookup(form_oid, rule, resolved)
            elif resolved.context is not None:
                self._add_context(form_oid, rule, resolved.context)
            elif resolved.local and resolved.group is not None:  # the rows of this entry
                for item in self._group(form_oid, resolved.group).items:
                    self.local_readers[(form_oid, item.oid)].append(rule)
            elif resolved.local:
                self.local_readers[(form_oid, resolved.item)].append(rule)
            elif resolved.same_visit:
                self.visit_readers[(resolved.form, resolved.item)].append(rule)
            elif resolved.group is not None:
                for item in self._group(resolved.form, resolved.group).items:
                    self.remote_readers[(resolved.visit, resolved.form, item.oid)].append(rule)
            else:
                self.remote_readers[(resolved.visit, resolved.form, resolved.item)].append(rule)

    def _add_lookup(self, form_oid: str, rule: Rule, resolved) -> None:
        """A baseline sample depends on the analyte and the item at every visit, the dates
        of the samples and what dates the event; the latest visit, on the item anywhere and
        on the visits' dates."""
        reads = {resolved.item} | ({resolved.analyte} if resolved.analyte else set())
        if resolved.lookup == "BASELINE":
            baseline = self._forms[form_oid].baseline
            reads.add(baseline.dated_by)
            for source in baseline.before:
                if source.startswith("visit:"):
                    self.dated_visit_readers[source[6:]].append(rule)
                else:
                    visit_oid, source_form, item_oid = source.split(".")
                    self.remote_readers[(visit_oid, source_form, item_oid)].append(rule)
        else:
            self.any_date_readers.append(rule)
        for item_oid in sorted(reads):
            self.any_visit_readers[(resolved.form, item_oid)].append(rule)

    def _add_context(self, form_oid: str, rule: Rule, name: str) -> None:
        if name == "VISIT_DATE":
            self.own_date_readers[form_oid].append(rule)
        elif name in ("WINDOW_START", "WINDOW_END"):
            for visit_oid in self._visits_of[form_oid]:
                visit = self._study_visits[visit_oid]
                if visit.kind is VisitKind.SCHEDULED and visit.reference:
                    self._reads_reference(rule, visit.reference)
        elif name in self._references:
            self._reads_reference(rule, name)
        # "TODAY" depends on no data: it is read whenever the rule runs.

    def _reads_reference(self, rule: Rule, name: str, depth: int = 0) -> None:
        """``rule`` reads the reference date ``name``: it depends on what dates it."""
        reference = self._references[name]
        for source in reference.sources:
            if source.startswith("visit:"):
                self.dated_visit_readers[source[6:]].append(rule)
            else:
                visit_oid, form_oid, item_oid = source.split(".")
                self.remote_readers[(visit_oid, form_oid, item_oid)].append(rule)
        if reference.offset_from and depth < 5:
            self._reads_reference(rule, reference.offset_from[0], depth + 1)

    def _group(self, form_oid: str, group_oid: str):
        return next(g for g in self._forms[form_oid].groups if g.oid == group_oid)

    def cycles(self) -> list[list[str]]:
        """Derivations that feed themselves, each as its path ``V.F.A → V.F.B → V.F.A``."""
        feeds: dict[tuple[str, str, str], set[tuple[str, str, str]]] = defaultdict(set)
        for form_oid, rules in self.rules_of.items():
            for rule in rules:
                if rule.derivation is None:
                    continue
                for visit_oid in self._visits_of[form_oid]:
                    feeds[(visit_oid, form_oid, rule.target)]  # every derived item is a node
        for (form_oid, item_oid), rules in self.local_readers.items():
            for rule in rules:
                if rule.derivation is not None:
                    for visit_oid in self._visits_of[form_oid]:
                        feeds[(visit_oid, form_oid, item_oid)].add(
                            (visit_oid, form_oid, rule.target)
                        )
        for (form_oid, item_oid), rules in self.visit_readers.items():
            for rule in rules:
                if rule.derivation is not None:
                    for visit_oid in self._visits_of[form_oid]:
                        if visit_oid in self._visits_of[rule.form_oid]:
                            feeds[(visit_oid, form_oid, item_oid)].add(
                                (visit_oid, rule.form_oid, rule.target)
                            )
        for (visit_oid, form_oid, item_oid), rules in self.remote_readers.items():
            for rule in rules:
                if rule.derivation is not None:
                    for reader_visit in self._visits_of[rule.form_oid]:
                        feeds[(visit_oid, form_oid, item_oid)].add(
                            (reader_visit, rule.form_oid, rule.target)
                        )
        for (form_oid, item_oid), rules in self.any_visit_readers.items():
            for rule in rules:
                if rule.derivation is not None:
                    for visit_oid in self._visits_of[form_oid]:
                        for reader_visit in self._visits_of[rule.form_oid]:
                            feeds[(visit_oid, form_oid, item_oid)].add(
                                (reader_visit, rule.form_oid, rule.target)
                            )
        found: list[list[str]] = []
        state: dict[tuple, int] = {}  # 1: on the path, 2: done
        path: list[tuple[str, str, str]] = []

        def visit(node) -> None:
            state[node] = 1
            path.append(node)
            for after in sorted(feeds.get(node, ())):
                if state.get(after) == 1:
                    loop = [*path[path.index(after) :], after]
                    found.append([".".join(n) for n in loop])
                elif after not in state:
                    visit(after)
            path.pop()
            state[node] = 2

        for node in sorted(feeds):
            if node not in state:
                visit(node)
        return found

    def save_reads(self, visit_oid: str, form_oid: str) -> frozenset[FormRead]:
        """The entries whose values the rules a save of ``form_oid`` at ``visit_oid`` may
        run read: an upper bound of ``reach`` for any change of the form's items (every
        rule of the form, those its items reach, through the derived values they change;
        each rule's own entries and its inputs'), from the definition alone."""
        found = self._save_reads.get((visit_oid, form_oid))
        if found is not None:
            return found
        reads: set[FormRead] = set()
        ran: set[tuple[str | None, Rule]] = set()
        work = [(visit_oid, form_oid, item.oid) for _, item in self._forms[form_oid].items()]
        seen = set(work)

        def run(rule: Rule, at: str | None) -> None:
            """``rule`` runs on its form's entry at visit ``at`` (None: at every visit)."""
            if (at, rule) in ran:
                return
            ran.add((at, rule))
            reads.update((at if v == _HERE else v, f) for v, f in self._reads_of[rule])
            target = (at, rule.form_oid, rule.target)
            if rule.derivation is not None and target not in seen:
                seen.add(target)
                work.append(target)

        for rule in self.rules_of.get(form_oid, ()):
            run(rule, visit_oid)
        while work:
            at, item_form, item_oid = work.pop()
            for rule in self.local_readers.get((item_form, item_oid), ()):
                run(rule, at)
            for rule in self.visit_readers.get((item_form, item_oid), ()):
                run(rule, at)
            for (visit, read_form, read_item), rules in self.remote_readers.items():
                if (read_form, read_item) == (item_form, item_oid) and at in (None, visit):
                    for rule in rules:
                        run(rule, None)
            for rule in self.any_visit_readers.get((item_form, item_oid), ()):
                run(rule, None)
        found = self._save_reads[(visit_oid, form_oid)] = frozenset(reads)
        return found

    def reach(
        self,
        entries: Iterable[EntryKey],
        changed: Iterable[ItemKey],
        saved: EntryKey | None,
        dated: Iterable[tuple[str, int]] = (),
    ) -> Scope:
        """The derivations and checks that ``changed`` items and the dates of the ``dated``
        visits (visit OID, repeat key) reach among the subject's ``entries``, through the
        derived values they change too; every rule of the ``saved`` entry runs as well (a
        new entry's derived values are computed at its first save)."""
        by_form: dict[str, list[EntryKey]] = defaultdict(list)
        present = set(entries)
        for key in present:
            by_form[key[2]].append(key)
        scope = Scope()
        work: list[ItemKey] = []
        seen: set[ItemKey] = set()

        def push(item: ItemKey) -> None:
            if item not in seen:
                seen.add(item)
                work.append(item)

        def run(entry: EntryKey, rule: Rule) -> None:
            if rule.check is not None:
                scope.checks.add((entry, rule.name))
            elif (entry, rule.target) not in scope.derivations:
                scope.derivations.add((entry, rule.target))
                push((*entry, rule.target))

        for item in changed:
            push(item)
        if saved is not None:
            for rule in self.rules_of.get(saved[2], ()):
                run(saved, rule)
        for visit in dated:
            for entry in present:
                if entry[:2] == visit:
                    for rule in self.own_date_readers.get(entry[2], ()):
                        run(entry, rule)
            for rule in self.dated_visit_readers.get(visit[0], ()):
                for entry in by_form.get(rule.form_oid, ()):
                    run(entry, rule)
            for rule in self.any_date_readers:
                for entry in by_form.get(rule.form_oid, ()):
                    run(entry, rule)
        while work:
            visit_oid, repeat, form_oid, item_oid = work.pop()
            for rule in self.local_readers.get((form_oid, item_oid), ()):
                run((visit_oid, repeat, form_oid), rule)
            for rule in self.visit_readers.get((form_oid, item_oid), ()):
                if (visit_oid, repeat, rule.form_oid) in present:
                    run((visit_oid, repeat, rule.form_oid), rule)
            for rule in self.remote_readers.get((visit_oid, form_oid, item_oid), ()):
                for entry in by_form.get(rule.form_oid, ()):
                    run(entry, rule)
            for rule in self.any_visit_readers.get((form_oid, item_oid), ()):
                for entry in by_form.get(rule.form_oid, ()):
                    run(entry, rule)
        return scope


def _source_reads(sources) -> set[FormRead]:
    """The entries a reference's or a baseline's sources read (``"VISIT.FORM.ITEM"``; a
    visit's own date, ``"visit:…"``, is in no entry)."""
    return {
        (source.split(".")[0], source.split(".")[1])
        for source in sources
        if not source.startswith("visit:")
    }
