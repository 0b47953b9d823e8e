"""Time and peak memory of the CSV bundle as the trial grows, beside a floor.

Seeds synthetic patients through the one write path (the demo's generator), keeps the
most documented as templates (patients who went through the whole schedule: about a
thousand values each), then clones them by bulk INSERT … SELECT (new
subject identifiers, the same visits, forms, rows and values) up to each size: the extract
only reads, so clones cost it what real patients would. For each size it runs, each in a
fresh subprocess: the bundle (``write_csv_bundle``, everything: per-form files, long file,
dictionary, hashes, zip, audit event), and the floor (the same rows read with one plain SQL
query, streamed, written with the csv module, nothing else). Each is run twice: once for
wall time and the peak resident memory during the run (VmHWM, reset before it; beside the
resident memory before it), once under tracemalloc for the run's peak Python heap. The
point is the memory: it must stay flat from 100 to 1,000 subjects. A benchmark prints
figures; it asserts nothing.

    .venv/bin/python benchmarks/export_csv.py                     # 100 and 1000 on SQLite
    .venv/bin/python benchmarks/export_csv.py 100 1000 --seeded 40 --templates 8 --seed 3
    .venv/bin/python benchmarks/export_csv.py 100 1000 --server postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from ecrf import create_app
from ecrf.config import normalise_database_url
from ecrf.crf.models import Finding, FormEntry, ItemGroupRow, ItemValue
from ecrf.demo import DEMO_SITES, demo_actor, demo_decider, seed_demo
from ecrf.demo_data import seed_subjects
from ecrf.extensions import db
from ecrf.study.models import Subject, Visit

#: The floor's query: the extract's rows (non-removed, with their keys), in the same order.
FLOOR_SQL = """
SELECT s.code, su.identifier, v.visit_oid, v.repeat_key, v.visit_date, fe.form_oid,
       fe.status, dv.version, r.group_oid, r.repeat_key, iv.item_oid, iv.value_text,
       iv.missing_code, iv.derived
FROM site s
JOIN subject su ON su.site_id = s.id
JOIN visit v ON v.subject_id = su.id
JOIN form_entry fe ON fe.visit_id = v.id
JOIN definition_version dv ON dv.id = fe.definition_version_id
JOIN item_group_row r ON r.entry_id = fe.id
JOIN item_value iv ON iv.row_id = r.id
WHERE r.removed = :no
ORDER BY s.code, su.number, v.id, fe.form_oid, r.group_oid, r.repeat_key, iv.id
"""


def make_app(url: str, workdir: Path):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark",
            "AUDIT_KEY": "benchmark audit key",
            "AUDIT_CHECKPOINT_FILE": str(workdir / "audit_checkpoints"),
            "PASSWORD_HASH_PROFILE": "cheapest",
        }
    )


# --- the database: seeded templates, cloned ----------------------------------------------


#: The captured data's tables, parents first, with the column pointing at the parent.
CHAIN = (
    (Subject.__table__, None),
    (Visit.__table__, "subject_id"),
    (FormEntry.__table__, "visit_id"),
    (ItemGroupRow.__table__, "entry_id"),
    (ItemValue.__table__, "row_id"),
)


def template_ids() -> dict[str, int]:
    """Each table's highest id once the templates are seeded: the templates' rows are those
    at or below it, and copy k of a row has its id (and its parent's) shifted by k × it."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0 for table, _ in CHAIN
    }


def clone(copy: int, highest: dict[str, int]) -> None:
    """One copy of the template subjects and all their captured data."""
    conn = db.session.connection()
    parents = {"visit": "subject", "form_entry": "visit", "item_group_row": "form_entry"}
    parents["item_value"] = "item_group_row"
    for table, fk in CHAIN:
        exprs = []
        for column in table.c:
            if column.name == "id":
                exprs.append(column + copy * highest[table.name])
            elif column.name == fk:
                exprs.append(column + copy * highest[parents[table.name]])
            elif table.name == "subject" and column.name == "number":
                exprs.append(column + copy * 1000)
            elif table.name == "subject" and column.name == "identifier":
                # BDX-001 → BDX-1001 for the first copy: new, unique, still SITE-NNN shaped.
                number = sa.cast(table.c.number + copy * 1000, sa.String)
                exprs.append(sa.func.substr(column, 1, 4) + number)
            else:
                exprs.append(column)
        select = sa.select(*exprs).where(table.c.id <= highest[table.name])
        conn.execute(sa.insert(table).from_select([c.name for c in table.c], select))


def keep_richest(count: int) -> list[int]:
    """Keep the ``count`` subjects with the most values; drop the others' captured data
    (a throwaway benchmark database: the extract then reads only templates and clones)."""
    per_subject = (
        sa.select(Visit.subject_id, sa.func.count(ItemValue.id).label("values"))
        .join(FormEntry, FormEntry.visit_id == Visit.id)
        .join(ItemGroupRow, ItemGroupRow.entry_id == FormEntry.id)
        .join(ItemValue, ItemValue.row_id == ItemGroupRow.id)
        .group_by(Visit.subject_id)
        .order_by(sa.desc("values"), Visit.subject_id)
        .limit(count)
    )
    kept = sorted(row.subject_id for row in db.session.execute(per_subject))
    conn = db.session.connection()
    visits = sa.select(Visit.id).where(Visit.subject_id.not_in(kept))
    entries = sa.select(FormEntry.id).where(FormEntry.visit_id.in_(visits))
    rows = sa.select(ItemGroupRow.id).where(ItemGroupRow.entry_id.in_(entries))
    conn.execute(sa.delete(Finding).where(Finding.subject_id.not_in(kept)))
    conn.execute(sa.delete(ItemValue).where(ItemValue.row_id.in_(rows)))
    conn.execute(sa.delete(ItemGroupRow).where(ItemGroupRow.entry_id.in_(entries)))
    conn.execute(sa.delete(FormEntry).where(FormEntry.visit_id.in_(visits)))
    conn.execute(sa.delete(Visit).where(Visit.subject_id.not_in(kept)))
    conn.execute(sa.delete(Subject).where(Subject.id.not_in(kept)))
    db.session.commit()
    return kept


