"""`ecrf demo` seeds in the background while it serves: the pages show how far it got, a
restart resumes it, and the data are those `ecrf demo --no-serve` seeds in the command."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from redis import Redis

from ecrf import create_app
from ecrf.audit.models import AuditEvent
from ecrf.auth.roles import Role
from ecrf.db import utcnow
from ecrf.demo import _signers, queue_seeding, seed_demo, unfinished_seeding
from ecrf.demo_seeding import SeedingPlan, hand_over, progress_marker, seed_all, take_passwords
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.jobs import backends
from ecrf.jobs import services as jobs
from ecrf.jobs.backends import give_way, shutdown_threads, submit
from ecrf.jobs.kinds import DEMO_KIND
from ecrf.jobs.models import Job, JobState
from ecrf.locks.models import DataLock
from ecrf.queries.models import Query
from ecrf.records.loader import current_study
from ecrf.records.models import Subject
from ecrf.review.models import ReviewMark
from ecrf.sdv.models import SourceVerification
from ecrf.signatures.models import Signature
from tests.cli.test_demo import printed_accounts
from tests.cli.test_demo_subjects import dispose, export

COUNT, SEED = 4, 3
#: Patients, then queries, verification, review, locks and signatures.
STEPS = COUNT + 5


def demo_app(databases, tmp_path) -> Flask:
    url = databases.new_database()
    return create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "test secret key",
            "AUDIT_KEY": "test audit key",
            "AUDIT_CHECKPOINT_FILE": str(tmp_path / f"checkpoints_{url.rsplit('/', 1)[-1]}"),
            "EXPORT_DIR": str(tmp_path / "exports"),
            "SQLALCHEMY_DATABASE_URI": url,
            "PASSWORD_HASH_PROFILE": "cheapest",
            "STUDY_DEFINITION": "forms.iahprrt:STUDY",
            "STRICT_RULES": True,
        }
    )


def summary() -> dict:
    """The seeded data by what they mean (never ids or times): values per form and a hash
    of every value, visit, status and finding; the monitoring's records; the clinical
    audit events by who, what and where."""
    values, visits, subjects, findings = export()
    clinical = db.session.execute(
        sa.select(AuditEvent.actor, AuditEvent.action, AuditEvent.entity, AuditEvent.field).where(
            AuditEvent.entity != "user"
        )
    ).all()
    return {
        "values per form": Counter(row[3] for row in values),
        "hash": hashlib.sha256(repr((values, visits, subjects, findings)).encode()).hexdigest(),
        "queries": Counter(q.state for q in db.session.scalars(sa.select(Query))),
        "verified": db.session.scalar(sa.select(sa.func.count()).select_from(SourceVerification)),
        "reviewed": db.session.scalar(sa.select(sa.func.count()).select_from(ReviewMark)),
        "signatures": Counter(s.state for s in db.session.scalars(sa.select(Signature))),
        "locks": db.session.scalar(sa.select(sa.func.count()).select_from(DataLock)),
        "audit": Counter(map(tuple, clinical)),
    }


@pytest.fixture(scope="module")
def synchronous(databases, tmp_path_factory):
    """What `ecrf demo --no-serve` seeds in the command (no job)."""
    app = demo_app(databases, tmp_path_factory.mktemp("sync"))
    result = app.test_cli_runner().invoke(
        args=["demo", "--no-serve", "--subjects", str(COUNT), "--seed", str(SEED)]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
        seeded = summary()
    dispose(app)
    assert seeded["values per form"] and seeded["signatures"] and seeded["locks"]
    return seeded


def start(app: Flask) -> tuple[int, dict[str, str]]:
    """As `ecrf demo` does before it serves: the accounts, then the queued seeding."""
    with app.app_context():
        accounts = seed_demo()
        db.session.commit()
        job_id, line = queue_seeding(COUNT, SEED, _signers(accounts))
        db.session.commit()
    assert f"Seeding {COUNT} demo patients in the background" in line
    return job_id, {a.username: a.password for a in accounts}


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def notice(html: str) -> str:
    found = re.search(r'<div class="gate-notice[^"]*seeding-notice".*?</div>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split()) if found else ""


REFRESH = '<meta http-equiv="refresh"'


def test_the_pages_follow_a_seeding_step_by_step_and_a_restart_resumes_it_to_the_same_data(
    databases, tmp_path, synchronous
):
    app = demo_app(databases, tmp_path)
    job_id, passwords = start(app)
    client = app.test_client()
    signed_in = client.post(
        "/login", data={"username": "monitor", "password": passwords["monitor"]}
    )
    assert signed_in.status_code == 302

    home = page(client, "/")
    assert f"Demo data: 0 of {COUNT} patients entered…" in notice(home)
    assert REFRESH in home

    # The job's first two patients, as the running job commits them; then its process stops.
    with app.app_context():
        job = db.session.get(Job, job_id)
        job.state = JobState.RUNNING
        db.session.commit()
        plan = SeedingPlan.from_params(job.params)
        seed_all(current_study(), plan, [], mark=progress_marker(job_id, STEPS), until=2)

    home = page(client, "/")
    assert f"Demo data: 2 of {COUNT} patients entered…" in notice(home)
    assert f'<progress max="{STEPS}" value="2"' in home
    assert REFRESH in home
    matrix = page(client, "/subjects")
    assert f"Demo data: 2 of {COUNT} patients entered…" in notice(matrix)
    assert "2 subjects" in matrix  # what is committed shows at once
    assert REFRESH in matrix
    sign_in_page = page(app.test_client(), "/login")
    assert f"2 of {COUNT} patients" in notice(sign_in_page)
    assert REFRESH not in sign_in_page  # it would wipe what is being typed

    # The patients done, then the first two monitoring phases (queries, verification).
    with app.app_context():
        seed_all(
            current_study(), plan, [], start=2, mark=progress_marker(job_id, STEPS), until=COUNT + 2
        )
    home = page(client, "/")
    assert f"Demo data: {COUNT} patients entered; monitoring them…" in notice(home)
    assert "step 3 of 5" in notice(home)

    # `ecrf demo` started again (here --no-serve, which finishes the seeding in the command).
    with app.app_context():
        assert unfinished_seeding().id == job_id
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", "--subjects", "7"])
    assert result.exit_code == 0, result.output
    assert f"Resuming the unfinished demo seeding ({COUNT} patients) after step {COUNT + 2}" in (
        result.output
    )
    assert "Demo signatures:" in result.output
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.state, job.progress_done, job.progress_total) == (JobState.DONE, STEPS, STEPS)
        assert summary() == synchronous

    # The restart set new passwords (and ended the sessions): sign in again.
    password = printed_accounts(result.output)["monitor"]
    client.post("/login", data={"username": "monitor", "password": password})
    home = page(client, "/")
    assert "Welcome" in home and notice(home) == "" and REFRESH not in home
    dispose(app)


def test_the_embedded_thread_pool_seeds_the_same_data_as_the_command(
    databases, tmp_path, synchronous
):
    app = demo_app(databases, tmp_path)
    job_id, _ = start(app)
    with app.app_context():
        submit(job_id)  # no Redis: a thread of this process, as `ecrf demo` serves
    shutdown_threads(app)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.state is JobState.DONE, job.error
        assert (job.progress_done, job.progress_total) == (STEPS, STEPS)
        lines = (jobs.export_dir() / job.result_path).read_text().splitlines()
        assert lines[0].startswith(f"Seeded {COUNT} demo subjects")
        assert lines[-1].startswith("Audit checkpoint: event #")
        assert summary() == synchronous
    dispose(app)


def test_a_seeding_refused_by_the_rules_is_not_resumed_but_one_given_up_as_lost_is(app):
    with app.app_context():
        plan = SeedingPlan(COUNT, SEED, utcnow().date())
        refused = Job(kind=DEMO_KIND, params=plan.params(), state=JobState.FAILED, error="No.")
        db.session.add(refused)
        db.session.commit()
        assert unfinished_seeding() is None
        lost = Job(kind=DEMO_KIND, params=plan.params(), state=JobState.FAILED, error=jobs.STALE)
        db.session.add(lost)
        db.session.commit()
        assert unfinished_seeding() == lost
        job_id, line = queue_seeding(99, 1, [])
        assert job_id == lost.id and lost.state is JobState.QUEUED and lost.error is None
        assert f"Resuming the unfinished demo seeding ({COUNT} patients)" in line


def test_nobody_starts_the_demo_seeding_from_the_jobs_pages(app, create_user):
    with app.app_context():
        manager = create_user("manager", role=Role.DATA_MANAGER)
        assert DEMO_KIND not in [kind.name for kind in jobs.kinds_for(manager)]
        with pytest.raises(RuleViolation):
            jobs.start_job(DEMO_KIND, None, actor=manager)


def test_no_seeding_job_when_the_database_has_subjects_already(app, create_site, create_subject):
    create_site("BDX")
    create_subject()
    with app.app_context():
        job_id, line = queue_seeding(COUNT, SEED, [])
        assert job_id is None and "already has 1; none added" in line
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Subject)) == 1


def test_the_investigators_passwords_wait_in_this_process_and_are_taken_once(app):
    with app.app_context():
        key = hand_over([("investigator.bdx", "secret")])
        assert take_passwords(key) == [("investigator.bdx", "secret")]
        assert take_passwords(key) == []


def test_for_a_worker_they_wait_in_redis_and_are_taken_once(make_app):
    url = os.environ.get("ECRF_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    app = make_app(REDIS_URL=url)
    with app.app_context():
        key = hand_over([("investigator.bdx", "secret")])
        connection = Redis.from_url(url)
        assert 0 < connection.ttl(key) <= 240 * 60  # gone at the latest with the job's timeout
        assert take_passwords(key) == [("investigator.bdx", "secret")]
        assert take_passwords(key) == [] and not connection.exists(key)


def test_a_seeding_alive_on_a_worker_is_left_to_it_and_a_silent_one_resumed(make_app):
    app = make_app(REDIS_URL=os.environ.get("ECRF_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    with app.app_context():
        plan = SeedingPlan(COUNT, SEED, utcnow().date())
        job = Job(
            kind=DEMO_KIND, params=plan.params(), state=JobState.RUNNING, heartbeat_at=utcnow()
        )
        db.session.add(job)
        db.session.commit()
        job_id, line = queue_seeding(COUNT, SEED, [])
        assert job_id is None and f"job #{job.id}) is still running on a worker" in line
        assert job.state is JobState.RUNNING
        job.heartbeat_at = utcnow() - timedelta(minutes=31)  # past ECRF_JOB_STALE_MINUTES
        db.session.commit()
        job_id, line = queue_seeding(COUNT, SEED, [])
        assert job_id == job.id and job.state is JobState.QUEUED
        assert take_passwords(job.params["passwords_key"]) == []


def test_the_seeding_gives_way_to_the_requests_its_process_serves(app, monkeypatch):
    """On SQLite a request's write waits for the seeding's transaction: between two steps
    the seeding waits while the process serves requests (a sign-in waited for one patient
    after another), and no longer than GIVE_WAY_SECONDS."""
    entered, release = threading.Event(), threading.Event()

    def held() -> str:
        entered.set()
        release.wait(30)
        return "done"

    def elapsed(action) -> float:
        started = time.monotonic()
        action()
        return time.monotonic() - started

    app.add_url_rule("/held", "held", held)
    with app.app_context():
        assert elapsed(give_way) < 0.5  # nothing served: no wait

        served = []
        request = threading.Thread(target=lambda: served.append(app.test_client().get("/held")))
        request.start()
        assert entered.wait(30)
        with app.test_request_context():
            in_request = elapsed(give_way)  # a step run by a request: it would wait for itself
        threading.Timer(0.3, release.set).start()
        waited = elapsed(give_way)
        request.join(30)
        assert served and served[0].status_code == 200
        assert waited >= 0.25  # until the request ended
        assert in_request < 0.5  # not the second it would wait

        entered.clear()
        release.clear()
        monkeypatch.setattr(backends, "GIVE_WAY_SECONDS", 0.2)
        request = threading.Thread(target=lambda: app.test_client().get("/held"))
        request.start()
        assert entered.wait(30)
        waited = elapsed(give_way)  # a request served longer than that: the seeding goes on
        release.set()
        request.join(30)
        assert 0.2 <= waited < 5
