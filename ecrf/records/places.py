"""A place in a subject's data, as monitoring points at it: a visit, a form of it, a row of
the form, or one item."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataPlace:
    """A visit, or a form of it, or a row of the form, or one item (of the row:
    ``repeat_key`` 1 outside repeating groups). Queries are raised on one
    (``ecrf.queries.services.QueryTarget``), monitors verify one (``ecrf.sdv``)."""

    visit_oid: str
    visit_repeat: int = 1
    form_oid: str | None = None
    group_oid: str | None = None
    repeat_key: int | None = None
    item_oid: str | None = None
