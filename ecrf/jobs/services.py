"""Jobs: start one within the user's rights, run it, hand over its result, purge old ones.

Services flush and never commit, except :func:`run_job`, which runs outside any request
(a thread or a worker) and owns its transactions.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import can, sites_with
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.errors import DomainError, NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.jobs.kinds import KINDS, JobKind, get_kind
from ecrf.jobs.models import Job, JobState
from ecrf.records.loader import current_study
from ecrf.records.models import Site, Subject

if TYPE_CHECKING:
    from collections.abc import Collection

log = logging.getLogger(__name__)

UNKNOWN_KIND = "Choose one of the extracts in the list."
NO_SUCH_SITE = "There is no site {code}."
NOT_AT_SITE = "You do not hold the right to run this extract at site {code}."
NOT_ANYWHERE = "You do not hold the right to run this extract at any site."
RIGHTS_CHANGED = (
    "Your rights changed since the extract was asked for: it no longer covers sites you "
    "may export. Start it again."
)
SITE_GONE = "A site of this extract no longer exists."
UNEXPECTED = "The extract failed unexpectedly; the error was logged. Try again later."
STALE = "The extract stopped answering (its worker was stopped or lost) and was given up."
NEVER_STARTED = "No worker took the extract in time; start it again."
QUEUE_DOWN = "The job queue could not be reached; the extract was not started. Try again later."
NOT_READY = "This extract is not ready to download."
EXPIRED = "This extract has expired and its file was deleted; start it again."
FILE_GONE = "The file of this extract is missing; start it again."
#: Another user's job answers exactly like a missing one.
NO_SUCH_JOB = "There is no such page. Check the address, or go back to the home page."

#: At most one progress write per this many seconds (the last one is always written).
PROGRESS_INTERVAL = 1.0


class ResultNotReady(RuleViolation):
    """The job has no file to hand over yet (waiting, running) or never will (failed)."""


class ResultGone(RuleViolation):
    """The job's file was deleted (expired) or is missing: it must be started again."""


# --- scope ------------------------------------------------------------------------------


def allowed_sites(user: User, kind: JobKind) -> set[int] | None:
    """Sites where ``user`` holds every permission of ``kind``; None: every site."""
    allowed: set[int] | None = None
    for perm in kind.perms:
        sites = sites_with(user, perm)
        if sites is None:
            continue
        allowed = set(sites) if allowed is None else allowed & sites
    return allowed


def kinds_for(user: User) -> list[JobKind]:
    """The kinds ``user`` may start for sites (not per-subject ones) at one site at least."""
    return [
        kind
        for kind in KINDS.values()
        if not kind.per_subject
        and not kind.internal
        and all(can(user, perm) for perm in kind.perms)
    ]


def sites_for(user: User, kind: JobKind) -> list[Site]:
    """The sites ``user`` may run ``kind`` at, by code."""
    allowed = allowed_sites(user, kind)
    query = sa.select(Site).order_by(Site.code)
    if allowed is not None:
        query = query.where(Site.id.in_(allowed))
    return list(db.session.scalars(query))


def _check_scope(user: User, kind: JobKind, site_ids: Collection[int] | None) -> bool:
    allowed = allowed_sites(user, kind)
    if not all(can(user, perm) for perm in kind.perms):
        return False
    return allowed is None or (site_ids is not None and set(site_ids) <= allowed)


def _scope_ids(job: Job) -> list[int] | None:
    codes = job.scope
    if codes is None:
        return None
    ids = list(db.session.scalars(sa.select(Site.id).where(Site.code.in_(codes))))
    if len(ids) != len(codes):
        raise RuleViolation(SITE_GONE)
    return ids


# --- starting ---------------------------------------------------------------------------


def start_job(kind_name: str, site_code: str | None, *, actor: User) -> Job:
    """Record a queued job of ``kind_name`` for ``actor`` (the caller commits, then submits).

    :param site_code: one site; None or "" for all the sites where ``actor`` may run it.
    :raises RuleViolation: unknown kind or site.
    :raises PermissionDenied: ``actor`` lacks one of the kind's permissions at the site
        (or anywhere).
    """
    kind = get_kind(kind_name)
    if kind is None or kind.per_subject or kind.internal:
        raise RuleViolation(UNKNOWN_KIND, field="kind")
    if site_code:
        site = db.session.scalar(sa.select(Site).where(Site.code == site_code.strip().upper()))
        if site is None:
            raise RuleViolation(NO_SUCH_SITE.format(code=site_code), field="site")
        if not all(can(actor, perm, site.id) for perm in kind.perms):
            raise PermissionDenied(NOT_AT_SITE.format(code=site.code))
        codes: str | None = site.code
    else:
        if not all(can(actor, perm) for perm in kind.perms):
            raise PermissionDenied(NOT_ANYWHERE)
        allowed = allowed_sites(actor, kind)
        if allowed is not None and not allowed:
            raise PermissionDenied(NOT_ANYWHERE)
        codes = (
            None
            if allowed is None
            else ",".join(
                sorted(db.session.scalars(sa.select(Site.code).where(Site.id.in_(allowed))))
            )
        )
    job = Job(user_id=actor.id, kind=kind.name, site_codes=codes, state=JobState.QUEUED)
    db.session.add(job)
    db.session.flush()
    return job


