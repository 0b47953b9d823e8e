"""Every route, every method, signed in or not, success or error: the security headers."""

from __future__ import annotations

import pytest

from ecrf.auth.roles import Role
from ecrf.security import CONTENT_SECURITY_POLICY

#: A value for every URL parameter of the app's routes; a new parameter fails the walk.
SAMPLE_ARGS = {
    "filename": "ecrf.css",
    "username": "staff.tls",
    "assignment_id": 999,
    "token_id": 999,
    "code": "BDX",
    "identifier": "BDX-001",
    "visit_oid": "SCR",
    "repeat_key": 1,
    "repeat": 1,
    "form_oid": "DM",
    "group_oid": "DM",
    "key": 1,
    "job_id": 1,
    "query_id": 1,
    "lock_id": 1,
    "laboratory_id": 1,
    "range_id": 1,
}
#: Whoever walks the routes: nobody, the all-sites administrator, a nurse of the other site.
VISITORS = [None, "admin", "staff.tls"]
PASSWORD = "correct horse battery staple"


def assert_secure(response, path: str) -> None:
    where = f"{response.request.method} {path} → {response.status_code}"
    headers = response.headers
    assert headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY, where
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    if not path.startswith("/static/"):
        assert headers.get("Cache-Control") == "no-store", where
    assert "Strict-Transport-Security" not in headers, where  # plain HTTP here
    assert response.status_code < 500, where


def every_request(app):
    """(method, path) for every rule and method of the URL map."""
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        for rule in app.url_map.iter_rules():
            args = {name: SAMPLE_ARGS[name] for name in rule.arguments}
            path = adapter.build(rule.endpoint, args)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path


@pytest.fixture
def walk(app, create_site, create_user, create_subject):
    create_site("BDX")
    create_site("TLS")
    create_subject("BDX", {("SCR", "DM"): {("DM", 1): {"SEX": "M"}}})
    create_user("admin", Role.ADMIN)
    create_user("staff.tls", Role.SITE_STAFF, "TLS")
    return list(every_request(app))


@pytest.mark.parametrize("visitor", VISITORS, ids=lambda v: v or "anonymous")
def test_every_route_answers_with_the_security_headers(app, walk, visitor):
    statuses = set()
    for method, path in walk:
        client = app.test_client()
        if visitor:
            client.post("/login", data={"username": visitor, "password": PASSWORD})
        for data in ({}, {"junk": "x" * 50}) if method == "POST" else (None,):
            response = client.open(path, method=method, data=data)
            assert_secure(response, path)
            statuses.add(response.status_code)
    # The walk met pages, redirects and refusals, not just one kind of answer.
    expected = {200, 302} if visitor != "staff.tls" else {200, 302, 403}
    assert expected <= statuses, statuses


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/page", 404),
        ("GET", "/admin/users/nobody", 404),
        ("GET", "/logout", 405),
        ("POST", "/login", 422),
        ("GET", "/static/no-such-file.css", 404),
        ("POST", "/session/keep-alive", 401),
    ],
)
def test_error_answers_carry_the_headers_too(client, walk, method, path, status):
    if path.startswith("/admin"):
        client.post("/login", data={"username": "admin", "password": PASSWORD})
    response = client.open(path, method=method, data={})
    assert response.status_code == status
    assert_secure(response, path)


def test_a_refused_csrf_check_and_a_crash_carry_the_headers(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    client = app.test_client()
    refused = client.post("/login", data={"username": "x"})
    assert refused.status_code == 400
    crashed = client.get("/boom")
    assert crashed.status_code == 500
    for response in (refused, crashed):
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable(client):
    response = client.get("/static/ecrf.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_is_sent_over_https_only(make_app):
    app = make_app()
    plain = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    secure = app.test_client().get("/login", base_url="https://ecrf.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_is_sent_when_cookies_are_configured_secure(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True)
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
