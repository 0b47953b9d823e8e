"""The shape of the tidy CSV bundle: which file holds which item group, and its columns.

A statistician loads one file per observational unit: ``FORM.csv`` holds the form's
non-repeating groups side by side (one row per subject × visit × visit repeat), and each
repeating group gets a file of its own, ``FORM_GROUP.csv`` (one row per group row), because
mixing lesions or adverse events with one-per-visit items in one file leaves most cells
empty and the keys ambiguous. A form whose only group repeats (AE, CM…) is just ``FORM.csv``.
Key columns come first, then one column per item in definition order; an item that takes
missing-data codes is followed by ``ITEM_MISS`` holding the code, so the value column keeps
its type (numbers stay numeric in pandas).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from forms.language import Form, Item, ItemGroup, Study

#: Suffix of the companion column holding an item's missing-data code.
MISSING_SUFFIX = "_MISS"
#: Suffixes of the companion columns of an item with several units: the UCUM symbol of the
#: unit the value was entered in, and the value converted to the item's standard unit.
UNIT_SUFFIX = "_UNIT"
STANDARD_SUFFIX = "_STD"


@dataclass(frozen=True)
class KeyColumn:
    name: str
    label: str


#: Keys of every row, in this order (the statistician's join keys come first).
ROW_KEYS: tuple[KeyColumn, ...] = (
    KeyColumn("STUDYID", "Study identifier (study OID)"),
    KeyColumn("SITEID", "Site code"),
    KeyColumn("SUBJID", "Subject identifier (pseudonymous, SITE-NNN)"),
    KeyColumn("VISIT", "Visit (study event OID)"),
    KeyColumn("VISITREP", "Visit repeat number (1 unless the visit repeats, e.g. unscheduled)"),
    KeyColumn("VISITDAT", "Visit date (ISO 8601), empty for log forms"),
    KeyColumn("FORM", "Form OID"),
    KeyColumn("FORMSTAT", "Status of the form entry (draft, complete, signed, locked…)"),
    KeyColumn("DEFVER", "Version of the study definition the form was entered against"),
)
#: Extra keys of a repeating group's rows.
GROUP_KEYS: tuple[KeyColumn, ...] = (
    KeyColumn("GROUP", "Item group OID"),
    KeyColumn("REPEAT", "Row number within the repeating group (stable, never reused)"),
)
#: The long file: one row per stored value.
LONG_FILE = "long.csv"
LONG_TAIL: tuple[KeyColumn, ...] = (
    KeyColumn("ITEM", "Item OID"),
    KeyColumn("VALUE", "Value as stored (codes, ISO 8601 dates, partial dates as entered)"),
    KeyColumn("MISSING", "Missing-data code (NA, ND, UNK, NASK) when VALUE is empty"),
    KeyColumn("DERIVED", "Y when the value was computed by a derivation, N when entered"),
    KeyColumn(
        "UNIT",
        "UCUM symbol of the unit VALUE was entered in, for items with several units (empty"
        " before the item had several: its standard unit)",
    ),
)
LONG_KEYS: tuple[KeyColumn, ...] = ROW_KEYS + GROUP_KEYS + LONG_TAIL


@dataclass(frozen=True)
class ItemColumn:
    group: ItemGroup
    item: Item

    @property
    def has_missing(self) -> bool:
        # The write path stores a code only where the item allows one, never on a derived item.
        return self.item.missing_allowed and not self.item.derived

    @property
    def has_units(self) -> bool:
        return self.item.multi_unit


@dataclass
class Table:
    """One CSV file of the bundle."""

    file: str
    form: Form
    groups: tuple[ItemGroup, ...]
    repeating: bool
    items: list[ItemColumn] = field(default_factory=list)
    #: Free-text items left out of this extract (listed in the dictionary).
    withheld: list[ItemColumn] = field(default_factory=list)

    @property
    def keys(self) -> tuple[KeyColumn, ...]:
        return ROW_KEYS + GROUP_KEYS if self.repeating else ROW_KEYS

    def header(self) -> list[str]:
        names = [key.name for key in self.keys]
        for column in self.items:
            names.append(column.item.oid)
            if column.has_missing:
                names.append(column.item.oid + MISSING_SUFFIX)
            if column.has_units:
                names += [column.item.oid + UNIT_SUFFIX, column.item.oid + STANDARD_SUFFIX]
        return names


def tables_for(form: Form, *, withhold) -> list[Table]:
    """The files of one form; ``withhold(item)`` says whether an item is left out."""
    plain = tuple(g for g in form.groups if not g.repeating)
    repeating = [g for g in form.groups if g.repeating]
    tables: list[Table] = []
    if plain:
        tables.append(Table(f"{form.oid}.csv", form, plain, repeating=False))
    for group in repeating:
        alone = not plain and len(repeating) == 1
        name = f"{form.oid}.csv" if alone else f"{form.oid}_{group.oid}.csv"
        tables.append(Table(name, form, (group,), repeating=True))
    for table in tables:
        for group in table.groups:
            for item in group.items:
                column = ItemColumn(group, item)
                (table.withheld if withhold(item) else table.items).append(column)
        _check_names(table)
    return tables


def _check_names(table: Table) -> None:
    header = table.header()
    if len(set(header)) != len(header):
        duplicates = sorted({name for name in header if header.count(name) > 1})
        raise ValueError(f"{table.file}: column names collide: {', '.join(duplicates)}")


def study_tables(study: Study, *, withhold) -> Iterator[tuple[Form, list[Table]]]:
    """Every form of the study with its files, in definition order."""
    for form in study.forms:
        yield form, tables_for(form, withhold=withhold)
