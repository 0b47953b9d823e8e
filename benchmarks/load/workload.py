"""What the trial's users do, page by page, as the load test plays it.

Free of locust, so the suite can drive every flow once through Flask's test client
(tests/web/test_load_workload.py) and the load test cannot drift from the routes: the
locustfile only wraps these flows in locust users. Each flow reads the pages it is given
(links, forms with their CSRF token and hidden version) and submits them as a browser
would, typing valid values.

Site staff enrol subjects, fill in their screening vital signs and correct them (with a
reason once complete), browse the matrix, subjects and forms, and answer the queries
raised on their subjects; monitors browse, raise queries on those subjects and close the
answered ones; one exporter per app server starts an extract (or a report batch) and
polls "My jobs" until it is ready, then downloads it.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from benchmarks.load.page import Page, WebForm


@dataclass
class Reply:
    """A response as the flows read it, after redirects were followed."""

    status: int
    path: str
    text: str


#: Reads a reply: None when it is what the user expected, else what went wrong.
Expect = Callable[[Reply], str | None]


class FlowFailed(Exception):
    """A page was not what the user expected; the client has recorded the failure."""


class Client(Protocol):
    """Sends one request (following redirects), records it under ``name``, checks it with
    ``expect`` (default: a status below 400) and raises FlowFailed when it fails."""

    def request(
        self,
        method: str,
        path: str,
        *,
        name: str,
        data: dict[str, str] | None = None,
        expect: Expect | None = None,
    ) -> Reply: ...


@dataclass(frozen=True)
class Account:
    username: str
    password: str


@dataclass
class Board:
    """What users of one load-test process hand each other: subjects whose vital signs are
    complete (to query), and how many subjects were enrolled (to check no duplicate)."""

    queryable: list[tuple[str, StaffFlow]] = field(default_factory=list)
    enrolled: list[str] = field(default_factory=list)
    #: Jobs the exporters saw through to their download: (kind, job page row).
    jobs_done: list[str] = field(default_factory=list)


#: The screening form the staff fill in and correct, and the item monitors query.
VITALS = "/subjects/{identifier}/visits/SCR/1/forms/VS"
QUERY_ITEM = "/subjects/{identifier}/queries/new?visit=SCR&form=VS&item=WEIGHT"
SUBJECT = re.compile(r"^/subjects/([A-Z0-9]+-\d+)$")
QUERY = re.compile(r"^/queries/\d+$")
REASON = "Transcription error: corrected from the source document."


def ok_status(reply: Reply) -> str | None:
    return None if reply.status < 400 else f"HTTP {reply.status}"


def lands_on(pattern: re.Pattern[str] | str, also: str | None = None) -> Expect:
    """Expect a final page at ``pattern`` (a redirect after a successful POST), whose text
    holds ``also`` when given."""

    def check(reply: Reply) -> str | None:
        if reply.status >= 400:
            return f"HTTP {reply.status}"
        matched = (
            pattern.match(reply.path) if isinstance(pattern, re.Pattern) else reply.path == pattern
        )
        if not matched:
            return f"landed on {reply.path}"
        if also and also not in reply.text:
            return f"no {also!r} on {reply.path}"
        return None

    return check


class Flow:
    """One simulated person: an account, a client, what they saw last."""

    def __init__(self, client: Client, account: Account, board: Board, rng: random.Random):
        self.client = client
        self.account = account
        self.board = board
        self.rng = rng
        self.subjects: list[str] = []  # subject pages seen on the matrix
        self.forms: list[str] = []  # form pages seen on a subject page

    def get(self, path: str, name: str, expect: Expect | None = None) -> Page:
        reply = self.client.request("GET", path, name=name, expect=expect)
        return Page(reply.text, reply.path)

    def submit(self, form: WebForm, name: str, expect: Expect, **changes: str) -> Reply:
        return self.client.request(
            form.method.upper(), form.action, name=name, data=form.values(**changes), expect=expect
        )

    def need_form(self, page: Page, name: str, **attrs: str) -> WebForm:
        form = page.form(**attrs)
        if form is None:
            self.client.request(
                "GET", page.path, name=name, expect=lambda r: f"no form {attrs} on {page.path}"
            )
            raise FlowFailed(name)
        return form

    # --- what everyone does -------------------------------------------------------------

    def sign_in(self) -> None:
        page = self.get("/login", "sign-in page")
        form = self.need_form(page, "sign in", method="post")
        reply = self.submit(
            form,
            "sign in",
            lambda r: ok_status(r) or ("still on the sign-in page" if r.path == "/login" else None),
            username=self.account.username,
            password=self.account.password,
        )
        self.saw(Page(reply.text, reply.path))

    def saw(self, page: Page) -> None:
        subjects = [link for link in page.links_under("/subjects/") if SUBJECT.match(link)]
        if subjects:
            self.subjects = subjects

    def browse_matrix(self) -> Page:
        page = self.get("/subjects", "matrix")
        self.saw(page)
        return page

    def open_subject(self) -> None:
        if not self.subjects:
            self.browse_matrix()
        page = self.get(self.rng.choice(self.subjects), "subject page")
        self.forms = [link for link in page.links_under("/subjects/") if "/forms/" in link]

    def open_form(self) -> None:
        if not self.forms:
            self.open_subject()
        if self.forms:
            self.get(self.rng.choice(self.forms), "form page")

    def health(self) -> None:
        """The floor: a request that touches neither database nor template, under the same
        load, so each kind's time can be read beside the server's own queueing."""
        self.client.request("GET", "/healthz", name="healthz (floor)")


class StaffFlow(Flow):
    """Site staff at ``site``: enrol, enter and correct data, answer queries."""

    def __init__(self, *args, site: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.own: list[str] = []
        self.inbox: deque[tuple[str, MonitorFlow]] = deque()

    def start(self) -> None:
        self.sign_in()
        self.enrol()
        self.save_vitals()

    def enrol(self) -> None:
        page = self.browse_matrix()
        form = self.need_form(page, "enrol subject", method="post", action="/subjects")
        reply = self.submit(form, "enrol subject", lands_on(SUBJECT), site=self.site)
        identifier = SUBJECT.match(reply.path).group(1)
        self.own.append(identifier)
        self.board.enrolled.append(identifier)

    def save_vitals(self) -> None:
        """Fill in (or correct) the screening vital signs of one of the user's subjects."""
        identifier = self.rng.choice(self.own)
        path = VITALS.format(identifier=identifier)
        page = self.get(path, "form page")
        form = self.need_form(page, "save form", id="entry-form")
        values = {
            "VS-1-VSDAT": datetime.now(UTC).date().isoformat(),
            "VS-1-WEIGHT": f"{self.rng.uniform(55, 95):.1f}",
            "VS-1-HEIGHT": str(self.rng.randint(155, 190)),
            "VS-1-SYSBP": str(self.rng.randint(110, 135)),
            "VS-1-DIABP": str(self.rng.randint(65, 85)),
            "VS-1-PULSE": str(self.rng.randint(60, 90)),
            "VS-1-TEMP": f"{self.rng.uniform(36.4, 37.2):.1f}",
        }
        complete = "reason" in form.fields  # a complete form asks why it changes
        if complete:
            values = {"VS-1-WEIGHT": values["VS-1-WEIGHT"], "reason": REASON, "action": "save"}
        else:
            values["action"] = "complete"
        self.submit(form, "save form", lands_on(path, also="saved"), **values)
        if not complete:
            self.board.queryable.append((identifier, self))

    def answer_query(self) -> None:
        if not self.inbox:
            self.browse_matrix()
            return
        query, monitor = self.inbox.popleft()
        self.get("/queries?mine=1", "query list")
        page = self.get(query, "query page")
        form = self.need_form(page, "answer query", action=query + "/answer")
        self.submit(
            form,
            "answer query",
            lands_on(query, also="Answer sent."),
            **{"answer-text": "Checked against the source: the value is right."},
        )
        monitor.inbox.append(query)


