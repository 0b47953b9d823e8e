"""How long `ecrf audit verify` takes, and how much memory it needs, as the trial grows.

Seeds synthetic patients through the one write path (the demo's generator, as `ecrf demo
--subjects N` does) in steps up to each size, then times, on the same database: the floor
(a plain count, and a full streamed scan of audit_event that checks nothing), the chain
walk alone (keyed hashes, links, order, times, checkpoints), and the whole verification
(with the data reconciled both ways); then the whole verification's peak Python memory
(tracemalloc, in a second run, since tracing slows it). A benchmark prints figures; it
asserts nothing.

    .venv/bin/python benchmarks/audit_verify.py                   # 100, 250, 500, 1000 on SQLite
    .venv/bin/python benchmarks/audit_verify.py 50 200
    .venv/bin/python benchmarks/audit_verify.py 1000 --server postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from benchmarks.support import bench_app, bench_database
from ecrf.audit.chain import EVENT_COLUMNS, Problems, walk_chain
from ecrf.audit.checkpoints import write_checkpoint
from ecrf.audit.models import AuditEvent
from ecrf.demo import seed_demo
from ecrf.demo_data import count_subjects, seed_subjects
from ecrf.demo_seeding import DEMO_SITES, demo_actor, demo_decider
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.loader import current_study


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def full_scan() -> int:
    rows = 0
    query = sa.select(*EVENT_COLUMNS).order_by(AuditEvent.seq).execution_options(yield_per=5000)
    for _ in db.session.execute(query):
        rows += 1
    return rows


@dataclass(frozen=True)
class VerifyFigures:
    events: int
    count_s: float
    scan_s: float
    chain_s: float
    verify_s: float
    intact: bool
    problems: int


def verify_figures() -> VerifyFigures:
    """`ecrf audit verify`'s service, the chain walk alone and the floors, timed once each."""
    count_s, events = timed(
        lambda: db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    )
    scan_s, _ = timed(full_scan)
    chain_s, _ = timed(lambda: walk_chain(Problems()))
    verify_s, result = timed(verify_trail)
    return VerifyFigures(
        events, count_s, scan_s, chain_s, verify_s, result.intact, result.problems.total
    )


def measure(subjects: int) -> None:
    f = verify_figures()
    count_s, scan_s, chain_s, verify_s, events = (
        f.count_s,
        f.scan_s,
        f.chain_s,
        f.verify_s,
        f.events,
    )
    tracemalloc.start()
    verify_trail()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    verdict = "intact" if f.intact else f"{f.problems} PROBLEMS"
    print(
        f"N={subjects:<5} {events:8d} events | floor: count {count_s:6.2f} s, full scan "
        f"{scan_s:6.2f} s | chain {chain_s:6.2f} s | verify {verify_s:6.2f} s "
        f"({1e6 * verify_s / events:5.1f} µs/event), peak {peak / 2**20:6.1f} MiB | {verdict}",
        flush=True,
    )


def run(sizes: list[int], seed: int, url: str, workdir: Path) -> None:
    app = bench_app(url, workdir)
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        sites = [code for code, _ in DEMO_SITES]
        for step, size in enumerate(sorted(sizes)):
            missing = size - count_subjects()
            if missing > 0:
                started = time.perf_counter()
                seed_subjects(
                    current_study(),
                    missing,
                    seed + step,
                    sites,
                    actor_for=demo_actor,
                    decider_for=demo_decider,
                )
                print(
                    f"        seeded {missing} subjects in {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
            write_checkpoint()
            measure(size)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 250, 500, 1000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", help="a PostgreSQL server URL (default: SQLite files)")
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, bench_database(args.server, Path(tmp)) as url:
        run(args.sizes, args.seed, url, Path(tmp))


if __name__ == "__main__":
    main()
