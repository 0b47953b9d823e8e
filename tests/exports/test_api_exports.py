"""The API's extracts, as scripts use them: start one, poll its job, download its file;
within the token's sites, owner only, refusals named, never a 500. Jobs run on the
in-process backend here (no Redis URL)."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from lxml import etree

from ecrf.audit.models import AuditEvent
from ecrf.audit.services import record_event
from ecrf.auth import services as auth_services
from ecrf.auth.roles import Perm
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.jobs import services
from ecrf.jobs.backends import shutdown_threads
from ecrf.jobs.kinds import JobKind, register, unregister
from ecrf.jobs.models import Job, JobState
from ecrf.records.models import Site
from tests.exports.api_helpers import bearer, issue_token
from tests.exports.jobs_support import BDX_MANAGER, dispose, jobs_trial
from tests.exports.odm_checks import NS, check_odm


@pytest.fixture(scope="module")
def trial(databases, tmp_path_factory):
    trial = jobs_trial(databases, tmp_path_factory.mktemp("api-exports"))
    yield trial
    shutdown_threads(trial.app)
    dispose(trial.app)


@pytest.fixture(scope="module")
def tokens(trial) -> dict[str, str]:
    names = ("sponsor", "datamanager", BDX_MANAGER, "admin", "staff.bdx")
    return {name: issue_token(trial.app, name) for name in names}


class Script:
    """The few lines of `requests` a sponsor's script uses, over the Flask test client."""

    def __init__(self, app, token: str) -> None:
        self.client, self.headers = app.test_client(), bearer(token)

    def get(self, url: str, **params):
        parts = urlsplit(url)
        return self.client.get(parts.path, query_string=params or parts.query, headers=self.headers)

    def post(self, url: str, **kwargs):
        return self.client.post(urlsplit(url).path, headers=self.headers, **kwargs)

    def wait(self, url: str, seconds: float = 240) -> dict:
        """Poll the job at ``url`` until it has finished, as a script would."""
        deadline = time.monotonic() + seconds
        while True:
            response = self.get(url)
            assert response.status_code == 200, response.json
            job = response.json
            if job["state"] not in ("queued", "running"):
                return job
            assert int(response.headers["Retry-After"]) > 0
            assert time.monotonic() < deadline, job
            time.sleep(0.05)


def _script(trial, tokens, username: str) -> Script:
    return Script(trial.app, tokens[username])


def _job_count(trial) -> int:
    with trial.app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Job))


def _last_seq(trial) -> int:
    with trial.app.app_context():
        return db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) or 0


def _events_after(trial, seq: int) -> list[tuple[str, str, str, str]]:
    with trial.app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)
        )
        return [(e.action, e.entity, e.entity_id, e.actor) for e in events]


def test_a_sponsor_script_starts_polls_downloads_and_validates_an_odm(trial, tokens, tmp_path):
    api = _script(trial, tokens, "sponsor")
    offered = {item["kind"]: item for item in api.get("/api/v1/exports").json["items"]}
    assert set(offered) >= {"odm", "sdtm"} and "audit" not in offered  # no free text
    with trial.app.app_context():
        every_site = list(db.session.scalars(sa.select(Site.code).order_by(Site.code)))
    assert offered["odm"]["sites"] == every_site and len(every_site) > 1
    before = _last_seq(trial)

    started = api.post("/api/v1/exports", json={"kind": "odm"})
    assert started.status_code == 202, started.json
    job = started.json
    assert started.headers["Location"] == job["links"]["self"]
    assert job["kind"] == "odm" and job["sites"] is None  # the sponsor holds every site
    assert job["state"] in ("queued", "running") and job["links"]["download"] is None

    job = api.wait(started.headers["Location"])
    assert job["state"] == "done", job["error"]
    assert job["progress"]["done"] == job["progress"]["total"] > 0
    assert job["progress"]["percent"] == 100 and job["error"] is None
    assert job["expires_at"] > job["finished_at"]
    download = api.get(job["links"]["download"])
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    body = download.get_data()
    assert len(body) == job["result"]["size"]
    assert hashlib.sha256(body).hexdigest() == job["result"]["sha256"]
    path = tmp_path / job["result"]["name"]
    path.write_bytes(body)
    check_odm(path)
    sites = {e.get("LocationOID") for e in etree.parse(str(path)).iterfind(".//odm:SiteRef", NS)}
    assert len(sites) > 1

    # The job changed no clinical data: the trail holds its extract and the download only.
    assert _events_after(trial, before) == [
        ("export", "extract", "odm", "sponsor"),
        ("download", "job", str(job["id"]), "sponsor"),
    ]
    with trial.app.app_context():
        result = verify_trail()
        assert result.intact, [str(p) for p in result.problems.shown]


