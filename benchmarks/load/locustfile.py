"""Locust's users over the workload's flows (benchmarks/load/workload.py).

Run by benchmarks/load/run.py, which gives the app servers and the demo accounts in the
environment:

    LOAD_HOSTS     the app servers' base URLs, comma-separated; users are spread over them
                   in turn (one server: every user on it)
    LOAD_ACCOUNTS  JSON {username: password} of the demo accounts

Site staff (staff.bdx, staff.tls) and monitors share the demo accounts (sessions are
cookies, so many people may be signed in as one account); one exporter per app server
starts a job on that server: the sponsor's CSV extract on the first, a data manager's
investigator's copy of the NTE site (a report batch) on the second.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
from urllib.parse import urlsplit

from locust import HttpUser, between, constant, task

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

HOSTS = [h for h in os.environ.get("LOAD_HOSTS", "http://127.0.0.1:8000").split(",") if h]
ACCOUNTS: dict[str, str] = json.loads(os.environ.get("LOAD_ACCOUNTS", "{}"))
BOARD = Board()
_next_host = itertools.count()
_next_exporter = itertools.count()
_next_site = itertools.count()
#: (username, job kind, site) of the exporter on each app server, in server order.
EXPORTERS = [("sponsor", "csv", ""), ("datamanager", "casebooks", "NTE")]


class LocustClient:
    """The workload's Client over locust's HTTP session: each request is recorded under
    its kind's name and marked failed when the flow's expectation says so."""

    def __init__(self, session) -> None:
        self.session = session

    def request(self, method, path, *, name, data=None, expect=None) -> Reply:
        with self.session.request(
            method, path, name=name, data=data, catch_response=True
        ) as response:
            final = urlsplit(response.url or path)
            where = final.path + (f"?{final.query}" if final.query else "")
            reply = Reply(response.status_code, where, response.text or "")
            problem = (expect or ok_status)(reply)
            if problem:
                response.failure(problem)
                raise FlowFailed(problem)
            response.success()
            return reply


class AppUser(HttpUser):
    """A user of the next app server in turn."""

    abstract = True

    def __init__(self, environment) -> None:
        self.host = HOSTS[next(_next_host) % len(HOSTS)]
        super().__init__(environment)
        self.rng = random.Random()

    def account(self, username: str) -> Account:
        return Account(username, ACCOUNTS[username])

    def play(self, step) -> None:
        # A failure is recorded as its request's; the user goes on with the next task.
        with contextlib.suppress(FlowFailed):
            step()


def tasks_of(weights: dict[str, int]):
    """Locust tasks calling the flow's methods of these names, with these weights."""

    def calling(name: str):
        return lambda user: user.play(getattr(user.flow, name))

    return {calling(name): weight for name, weight in weights.items()}


class SiteStaff(AppUser):
    weight = 6
    wait_time = between(1, 3)
    tasks = tasks_of(STAFF_TASKS)

    def on_start(self) -> None:
        site = ("BDX", "TLS")[next(_next_site) % 2]
        username = f"staff.{site.lower()}"
        self.flow = StaffFlow(
            LocustClient(self.client), self.account(username), BOARD, self.rng, site=site
        )
        self.play(self.flow.start)


class Monitor(AppUser):
    weight = 3
    wait_time = between(1, 3)
    tasks = tasks_of(MONITOR_TASKS)

    def on_start(self) -> None:
        self.flow = MonitorFlow(LocustClient(self.client), self.account("monitor"), BOARD, self.rng)
        self.play(self.flow.start)


class Exporter(AppUser):
    """One per app server, each on its own server, each starting one job."""

    fixed_count = len(HOSTS)
    wait_time = constant(3)  # "My jobs" reloads itself every 3 s while a job runs

    def __init__(self, environment) -> None:
        super().__init__(environment)
        self.index = next(_next_exporter) % len(HOSTS)
        self.host = HOSTS[self.index]
        self.client.base_url = self.host

    def on_start(self) -> None:
        username, kind, site = EXPORTERS[self.index % len(EXPORTERS)]
        self.flow = ExportFlow(
            LocustClient(self.client), self.account(username), BOARD, self.rng, kind=kind, site=site
        )
        self.play(self.flow.start)

    @task
    def poll(self) -> None:
        self.play(self.flow.poll)
