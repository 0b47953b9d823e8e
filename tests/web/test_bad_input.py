"""Bad input never gets a 500: every route, fed junk, answers with a page or a message."""

from __future__ import annotations

import re

import pytest

from ecrf.auth.roles import Role
from ecrf.crf.loader import current_study
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.study import services as site_services
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
    "code": ["BDX", "XX"],
}


def concrete_paths(app) -> list[tuple[str, str]]:
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


@pytest.fixture
def world(app, create_site, create_user):
    create_site("BDX")
    create_user("alice", Role.SITE_STAFF, "BDX")
    create_user("boss", Role.ADMIN)
    with app.app_context():
        subject = subjects.register_subject(site_services.get_site("BDX"), actor=None)
        save_form(
            current_study(),
            subject,
            "SCR",
            "DM",
            {("DM", 1): {"SEX": "M"}},
            actor=None,
            expected_version=0,
        )
        db.session.commit()


@pytest.mark.parametrize("username", ["alice", "boss"])
def test_no_route_answers_junk_with_a_server_error(app, client, auth, world, username):
    auth.login(username)
    failures = []
    statuses = set()
    for method, path in concrete_paths(app):
        if path in ("/logout",):
            continue
        for junk in JUNK_VALUES:
            form = {
                name: junk
                for name in (
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
                )
            }
            response = client.open(
                path,
                method=method,
                data=form,
                query_string={
                    "field": junk,
                    "page": junk,
                    "site": junk,
                    "status": junk,
                    "next": junk,
                },
            )
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failures.append((method, path, junk[:20], response.status_code))
        if failures:
            break
    assert failures == []
    # The junk reached the validation of forms and services, and was refused there.
    assert 422 in statuses and 200 in statuses
