"""The load test, end to end on loopback: PostgreSQL, Redis, gunicorn, RQ workers, locust.

Creates a database on the PostgreSQL server, seeds it with `ecrf demo --no-serve` (the
demo's sites, accounts and a few patients, through the same ECRF_* variables as
production), starts one gunicorn (or two, on two ports, with the same secret and audit
keys: two app hosts) and as many `ecrf worker` processes on Redis, runs locust headless
(benchmarks/load/locustfile.py: site staff, monitors, one exporter per server) for the
given time, then checks what the load left: no failed request, no duplicate subject
identifier, `ecrf audit verify` passes, every job finished (and on which worker). It
prints throughput, p50/p95/p99 and failures per request kind, beside the floor (the
`/healthz` probe under the same load), and finally stops everything and drops the database.

    python -m benchmarks.load                    # one server, 4 workers, 50 users, 60 s
    python -m benchmarks.load --servers 2        # two app servers and two RQ workers
    python -m benchmarks.load --time 20s --users 20 --pg postgresql://postgres@127.0.0.1/postgres

Needs the [load] extra (locust). Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
GUNICORN_CONF = Path(__file__).with_name("gunicorn_conf.py")
ACCOUNT_LINE = re.compile(
    r"^\s+(\S+)\s+(\S+)\s+(Site staff|Investigator|Monitor|Data manager|Sponsor|Administrator)\s"
)
DUPLICATES = "SELECT identifier, count(*) FROM subject GROUP BY identifier HAVING count(*) > 1"
JOBS = "SELECT id, kind, site_codes, state, error, started_at, finished_at FROM job ORDER BY id"


@dataclass
class Stack:
    """The processes started, to stop them (by their own ids) whatever happens."""

    processes: list[subprocess.Popen]

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        handle = log.open("wb")
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self, processes: list[subprocess.Popen] | None = None) -> None:
        """Stop ``processes`` (default: all), each by its own id; gunicorn and rq finish
        the request or job in hand first (SIGTERM is their graceful stop)."""
        processes = self.processes if processes is None else processes
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, choices=(1, 2), default=1, help="app servers")
    parser.add_argument("--gunicorn-workers", type=int, default=4, help="per app server")
    parser.add_argument("--rq-workers", type=int, help="RQ workers (default: one per server)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--spawn-rate", type=float, default=2, help="users starting (signing in) per second"
    )
    parser.add_argument("--time", default="60s", help="locust's run time (60s, 2m…)")
    parser.add_argument("--subjects", type=int, default=12, help="demo patients seeded")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--port", type=int, default=58110, help="first app server's port")
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ecrf-load-"))
    admin = sa.create_engine(
        args.pg.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    name = f"load_{uuid.uuid4().hex[:8]}"
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    stack = Stack([])
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        return run(args, work, url, stack)
    finally:
        stack.stop()
        flush_redis(args.redis)
        if args.keep:
            print(f"\nKept: database {name}, files {work}")
        else:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            shutil.rmtree(work, ignore_errors=True)
        admin.dispose()


def environment(args: argparse.Namespace, work: Path, url: str) -> dict[str, str]:
    """Every process's ECRF_* settings, as each production host would be given them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECRF_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        ECRF_DATABASE_URL=url,
        ECRF_SECRET_KEY=secrets.token_hex(32),
        ECRF_AUDIT_KEY=secrets.token_hex(32),
        ECRF_INSTANCE_PATH=str(work / "instance"),
        ECRF_AUDIT_CHECKPOINT_FILE=str(work / "shared" / "audit_checkpoints"),
        ECRF_EXPORT_DIR=str(work / "shared" / "exports"),
        ECRF_REDIS_URL=args.redis,
    )
    (work / "shared").mkdir()
    return env


def ecrf(*words: str) -> list[str]:
    return [sys.executable, "-c", "from ecrf.cli import main; main()", *words]


