"""Configuration: defaults, then ECRF_* environment variables, then the test overrides."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask


class Defaults:
    #: Minutes of inactivity after which a signed-in user must sign in again.
    SESSION_IDLE_MINUTES = 30
    #: Seconds before the idle sign-out at which pages warn, with a button to stay signed in.
    SESSION_IDLE_WARNING_SECONDS = 120
    #: Consecutive failed sign-ins with one username from one source address that block
    #: that username from that source, and for how long (other sources are not blocked).
    LOCKOUT_THRESHOLD = 5
    LOCKOUT_MINUTES = 15
    #: Failed sign-ins from one source address, whatever the usernames, that block the
    #: source for LOCKOUT_MINUTES. A whole hospital behind one NAT address shares it.
    SOURCE_LOCKOUT_THRESHOLD = 30
    #: Failed sign-ins with one username from every source after which sources the user
    #: never signed in from wait between attempts: 2, 4, 8... seconds, at most the maximum.
    LOGIN_DELAY_THRESHOLD = 10
    LOGIN_DELAY_MAX_SECONDS = 60
    #: Reverse proxies in front of the app that set X-Forwarded-For (0: none; the client
    #: address is then the connection's).
    PROXY_FIX_X_FOR = 0
    #: Argon2 cost profile: "rfc9106_low_memory" in production, "cheapest" only in tests.
    PASSWORD_HASH_PROFILE = "rfc9106_low_memory"
    PASSWORD_MIN_LENGTH = 12
    #: Least zxcvbn strength score (0-4) a new password must reach.
    PASSWORD_MIN_SCORE = 3
    #: Rows per page in long lists.
    PAGE_SIZE = 50
    #: The study definition to run, as "module:attribute".
    STUDY_DEFINITION = "forms.iahprrt:STUDY"
    #: A derivation or edit check that raises (a bug of the definition) stops the save with
    #: RuleFailed instead of being logged and skipped: on in the tests, off in production.
    STRICT_RULES = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_TIME_LIMIT = None  # the idle timeout already bounds a form's life
    #: The append-only file of audit checkpoints (default: audit_checkpoints in the instance
    #: folder). Keep it, like the audit key, apart from the database and its backups.
    AUDIT_CHECKPOINT_FILE: str | None = None
    #: A commit that appended audit events writes a checkpoint when the newest one is older.
    AUDIT_CHECKPOINT_MINUTES = 60
    #: Redis URL of the job queue (RQ, queue "ecrf"); None: jobs run on a thread pool in
    #: the app's own process (the embedded demo).
    REDIS_URL: str | None = None
    #: Folder of the extracts' result files (default: exports in the instance folder). With
    #: workers on several hosts it must be storage they and the web hosts share.
    EXPORT_DIR: str | None = None
    #: Hours a result is kept before its file is deleted and its job shows "expired".
    EXPORT_RETENTION_HOURS = 72
    #: Threads running jobs in the app's process when no Redis URL is set.
    JOB_THREADS = 2
    #: A running job silent (no progress) for this long lost its worker: marked failed.
    JOB_STALE_MINUTES = 30
    #: RQ's limit on one job's run time, after which the worker stops it (marked failed).
    JOB_TIMEOUT_MINUTES = 240
    #: Seconds between the reloads of "My jobs" while a job is waiting or running.
    JOBS_REFRESH_SECONDS = 3


def normalise_database_url(url: str) -> str:
    """Accept the usual PostgreSQL spellings and route them to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_path_from_env() -> str | None:
    value = os.environ.get("ECRF_INSTANCE_PATH")
    return str(Path(value).expanduser().resolve()) if value else None


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("ECRF")
    if test_config:
        app.config.update(test_config)

    url = app.config.pop("DATABASE_URL", None) or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        url = "sqlite:///" + str(Path(app.instance_path) / "ecrf.sqlite")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(str(url))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Wait for a busy writer instead of failing at once; SQLite serialises writes.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {}).setdefault(
            "connect_args", {"timeout": 30}
        )
    instance = Path(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(instance, "secret_key")
    # The audit trail's HMAC key: outside the database, so that whoever holds only the
    # database cannot re-hash a rewritten history.
    if not app.config.get("AUDIT_KEY"):
        app.config["AUDIT_KEY"] = instance_secret(instance, "audit_key")
    if not app.config.get("AUDIT_CHECKPOINT_FILE"):
        app.config["AUDIT_CHECKPOINT_FILE"] = str(instance / "audit_checkpoints")
    if not app.config.get("EXPORT_DIR"):
        app.config["EXPORT_DIR"] = str(instance / "exports")


def instance_secret(instance: Path, name: str) -> str:
    """A random secret kept in the file ``name`` of the instance folder, generated on first use.

    Created with O_EXCL so two workers starting together cannot write different secrets.
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process may have created the file and not yet written it.
        for _ in range(100):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.05)
        raise RuntimeError(f"{path} is empty: delete it to have a new key generated") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()
