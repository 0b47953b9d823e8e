"""What every benchmark needs: an app on a throwaway database, SQLite or on a server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from ecrf import create_app
from ecrf.config import normalise_database_url


def bench_app(url: str, workdir: Path, **config) -> Flask:
    """An app on ``url`` with throwaway keys, its audit checkpoints under ``workdir``."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark",
            "AUDIT_KEY": "benchmark audit key",
            "AUDIT_CHECKPOINT_FILE": str(workdir / "audit_checkpoints"),
            "PASSWORD_HASH_PROFILE": "cheapest",
            **config,
        }
    )


@contextmanager
def bench_database(server: str | None, workdir: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in ``workdir``, or (``server``, a
    PostgreSQL URL) a database created on that server and dropped afterwards."""
    if not server:
        yield f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.sqlite'}"
        return
    admin = sa.create_engine(normalise_database_url(server), isolation_level="AUTOCOMMIT")
    name = f"ecrf_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in bytes."""
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def reset_peak_rss() -> None:
    """Start the peak resident memory (VmHWM) again from the current size (Linux), so the
    peak measured is the run's, not the start-up's (imports, the study definition)."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
