"""Test databases: one migrated template, cloned per test."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from ecrf import create_app
from ecrf.config import normalise_database_url
from ecrf.extensions import db

#: Where SQLite test databases live when the machine has it: a RAM-backed folder, where a
#: commit's fsync costs nothing (on disk it is a millisecond or more, and tests commit often).
#: SQLite runs exactly as elsewhere (WAL, same pragmas); only the storage is faster.
MEMORY_FOLDER = Path("/dev/shm")


def database_folder(fallback: Path) -> Path:
    """A fresh folder for a run's SQLite files: in MEMORY_FOLDER when it is writable, else
    ``fallback`` (pytest's temporary folder)."""
    if MEMORY_FOLDER.is_dir() and os.access(MEMORY_FOLDER, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="ecrf-test-db-", dir=MEMORY_FOLDER))
    return fallback


class DatabaseFactory:
    def __init__(self, server_url: str | None, workdir: Path) -> None:
        self.server_url = normalise_database_url(server_url) if server_url else None
        self.workdir = workdir
        self.prefix = f"ecrf_test_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self._admin: sa.Engine | None = None

    @property
    def dialect(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    # --- PostgreSQL ---------------------------------------------------------------------
    def _admin_engine(self) -> sa.Engine:
        if self._admin is None:
            self._admin = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:  # fail loudly, never skip, when unreachable
                conn.execute(sa.text("SELECT 1"))
        return self._admin

    def _pg_url(self, name: str) -> str:
        return sa.make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    # --- both ---------------------------------------------------------------------------
    def url_for(self, name: str) -> str:
        if self.server_url:
            return self._pg_url(name)
        return f"sqlite:///{self.workdir / (name + '.sqlite')}"

    def create_empty(self) -> str:
        """An empty database (no tables), for tests of the migrations themselves."""
        name = f"{self.prefix}_{len(self.created)}"
        if self.server_url:
            with self._admin_engine().connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url_for(name)

    def prepare_template(self) -> None:
        self.template = f"{self.prefix}_template"
        if self.server_url:
            with self._admin_engine().connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{self.template}"'))
        self.created.append(self.template)
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "AUDIT_KEY": "x",
                "SQLALCHEMY_DATABASE_URI": self.url_for(self.template),
            }
        )
        with app.app_context():
            upgrade()
            db.session.remove()
            db.engine.dispose()
        if not self.server_url:
            path = self.workdir / f"{self.template}.sqlite"
            with sqlite3.connect(path) as conn:  # fold the WAL in so a file copy is complete
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("PRAGMA journal_mode=DELETE")

    def new_database(self, template: str | None = None) -> str:
        """A copy of ``template`` (a database made by this factory and frozen; default the
        migrated, empty one)."""
        template = template or self.template
        name = f"{self.prefix}_{len(self.created)}"
        if self.server_url:
            with self._admin_engine().connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        else:
            shutil.copyfile(self.workdir / f"{template}.sqlite", self.workdir / f"{name}.sqlite")
        self.created.append(name)
        return self.url_for(name)

    def snapshot(self, url: str) -> str:
        """A copy of the database at ``url`` (its connections closed by the caller) as it is
        now, for ``restore``; returns its name."""
        name = f"{self.prefix}_{len(self.created)}"
        if self.server_url:
            with self._admin_engine().connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.name_of(url)}"'))
        else:
            source = self.workdir / f"{self.name_of(url)}.sqlite"
            with contextlib.closing(sqlite3.connect(source)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL folded in: one file
            shutil.copyfile(source, self.workdir / f"{name}.sqlite")
        self.created.append(name)
        return name

    def restore(self, url: str, snapshot: str) -> None:
        """Make the database at ``url`` (its connections closed by the caller) a copy of the
        ``snapshot`` again."""
        name = self.name_of(url)
        if self.server_url:
            # A new copy takes the name; the old one is dropped with the others at the end:
            # DROP DATABASE waits for a checkpoint of the whole server (a second or more
            # while other databases are being written), CREATE and RENAME do not.
            fresh = f"{self.prefix}_{len(self.created)}"
            retired = f"{fresh}_retired"
            with self._admin_engine().connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{fresh}" TEMPLATE "{snapshot}"'))
                self.created.append(retired)
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                # RENAME waits (up to 5 s) for the ended sessions to be gone.
                conn.execute(sa.text(f'ALTER DATABASE "{name}" RENAME TO "{retired}"'))
                conn.execute(sa.text(f'ALTER DATABASE "{fresh}" RENAME TO "{name}"'))
        else:
            self.discard(url)
            shutil.copyfile(self.workdir / f"{snapshot}.sqlite", self.workdir / f"{name}.sqlite")

    @staticmethod
    def name_of(url: str) -> str:
        return url.rsplit("/", 1)[-1].removesuffix(".sqlite")

    def freeze(self, url: str) -> str:
        """Make the database at ``url`` a template for ``new_database`` (its connections
        closed by the caller); returns its name."""
        name = self.name_of(url)
        if not self.server_url:
            with sqlite3.connect(self.workdir / f"{name}.sqlite") as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("PRAGMA journal_mode=DELETE")
        return name

    def discard(self, url: str) -> None:
        """Remove a test's SQLite database once its connections are closed (a run makes
        thousands; kept in memory, they would add up). PostgreSQL's go in ``drop_all``."""
        if self.server_url:
            return
        path = self.workdir / f"{self.name_of(url)}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def drop_all(self) -> None:
        if self.workdir.parent == MEMORY_FOLDER:  # made for this run (checkpoint files too)
            shutil.rmtree(self.workdir, ignore_errors=True)
        if not self.server_url:
            return
        with self._admin_engine().connect() as conn:
            for name in reversed(self.created):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()
