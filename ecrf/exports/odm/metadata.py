"""The Study element: GlobalVariables, MeasurementUnits and the MetaDataVersion of the
running definition (events, forms, item groups, items, code lists, derivation methods)."""

from __future__ import annotations

from lxml import etree

from ecrf.exports.odm import oids
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import SubjectStatus
from forms.language import MISSING_CODES, DataType, Item, Range, VisitKind

#: The definition's types as ODM 1.3.2 DataTypes. A choice is text from its code list; a
#: multiple choice is the codes separated by spaces, a string no single code list can check.
DATA_TYPES = {
    DataType.TEXT: "text",
    DataType.INTEGER: "integer",
    DataType.DECIMAL: "float",
    DataType.DATE: "date",
    DataType.PARTIAL_DATE: "partialDate",
    DataType.TIME: "time",
    DataType.CHOICE: "text",
    DataType.YES_NO: "text",
    DataType.MULTI_CHOICE: "string",
}

EVENT_TYPES = {
    VisitKind.SCHEDULED: "Scheduled",
    VisitKind.UNSCHEDULED: "Unscheduled",
    VisitKind.LOG: "Common",
}

MULTI_CHOICE_NOTE = "Codes of {codelist}, separated by spaces."


def _e(tag: str, attrs: dict[str, str] | None = None, *, parent=None, text: str | None = None):
    qualified = f"{{{oids.NS}}}{tag}"
    attrs = {k: v for k, v in (attrs or {}).items() if v is not None}
    node = (
        etree.SubElement(parent, qualified, attrs)
        if parent is not None
        else etree.Element(qualified, attrs, nsmap={None: oids.NS})
    )
    if text is not None:
        node.text = text
    return node


def _translated(parent, tag: str, text: str) -> None:
    wrapper = _e(tag, parent=parent)
    _e("TranslatedText", {oids.XML_LANG: "en"}, parent=wrapper, text=text)


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def units_of(study: LoadedStudy) -> dict[str, str]:
    """Unit symbol → MeasurementUnit OID, for every unit an item uses.

    :raises ValueError: two symbols would share one OID.
    """
    units: dict[str, str] = {}
    for form in study.study.forms:
        for _, item in form.items():
            for symbol in [item.units] if item.units else [u.symbol for u in item.measured_in]:
                units.setdefault(symbol, oids.unit_oid(symbol))
    if len(set(units.values())) != len(units):
        raise ValueError(f"measurement units share an OID: {sorted(units)}")
    return units


