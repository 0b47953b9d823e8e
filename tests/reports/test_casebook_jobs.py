"""Casebooks from the web: one subject's from its page, the investigator's copy of a site from
the Reports page; both run as jobs on "My jobs", within the reader's sites."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from ecrf.audit.models import AuditEvent
from ecrf.extensions import db
from ecrf.jobs.backends import shutdown_threads
from ecrf.jobs.models import Job, JobState
from ecrf.records.models import Site, Subject
from tests.exports.jobs_support import dispose, jobs_trial
from tests.pages import masked
from tests.reports import small_site

#: Rendering a casebook takes seconds; a loaded machine may take minutes for a site.
WAIT_SECONDS = 900


@pytest.fixture(scope="module")
def trial(databases, tmp_path_factory):
    trial = jobs_trial(databases, tmp_path_factory.mktemp("casebooks"))
    small_site.add_small_site(trial.app)
    trial.passwords[small_site.INVESTIGATOR] = small_site.PASSWORD
    yield trial
    shutdown_threads(trial.app)
    dispose(trial.app)


def _latest_job(trial) -> int:
    with trial.app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Job.id)))


def _subjects(trial, site: str) -> list[str]:
    with trial.app.app_context():
        return list(
            db.session.scalars(
                sa.select(Subject.identifier)
                .join(Site)
                .where(Site.code == site)
                .order_by(Subject.number)
            )
        )


def test_a_monitor_asks_for_a_casebook_on_the_subject_page_and_downloads_it(trial):
    # A subject of the small site (its consent only): the quickest casebook to render (the
    # most documented subject's is read back whole in test_casebook_pdf).
    client = trial.client("monitor")
    site = small_site.CODE
    identifier = _subjects(trial, site)[0]
    page = client.get(f"/subjects/{identifier}").get_data(as_text=True)
    assert f'action="/reports/casebook/{identifier}"' in page and "Casebook (PDF)" in page

    response = client.post(f"/reports/casebook/{identifier}")
    assert response.status_code == 302 and response.location.endswith("/jobs")
    job = trial.wait_for(_latest_job(trial), lambda j: not j.state.active, WAIT_SECONDS)
    assert job.state is JobState.DONE, job.error
    assert (job.kind, job.subject, job.scope) == ("casebook", identifier, [site])
    listing = client.get("/jobs").get_data(as_text=True)
    assert f"Subject {identifier}" in listing and "Ready" in listing

    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    assert f"casebook-{identifier}.pdf" in download.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(download.data))
    assert f"Casebook of subject {identifier}" in reader.pages[0].extract_text()
    assert list(reader.attachments) == [f"{identifier}-odm.xml"]
    assert hashlib.sha256(download.data).hexdigest() == job.result_sha256
    with trial.app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "report", AuditEvent.entity_id == identifier)
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None and event.actor == "monitor"
        assert job.result_sha256 in event.new


def test_the_casebook_is_offered_only_to_readers_of_reports_within_their_sites(trial):
    bdx, tls = _subjects(trial, "BDX")[0], _subjects(trial, "TLS")[-1]
    staff = trial.client("staff.bdx")
    page = staff.get(f"/subjects/{bdx}").get_data(as_text=True)
    assert "Casebook (PDF)" not in page
    assert staff.post(f"/reports/casebook/{bdx}").status_code == 403
    assert trial.client("sponsor").post(f"/reports/casebook/{bdx}").status_code == 403
    investigator = trial.client("investigator.bdx")
    before = _latest_job(trial)
    other = investigator.post(f"/reports/casebook/{tls}")
    missing = investigator.post("/reports/casebook/TLS-999")
    assert other.status_code == missing.status_code == 404
    assert masked(other.data) == masked(missing.data)
    assert _latest_job(trial) == before  # nothing was started


def test_an_investigator_takes_the_sites_copy_with_checksums(trial):
    # A small site's copy: a casebook per subject is the point here, and a demo site's take a
    # minute (the most documented subject's is read back whole in test_casebook_pdf).
    site = small_site.CODE
    client = trial.client(small_site.INVESTIGATOR)
    page = client.get("/reports/").get_data(as_text=True)
    assert "Investigator's copy" in page and f'value="{site}"' in page
    assert 'value="BDX"' not in page and 'value="TLS"' not in page

    response = client.post("/reports/casebooks", data={"site": site})
    assert response.status_code == 302 and response.location.endswith("/jobs")
    job = trial.wait_for(_latest_job(trial), lambda j: not j.state.active, WAIT_SECONDS)
    assert job.state is JobState.DONE, job.error
    subjects = _subjects(trial, site)
    assert len(subjects) > 1
    assert job.progress_done == job.progress_total == len(subjects)

    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        names = set(archive.namelist())
        assert {f"{site}/casebook-{s}.pdf" for s in subjects} <= names
        assert not any(name.startswith(("BDX/", "NTE/", "TLS/")) for name in names)
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["sites"] == [site] and manifest["generated_by"] == small_site.INVESTIGATOR
        assert [f["subject"] for f in manifest["files"]] == subjects
        sums = archive.read("SHA256SUMS").decode().splitlines()
        assert len(sums) == len(subjects)
        for line in sums:
            digest, name = line.split("  ")
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest
        for entry in manifest["files"]:
            pdf = PdfReader(io.BytesIO(archive.read(entry["file"])))
            odm = pdf.attachments[f"{entry['subject']}-odm.xml"][0]
            assert hashlib.sha256(odm).hexdigest() == entry["odm_sha256"]
            footer = pdf.pages[0].extract_text()
            assert manifest["audit_checkpoint"]["hash"] in footer.replace("\n", "")
        assert "sha256sum -c SHA256SUMS" in archive.read("README.txt").decode()


def test_the_copy_of_another_site_is_refused_at_the_site(trial):
    client = trial.client("investigator.bdx")
    before = _latest_job(trial)
    response = client.post("/reports/casebooks", data={"site": "TLS"})
    assert response.status_code == 403
    refused = client.post("/reports/casebooks", data={"site": "ZZZ"})
    assert refused.status_code == 422
    assert "There is no site ZZZ." in refused.get_data(as_text=True)
    assert _latest_job(trial) == before
