"""Bad input never gets a 500, as the administrator (boss, every site): every route, fed
junk, answers with a page or a message (the junk and the routes: tests/web/bad_input.py)."""

from __future__ import annotations

import pytest

from tests.web.bad_input import create_world, send_junk_everywhere


@pytest.fixture
def world(app, create_site, create_user, create_subject):
    create_world(app, create_site, create_user, create_subject)


def test_no_route_answers_junk_with_a_server_error(app, client, auth, world):
    auth.login("boss")
    failures, statuses = send_junk_everywhere(app, client)
    assert failures == []
    # The junk reached the validation of forms and services, and was refused there.
    assert 422 in statuses and 200 in statuses
