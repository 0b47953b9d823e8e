"""define.xml (Define-XML 2.0.0) of the datasets written: datasets with their keys, class,
structure and file; variables with label, type, length, origin (and its source) and code
list; the code lists with the values the extract holds (CDISC codelists carry their NCI
code as an alias); the SUPP-- qualifiers as value-level metadata of QVAL.

Built with lxml; the test validates it against the Define-XML 2.0 schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from lxml import etree

from ecrf.exports.sdtm.metadata import NUM, Variable
from ecrf.exports.sdtm.writers import Written, is_integer

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.0"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}

#: SDTM observation class of each dataset.
CLASSES = {
    "DM": "SPECIAL PURPOSE",
    "IE": "FINDINGS",
    "MH": "EVENTS",
    "AE": "EVENTS",
    "CM": "INTERVENTIONS",
    "EX": "INTERVENTIONS",
    "LB": "FINDINGS",
    "VS": "FINDINGS",
    "TU": "FINDINGS",
    "TR": "FINDINGS",
    "RS": "FINDINGS",
}
#: Variables never empty in any record this extract writes.
_ALWAYS = {
    "STUDYID",
    "DOMAIN",
    "RDOMAIN",
    "USUBJID",
    "SUBJID",
    "SITEID",
    "COUNTRY",
    "ARMCD",
    "ARM",
    "ACTARMCD",
    "ACTARM",
    "IDVAR",
    "IDVARVAL",
    "QNAM",
    "QLABEL",
    "QVAL",
    "QORIG",
}
_NCI_CODE = re.compile(r"^(C\d+)\b")


def mandatory(name: str) -> bool:
    return name in _ALWAYS or name.endswith(("SEQ", "TESTCD", "TEST"))


def _d(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


def _description(parent: etree._Element, text: str) -> None:
    description = etree.SubElement(parent, "Description")
    translated = etree.SubElement(description, "TranslatedText")
    translated.set(XML_LANG, "en")
    translated.text = text


def _codelist_oid(codelist: str) -> str:
    return "CL." + re.sub(r"[^A-Za-z0-9]+", ".", codelist).strip(".")


def _data_type(written: Written, variable: Variable) -> str:
    if variable.type == NUM:
        return "integer" if is_integer(written.dataset, variable.name) else "float"
    return "datetime" if variable.name.endswith("DTC") else "text"


def write_define_xml(
    written: Iterable[Written],
    qualifiers: dict[str, tuple[tuple[str, str, str], ...]],
    path: Path,
    *,
    study_oid: str,
    study_name: str,
    protocol: str,
    version: str,
    created: datetime,
) -> Path:
    written = list(written)
    root = etree.Element("ODM", nsmap=NSMAP)
    root.set("FileType", "Snapshot")
    root.set("FileOID", f"{study_oid}.SDTM.DEFINE")
    root.set("CreationDateTime", created.strftime("%Y-%m-%dT%H:%M:%S"))
    root.set("ODMVersion", "1.3.2")
    root.set("Originator", "IAH-PRRT eCRF")
    root.set("SourceSystem", "ecrf")
    root.set("SourceSystemVersion", version)
    study = etree.SubElement(root, "Study", OID=study_oid)
    variables = etree.SubElement(study, "GlobalVariables")
    etree.SubElement(variables, "StudyName").text = study_name
    etree.SubElement(variables, "StudyDescription").text = f"{study_name}: SDTM datasets"
    etree.SubElement(variables, "ProtocolName").text = protocol
    mdv = etree.SubElement(
        study,
        "MetaDataVersion",
        OID=f"MDV.{study_oid}.SDTM.{version}",
        Name=f"{study_name} SDTM",
        Description="SDTM datasets extracted from the eCRF",
    )
    mdv.set(_d("DefineVersion"), "2.0.0")
    mdv.set(_d("StandardName"), "SDTM-IG")
    mdv.set(_d("StandardVersion"), "3.4")

    # Value-level metadata: each supplemental qualifier is one value of QVAL.
    for item in written:
        name = item.dataset.name
        if name in qualifiers:
            value_list = etree.SubElement(mdv, _d("ValueListDef"), OID=f"VL.{name}.QVAL")
            for order, (qnam, _, _) in enumerate(qualifiers[name], start=1):
                ref = etree.SubElement(
                    value_list,
                    "ItemRef",
                    ItemOID=f"IT.{name}.QVAL.{qnam}",
                    OrderNumber=str(order),
                    Mandatory="Yes",
                )
                etree.SubElement(ref, _d("WhereClauseRef"), WhereClauseOID=f"WC.{name}.{qnam}")
    for item in written:
        name = item.dataset.name
        for qnam, _, _ in qualifiers.get(name, ()):
            clause = etree.SubElement(mdv, _d("WhereClauseDef"), OID=f"WC.{name}.{qnam}")
            check = etree.SubElement(clause, "RangeCheck", Comparator="EQ", SoftHard="Soft")
            check.set(_d("ItemOID"), f"IT.{name}.QNAM")
            etree.SubElement(check, "CheckValue").text = qnam

    for item in written:
        dataset = item.dataset
        group = etree.SubElement(
            mdv,
            "ItemGroupDef",
            OID=f"IG.{dataset.name}",
            Name=dataset.name,
            Repeating="No" if dataset.name == "DM" else "Yes",
            IsReferenceData="No",
            SASDatasetName=dataset.name,
            Domain=dataset.name[4:] if dataset.name.startswith("SUPP") else dataset.name,
            Purpose="Tabulation",
        )
        group.set(_d("Structure"), dataset.structure)
        group.set(_d("Class"), CLASSES.get(dataset.name, "RELATIONSHIP"))
        group.set(_d("ArchiveLocationID"), f"LF.{dataset.name}")
        _description(group, dataset.label)
        for order, variable in enumerate(dataset.variables, start=1):
            ref = etree.SubElement(
                group,
                "ItemRef",
                ItemOID=f"IT.{dataset.name}.{variable.name}",
                OrderNumber=str(order),
                Mandatory="Yes" if mandatory(variable.name) else "No",
            )
            if variable.name in dataset.keys:
                ref.set("KeySequence", str(dataset.keys.index(variable.name) + 1))
        leaf = etree.SubElement(group, _d("leaf"), ID=f"LF.{dataset.name}")
        leaf.set(f"{{{XLINK_NS}}}href", f"xpt/{dataset.name.lower()}.xpt")
        etree.SubElement(leaf, _d("title")).text = f"{dataset.name.lower()}.xpt"

    codelists: dict[str, set[str]] = {}
    for item in written:
        dataset = item.dataset
        for variable in dataset.variables:
            item_def = etree.SubElement(
                mdv,
                "ItemDef",
                OID=f"IT.{dataset.name}.{variable.name}",
                Name=variable.name,
                DataType=_data_type(item, variable),
                SASFieldName=variable.name,
            )
            if not variable.name.endswith("DTC"):
                item_def.set("Length", str(item.lengths[variable.name]))
            _description(item_def, variable.label)
            values = item.values.get(variable.name)
            if variable.codelist and values:
                codelists.setdefault(variable.codelist, set()).update(values)
                etree.SubElement(
                    item_def, "CodeListRef", CodeListOID=_codelist_oid(variable.codelist)
                )
            origin = etree.SubElement(item_def, _d("Origin"), Type=variable.origin)
            if variable.source:
                _description(origin, variable.source)
            if variable.name == "QVAL" and dataset.name in qualifiers:
                etree.SubElement(
                    item_def, _d("ValueListRef"), ValueListOID=f"VL.{dataset.name}.QVAL"
                )
        for qnam, label, origin_type in qualifiers.get(dataset.name, ()):
            item_def = etree.SubElement(
                mdv,
                "ItemDef",
                OID=f"IT.{dataset.name}.QVAL.{qnam}",
                Name=qnam,
                DataType="text",
                Length=str(item.lengths["QVAL"]),
                SASFieldName=qnam,
            )
            _description(item_def, label)
            etree.SubElement(item_def, _d("Origin"), Type=origin_type)

    for codelist, values in sorted(codelists.items()):
        element = etree.SubElement(
            mdv, "CodeList", OID=_codelist_oid(codelist), Name=codelist, DataType="text"
        )
        for value in sorted(values):
            etree.SubElement(element, "EnumeratedItem", CodedValue=value)
        nci = _NCI_CODE.match(codelist)
        if nci:
            etree.SubElement(element, "Alias", Context="nci:ExtCodeID", Name=nci.group(1))

    etree.ElementTree(root).write(
        str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return path
