"""The SDTM extract: each dataset's variables and content for the seeded patients, the
same data in CSV, SAS transport v5 and Dataset-JSON, the define, privacy, sites, audit."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import odmlib
import pyreadstat
import pytest
import sqlalchemy as sa
from lxml import etree

from ecrf.audit.models import AuditEvent
from ecrf.auth import services as auth_services
from ecrf.auth.permissions import sites_with
from ecrf.auth.roles import Perm
from ecrf.exports.sdtm import write_sdtm
from ecrf.exports.sdtm.define_xml import DEF_NS, ODM_NS
from ecrf.exports.sdtm.metadata import DATASETS, SUPPLEMENTAL, supp
from ecrf.exports.stream import iter_rows
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Subject

STUDYID = "IAHPRRT"
ALL_NAMES = [d.name for d in DATASETS] + [f"SUPP{d}" for d in SUPPLEMENTAL]
ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2})?)?)?)?$")
#: SDTMIG v3.4 "Req" variables that must hold a value in every record.
REQUIRED = {
    "DM": ("STUDYID", "DOMAIN", "USUBJID", "SUBJID", "SITEID", "SEX", "COUNTRY", "ARMCD"),
    "IE": ("USUBJID", "IESEQ", "IETESTCD", "IETEST", "IECAT", "IEORRES", "IESTRESC"),
    "MH": ("USUBJID", "MHSEQ", "MHCAT"),
    "CM": ("USUBJID", "CMSEQ", "CMCAT"),
    "EX": ("USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXROUTE", "EXSTDTC"),
    "AE": ("USUBJID", "AESEQ", "AETOXGR", "AESER", "AESTDTC"),
    "LB": ("USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBCAT", "VISITNUM", "VISIT", "LBDTC"),
    "VS": ("USUBJID", "VSSEQ", "VSTESTCD", "VSTEST", "VISITNUM", "VISIT", "VSDTC"),
    "TU": ("USUBJID", "TUSEQ", "TULNKID", "TUTESTCD", "TUTEST", "TUORRES"),
    "TR": ("USUBJID", "TRSEQ", "TRTESTCD", "TRTEST", "TRORRES", "TRDTC"),
    "RS": ("USUBJID", "RSSEQ", "RSTESTCD", "RSTEST", "RSCAT", "RSORRES", "RSDTC"),
}


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / "csv" / f"{name.lower()}.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def operator(seeded, tmp_path_factory) -> Path:
    """The extract as the command-line operator makes it (every site, free text kept)."""
    folder = tmp_path_factory.mktemp("sdtm") / "all"
    calls: list[tuple[int, int]] = []
    with seeded.app.app_context():
        archive = write_sdtm(
            current_study(), folder, site_ids=None, actor=None, progress=lambda *a: calls.append(a)
        )
    assert archive == folder / "sdtm.zip"
    assert calls[-1] == (len(DATASETS), len(DATASETS))
    assert [done for done, _ in calls] == list(range(1, len(DATASETS) + 1))
    return folder


@pytest.fixture(scope="module")
def sponsor(seeded, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sdtm") / "sponsor"
    with seeded.app.app_context():
        user = auth_services.get_user("sponsor")
        write_sdtm(current_study(), folder, site_ids=sites_with(user, Perm.EXPORT_DATA), actor=user)
    return folder


def test_every_dataset_has_its_variables_and_required_values(operator):
    for dataset in DATASETS:
        rows = read(operator, dataset.name)
        assert rows, f"{dataset.name} is empty for the seeded patients"
        assert list(rows[0]) == dataset.names
        for row in rows:
            assert row["STUDYID"] == STUDYID and row["DOMAIN"] == dataset.name
            assert row["USUBJID"].startswith(f"{STUDYID}-")
            for name in REQUIRED[dataset.name]:
                assert row[name] != "", (dataset.name, name, row)
            for name, value in row.items():
                if name.endswith("DTC") and value:
                    assert ISO.match(value), (dataset.name, name, value)


def test_seq_numbers_each_subjects_records_from_one(operator):
    for dataset in DATASETS[1:]:
        by_subject: dict[str, list[int]] = {}
        for row in read(operator, dataset.name):
            by_subject.setdefault(row["USUBJID"], []).append(int(row[f"{dataset.name}SEQ"]))
        for seqs in by_subject.values():
            assert seqs == list(range(1, len(seqs) + 1))


def test_names_and_labels_fit_sas_transport():
    for dataset in [*DATASETS, supp("AE")]:
        assert len(dataset.name) <= 8 and len(dataset.label) <= 40, dataset.name
        for variable in dataset.variables:
            assert re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", variable.name), variable.name
            assert len(variable.label) <= 40, (dataset.name, variable.name)
    for qualifiers in SUPPLEMENTAL.values():
        for qnam, label, _ in qualifiers:
            assert len(qnam) <= 8 and len(label) <= 40


def test_dm_has_one_record_per_seeded_subject_with_its_reference_start(seeded, operator):
    with seeded.app.app_context():
        identifiers = set(db.session.scalars(sa.select(Subject.identifier)))
        d0 = {
            row.subject: row.values["PETDAT"].value
            for row in iter_rows(form_oid="PETIAH")
            if row.group_oid == "PET"
        }
    dm = read(operator, "DM")
    assert {row["USUBJID"] for row in dm} == {f"{STUDYID}-{i}" for i in identifiers}
    for row in dm:
        assert row["SITEID"] == row["SUBJID"].split("-")[0]
        assert row["RFSTDTC"][:10] == d0.get(row["SUBJID"], "")
        assert row["AGEU"] == "YEARS" and int(row["AGE"]) >= 18
        assert row["SEX"] in {"M", "F"}
    assert any(row["ARMCD"] == "IAHLU" for row in dm)
    assert any(row["ARMCD"] == "IAHPET" for row in dm)


def test_study_days_count_from_rfstdtc_without_a_day_zero(operator):
    reference = {
        row["USUBJID"]: date.fromisoformat(row["RFSTDTC"][:10])
        for row in read(operator, "DM")
        if row["RFSTDTC"]
    }
    checked = 0
    for row in read(operator, "LB"):
        start = reference.get(row["USUBJID"])
        if start is None:
            assert row["LBDY"] == ""
            continue
        days = (date.fromisoformat(row["LBDTC"][:10]) - start).days
        assert int(row["LBDY"]) == (days + 1 if days >= 0 else days)
        checked += 1
    assert checked


def test_lb_converts_to_standard_units_grades_and_flags_against_the_limits(operator):
    lb = read(operator, "LB")
    hgb = [r for r in lb if r["LBTESTCD"] == "HGB" and r["LBORRES"]]
    assert hgb
    # each value in the unit its laboratory reported (LBORRESU), converted to the SI unit
    to_g_per_l = {"g/dL": 10, "g/L": 1}
    for row in hgb:
        assert row["LBSTRESU"] == "g/L"
        factor = to_g_per_l[row["LBORRESU"]]
        assert Decimal(row["LBSTRESN"]) == Decimal(row["LBORRES"]) * factor
        assert row["LBCAT"] == "HEMATOLOGY" and row["LBSPEC"] == "BLOOD"
    platelets = [r for r in lb if r["LBTESTCD"] == "PLAT" and r["LBORRES"]]
    to_giga = {"/mm3": Decimal("0.001"), "10^9/L": 1}
    assert all(
        Decimal(r["LBSTRESN"]) == Decimal(r["LBORRES"]) * to_giga[r["LBORRESU"]]
        and r["LBSTRESU"] == "10^9/L"
        for r in platelets
    )
    assert {r["LBORRESU"] for r in platelets} == {"/mm3", "10^9/L"}  # both reported
    # the laboratory each value came from, as its site's registry names it (in ASCII)
    assert {r["LBNAM"] for r in platelets} == {
        "CHU Bordeaux - Laboratoire de biologie",
        "CHU Toulouse - Institut federatif de biologie",
    }
    assert all(r["LBNAM"] == "" for r in lb if r["LBTESTCD"] == "HCG")
    for row in lb:
        if row["LBORNRHI"] and row["LBORRES"]:
            high = Decimal(row["LBORRES"]) > Decimal(row["LBORNRHI"])
            assert (row["LBNRIND"] == "HIGH") == high, row
        if row["LBORNRLO"] and row["LBORRES"]:
            low = Decimal(row["LBORRES"]) < Decimal(row["LBORNRLO"])
            assert (row["LBNRIND"] == "LOW") == low, row
    graded = [r for r in lb if r["LBTOXGR"]]
    assert graded and {r["LBTOXGR"] for r in graded} <= {"0", "1", "2", "3", "4"}
    assert any(r["LBTOXGR"] != "0" for r in graded), "the seeded patients have a graded lab"
    assert {r["LBTESTCD"] for r in graded} >= {"HGB", "NEUT", "PLAT", "ALT", "BILI"}
    assert any(r["VISIT"].startswith("WEEK") for r in lb)


def test_ae_has_grade_seriousness_and_causality_per_cause(operator):
    ae, suppae = read(operator, "AE"), read(operator, "SUPPAE")
    assert ae
    for row in ae:
        assert row["AESER"] in {"Y", "N"}
        assert row["AETOXGR"] in {"1", "2", "3", "4", "5"}
        assert row["AETERM"], "the operator gets the verbatim term"
        if row["AESER"] == "N":
            assert row["AESHOSP"] == "N" and row["AESDTH"] == "N"
    causes = {"NOT RELATED", "UNLIKELY RELATED", "POSSIBLY RELATED", "PROBABLY RELATED", "RELATED"}
    assert {r["AEREL"] for r in ae if r["AEREL"]} <= causes
    procedure = {(r["USUBJID"], r["IDVARVAL"]): r for r in suppae}
    for row in ae:
        qualifier = procedure[(row["USUBJID"], row["AESEQ"])]
        assert qualifier["QNAM"] == "AERELPR" and qualifier["IDVAR"] == "AESEQ"
        assert qualifier["QVAL"] in causes


def test_ex_holds_the_iv_cycles_and_the_iah_dose(seeded, operator):
    with seeded.app.app_context():
        doses = {
            f"{STUDYID}-{row.subject}": row.values["ADMACT"].value
            for row in iter_rows(form_oid="LUADM")
            if row.group_oid == "ADM" and "ADMACT" in row.values
        }
    ex = read(operator, "EX")
    assert doses
    iah = {r["USUBJID"]: r for r in ex if r["EXROUTE"] == "INTRA-ARTERIAL"}
    assert {u: Decimal(r["EXDOSE"]) for u, r in iah.items()} == {
        u: Decimal(d) for u, d in doses.items()
    }
    for row in iah.values():
        assert row["EXDOSU"] == "MBq" and row["EXTRT"] == "LUTETIUM LU 177 DOTATATE"
        assert row["EXSTDY"] and int(row["EXSTDY"]) > 1, "after D0"
    cycles = [r for r in ex if r["EXROUTE"] == "INTRAVENOUS"]
    assert cycles and all(int(r["EXSTDY"]) < 0 for r in cycles if r["EXSTDY"])


def test_uptake_per_lesion_and_route_is_in_tr_linked_to_tu(seeded, operator):
    with seeded.app.app_context():
        expected = {
            (f"{STUDYID}-{row.subject}", row.form_oid, row.values["LESID"].value): row.values[
                "SUVMAX"
            ].value
            for row in iter_rows(form_oid=("PETIV", "PETIAH"))
            if row.group_oid == "IDX"
        }
    tr, tu, supptr = read(operator, "TR"), read(operator, "TU"), read(operator, "SUPPTR")
    routes = {(r["USUBJID"], r["IDVARVAL"]): r["QVAL"] for r in supptr if r["QNAM"] == "TRROUTE"}
    found = {}
    visits = {"68GA PET AFTER IV INJECTION": "PETIV", "68GA PET AFTER IAH INJECTION (D0)": "PETIAH"}
    for row in tr:
        form = visits.get(row["VISIT"])
        if row["TRTESTCD"] != "SUVMAX" or form is None:
            continue
        route = routes[(row["USUBJID"], row["TRSEQ"])]
        assert route == ("INTRA-ARTERIAL" if form == "PETIAH" else "INTRAVENOUS")
        assert row["TRMETHOD"] == "PET/CT SCAN"
        found[(row["USUBJID"], form, row["TRLNKID"])] = row["TRORRES"]
    assert expected and {k: found[k] for k in expected} == expected
    lesions = {(r["USUBJID"], r["TULNKID"]) for r in tu}
    assert len(lesions) == len(tu), "each lesion is identified once"
    for row in tr:
        if row["TRLNKID"]:
            assert (row["USUBJID"], row["TRLNKID"]) in lesions, row
    tests = {r["TRTESTCD"] for r in tr}
    assert tests >= {"LDIAM", "SUMDIAM", "TUMSTATE", "SUVMAX", "SUVMEAN", "SUVPEAK", "TLRATIO"}


def test_rs_holds_the_recist_responses_linked_to_tr(operator):
    rs, tr = read(operator, "RS"), read(operator, "TR")
    assert {r["RSTESTCD"] for r in rs} >= {"TRGRESP", "OVRLRESP", "NEWLPROG", "BESTRESP"}
    assert {r["RSORRES"] for r in rs if r["RSTESTCD"] in ("OVRLRESP", "BESTRESP")} <= {
        "CR",
        "PR",
        "SD",
        "PD",
        "NE",
    }
    groups = {(r["USUBJID"], r["TRLNKGRP"]) for r in tr if r["TRTESTCD"] == "LDIAM"}
    assert all((r["USUBJID"], r["RSLNKGRP"]) in groups for r in rs)


def test_sas_transport_reads_back_equal_to_the_csv(operator):
    for name in ALL_NAMES:
        frame, meta = pyreadstat.read_xport(str(operator / "xpt" / f"{name.lower()}.xpt"))
        rows = read(operator, name)
        dataset = next((d for d in DATASETS if d.name == name), None) or supp(name[4:])
        assert meta.table_name == name
        assert list(frame.columns) == dataset.names
        assert meta.column_names_to_labels == {v.name: v.label for v in dataset.variables}
        assert len(frame) == len(rows)
        for index, row in enumerate(rows):
            for variable in dataset.variables:
                value = frame.iloc[index][variable.name]
                if variable.type == "Num":
                    if row[variable.name] == "":
                        assert value != value, (name, variable.name)  # NaN
                    else:
                        assert value == pytest.approx(float(row[variable.name]))
                else:
                    assert value == row[variable.name], (name, variable.name)


def test_dataset_json_follows_version_1_1(operator):
    required = {
        "datasetJSONCreationDateTime",
        "datasetJSONVersion",
        "itemGroupOID",
        "records",
        "name",
        "label",
        "columns",
        "rows",
    }
    for name in ALL_NAMES:
        document = json.loads((operator / "json" / f"{name.lower()}.json").read_text())
        rows = read(operator, name)
        assert required <= set(document)
        assert re.fullmatch(r"1\.1(\.\d+)?", document["datasetJSONVersion"])
        assert document["itemGroupOID"] == f"IG.{name}" and document["name"] == name
        assert document["records"] == len(document["rows"]) == len(rows)
        columns = document["columns"]
        assert [c["name"] for c in columns] == list(rows[0])
        assert len({c["itemOID"] for c in columns}) == len(columns)
        for column in columns:
            assert {"itemOID", "name", "label", "dataType"} <= set(column)
            assert column["dataType"] in {"string", "integer", "double"}
            if column["dataType"] == "string":
                assert column["length"] >= 1
        for json_row, csv_row in zip(document["rows"], rows, strict=True):
            for column, value in zip(columns, json_row, strict=True):
                text = csv_row[column["name"]]
                if column["dataType"] == "string":
                    assert value == text
                elif text == "":
                    assert value is None
                else:
                    kind = int if column["dataType"] == "integer" else float
                    assert isinstance(value, kind) and value == pytest.approx(float(text))
                assert len(text) <= column.get("length", len(text))


def test_define_covers_every_variable_and_the_archive_holds_every_file(operator):
    with (operator / "define.csv").open(newline="", encoding="utf-8") as f:
        define = list(csv.DictReader(f))
    described = {(r["Dataset"], r["Variable"]) for r in define}
    for name in ALL_NAMES:
        for variable in read(operator, name)[0]:
            assert (name, variable) in described
    for domain, qualifiers in SUPPLEMENTAL.items():
        for qnam, _, _ in qualifiers:
            assert (f"SUPP{domain}", f"QNAM={qnam}") in described
    for row in define:
        assert row["Label"] and row["Type"] in {"Char", "Num"} and row["Origin"]
        assert int(row["Length"]) >= 1
    ae = {r["Variable"]: r for r in define if r["Dataset"] == "AE"}
    assert ae["AESER"]["Code list"] == "C66742 NY"
    with zipfile.ZipFile(operator / "sdtm.zip") as bundle:
        names = set(bundle.namelist())
    expected = {"define.csv", "define.xml", "manifest.json"} | {
        f"{kind}/{n.lower()}.{kind}" for n in ALL_NAMES for kind in ("csv", "xpt", "json")
    }
    assert names == expected


def test_the_manifest_names_every_file_with_its_hash_and_the_audit_checkpoint(seeded, operator):
    manifest = json.loads((operator / "manifest.json").read_text())
    assert manifest["datasets"]["DM"] == 8 and manifest["free_text_withheld"] is False
    assert set(manifest["sha256"]) == {
        "define.csv",
        "define.xml",
        *(f"{k}/{n.lower()}.{k}" for n in ALL_NAMES for k in ("csv", "xpt", "json")),
    }
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((operator / name).read_bytes()).hexdigest() == digest
    with seeded.app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.seq == manifest["audit_checkpoint"]["seq"])
        )
    assert event.hash == manifest["audit_checkpoint"]["hash"]
    assert event.action == "export" and event.entity_id == "sdtm"


def test_define_xml_is_valid_define_2_0_and_describes_every_variable(operator):
    schema_path = Path(odmlib.__file__).parent / "schemas/define/2.0/define2-0-0.xsd"
    schema = etree.XMLSchema(etree.parse(str(schema_path)))
    document = etree.parse(str(operator / "define.xml"))
    assert schema.validate(document), schema.error_log
    ns = {"odm": ODM_NS, "def": DEF_NS}
    item_defs = {e.get("OID"): e for e in document.iterfind(".//odm:ItemDef", ns)}
    codelists = {e.get("OID") for e in document.iterfind(".//odm:CodeList", ns)}
    for name in ALL_NAMES:
        group = document.find(f".//odm:ItemGroupDef[@OID='IG.{name}']", ns)
        assert group is not None and group.get("Name") == name
        refs = [r.get("ItemOID") for r in group.iterfind("odm:ItemRef", ns)]
        rows = read(operator, name)
        assert refs == [f"IT.{name}.{v}" for v in rows[0]]
        for ref in group.iterfind("odm:ItemRef", ns):
            definition = item_defs[ref.get("ItemOID")]
            assert definition.find("def:Origin", ns) is not None
            codelist = definition.find("odm:CodeListRef", ns)
            if codelist is not None:
                assert codelist.get("CodeListOID") in codelists
            if ref.get("Mandatory") == "Yes":
                variable = definition.get("Name")
                assert all(row[variable] for row in rows), (name, variable)
    aeser = document.find(".//odm:CodeList[@OID='CL.C66742.NY']", ns)
    assert {e.get("CodedValue") for e in aeser.iterfind("odm:EnumeratedItem", ns)} <= {"Y", "N"}
    assert document.find(".//def:WhereClauseDef[@OID='WC.SUPPAE.AERELPR']", ns) is not None


def test_the_sponsor_gets_no_free_text(operator, sponsor):
    assert any(r["AETERM"] for r in read(operator, "AE"))
    assert all(r["AETERM"] == "" for r in read(sponsor, "AE"))
    mine = [r for r in read(sponsor, "CM") if r["CMCAT"] == "CONCOMITANT MEDICATION"]
    assert mine and all(r["CMTRT"] == r["CMINDC"] == r["CMDOSTXT"] == "" for r in mine)
    history = [r for r in read(sponsor, "MH") if r["MHCAT"] == "GENERAL MEDICAL HISTORY"]
    assert history and all(r["MHTERM"] == "" for r in history)
    # Coded values stay: the analog's name, the CTCAE term, the grades.
    assert any(
        r["CMTRT"] == "LANREOTIDE" or r["CMTRT"] == "OCTREOTIDE" for r in read(sponsor, "CM")
    )
    assert [r["AETOXGR"] for r in read(sponsor, "AE")] == [
        r["AETOXGR"] for r in read(operator, "AE")
    ]


def test_the_site_filter_keeps_one_sites_subjects(seeded, tmp_path):
    runner = seeded.app.test_cli_runner()
    result = runner.invoke(args=["export", "sdtm", "--out", str(tmp_path / "bdx"), "--site", "BDX"])
    assert result.exit_code == 0, result.output
    for name in ALL_NAMES:
        rows = read(tmp_path / "bdx", name)
        assert all(r["USUBJID"].startswith(f"{STUDYID}-BDX-") for r in rows), name
    assert read(tmp_path / "bdx", "DM")
    # BDX has no screen failure: IE is empty, and still a dataset in every form.
    assert read(tmp_path / "bdx", "IE") == []
    frame, meta = pyreadstat.read_xport(str(tmp_path / "bdx" / "xpt" / "ie.xpt"))
    assert meta.table_name == "IE" and len(frame) == 0
    assert list(frame.columns) == DATASETS[1].names
    document = json.loads((tmp_path / "bdx" / "json" / "ie.json").read_text())
    assert document["records"] == 0 and document["rows"] == []


def test_bad_input_is_refused_with_nothing_written(seeded, tmp_path):
    runner = seeded.app.test_cli_runner()
    result = runner.invoke(args=["export", "sdtm", "--out", str(tmp_path / "x"), "--site", "NOPE"])
    assert result.exit_code != 0 and "No site with code 'NOPE'" in result.output
    assert not (tmp_path / "x").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    result = runner.invoke(args=["export", "sdtm", "--out", str(tmp_path / "full")])
    assert result.exit_code != 0 and "is not empty" in result.output
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    (tmp_path / "file").write_text("")
    result = runner.invoke(args=["export", "sdtm", "--out", str(tmp_path / "file")])
    assert result.exit_code != 0 and "is not a folder" in result.output


def test_each_export_is_audited_and_the_trail_still_verifies(seeded, operator, sponsor):
    with seeded.app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "export", AuditEvent.entity_id == "sdtm"
            )
        ).all()
        sponsor_id = auth_services.get_user("sponsor").id
    assert {e.entity for e in events} == {"extract"}
    assert any(e.actor_id is None for e in events)
    assert any(e.actor_id == sponsor_id for e in events)
    operator_events = [e for e in events if e.actor_id is None]
    assert any(e.new.startswith("SDTM datasets of all sites: DM 8; IE ") for e in operator_events)
    result = seeded.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_a_stream_of_several_forms_is_the_union_of_their_streams(seeded):
    with seeded.app.app_context():
        both = [
            (r.subject, r.form_oid, r.group_oid, r.repeat_key)
            for r in iter_rows(form_oid=("AE", "CM"))
        ]
        apart = [
            (r.subject, r.form_oid, r.group_oid, r.repeat_key)
            for form in ("AE", "CM")
            for r in iter_rows(form_oid=form)
        ]
    assert both and sorted(both) == sorted(apart)
    subjects = [s for s, *_ in both]
    # Grouped by subject: one subject's rows never interleave with another's.
    assert subjects == sorted(subjects, key=lambda s: subjects.index(s))
