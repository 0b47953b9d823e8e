"""The OpenAPI document is valid, and every endpoint's real answers match it; a script reads
the whole API with a token the way a sponsor's script would."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate
from werkzeug.test import EnvironBuilder

from ecrf.auth import services as auth_services
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.jobs.backends import shutdown_threads
from ecrf.jobs.models import Job, JobState
from tests.exports.api_helpers import bearer, issue_token
from tests.exports.jobs_support import BDX_MANAGER, dispose, jobs_trial


@pytest.fixture(scope="module")
def seeded(databases, tmp_path_factory):
    """The seeded trial with its own export folder (extracts run in-process here)."""
    trial = jobs_trial(databases, tmp_path_factory.mktemp("api-openapi"))
    yield trial
    shutdown_threads(trial.app)
    dispose(trial.app)


@pytest.fixture(scope="module")
def document(seeded) -> dict:
    response = seeded.app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.json


def test_the_served_document_is_a_valid_openapi_3_1_document(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


class Checked:
    """Sends requests through the test client and checks each answer against the document."""

    def __init__(self, app, document: dict, token: str) -> None:
        self.client = app.test_client()
        self.routes = app.url_map.bind("localhost")
        self.openapi = OpenAPI.from_dict(document)
        self.headers = bearer(token)
        self.operations: set[tuple[str, str, int]] = set()

    def get(self, url: str, *, headers: dict | None = None):
        return self.send("GET", url, headers=headers)

    def post(self, url: str, body=None, *, headers: dict | None = None):
        return self.send("POST", url, headers=headers, json=body)

    def send(self, method: str, url: str, *, headers: dict | None = None, **kwargs):
        parts = urlsplit(url)
        arguments = {
            "path": parts.path,
            "method": method,
            "query_string": parts.query,
            "headers": self.headers if headers is None else headers,
            **kwargs,
        }
        response = self.client.open(**arguments)
        # The app read the sent request's body: validate against a copy of the request.
        request = EnvironBuilder(**arguments).get_request()
        result = self.openapi.unmarshal_response(
            WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response)
        )
        causes = [error.__cause__ for error in result.errors]
        assert not result.errors, (method, url, response.status_code, result.errors, causes)
        rule, _ = self.routes.match(parts.path, method=method, return_rule=True)
        self.operations.add((rule.rule, method.lower(), response.status_code))
        return response

    def poll(self, url: str, seconds: float = 120) -> dict:
        """The job at ``url`` once it has finished (done or failed)."""
        deadline = time.monotonic() + seconds
        while True:
            job = self.get(url).json
            if job["state"] not in ("queued", "running") or time.monotonic() > deadline:
                return job
            time.sleep(0.1)


def test_every_endpoint_answers_as_the_document_says(seeded, document):
    sponsor = Checked(seeded.app, document, issue_token(seeded.app, "sponsor"))
    staff = Checked(seeded.app, document, issue_token(seeded.app, "staff.bdx"))
    admin = Checked(seeded.app, document, issue_token(seeded.app, "admin"))
    manager = Checked(seeded.app, document, issue_token(seeded.app, BDX_MANAGER))
    sponsor.get("/api/v1/openapi.json", headers={})
    assert sponsor.get("/api/v1/me").status_code == 200
    listing = sponsor.get("/api/v1/subjects?per_page=2&status=included").json
    subject_url = listing["items"][0]["links"]["self"]
    subject = sponsor.get(subject_url).json
    assert subject["visits"], "an included subject has visits"
    for visit in subject["visits"]:
        assert sponsor.get(visit["links"]["self"]).status_code == 200
    assert sponsor.get(subject["links"]["findings"]).status_code == 200
    assert sponsor.get(subject["links"]["findings"] + "?status=open").status_code == 200
    assert sponsor.get(subject["links"]["queries"]).status_code == 200
    assert sponsor.get(subject["links"]["signatures"]).status_code == 200
    assert sponsor.get(subject["links"]["verification"]).status_code == 200
    assert staff.get("/api/v1/subjects/TLS-001/signatures").status_code == 404
    assert staff.get("/api/v1/subjects/TLS-001/queries").status_code == 404
    # Every documented error, checked against the document too.
    assert sponsor.get("/api/v1/subjects?per_page=500").status_code == 400
    assert sponsor.get("/api/v1/subjects", headers={}).status_code == 401
    assert admin.get("/api/v1/subjects").status_code == 403
    assert admin.get(subject_url).status_code == 403
    assert staff.get("/api/v1/subjects/TLS-001").status_code == 404
    assert sponsor.get(subject_url + "/visits/NOPE/1").status_code == 404
    assert sponsor.get(subject_url + "/findings?status=closed").status_code == 400
    _check_the_export_endpoints(seeded, sponsor, manager, admin)
    documented = {
        ("/api/v1" + path.replace("{", "<").replace("}", ">"), method, int(status))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
    }
    seen = {
        (rule.replace("<int:", "<"), method, status)
        for rule, method, status in (
            sponsor.operations | staff.operations | admin.operations | manager.operations
        )
    }
    assert {(p, m) for p, m, _ in documented} <= {(p, m) for p, m, _ in seen}
    assert {(p, m, s) for p, m, s in documented if s < 300} <= seen
    # Every documented answer of the export endpoints was given for real (401 is shared).
    exports = {d for d in documented if d[0].startswith(("/api/v1/exports", "/api/v1/jobs"))}
    assert {d for d in exports if d[2] != 401} <= seen


def _check_the_export_endpoints(seeded, sponsor, manager, admin) -> None:
    """Start, poll, download, and every documented refusal, each checked by ``Checked``."""
    kinds = sponsor.get("/api/v1/exports").json["items"]
    assert {k["kind"] for k in kinds} >= {"odm", "sdtm"}
    started = sponsor.post("/api/v1/exports", {"kind": "odm"})
    assert started.status_code == 202, started.json
    job = sponsor.poll(started.headers["Location"])
    assert job["state"] == "done", job["error"]
    assert sponsor.get(job["links"]["download"]).status_code == 200
    assert sponsor.get("/api/v1/jobs?per_page=1").json["items"][0]["id"] == job["id"]
    # A site's data manager downloads the audit trail (CSV) of their site.
    started = manager.post("/api/v1/exports", {"kind": "audit", "site": "BDX"})
    assert started.status_code == 202, started.json
    audit = manager.poll(started.json["links"]["self"])
    assert audit["state"] == "done" and audit["sites"] == ["BDX"], audit["error"]
    assert manager.get(audit["links"]["download"]).status_code == 200
    # Refusals.
    assert sponsor.post("/api/v1/exports", {"kind": "nonsense"}).status_code == 400
    assert sponsor.post("/api/v1/exports", {"kind": "audit"}).status_code == 403
    assert manager.post("/api/v1/exports", {"kind": "odm", "site": "TLS"}).status_code == 403
    assert admin.get("/api/v1/exports").status_code == 403
    assert admin.get("/api/v1/jobs").status_code == 403
    assert admin.get(f"/api/v1/jobs/{job['id']}").status_code == 403
    assert sponsor.get("/api/v1/jobs?page=0").status_code == 400
    assert manager.get(f"/api/v1/jobs/{job['id']}").status_code == 404
    assert manager.get(f"/api/v1/jobs/{job['id']}/download").status_code == 404
    # Not ready (a job no worker took yet), expired, rights lost since, queue down.
    with seeded.app.app_context():
        queued = Job(
            user_id=auth_services.get_user("sponsor").id, kind="odm", state=JobState.QUEUED
        )
        db.session.add(queued)
        db.session.commit()
        queued_id = queued.id
    assert sponsor.get(f"/api/v1/jobs/{queued_id}/download").status_code == 409
    with seeded.app.app_context():
        db.session.get(Job, job["id"]).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert sponsor.get(f"/api/v1/jobs/{job['id']}").json["state"] == "expired"
    assert sponsor.get(f"/api/v1/jobs/{job['id']}/download").status_code == 410
    with seeded.app.app_context():
        db.session.get(Job, audit["id"]).site_codes = "TLS"  # a site they do not hold
        db.session.commit()
    assert manager.get(f"/api/v1/jobs/{audit['id']}/download").status_code == 403
    seeded.app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        assert sponsor.post("/api/v1/exports", {"kind": "odm"}).status_code == 503
    finally:
        seeded.app.config["REDIS_URL"] = None


class ScriptSession:
    """The few lines of `requests` a sponsor's script uses, over the Flask test client."""

    def __init__(self, client, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, url: str, params: dict | None = None):
        parts = urlsplit(url)
        response = self.client.get(
            parts.path, query_string=params or parts.query, headers=self.headers
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{response.status_code}: {response.json['error']['message']}")
        return response.json


def test_a_script_reads_the_whole_trial_with_a_token(seeded):
    api = ScriptSession(seeded.app.test_client(), issue_token(seeded.app, "sponsor"))
    base = "http://localhost/api/v1"
    url, subjects, values = f"{base}/subjects?per_page=5", [], 0
    while url:
        page = api.get(url)
        for summary in page["items"]:
            subject = api.get(summary["links"]["self"])
            for visit in subject["visits"]:
                data = api.get(visit["links"]["self"])
                values += sum(len(row["items"]) for form in data["forms"] for row in form["rows"])
            api.get(subject["links"]["findings"])
            subjects.append(subject["identifier"])
        url = page["links"]["next"]
    assert len(subjects) == page["total"] > 0 and values > 0
    with pytest.raises(RuntimeError, match="404"):
        api.get(f"{base}/subjects/XXX-001")
