"""Results expire and are deleted; jobs that lost their worker are given up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecrf.auth.roles import Role
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.jobs import services
from ecrf.jobs.models import Job, JobState
from tests.conftest import PASSWORD


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(EXPORT_DIR=str(tmp_path / "exports"), EXPORT_RETENTION_HOURS=2)


@pytest.fixture
def manager(app, create_site, create_user):
    create_site("BDX")
    return create_user("dm.all", Role.DATA_MANAGER)


def _job(app, user_id, state, **values) -> int:
    with app.app_context():
        job = Job(user_id=user_id, kind="audit", state=state, **values)
        db.session.add(job)
        db.session.commit()
        if state is JobState.DONE:
            folder = services.job_folder(job.id)
            folder.mkdir(parents=True)
            (folder / "audit-trail.csv").write_text("seq\n")
            job.result_path = f"job-{job.id}/audit-trail.csv"
            job.result_size, job.result_sha256 = 4, "0" * 64
            db.session.commit()
        return job.id


def _state(app, job_id) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def test_the_purge_command_expires_results_and_gives_up_lost_jobs(app, manager):
    now = utcnow()
    old = _job(
        app,
        manager,
        JobState.DONE,
        finished_at=now - timedelta(hours=3),
        expires_at=now - timedelta(hours=1),
    )
    fresh = _job(app, manager, JobState.DONE, finished_at=now, expires_at=now + timedelta(hours=2))
    stale = _job(
        app,
        manager,
        JobState.RUNNING,
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(minutes=31),
    )
    alive = _job(
        app,
        manager,
        JobState.RUNNING,
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(minutes=1),
    )
    lost = _job(app, manager, JobState.QUEUED, created_at=now - timedelta(hours=3))
    waiting = _job(app, manager, JobState.QUEUED, created_at=now - timedelta(minutes=5))

    result = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 expired result(s) deleted, 1 job(s) that lost their worker and 1 never" in (
        result.output
    )
    with app.app_context():
        export_dir = services.export_dir()
    assert _state(app, old).state is JobState.EXPIRED
    assert not (export_dir / f"job-{old}").exists()
    assert _state(app, fresh).state is JobState.DONE
    assert (export_dir / f"job-{fresh}" / "audit-trail.csv").exists()
    assert (_state(app, stale).state, _state(app, stale).error) == (JobState.FAILED, services.STALE)
    assert _state(app, alive).state is JobState.RUNNING
    assert _state(app, lost).error == services.NEVER_STARTED
    assert _state(app, waiting).state is JobState.QUEUED

    again = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert "0 expired result(s) deleted, 0 job(s)" in again.output


def test_the_jobs_page_purges_and_shows_expired(app, manager, client):
    now = utcnow()
    job_id = _job(
        app,
        manager,
        JobState.DONE,
        finished_at=now - timedelta(hours=3),
        expires_at=now - timedelta(minutes=1),
    )
    client.post("/login", data={"username": "dm.all", "password": PASSWORD})
    page = client.get("/jobs").get_data(as_text=True)
    assert "Expired" in page and f"/jobs/{job_id}/download" not in page
    refused = client.get(f"/jobs/{job_id}/download")
    assert refused.status_code == 422
    assert services.EXPIRED in refused.get_data(as_text=True)


def test_a_job_given_up_as_stale_keeps_its_state_when_its_run_ends(app, manager):
    """A slow worker that comes back after the purge gave up on it changes nothing."""
    with app.app_context():
        job = Job(user_id=manager, kind="audit", state=JobState.QUEUED)
        db.session.add(job)
        db.session.commit()
        job_id = job.id

        def give_up_meanwhile(out, *, site_ids, actor, progress=None):
            services._finish_failed(job_id, services.STALE)
            out.write_text("late\n")
            return out

        from ecrf.auth.roles import Perm
        from ecrf.jobs.kinds import JobKind, register, unregister

        register(JobKind("late", "Late", (Perm.EXPORT_DATA,), give_up_meanwhile, "late.csv"))
        try:
            job.kind = "late"
            db.session.commit()
            assert services.run_job(job_id) is JobState.FAILED
        finally:
            unregister("late")
        assert db.session.get(Job, job_id).error == services.STALE
        assert not services.job_folder(job_id).exists()
