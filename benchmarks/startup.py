"""`ecrf demo` from nothing to its first page served, beside the floor: the app started on
an already migrated, empty database (`ecrf run`) serving its sign-in page.

Each runs the real console script in a subprocess on a new instance folder (its own
SQLite database and keys) and polls the port until the sign-in page answers 200.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ECRF = str(Path(sys.executable).with_name("ecrf"))
#: Longer than any start could reasonably take: the run is abandoned then.
TIMEOUT = 600.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECRF_", "FLASK_"))}
    return env | {"ECRF_INSTANCE_PATH": str(instance)}


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def first_page(arguments: list[str], instance: Path) -> float:
    """Seconds from starting ``ecrf <arguments> --port P`` to its sign-in page served."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [ECRF, *arguments, "--port", str(port)],
        env=environment(instance),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _serves(port):
            if server.poll() is not None:
                raise RuntimeError(f"`ecrf {' '.join(arguments)}` ended ({server.returncode})")
            if time.perf_counter() - started > TIMEOUT:
                raise RuntimeError(f"`ecrf {' '.join(arguments)}` served nothing in {TIMEOUT} s")
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def demo_start(workdir: Path) -> tuple[float, float]:
    """(`ecrf demo` to its first page, the floor), each on a new instance folder."""
    floor_instance = workdir / "floor-instance"
    subprocess.run(
        [ECRF, "db", "upgrade"],
        env=environment(floor_instance),
        check=True,
        capture_output=True,
    )
    floor = first_page(["run"], floor_instance)
    demo = first_page(["demo"], workdir / "demo-instance")
    return demo, floor