class MonitorFlow(Flow):
    """A monitor of every site: browse, raise queries on entered data, close answers."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.inbox: deque[str] = deque()

    def start(self) -> None:
        self.sign_in()

    def raise_query(self) -> None:
        if not self.board.queryable:
            self.browse_matrix()
            return
        identifier, staff = self.rng.choice(self.board.queryable)
        path = QUERY_ITEM.format(identifier=identifier)
        page = self.get(path, "raise query page")
        form = self.need_form(page, "raise query", method="post")
        reply = self.submit(
            form,
            "raise query",
            lands_on(QUERY),
            text="The weight differs from the referral letter: please check the source.",
        )
        staff.inbox.append((reply.path, self))

    def close_query(self) -> None:
        if not self.inbox:
            self.get("/queries", "query list")
            return
        query = self.inbox.popleft()
        page = self.get(query, "query page")
        form = self.need_form(page, "close query", action=query + "/close")
        self.submit(
            form, "close query", lands_on(query, also="Query closed."), **{"close-text": "Thanks."}
        )


class ExportFlow(Flow):
    """Whoever holds the export right: start one extract (``kind``) or a site's report
    batch, poll "My jobs" as its page does (every 3 s) until ready, download it."""

    def __init__(self, *args, kind: str, site: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.site = site
        self.finished = False

    def start(self) -> None:
        self.sign_in()
        if self.kind == "casebooks":
            page = self.get("/reports/", "reports page")
            form = self.need_form(page, "start job", action="/reports/casebooks")
            self.submit(form, "start job", lands_on("/jobs"), site=self.site)
        else:
            page = self.get("/jobs/new", "new extract page")
            form = self.need_form(page, "start job", method="post")
            self.submit(form, "start job", lands_on("/jobs"), kind=self.kind, site=self.site)

    def poll(self) -> None:
        """One look at "My jobs"; once the job is ready, its download (then browsing)."""
        if self.finished:
            self.browse_matrix()
            return
        page = self.get("/jobs", "poll jobs", expect=no_failed_job)
        downloads = [link for link in page.links_under("/jobs/") if link.endswith("/download")]
        if downloads:
            self.client.request("GET", downloads[0], name="download result")
            self.finished = True
            self.board.jobs_done.append(self.kind)


def no_failed_job(reply: Reply) -> str | None:
    if reply.status >= 400:
        return f"HTTP {reply.status}"
    return "a job failed" if "status-bad" in reply.text else None


#: Each flow's tasks and their weights, as the locustfile schedules them.
STAFF_TASKS: dict[str, int] = {
    "browse_matrix": 4,
    "open_subject": 3,
    "open_form": 3,
    "save_vitals": 3,
    "enrol": 1,
    "answer_query": 1,
    "health": 1,
}
MONITOR_TASKS: dict[str, int] = {
    "browse_matrix": 3,
    "open_subject": 3,
    "open_form": 3,
    "raise_query": 2,
    "close_query": 2,
    "health": 1,
}
