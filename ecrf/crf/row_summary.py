"""The one-line summary of a log's rows (``ItemGroup.summary``): each column's value as the
row's fields hold it now (what was typed after a refused save, else what is saved), in
words, and whether the row's panel opens by itself. An end date left empty because the
row's "ongoing" answer is Yes is marked so (the page then says "Ongoing", not "—")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecrf.crf.web_forms import field_name
from ecrf.records.loader import LoadedStudy
from forms.language import MISSING_CODES, DataType, Item, ItemGroup, condition_items

EMPTY = "—"


@dataclass(frozen=True)
class Cell:
    heading: str
    #: What the line shows: a code list's label up to its colon ("Grade 3", not
    #: "Grade 3: severe or medically significant"), a missing-data code as its code.
    short: str
    #: The whole value (the line's tooltip, and what a screen reader reads).
    full: str
    #: Empty because the event is ongoing: an end date asked only when the row's CDASH
    #: --ONGO item ("Ongoing") is No, and that answer is Yes.
    ongoing: bool = False


def summary_cells(study: LoadedStudy, form: Any, group: ItemGroup, key: int) -> list[Cell]:
    items = {item.oid: item for item in group.items}
    cells = []
    for oid, heading in group.summary:
        item = items[oid]
        text = _text(form[field_name(group.oid, key, oid)].data)
        if not text:
            ongo = _ongoing_item(group, item)
            yes = ongo is not None and _text(form[field_name(group.oid, key, ongo)].data) == "Y"
            cells.append(Cell(heading, EMPTY, EMPTY, ongoing=yes))
            continue
        if text in MISSING_CODES and not _own_code(study, item, text):
            cells.append(Cell(heading, text, MISSING_CODES[text]))
            continue
        codelist = study.codelist_for(item)
        if codelist is not None and item.type in (DataType.CHOICE, DataType.YES_NO):
            full = codelist.label(text)
            cells.append(Cell(heading, full.split(":", 1)[0], full))
            continue
        cells.append(Cell(heading, text, text))
    return cells


#: How wide a summary column is, by the type of its item (a CSS class of its cells, the
#: same on every row and the header, so that columns line up without a table): numbers,
#: dates and yes/no keep their width; the event's name (the second column) and answers
#: from a list share the rest, and wrap rather than being cut.
_KINDS = {
    DataType.INTEGER: "number",
    DataType.DECIMAL: "number",
    DataType.DATE: "date",
    DataType.PARTIAL_DATE: "date",
    DataType.TIME: "number",
    DataType.YES_NO: "yes-no",
}


def column_kinds(group: ItemGroup) -> list[str]:
    """The kind of each summary column (``col-<kind>`` in the CSS)."""
    items = {item.oid: item for item in group.items}
    return [
        "name" if index == 1 else _KINDS.get(items[oid].type, "answer")
        for index, (oid, _) in enumerate(group.summary)
    ]


def _text(data: Any) -> str:
    return ", ".join(data) if isinstance(data, list) else (data or "").strip()


def _ongoing_item(group: ItemGroup, item: Item) -> str | None:
    """The OID of the row's "ongoing" item (CDASH --ONGO) when ``item`` is asked only
    depending on it (the end date: asked when the event is not ongoing)."""
    if item.shown_when is None:
        return None
    refs = condition_items(item.shown_when)
    return next(
        (i.oid for i in group.items if i.oid in refs and (i.cdash or "").endswith("ONGO")),
        None,
    )


def _own_code(study: LoadedStudy, item, code: str) -> bool:
    codelist = study.codelist_for(item)
    return codelist is not None and code in dict(codelist.codes)


def opens_by_itself(messages: dict[str, list], group: ItemGroup, key: int, saved: bool) -> bool:
    """A new row (to be filled) and a row with a message of this save (to be corrected)
    show their fields; the others stay one line until opened."""
    if not saved:
        return True
    return any(messages.get(field_name(group.oid, key, item.oid)) for item in group.items)
