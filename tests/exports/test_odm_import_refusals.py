"""`ecrf import odm` refuses a file it cannot take whole: each problem is named (element
path, subject, item) and nothing is written, not even the subjects before the problem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from lxml import etree

from ecrf.audit.models import AuditEvent
from ecrf.demo import seed_demo
from ecrf.exports.odm.writer import write_odm
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import FormEntry, ItemValue, Subject, SubjectVisit
from ecrf.records.sites import get_site
from tests.exports.odm_checks import NS, check_odm
from tests.seeded_trial import dispose, trial_app


@pytest.fixture(scope="module")
def source(seeded, tmp_path_factory) -> Path:
    """An operator's export of one site of the seeded trial: TLS, with three subjects (BDX
    has five, followed further). No refusal here depends on the file's size, and a
    refusal found while replaying comes after the subjects before it were replayed."""
    with seeded.app.app_context():
        site_id = get_site("TLS").id
        path = write_odm(
            current_study(),
            tmp_path_factory.mktemp("odm") / "trial.xml",
            site_ids=[site_id],
            actor=None,
        )
    check_odm(path)
    assert len(subject_nodes(etree.parse(str(path)).getroot())) > 1
    return path


@pytest.fixture(scope="module")
def target(databases) -> Iterator:
    """A fresh trial database with the sites and accounts, no subject."""
    app = trial_app(databases)
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
    yield app
    dispose(app)


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Subject, SubjectVisit, FormEntry, ItemValue, AuditEvent)
        }


def run_import(app, path: Path):
    before = counts(app)
    result = app.test_cli_runner().invoke(args=["import", "odm", str(path)])
    return result, before, counts(app)


def edited(source: Path, tmp_path: Path, edit) -> Path:
    tree = etree.parse(str(source))
    edit(tree.getroot())
    out = tmp_path / "edited.xml"
    tree.write(str(out), xml_declaration=True, encoding="utf-8")
    return out


def subject_nodes(root) -> list:
    return root.findall(".//odm:SubjectData", NS)


def test_a_file_invalid_against_the_schema_is_refused_with_the_line(source, target, tmp_path):
    def break_it(root):
        del root.attrib["FileOID"]
        form = root.find(".//odm:FormData", NS)
        form.addprevious(etree.Element(f"{{{NS['odm']}}}ItemGroupData", ItemGroupOID="IG.X"))

    result, before, after = run_import(target, edited(source, tmp_path, break_it))
    assert result.exit_code == 1
    assert "not valid CDISC ODM 1.3.2" in result.output
    assert "FileOID" in result.output and "line " in result.output
    assert after == before


def test_a_file_that_is_not_xml_is_refused(target, tmp_path):
    path = tmp_path / "junk.xml"
    path.write_text("subject,value\nBDX-001,12\n")
    result, before, after = run_import(target, path)
    assert result.exit_code == 1 and "not well-formed XML" in result.output
    assert "Traceback" not in result.output
    assert after == before


def test_another_study_is_refused(source, target, tmp_path):
    def other_study(root):
        root.find("odm:Study", NS).set("OID", "ST.OTHER")
        root.find("odm:ClinicalData", NS).set("StudyOID", "ST.OTHER")
        root.find("odm:AdminData", NS).set("StudyOID", "ST.OTHER")
        for ref in root.iterfind(".//odm:MetaDataVersionRef", NS):
            ref.set("StudyOID", "ST.OTHER")

    result, before, after = run_import(target, edited(source, tmp_path, other_study))
    assert result.exit_code == 1
    with target.app_context():
        expected = f"ST.{current_study().study.oid}"
    assert f"ClinicalData[1]: study ST.OTHER, not this study's {expected}" in result.output
    assert after == before


def test_unknown_oids_are_all_named_with_their_place(source, target, tmp_path):
    def unknown(root):
        subjects = subject_nodes(root)
        subjects[0].find(".//odm:ItemData", NS).set("ItemOID", "IT.DM.NOSUCH")
        subjects[-1].find("odm:StudyEventData", NS).set("StudyEventOID", "SE.NOSUCH")

    path = edited(source, tmp_path, unknown)
    keys = [s.get("SubjectKey") for s in subject_nodes(etree.parse(str(path)).getroot())]
    result, before, after = run_import(target, path)
    assert result.exit_code == 1
    assert "unknown ItemOID IT.DM.NOSUCH" in result.output
    assert f"SubjectData[@SubjectKey='{keys[0]}']/StudyEventData" in result.output
    assert "unknown StudyEventOID SE.NOSUCH" in result.output
    assert f"SubjectData[@SubjectKey='{keys[-1]}']" in result.output
    assert after == before


def test_a_value_the_write_path_refuses_rolls_back_the_subjects_before_it(source, target, tmp_path):
    with target.app_context():
        study = current_study()
        limits = {
            f"IT.{form.oid}.{item.oid}": item.hard.high
            for form in study.study.forms
            for _, item in form.items()
            if item.hard is not None and item.hard.high is not None and not item.derived
        }
    chosen = {}

    def impossible(root):
        # In the last subject: the subjects before it replay fine, then must be undone.
        last = subject_nodes(root)[-1]
        for data in last.iterfind(".//odm:ItemData", NS):
            if data.get("ItemOID") in limits and data.get("Value") is not None:
                data.set("Value", str(limits[data.get("ItemOID")] * 10 + 1))
                chosen.update(key=last.get("SubjectKey"), item=data.get("ItemOID"))
                return
        raise AssertionError("no item with a hard limit in the last subject")

    path = edited(source, tmp_path, impossible)
    result, before, after = run_import(target, path)
    assert result.exit_code == 1
    assert chosen["key"] in result.output
    assert chosen["item"].split(".")[-1] in result.output
    assert "is impossible here" in result.output
    assert after == before


def test_a_unit_that_is_not_the_items_is_refused_and_the_units_range_applies(
    source, target, tmp_path
):
    """The unit of an ItemData is read: one the item does not take is named; a value put
    in another of its units is checked against that unit's range (g/dL for a g/L value)."""

    def in_g_per_l(root):
        for data in root.iterfind(".//odm:ItemData", NS):
            ref = data.find("odm:MeasurementUnitRef", NS)
            if ref is not None and ref.get("MeasurementUnitOID") == "MU.g_per_L":
                return data, ref  # haemoglobin or albumin, as its laboratory reported it
        raise AssertionError("no value entered in g/L in the seeded trial")

    def wrong_unit(root):
        in_g_per_l(root)[1].set("MeasurementUnitOID", "MU.U_per_L")

    result, before, after = run_import(target, edited(source, tmp_path, wrong_unit))
    assert result.exit_code == 1
    assert "MeasurementUnitRef MU.U_per_L is not a unit of this item" in result.output
    assert after == before

    def g_per_dl(root):
        in_g_per_l(root)[1].set("MeasurementUnitOID", "MU.g_per_dL")  # 35 g/dL: impossible

    result, before, after = run_import(target, edited(source, tmp_path, g_per_dl))
    assert result.exit_code == 1
    assert "g/dL is impossible here (expected" in result.output
    assert "was it reported in g/L?" in result.output
    assert after == before


def test_a_subject_that_exists_is_refused_and_the_first_import_stands(source, target):
    result, before, after = run_import(target, source)
    assert result.exit_code == 0, result.output
    assert after["Subject"] > before["Subject"]
    again, before, after = run_import(target, source)
    assert again.exit_code == 1
    first = subject_nodes(etree.parse(str(source)).getroot())[0].get("SubjectKey")
    assert f"subject {first} already exists" in again.output
    assert after == before
