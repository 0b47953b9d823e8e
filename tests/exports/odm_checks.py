"""What every ODM file the tests produce must pass: the official schema and odmlib."""

from __future__ import annotations

from pathlib import Path

from lxml import etree
from odmlib import loader, odm_loader

from ecrf.exports.odm.schema import schema_errors

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}


def check_odm(path: Path):
    """Validate ``path`` against the vendored XSD, read it with odmlib (element order and
    OID references checked), and return odmlib's root object."""
    from odmlib import oid_generator

    errors = schema_errors(etree.parse(str(path)))
    assert not errors, "\n".join(errors)
    odm_reader = loader.ODMLoader(
        odm_loader.XMLODMLoader(model_package="odm_1_3_2", ns_uri=NS["odm"])
    )
    odm_reader.open_odm_document(str(path))
    odm = odm_reader.root()
    odm.verify_order()
    checker = oid_generator.create_oid_checker("odm_1_3_2")
    odm.verify_oids(checker)
    checker.check_oid_refs()
    return odm


def checked_tree(path: Path) -> etree._ElementTree:
    """``check_odm``, then the file parsed for XPath assertions."""
    check_odm(path)
    return etree.parse(str(path))