def start_subject_job(kind_name: str, identifier: str, *, actor: User) -> Job:
    """Record a queued per-subject job (a casebook) for ``actor`` (the caller commits, then
    submits).

    :raises RuleViolation: unknown kind, or one not about a subject.
    :raises NotFound: no such subject, or one ``actor`` does not see (never told apart).
    :raises PermissionDenied: ``actor`` sees the subject but lacks the kind's permissions
        at its site.
    """
    kind = get_kind(kind_name)
    if kind is None or not kind.per_subject or kind.internal:
        raise RuleViolation(UNKNOWN_KIND, field="kind")
    subject = db.session.scalar(sa.select(Subject).where(Subject.identifier == identifier))
    if subject is None or not can(actor, Perm.VIEW_SUBJECTS, subject.site_id):
        raise NotFound(NO_SUCH_JOB)
    if not all(can(actor, perm, subject.site_id) for perm in kind.perms):
        raise PermissionDenied(NOT_AT_SITE.format(code=subject.site.code))
    job = Job(
        user_id=actor.id,
        kind=kind.name,
        site_codes=subject.site.code,
        subject=subject.identifier,
        state=JobState.QUEUED,
    )
    db.session.add(job)
    db.session.flush()
    return job


def mark_not_submitted(job_id: int) -> None:
    """The backend refused the job (e.g. Redis down): it will never run."""
    _finish_failed(job_id, QUEUE_DOWN)


# --- running ----------------------------------------------------------------------------


def export_dir() -> Path:
    return Path(current_app.config["EXPORT_DIR"])


def job_folder(job_id: int) -> Path:
    return export_dir() / f"job-{job_id}"


def run_job(job_id: int) -> JobState | None:
    """Run a queued job to its end: done with its result file, or failed with a message.

    Commits as it goes (the job row is what every page reads). A job not queued any more
    (run twice by a retry, or given up) is left alone. Returns the final state.
    """
    job = db.session.get(Job, job_id)
    if job is None or job.state is not JobState.QUEUED:
        return None
    try:
        kind = get_kind(job.kind)
        if kind is None:
            raise RuleViolation(UNKNOWN_KIND)
        actor = db.session.get(User, job.user_id) if job.user_id is not None else None
        site_ids = _scope_ids(job)
        if actor is not None and not _check_scope(actor, kind, site_ids):
            raise PermissionDenied(RIGHTS_CHANGED)
        now = utcnow()
        job.state, job.started_at, job.heartbeat_at = JobState.RUNNING, now, now
        db.session.commit()
        folder = job_folder(job_id)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        name = kind.filename.format(subject=job.subject) if kind.filename else kind.name
        out = folder / name
        reporter = _ProgressReporter(job_id)
        extra: dict = {"subject": job.subject} if kind.per_subject else {}
        if kind.takes_params:
            extra.update(params=dict(job.params or {}), job_id=job_id)
        study = (current_study(),) if kind.takes_study else ()
        result = kind.function()(
            *study, out, site_ids=site_ids, actor=actor, progress=reporter, **extra
        )
        result = _single_file(Path(result))
    except DomainError as exc:
        db.session.rollback()
        shutil.rmtree(job_folder(job_id), ignore_errors=True)
        return _finish_failed(job_id, exc.message)
    except Exception:
        log.exception("job %s failed", job_id)
        db.session.rollback()
        shutil.rmtree(job_folder(job_id), ignore_errors=True)
        return _finish_failed(job_id, UNEXPECTED)
    return _finish_done(job_id, result, reporter)


def _single_file(result: Path) -> Path:
    """A folder of files becomes one zip beside it (what a user downloads)."""
    if not result.is_dir():
        return result
    return Path(shutil.make_archive(str(result), "zip", root_dir=result))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _finish_done(job_id: int, result: Path, reporter: _ProgressReporter) -> JobState:
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.state is not JobState.RUNNING:  # given up meanwhile as stale
        shutil.rmtree(job_folder(job_id), ignore_errors=True)
        return job.state if job is not None else JobState.FAILED
    now = utcnow()
    job.state = JobState.DONE
    job.result_path = result.relative_to(export_dir()).as_posix()
    job.result_size = result.stat().st_size
    job.result_sha256 = _sha256(result)
    job.progress_total = max(reporter.total, reporter.done)
    job.progress_done = job.progress_total
    job.finished_at = job.heartbeat_at = now
    job.expires_at = now + timedelta(hours=float(current_app.config["EXPORT_RETENTION_HOURS"]))
    db.session.commit()
    return JobState.DONE


