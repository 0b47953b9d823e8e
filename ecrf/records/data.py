"""A subject's captured data, loaded once and read as typed values."""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ecrf.extensions import db
from ecrf.records import fields, units
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Subject, SubjectVisit
from forms.language import Item

log = logging.getLogger(__name__)
M = TypeVar("M")


@dataclass
class RowData:
    group_oid: str
    repeat_key: int
    values: dict[str, Any] = field(default_factory=dict)  # item OID → typed value
    missing: dict[str, str] = field(default_factory=dict)  # item OID → missing-data code
    row: ItemGroupRow | None = None
    #: Items with several units: item OID → (value as entered, UCUM symbol of its unit);
    #: ``values`` holds the value converted to the item's standard unit.
    entered: dict[str, tuple[Any, str]] = field(default_factory=dict)

    def read(
        self, item: Item, text: str | None, unit: str | None, missing_code: str | None
    ) -> None:
        """Keep one stored value of ``item`` as its typed value (in its standard unit)."""
        typed = fields.load(item, text)
        if item.multi_unit and typed is not None:
            symbol = unit or item.standard_unit.symbol
            self.entered[item.oid] = (typed, symbol)
            typed = units.to_standard(item, typed, symbol)
        self.values[item.oid] = typed
        if missing_code:
            self.missing[item.oid] = missing_code


class EntryData:
    """One form entry's rows as typed values: (group OID, repeat key) → ``RowData``."""

    def __init__(
        self,
        form_oid: str,
        entry: FormEntry | None,
        rows: dict[tuple[str, int], RowData] | None = None,
    ) -> None:
        self.form_oid = form_oid
        self._entry = entry
        #: The entry as read as a plain row, until ``entry`` is first asked for.
        self._stored_entry: sa.Row | None = None
        self._rows = {} if rows is None else rows
        self._stored_texts: dict[tuple[str, int, str], str | None] | None = None
        #: Where the entry's stored values wait, untyped (see ``SubjectData.load``).
        self._unread: _StoredValues | None = None
        #: The definition to type the entry's loaded rows with when first read (rows the
        #: session holds already, of an entry the caller did not say it would read).
        self._untyped: LoadedStudy | None = None
        self._groups: dict[str, list[RowData]] = {}
        self._groups_size = -1

    @property
    def entry(self) -> FormEntry | None:
        """The stored entry (None: not created yet); an entry read as a plain row becomes
        an ORM object here, as loaded, without a statement."""
        if self._stored_entry is not None:
            self._entry, self._stored_entry = as_loaded(FormEntry, self._stored_entry), None
        return self._entry

    @property
    def entry_id(self) -> int | None:
        """The entry's id, without making a plain row an ORM object."""
        if self._stored_entry is not None:
            return self._stored_entry.id
        return self._entry.id if self._entry is not None else None

    def rows_loaded(self) -> bool:
        """Whether the entry's rows are loaded as ORM objects (``rows_loaded``)."""
        return self._stored_entry is None and self._entry is not None and rows_loaded(self._entry)

    @property
    def rows(self) -> dict[tuple[str, int], RowData]:
        if self._unread is not None:
            self._type_stored()
        elif self._untyped is not None:
            study, self._untyped = self._untyped, None
            _type_rows(study, self, self.entry)
        return self._rows

    @property
    def stored_texts(self) -> dict[tuple[str, int, str], str | None] | None:
        """For an entry read as plain rows (``SubjectData.load`` with a focus elsewhere):
        each value's text as stored, (group OID, repeat key, item OID) → text. ``rows`` may
        be changed by derivations; this says what the database holds."""
        if self._unread is not None:
            self._type_stored()
        return self._stored_texts

    def _type_stored(self) -> None:
        """Type the values read as plain rows, at the first use of this entry's rows: most
        of a subject's entries are read by no rule a save runs."""
        source, self._unread = self._unread, None
        stored = source.of(self.entry_id)
        items = source.study.items_of(self.form_oid)
        texts: dict[tuple[str, int, str], str | None] = {}
        row_data, here = None, None
        for group_oid, repeat_key, item_oid, text, unit, missing in stored:
            if row_data is None or here != (group_oid, repeat_key):
                here = (group_oid, repeat_key)
                row_data = self._rows[here] = RowData(group_oid, repeat_key)
            if item_oid is not None:
                texts[(group_oid, repeat_key, item_oid)] = text
                found = items.get(item_oid)  # an item the definition no longer has: skipped
                if found is not None:
                    row_data.read(found[1], text, unit, missing)
        self._stored_texts = texts

    def group_rows(self, group_oid: str) -> list[RowData]:
        """The rows of ``group_oid`` by repeat key (rules ask this for each input: indexed
        again when rows were added; rows are added, never taken out or replaced)."""
        rows = self.rows
        if self._groups_size != len(rows):
            groups: dict[str, list[RowData]] = defaultdict(list)
            for (group, _), row in rows.items():
                groups[group].append(row)
            for group_rows in groups.values():
                group_rows.sort(key=lambda r: r.repeat_key)
            self._groups, self._groups_size = groups, len(rows)
        return list(self._groups.get(group_oid, ()))

    def single(self, group_oid: str) -> RowData:
        return self.rows.setdefault((group_oid, 1), RowData(group_oid, 1))


