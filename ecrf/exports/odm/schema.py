"""The official ODM 1.3.2 schema, vendored beside this module, loaded once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

SCHEMA_DIR = Path(__file__).with_name("schema")


@cache
def odm_schema() -> etree.XMLSchema:
    # Loaded from files next to each other: no network access, even for the imports.
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "ODM1-3-2.xsd")))


def schema_errors(document: etree._ElementTree, limit: int = 20) -> list[str]:
    """The schema's complaints about ``document`` ("line N: message"), at most ``limit``."""
    schema = odm_schema()
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in list(schema.error_log)[:limit]]
