"""Time and peak memory of every extract as the trial grows, beside a floor; and the CSV
bundle on a real RQ worker while the site's pages are timed.

Seeds synthetic patients through the one write path (the demo's generator), keeps the
most documented as templates (patients who went through the whole schedule: about a
thousand values each), then clones them by bulk INSERT … SELECT (new
subject identifiers, the same visits, forms, rows and values) up to each size: the extracts
only read, so clones cost them what real patients would. For each size it runs, each in a
fresh subprocess: the floor (the extract's rows read with one plain SQL query, streamed,
written with the csv module, nothing else), then each extract asked for (``csv``: the whole
bundle: per-form files, long file, dictionary, hashes, zip, audit event; ``odm``: CDISC ODM
1.3.2 with audit records; ``sdtm``: the datasets as CSV, XPT and Dataset-JSON with
define.xml). Each is run twice: once for wall time and the peak resident memory during the
run (VmHWM, reset before it; beside the resident memory before it), once under tracemalloc
for the run's peak Python heap. The point is the memory: it must stay flat from 100 to
1,000 subjects.

With ``--redis URL``, at the largest size the CSV bundle is then started as a job (as the
web page does) and run by a real ``ecrf worker --burst`` process, while this process
serves the subject list to a signed-in data manager again and again: it prints the page's
median and slowest time before and during the export, and the worker's peak memory. A
benchmark prints figures; it asserts nothing.

    .venv/bin/python benchmarks/extracts.py               # 100 and 1000, every extract, SQLite
    .venv/bin/python benchmarks/extracts.py 100 1000 --extracts csv odm
    .venv/bin/python benchmarks/extracts.py 1000 --redis redis://127.0.0.1:6379/14
    .venv/bin/python benchmarks/extracts.py 100 1000 --server postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from benchmarks.support import bench_app, bench_database, reset_peak_rss, status_kib
from ecrf.demo import seed_demo
from ecrf.demo_data import seed_subjects
from ecrf.demo_seeding import DEMO_SITES, demo_actor, demo_decider
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Finding, FormEntry, ItemGroupRow, ItemValue, Subject, SubjectVisit

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


# --- the database: seeded templates, cloned ----------------------------------------------


#: The captured data's tables, parents first, with the column pointing at the parent.
CHAIN = (
    (Subject.__table__, None),
    (SubjectVisit.__table__, "subject_id"),
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
        sa.select(SubjectVisit.subject_id, sa.func.count(ItemValue.id).label("values"))
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .join(ItemGroupRow, ItemGroupRow.entry_id == FormEntry.id)
        .join(ItemValue, ItemValue.row_id == ItemGroupRow.id)
        .group_by(SubjectVisit.subject_id)
        .order_by(sa.desc("values"), SubjectVisit.subject_id)
        .limit(count)
    )
    kept = sorted(row.subject_id for row in db.session.execute(per_subject))
    conn = db.session.connection()
    visits = sa.select(SubjectVisit.id).where(SubjectVisit.subject_id.not_in(kept))
    entries = sa.select(FormEntry.id).where(FormEntry.visit_id.in_(visits))
    rows = sa.select(ItemGroupRow.id).where(ItemGroupRow.entry_id.in_(entries))
    conn.execute(sa.delete(Finding).where(Finding.subject_id.not_in(kept)))
    conn.execute(sa.delete(ItemValue).where(ItemValue.row_id.in_(rows)))
    conn.execute(sa.delete(ItemGroupRow).where(ItemGroupRow.entry_id.in_(entries)))
    conn.execute(sa.delete(FormEntry).where(FormEntry.visit_id.in_(visits)))
    conn.execute(sa.delete(SubjectVisit).where(SubjectVisit.subject_id.not_in(kept)))
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


def run_bundle(out: Path) -> int:
    from ecrf.exports.csv_bundle import write_csv_bundle
    from ecrf.exports.manifest import read_manifest

    path = write_csv_bundle(current_study(), out, site_ids=None, actor=None)
    return next(f["rows"] for f in read_manifest(path)["files"] if f["name"] == "long.csv")


def run_odm(out: Path) -> int:
    from ecrf.exports.odm.writer import write_odm

    return write_odm(current_study(), out / "study.xml", site_ids=None, actor=None).stat().st_size


def run_sdtm(out: Path) -> int:
    from ecrf.exports.sdtm.service import write_sdtm

    return write_sdtm(current_study(), out / "sdtm", site_ids=None, actor=None).stat().st_size


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
    app = bench_app(url, workdir)
    with app.app_context(), tempfile.TemporaryDirectory(dir=workdir) as out:
        db.session.execute(sa.select(1))  # connect before measuring
        action = ACTIONS[mode]
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


#: What each mode runs, and what its count is.
ACTIONS = {"floor": run_floor, "csv": run_bundle, "odm": run_odm, "sdtm": run_sdtm}
COUNTED = {"floor": "values", "csv": "values", "odm": "bytes", "sdtm": "bytes (zip)"}


def measure(mode: str, traced: bool, url: str, workdir: Path) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--url", url, "--workdir", str(workdir)]
    if traced:
        command.append("--traced")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def report(size: int, url: str, workdir: Path, extracts: list[str]) -> None:
    mib = 2**20
    values = 0
    for mode in ("floor", *extracts):
        plain = measure(mode, False, url, workdir)
        traced = measure(mode, True, url, workdir)
        if mode == "floor":
            values = plain["values"]
        print(
            f"N={size:<5} {mode:5s} {plain['values']:10d} {COUNTED[mode]:11s} | "
            f"{plain['seconds']:7.2f} s "
            f"({1e6 * plain['seconds'] / max(values, 1):5.2f} µs/value) | "
            f"RSS {plain['before'] / mib:6.1f} → peak {plain['maxrss'] / mib:6.1f} MiB | "
            f"Python heap peak {traced['heap'] / mib:6.2f} MiB",
            flush=True,
        )


# --- the CSV bundle on a real RQ worker while pages are served ------------------------------


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and its children (the worker and its work horse)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as handle:
            total = next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            children = [int(child) for child in handle.read().split()]
    except (FileNotFoundError, ProcessLookupError, StopIteration):
        return total * 1024
    return total * 1024 + sum(_tree_rss(child) for child in children)


def _timings(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    return (
        f"median {1000 * ordered[len(ordered) // 2]:6.1f} ms, slowest "
        f"{1000 * ordered[-1]:6.1f} ms over {len(ordered)} pages"
    )


def on_worker(url: str, workdir: Path, redis_url: str, password: str, size: int) -> None:
    from redis import Redis

    from ecrf.auth import services as auth_services
    from ecrf.jobs import services as jobs_services
    from ecrf.jobs.backends import submit
    from ecrf.jobs.models import Job, JobState

    export_dir = workdir / "exports"
    app = bench_app(url, workdir, REDIS_URL=redis_url, EXPORT_DIR=str(export_dir))
    app.config["WTF_CSRF_ENABLED"] = False
    Redis.from_url(redis_url).flushdb()
    client = app.test_client()
    client.post("/login", data={"username": "datamanager", "password": password})

    def page() -> float:
        started = time.perf_counter()
        response = client.get("/subjects")
        assert response.status_code == 200, response.status_code
        return time.perf_counter() - started

    idle = [page() for _ in range(20)]
    with app.app_context():
        actor = auth_services.get_user("datamanager")
        job_id = jobs_services.start_job("csv", None, actor=actor).id
        db.session.commit()
        submit(job_id)
    env = os.environ | {
        "ECRF_DATABASE_URL": url,
        "ECRF_REDIS_URL": redis_url,
        "ECRF_EXPORT_DIR": str(export_dir),
        "ECRF_SECRET_KEY": "benchmark",
        "ECRF_AUDIT_KEY": "benchmark audit key",
        "ECRF_AUDIT_CHECKPOINT_FILE": str(workdir / "audit_checkpoints"),
        "ECRF_INSTANCE_PATH": str(workdir),
    }
    ecrf = Path(sys.executable).parent / "ecrf"
    started = time.perf_counter()
    worker = subprocess.Popen(
        [str(ecrf), "worker", "--burst"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    busy: list[float] = []
    peak = 0
    while worker.poll() is None:
        busy.append(page())
        peak = max(peak, _tree_rss(worker.pid))
    seconds = time.perf_counter() - started
    with app.app_context():
        job = db.session.get(Job, job_id)
        state, done = job.state, f"{job.progress_done} of {job.progress_total} rows"
        db.session.remove()
        db.engine.dispose()
    Redis.from_url(redis_url).flushdb()
    if state is not JobState.DONE:
        print(f"N={size:<5} worker: the job ended {state}: {worker.stderr.read().decode()[-2000:]}")
        return
    mib = 2**20
    print(
        f"N={size:<5} worker: CSV bundle on `ecrf worker --burst` {seconds:7.2f} s ({done}), "
        f"worker + work horse peak RSS {peak / mib:6.1f} MiB",
        flush=True,
    )
    print(f"N={size:<5} pages : /subjects idle    {_timings(idle)}", flush=True)
    print(f"N={size:<5} pages : /subjects export  {_timings(busy or [page()])}", flush=True)


def run(
    sizes: list[int],
    seeded: int,
    templates: int,
    seed: int,
    url: str,
    workdir: Path,
    extracts: list[str],
    redis_url: str | None,
) -> None:
    app = bench_app(url, workdir)
    with app.app_context():
        upgrade()
        passwords = {account.username: account.password for account in seed_demo()}
        db.session.commit()
        started = time.perf_counter()
        seed_subjects(
            current_study(),
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
            report(total, url, workdir, extracts)
        db.session.remove()
        db.engine.dispose()
    if redis_url:
        on_worker(url, workdir, redis_url, passwords["datamanager"], total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--seeded", type=int, default=20, help="patients through the write path")
    parser.add_argument("--templates", type=int, default=4, help="the most documented, cloned")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", help="a PostgreSQL server URL (default: SQLite files)")
    parser.add_argument(
        "--extracts",
        nargs="+",
        choices=("csv", "odm", "sdtm"),
        default=["csv", "odm", "sdtm"],
        help="the extracts measured beside the floor",
    )
    parser.add_argument("--redis", help="a Redis URL: also run the CSV bundle on a real worker")
    parser.add_argument("--child", choices=tuple(ACTIONS), help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.child:
        child(args.child, args.traced, args.url, args.workdir)
        return
    with tempfile.TemporaryDirectory() as tmp, bench_database(args.server, Path(tmp)) as url:
        run(
            args.sizes,
            args.seeded,
            args.templates,
            args.seed,
            url,
            Path(tmp),
            args.extracts,
            args.redis,
        )


if __name__ == "__main__":
    main()
