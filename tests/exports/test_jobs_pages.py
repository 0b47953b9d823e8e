"""The jobs pages on the in-process backend: start an extract within one's rights, follow
it on "My jobs" while other requests are answered, download it (owner only, audited)."""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.audit.services import record_event
from ecrf.auth import services as auth_services
from ecrf.auth.roles import Perm
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.jobs import services
from ecrf.jobs.backends import shutdown_threads
from ecrf.jobs.kinds import KINDS, JobKind, register, unregister
from ecrf.jobs.models import Job, JobState
from tests.exports.jobs_support import BDX_MANAGER, dispose, jobs_trial


@pytest.fixture(scope="module")
def trial(databases, tmp_path_factory):
    trial = jobs_trial(databases, tmp_path_factory.mktemp("jobs"))
    yield trial
    shutdown_threads(trial.app)
    dispose(trial.app)


def _start(client, kind="audit", site=""):
    return client.post("/jobs/new", data={"kind": kind, "site": site})


def _latest_job_id(trial) -> int:
    with trial.app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Job.id)))


def _finished(job: Job) -> bool:
    return not job.state.active


def test_a_data_manager_runs_the_audit_trail_and_downloads_it(trial):
    client = trial.client("datamanager")
    page = client.get("/jobs/new")
    assert page.status_code == 200
    assert "Audit trail (CSV, one row per event)" in page.get_data(as_text=True)

    response = _start(client)
    assert response.status_code == 302 and response.location.endswith("/jobs")
    job = trial.wait_for(_latest_job_id(trial), _finished)
    assert job.state is JobState.DONE, job.error
    assert job.scope is None and job.progress_done == job.progress_total > 0
    path = trial.export_dir / job.result_path
    assert path.stat().st_size == job.result_size
    assert hashlib.sha256(path.read_bytes()).hexdigest() == job.result_sha256
    assert job.expires_at - job.finished_at == timedelta(hours=72)

    listing = client.get("/jobs").get_data(as_text=True)
    assert "Ready" in listing and f"/jobs/{job.id}/download" in listing
    assert "100 %" in listing and 'http-equiv="refresh"' not in listing

    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert len(rows) == job.progress_total
    with trial.app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(2)
        ).all()
        assert (events[0].action, events[0].entity, events[0].entity_id) == (
            "download",
            "job",
            str(job.id),
        )
        assert events[0].actor == "datamanager" and job.result_sha256 in events[0].new
        exported = db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "export")
            .order_by(AuditEvent.seq.desc())
        )
        assert exported.actor == "datamanager" and exported.entity_id == "audit"
        result = verify_trail()
        assert result.intact, [str(p) for p in result.problems.shown]


def test_the_download_is_for_the_owner_only(trial):
    client = trial.client("datamanager")
    _start(client)
    job = trial.wait_for(_latest_job_id(trial), _finished)
    assert job.state is JobState.DONE
    other = trial.client(BDX_MANAGER)
    assert other.get(f"/jobs/{job.id}/download").status_code == 404
    assert f"/jobs/{job.id}/download" not in other.get("/jobs").get_data(as_text=True)
    assert other.get("/jobs/999999/download").status_code == 404
    assert other.get("/jobs/99999999999999999999/download").status_code == 404


def test_a_site_data_manager_gets_their_site_and_is_refused_another(trial):
    client = trial.client(BDX_MANAGER)
    page = client.get("/jobs/new").get_data(as_text=True)
    assert '<option value="BDX">' in page and '<option value="TLS">' not in page

    refused = _start(client, site="TLS")
    assert refused.status_code == 403
    assert "You do not hold the right to run this extract at site TLS." in refused.get_data(
        as_text=True
    )
    with trial.app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Job))

    assert _start(client).status_code == 302  # "all my sites" is BDX
    job = trial.wait_for(_latest_job_id(trial), _finished)
    assert job.state is JobState.DONE and job.scope == ["BDX"]
    assert job.id == before + 1
    rows = list(csv.DictReader((trial.export_dir / job.result_path).open(encoding="utf-8")))
    assert rows and {row["site"] for row in rows} == {"BDX"}


@pytest.mark.parametrize(
    ("username", "kind", "site", "status", "message"),
    [
        ("sponsor", "audit", "", 403, "You do not hold the right to run this extract at any site."),
        ("datamanager", "nonsense", "", 422, "Choose one of the extracts in the list."),
        ("datamanager", "audit", "ZZZ", 422, "There is no site ZZZ."),
    ],
)
def test_bad_starts_are_refused_with_their_reason(trial, username, kind, site, status, message):
    with trial.app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Job))
    response = _start(trial.client(username), kind, site)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    with trial.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == before


def test_junk_input_never_gives_a_500(trial):
    client = trial.client("datamanager")
    for data in ({}, {"kind": "x" * 5000}, {"kind": ["audit", "csv"], "site": "../../etc"}):
        assert client.post("/jobs/new", data=data).status_code in (403, 422)


