"""The dashboards' tests run on the mini study with an enrolment target and an SAE report
log (tests/definitions/dashboards.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.extensions import db

DEFINITION = "tests.definitions.dashboards:STUDY"


@pytest.fixture
def app(make_app) -> Flask:
    return make_app(STUDY_DEFINITION=DEFINITION)


@pytest.fixture
def sponsor(sites, create_user) -> User:
    return db.session.get(User, create_user("the.sponsor", Role.SPONSOR))


@pytest.fixture
def datamanager(sites, create_user) -> User:
    return db.session.get(User, create_user("data.manager", Role.DATA_MANAGER))


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
