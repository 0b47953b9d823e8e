"""Junk on every route: the values, the routes, the world they are sent in and the sending,
shared by the modules that send them as one user each (tests/web/test_bad_input_*.py)."""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from unittest import mock
from urllib.parse import urlencode

import werkzeug.test
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.wsgi import get_current_url

from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import current_study
from ecrf.study import subjects

JUNK_VALUES = [
    "",
    " ",
    "x" * 5000,
    "'; DROP TABLE subject; --",
    "<script>alert(1)</script>",
    "١٢٣",  # Arabic-Indic digits
    "1e309",
    "2024-02-30",
    "\x00",
    "🙂",
]

ARGS = {
    "identifier": ["BDX-001", "NOPE-999", "bdx-001"],
    "visit_oid": ["SCR", "LOGS", "UNS", "NOPE"],
    "repeat": ["1", "99"],
    "repeat_key": ["1", "99"],
    "form_oid": ["DM", "LES", "AE", "NOPE"],
    "group_oid": ["LESION", "DM", "NOPE"],
    "key": ["1", "99"],
    "username": ["alice", "ghost"],
    "assignment_id": ["1", "999"],
    "token_id": ["1", "999"],
    "code": ["BDX", "XX"],
    "job_id": ["1", "99999999999"],
    "query_id": ["1", "99999999999"],
    "lock_id": ["1", "99999999999"],
    "laboratory_id": ["1", "99999999999"],
    "range_id": ["1", "99999999999"],
}


def concrete_paths(app: Flask) -> list[tuple[str, str]]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = sorted(m for m in rule.methods if m in ("GET", "POST"))
        urls = [rule.rule]
        for arg in rule.arguments:
            urls = [re.sub(rf"<(?:\w+:)?{arg}>", value, url) for url in urls for value in ARGS[arg]]
        paths.extend((method, url) for method in methods for url in urls)
    return paths


def create_world(app: Flask, create_site, create_user, create_subject) -> None:
    """A site, its staff member alice, the administrator boss, and subject BDX-001 with a
    demography form and an open query on it."""
    create_site("BDX")
    create_user("alice", Role.SITE_STAFF, "BDX")
    create_user("boss", Role.ADMIN)
    identifier = create_subject("BDX", {("SCR", "DM"): {("DM", 1): {"SEX": "M"}}})
    with app.app_context():
        subject = subjects.get_subject(identifier)
        target = QueryTarget("SCR", 1, "DM", item_oid="SEX")
        queries.open_query(current_study(), subject, target, "Sex as on the ID?", actor=None)
        db.session.commit()


#: The form fields and query arguments every request carries, each set to the junk value.
FORM_FIELDS = (
    "version",
    "action",
    "reason",
    "status",
    "site",
    "visit_date",
    "deviation_reason",
    "code",
    "name",
    "username",
    "full_name",
    "password",
    "confirm",
    "role",
    "grant-role",
    "grant-site",
    "reset-password",
    "deactivate-reason",
    "current_password",
    "rows-LESION",
    "DM-1-WEIGHT",
    "DM-1-BRTHYM",
    "DM-1-SEX",
    "DM-1-SYMPT",
    "LESION-1-SUVMAX",
    "LESION-x-y",
    "text",
    "answer-text",
    "close-text",
    "reopen-text",
    "confirm_open_queries",
    "up_to",
    "user",
    "form",
    "item",
    "target",
    "percentage",
)

QUERY_ARGS = (
    "field",
    "page",
    "site",
    "status",
    "next",
    "state",
    "form",
    "subject",
    "older_than",
    "mine",
    "visit",
    "repeat",
    "group",
    "row",
    "item",
    "user",
    "show",
    "from",
    "to",
)

#: Encoded as the test client encodes them (werkzeug's characters left unquoted).
URL_SAFE = "!$'()*,/:;?@"


def junk_requests() -> list[tuple[str, bytes, str]]:
    """Each junk value with its form body and query string, encoded once for every route
    (the same bytes the test client would encode from dicts): encoding the 5,000-character
    value into 37 fields and 19 arguments for each of 1,200 routes took a sixteenth of the
    test's time."""
    return [
        (
            junk,
            urlencode({name: junk for name in FORM_FIELDS}, safe=URL_SAFE).encode(),
            urlencode({name: junk for name in QUERY_ARGS}, safe=URL_SAFE),
        )
        for junk in JUNK_VALUES
    ]


@contextmanager
def cookies_matched_without_the_query():
    """The test client matches its cookies to a request's host and path, which it takes from
    the request's whole URL, query string included, decoded into an IRI twice per request:
    with the 5,000-character junk in 19 arguments (95 KB), that took most of the request's
    time. Built without the query string, the URL has the same host and path, so the same
    cookies are sent and kept."""
    url_without_query = functools.partial(get_current_url, strip_querystring=True)
    with mock.patch.object(werkzeug.test, "get_current_url", url_without_query):
        yield


def send_junk_everywhere(app: Flask, client: FlaskClient) -> tuple[list[tuple], set[int]]:
    """Each junk value, in every form field and query argument, to every concrete route (but
    sign-out) as the client's user: the (method, path, junk, status) of each server error,
    and every status seen. Stops after the first route that fails."""
    failures = []
    statuses = set()
    requests = junk_requests()
    with cookies_matched_without_the_query():
        for method, path in concrete_paths(app):
            if path in ("/logout",):
                continue
            for junk, body, query in requests:
                response = client.open(
                    path,
                    method=method,
                    data=body,
                    content_type="application/x-www-form-urlencoded",
                    query_string=query,
                )
                statuses.add(response.status_code)
                if response.status_code >= 500:
                    failures.append((method, path, junk[:20], response.status_code))
            if failures:
                break
    return failures, statuses
