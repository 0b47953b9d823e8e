"""What a study's reports read: plain data a study definition may declare beside its STUDY.

A study package (``forms.iahprrt``) holds a module ``reports`` whose attributes are report
plans (``IMAGING``, ``SAFETY``…) naming the forms and items each report reads. A report
whose plan a study does not declare is not offered for that study. Plans are not part of
the definition's fingerprint: they change what is printed, never what is captured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AcrfPlan:
    """What the blank annotated CRF says beyond the definition itself.

    An edit check's function returns the message for the case at hand; the blank form
    needs the rule it enforces. ``check_words`` gives it, by "FORM.CHECK" or by "CHECK"
    for every form having a check of that name. Checks not listed are described from the
    definition (the message they are given, the eligibility rule, the function's docstring).
    """

    check_words: Mapping[str, str] = field(default_factory=dict)
