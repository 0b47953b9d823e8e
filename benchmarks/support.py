"""What every benchmark needs: an app on a throwaway database, SQLite or on a server."""

from __future__ import annotations

import shutil
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


def kept_copy(
    server: str | None, keep: Path, size: int, seed: int, url: str, workdir: Path
) -> bool:
    """Fill the new database at ``url`` from the one kept in ``keep`` for this size and seed
    (a file there on SQLite, a database ``ecrf_bench_keep_<size>_<seed>`` on ``server``);
    False when none is kept yet."""
    name = f"ecrf_bench_keep_{size}_{seed}"
    if not server:
        kept = keep / f"{name}.sqlite"
        if not kept.exists():
            return False
        shutil.copyfile(kept, sa.make_url(url).database)
        shutil.copyfile(keep / f"{name}.checkpoints", workdir / "audit_checkpoints")
        return True
    admin = sa.create_engine(normalise_database_url(server), isolation_level="AUTOCOMMIT")
    target = sa.make_url(url).database
    try:
        with admin.connect() as conn:
            if not conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ):
                return False
            conn.execute(sa.text(f'DROP DATABASE "{target}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{target}" TEMPLATE "{name}"'))
        shutil.copyfile(keep / f"{name}.checkpoints", workdir / "audit_checkpoints")
        return True
    finally:
        admin.dispose()


def keep_copy(
    server: str | None, keep: Path, size: int, seed: int, url: str, workdir: Path
) -> None:
    """Keep the freshly seeded database at ``url`` (its connections closed) for later runs."""
    name = f"ecrf_bench_keep_{size}_{seed}"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workdir / "audit_checkpoints", keep / f"{name}.checkpoints")
    if not server:
        shutil.copyfile(sa.make_url(url).database, keep / f"{name}.sqlite")
        return
    admin = sa.create_engine(normalise_database_url(server), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(
                sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{sa.make_url(url).database}"')
            )
    finally:
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
