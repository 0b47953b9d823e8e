"""How soon `ecrf demo` serves its first page on a fresh instance, and how long its
background seeding takes, beside floors measured in the same run.

Each run is the real console script in a subprocess, in a new instance folder (embedded
SQLite, no Redis: the seeding runs on the app's own thread pool):

- floor: `ecrf run` on an instance whose empty database was migrated beforehand (the
  app's own start, nothing of the demo);
- `ecrf demo`: from the start of the process to the first HTTP 200 on /login, then to the
  end of its seeding job (read from the job row);
- `ecrf demo --no-serve`: the whole synchronous seeding (what `ecrf demo` did before it
  served, before the seeding became a job).

A benchmark prints figures; it asserts nothing.

    .venv/bin/python benchmarks/demo_start.py            # 40 subjects
    .venv/bin/python benchmarks/demo_start.py --subjects 10 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.startup import ECRF, environment, free_port


def first_page(args: list[str], env: dict[str, str], port: int, log: Path):
    """Start ``ecrf args``; return (the process, seconds to the first 200 on /login)."""
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen([ECRF, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    while True:
        if process.poll() is not None:
            raise SystemExit(f"ecrf {' '.join(args)} exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as page:
                if page.status == 200:
                    return process, time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def seeding_state(database: Path) -> tuple[str, int, int] | None:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        return connection.execute(
            "SELECT state, progress_done, progress_total FROM job WHERE kind = 'demo'"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()


def floor(workdir: Path) -> float:
    instance = workdir / "floor"
    env = environment(instance)
    subprocess.run([ECRF, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    process, seconds = first_page(["run", "--port", str(port)], env, port, workdir / "floor.log")
    stop(process)
    return seconds


def demo(workdir: Path, subjects: int, run: int) -> tuple[float, float]:
    instance = workdir / f"demo-{run}"
    port = free_port()
    args = ["demo", "--port", str(port), "--subjects", str(subjects)]
    process, first = first_page(args, environment(instance), port, workdir / f"demo-{run}.log")
    started = time.perf_counter() - first
    try:
        while (state := seeding_state(instance / "ecrf.sqlite")) is None or state[0] in (
            "queued",
            "running",
        ):
            time.sleep(0.5)
        if state[0] != "done":
            log = (workdir / f"demo-{run}.log").read_text()
            raise SystemExit(f"the seeding ended {state}:\n{log}")
        return first, time.perf_counter() - started
    finally:
        stop(process)


def no_serve(workdir: Path, subjects: int) -> float:
    env = environment(workdir / "no-serve")
    started = time.perf_counter()
    subprocess.run(
        [ECRF, "demo", "--no-serve", "--subjects", str(subjects)],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ecrf-demo-start-"))
    print(f"{args.subjects} subjects, embedded SQLite; {os.cpu_count()} cores")
    for run in range(args.repeat):
        (workdir / f"{run}").mkdir()
        base = floor(workdir / f"{run}")
        first, seeded = demo(workdir / f"{run}", args.subjects, run)
        synchronous = no_serve(workdir / f"{run}", args.subjects)
        print(
            f"floor (ecrf run, empty migrated DB) first page {base:5.1f} s | ecrf demo: first"
            f" page {first:5.1f} s, seeding done {seeded:6.1f} s | ecrf demo --no-serve"
            f" {synchronous:6.1f} s (what came before the first page)"
        )


if __name__ == "__main__":
    main()