@pytest.mark.parametrize("username", ["admin", "staff.bdx"])
def test_roles_without_the_export_or_report_right_see_no_jobs(trial, username):
    client = trial.client(username)
    assert client.get("/jobs").status_code == 403
    assert client.get("/jobs/new").status_code == 403
    assert "My jobs" not in client.get("/").get_data(as_text=True)
    assert "My jobs" in trial.client("sponsor").get("/").get_data(as_text=True)


def test_a_monitor_runs_report_batches_but_no_extract(trial):
    client = trial.client("monitor")
    assert "My jobs" in client.get("/").get_data(as_text=True)
    page = client.get("/jobs/new").get_data(as_text=True)
    assert "every casebook of the site" in page
    assert "CSV bundle" not in page and "CDISC ODM 1.3.2" not in page
    assert _start(client, "csv").status_code == 403


def test_the_sponsor_is_offered_the_extracts_but_no_audit_trail(trial):
    client = trial.client("sponsor")
    page = client.get("/jobs/new").get_data(as_text=True)
    assert "Audit trail" not in page
    assert "CDISC ODM 1.3.2" in page and "CSV bundle" in page


def test_an_account_with_no_extract_open_is_told_so(trial):
    kinds = dict(KINDS)
    KINDS.clear()
    try:
        page = trial.client("sponsor").get("/jobs/new").get_data(as_text=True)
    finally:
        KINDS.update(kinds)
    assert "None of the extracts is open to your roles." in page


def _write_after(gate: threading.Event):
    def write(out: Path, *, site_ids, actor, progress=None) -> Path:
        progress(3, 8)
        assert gate.wait(30), "the test never let the job finish"
        progress(8, 8)
        out.write_text("done\n")
        record_event("export", "extract", "slow", actor=actor)
        db.session.commit()
        return out

    return write


def test_a_running_job_blocks_no_request_and_shows_its_progress(trial):
    gate = threading.Event()
    register(JobKind("slow", "Slow test extract", (Perm.EXPORT_DATA,), _write_after(gate), "x.txt"))
    try:
        client = trial.client("sponsor")
        assert _start(client, "slow").status_code == 302
        job_id = _latest_job_id(trial)
        job = trial.wait_for(job_id, lambda j: j.progress_done == 3)
        assert job.state is JobState.RUNNING, job.error
        # The job is still running: the app answers other requests meanwhile.
        page = client.get("/jobs")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert '<meta http-equiv="refresh" content="3">' in text
        assert "Running" in text and "37 % · 3 of 8" in text
        assert client.get("/subjects").status_code == 200
        assert trial.job(job_id).state is JobState.RUNNING
        gate.set()
        job = trial.wait_for(job_id, _finished)
        assert job.state is JobState.DONE and (job.progress_done, job.progress_total) == (8, 8)
        assert client.get(f"/jobs/{job_id}/download").get_data() == b"done\n"
    finally:
        gate.set()
        unregister("slow")


def _raising(error: Exception):
    def write(out: Path, *, site_ids, actor, progress=None) -> Path:
        out.write_text("half")
        raise error

    return write


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RuntimeError("disk on fire"), services.UNEXPECTED),
        (RuleViolation("Nothing to export yet."), "Nothing to export yet."),
    ],
)
def test_a_job_that_raises_is_marked_failed_with_a_message(trial, error, message):
    register(JobKind("broken", "Broken test extract", (Perm.EXPORT_DATA,), _raising(error), "b"))
    try:
        client = trial.client("sponsor")
        _start(client, "broken")
        job = trial.wait_for(_latest_job_id(trial), _finished)
        assert job.state is JobState.FAILED and job.error == message
        assert job.result_path is None and not (trial.export_dir / f"job-{job.id}").exists()
        page = client.get("/jobs").get_data(as_text=True)
        assert "Failed" in page and message in page and "disk on fire" not in page
        assert client.get(f"/jobs/{job.id}/download").status_code == 422
    finally:
        unregister("broken")


def test_rights_lost_before_the_run_or_the_download_are_checked_again(trial):
    client = trial.client(BDX_MANAGER)
    _start(client)
    job = trial.wait_for(_latest_job_id(trial), _finished)
    assert job.state is JobState.DONE
    with trial.app.app_context():
        user = auth_services.get_user(BDX_MANAGER)
        user_id = user.id
        assignment = user.roles[0]
        assignment.site_id = db.session.scalar(
            sa.text("SELECT id FROM site WHERE code = 'TLS'")
        )  # moved to another site
        db.session.commit()
    try:
        refused = client.get(f"/jobs/{job.id}/download")
        assert refused.status_code == 403
        assert services.RIGHTS_CHANGED in refused.get_data(as_text=True)
        with trial.app.app_context():
            queued = Job(user_id=user_id, kind="audit", site_codes="BDX")
            db.session.add(queued)
            db.session.commit()
            assert services.run_job(queued.id) is JobState.FAILED
            assert db.session.get(Job, queued.id).error == services.RIGHTS_CHANGED
    finally:
        with trial.app.app_context():
            assignment = auth_services.get_user(BDX_MANAGER).roles[0]
            assignment.site_id = db.session.scalar(
                sa.text("SELECT id FROM site WHERE code = 'BDX'")
            )
            db.session.commit()
