"""How long `ecrf demo --subjects N` takes to seed, and what it writes.

Each size runs on a fresh, migrated database with the demo's sites and accounts, through
the same function the command calls (every value through the one write path). Prints one
line per size: wall and CPU seconds, milliseconds per subject, audit events, form saves
per second, peak memory of the process so far. A benchmark prints figures; it asserts
nothing.

    .venv/bin/python benchmarks/demo_seed.py                 # 20, 100, 1000 on SQLite
    .venv/bin/python benchmarks/demo_seed.py 20 100 --seed 3
    .venv/bin/python benchmarks/demo_seed.py 100 --server postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from ecrf import create_app
from ecrf.audit.models import AuditEvent
from ecrf.config import normalise_database_url
from ecrf.demo import seed_demo
from ecrf.demo_seeding import seed_demo_subjects_now
from ecrf.extensions import db
from ecrf.records.models import FormEntry, ItemValue


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def run(size: int, seed: int, url: str) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark",
            "PASSWORD_HASH_PROFILE": "cheapest",
        }
    )
    with app.app_context():
        upgrade()
        accounts = seed_demo()
        db.session.commit()
        signers = [(a.username, a.password) for a in accounts]
        events_before = count(AuditEvent)
        wall, cpu = time.perf_counter(), time.process_time()
        summary = seed_demo_subjects_now(size, seed, signers)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        events = count(AuditEvent) - events_before
        entries, values = count(FormEntry), count(ItemValue)
        saves = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "form_saved")
        )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"N={size:<5} {wall:8.1f} s wall {cpu:8.1f} s CPU {1000 * wall / size:7.0f} ms/subject"
            f"  {saves / wall:6.1f} saves/s  {events:8d} events {entries:6d} forms"
            f" {values:8d} values  peak RSS {peak_mb:5.0f} MB"
        )
        print("        " + summary.replace("\n", "\n        "))
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[20, 100, 1000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server",
        help="a PostgreSQL server URL: each size gets a new database on it (default: SQLite)",
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # alembic's migration chatter
    workdir = Path(tempfile.mkdtemp(prefix="ecrf-bench-"))
    admin = None
    if args.server:
        admin = sa.create_engine(normalise_database_url(args.server), isolation_level="AUTOCOMMIT")
    print(f"database: {'PostgreSQL' if admin else 'SQLite'}; seed {args.seed}")
    for size in args.sizes:
        if admin is None:
            run(
                size,
                args.seed,
                f"sqlite:///{workdir / f'demo-{size}-{uuid.uuid4().hex[:6]}.sqlite'}",
            )
            continue
        name = f"ecrf_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            run(size, args.seed, sa.make_url(admin.url).set(database=name).render_as_string(False))
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
