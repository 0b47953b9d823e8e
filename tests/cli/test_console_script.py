"""The installed `ecrf` executable, run as an operator would on a fresh machine.

No ECRF_DATABASE_URL: these prove the embedded SQLite default in the instance folder
works from scratch, whatever database the rest of the suite runs on.
"""

from __future__ import annotations

import functools
import http.cookiejar
import re
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.cli.conftest import ECRF
from tests.cli.test_demo import DEMO_NAMES, printed_accounts

PASSWORD = "a fresh machine's pass phrase"


def ecrf(env: dict[str, str], *args: str, cwd: Path, stdin: str | None = None):
    return subprocess.run(
        [ECRF, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_embedded_sqlite_from_scratch(script_env, tmp_path):
    instance = Path(script_env["ECRF_INSTANCE_PATH"])
    assert not instance.exists()
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    run = functools.partial(ecrf, script_env, cwd=cwd)

    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (instance / "ecrf.sqlite").is_file()
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only

    added = run("sites", "add", "bdx", "CHU de Bordeaux")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "Added site BDX: CHU de Bordeaux.\n"

    created = run(
        "users", "create", "Camille", "--role", "investigator", "--site", "BDX",
        "--name", "Dr Camille Martin", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert created.stdout == "Created camille (Investigator at BDX).\n"
    assert PASSWORD not in created.stdout + created.stderr

    again = ("users", "create", "camille", "--role", "monitor", "--password-stdin")
    refused = run(*again, stdin=PASSWORD + "\n")
    assert refused.returncode == 1
    assert "already taken" in refused.stderr

    listed = run("users", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "camille\tactive\tinvestigator@BDX\tDr Camille Martin\n"

    verified = run("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert re.fullmatch(
        r"Audit trail intact: 3 events verified with the audit key, 1 checkpoint matched; "
        r"the data and the trail agree both ways \(\d+\.\d\d s\)\.\n",
        verified.stdout,
    )
    # The audit key and the checkpoints live in the instance folder, outside the database.
    assert (instance / "audit_key").stat().st_mode & 0o077 == 0
    assert len((instance / "audit_checkpoints").read_text().splitlines()) == 1

    # Each command closed its connections at exit: the write-ahead log is in the file.
    assert not (instance / "ecrf.sqlite-wal").exists()
    # The data really is in the instance folder's SQLite file, not anywhere else.
    with sqlite3.connect(instance / "ecrf.sqlite") as conn:
        assert conn.execute("SELECT username FROM user_account").fetchall() == [("camille",)]
    assert list(cwd.iterdir()) == []  # ECRF_INSTANCE_PATH honoured: no ./instance


#: Seconds a request may wait: `ecrf demo` answers while its seeding thread shares the
#: process (and a loaded CI machine its cores); this test is about answers, not speed.
ANSWER_TIMEOUT = 60


def sign_in_over_http(base: str, username: str, password: str) -> tuple[int, str]:
    """Sign in through the login form, CSRF token and all; return the final status and URL."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(f"{base}/login", timeout=ANSWER_TIMEOUT) as response:
        page = response.read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    token = token or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert token, page
    data = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "username": username, "password": password}
    ).encode()
    try:
        with opener.open(f"{base}/login", data=data, timeout=ANSWER_TIMEOUT) as response:
            return response.status, response.geturl()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.url


def test_demo_serves_the_app(script_env, tmp_path, free_port):
    base = f"http://127.0.0.1:{free_port}"
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [ECRF, "demo", "--port", str(free_port)],
            env=script_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        # It serves before it seeds (generous on a loaded machine: no timed test here; see
        # benchmarks/demo_start.py for the figures).
        deadline = time.monotonic() + 240
        status = None
        while time.monotonic() < deadline:
            assert process.poll() is None, f"ecrf demo exited:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=ANSWER_TIMEOUT) as response:
                    status = response.status
                    first_page = response.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError):  # not listening yet
                time.sleep(0.1)
        assert status == 200, log.read_text()
        # 40 patients through the write path take far longer than the server's start: the
        # first page finds them being seeded, in the background.
        assert "patients entered…" in first_page, first_page
        assert "Seeding 40 demo patients in the background" in log.read_text()

        accounts = printed_accounts(log.read_text())
        assert list(accounts) == DEMO_NAMES
        assert f"Serving on {base}/" in log.read_text()
        assert sign_in_over_http(base, "admin", accounts["admin"]) == (200, f"{base}/")
        assert sign_in_over_http(base, "admin", "not the password") == (422, f"{base}/login")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