def grow(copies: int, highest: dict[str, int], templates: int, target: int) -> int:
    """Clone the templates until there are ``target`` subjects; the copies made so far."""
    while templates * (copies + 1) < target:
        copies += 1
        clone(copies, highest)
    db.session.commit()
    return copies


# --- the measured runs, each in a subprocess of its own -----------------------------------


def status_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def reset_peak_rss() -> None:
    """Start the peak resident memory (VmHWM) again from the current size (Linux), so the
    peak measured is the run's, not the start-up's (imports, the study definition)."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def run_bundle(out: Path) -> int:
    from ecrf.exports.csv_bundle import write_csv_bundle
    from ecrf.exports.manifest import read_manifest

    path = write_csv_bundle(out, site_ids=None, actor=None)
    return next(f["rows"] for f in read_manifest(path)["files"] if f["name"] == "long.csv")


def run_floor(out: Path) -> int:
    rows = 0
    with (
        db.engine.connect() as conn,
        (out / "floor.csv").open("w", newline="", encoding="utf-8") as handle,
    ):
        writer = csv.writer(handle)
        result = conn.execution_options(stream_results=True, yield_per=2000).execute(
            sa.text(FLOOR_SQL), {"no": False}
        )
        for record in result:
            writer.writerow(record)
            rows += 1
    return rows


def child(mode: str, traced: bool, url: str, workdir: Path) -> None:
    app = make_app(url, workdir)
    with app.app_context(), tempfile.TemporaryDirectory(dir=workdir) as out:
        db.session.execute(sa.select(1))  # connect before measuring
        action = run_bundle if mode == "bundle" else run_floor
        reset_peak_rss()
        before = status_kib("VmRSS")
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        values = action(Path(out))
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        maxrss = status_kib("VmHWM")
        print(
            json.dumps(
                {
                    "seconds": seconds,
                    "values": values,
                    "before": before,
                    "maxrss": maxrss,
                    "heap": peak,
                }
            )
        )


def measure(mode: str, traced: bool, url: str, workdir: Path) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--url", url, "--workdir", str(workdir)]
    if traced:
        command.append("--traced")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def report(size: int, url: str, workdir: Path) -> None:
    mib = 2**20
    for mode in ("floor", "bundle"):
        plain = measure(mode, False, url, workdir)
        traced = measure(mode, True, url, workdir)
        print(
            f"N={size:<5} {mode:6s} {plain['values']:9d} values | {plain['seconds']:7.2f} s "
            f"({1e6 * plain['seconds'] / max(plain['values'], 1):5.2f} µs/value) | "
            f"RSS {plain['before'] / mib:6.1f} → peak {plain['maxrss'] / mib:6.1f} MiB | "
            f"Python heap peak {traced['heap'] / mib:6.2f} MiB",
            flush=True,
        )


def run(sizes: list[int], seeded: int, templates: int, seed: int, url: str, workdir: Path) -> None:
    app = make_app(url, workdir)
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        started = time.perf_counter()
        seed_subjects(
            seeded,
            seed,
            [code for code, _ in DEMO_SITES],
            actor_for=demo_actor,
            decider_for=demo_decider,
        )
        chosen = keep_richest(templates)
        values = db.session.scalar(sa.select(sa.func.count()).select_from(ItemValue))
        print(
            f"        seeded {seeded} subjects through the write path in "
            f"{time.perf_counter() - started:.0f} s; cloning the {len(chosen)} most documented "
            f"({values / len(chosen):.0f} values each on average)",
            flush=True,
        )
        highest = template_ids()
        copies = 0
        for size in sorted(sizes):
            started = time.perf_counter()
            copies = grow(copies, highest, len(chosen), size)
            total = db.session.scalar(sa.select(sa.func.count()).select_from(Subject))
            print(
                f"        cloned up to {total} subjects in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            db.session.remove()
            report(total, url, workdir)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--seeded", type=int, default=20, help="patients through the write path")
    parser.add_argument("--templates", type=int, default=4, help="the most documented, cloned")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", help="a PostgreSQL server URL (default: SQLite files)")
    parser.add_argument("--child", choices=("bundle", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.child:
        child(args.child, args.traced, args.url, args.workdir)
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.server:
            server = sa.create_engine(
                normalise_database_url(args.server), isolation_level="AUTOCOMMIT"
            )
            name = f"ecrf_bench_{uuid.uuid4().hex[:8]}"
            with server.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                url = sa.make_url(normalise_database_url(args.server)).set(database=name)
                url_text = url.render_as_string(hide_password=False)
                run(args.sizes, args.seeded, args.templates, args.seed, url_text, workdir)
            finally:
                with server.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                server.dispose()
        else:
            url = f"sqlite:///{workdir / 'bench.sqlite'}"
            run(args.sizes, args.seeded, args.templates, args.seed, url, workdir)


if __name__ == "__main__":
    main()
