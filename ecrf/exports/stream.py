"""The captured data read as a stream, in constant memory, for every extract.

One query per call, its rows fetched in batches (a server-side cursor on PostgreSQL), in the
order of the ODM chain: subject → visit → form → item group row → item. Removed rows are left
out; a value is its canonical text (``value_text``: decimals keep their digits, partial dates
their precision) with its missing-data code. Nothing here checks permissions: callers pass
the sites the reader may see (``None``: every site).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from typing import NamedTuple

import sqlalchemy as sa

from ecrf.extensions import db
from ecrf.records.models import (
    DefinitionVersion,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Site,
    Subject,
    SubjectVisit,
)

#: Rows fetched per round trip.
BATCH = 2000


class ValueRecord(NamedTuple):
    """One item value with the keys that place it (an ODM ItemData in its context).

    A named tuple: an extract makes one per value, and a tuple is made several times faster
    than a frozen dataclass."""

    site_code: str
    subject: str  # SITE-NNN
    visit_oid: str
    visit_repeat: int
    visit_date: date | None
    form_oid: str
    entry_status: str
    definition_version: str
    group_oid: str
    repeat_key: int
    item_oid: str
    value: str | None
    missing_code: str | None
    derived: bool
    #: UCUM symbol of the unit ``value`` was entered in (None: the item's standard unit).
    unit: str | None = None


@dataclass(slots=True)
class RowRecord:
    """One item group row of one form of one visit, with its values by item OID."""

    site_code: str
    subject: str
    visit_oid: str
    visit_repeat: int
    visit_date: date | None
    form_oid: str
    entry_status: str
    definition_version: str
    group_oid: str
    repeat_key: int
    values: dict[str, ValueRecord] = field(default_factory=dict)


#: One form OID, several (a domain fed by many forms, still in one subject-ordered stream),
#: or None for every form.
FormFilter = str | Collection[str] | None


def _query(site_ids: Collection[int] | None, form_oid: FormFilter, subject: str | None):
    query = (
        sa.select(
            Site.code,
            Subject.identifier,
            SubjectVisit.visit_oid,
            SubjectVisit.repeat_key,
            SubjectVisit.visit_date,
            FormEntry.form_oid,
            # The stored text ("draft"), which the record holds, not the enum member.
            sa.type_coerce(FormEntry.status, sa.String),
            DefinitionVersion.version,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemValue.item_oid,
            ItemValue.value_text,
            ItemValue.missing_code,
            ItemValue.derived,
            ItemValue.unit,
        )
        .join(Subject, Subject.site_id == Site.id)
        .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .join(DefinitionVersion, DefinitionVersion.id == FormEntry.definition_version_id)
        .join(ItemGroupRow, ItemGroupRow.entry_id == FormEntry.id)
        .join(ItemValue, ItemValue.row_id == ItemGroupRow.id)
        .where(ItemGroupRow.removed.is_(False))
        .order_by(
            Site.code,
            Subject.number,
            SubjectVisit.id,
            FormEntry.form_oid,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemValue.id,
        )
    )
    if site_ids is not None:
        query = query.where(Subject.site_id.in_(list(site_ids)))
    if isinstance(form_oid, str):
        query = query.where(FormEntry.form_oid == form_oid)
    elif form_oid is not None:
        query = query.where(FormEntry.form_oid.in_(list(form_oid)))
    if subject is not None:
        query = query.where(Subject.identifier == subject)
    return query.execution_options(yield_per=BATCH)


def iter_values(
    site_ids: Collection[int] | None = None,
    *,
    form_oid: FormFilter = None,
    subject: str | None = None,
) -> Iterator[ValueRecord]:
    """Every stored value (of non-removed rows), in ODM order, streamed.

    Visits come in the order they were created (which is their order in the subject's
    calendar for scheduled visits); items within a row in the order they were first saved.
    """
    for (
        site_code,
        identifier,
        visit_oid,
        visit_repeat,
        visit_date,
        form,
        status,
        version,
        group_oid,
        repeat_key,
        item_oid,
        value,
        missing_code,
        derived,
        unit,
    ) in _execute(_query(site_ids, form_oid, subject)):
        yield ValueRecord(
            site_code,
            identifier,
            visit_oid,
            visit_repeat,
            visit_date,
            form,
            status,
            version,
            group_oid,
            repeat_key,
            item_oid,
            value,
            missing_code,
            bool(derived),
            unit,
        )


def _execute(query) -> sa.Result:
    # Plain rows through the session's connection (in its transaction), without the ORM's
    # handling of each row, which cost as much as reading them; pending changes are flushed
    # first, as the session's own execute would.
    if db.session.autoflush:
        db.session.flush()
    return db.session.connection().execute(query)


def _row_key(record: ValueRecord) -> tuple:
    return (
        record.subject,
        record.visit_oid,
        record.visit_repeat,
        record.form_oid,
        record.group_oid,
        record.repeat_key,
    )


def iter_rows(
    site_ids: Collection[int] | None = None,
    *,
    form_oid: FormFilter = None,
    subject: str | None = None,
) -> Iterator[RowRecord]:
    """The same stream gathered by item group row: one record per row, values by item OID."""
    for _, group in groupby(iter_values(site_ids, form_oid=form_oid, subject=subject), _row_key):
        records = iter(group)
        first = next(records)
        row = RowRecord(
            site_code=first.site_code,
            subject=first.subject,
            visit_oid=first.visit_oid,
            visit_repeat=first.visit_repeat,
            visit_date=first.visit_date,
            form_oid=first.form_oid,
            entry_status=first.entry_status,
            definition_version=first.definition_version,
            group_oid=first.group_oid,
            repeat_key=first.repeat_key,
        )
        row.values[first.item_oid] = first
        for record in records:
            row.values[record.item_oid] = record
        yield row


def count_rows(site_ids: Collection[int] | None = None, *, form_oid: str | None = None) -> int:
    """How many rows ``iter_rows`` will yield (non-removed rows holding a value): a total for
    progress bars, counted by the database without reading the values."""
    query = (
        sa.select(sa.func.count(sa.distinct(ItemGroupRow.id)))
        .join(FormEntry, FormEntry.id == ItemGroupRow.entry_id)
        .join(SubjectVisit, SubjectVisit.id == FormEntry.visit_id)
        .join(Subject, Subject.id == SubjectVisit.subject_id)
        .join(ItemValue, ItemValue.row_id == ItemGroupRow.id)
        .where(ItemGroupRow.removed.is_(False))
    )
    if site_ids is not None:
        query = query.where(Subject.site_id.in_(list(site_ids)))
    if form_oid is not None:
        query = query.where(FormEntry.form_oid == form_oid)
    return db.session.scalar(query) or 0
