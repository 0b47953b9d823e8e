"""A derivation or an edit check that raises: a bug of the study definition, never silent.

Logged with where it happened (subject, visit, form, row, rule, inputs), or raised as
:class:`RuleFailed` when ``STRICT_RULES`` is on (the tests run so).
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from flask import current_app, has_app_context

from ecrf.records.data import RowData, SubjectData

log = logging.getLogger("ecrf.crf.evaluate")

#: Characters of the inputs' repr kept in a log line or an error (a repeating group can be long).
INPUTS_REPR_LIMIT = 2000


class RuleFailed(RuntimeError):
    """A derivation or an edit check raised (``STRICT_RULES`` on): a bug of the definition.

    Names where: the subject, the visit, the form, the row, the rule and its inputs; the
    exception the rule raised is the ``__cause__``.
    """

    def __init__(
        self,
        kind: str,
        rule: str,
        subject: str | None,
        visit: tuple[str, int, str],
        row: tuple[str, int],
        inputs: str,
        error: BaseException,
    ) -> None:
        self.kind, self.rule, self.subject = kind, rule, subject
        self.visit_oid, self.visit_repeat, self.form_oid = visit
        self.group_oid, self.row_key = row
        self.inputs = inputs
        super().__init__(
            f"{kind} {rule} raised {type(error).__name__}: {error} (subject {subject},"
            f" visit {self.visit_oid}[{self.visit_repeat}], form {self.form_oid},"
            f" row {self.group_oid}[{self.row_key}]; inputs {inputs})"
        )


def strict_rules() -> bool:
    """``STRICT_RULES`` of the running app (off outside an app context)."""
    return has_app_context() and bool(current_app.config.get("STRICT_RULES", False))


def shortened_repr(value: Any, limit: int = INPUTS_REPR_LIMIT) -> str:
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def rule_failed(
    kind: str,
    rule: str,
    data: SubjectData,
    where: tuple[str, int, str],
    row: RowData,
    inputs: dict[str, Any],
    error: Exception,
) -> None:
    """A derivation (``kind`` "derivation", ``rule`` its target) or an edit check (``rule``
    its name) raised on ``inputs``: raise :class:`RuleFailed` in strict mode; otherwise log
    it (ERROR, with the traceback) and let the caller go on (no value, no finding), for a
    definition bug must not block data entry.

    Rules express "cannot be computed" by returning None: raising is always a bug.
    """
    subject = getattr(getattr(data, "subject", None), "identifier", None)
    failure = RuleFailed(
        kind, rule, subject, where, (row.group_oid, row.repeat_key), shortened_repr(inputs), error
    )
    if strict_rules():
        raise failure from error
    if _first_report(data, str(failure)):
        log.error("%s", failure, exc_info=error)


#: The failures already logged, by the SubjectData they were found on: run_derivations()
#: runs every rule again at each pass over the same data.
_reported: weakref.WeakKeyDictionary[SubjectData, set[str]] = weakref.WeakKeyDictionary()


def _first_report(data: SubjectData, text: str) -> bool:
    seen = _reported.setdefault(data, set())
    if text in seen:
        return False
    seen.add(text)
    return True