class SubjectData:
    """Every non-removed row of every form of a subject, as typed values."""

    def __init__(self, study: LoadedStudy, subject: Subject) -> None:
        self.study = study
        self.subject = subject
        self.visits: dict[tuple[str, int], SubjectVisit] = {}
        self.entries: dict[tuple[str, int, str], EntryData] = {}
        self._index: dict[tuple[str, str], list[tuple[str, int, str]]] = {}
        self._index_size = 0
        self._form_index: dict[str, list[tuple[str, int, str]]] = {}
        self._form_index_size = 0

    @classmethod
    def load(
        cls,
        study: LoadedStudy,
        subject: Subject,
        *,
        focus: tuple[str, int, str] | None = None,
        reads: Collection[tuple[str | None, str]] | None = None,
    ) -> SubjectData:
        """Read the subject's visits, entries and values.

        :param focus: (visit OID, repeat, form OID) of the one entry the caller will write
            or show as a form (a save, a form page): only its rows and values are read as
            ORM objects; the other entries' values, which the caller only reads, come as
            plain rows (several times cheaper: a documented subject has a thousand values),
            and in a session holding no entry yet (a request's) so do the other entries
            themselves, each an ORM object only once asked for (``EntryData.entry``).
            Without it, every entry's rows are ORM objects (``entry.rows``). Plain values
            are typed when an entry's rows are first read (so are the rows the session
            holds already of an entry outside ``reads``).
        :param reads: with ``focus``, the (visit OID, form OID) of the entries whose values
            the caller will read (visit None: the form's at every visit): only theirs are
            read now; the others', should the caller read one after all, in one statement
            at that moment. Default: every entry's.
        """
        data = cls(study, subject)
        visits = db.session.scalars(_visits_query(), {"subject_id": subject.id}).all()
        data.visits = {(v.visit_oid, v.repeat_key): v for v in visits}
        if not visits:
            return data
        # Each visit's and entry's attributes read once (an ORM attribute costs a call, and
        # a documented subject has dozens of entries).
        visit_keys = {visit.id: key for key, visit in data.visits.items()}
        if focus is not None and not _entries_in_session():
            data._read_entries_plain(visit_keys, focus, reads)
            return data
        entries = db.session.scalars(_entries_query(), {"visit_ids": list(visit_keys)}).all()
        keyed = [(e, (*visit_keys[e.visit_id], e.form_oid), e.id) for e in entries]
        # Entries read already in this session hold their rows: eager loading would fetch
        # them again only for the ORM to discard them (it never overwrites a loaded
        # collection).
        unread = [(entry, key, i) for entry, key, i in keyed if not rows_loaded(entry)]
        if focus is None:
            if unread:
                db.session.scalars(
                    sa.select(FormEntry)
                    .where(FormEntry.id.in_([entry_id for _, _, entry_id in unread]))
                    .options(selectinload(FormEntry.rows).selectinload(ItemGroupRow.values))
                ).all()
            plain: dict[int, _StoredValues] = {}
        else:
            for entry, key, _ in unread:
                if key == focus:
                    load_rows(entry)
            others = [(key, i) for _, key, i in unread if key != focus and key[2] in study.forms]
            plain = _plain_values(study, others, reads)
        for entry, key, entry_id in keyed:
            entry_data = data.entries[key] = EntryData(key[2], entry)
            if key[2] not in study.forms:
                continue
            if entry_id in plain:
                entry_data._unread = plain[entry_id]
                continue
            if key != focus and not _reads_entry(reads, key):
                entry_data._untyped = study  # held by the session, read by no step (yet)
                continue
            _type_rows(study, entry_data, entry)
        return data

    def _read_entries_plain(
        self,
        visit_keys: dict[int, tuple[str, int]],
        focus: tuple[str, int, str],
        reads: Collection[tuple[str | None, str]] | None,
    ) -> None:
        """``load`` with a focus in a session that holds no entry yet (a request's): the
        entries read as plain rows, each made an ORM object only if asked for (a save asks
        for few of dozens), the focused one read with its rows and values."""
        study = self.study
        stored = plain_rows(_entry_rows_query(), {"visit_ids": list(visit_keys)}).all()
        keyed = [((*visit_keys[row.visit_id], row.form_oid), row) for row in stored]
        focused = next((row for key, row in keyed if key == focus), None)
        entry = None
        if focused is not None:  # the entry from its row, its rows and values read
            entry = as_loaded(FormEntry, focused)
            load_rows(entry)
        others = [(key, row.id) for key, row in keyed if key != focus and key[2] in study.forms]
        plain = _plain_values(study, others, reads)
        for key, row in keyed:
            if key == focus:
                entry_data = self.entries[key] = EntryData(key[2], entry)
                if key[2] in study.forms:
                    _type_rows(study, entry_data, entry)
                continue
            entry_data = self.entries[key] = EntryData(key[2], None)
            entry_data._stored_entry = row
            if row.id in plain:
                entry_data._unread = plain[row.id]

    def entry(self, visit_oid: str, repeat_key: int, form_oid: str) -> EntryData | None:
        return self.entries.get((visit_oid, repeat_key, form_oid))

    def first_entry(self, visit_oid: str, form_oid: str) -> EntryData | None:
        keys = self._keys_of(visit_oid, form_oid)
        return self.entries[keys[0]] if keys else None

    def _keys_of(self, visit_oid: str, form_oid: str) -> list[tuple[str, int, str]]:
        """The keys of the entries of ``form_oid`` at ``visit_oid``, in order (rules ask
        this often); indexed again when entries were added (none is ever taken out)."""
        if self._index_size != len(self.entries):
            index: dict[tuple[str, str], list[tuple[str, int, str]]] = defaultdict(list)
            for key in sorted(self.entries):
                index[(key[0], key[2])].append(key)
            self._index, self._index_size = index, len(self.entries)
        return self._index.get((visit_oid, form_oid), [])

    def form_keys(self, form_oid: str) -> list[tuple[str, int, str]]:
        """The keys of the entries of ``form_oid`` at every visit, in ``entries``' order (the
        baseline and latest-value look-ups ask this for each input they read)."""
        if self._form_index_size != len(self.entries):
            index: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
            for key in self.entries:
                index[key[2]].append(key)
            self._form_index, self._form_index_size = index, len(self.entries)
        return self._form_index.get(form_oid, [])

    def value(self, visit_oid: str, form_oid: str, item_oid: str) -> Any:
        entry = self.first_entry(visit_oid, form_oid)
        if entry is None:
            return None
        group, _ = self.study.item(form_oid, item_oid)
        row = entry.rows.get((group.oid, 1))
        return row.values.get(item_oid) if row else None

    def rows(self, visit_oid: str, form_oid: str, group_oid: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for key in self._keys_of(visit_oid, form_oid):
            result.extend(dict(r.values) for r in self.entries[key].group_rows(group_oid))
        return result

    def visit_date(self, visit_oid: str):
        visit = self.visits.get((visit_oid, 1))
        return visit.visit_date if visit else None

    def in_subgroup(self, name: str) -> bool:
        subgroup = self.study.subgroups[name]
        visit_oid, form_oid, item_oid = subgroup.item.split(".")
        return self.value(visit_oid, form_oid, item_oid) == subgroup.value


def rows_loaded(entry: FormEntry) -> bool:
    # The instance's own dict is its ORM state's (``sa.inspect(entry).dict``), unwrapped.
    return "rows" in entry.__dict__


def load_rows(entry: FormEntry) -> list[ItemGroupRow]:
    """The entry's rows with their values, read in one statement if not loaded yet (rather
    than one per row, as lazy loading would)."""
    if not rows_loaded(entry):
        rows = db.session.scalars(_rows_query(), {"entry_id": entry.id}).unique().all()
        set_committed_value(entry, "rows", rows)
    return entry.rows


def _type_rows(study: LoadedStudy, entry_data: EntryData, entry: FormEntry) -> None:
    """The entry's non-removed rows (ORM objects) typed into ``entry_data``."""
    for row in entry.rows:
        if row.removed:
            continue
        row_data = RowData(row.group_oid, row.repeat_key, row=row)
        for value in row.values:
            _add_value(
                study,
                entry_data.form_oid,
                row_data,
                value.item_oid,
                value.value_text,
                value.unit,
                value.missing_code,
            )
        entry_data.rows[(row.group_oid, row.repeat_key)] = row_data


def _plain_values(
    study: LoadedStudy,
    others: list[tuple[tuple[str, int, str], int]],
    reads: Collection[tuple[str | None, str]] | None,
) -> dict[int, _StoredValues]:
    """Where the values of ``others`` (key, entry id) wait as plain rows: those ``reads``
    names read now, in one statement; the others' only if one is read after all."""
    now = _StoredValues(
        study,
        [
            entry_id
            for (visit_oid, _, form_oid), entry_id in others
            if _reads_entry(reads, (visit_oid, _, form_oid))
        ],
    )
    later = _StoredValues(study, [i for _, i in others if i not in now.entry_ids], unexpected=True)
    now.read()
    plain = {entry_id: now for entry_id in now.entry_ids}
    return plain | {entry_id: later for entry_id in later.entry_ids}


def _reads_entry(reads: Collection[tuple[str | None, str]] | None, key: tuple) -> bool:
    """Whether ``reads`` (``SubjectData.load``'s; None: every entry) names the entry."""
    return reads is None or (None, key[2]) in reads or (key[0], key[2]) in reads


def _entries_in_session() -> bool:
    """Whether this session holds a form entry (a transaction that wrote one already)."""
    return any(key[0] is FormEntry for key in db.session.identity_map)


def as_loaded(model: type[M], row: sa.Row | Mapping[str, Any]) -> M:
    """The object of ``model`` whose every column ``row`` holds, as if the ORM had loaded
    it, without a statement: the session's own object when it holds one (its expired
    attributes taken from the row, as a query's would be), else a new one in the session.
    For queries that mostly find nothing (a lock, a signature), read as plain rows."""
    columns = row._mapping if isinstance(row, sa.Row) else row
    session = db.session()
    found = session.identity_map.get(session.identity_key(model, columns["id"]))
    if found is None:
        found = model(**columns)
        make_transient_to_detached(found)
        session.add(found)
    elif expired := sa.inspect(found).expired_attributes:
        for name, value in columns.items():
            if name in expired:
                set_committed_value(found, name, value)
    return found


def plain_rows(statement: sa.Select, params: dict) -> sa.CursorResult:
    """Plain rows of ``statement``: the connection's, without the session's result handling
    (what the session changed written first, as a query through it would)."""
    session = db.session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params)


