"""The OpenAPI document is valid, and every endpoint's real answers match it; a script reads
the whole API with a token the way a sponsor's script would."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate

from tests.exports.api_helpers import bearer, issue_token


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
        self.operations: set[tuple[str, int]] = set()

    def get(self, url: str, *, headers: dict | None = None):
        parts = urlsplit(url)
        response = self.client.get(
            parts.path,
            query_string=parts.query,
            headers=self.headers if headers is None else headers,
        )
        result = self.openapi.unmarshal_response(
            WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response)
        )
        assert not result.errors, (url, response.status_code, result.errors)
        rule, _ = self.routes.match(parts.path, return_rule=True)
        self.operations.add((rule.rule, response.status_code))
        return response


def test_every_endpoint_answers_as_the_document_says(seeded, document):
    sponsor = Checked(seeded.app, document, issue_token(seeded.app, "sponsor"))
    staff = Checked(seeded.app, document, issue_token(seeded.app, "staff.bdx"))
    admin = Checked(seeded.app, document, issue_token(seeded.app, "admin"))
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
    # Every documented error, checked against the document too.
    assert sponsor.get("/api/v1/subjects?per_page=500").status_code == 400
    assert sponsor.get("/api/v1/subjects", headers={}).status_code == 401
    assert admin.get("/api/v1/subjects").status_code == 403
    assert admin.get(subject_url).status_code == 403
    assert staff.get("/api/v1/subjects/TLS-001").status_code == 404
    assert sponsor.get(subject_url + "/visits/NOPE/1").status_code == 404
    assert sponsor.get(subject_url + "/findings?status=closed").status_code == 400
    documented = {
        ("/api/v1" + path.replace("{", "<").replace("}", ">"), int(status))
        for path, item in document["paths"].items()
        for status in item["get"]["responses"]
    }
    seen = {
        (rule.replace("<int:repeat_key>", "<repeat_key>"), status)
        for rule, status in sponsor.operations | staff.operations | admin.operations
    }
    assert {path for path, _ in documented} <= {path for path, _ in seen}
    assert {(p, s) for p, s in documented if s == 200} <= seen


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