def test_a_site_data_manager_is_refused_another_site(trial, tokens, tmp_path):
    api = _script(trial, tokens, BDX_MANAGER)
    offered = {item["kind"]: item["sites"] for item in api.get("/api/v1/exports").json["items"]}
    assert offered["odm"] == offered["audit"] == ["BDX"]
    count = _job_count(trial)

    refused = api.post("/api/v1/exports", json={"kind": "odm", "site": "TLS"})
    assert refused.status_code == 403
    assert refused.json["error"]["field"] == "site"
    assert refused.json["error"]["message"] == services.NOT_AT_SITE.format(code="TLS")
    assert _job_count(trial) == count

    started = api.post("/api/v1/exports", json={"kind": "odm", "site": None})
    assert started.status_code == 202 and started.json["sites"] == ["BDX"]
    job = api.wait(started.json["links"]["self"])
    assert job["state"] == "done", job["error"]
    path = tmp_path / "bdx.xml"
    path.write_bytes(api.get(job["links"]["download"]).get_data())
    check_odm(path)
    keys = [e.get("SubjectKey") for e in etree.parse(str(path)).iterfind(".//odm:SubjectData", NS)]
    assert keys and all(key.startswith("BDX-") for key in keys)

    # Their own site, in any case, is theirs.
    started = api.post("/api/v1/exports", json={"kind": "audit", "site": "bdx"})
    assert started.status_code == 202 and started.json["sites"] == ["BDX"]
    assert api.wait(started.json["links"]["self"])["state"] == "done"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "kind", "kind is required"),
        ({"kind": ""}, "kind", "kind is required"),
        ({"kind": "nonsense"}, "kind", "kind must be one of: audit, "),
        ({"kind": 7}, "kind", "kind must be one of"),
        ({"kind": ["odm"]}, "kind", "kind must be one of"),
        ({"kind": "odm", "site": 5}, "site", "site must be a site code"),
        ({"kind": "odm", "site": "../../etc"}, "site", "site must be a site code"),
        ({"kind": "odm", "site": "BDX\u0000"}, "site", "site must be a site code"),
        ({"kind": "odm", "site": "ZZZ"}, "site", "site: there is no site ZZZ."),
        ({"kind": "odm", "sites": ["BDX"]}, "sites", "Unknown field(s) sites"),
        (["odm"], "body", "The body must be a JSON object"),
        ("odm", "body", "The body must be a JSON object"),
        (None, "body", "The body must be a JSON object"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field_and_create_nothing(
    trial, tokens, body, field, message
):
    count = _job_count(trial)
    response = _script(trial, tokens, "datamanager").post("/api/v1/exports", json=body)
    assert response.status_code == 400 and response.is_json
    assert response.json["error"]["field"] == field
    assert response.json["error"]["message"].startswith(message)
    assert _job_count(trial) == count


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b"kind=odm", b'{"kind": "odm"', b"\xff\xfe", b'{"kind": "' + b"x" * 20000 + b'"}'],
)
def test_junk_bodies_get_a_json_400_never_a_500(trial, tokens, data):
    count = _job_count(trial)
    api = _script(trial, tokens, "datamanager")
    for content_type in ("application/json", "text/plain"):
        response = api.post("/api/v1/exports", data=data, content_type=content_type)
        assert response.status_code == 400 and response.is_json, response.get_data()[:200]
    assert _job_count(trial) == count


def test_refused_extracts_and_accounts_without_the_export_right(trial, tokens):
    count = _job_count(trial)
    refused = _script(trial, tokens, "sponsor").post("/api/v1/exports", json={"kind": "audit"})
    assert refused.status_code == 403 and refused.json["error"]["field"] == "kind"
    assert refused.json["error"]["message"] == services.NOT_ANYWHERE
    for username in ("admin", "staff.bdx"):
        api = _script(trial, tokens, username)
        assert api.get("/api/v1/exports").status_code == 403
        assert api.get("/api/v1/jobs").status_code == 403
        assert api.post("/api/v1/exports", json={"kind": "odm"}).status_code == 403
    assert _job_count(trial) == count
    anonymous = trial.app.test_client()
    assert anonymous.post("/api/v1/exports", json={"kind": "odm"}).status_code == 401
    assert anonymous.get("/api/v1/jobs/1/download").status_code == 401


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


