"""Requests as a signed-in user makes them, each timed and its SQL statements counted."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from ecrf.auth import services as auth_services
from ecrf.extensions import db

#: The password the benchmark gives the demo's accounts (a throwaway database).
PASSWORD = "benchmark password 1"


@dataclass(frozen=True)
class Timings:
    """Repeated measurements of one thing: seconds and SQL statements per run."""

    seconds: list[float]
    statements: list[int]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def sql(self) -> int:
        return round(statistics.median(self.statements))


class Counter:
    """Counts the SQL statements the app's engine runs."""

    def __init__(self, app: Flask) -> None:
        self.count = 0
        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", self._one)

    def _one(self, *_args) -> None:
        self.count += 1


def set_passwords(app: Flask, usernames: list[str]) -> None:
    """Give the demo accounts a known password (through the audited service)."""
    with app.app_context():
        for username in usernames:
            user = auth_services.get_user(username)
            auth_services.set_password(user, PASSWORD, actor=None, must_change_password=False)
        db.session.commit()


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"could not sign in as {username}: {response.status_code}")
    return client


def repeat(counter: Counter, runs: int, request: Callable[[int], int], *, warm: int = 1) -> Timings:
    """Run ``request(n)`` (which returns the response's status) ``warm`` times unmeasured,
    then ``runs`` times, timing each and counting its statements."""
    for n in range(warm):
        request(-1 - n)
    seconds, statements = [], []
    for n in range(runs):
        counter.count = 0
        started = time.perf_counter()
        status = request(n)
        seconds.append(time.perf_counter() - started)
        statements.append(counter.count)
        if status >= 400:
            raise RuntimeError(f"the request answered {status}")
    return Timings(seconds, statements)


class _FormFields(HTMLParser):
    """The fields of the page's data-entry form (the one with an ``action`` button), as a
    browser would submit them: inputs, checked boxes, selected options, text areas."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._fields = []
            self.forms.append(self._fields)
        if self._fields is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self._fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self._fields.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea and self._fields is not None:
            self._fields.append((self._textarea, self._text))
            self._textarea = None
        elif tag == "form":
            self._fields = None


def entry_form(html: str) -> list[tuple[str, str]]:
    """The data-entry form's fields on a form page (the largest form posted)."""
    parser = _FormFields()
    parser.feed(html)
    if not parser.forms:
        raise ValueError("no form on the page")
    return max(parser.forms, key=len)
