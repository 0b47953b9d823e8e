"""The standard extracts run as jobs from the web: the sponsor and a site's data manager
start ODM and SDTM extracts on "My jobs", within their sites, and download valid files."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
import sqlalchemy as sa
from lxml import etree

from ecrf.extensions import db
from ecrf.jobs.backends import shutdown_threads
from ecrf.jobs.models import Job, JobState
from tests.exports.jobs_support import BDX_MANAGER, dispose, jobs_trial
from tests.exports.odm_checks import NS, check_odm


@pytest.fixture(scope="module")
def trial(databases, tmp_path_factory):
    trial = jobs_trial(databases, tmp_path_factory.mktemp("extract-jobs"))
    yield trial
    shutdown_threads(trial.app)
    dispose(trial.app)


def _run(trial, username: str, kind: str, site: str = ""):
    client = trial.client(username)
    assert kind in client.get("/jobs/new").get_data(as_text=True)
    response = client.post("/jobs/new", data={"kind": kind, "site": site})
    assert response.status_code == 302, response.get_data(as_text=True)
    with trial.app.app_context():
        job_id = db.session.scalar(sa.select(sa.func.max(Job.id)))
    job = trial.wait_for(job_id, lambda j: not j.state.active, seconds=240)
    assert job.state is JobState.DONE, job.error
    assert job.progress_done == job.progress_total > 0
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    return job, download.get_data()


def test_the_sponsor_downloads_a_valid_odm_of_every_site(trial, tmp_path):
    _, body = _run(trial, "sponsor", "odm")
    path = tmp_path / "study.xml"
    path.write_bytes(body)
    check_odm(path)
    sites = {e.get("LocationOID") for e in etree.parse(str(path)).iterfind(".//odm:SiteRef", NS)}
    assert len(sites) > 1


def test_a_site_data_manager_gets_the_odm_of_their_site_only(trial, tmp_path):
    _, body = _run(trial, BDX_MANAGER, "odm", site="BDX")
    path = tmp_path / "bdx.xml"
    path.write_bytes(body)
    check_odm(path)
    keys = [e.get("SubjectKey") for e in etree.parse(str(path)).iterfind(".//odm:SubjectData", NS)]
    assert keys and all(key.startswith("BDX-") for key in keys)


def test_the_sponsor_downloads_the_csv_bundle_without_free_text(trial):
    _, body = _run(trial, "sponsor", "csv")
    bundle = zipfile.ZipFile(io.BytesIO(body))
    dictionary = next(name for name in bundle.namelist() if name.endswith("dictionary.csv"))
    rows = list(csv.DictReader(io.TextIOWrapper(bundle.open(dictionary), encoding="utf-8")))
    withheld = [row for row in rows if row.get("WITHHELD") == "Y"]
    assert withheld, "the sponsor's dictionary names the free-text columns left out"
    assert any(name.endswith("manifest.json") for name in bundle.namelist())


def test_the_sponsor_downloads_the_sdtm_datasets_zipped(trial):
    _, body = _run(trial, "sponsor", "sdtm")
    names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
    for dataset in ("dm", "ae", "lb", "tr"):
        assert any(name.endswith(f"xpt/{dataset}.xpt") for name in names), sorted(names)
        assert any(name.endswith(f"json/{dataset}.json") for name in names)
    assert any(name.endswith("define.xml") for name in names)