def _finish_failed(job_id: int, message: str) -> JobState:
    now = utcnow()
    db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
        .values(state=JobState.FAILED, error=message, finished_at=now, heartbeat_at=now)
    )
    db.session.commit()
    return JobState.FAILED


class _ProgressReporter:
    """The extract's ``progress(done, total)``: written on its own connection, so the
    extract's transaction (its reads, its audit event) is never committed half-way."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.done = self.total = 0
        self._written_at = 0.0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        moment = time.monotonic()
        if done < total and moment - self._written_at < PROGRESS_INTERVAL:
            return
        self._written_at = moment
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(Job)
                .where(Job.id == self.job_id, Job.state == JobState.RUNNING)
                .values(progress_done=done, progress_total=total, heartbeat_at=utcnow())
            )


# --- reading ----------------------------------------------------------------------------


def jobs_of(user: User, limit: int = 100, offset: int = 0) -> list[Job]:
    """The user's own jobs, newest first (``limit`` of them from ``offset``)."""
    return list(
        db.session.scalars(
            sa.select(Job)
            .where(Job.user_id == user.id)
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def count_jobs_of(user: User) -> int:
    """How many jobs the user has (for paging :func:`jobs_of`)."""
    query = sa.select(sa.func.count()).select_from(Job).where(Job.user_id == user.id)
    return db.session.scalar(query) or 0


def job_of(job_id: int, user: User) -> Job:
    """One of ``user``'s own jobs.

    :raises NotFound: no such job, or another user's (never told apart).
    """
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != user.id:
        raise NotFound(NO_SUCH_JOB)
    return job


@dataclass(frozen=True)
class Download:
    path: Path
    name: str


def open_result(job_id: int, *, actor: User) -> Download:
    """The result file of ``actor``'s own done job, the download recorded in the trail.

    Rights are checked again now: a user who lost them since cannot take the file.

    :raises NotFound: no such job, or another user's (never told apart).
    :raises ResultNotReady: not done (yet).
    :raises ResultGone: expired, or its file missing.
    :raises PermissionDenied: ``actor`` no longer holds the kind's rights at its sites.
    """
    job = job_of(job_id, actor)
    if job.state is JobState.EXPIRED:
        raise ResultGone(EXPIRED)
    if job.state is not JobState.DONE or not job.result_path:
        raise ResultNotReady(NOT_READY)
    kind = get_kind(job.kind)
    if kind is None or not _check_scope(actor, kind, _scope_ids(job)):
        raise PermissionDenied(RIGHTS_CHANGED)
    path = export_dir() / job.result_path
    if not path.is_file():
        raise ResultGone(FILE_GONE)
    scope = job.scope
    record_event(
        "download",
        "job",
        job.id,
        actor=actor,
        site_id=_single_site_id(scope),
        field=job.kind,
        new=f"{job.result_path} sha256={job.result_sha256}",
    )
    return Download(path, path.name)


def _single_site_id(scope: list[str] | None) -> int | None:
    if scope is None or len(scope) != 1:
        return None
    return db.session.scalar(sa.select(Site.id).where(Site.code == scope[0]))


# --- purge ------------------------------------------------------------------------------


@dataclass
class Purged:
    expired: int = 0
    stale: int = 0
    never_started: int = 0


def purge(now: datetime | None = None) -> Purged:
    """Delete expired results (job shown "expired") and give up on jobs that lost their
    worker (running and silent past ECRF_JOB_STALE_MINUTES) or were never taken (queued
    past the retention period). Flushes; the caller commits.
    """
    now = now or utcnow()
    config = current_app.config
    purged = Purged()
    expired = db.session.scalars(
        sa.select(Job).where(Job.state == JobState.DONE, Job.expires_at <= now)
    ).all()
    for job in expired:
        shutil.rmtree(job_folder(job.id), ignore_errors=True)
        job.state = JobState.EXPIRED
        purged.expired += 1
    stale_before = now - timedelta(minutes=float(config["JOB_STALE_MINUTES"]))
    purged.stale = _give_up(
        (Job.state == JobState.RUNNING) & (Job.heartbeat_at < stale_before), STALE, now
    )
    queued_before = now - timedelta(hours=float(config["EXPORT_RETENTION_HOURS"]))
    purged.never_started = _give_up(
        (Job.state == JobState.QUEUED) & (Job.created_at < queued_before), NEVER_STARTED, now
    )
    db.session.flush()
    return purged


def _give_up(condition, message: str, now: datetime) -> int:
    ids = list(db.session.scalars(sa.select(Job.id).where(condition)))
    if not ids:
        return 0
    db.session.execute(
        sa.update(Job)
        .where(Job.id.in_(ids), condition)
        .values(state=JobState.FAILED, error=message, finished_at=now)
        .execution_options(synchronize_session="fetch")
    )
    for job_id in ids:
        shutil.rmtree(job_folder(job_id), ignore_errors=True)
    return len(ids)