class _StoredValues:
    """The non-removed rows of some entries as they are stored, read in one statement (when
    first needed), without ORM objects: entry id → [(group OID, repeat key, item OID,
    text, unit, missing code)] in the order of their rows (an empty row: item OID None)."""

    def __init__(self, study: LoadedStudy, entry_ids: list[int], *, unexpected=False) -> None:
        self.study = study
        self.entry_ids = frozenset(entry_ids)
        #: Read only if the caller reads outside the entries it said it would (logged).
        self.unexpected = unexpected
        self._stored: dict[int, list[tuple]] | None = None

    def of(self, entry_id: int) -> list[tuple]:
        return self.read()[entry_id]

    def read(self) -> dict[int, list[tuple]]:
        if self._stored is None:
            self._stored = {entry_id: [] for entry_id in self.entry_ids}
            if self.entry_ids and self.unexpected:
                log.debug("values read beyond the declared reads: entries %s", self.entry_ids)
            if self.entry_ids:
                ids = {"ids": sorted(self.entry_ids)}
                for entry_id, *stored in plain_rows(_stored_query(), ids).all():
                    self._stored[entry_id].append(stored)
        return self._stored


# The queries every save and form page asks, built once (building costs more than running).
@functools.cache
def _visits_query() -> sa.Select:
    return sa.select(SubjectVisit).where(SubjectVisit.subject_id == sa.bindparam("subject_id"))