def test_a_running_job_shows_its_progress_and_is_not_downloadable_yet(trial, tokens):
    gate = threading.Event()
    register(JobKind("slow", "Slow test extract", (Perm.EXPORT_DATA,), _write_after(gate), "x.txt"))
    try:
        api = _script(trial, tokens, "datamanager")
        started = api.post("/api/v1/exports", json={"kind": "slow"})
        assert started.status_code == 202
        url = started.json["links"]["self"]
        job = trial.wait_for(started.json["id"], lambda j: j.progress_done == 3)
        assert job.state is JobState.RUNNING, job.error
        running = api.get(url)
        assert running.json["state"] == "running" and "Retry-After" in running.headers
        assert running.json["progress"] == {"done": 3, "total": 8, "percent": 37}
        assert running.json["links"]["download"] is None and running.json["result"] is None
        early = api.get(url + "/download")
        assert early.status_code == 409
        assert early.json["error"]["message"] == services.NOT_READY
        gate.set()
        job = api.wait(url)
        assert job["state"] == "done" and job["progress"]["percent"] == 100
        assert api.get(job["links"]["download"]).get_data() == b"done\n"
    finally:
        gate.set()
        unregister("slow")


def _raising(out: Path, *, site_ids, actor, progress=None) -> Path:
    raise RuntimeError("disk on fire")


def test_a_failed_job_says_why_and_has_nothing_to_download(trial, tokens):
    register(JobKind("broken", "Broken test extract", (Perm.EXPORT_DATA,), _raising, "b"))
    try:
        api = _script(trial, tokens, "datamanager")
        started = api.post("/api/v1/exports", json={"kind": "broken"})
        job = api.wait(started.json["links"]["self"])
        assert job["state"] == "failed" and job["error"] == services.UNEXPECTED
        assert job["links"]["download"] is None and job["result"] is None
        assert "disk on fire" not in str(job)
        assert api.get(started.json["links"]["self"] + "/download").status_code == 409
    finally:
        unregister("broken")


def test_an_expired_result_is_gone(trial, tokens):
    api = _script(trial, tokens, "datamanager")
    started = api.post("/api/v1/exports", json={"kind": "audit", "site": "BDX"})
    job = api.wait(started.json["links"]["self"])
    assert job["state"] == "done"
    with trial.app.app_context():
        db.session.get(Job, job["id"]).expires_at = db.session.get(Job, job["id"]).finished_at
        db.session.commit()
    gone = api.get(job["links"]["download"])
    assert gone.status_code == 410 and gone.json["error"]["message"] == services.EXPIRED
    expired = api.get(job["links"]["self"]).json
    assert expired["state"] == "expired" and expired["links"]["download"] is None
    assert expired["result"]["sha256"] == job["result"]["sha256"]  # kept as a record
    assert not (trial.export_dir / f"job-{job['id']}").exists()


def test_jobs_are_the_owners_newest_first_and_paginated(trial, tokens):
    manager = _script(trial, tokens, "datamanager")
    ids = []
    for _ in range(3):
        started = manager.post("/api/v1/exports", json={"kind": "audit", "site": "TLS"})
        ids.append(started.json["id"])
        manager.wait(started.json["links"]["self"])
    with trial.app.app_context():
        user = auth_services.get_user("datamanager")
        mine = [job.id for job in services.jobs_of(user)]
    assert mine[:3] == ids[::-1]

    first = manager.get("/api/v1/jobs", per_page=2).json
    assert [job["id"] for job in first["items"]] == mine[:2]
    assert first["total"] == len(mine) and first["pages"] == -(-len(mine) // 2)
    assert first["links"]["prev"] is None
    second = manager.get(first["links"]["next"]).json
    assert [job["id"] for job in second["items"]] == mine[2:4]
    assert manager.get("/api/v1/jobs", per_page=101).status_code == 400

    # Another user's job is answered exactly like a missing one, and never listed.
    other = _script(trial, tokens, BDX_MANAGER)
    theirs = other.get(f"/api/v1/jobs/{ids[0]}")
    missing = other.get("/api/v1/jobs/999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json == missing.json
    assert other.get(f"/api/v1/jobs/{ids[0]}/download").json == missing.json
    listed = other.get("/api/v1/jobs", per_page=100).json["items"]
    assert ids[0] not in {job["id"] for job in listed}
    assert other.get("/api/v1/jobs/99999999999999999999").status_code == 404


def test_a_queue_that_cannot_be_reached_answers_503_and_marks_the_job(trial, tokens):
    api = _script(trial, tokens, "datamanager")
    trial.app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        refused = api.post("/api/v1/exports", json={"kind": "audit"})
    finally:
        trial.app.config["REDIS_URL"] = None
    assert refused.status_code == 503 and refused.is_json
    assert refused.json["error"]["message"] == services.QUEUE_DOWN
    job = api.get("/api/v1/jobs", per_page=1).json["items"][0]
    assert job["state"] == "failed" and job["error"] == services.QUEUE_DOWN


def test_other_methods_get_json_errors(trial, tokens):
    api = _script(trial, tokens, "datamanager")
    for method, path in (
        ("PUT", "/api/v1/exports"),
        ("DELETE", "/api/v1/jobs/1"),
        ("POST", "/api/v1/jobs"),
    ):
        response = api.client.open(path, method=method, headers=api.headers)
        assert response.status_code == 405 and response.is_json
