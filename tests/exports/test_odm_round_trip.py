"""Export → `ecrf import odm` into a fresh database → export gives the same study.

"The same" is precise: the Study element (GlobalVariables, units, the whole
MetaDataVersion) and the ClinicalData (subjects with their keys and sites, status history,
visits with their dates and deviations, forms with their status, every value or
missing-data code, in order) are identical, byte for byte once canonicalised. What differs
by nature is left out of the comparison: the file's own OID and creation time, the
AuditRecords and the AdminData users (the import is a new history, entered by the
operator; the original history stays in the source system's trail and file).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from lxml import etree

from ecrf.audit.models import AuditEvent
from ecrf.demo import seed_demo
from ecrf.exports.odm.writer import write_odm
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.loader import current_study
from ecrf.records.models import Subject
from tests.exports.odm_checks import NS, check_odm
from tests.seeded_trial import dispose, trial_app


def comparable(path: Path) -> bytes:
    """The file without what a new history changes (see the module docstring)."""
    tree = etree.parse(str(path), etree.XMLParser(remove_blank_text=True))
    root = tree.getroot()
    for attribute in ("FileOID", "CreationDateTime"):
        del root.attrib[attribute]
    for node in [*root.iterfind(".//odm:AuditRecord", NS), *root.iterfind("odm:AdminData", NS)]:
        node.getparent().remove(node)
    return etree.tostring(root, method="c14n")


def test_export_import_export_is_identical(seeded, databases, tmp_path):
    with seeded.app.app_context():
        first = write_odm(current_study(), tmp_path / "first.xml", site_ids=None, actor=None)
        subjects = db.session.scalar(sa.select(sa.func.count()).select_from(Subject))
    check_odm(first)
    keys = [s.get("SubjectKey") for s in etree.parse(str(first)).iterfind(".//odm:SubjectData", NS)]
    assert len(keys) > 3

    fresh = trial_app(databases)
    try:
        with fresh.app_context():
            from flask_migrate import upgrade

            upgrade()
            seed_demo()  # the sites (and accounts) of the trial, no subject
            db.session.commit()
        result = fresh.test_cli_runner().invoke(args=["import", "odm", str(first)])
        assert result.exit_code == 0, result.output
        assert f"Imported {len(keys)} subjects" in result.output
        with fresh.app_context():
            imported = db.session.scalars(sa.select(Subject.identifier).order_by(Subject.id))
            assert sorted(imported) == sorted(keys)
            assert (
                db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "import"))
                == 1
            )
            assert verify_trail().intact
            second = write_odm(current_study(), tmp_path / "second.xml", site_ids=None, actor=None)
        check_odm(second)
        assert comparable(second) == comparable(first)
        # Not vacuous: the compared part holds the values, statuses and visit dates.
        text = comparable(first).decode()
        assert "SUBJECT_STATUS" in text and "VISIT_DATE" in text and "ItemData" in text
        # values in the units their laboratory reported (G/L, g/L) kept through it
        for unit in ("MU.10_9_per_L", "MU.g_per_L", "MU.umol_per_L"):
            assert (
                f'<MeasurementUnitRef MeasurementUnitOID="{unit}"></MeasurementUnitRef></ItemData>'
                in text
            ), unit
        assert subjects >= len(keys)
    finally:
        dispose(fresh)
