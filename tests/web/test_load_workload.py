"""The load test's flows (benchmarks/load/workload.py) driven once each through the test
client, CSRF on, on the seeded trial: every page they open and form they post still exists
and answers as they expect, so the load test cannot rot silently. Locust is not needed:
the locustfile only schedules these flows (by the task names checked here)."""

from __future__ import annotations

import random
import time

import pytest
import sqlalchemy as sa

from benchmarks.load.page import Page
from benchmarks.load.workload import (
    MONITOR_TASKS,
    STAFF_TASKS,
    Account,
    Board,
    ExportFlow,
    FlowFailed,
    MonitorFlow,
    Reply,
    StaffFlow,
    ok_status,
)
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.jobs.backends import shutdown_threads
from ecrf.queries.models import Query
from ecrf.records.models import Subject
from tests.seeded_trial import dispose, seeded_copy


class FlaskClient:
    """The workload's Client over Flask's test client: every request, by kind, kept."""

    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.sent: list[tuple[str, str, int]] = []

    def request(self, method, path, *, name, data=None, expect=None) -> Reply:
        response = self.client.open(path, method=method, data=data, follow_redirects=True)
        query = response.request.query_string.decode()
        where = response.request.path + (f"?{query}" if query else "")
        reply = Reply(response.status_code, where, response.get_data().decode(errors="replace"))
        self.sent.append((name, method, response.status_code))
        problem = (expect or ok_status)(reply)
        if problem:
            raise FlowFailed(f"{name}: {method} {path}: {problem}")
        return reply


@pytest.fixture(scope="module")
def trial(databases, tmp_path_factory):
    app, passwords = seeded_copy(
        databases, WTF_CSRF_ENABLED=True, EXPORT_DIR=str(tmp_path_factory.mktemp("exports"))
    )
    yield app, passwords
    shutdown_threads(app)
    dispose(app)


def flow(flow_class, trial, username, board, **kwargs):
    app, passwords = trial
    return flow_class(
        FlaskClient(app), Account(username, passwords[username]), board, random.Random(7), **kwargs
    )


def test_staff_and_monitors_play_every_task_with_the_pages_tokens(trial):
    board = Board()
    staff = flow(StaffFlow, trial, "staff.bdx", board, site="BDX")
    monitor = flow(MonitorFlow, trial, "monitor", board)
    staff.start()  # signs in, enrols, completes the screening vital signs
    monitor.start()
    for name in STAFF_TASKS:
        getattr(staff, name)()
    for name in MONITOR_TASKS:
        getattr(monitor, name)()
    # One query's whole life: raised by the monitor, answered by the site, closed.
    monitor.raise_query()
    staff.answer_query()
    monitor.close_query()

    staff_kinds = {name for name, _, _ in staff.client.sent}
    monitor_kinds = {name for name, _, _ in monitor.client.sent}
    assert {
        "sign in",
        "enrol subject",
        "save form",
        "answer query",
        "matrix",
        "subject page",
        "form page",
        "healthz (floor)",
    } <= staff_kinds
    assert {"sign in", "raise query", "close query", "form page"} <= monitor_kinds
    assert all(status < 400 for _, _, status in staff.client.sent + monitor.client.sent)

    app, _ = trial
    with app.app_context():
        subjects = db.session.scalars(
            sa.select(Subject.identifier).where(Subject.identifier.in_(board.enrolled))
        ).all()
        assert sorted(subjects) == sorted(board.enrolled) and len(board.enrolled) == 2
        states = db.session.scalars(
            sa.select(Query.state).join(Subject).where(Subject.identifier.in_(board.enrolled))
        ).all()
        # The task loop's query waits for its answer; the whole life's one is closed.
        assert sorted(str(state) for state in states) == ["closed", "open"]
        verification = verify_trail()
        assert verification.intact, verification.problems


def test_a_save_the_app_refuses_is_a_failure_of_the_flow(trial):
    """The flow's expectations bite: a value out of range is refused (422), not counted
    as a save."""
    board = Board()
    staff = flow(StaffFlow, trial, "staff.tls", board, site="TLS")
    staff.start()
    page = staff.get(f"/subjects/{staff.own[0]}/visits/SCR/1/forms/VS", "form page")
    form = page.form(id="entry-form")
    with pytest.raises(FlowFailed, match="HTTP 422"):
        staff.submit(
            form, "save form", ok_status, **{"VS-1-WEIGHT": "-5", "action": "save", "reason": "x"}
        )


@pytest.mark.parametrize(
    "kind, username, site", [("csv", "sponsor", ""), ("casebooks", "datamanager", "NTE")]
)
def test_an_exporter_starts_its_job_and_polls_it_to_the_download(trial, kind, username, site):
    exporter = flow(ExportFlow, trial, username, Board(), kind=kind, site=site)
    exporter.start()
    deadline = time.monotonic() + 120
    while not exporter.finished and time.monotonic() < deadline:
        exporter.poll()
        time.sleep(0.2)
    assert exporter.finished
    assert exporter.board.jobs_done == [kind]
    assert exporter.client.sent[-1][0] == "download result"


def test_the_page_reader_sends_what_a_browser_sends():
    page = Page(
        '<form method="post" action="/logout"><input name="csrf_token" value="a"></form>'
        '<form method="post" id="f"><input type="hidden" name="csrf_token" value="t">'
        '<select name="s"><option value="">-</option><option value="B" selected>B</option>'
        '</select><textarea name="note">kept</textarea><input type="checkbox" name="c">'
        '<button name="action" value="save">Save</button></form><a href="/x#y">x</a>',
        "/here?a=1",
    )
    form = page.form(method="post")
    assert form.action == "/here?a=1" and form.attrs["id"] == "f"
    assert form.values(note="new") == {"csrf_token": "t", "s": "B", "note": "new"}
    assert form.options == {"s": ["", "B"]} and form.buttons == [("action", "save")]
    assert page.links_under("/x") == ["/x"]
