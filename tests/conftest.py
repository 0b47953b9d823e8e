"""Shared fixtures: a migrated database per test, on SQLite or PostgreSQL, and factories.

Each test gets its own database cloned from one migrated at session start (a file copy
on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL). Clones cost milliseconds and let
tests commit for real, run live servers in threads and race transactions. SQLite files live
in /dev/shm when the machine has it (tests/databases.py), and each test's is removed after it.

Set ECRF_TEST_DATABASE_URL to a PostgreSQL server URL (any database on it, e.g.
postgresql://postgres@127.0.0.1:5432/postgres) to run everything on PostgreSQL.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest
from flask import Flask, current_app, has_app_context

from ecrf import create_app
from ecrf.auth import services as auth_services
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.jobs.backends import shutdown_threads
from ecrf.records.loader import current_study
from ecrf.records.models import Site
from ecrf.records.sites import get_site
from ecrf.study import services as study_services
from ecrf.study import subjects
from tests import compiled_once
from tests.databases import DatabaseFactory, database_folder
from tests.seeded_trial import Seeded, seeded_trial

# Every app of the run shares its URL builders and compiled templates (tests/compiled_once.py).
compiled_once.install()

pytest_plugins = ["tests.browser_fixtures"]

#: The test modules that take longest (a minute or more of a worker on a 2-core machine),
#: longest first. They are run first, so that no worker is left running one of them alone at
#: the end while the others are idle (pyproject.toml: --dist loadfile hands whole modules out
#: in this order, --no-loadscope-reorder keeps it).
LONGEST_MODULES = (
    "tests/browser/test_patient_journey.py",
    "tests/reports/test_acrf.py",
    "tests/reports/test_casebook_pdf.py",
    "tests/web/test_bad_input_site_staff.py",
    "tests/browser/test_capture.py",
    "tests/cli/test_demo_strict_rules.py",
    "tests/web/test_access_matrix.py",
    "tests/unit/study/test_eligibility.py",
    "tests/web/test_bad_input_admin.py",
    "tests/cli/test_console_script.py",
    "tests/browser/test_monitoring_cycle.py",
    "tests/cli/test_demo_subjects.py",
    "tests/browser/test_idle_warning.py",
    "tests/web/test_extreme_values.py",
    "tests/exports/test_jobs_rq.py",
    "tests/cli/test_demo_background.py",
    "tests/exports/test_odm_export.py",
    "tests/reports/test_casebook_jobs.py",
)


_INSTANCE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """The apps the tests build keep their instance folder (the cached aCRF, keys a test
    leaves unset) out of the checkout: a folder of this process's own, unless the
    environment names one (tests of the setting set it themselves)."""
    if "ECRF_INSTANCE_PATH" not in os.environ:
        folder = tempfile.mkdtemp(prefix="ecrf-test-instance-")
        os.environ["ECRF_INSTANCE_PATH"] = config.stash[_INSTANCE] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_INSTANCE, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        del os.environ["ECRF_INSTANCE_PATH"]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the machine has cores. Browser, live-server,
    subprocess and job-queue tests spend part of their time waiting (on Chromium, a server
    starting, a worker polling), and a third worker fills those waits: on 2 cores the
    suite took 3 min 52 s with 3 workers, 4 min 41 s with 2 and 4 min 10 s with 4. Since the
    browser tests run the headless shell and wait less, 3 and 2 workers are even (2 min 35 s
    and 2 min 36 s), 4 slower (2 min 51 s)."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first (the others keep their order: the sort is stable)."""
    rank = {module: n for n, module in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


def pytest_collection_finish(session: pytest.Session) -> None:
    _freeze_survivors()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    yield
    if nextitem is not None and nextitem.path != item.path:  # a module's fixtures are gone
        _freeze_survivors()


def _freeze_survivors() -> None:
    """Collect the garbage, then freeze what survived, out of later collections.

    A test process keeps what it imported, collected and cached (half a million objects),
    and each full collection walked all of them again: in one process, 14 s of the 110 s
    of tests/web and tests/exports, 10 s of the 55 s of tests/unit (8 s and 5 s with this).
    Frozen after each module, collections walk what the next one makes. Refcounting still
    frees frozen objects; only cycles among them are kept (a few MB).
    """
    gc.collect()
    gc.freeze()


PASSWORD = "correct horse battery staple"
#: The audit trail's HMAC key in tests (the application's comes from outside the database).
AUDIT_KEY = "test audit key"


@pytest.fixture(scope="session")
def databases(tmp_path_factory) -> DatabaseFactory:
    factory = DatabaseFactory(
        os.environ.get("ECRF_TEST_DATABASE_URL"), database_folder(tmp_path_factory.mktemp("db"))
    )
    factory.prepare_template()
    yield factory
    factory.drop_all()


@pytest.fixture
def database_url(databases) -> Iterator[str]:
    url = databases.new_database()
    yield url
    databases.discard(url)


@pytest.fixture(scope="module")
def seeded(databases) -> Iterator[Seeded]:
    """A trial seeded with demo patients at every stage, shared by a module's tests (the
    extract and report tests): seeding goes through the write path and takes seconds."""
    yield from seeded_trial(databases)


def app_config(url: str, workdir, **overrides) -> dict:
    """The configuration of a test app on the database at ``url``."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test secret key",
        "AUDIT_KEY": AUDIT_KEY,
        # One checkpoint file per database: apps sharing a database share it.
        "AUDIT_CHECKPOINT_FILE": str(workdir / f"audit_checkpoints_{url.rsplit('/', 1)[-1]}"),
        # Job results beside it, not in the checkout's instance folder, where two test
        # processes' first jobs (both "job-1") would write the same files.
        "EXPORT_DIR": str(workdir / f"exports_{url.rsplit('/', 1)[-1]}"),
        "SQLALCHEMY_DATABASE_URI": url,
        "PASSWORD_HASH_PROFILE": "cheapest",
        "WTF_CSRF_ENABLED": False,
        "STUDY_DEFINITION": "tests.definitions.mini:STUDY",
        # A derivation or edit check that raises fails the test (see ecrf.crf.evaluate).
        "STRICT_RULES": True,
        **overrides,
    }


@pytest.fixture
def make_app(tmp_path, databases):
    """Build an app on a fresh database; keyword arguments override the test config."""
    apps: list[Flask] = []
    created: list[str] = []  # the databases made here (not those passed in), removed after

    def build(**overrides) -> Flask:
        url = overrides.pop("SQLALCHEMY_DATABASE_URI", None)
        if url is None:
            url = databases.new_database()
            created.append(url)
        app = create_app(app_config(url, tmp_path, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        release(app)
    for url in created:
        databases.discard(url)


def release(app: Flask) -> None:
    """End the in-process jobs ``app`` started, then close its connections to the database
    (the jobs write to it)."""
    shutdown_threads(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def restore_app(app: Flask, databases: DatabaseFactory, template: str) -> None:
    """Put ``app`` back as a new app on a copy of ``template`` would be: its database a copy
    of it again, with no audit checkpoint and no job result yet (the jobs of its last test
    ended). For a module whose tests share one app on frozen data."""
    release(app)
    databases.restore(app.config["SQLALCHEMY_DATABASE_URI"], template)
    Path(app.config["AUDIT_CHECKPOINT_FILE"]).unlink(missing_ok=True)
    shutil.rmtree(app.config["EXPORT_DIR"], ignore_errors=True)


def shared_app(databases: DatabaseFactory, template: str, workdir: Path) -> Iterator[Flask]:
    """An app on a copy of ``template``, for a module whose tests share it (each test starts
    with ``restore_app``); released and its database removed after the module."""
    app = create_app(app_config(databases.new_database(template), workdir))
    yield app
    release(app)
    databases.discard(app.config["SQLALCHEMY_DATABASE_URI"])


#: An app's state kept by ``keep_state``: the database copy's name, and the file its audit
#: checkpoints were copied to.
KeptState = tuple[str, Path]


def keep_state(app: Flask, databases: DatabaseFactory) -> KeptState:
    """A copy of ``app``'s database and audit checkpoints as they are now, for ``put_back``
    (its jobs ended and its connections closed first)."""
    release(app)
    name = databases.snapshot(app.config["SQLALCHEMY_DATABASE_URI"])
    kept = databases.workdir / f"audit_checkpoints_{name}"
    checkpoints = Path(app.config["AUDIT_CHECKPOINT_FILE"])
    if checkpoints.exists():
        shutil.copyfile(checkpoints, kept)
    return name, kept


def put_back(app: Flask, databases: DatabaseFactory, state: KeptState) -> None:
    """Make ``app``'s database (its connections closed) and audit checkpoints those kept in
    ``state`` again."""
    name, kept = state
    databases.restore(app.config["SQLALCHEMY_DATABASE_URI"], name)
    copy_checkpoints(app, kept)


def copy_checkpoints(app: Flask, kept: Path) -> None:
    """Make ``app``'s audit checkpoints those kept in the file ``kept`` (none if missing)."""
    checkpoints = Path(app.config["AUDIT_CHECKPOINT_FILE"])
    checkpoints.unlink(missing_ok=True)
    if kept.exists():
        shutil.copyfile(kept, checkpoints)


def discard_state(databases: DatabaseFactory, state: KeptState) -> None:
    name, kept = state
    databases.discard(databases.url_for(name))
    kept.unlink(missing_ok=True)


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def in_app(app: Flask):
    """The app's context: the one already pushed (sharing its session), or a new one.

    Sharing matters on SQLite: a session that read before another session committed holds an
    older snapshot and could not write afterwards.
    """
    if has_app_context() and current_app._get_current_object() is app:
        return nullcontext()
    return app.app_context()


@pytest.fixture
def create_site(app):
    def create(code: str = "BDX", name: str | None = None) -> Site:
        with in_app(app):
            site = study_services.add_site(code, name or f"Hospital {code}", actor=None)
            db.session.commit()
            return db.session.get(Site, site.id)

    return create


@pytest.fixture
def create_user(app):
    """Create an account holding ``role`` at ``site`` (a code; None for all sites)."""

    def create(
        username: str, role: Role | None = None, site: str | None = None, password: str = PASSWORD
    ) -> User:
        with in_app(app):
            # The person chose this password: no forced change (tests of that set it).
            user = auth_services.create_user(
                username,
                username.title(),
                password,
                role=role,
                site=get_site(site) if site and role else None,
                actor=None,
                must_change_password=False,
            )
            db.session.commit()
            return user.id

    return create


@pytest.fixture
def create_subject(app):
    """Register a subject at ``site`` and save ``forms`` through the write path, then commit:
    ``{(visit OID, form OID): {(group OID, repeat key): {item OID: text}}}``, each saved as a
    draft from nothing (``complete=True`` marks them complete). Returns the identifier."""

    def create(
        site: str = "BDX",
        forms: dict[tuple[str, str], dict] | None = None,
        *,
        complete: bool = False,
        actor: User | None = None,
    ) -> str:
        with in_app(app):
            subject = subjects.register_subject(get_site(site), actor=actor)
            for (visit_oid, form_oid), rows in (forms or {}).items():
                save_form(
                    current_study(),
                    subject,
                    visit_oid,
                    form_oid,
                    rows,
                    actor=actor,
                    expected_version=0,
                    complete=complete,
                )
            db.session.commit()
            return subject.identifier

    return create


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = PASSWORD):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)
