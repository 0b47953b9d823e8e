"""The subject casebook as a monitor downloads it: a PDF/A-3b file read back (its structure
with pypdf, its text with pdftotext), its ODM attachment validated, every visit and form of
the subject in it; from the command line."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from ecrf.audit.models import AuditEvent
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.models import EntryStatus, FormEntry, Subject, SubjectVisit
from tests.exports.odm_checks import NS, checked_tree
from tests.reports import small_site
from tests.reports.pdf_text import page_texts


def _most_documented(app) -> str:
    """The subject with the most complete forms (followed through the whole schedule)."""
    order = sa.func.count(FormEntry.id)
    with app.app_context():
        counts = db.session.execute(
            sa.select(Subject.identifier, sa.func.count(FormEntry.id))
            .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
            .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
            .where(FormEntry.status == EntryStatus.COMPLETE)
            .group_by(Subject.identifier)
            .order_by(order.desc(), Subject.identifier)
        ).all()
        return counts[0][0]


@pytest.fixture(scope="module")
def casebook(seeded, tmp_path_factory) -> tuple[str, Path, str]:
    """The most documented subject's casebook, written by `ecrf report casebook`."""
    identifier = _most_documented(seeded.app)
    out = tmp_path_factory.mktemp("casebook") / "casebook.pdf"
    result = seeded.app.test_cli_runner().invoke(
        args=["report", "casebook", identifier.lower(), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return identifier, out, result.output


@pytest.fixture(scope="module")
def casebook_reader(casebook) -> PdfReader:
    """The casebook read with pypdf, once for the module's tests (its first look inside takes
    seconds over a casebook of many pages)."""
    _, path, _ = casebook
    return PdfReader(path)


@pytest.fixture(scope="module")
def casebook_pages(casebook) -> list[str]:
    """The text of each page of the casebook, read back once for the module's tests."""
    _, path, _ = casebook
    return page_texts(path)


@pytest.fixture(scope="module")
def small_site_subjects(seeded) -> list[str]:
    """A small site's subjects (their consent only): their casebooks render in a second."""
    return small_site.add_small_site(seeded.app)


def test_the_casebook_is_an_archival_pdf_with_the_subjects_odm_attached(
    casebook, casebook_reader, tmp_path
):
    identifier, path, output = casebook
    assert f"Casebook of {identifier} written to {path}" in output
    reader = casebook_reader
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part[^0-9]*3", xmp) and re.search(r"pdfaid:conformance[^A-Z]*B", xmp)
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert reader.metadata.title == f"Casebook of subject {identifier}"

    attachments = reader.attachments
    assert list(attachments) == [f"{identifier}-odm.xml"]
    odm_path = tmp_path / "subject.xml"
    odm_path.write_bytes(attachments[f"{identifier}-odm.xml"][0])
    tree = checked_tree(odm_path)
    keys = tree.xpath("//odm:SubjectData/@SubjectKey", namespaces=NS)
    assert keys == [identifier]
    assert tree.getroot().get("Granularity") == "SingleSubject"
    site = identifier.split("-")[0]
    locations = tree.xpath("//odm:AdminData/odm:Location/@OID", namespaces=NS)
    assert locations == [f"LOC.{site}"]


def test_every_page_carries_the_running_header_and_page_n_of_m(
    casebook, casebook_reader, casebook_pages
):
    identifier, _, _ = casebook
    total = len(casebook_reader.pages)
    assert total == len(casebook_pages)  # pypdf and poppler read the same document
    assert total > 20  # a subject followed to the end fills many pages
    site = identifier.split("-")[0]
    for number, text in enumerate(casebook_pages, start=1):
        assert f"Page {number} of {total}" in text, number
        assert f"Site {site} · Subject {identifier}" in text, number
        assert "IAH-PRRT (LUTARTERIAL)" in text and "audit checkpoint" in text, number


def test_every_visit_and_form_with_data_is_in_the_casebook(seeded, casebook, casebook_pages):
    identifier, _, _ = casebook
    text = "\n".join(casebook_pages)
    with seeded.app.app_context():
        from ecrf.records.loader import current_study

        study = current_study()
        rows = db.session.execute(
            sa.select(SubjectVisit.visit_oid, FormEntry.form_oid, SubjectVisit.visit_date)
            .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
            .join(Subject, Subject.id == SubjectVisit.subject_id)
            .where(Subject.identifier == identifier)
        ).all()
        assert len(rows) > 20
        for visit_oid, form_oid, visit_date in rows:
            assert f"{visit_oid} — {study.visits[visit_oid].name}" in text
            assert study.forms[form_oid].name in text
            if visit_date is not None:
                assert str(visit_date) in text
    # Labels, not raw codes, with the code beside; the contents list page numbers.
    assert "Contents" in text and "Audit trail" in text and "Eligibility" in text
    assert re.search(r"Informed consent and study part[\s.]*\.[\s.]*\d+", text)


def test_the_casebook_reports_its_generation_in_the_trail(seeded, casebook):
    identifier, path, _ = casebook
    with seeded.app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "report", AuditEvent.entity_id == identifier)
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None and event.field == "casebook"
        assert hashlib.sha256(path.read_bytes()).hexdigest() in event.new
        assert verify_trail().intact


def test_an_unknown_subject_or_an_unwritable_file_is_a_clear_message(
    seeded, small_site_subjects, tmp_path
):
    runner = seeded.app.test_cli_runner()
    unknown = runner.invoke(args=["report", "casebook", "BDX-999", "--out", str(tmp_path / "x")])
    assert unknown.exit_code == 1
    assert "There is no subject BDX-999." in unknown.output
    assert "Traceback" not in unknown.output
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    identifier = small_site_subjects[0]  # rendered before the write fails: a quick one
    unwritable = runner.invoke(
        args=["report", "casebook", identifier, "--out", str(blocker / "casebook.pdf")]
    )
    assert unwritable.exit_code == 1
    assert "Cannot write" in unwritable.output and "Traceback" not in unwritable.output
    assert not list(tmp_path.glob("**/*.part"))


def test_the_operator_writes_a_sites_copy_from_the_command_line(
    seeded, small_site_subjects, tmp_path
):
    # A small site's copy: a casebook per subject is the point here (the most documented
    # subject's casebook is this module's `casebook`; a demo site's copy takes a minute).
    site = small_site.CODE
    out = tmp_path / "copy" / f"{site.lower()}.zip"
    result = seeded.app.test_cli_runner().invoke(
        args=["report", "casebooks", "--site", site.lower(), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with seeded.app.app_context():
        expected = list(
            db.session.scalars(
                sa.select(Subject.identifier)
                .where(Subject.identifier.like(f"{site}-%"))
                .order_by(Subject.number)
            )
        )
    assert expected == small_site_subjects and len(expected) > 1
    assert f"Investigator's copy of {site} written to {out}: {len(expected)} casebooks" in (
        result.output
    )
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert [f["subject"] for f in manifest["files"]] == expected
        assert manifest["generated_by"].startswith("cli:")
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["file"])).hexdigest() == entry["sha256"]
    unknown = seeded.app.test_cli_runner().invoke(
        args=["report", "casebooks", "--site", "XYZ", "--out", str(tmp_path / "x.zip")]
    )
    assert unknown.exit_code == 1 and "There is no site XYZ." in unknown.output
