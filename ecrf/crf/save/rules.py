"""Step 6: the derivations and edit checks the changed items reach run on the data as it
would be after the save; a rejecting check on the saved form refuses it at its field."""

from __future__ import annotations

from typing import Any

from ecrf.crf.evaluate import Found, run_checks, run_derivations
from ecrf.crf.save.outcome import FieldIssue
from ecrf.crf.save.plan import FormSave, ValueChange
from ecrf.records.data import SubjectData
from ecrf.records.rule_graph import Scope
from forms.language import Severity


def reached(save: FormSave, data: SubjectData, changes: list[ValueChange]) -> Scope:
    """The derivations and checks the save's changes reach (every rule of the saved form
    included), from the definition's graph of which rule reads which item."""
    here = (save.visit_oid, save.visit_repeat, save.form_oid)
    changed = [(*here, change.item_oid) for change in changes]
    return save.study.rules.reach(data.entries, changed, saved=here)


def derive_and_check(
    save: FormSave, data: SubjectData, scope: Scope
) -> tuple[dict[tuple, Any], list[Found], list[FieldIssue]]:
    """The derived values and findings of the rules in ``scope``, and the rejections on
    this form as field issues."""
    derived = run_derivations(save.study, data, scope, save.today)
    found = run_checks(save.study, data, scope, save.today)
    here = (save.visit_oid, save.visit_repeat, save.form_oid)
    rejected = [
        FieldIssue(f.key.group_oid, f.key.row_key, f.key.item_oid, f.message)
        for f in found
        if f.severity is Severity.REJECT
        and (f.key.visit_oid, f.key.repeat_key, f.key.form_oid) == here
    ]
    return derived, found, rejected