def study_element(study: LoadedStudy) -> etree._Element:
    """The whole Study element (the definition is small: built in memory)."""
    definition = study.study
    root = _e("Study", {"OID": oids.study_oid(definition.oid)})
    glob = _e("GlobalVariables", parent=root)
    _e("StudyName", parent=glob, text=definition.name)
    _e("StudyDescription", parent=glob, text=definition.description or definition.name)
    _e("ProtocolName", parent=glob, text=definition.protocol)
    units = units_of(study)
    if units:
        basic = _e("BasicDefinitions", parent=root)
        labels = {
            u.symbol: u.label for f in definition.forms for _, i in f.items() for u in i.measured_in
        }
        for symbol, oid in units.items():
            unit = _e("MeasurementUnit", {"OID": oid, "Name": symbol}, parent=basic)
            _translated(unit, "Symbol", labels.get(symbol, symbol))
    mdv = _e(
        "MetaDataVersion",
        {
            "OID": oids.mdv_oid(definition.version),
            "Name": f"{definition.name} definition {definition.version}",
        },
        parent=root,
    )
    protocol = _e("Protocol", parent=mdv)
    for number, visit in enumerate(definition.visits, start=1):
        mandatory = visit.kind is VisitKind.SCHEDULED and visit.subgroup is None
        _e(
            "StudyEventRef",
            {
                "StudyEventOID": oids.event_oid(visit.oid),
                "OrderNumber": str(number),
                "Mandatory": _yes_no(mandatory),
            },
            parent=protocol,
        )
    for visit in definition.visits:
        event = _e(
            "StudyEventDef",
            {
                "OID": oids.event_oid(visit.oid),
                "Name": visit.name,
                "Repeating": _yes_no(visit.kind is VisitKind.UNSCHEDULED),
                "Type": EVENT_TYPES[visit.kind],
            },
            parent=mdv,
        )
        for number, form in enumerate(visit.forms, start=1):
            _e(
                "FormRef",
                {"FormOID": oids.form_oid(form), "OrderNumber": str(number), "Mandatory": "No"},
                parent=event,
            )
    for form in definition.forms:
        node = _e(
            "FormDef",
            {"OID": oids.form_oid(form.oid), "Name": form.name, "Repeating": "No"},
            parent=mdv,
        )
        for number, group in enumerate(form.groups, start=1):
            _e(
                "ItemGroupRef",
                {
                    "ItemGroupOID": oids.group_oid(form.oid, group.oid),
                    "OrderNumber": str(number),
                    "Mandatory": "No",
                },
                parent=node,
            )
    for form in definition.forms:
        derived = {d.target for d in form.derivations}
        for group in form.groups:
            node = _e(
                "ItemGroupDef",
                {
                    "OID": oids.group_oid(form.oid, group.oid),
                    "Name": group.label,
                    "Repeating": _yes_no(group.repeating),
                    "Domain": group.domain,
                },
                parent=mdv,
            )
            for number, item in enumerate(group.items, start=1):
                _e(
                    "ItemRef",
                    {
                        "ItemOID": oids.item_oid(form.oid, item.oid),
                        "OrderNumber": str(number),
                        "Mandatory": _yes_no(item.required),
                        "MethodOID": oids.method_oid(form.oid, item.oid)
                        if item.oid in derived
                        else None,
                    },
                    parent=node,
                )
    for form in definition.forms:
        for _, item in form.items():
            _item_def(study, mdv, form.oid, item, units)
    for codelist in study.codelists.values():
        node = _e(
            "CodeList",
            {"OID": oids.codelist_oid(codelist.oid), "Name": codelist.name, "DataType": "text"},
            parent=mdv,
        )
        for code, label in codelist.codes:
            entry = _e("CodeListItem", {"CodedValue": code}, parent=node)
            _translated(entry, "Decode", label)
    _flag_codelists(mdv)
    for form in definition.forms:
        for derivation in form.derivations:
            method = _e(
                "MethodDef",
                {
                    "OID": oids.method_oid(form.oid, derivation.target),
                    "Name": f"{form.oid}.{derivation.target}",
                    "Type": "Computation",
                },
                parent=mdv,
            )
            _translated(method, "Description", derivation.formula)
    return root


def _item_def(study: LoadedStudy, mdv, form_oid: str, item: Item, units: dict[str, str]):
    codelist = study.codelist_for(item)
    attrs = {
        "OID": oids.item_oid(form_oid, item.oid),
        "Name": item.oid,
        "DataType": DATA_TYPES[item.type],
        "Length": _length(item),
        "SignificantDigits": str(item.precision)
        if item.type is DataType.DECIMAL and item.precision is not None
        else None,
        # "LB.LBORRES[HCG]": the variable, without the test it is the result of (kept in
        # the SDTM Alias).
        "SDSVarName": item.sdtm.split(".", 1)[-1].split("[")[0] if item.sdtm else None,
    }
    node = _e("ItemDef", attrs, parent=mdv)
    if item.type is DataType.MULTI_CHOICE and codelist is not None:
        _translated(node, "Description", MULTI_CHOICE_NOTE.format(codelist=codelist.oid))
    _translated(node, "Question", item.label)
    if item.units:
        _e("MeasurementUnitRef", {"MeasurementUnitOID": units[item.units]}, parent=node)
    for unit in item.measured_in:  # the standard unit first
        _e("MeasurementUnitRef", {"MeasurementUnitOID": units[unit.symbol]}, parent=node)
    for range_, soft_hard in ((item.hard, "Hard"), (item.soft, "Soft")):
        if range_ is not None:
            _range_checks(node, range_, soft_hard, item)
    for unit in item.measured_in:  # each unit's ranges, in that unit
        for range_, soft_hard in ((unit.hard, "Hard"), (unit.soft, "Soft")):
            if range_ is not None:
                _range_checks(node, range_, soft_hard, item, unit, units[unit.symbol])
    if codelist is not None and item.type is not DataType.MULTI_CHOICE:
        _e("CodeListRef", {"CodeListOID": oids.codelist_oid(codelist.oid)}, parent=node)
    if item.cdash:
        _e("Alias", {"Context": "CDASH", "Name": item.cdash}, parent=node)
    if item.sdtm:
        _e("Alias", {"Context": "SDTM", "Name": item.sdtm}, parent=node)


