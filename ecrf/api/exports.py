"""The API's extracts: which ones a token may start, starting one, its jobs, their files.

Free of the request, like reads.py: each function takes the reader and plain values and
calls the jobs services (ecrf/jobs/services.py), which hold every rule of scope; this
module only checks the shape of what a script sent and turns the services' refusals
into the API's statuses (400 naming the field, 403, 404, 409, 410). Starting an extract
creates a job and nothing else: clinical data are never changed through the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ecrf.api.reads import BadQuery, Page, parse_site
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission
from ecrf.auth.roles import Perm
from ecrf.errors import Conflict, DomainError, PermissionDenied, RuleViolation
from ecrf.jobs import services
from ecrf.jobs.kinds import KINDS, get_kind
from ecrf.jobs.models import Job

BAD_BODY = 'The body must be a JSON object such as {"kind": "odm", "site": "BDX"}.'
UNKNOWN_FIELDS = "Unknown field(s) {names}; the body takes only kind and site."
NO_KIND = "kind is required: one of the extracts GET /exports lists."
BAD_KIND = "kind must be one of: {choices}."
BAD_SITE = "site must be a site code (text), or null or absent for all your sites."
NO_SUCH_SITE = "site: there is no site {code}."
FIELDS = ("kind", "site")


class Gone(DomainError):
    """The job's file was deleted (expired) or lost: start the extract again."""

    status = 410
    title = "Gone"


class QueueDown(DomainError):
    """The job could not be handed to the queue; it was marked failed."""

    status = 503
    title = "Unavailable"


def _require_export(reader: User) -> None:
    require_permission(reader, Perm.EXPORT_DATA)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- kinds and starting -----------------------------------------------------------------


def list_kinds(reader: User) -> list[dict]:
    """The extracts ``reader`` may start, each with the site codes it may cover."""
    _require_export(reader)
    return [
        {
            "kind": kind.name,
            "label": kind.label,
            "sites": [site.code for site in services.sites_for(reader, kind)],
        }
        for kind in services.kinds_for(reader)
    ]


def parse_start(body: Any) -> tuple[str, str | None]:
    """``kind`` and ``site`` from a decoded JSON body; BadQuery names what is wrong."""
    if not isinstance(body, dict):
        raise BadQuery(BAD_BODY, field="body")
    unknown = sorted(str(name) for name in body if name not in FIELDS)
    if unknown:
        raise BadQuery(UNKNOWN_FIELDS.format(names=", ".join(unknown)), field=unknown[0])
    kind, site = body.get("kind"), body.get("site")
    if kind is None or kind == "":
        raise BadQuery(NO_KIND, field="kind")
    if not isinstance(kind, str) or get_kind(kind) is None:
        raise BadQuery(BAD_KIND.format(choices=", ".join(sorted(KINDS))), field="kind")
    if site is not None and not isinstance(site, str):
        raise BadQuery(BAD_SITE, field="site")
    return kind, parse_site(site.strip() if site else None)


def start_export(reader: User, kind: str, site: str | None) -> Job:
    """A queued job of ``kind`` for ``reader`` at ``site`` (None: all their sites).

    The caller commits, then hands the job to the queue. Flushes only.

    :raises BadQuery: unknown kind or site (400, the field named).
    :raises PermissionDenied: the extract is not open to ``reader`` there (403).
    """
    _require_export(reader)
    try:
        return services.start_job(kind, site, actor=reader)
    except PermissionDenied as exc:
        raise PermissionDenied(exc.message, field="site" if site else "kind") from None
    except RuleViolation as exc:
        message = exc.message
        if exc.field == "site":
            message = NO_SUCH_SITE.format(code=site)
        elif exc.field == "kind":
            message = BAD_KIND.format(choices=", ".join(sorted(KINDS)))
        raise BadQuery(message, field=exc.field) from None


def not_submitted(job_id: int) -> QueueDown:
    """Record that the queue refused the job (marked failed, committed); the error to send."""
    services.mark_not_submitted(job_id)
    return QueueDown(services.QUEUE_DOWN)


# --- jobs -------------------------------------------------------------------------------


def describe_job(job: Job) -> dict:
    """A job as the API shows it (without its links)."""
    kind = get_kind(job.kind)
    has_result = job.result_sha256 is not None
    return {
        "id": job.id,
        "kind": job.kind,
        "label": kind.label if kind is not None else job.kind,
        "sites": job.scope,
        "state": job.state.value,
        "progress": {
            "done": job.progress_done,
            "total": job.progress_total,
            "percent": job.percent,
        },
        "result": (
            {
                "name": job.result_path.rsplit("/", 1)[-1] if job.result_path else None,
                "size": job.result_size,
                "sha256": job.result_sha256,
            }
            if has_result
            else None
        ),
        "error": job.error,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "expires_at": _iso(job.expires_at),
    }


def list_jobs(reader: User, *, page: int, per_page: int) -> Page:
    """One page of ``reader``'s own jobs, newest first (expired results purged first)."""
    _require_export(reader)
    services.purge()
    total = services.count_jobs_of(reader)
    jobs = services.jobs_of(reader, limit=per_page, offset=(page - 1) * per_page)
    return Page([describe_job(job) for job in jobs], page, per_page, total)


def get_job(reader: User, job_id: int) -> dict:
    """One of ``reader``'s jobs; another user's answers 404 like a missing one."""
    _require_export(reader)
    services.purge()
    return describe_job(services.job_of(job_id, reader))


def open_download(reader: User, job_id: int) -> services.Download:
    """The result of ``reader``'s done job (rights checked again, the download audited).

    :raises Conflict: not done yet, or failed (409).
    :raises Gone: expired, or its file lost (410).
    """
    _require_export(reader)
    services.purge()  # an expired file is never handed over, even before a purge ran
    try:
        return services.open_result(job_id, actor=reader)
    except services.ResultNotReady as exc:
        raise Conflict(exc.message) from None
    except services.ResultGone as exc:
        raise Gone(exc.message) from None
