"""`ecrf export odm` and ``write_odm``: a valid ODM 1.3.2 snapshot, read by odmlib, with the
definition's metadata, the captured values, audit records and annotations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from lxml import etree

from ecrf.audit.models import AuditEvent
from ecrf.auth.services import get_user
from ecrf.errors import PermissionDenied
from ecrf.exports.odm.writer import write_odm
from ecrf.exports.privacy import is_free_text
from ecrf.exports.stream import iter_values
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.loader import current_study
from ecrf.records.models import Site
from tests.exports.odm_checks import NS, check_odm, checked_tree


def _events(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_operator_export_is_valid_read_by_odmlib_and_holds_every_value(seeded, tmp_path):
    with seeded.app.app_context():
        before = _events("export")
        calls = []
        path = write_odm(
            current_study(),
            tmp_path / "all.xml",
            site_ids=None,
            actor=None,
            progress=lambda d, t: calls.append((d, t)),
        )
        odm = check_odm(path)
        study = current_study()
        mdv = odm.Study[0].MetaDataVersion[0]
        assert f"ST.{study.study.oid}" == odm.Study[0].OID
        assert {i.OID for i in mdv.ItemDef} >= {
            f"IT.{f.oid}.{i.oid}" for f in study.study.forms for _, i in f.items()
        }
        values = [r for r in iter_values() if r.value is not None or r.missing_code]
        tree = etree.parse(str(path))
        assert len(tree.findall(".//odm:ItemData", NS)) == len(values)
        assert _events("export") == before + 1
        assert calls and calls[-1][0] == calls[-1][1]
        assert verify_trail().intact


def test_data_types_aliases_units_and_ranges_follow_the_definition(seeded, tmp_path):
    with seeded.app.app_context():
        tree = checked_tree(
            write_odm(current_study(), tmp_path / "m.xml", site_ids=None, actor=None)
        )
        study = current_study()
        defs = {d.get("OID"): d for d in tree.findall(".//odm:ItemDef", NS)}
        expected = {
            "integer": "integer",
            "decimal": "float",
            "date": "date",
            "partial_date": "partialDate",
            "time": "time",
            "choice": "text",
            "yes_no": "text",
            "text": "text",
            "multi_choice": "string",
        }
        seen_types = set()
        for form in study.study.forms:
            for _, item in form.items():
                node = defs[f"IT.{form.oid}.{item.oid}"]
                assert node.get("DataType") == expected[item.type.value]
                seen_types.add(item.type.value)
                aliases = {a.get("Context"): a.get("Name") for a in node.findall("odm:Alias", NS)}
                if item.sdtm:
                    assert aliases["SDTM"] == item.sdtm
                if item.cdash:
                    assert aliases["CDASH"] == item.cdash
                if item.units:
                    assert node.find("odm:MeasurementUnitRef", NS) is not None
                if item.hard and item.hard.low is not None:
                    checks = node.findall("odm:RangeCheck[@SoftHard='Hard']", NS)
                    assert any(c.get("Comparator") == "GE" for c in checks)
                if item.codelist and item.type.value == "choice":
                    ref = node.find("odm:CodeListRef", NS)
                    assert ref.get("CodeListOID") == f"CL.{item.codelist}"
        assert {"integer", "decimal", "date", "choice"} <= seen_types
        domains = {g.get("Domain") for g in tree.findall(".//odm:ItemGroupDef", NS)}
        assert "AE" in domains


def test_clinical_data_carries_audit_records_visit_dates_and_statuses(seeded, tmp_path):
    with seeded.app.app_context():
        tree = checked_tree(
            write_odm(current_study(), tmp_path / "c.xml", site_ids=None, actor=None)
        )
        records = tree.findall(".//odm:ItemData/odm:AuditRecord", NS)
        assert records
        users = {u.get("OID") for u in tree.findall(".//odm:AdminData/odm:User", NS)}
        assert "USR.staff.bdx" in users
        assert {r.find("odm:UserRef", NS).get("UserOID") for r in records} <= users
        flags = [t.text for t in tree.findall(".//odm:FlagType", NS)]
        assert {"VISIT_DATE", "SUBJECT_STATUS", "FORM_STATUS"} <= set(flags)
        keys = [s.get("SubjectKey") for s in tree.findall(".//odm:SubjectData", NS)]
        assert keys and all(k[:3] in seeded.sites for k in keys)


def test_one_site_and_the_sponsor_without_free_text(seeded, tmp_path):
    with seeded.app.app_context():
        bdx = db.session.scalar(sa.select(Site).where(Site.code == "BDX"))
        path = write_odm(
            current_study(), tmp_path / "bdx.xml", site_ids=[bdx.id], actor=get_user("sponsor")
        )
        check_odm(path)
        tree = etree.parse(str(path))
        keys = {s.get("SubjectKey")[:3] for s in tree.findall(".//odm:SubjectData", NS)}
        assert keys == {"BDX"}
        assert [loc.get("OID") for loc in tree.findall(".//odm:Location", NS)] == ["LOC.BDX"]
        study = current_study()
        free = {
            f"IT.{f.oid}.{i.oid}"
            for f in study.study.forms
            for _, i in f.items()
            if is_free_text(i)
        }
        stored_free = [
            r for r in iter_values([bdx.id]) if f"IT.{r.form_oid}.{r.item_oid}" in free and r.value
        ]
        assert stored_free, "the seeded data should hold free text to withhold"
        exported = {d.get("ItemOID") for d in tree.findall(".//odm:ItemData", NS)}
        assert not exported & free
        assert tree.find(".//odm:ReasonForChange", NS) is None
        assert tree.find(".//odm:Comment", NS) is None
        # The operator's file of the same site does carry the free text.
        full = checked_tree(
            write_odm(current_study(), tmp_path / "op.xml", site_ids=[bdx.id], actor=None)
        )
        assert {d.get("ItemOID") for d in full.findall(".//odm:ItemData", NS)} & free


def test_the_command_writes_one_site_and_the_trail_still_verifies(seeded, tmp_path):
    runner = seeded.app.test_cli_runner()
    out = tmp_path / "tls.xml"
    result = runner.invoke(args=["export", "odm", "--out", str(out), "--site", "TLS"])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}." in result.output and "Audit checkpoint: event #" in result.output
    check_odm(out)
    keys = {
        s.get("SubjectKey")[:3] for s in etree.parse(str(out)).iterfind(".//odm:SubjectData", NS)
    }
    assert keys == {"TLS"}
    # The export events are a kind verify does not reconcile: it must not trip on them.
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_an_unknown_site_is_refused_and_nothing_is_written(seeded, tmp_path):
    out = tmp_path / "none.xml"
    with seeded.app.app_context():
        before = _events("export")
    result = seeded.app.test_cli_runner().invoke(
        args=["export", "odm", "--out", str(out), "--site", "XYZ"]
    )
    assert result.exit_code == 1 and "No site with code 'XYZ'" in result.output
    assert not out.exists()
    with seeded.app.app_context():
        assert _events("export") == before


def test_an_account_exports_only_where_it_may(seeded, tmp_path):
    with seeded.app.app_context():
        before = _events("export")
        bdx = db.session.scalar(sa.select(Site).where(Site.code == "BDX"))
        for username, site_ids in (("staff.bdx", [bdx.id]), ("monitor", None)):
            with pytest.raises(PermissionDenied):
                write_odm(
                    current_study(),
                    tmp_path / f"{username}.xml",
                    site_ids=site_ids,
                    actor=get_user(username),
                )
            assert not (tmp_path / f"{username}.xml").exists()
        assert _events("export") == before
        check_odm(
            write_odm(
                current_study(), tmp_path / "dm.xml", site_ids=None, actor=get_user("datamanager")
            )
        )


def test_the_file_is_written_subject_by_subject_not_built_whole(seeded, tmp_path):
    out = tmp_path / "streamed.xml"
    partial = tmp_path / "streamed.xml.part"  # renamed to ``out`` once whole
    sizes = []

    def progress(done: int, total: int) -> None:
        if partial.exists():
            sizes.append(partial.stat().st_size)

    with seeded.app.app_context():
        write_odm(current_study(), out, site_ids=None, actor=None, progress=progress)
    assert not partial.exists()
    check_odm(out)
    final = out.stat().st_size
    # Each subject reached the file as the export went: the file grew between subjects,
    # and the first subject was on disk long before the last one was read.
    assert len(sizes) > 3
    assert sizes == sorted(sizes) and len(set(sizes)) > 3
    assert 0 < sizes[0] < final / 2


def test_an_unwritable_destination_is_a_clear_message(seeded, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = seeded.app.test_cli_runner().invoke(
        args=["export", "odm", "--out", str(blocker / "odm.xml")]
    )
    assert result.exit_code == 1
    assert "Cannot write" in result.output and "Traceback" not in result.output
