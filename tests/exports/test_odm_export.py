"""`ecrf export odm` and ``write_odm``: a valid ODM 1.3.2 snapshot, read by odmlib, with the
definition's metadata, the captured values, audit records and annotations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


@dataclass
class Export:
    path: Path
    odm: object  # odmlib's root object
    tree: etree._ElementTree
    #: The "export" events of the trail before and after the write.
    events: tuple[int, int]
    #: The progress reported, (done, total) at each call.
    calls: list[tuple[int, int]]
    #: The size of the file being written (``.part``) at each progress report.
    sizes: list[int]


@pytest.fixture(scope="module")
def operator_export(seeded, tmp_path_factory) -> Export:
    """The operator's export of the whole trial, written and validated (``check_odm``) once
    for the module's tests that read it, its progress and growing file observed as written."""
    path = tmp_path_factory.mktemp("odm") / "all.xml"
    partial = path.with_name(f"{path.name}.part")  # renamed to ``path`` once whole
    calls, sizes = [], []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if partial.exists():
            sizes.append(partial.stat().st_size)

    with seeded.app.app_context():
        before = _events("export")
        written = write_odm(current_study(), path, site_ids=None, actor=None, progress=progress)
        events = (before, _events("export"))
    odm = check_odm(written)
    return Export(written, odm, etree.parse(str(written)), events, calls, sizes)


def test_operator_export_is_valid_read_by_odmlib_and_holds_every_value(seeded, operator_export):
    with seeded.app.app_context():
        odm = operator_export.odm
        study = current_study()
        mdv = odm.Study[0].MetaDataVersion[0]
        assert f"ST.{study.study.oid}" == odm.Study[0].OID
        assert {i.OID for i in mdv.ItemDef} >= {
            f"IT.{f.oid}.{i.oid}" for f in study.study.forms for _, i in f.items()
        }
        values = [r for r in iter_values() if r.value is not None or r.missing_code]
        tree = operator_export.tree
        assert len(tree.findall(".//odm:ItemData", NS)) == len(values)
        before, after = operator_export.events
        assert after == before + 1
        calls = operator_export.calls
        assert calls and calls[-1][0] == calls[-1][1]
        assert verify_trail().intact


def test_data_types_aliases_units_and_ranges_follow_the_definition(seeded, operator_export):
    with seeded.app.app_context():
        tree = operator_export.tree
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


def test_clinical_data_carries_audit_records_visit_dates_and_statuses(seeded, operator_export):
    tree = operator_export.tree
    with seeded.app.app_context():
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


def test_the_file_is_written_subject_by_subject_not_built_whole(operator_export):
    out = operator_export.path
    assert not out.with_name(f"{out.name}.part").exists()
    final = out.stat().st_size
    # Each subject reached the file as the export went: the file grew between subjects,
    # and the first subject was on disk long before the last one was read.
    sizes = operator_export.sizes
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