@functools.cache
def _entries_query() -> sa.Select:
    return (
        sa.select(FormEntry)
        .where(FormEntry.visit_id.in_(sa.bindparam("visit_ids", expanding=True)))
        .order_by(FormEntry.id)
    )


@functools.cache
def _entry_rows_query() -> sa.Select:
    """The entries of some visits as plain rows: every column (``as_loaded``)."""
    table = FormEntry.__table__
    return (
        sa.select(table)
        .where(table.c.visit_id.in_(sa.bindparam("visit_ids", expanding=True)))
        .order_by(table.c.id)
    )


@functools.cache
def _rows_query() -> sa.Select:
    return (
        sa.select(ItemGroupRow)
        .where(ItemGroupRow.entry_id == sa.bindparam("entry_id"))
        .options(joinedload(ItemGroupRow.values))
        .order_by(ItemGroupRow.group_oid, ItemGroupRow.repeat_key)
    )


@functools.cache
def _stored_query() -> sa.Select:
    return (
        sa.select(
            ItemGroupRow.entry_id,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemValue.item_oid,
            ItemValue.value_text,
            ItemValue.unit,
            ItemValue.missing_code,
        )
        .outerjoin(ItemValue, ItemValue.row_id == ItemGroupRow.id)
        .where(ItemGroupRow.entry_id.in_(sa.bindparam("ids", expanding=True)))
        .where(ItemGroupRow.removed.is_(False))
        .order_by(
            ItemGroupRow.entry_id,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemValue.id,
        )
    )


def _add_value(
    study: LoadedStudy,
    form_oid: str,
    row_data: RowData,
    item_oid: str,
    text: str | None,
    unit: str | None,
    missing: str | None,
) -> None:
    if study.has_item(form_oid, item_oid):
        row_data.read(study.item(form_oid, item_oid)[1], text, unit, missing)


def group_entries_by_subject(entries) -> dict[int, list[FormEntry]]:
    result: dict[int, list[FormEntry]] = defaultdict(list)
    for entry in entries:
        result[entry.visit.subject_id].append(entry)
    return result