def _length(item: Item) -> str | None:
    """The most characters (digits for numbers) a value takes, where the definition says."""
    if item.max_length:
        return str(item.max_length)
    if item.type in (DataType.INTEGER, DataType.DECIMAL) and item.hard is not None:
        bounds = [b for b in (item.hard.low, item.hard.high) if b is not None]
        if len(bounds) == 2:
            digits = max(len(str(abs(int(b)))) for b in bounds)
            return str(digits + (item.precision or 0))
    if item.measured_in and all(u.hard is not None for u in item.measured_in):
        lengths = []
        for unit in item.measured_in:
            bounds = [b for b in (unit.hard.low, unit.hard.high) if b is not None]
            if len(bounds) != 2:
                return None
            digits = max(len(str(abs(int(b)))) for b in bounds)
            lengths.append(digits + (unit.precision or item.precision or 0))
        return str(max(lengths))
    return None


def _range_checks(
    node, range_: Range, soft_hard: str, item: Item, unit=None, unit_oid: str | None = None
) -> None:
    label = unit.label if unit is not None else item.units
    units = f" {label}" if label else ""
    for bound, comparator in ((range_.low, "GE"), (range_.high, "LE")):
        if bound is None:
            continue
        check = _e("RangeCheck", {"Comparator": comparator, "SoftHard": soft_hard}, parent=node)
        _e("CheckValue", parent=check, text=format(bound, "f"))
        if unit_oid is not None:  # a value in another unit is not checked against it
            _e("MeasurementUnitRef", {"MeasurementUnitOID": unit_oid}, parent=check)
        _translated(check, "ErrorMessage", f"Expected {range_.describe()}{units}.")


def _flag_codelists(mdv) -> None:
    """The code lists our Annotation flags take their types and values from."""
    lists = [
        (oids.FLAG_TYPES, "eCRF annotation flag types", oids.FLAG_TYPE_LABELS.items()),
        (
            oids.SUBJECT_STATUSES,
            "Subject status",
            [(s.value, s.label) for s in SubjectStatus],
        ),
        (oids.FORM_STATUSES, "Form status", [("draft", "In progress"), ("complete", "Complete")]),
        (oids.MISSING_CODES, "Missing-data codes", MISSING_CODES.items()),
    ]
    for oid, name, codes in lists:
        node = _e("CodeList", {"OID": oid, "Name": name, "DataType": "text"}, parent=mdv)
        for code, label in codes:
            entry = _e("CodeListItem", {"CodedValue": code}, parent=node)
            _translated(entry, "Decode", label)
    dates = _e(
        "CodeList",
        {"OID": oids.ISO_DATES, "Name": "ISO 8601 dates", "DataType": "text"},
        parent=mdv,
    )
    _e("ExternalCodeList", {"Dictionary": "ISO 8601", "Version": "2004"}, parent=dates)
