"""`python -m benchmarks`: the eCRF's speed at 100, 1,000 and 10,000 subjects, each figure
beside its floor measured in the same run and the goal of issue #13.

For each size, a new database (SQLite, or one created on ``--postgres``) is filled by
``benchmarks.bulk`` (24 patients through the write path, the rest copied with their audit
events), then the sections run against it: form saves through HTTP (at the first size),
the pages that grow with the trial, the CSV and ODM extracts and `ecrf audit verify` (up
to 1,000 subjects), one casebook PDF (at the first size); `ecrf demo` from nothing to its
first page once at the end. Prints one Markdown table. A benchmark prints figures; it
asserts nothing (the verdicts say where each figure stands against its goal).

    python -m benchmarks                        # 100, 1,000 and 10,000 subjects, SQLite
    python -m benchmarks --quick                # 100 and 1,000: a few minutes
    python -m benchmarks --only saves pages --sizes 1000
    python -m benchmarks --quick --postgres postgresql://postgres@127.0.0.1/postgres
    python -m benchmarks --only pages --sizes 10000 --keep ~/ecrf-bench   # seed once
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import pages, saves
from benchmarks.bulk import bulk_subjects
from benchmarks.support import bench_app, bench_database, keep_copy, kept_copy
from benchmarks.table import Row, Table, ratio
from benchmarks.web import Counter, set_passwords
from ecrf.demo import DEMO_USERS

SECTIONS = ("saves", "pages", "exports", "casebook", "verify", "demo")
#: Sizes up to which the heavier read-everything sections run (the issue's 1,000).
WHOLE_TRIAL_UP_TO = 1000


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_size(size: int, args: argparse.Namespace, table: Table, first: bool) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="ecrf-bench-") as tmp,
        bench_database(args.postgres, Path(tmp)) as url,
    ):
        workdir = Path(tmp)
        app = bench_app(url, workdir, WTF_CSRF_ENABLED=False)
        saves.register_floor(app)
        pages.register_floor(app)
        started = time.perf_counter()
        if args.keep:
            dispose(app)  # the floors' table is made: let the kept copy replace the file
        if args.keep and kept_copy(args.postgres, args.keep, size, args.seed, url, workdir):
            note(f"N={size}: the kept database of {args.keep}")
        else:
            bulk_subjects(app, size, seed=args.seed)
            note(f"N={size}: {size} subjects in {time.perf_counter() - started:.0f} s")
            if args.keep:
                dispose(app)
                keep_copy(args.postgres, args.keep, size, args.seed, url, workdir)
        set_passwords(app, [username for username, *_ in DEMO_USERS])
        counter = Counter(app)
        wanted = set(args.only)
        if "saves" in wanted and first:
            note(f"N={size}: saves")
            measured, floor = saves.measure_saves(app, counter, args.runs)
            table.saves(size, measured, floor)
        if "pages" in wanted:
            note(f"N={size}: pages")
            measured, floor = pages.measure_pages(app, counter, max(3, args.runs // 2))
            table.pages(size, measured, floor)
        if "exports" in wanted and size <= WHOLE_TRIAL_UP_TO:
            note(f"N={size}: exports")
            from benchmarks.extracts import measure

            floor = measure("floor", False, url, workdir)
            for mode in ("csv", "odm"):
                table.export(size, mode, measure(mode, False, url, workdir), floor)
        if "casebook" in wanted and first:
            note(f"N={size}: casebook")
            from benchmarks.casebooks import casebook_figures

            with app.app_context():
                table.casebook(size, casebook_figures(1 if args.quick else 3))
        if "verify" in wanted and size <= WHOLE_TRIAL_UP_TO:
            note(f"N={size}: audit verify")
            from benchmarks.audit_verify import verify_figures

            with app.app_context():
                table.verify(size, verify_figures())
        dispose(app)


def dispose(app) -> None:
    from ecrf.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[100, 1000, 10000])
    parser.add_argument(
        "--quick", action="store_true", help="100 and 1,000 subjects only; one casebook run"
    )
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--runs", type=int, default=20, help="saves per form (pages: half)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep",
        metavar="DIR",
        type=Path,
        help="keep each size's seeded database in DIR and start from it in later runs "
        "(seeding 10,000 subjects takes about 15 min)",
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes = [size for size in args.sizes if size <= WHOLE_TRIAL_UP_TO] or [100, 1000]
    logging.getLogger("alembic").setLevel(logging.WARNING)
    table = Table()
    started = time.perf_counter()
    per_size = set(args.only) - {"demo"}
    for n, size in enumerate(sorted(args.sizes) if per_size else []):
        run_size(size, args, table, first=n == 0)
    if "demo" in args.only:
        note("ecrf demo")
        from benchmarks.startup import demo_start

        with tempfile.TemporaryDirectory(prefix="ecrf-bench-demo-") as tmp:
            demo, floor = demo_start(Path(tmp))
        table.rows.append(
            Row(
                "`ecrf demo` to its first page",
                "—",
                f"{demo:.1f} s",
                f"{floor:.1f} s (`ecrf run`, empty DB, sign-in page)",
                ratio(demo, floor),
                "≤ 10 s",
                "met" if demo <= 10 else "missed",
            )
        )
    print(table.markdown())
    database = "PostgreSQL" if args.postgres else "SQLite"
    sizes = ", ".join(map(str, sorted(args.sizes))) if per_size else "none (demo only)"
    print(f"\n{database}; sizes {sizes}; {time.perf_counter() - started:.0f} s in all.")


if __name__ == "__main__":
    main()
