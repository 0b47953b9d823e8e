"""How the study's names become ODM OIDs, and the flags that carry what ODM 1.3.2 has no
element for (visit dates, subject status, form status, missing-data codes).

ODM 1.3.2 has no place for a visit date, a subject's status or a missing-data code, and its
schema takes no extension attribute without a redefined schema (which other tools would not
load). They travel as ``Annotation``/``Flag`` pairs whose ``FlagType`` and ``FlagValue``
name code lists declared in the MetaDataVersion: any ODM reader keeps them, and our import
reads them back.
"""

from __future__ import annotations

import re

NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ODM_VERSION = "1.3.2"

#: Code lists of the flags (declared in every export's MetaDataVersion).
FLAG_TYPES = "CL.ECRF.FLAGTYPE"
SUBJECT_STATUSES = "CL.ECRF.SUBJECTSTATUS"
FORM_STATUSES = "CL.ECRF.FORMSTATUS"
MISSING_CODES = "CL.ECRF.MISSING"
ISO_DATES = "CL.ECRF.ISO8601"
YES_NO_FLAG = "CL.NY"  # the definition's own No / Yes list

#: FlagType codes.
SUBJECT_STATUS = "SUBJECT_STATUS"
VISIT_DATE = "VISIT_DATE"
OUT_OF_WINDOW = "OUT_OF_WINDOW"
FORM_STATUS = "FORM_STATUS"
MISSING_CODE = "MISSING_CODE"

FLAG_TYPE_LABELS = {
    SUBJECT_STATUS: "A change of the subject's status (the comment holds its reason)",
    VISIT_DATE: "The date the visit took place (ISO 8601)",
    OUT_OF_WINDOW: "The visit date fell outside its window (the comment holds the reason)",
    FORM_STATUS: "The status of the form entry (draft or complete)",
    MISSING_CODE: "Why the item has no value (CDISC missing-data code)",
}

#: The command-line operator, who has no account, in AuditRecords and AdminData.
OPERATOR_USER = "USR.OPERATOR"


def study_oid(oid: str) -> str:
    return f"ST.{oid}"


def mdv_oid(version: str) -> str:
    return f"MDV.{version}"


def event_oid(visit: str) -> str:
    return f"SE.{visit}"


def form_oid(form: str) -> str:
    return f"F.{form}"


def group_oid(form: str, group: str) -> str:
    # Group and item OIDs of the definition are unique within a form only.
    return f"IG.{form}.{group}"


def item_oid(form: str, item: str) -> str:
    return f"IT.{form}.{item}"


def codelist_oid(codelist: str) -> str:
    return f"CL.{codelist}"


def method_oid(form: str, item: str) -> str:
    return f"MT.{form}.{item}"


def location_oid(site_code: str) -> str:
    return f"LOC.{site_code}"


def user_oid(username: str) -> str:
    return f"USR.{username}"


#: How the characters of UCUM symbols read in an OID (µmol/L → MU.umol_per_L).
UNIT_CHARACTERS = {"µ": "u", "%": "pct", "/": "_per_", ".": "_", "°": "deg", "×": "x"}


def unit_oid(unit: str) -> str:
    """A readable OID for a unit symbol; the metadata writer checks they stay distinct."""
    text = "".join(UNIT_CHARACTERS.get(c, c) for c in unit)
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    return f"MU.{slug or 'unit'}"


def strip(prefix: str, oid: str) -> str | None:
    """The definition's name inside ``oid`` (``strip("SE.", "SE.SCR")`` → "SCR"), or None."""
    return oid[len(prefix) :] if oid.startswith(prefix) and len(oid) > len(prefix) else None
