"""The RQ backend with the real Redis (database 15, emptied before and after) and real
worker processes running jobs against a database both processes open."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis

from ecrf.audit.models import AuditEvent
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.jobs import services
from ecrf.jobs.backends import QUEUE_NAME, rq_queue
from ecrf.jobs.models import Job, JobState
from tests.exports.jobs_support import BDX_MANAGER, dispose, jobs_trial
from tests.seeded_trial import process_env, trial_app

#: Never a database another user of this Redis keeps data in; emptied with FLUSHDB only.
REDIS_URL = os.environ.get("ECRF_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def redis_db():
    connection = Redis.from_url(REDIS_URL)
    connection.ping()  # unreachable Redis: the tests fail here, they are never skipped
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture(scope="module")
def trial(databases, tmp_path_factory, redis_db):
    trial = jobs_trial(databases, tmp_path_factory.mktemp("rq"), REDIS_URL=REDIS_URL)
    yield trial
    dispose(trial.app)


def stop(worker: subprocess.Popen) -> None:
    """Stop a worker: SIGTERM (RQ's warm shutdown), then SIGKILL if a loaded machine keeps
    it past a minute (what is tested happened before; only the clean-up is left)."""
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=60)


def _worker_env(trial, tmp_path: Path) -> dict[str, str]:
    """The web app's settings, as a worker on another host would be given them."""
    return process_env(
        trial.app,
        trial.url,
        tmp_path / "worker-instance",
        ECRF_EXPORT_DIR=trial.app.config["EXPORT_DIR"],
        ECRF_REDIS_URL=REDIS_URL,
    )


def _run(command: list[str], trial, tmp_path: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command,
        env=_worker_env(trial, tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _latest_job_id(trial) -> int:
    with trial.app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Job.id)))


def test_a_job_waits_in_redis_until_a_real_worker_runs_it(trial, redis_db, tmp_path):
    client = trial.client("datamanager")
    assert client.post("/jobs/new", data={"kind": "audit", "site": ""}).status_code == 302
    job_id = _latest_job_id(trial)
    queue = rq_queue(REDIS_URL)
    assert queue.count == 1
    assert queue.jobs[0].args == (job_id,)  # only the id travels
    time.sleep(0.5)
    assert trial.job(job_id).state is JobState.QUEUED  # nothing runs it in the web process
    assert "Waiting for a worker" in client.get("/jobs").get_data(as_text=True)

    _run([str(BIN / "ecrf"), "worker", "--burst"], trial, tmp_path)

    assert queue.count == 0
    job = trial.job(job_id)
    assert job.state is JobState.DONE, job.error
    assert job.progress_done == job.progress_total > 0
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert len(rows) == job.progress_total
    with trial.app.app_context():
        exported = db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "export")
            .order_by(AuditEvent.seq.desc())
        )
        assert exported.actor == "datamanager" and exported.entity_id == "audit"
        result = verify_trail()
        assert result.intact, [str(p) for p in result.problems.shown]


def test_plain_rq_worker_runs_jobs_too_building_the_app_itself(trial, tmp_path):
    client = trial.client(BDX_MANAGER)
    client.post("/jobs/new", data={"kind": "audit", "site": "BDX"})
    job_id = _latest_job_id(trial)
    _run([str(BIN / "rq"), "worker", "--burst", "--url", REDIS_URL, QUEUE_NAME], trial, tmp_path)
    job = trial.job(job_id)
    assert job.state is JobState.DONE, job.error
    assert job.scope == ["BDX"]
    rows = list(csv.DictReader((trial.export_dir / job.result_path).open(encoding="utf-8")))
    assert {row["site"] for row in rows} == {"BDX"}


def test_a_job_refused_in_the_worker_is_marked_failed(trial, tmp_path):
    """Rights are checked again when the worker takes the job: the sponsor never may."""
    with trial.app.app_context():
        from ecrf.auth.services import get_user
        from ecrf.jobs.backends import submit

        job = Job(user_id=get_user("sponsor").id, kind="audit", state=JobState.QUEUED)
        db.session.add(job)
        db.session.commit()
        submit(job.id)
        job_id = job.id
    _run([str(BIN / "ecrf"), "worker", "--burst"], trial, tmp_path)
    job = trial.job(job_id)
    assert (job.state, job.error) == (JobState.FAILED, services.RIGHTS_CHANGED)


def test_an_unreachable_redis_fails_the_job_with_a_message(trial, databases):
    app = trial_app(
        databases,
        url=trial.url,
        EXPORT_DIR=str(trial.export_dir),
        REDIS_URL="redis://127.0.0.1:1/15",
    )
    try:
        client = app.test_client()
        client.post(
            "/login",
            data={"username": "datamanager", "password": trial.passwords["datamanager"]},
        )
        response = client.post("/jobs/new", data={"kind": "audit", "site": ""})
        assert response.status_code == 302
        page = client.get("/jobs").get_data(as_text=True)
        assert services.QUEUE_DOWN in page
        job = trial.job(_latest_job_id(trial))
        assert (job.state, job.error) == (JobState.FAILED, services.QUEUE_DOWN)
    finally:
        dispose(app)


def test_the_worker_command_needs_a_redis_url(trial, tmp_path):
    env = _worker_env(trial, tmp_path)
    del env["ECRF_REDIS_URL"]
    result = subprocess.run(
        [str(BIN / "ecrf"), "worker", "--burst"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Set ECRF_REDIS_URL" in result.stderr


def test_a_work_horse_killed_mid_job_leaves_the_job_failed_not_running(trial, tmp_path):
    """The job's process dies (as if out of memory): the worker records the failure."""
    from rq import Worker
    from rq.command import send_kill_horse_command
    from rq.job import Job as RqJob
    from rq.job import JobStatus as RqJobStatus

    client = trial.client("datamanager")
    client.post("/jobs/new", data={"kind": "audit", "site": ""})
    job_id = _latest_job_id(trial)
    redis = Redis.from_url(REDIS_URL)
    with trial.app.app_context():
        # Hold the job's row (PostgreSQL) or the database's write lock (SQLite): the job
        # blocks at its first write, so it is surely mid-way when its process is killed.
        blocker = db.engine.connect()
        blocker.execute(sa.update(Job).where(Job.id == job_id).values(progress_total=0))
    worker = subprocess.Popen(
        [str(BIN / "ecrf"), "worker"],
        env=_worker_env(trial, tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        busy = []
        while not busy and time.monotonic() < deadline:
            busy = [w for w in Worker.all(connection=redis) if w.get_current_job_id()]
            time.sleep(0.1)
        assert busy, "the worker never took the job"
        time.sleep(0.5)  # into the job's first write
        send_kill_horse_command(redis, busy[0].name)
        # RQ marks its job failed once the horse is dead, before the worker records the
        # failure in the job's row (which waits for the blocker).
        queued = RqJob.fetch(f"ecrf-job-{job_id}", connection=redis)
        deadline = time.monotonic() + 60
        while queued.get_status() != RqJobStatus.FAILED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queued.get_status() == RqJobStatus.FAILED, "the work horse was not killed"
        blocker.rollback()
        blocker.close()
        job = trial.wait_for(job_id, lambda j: not j.state.active, seconds=60)
        assert (job.state, job.error) == (JobState.FAILED, services.STALE)
        assert "failed" in client.get("/jobs").get_data(as_text=True).lower()
    finally:
        if not blocker.closed:
            blocker.rollback()
            blocker.close()
        stop(worker)
        redis.close()
