"""Eligibility: every criterion with the investigator's answer, the computed result and its
evidence; inclusion refused while any criterion fails, is unanswered or is contradicted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecrf.records import fields
from ecrf.records.data import RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Finding
from ecrf.records.rule_failures import rule_failed
from forms.language import Criterion


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    answer: str | None  # the checklist answer: "Y", "N", a missing code, or None
    computed: bool | None  # what the data say (None: cannot tell, or not computable)
    evidence: list[tuple[str, str]]  # (input label, value as read)

    @property
    def answered(self) -> bool:
        return self.answer in ("Y", "N")

    @property
    def contradiction(self) -> bool:
        return self.answered and self.computed is not None and (self.answer == "Y") != self.computed

    @property
    def computed_fails(self) -> bool:
        """The data alone show the patient is not eligible on this criterion."""
        if self.computed is None:
            return False
        return self.computed is not (self.criterion.eligible_answer == "Y")

    @property
    def fails(self) -> bool:
        answered_against = self.answered and self.answer != self.criterion.eligible_answer
        return answered_against or self.computed_fails

    @property
    def state(self) -> str:
        """contradiction | fails | unanswered | satisfied

        A contradiction always fails one way or the other (the answer or the data is
        against inclusion); it is named as such so that the investigator knows to correct
        the answer or the data.
        """
        if self.contradiction:
            return "contradiction"
        if self.fails:
            return "fails"
        if not self.answered:
            return "unanswered"
        return "satisfied"


@dataclass(frozen=True)
class Assessment:
    results: list[CriterionResult]

    @property
    def failing(self) -> list[CriterionResult]:
        """Criteria not met, by the answer or by the data (contradictions included)."""
        return [r for r in self.results if r.fails]

    @property
    def blocking(self) -> list[CriterionResult]:
        return [r for r in self.results if r.state != "satisfied"]

    @property
    def eligible(self) -> bool:
        return not self.blocking

    def summary(self, results: list[CriterionResult]) -> str:
        return "; ".join(f"{r.criterion.id} ({_STATE_WORDS[r.state]})" for r in results)


_STATE_WORDS = {
    "fails": "not met",
    "contradiction": "answer contradicts the data",
    "unanswered": "not answered",
    "satisfied": "met",
}


def _read(study: LoadedStudy, data: SubjectData, ref: str) -> tuple[Any, str, str]:
    """(typed value, label, value as shown) of an input reference."""
    visit_oid, form_oid, last = ref.split(".")
    if last.endswith("[]"):
        rows = data.rows(visit_oid, form_oid, last[:-2])
        group = study.group(form_oid, last[:-2])
        return rows, f"{study.forms[form_oid].name}: {group.label}", f"{len(rows)} row(s)"
    value = data.value(visit_oid, form_oid, last)
    item = study.item(form_oid, last)[1]
    shown = fields.display(item, value, study.codelist_for(item)) if value is not None else "—"
    return value, f"{item.label} ({visit_oid})", shown


def assess(study: LoadedStudy, data: SubjectData) -> Assessment:
    """Each criterion of the definition against the subject's data."""
    results = []
    for criterion in study.study.eligibility:
        values: dict[str, Any] = {}
        evidence = []
        for ref in criterion.inputs:
            value, label, shown = _read(study, data, ref)
            values[ref] = value
            evidence.append((label, shown))
        visit_oid, form_oid, item_oid = criterion.item.split(".")
        entry = data.first_entry(visit_oid, form_oid)
        group, _ = study.item(form_oid, item_oid)
        row = entry.rows.get((group.oid, 1)) if entry else None
        answer = None
        if row is not None:
            answer = row.values.get(item_oid) or row.missing.get(item_oid)
        try:
            computed = criterion.evaluate(values)
        except Exception as error:  # a bug of the definition: logged, or raised when strict
            where = (visit_oid, 1, form_oid)
            rule_failed(
                "criterion", criterion.id, data, where, row or RowData(group.oid, 1), values, error
            )
            computed = None
        results.append(CriterionResult(criterion, answer, computed, evidence))
    return Assessment(results)


def open_questions(study: LoadedStudy, findings: list[Finding]) -> dict[str, list[str]]:
    """The open findings at each criterion's checklist answer, by criterion id: the
    questions the edit checks ask the investigator (a contradiction that appeared after
    inclusion, a blood pressure to confirm), shown with the criterion."""
    by_item = {c.item: c.id for c in study.study.eligibility}
    questions: dict[str, list[str]] = {}
    for finding in findings:
        visit = finding.entry.visit
        ref = f"{visit.visit_oid}.{finding.entry.form_oid}.{finding.item_oid}"
        if ref in by_item:
            questions.setdefault(by_item[ref], []).append(finding.message)
    return questions