def run(args: argparse.Namespace, work: Path, url: str, stack: Stack) -> int:
    env = environment(args, work, url)
    flush_redis(args.redis)
    print(f"Seeding {args.subjects} demo patients into {url.rsplit('/', 1)[-1]} …", flush=True)
    seeded = subprocess.run(
        ecrf("demo", "--no-serve", "--subjects", str(args.subjects)),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    accounts = {m[1]: m[2] for m in map(ACCOUNT_LINE.match, seeded.stdout.splitlines()) if m}
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    before = count_subjects(engine)

    workers = [
        stack.start(
            ecrf("worker"),
            {**env, "ECRF_INSTANCE_PATH": str(work / f"worker-{n + 1}")},
            work / f"rq-worker-{n + 1}.log",
        )
        for n in range(args.rq_workers or args.servers)
    ]
    hosts, servers = [], []
    costs = work / "costs"
    costs.mkdir()
    for n in range(args.servers):
        port = args.port + n
        server = stack.start(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(args.gunicorn_workers),
                "--timeout",
                "120",
                "-b",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "/dev/null",
                "--no-control-socket",  # one per user by default: the servers would share it
                "-c",
                str(GUNICORN_CONF),
                "wsgi:app",
            ],
            # Each server its own instance folder, as on its own host: the keys come from
            # the environment, the checkpoints and exports from the shared folder.
            {
                **env,
                "LOAD_COSTS_DIR": str(costs),
                "ECRF_INSTANCE_PATH": str(work / f"host-{n + 1}"),
            },
            work / f"gunicorn-{n + 1}.log",
        )
        servers.append(server)
        hosts.append(f"http://127.0.0.1:{port}")
    for host in hosts:
        wait_until_up(host)
    worker_names = rq_worker_names(args.redis, workers)

    print(
        f"Locust: {args.users} users over {len(hosts)} server(s) × {args.gunicorn_workers} "
        f"gunicorn workers, {len(workers)} RQ worker(s), {args.time} …",
        flush=True,
    )
    prefix = work / "locust"
    locust_env = {**env, "LOAD_HOSTS": ",".join(hosts), "LOAD_ACCOUNTS": json.dumps(accounts)}
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "-u",
            str(args.users),
            "-r",
            str(args.spawn_rate),
            "-t",
            args.time,
            "--host",
            hosts[0],
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "10",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=locust_env,
        check=False,
        stdout=(work / "locust.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    load_seconds = time.monotonic() - started
    print(f"Locust ran {load_seconds:.0f} s.")

    # The checks look at what the load left: the servers finish the requests they hold
    # (locust has gone, but its last requests may still wait in the listen queue), the
    # workers the jobs.
    stack.stop(servers)
    jobs = wait_for_jobs(engine)
    stack.stop(workers)
    stats = read_stats(prefix)
    print_stats(stats)
    print_costs(costs, load_seconds)
    problems = check(args, env, engine, stats, jobs, before, worker_names, work)
    engine.dispose()
    for log in sorted(work.glob("gunicorn-*.log")) + sorted(work.glob("rq-worker-*.log")):
        tracebacks = log.read_text(errors="replace").count("Traceback")
        if tracebacks:
            problems.append(f"{log.name}: {tracebacks} traceback(s)")
    print()
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        if not args.keep:
            for log in sorted(work.glob("*.log")):
                print(f"\n--- {log.name} (end) ---\n" + log.read_text(errors="replace")[-3000:])
        return 1
    print("All checks passed.")
    return 0


def flush_redis(url: str) -> None:
    from redis import Redis

    Redis.from_url(url).flushdb()  # this run's own database number only


def wait_until_up(host: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(host + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def rq_worker_names(redis_url: str, workers: list[subprocess.Popen]) -> dict[str, str]:
    """RQ's name of each worker started ("worker 1", "worker 2" by start order)."""
    from redis import Redis
    from rq import Worker

    pids = {process.pid: f"worker {n + 1}" for n, process in enumerate(workers)}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        names = {
            w.name: pids[w.pid]
            for w in Worker.all(connection=Redis.from_url(redis_url))
            if w.pid in pids
        }
        if len(names) == len(workers):
            return names
        time.sleep(0.3)
    raise RuntimeError("the RQ workers did not register")


def count_subjects(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM subject"))


def wait_for_jobs(engine: sa.Engine, timeout: float = 300) -> list[sa.Row]:
    """The jobs once none waits or runs (a report batch may outlast locust's run)."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            jobs = conn.execute(sa.text(JOBS)).all()
        if all(job.state not in ("queued", "running") for job in jobs) or (
            time.monotonic() > deadline
        ):
            return jobs
        time.sleep(1)


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def print_stats(stats: list[dict[str, str]]) -> None:
    print(
        f"\n{'request kind':<22}{'requests':>9}{'failed':>8}{'req/s':>8}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}"
    )
    for row in sorted(stats, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        label = "all requests" if row["Name"] == "Aggregated" else row["Name"]
        print(
            f"{label:<22}{row['Request Count']:>9}{row['Failure Count']:>8}"
            f"{float(row['Requests/s']):>8.1f}{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}"
            f"{float(row['Max Response Time']):>8.0f}"
        )


#: Request paths to their kind: identifiers and numbers out, one line per route and form.
KIND_PATTERNS = [
    (re.compile(p), r)
    for p, r in [
        (r"/subjects/[A-Z0-9]+-\d+", "/subjects/<id>"),
        (r"/visits/(\w+)/\d+/forms/(?!VS$)\w+$", "/visits/<visit>/<n>/forms/<form>"),
        (r"/(queries|jobs)/\d+", r"/\1/<n>"),
    ]
]


def print_costs(costs: Path, seconds: float) -> None:
    """The server side of each kind of request: median wall time inside the worker, CPU
    time and SQL statements (see gunicorn_conf.py)."""
    kinds: dict[str, list[tuple[float, float, int]]] = {}
    for path in costs.glob("*.tsv"):
        for line in path.read_text().splitlines():
            method, where, _, wall, cpu, statements = line.split("\t")
            for pattern, replacement in KIND_PATTERNS:
                where = pattern.sub(replacement, where)
            kinds.setdefault(f"{method} {where}", []).append(
                (float(wall), float(cpu), int(statements))
            )
    print(
        f"\n{'server side (per request)':<52}{'count':>6}{'wall p50':>9}{'wall p95':>9}"
        f"{'CPU p50':>8}{'SQL p50':>8}"
    )
    for kind, rows in sorted(kinds.items(), key=lambda item: -len(item[1])):
        walls = sorted(r[0] for r in rows)
        cpus = sorted(r[1] for r in rows)
        sqls = sorted(r[2] for r in rows)
        print(
            f"{kind[:51]:<52}{len(rows):>6}{walls[len(rows) // 2]:>9.0f}"
            f"{walls[int(len(rows) * 0.95)]:>9.0f}{cpus[len(rows) // 2]:>8.0f}"
            f"{sqls[len(rows) // 2]:>8}"
        )
    cpu = sum(r[1] for rows in kinds.values() for r in rows) / 1000
    print(
        f"Server CPU for all requests: {cpu:.0f} s in {seconds:.0f} s of load: "
        f"{cpu / seconds:.2f} cores busy on average ({os.cpu_count()} on this machine)"
    )


def check(args, env, engine, stats, jobs, before, worker_names, work) -> list[str]:
    """What must hold after the load; each problem in words."""
    from redis import Redis
    from rq.job import Job as RQJob

    problems = []
    failed = {r["Name"]: int(r["Failure Count"]) for r in stats if r["Name"] != "Aggregated"}
    if any(failed.values()):
        problems.append(f"failed requests: { {k: v for k, v in failed.items() if v} }")
        failures = Path(f"{work / 'locust'}_failures.csv")
        if failures.exists():
            problems.append("failures:\n" + failures.read_text()[:3000])
    with engine.connect() as conn:
        duplicates = conn.execute(sa.text(DUPLICATES)).all()
    enrolled = count_subjects(engine) - before
    print(f"\nSubjects enrolled under load: {enrolled}; duplicate identifiers: {len(duplicates)}")
    if duplicates:
        problems.append(f"duplicate subject identifiers: {duplicates}")
    verify = subprocess.run(
        ecrf("audit", "verify"), cwd=ROOT, env=env, capture_output=True, text=True
    )
    print(
        f"ecrf audit verify: exit {verify.returncode}: "
        f"{(verify.stdout.strip().splitlines() or [''])[-1]}"
    )
    if verify.returncode:
        problems.append(
            "ecrf audit verify failed:\n" + verify.stdout[-2000:] + verify.stderr[-2000:]
        )
    redis = Redis.from_url(args.redis)
    for job in jobs:
        try:
            ran_on = worker_names.get(RQJob.fetch(f"ecrf-job-{job.id}", redis).worker_name, "?")
        except Exception:  # a job RQ no longer knows: say so
            ran_on = "unknown to RQ"
        took = (job.finished_at - job.started_at).total_seconds() if job.finished_at else None
        print(
            f"Job {job.id} ({job.kind}, {job.site_codes or 'all sites'}): {job.state}"
            f"{f' in {took:.1f} s' if took is not None else ''} on {ran_on}"
            f"{f': {job.error}' if job.error else ''}"
        )
        if job.state != "done":
            problems.append(f"job {job.id} ({job.kind}) is {job.state}")
    if len(jobs) < args.servers:
        problems.append(f"{len(jobs)} job(s) started, expected {args.servers}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
