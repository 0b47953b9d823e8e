"""Step 2's scope: the entries whose values a save reads, from the definition alone.

A documented subject has a thousand values in some sixty entries; a save reads few of
them: those its rules may read (the rule graph), those the gates, the bounds of study
dates, the sub-groups and the reference dates (the windows re-checked) read, and for a lab
form the subject's sex and age. Only these are read with the subject; the other entries'
values, should a step read one after all, are read in one statement when it does
(``SubjectData.load``): a scope too narrow costs a statement, never a value.
"""

from __future__ import annotations

from functools import lru_cache

from ecrf.crf.save.laboratory import registry_reads
from ecrf.records.loader import LoadedStudy
from ecrf.records.rule_graph import FormRead
from forms.language import condition_items


@lru_cache(maxsize=256)
def save_reads(study: LoadedStudy, visit_oid: str, form_oid: str) -> frozenset[FormRead]:
    """The (visit OID, form OID) of the entries whose values a save of ``form_oid`` at
    ``visit_oid`` reads (visit None: at every visit)."""
    definition = study.study
    refs = [definition.consent, definition.end_of_study]  # the gates, study-date bounds
    if definition.ended_when is not None:
        refs += condition_items(definition.ended_when)
    refs += [subgroup.item for subgroup in definition.subgroups]
    for reference in definition.references:  # the windows re-checked after a change
        refs += [source for source in reference.sources if not source.startswith("visit:")]
    reads = {tuple(ref.split(".")[:2]) for ref in refs if ref}
    reads |= {(None, form) for form in registry_reads(study, study.forms[form_oid])}
    return study.rules.save_reads(visit_oid, form_oid) | reads
