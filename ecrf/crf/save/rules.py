"""Step 6: derivations and edit checks run on the data as it would be after the save; a
rejecting check on the saved form refuses it at its field."""

from __future__ import annotations

from typing import Any

from ecrf.crf.evaluate import Found, derive, run_checks
from ecrf.crf.save.outcome import FieldIssue
from ecrf.crf.save.plan import FormSave
from ecrf.records.data import SubjectData
from forms.language import Severity


def derive_and_check(
    save: FormSave, data: SubjectData
) -> tuple[dict[tuple, Any], list[Found], list[FieldIssue]]:
    """The derived values, every finding, and the rejections on this form as field issues."""
    derived = derive(save.study, data)
    found = run_checks(save.study, data)
    here = (save.visit_oid, save.visit_repeat, save.form_oid)
    rejected = [
        FieldIssue(f.key.group_oid, f.key.row_key, f.key.item_oid, f.message)
        for f in found
        if f.severity is Severity.REJECT
        and (f.key.visit_oid, f.key.repeat_key, f.key.form_oid) == here
    ]
    return derived, found, rejected
