"""The data dictionary of the CSV bundle: one row per column of every file, and one per
free-text item withheld from this extract (which proves what was left out)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ecrf.exports.csv_layout import (
    LONG_FILE,
    LONG_KEYS,
    LONG_TAIL,
    MISSING_SUFFIX,
    STANDARD_SUFFIX,
    UNIT_SUFFIX,
    ItemColumn,
    Table,
)
from ecrf.exports.privacy import is_free_text
from ecrf.records.loader import LoadedStudy
from forms.language import MISSING_CODES, Range

DICTIONARY_FILE = "dictionary.csv"

HEADER = (
    "FILE",
    "COLUMN",
    "ROLE",
    "FORM",
    "GROUP",
    "ITEM",
    "LABEL",
    "TYPE",
    "UNITS",
    "CODELIST",
    "DECODES",
    "HARD_LOW",
    "HARD_HIGH",
    "SOFT_LOW",
    "SOFT_HIGH",
    "CDASH",
    "SDTM",
    "ORIGIN",
    "FREE_TEXT",
    "WITHHELD",
)

ROLE_KEY, ROLE_VALUE, ROLE_MISSING = "key", "value", "missing code"
ROLE_UNIT, ROLE_STANDARD = "unit", "value in standard unit"
ORIGIN_DERIVED, ORIGIN_ENTERED = "derived", "entered"
MISSING_LABEL = "Missing-data code of {item} when its value is empty"
MISSING_DECODES = " | ".join(f"{code}={label}" for code, label in MISSING_CODES.items())


def _bound(value_range: Range | None, side: str) -> str:
    bound = getattr(value_range, side) if value_range is not None else None
    return "" if bound is None else format(bound, "f")


def _yes(flag: bool) -> str:
    return "Y" if flag else "N"


def _blank(**values: str) -> dict[str, str]:
    # A column of a file is present and holds no free text unless the item row says so.
    row = dict.fromkeys(HEADER, "") | {"FREE_TEXT": "N", "WITHHELD": "N"}
    row.update(values)
    return row


def _item_row(
    study: LoadedStudy, table: Table, column: ItemColumn, *, withheld: bool
) -> dict[str, str]:
    item = column.item
    codelist = study.codelist_for(item)
    return _blank(
        FILE=table.file,
        COLUMN=item.oid,
        ROLE=ROLE_VALUE,
        FORM=table.form.oid,
        GROUP=column.group.oid,
        ITEM=item.oid,
        LABEL=item.label,
        TYPE=item.type.value,
        UNITS=item.units or " | ".join(u.symbol for u in item.measured_in),
        CODELIST=codelist.oid if codelist else "",
        DECODES=" | ".join(f"{code}={label}" for code, label in codelist.codes) if codelist else "",
        HARD_LOW=_bound(item.hard, "low"),
        HARD_HIGH=_bound(item.hard, "high"),
        SOFT_LOW=_bound(item.soft, "low"),
        SOFT_HIGH=_bound(item.soft, "high"),
        CDASH=item.cdash or "",
        SDTM=item.sdtm or "",
        ORIGIN=ORIGIN_DERIVED if item.derived else ORIGIN_ENTERED,
        FREE_TEXT=_yes(is_free_text(item)),
        WITHHELD=_yes(withheld),
    )


def _unit_rows(table: Table, column: ItemColumn) -> Iterator[dict[str, str]]:
    """The unit column and the standard-value column of an item with several units."""
    item, standard = column.item, column.item.standard_unit
    where = {"FILE": table.file, "FORM": table.form.oid, "GROUP": column.group.oid}
    yield _blank(
        **where,
        COLUMN=item.oid + UNIT_SUFFIX,
        ROLE=ROLE_UNIT,
        ITEM=item.oid,
        LABEL=f"Unit {item.oid} was entered in (UCUM)",
        TYPE="text",
        DECODES=" | ".join(f"{u.symbol}={u.label}" for u in item.measured_in),
    )
    yield _blank(
        **where,
        COLUMN=item.oid + STANDARD_SUFFIX,
        ROLE=ROLE_STANDARD,
        ITEM=item.oid,
        LABEL=f"{item.label} in {standard.label} (the standard unit; exact, not rounded)",
        TYPE=item.type.value,
        UNITS=standard.symbol,
        HARD_LOW=_bound(standard.hard, "low"),
        HARD_HIGH=_bound(standard.hard, "high"),
        SOFT_LOW=_bound(standard.soft, "low"),
        SOFT_HIGH=_bound(standard.soft, "high"),
        ORIGIN=ORIGIN_DERIVED,
    )


def dictionary_rows(study: LoadedStudy, tables: Iterable[Table]) -> Iterator[dict[str, str]]:
    """The dictionary, file by file, column by column in file order."""
    for table in tables:
        for key in table.keys:
            yield _blank(FILE=table.file, COLUMN=key.name, ROLE=ROLE_KEY, LABEL=key.label)
        for column in table.items:
            yield _item_row(study, table, column, withheld=False)
            if column.has_missing:
                item = column.item
                yield _blank(
                    FILE=table.file,
                    COLUMN=item.oid + MISSING_SUFFIX,
                    ROLE=ROLE_MISSING,
                    FORM=table.form.oid,
                    GROUP=column.group.oid,
                    ITEM=item.oid,
                    LABEL=MISSING_LABEL.format(item=item.oid),
                    TYPE="text",
                    DECODES=MISSING_DECODES,
                    FREE_TEXT="N",
                    WITHHELD="N",
                )
            if column.has_units:
                yield from _unit_rows(table, column)
        for column in table.withheld:
            yield _item_row(study, table, column, withheld=True)
    for key in LONG_KEYS:
        role = ROLE_VALUE if key in LONG_TAIL else ROLE_KEY
        decodes = MISSING_DECODES if key.name == "MISSING" else ""
        yield _blank(FILE=LONG_FILE, COLUMN=key.name, ROLE=role, LABEL=key.label, DECODES=decodes)
